//! Snapshots of what a user sees: the terminal tables (with the heatmap grid and the EKG
//! sparkline) and the JSON of the engagement reports, on one tiny workspace. The numbers
//! themselves are checked by hand in `engagement.rs`; these catch layout and field-name
//! changes. Review a changed snapshot with `cargo insta review`.

use std::path::Path;

use super::engagement::workspace;
use super::ok;

const CONFIG: &str =
    "[ideal_heatmap.marketing]\nvp = 100\ndirector = 50\n[ideal_heatmap.it]\nc_level = 30\n";

const ACCOUNTS: &str = "id,name,industry,tier,is_target\na1,Acme Robotics,Software,Tier 1,true\na2,Beta Foods,Food,,false\n";
const CONTACTS: &str = "id,account_id,email,first_name,last_name,title\n\
c1,a1,ann@acme.com,Ann,Lee,VP Marketing\n\
c2,a1,raj@acme.com,Raj,Rao,Director of Demand Generation\n\
c3,a1,li@acme.com,杰,郭,CTO\n\
c4,a2,bo@beta.io,Bo,Berg,Sales Manager\n";

fn activities() -> String {
    let mut s = String::from("id,timestamp,type,contact_id,account_id,duration_minutes\n");
    let mut n = 0;
    let mut add = |day: &str, ty: &str, contact: &str, account: &str, duration: &str| {
        n += 1;
        s.push_str(&format!(
            "e{n},{day}T10:00:00Z,{ty},{contact},{account},{duration}\n"
        ));
    };
    // Eight quiet weeks for a1 (one 10-minute download a week), then a surge.
    for day in [
        "2026-07-06",
        "2026-07-13",
        "2026-07-20",
        "2026-07-27",
        "2026-08-03",
        "2026-08-10",
        "2026-08-17",
        "2026-08-24",
    ] {
        add(day, "content_download", "c2", "", "");
    }
    add("2026-08-31", "webinar_attended", "c1", "", "90");
    add("2026-09-01", "meeting_held", "c3", "", "60");
    add("2026-09-02", "page_view", "", "a1", "4");
    // a2: last quarter only.
    add("2026-05-04", "demo_request", "c4", "", "");
    add("2026-09-03", "email_open", "c4", "", "");
    s
}

pub(super) fn setup(dir: &Path) -> std::path::PathBuf {
    workspace(
        dir,
        CONFIG,
        &[
            ("accounts.csv", ACCOUNTS),
            ("contacts.csv", CONTACTS),
            ("activities.csv", &activities()),
        ],
    )
}

#[test]
fn engagement_reports_as_the_terminal_and_json_show_them() {
    let dir = tempfile::tempdir().unwrap();
    let ws = setup(dir.path());
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--at", "2026-09-06"]);
        ok(&ws, &all)
    };
    insta::assert_snapshot!("engagement_table", run(&["engagement"]));
    insta::assert_snapshot!("engagement_json", run(&["engagement", "--format", "json"]));
    insta::assert_snapshot!(
        "engagement_by_department_csv",
        run(&[
            "engagement",
            "--by",
            "department,seniority",
            "--format",
            "csv"
        ])
    );
    insta::assert_snapshot!("heatmap_table", run(&["heatmap", "--account", "a1"]));
    insta::assert_snapshot!(
        "heatmap_json",
        run(&["heatmap", "--account", "a1", "--format", "json"])
    );
    insta::assert_snapshot!(
        "trend_table",
        run(&["trend", "--account", "a1", "--weeks", "6"])
    );
    insta::assert_snapshot!("mqa_json", run(&["mqa", "--format", "json"]));
    insta::assert_snapshot!("alerts_table", run(&["alerts", "--weeks", "2"]));
    insta::assert_snapshot!(
        "alerts_json",
        run(&["alerts", "--weeks", "2", "--format", "json"])
    );
    insta::assert_snapshot!(
        "timeline_table",
        run(&["timeline", "--account", "a1", "--from", "2026-08-31"])
    );
}
