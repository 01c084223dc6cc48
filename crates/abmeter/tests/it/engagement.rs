//! The engagement reports of SPEC §0, §4 and §11 end to end — `engagement`, `heatmap`,
//! `trend`, `mqa`, `alerts`, `timeline` — each on a tiny workspace whose every number was
//! worked out by hand from the SPEC (the arithmetic is in the comments), never copied from
//! the program's output.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{abmeter, ok, sql_json};

/// Writes `config` as the workspace's abmeter.toml (if not empty), the canonical CSVs into
/// a data folder, and imports them.
pub(super) fn workspace(dir: &Path, config: &str, files: &[(&str, &str)]) -> PathBuf {
    let ws = dir.join("ws");
    let data = dir.join("data");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    if !config.is_empty() {
        std::fs::write(ws.join("abmeter.toml"), config).unwrap();
    }
    for (name, text) in files {
        std::fs::write(data.join(name), text).unwrap();
    }
    ok(&ws, &["import", data.to_str().unwrap()]);
    ws
}

/// Runs a report with `--format json`.
pub(super) fn report(ws: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let text = ok(ws, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

pub(super) fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().expect("rows")
}

/// The one row whose `key` is `value`.
pub(super) fn row<'a>(v: &'a Value, key: &str, value: &str) -> &'a Value {
    let found: Vec<&Value> = rows(v).iter().filter(|r| r[key] == value).collect();
    assert_eq!(found.len(), 1, "one row with {key} = {value}: {v:#}");
    found[0]
}

/// The one row with these department and seniority.
fn cell<'a>(v: &'a Value, department: &str, seniority: &str) -> &'a Value {
    let found: Vec<&Value> = rows(v)
        .iter()
        .filter(|r| r["department"] == department && r["seniority"] == seniority)
        .collect();
    assert_eq!(found.len(), 1, "one cell {department}/{seniority}: {v:#}");
    found[0]
}

#[track_caller]
pub(super) fn approx(got: &Value, want: f64) {
    let g = got
        .as_f64()
        .unwrap_or_else(|| panic!("expected the number {want}, got {got}"));
    assert!((g - want).abs() < 1e-9, "expected {want}, got {g}");
}

/// Asserts an engagement row: minutes, weighted minutes, engaged contacts, activities,
/// meetings scheduled / held / canceled, previous weighted minutes and change_pct.
#[track_caller]
#[allow(clippy::too_many_arguments)]
fn engagement_row(
    r: &Value,
    minutes: f64,
    weighted: f64,
    engaged: u64,
    activities: u64,
    meetings: (u64, u64, u64),
    previous: f64,
    change_pct: Option<f64>,
) {
    approx(&r["minutes"], minutes);
    approx(&r["weighted_minutes"], weighted);
    assert_eq!(r["engaged_contacts"], engaged, "engaged_contacts in {r}");
    assert_eq!(r["activities"], activities, "activities in {r}");
    assert_eq!(
        (
            r["meetings_scheduled"].as_u64(),
            r["meetings_held"].as_u64(),
            r["meetings_canceled"].as_u64()
        ),
        (Some(meetings.0), Some(meetings.1), Some(meetings.2)),
        "meetings in {r}"
    );
    approx(&r["previous_weighted_minutes"], previous);
    match change_pct {
        Some(c) => approx(&r["change_pct"], c),
        None => assert!(r["change_pct"].is_null(), "change_pct must be null: {r}"),
    }
}

/// A failing command: non-zero exit, and stderr naming every `needles`.
#[track_caller]
pub(super) fn fails(ws: &Path, args: &[&str], needles: &[&str]) -> String {
    let out = abmeter(ws, args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "{args:?} should fail; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr should name {n:?}: {err}");
    }
    err
}

// ---------------------------------------------------------------------------------------
// 1. The SPEC's worked example: 4,289 this quarter against 1,932 last quarter is +122.0%.

const EXAMPLE_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Mia,Marsh,Marketing Manager,marketing,manager
";

// A manager weighs 1.0, so weighted minutes = minutes.
// Q2: 4 × event_attended 480 (the cap, 480) = 1920, + content_download 10 + email_click 2
//     = 1932.
// Q3: 8 × event_attended 480 = 3840, + meeting_held 240 + webinar_attended 180
//     + page_view 29 = 4289; meeting_scheduled is 0 minutes.
const EXAMPLE_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,duration_minutes
q2a,2026-04-07T10:00:00Z,event_attended,C1,480
q2b,2026-04-21T10:00:00Z,event_attended,C1,480
q2c,2026-05-12T10:00:00Z,event_attended,C1,480
q2d,2026-06-09T10:00:00Z,event_attended,C1,480
q2e,2026-06-15T10:00:00Z,content_download,C1,
q2f,2026-06-16T10:00:00Z,email_click,C1,
q3a,2026-07-07T10:00:00Z,event_attended,C1,480
q3b,2026-07-14T10:00:00Z,event_attended,C1,480
q3c,2026-07-21T10:00:00Z,event_attended,C1,480
q3d,2026-08-04T10:00:00Z,event_attended,C1,480
q3e,2026-08-11T10:00:00Z,event_attended,C1,480
q3f,2026-08-18T10:00:00Z,event_attended,C1,480
q3g,2026-09-08T10:00:00Z,event_attended,C1,480
q3h,2026-09-15T10:00:00Z,event_attended,C1,480
q3i,2026-09-01T10:00:00Z,meeting_scheduled,C1,
q3j,2026-09-02T10:00:00Z,meeting_held,C1,240
q3k,2026-09-10T10:00:00Z,webinar_attended,C1,180
q3l,2026-09-20T10:00:00Z,page_view,C1,29
";

#[test]
fn spec_worked_example_4289_against_1932_is_plus_122_pct() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\n"),
            ("contacts.csv", EXAMPLE_CONTACTS),
            ("activities.csv", EXAMPLE_ACTIVITIES),
        ],
    );
    // (4289 − 1932) / 1932 × 100 = 2357 / 1932 × 100 = 121.99792960…
    let change: f64 = (4289.0 - 1932.0) / 1932.0 * 100.0;
    assert!((change - 121.997_929_606_625_26).abs() < 1e-9);
    for args in [
        ["engagement", "--period", "quarter", "--at", "2026-09-30"],
        ["engagement", "--period", "2026-Q3", "--at", "2020-01-01"],
    ] {
        let v = report(&ws, &args);
        assert_eq!(v["report"], "engagement");
        assert_eq!(v["params"]["period"], "2026-Q3", "{args:?}");
        assert_eq!(v["params"]["start"], "2026-07-01");
        assert_eq!(v["params"]["end"], "2026-10-01");
        assert_eq!(v["params"]["previous_period"], "2026-Q2");
        assert_eq!(rows(&v).len(), 1, "{v:#}");
        let r = row(&v, "account_id", "A1");
        assert_eq!(r["account_name"], "Acme");
        // 12 activities in Q3, one meeting scheduled and one held; 1 engaged contact.
        engagement_row(r, 4289.0, 4289.0, 1, 12, (1, 1, 0), 1932.0, Some(change));
        // Displayed to one decimal: +122.0%.
        let shown = format!("{:.1}", r["change_pct"].as_f64().unwrap());
        assert_eq!(shown, "122.0");
    }
    // Q2 on its own: 6 activities; Q1 had nothing → change_pct null, not 0 or infinity.
    let v = report(&ws, &["engagement", "--period", "2026-Q2"]);
    let r = row(&v, "account_id", "A1");
    engagement_row(r, 1932.0, 1932.0, 1, 6, (0, 0, 0), 0.0, None);
}

// ---------------------------------------------------------------------------------------
// 2. Caps, seniority weights, title-derived seniority, anonymous visitors, tier weights.

const WEIGHTS_ACCOUNTS: &str = "\
id,name,tier
A1,Acme,Tier 1
A2,Globex,
";

// C1 "VP of Sales" → vp 1.5; C2 "Chief Marketing Officer" → c_level 2.0 (chief);
// C3 "Analyst" → individual 0.8 (only an email_send: not engaged);
// C4 "Director of IT" → director 1.25.
const WEIGHTS_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Vera,Pike,VP of Sales,,
C2,A1,Carla,Moss,Chief Marketing Officer,,
C3,A1,Ian,Dale,Analyst,,
C4,A2,Dora,Lind,Director of IT,,
";

const WEIGHTS_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,anonymous_id,account_id,duration_minutes
e1,2026-09-01T10:00:00Z,page_view,C1,,,45
e2,2026-09-02T10:00:00Z,webinar_attended,C2,,,200
e3,2026-09-03T10:00:00Z,video_view,C1,,,
e4,2026-09-04T10:00:00Z,page_view,,anon-1,A1,4
e5,2026-09-05T10:00:00Z,email_send,C3,,,
e6,2026-09-06T10:00:00Z,meeting_scheduled,C1,,,
e7,2026-09-07T10:00:00Z,meeting_held,C1,,,60
e8,2026-09-08T10:00:00Z,meeting_canceled,C2,,,
e9,2026-09-09T10:00:00Z,content_download,C4,,,
e10,2026-09-10T10:00:00Z,video_view,C4,,,75
";

const TIER_CONFIG: &str = "[tier_weights]\n\"Tier 1\" = 2.0\n";

fn weights_workspace(dir: &Path) -> PathBuf {
    workspace(
        dir,
        TIER_CONFIG,
        &[
            ("accounts.csv", WEIGHTS_ACCOUNTS),
            ("contacts.csv", WEIGHTS_CONTACTS),
            ("activities.csv", WEIGHTS_ACTIVITIES),
        ],
    )
}

#[test]
fn caps_seniority_and_tier_weights() {
    let dir = tempfile::tempdir().unwrap();
    let ws = weights_workspace(dir.path());
    let v = report(&ws, &["engagement", "--period", "2026-Q3"]);
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    // A1 (Tier 1 → ×2):
    //   e1 page_view 45 → cap 30, vp:       30 × 1.5 × 2 =  90
    //   e2 webinar 200 → cap 180, c_level: 180 × 2.0 × 2 = 720
    //   e3 video_view, no duration → 3:     3 × 1.5 × 2 =   9
    //   e4 anonymous page_view 4, unknown:  4 × 0.5 × 2 =   4
    //   e5 email_send 0, e6 meeting_scheduled 0, e8 meeting_canceled 0
    //   e7 meeting_held 60, vp:            60 × 1.5 × 2 = 180
    //   minutes 30 + 180 + 3 + 4 + 60 = 277; weighted 90 + 720 + 9 + 4 + 180 = 1003
    //   engaged: C1, C2 (C3 had only 0 minutes, anon-1 is no contact) = 2; 8 activities.
    let a1 = row(&v, "account_id", "A1");
    assert_eq!(a1["account_name"], "Acme");
    engagement_row(a1, 277.0, 1003.0, 2, 8, (1, 1, 1), 0.0, None);
    // A2 (no tier → ×1), director 1.25: content_download 10 + video_view 75 → cap 60
    //   = 70 minutes, 70 × 1.25 = 87.5 weighted.
    let a2 = row(&v, "account_id", "A2");
    engagement_row(a2, 70.0, 87.5, 1, 2, (0, 0, 0), 0.0, None);
    // Ranked by weighted minutes.
    assert_eq!(rows(&v)[0]["account_id"], "A1");

    // A1 by seniority (tier weight still ×2):
    //   c_level: 180 min (+ the 0-minute cancel), 720 weighted, 2 activities
    //   vp: 30 + 3 + 60 (+ 0 scheduled) = 93 min, 93 × 1.5 × 2 = 279, 4 activities
    //   unknown: 4 min, 4 weighted, no contact; individual: 0 min, not engaged, 1 activity.
    let v = report(
        &ws,
        &[
            "engagement",
            "--period",
            "2026-Q3",
            "--account",
            "A1",
            "--by",
            "seniority",
        ],
    );
    assert_eq!(rows(&v).len(), 4, "{v:#}");
    let s = |name: &str| row(&v, "seniority", name).clone();
    engagement_row(&s("c_level"), 180.0, 720.0, 1, 2, (0, 0, 1), 0.0, None);
    engagement_row(&s("vp"), 93.0, 279.0, 1, 4, (1, 1, 0), 0.0, None);
    engagement_row(&s("unknown"), 4.0, 4.0, 0, 1, (0, 0, 0), 0.0, None);
    engagement_row(&s("individual"), 0.0, 0.0, 0, 1, (0, 0, 0), 0.0, None);
    let order: Vec<&str> = rows(&v)
        .iter()
        .map(|r| r["seniority"].as_str().unwrap())
        .collect();
    assert_eq!(&order[..3], ["c_level", "vp", "unknown"]);
}

#[test]
fn the_cube_agrees_with_the_raw_events() {
    let dir = tempfile::tempdir().unwrap();
    let ws = weights_workspace(dir.path());
    // A report brings the stored cube up to date first.
    report(&ws, &["engagement", "--period", "2026-Q3"]);
    let cube = sql_json(
        &ws,
        "SELECT sum(weighted_minutes) AS w, sum(minutes) AS m, sum(activities) AS n \
         FROM engagement_cube",
    );
    let raw = sql_json(
        &ws,
        "SELECT sum(weighted_minutes) AS w, sum(minutes) AS m, count(*) AS n \
         FROM resolved_activities WHERE resolved_account_id IS NOT NULL",
    );
    let (c, r) = (&cube["rows"][0], &raw["rows"][0]);
    // 1003 + 87.5 weighted, 277 + 70 minutes, 8 + 2 activities (all resolved).
    approx(&c["w"], 1090.5);
    approx(&r["w"], 1090.5);
    approx(&c["m"], 347.0);
    approx(&r["m"], 347.0);
    assert_eq!(c["n"].as_u64(), Some(10), "{c}");
    assert_eq!(r["n"].as_u64(), Some(10), "{r}");
}

// ---------------------------------------------------------------------------------------
// 3. Period boundaries: quarters, fiscal quarters and years, ISO week 53.

const PERIOD_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Ann,Ames,,marketing,manager
C2,A2,Ben,Bell,,marketing,manager
C3,A3,Cal,Cole,,marketing,manager
";

// Managers: weighted = minutes. o1 carries an offset: 2026-07-01T01:30:00+02:00 is
// 2026-06-30T23:30:00Z, so it belongs to Q2.
const PERIOD_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,duration_minutes
b1,2026-03-31T23:59:59Z,email_open,C1,
b2,2026-04-01T00:00:00Z,email_click,C1,
b3,2026-06-30T23:59:59Z,content_download,C1,
b4,2026-07-01T00:00:00Z,form_submit,C1,
b5,2026-05-15T12:00:00Z,content_download,C2,
w1,2026-12-27T12:00:00Z,content_download,C1,
w2,2026-12-28T00:00:00Z,page_view,C1,
w3,2027-01-03T23:59:59Z,email_open,C1,
w4,2027-01-04T00:00:00Z,form_submit,C1,
o1,2026-07-01T01:30:00+02:00,email_click,C3,
";

#[test]
fn period_boundaries_fiscal_quarters_and_iso_week_53() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\nA2,Globex\nA3,Initech\n"),
            ("contacts.csv", PERIOD_CONTACTS),
            ("activities.csv", PERIOD_ACTIVITIES),
        ],
    );
    // Q3 = [07-01, 10-01): A1 has b4 (07-01T00:00:00, form_submit 5) only;
    // Q2: b2 2 + b3 10 (06-30T23:59:59 is still Q2) = 12 → (5 − 12) / 12 × 100 = −58.33…
    // A2 was active only in Q2 (10): it shows with 0 and −100%; so does A3 (o1, 2).
    let v = report(
        &ws,
        &["engagement", "--period", "quarter", "--at", "2026-07-01"],
    );
    assert_eq!(v["params"]["period"], "2026-Q3");
    assert_eq!(rows(&v).len(), 3, "{v:#}");
    engagement_row(
        row(&v, "account_id", "A3"),
        0.0,
        0.0,
        0,
        0,
        (0, 0, 0),
        2.0,
        Some(-100.0),
    );
    engagement_row(
        row(&v, "account_id", "A1"),
        5.0,
        5.0,
        1,
        1,
        (0, 0, 0),
        12.0,
        Some((5.0 - 12.0) / 12.0 * 100.0),
    );
    engagement_row(
        row(&v, "account_id", "A2"),
        0.0,
        0.0,
        0,
        0,
        (0, 0, 0),
        10.0,
        Some(-100.0),
    );
    assert_eq!(rows(&v)[0]["account_id"], "A1");

    // Q2 (--at its last day): A1 12 against Q1's 1 (b1 at 03-31T23:59:59) → +1100%;
    // A2 10 against nothing → null; A3 2 (o1, 06-30T23:30Z once converted) → null.
    let v = report(
        &ws,
        &["engagement", "--period", "quarter", "--at", "2026-06-30"],
    );
    assert_eq!(v["params"]["period"], "2026-Q2");
    assert_eq!(v["params"]["start"], "2026-04-01");
    assert_eq!(v["params"]["end"], "2026-07-01");
    assert_eq!(rows(&v).len(), 3, "{v:#}");
    engagement_row(
        row(&v, "account_id", "A3"),
        2.0,
        2.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        row(&v, "account_id", "A1"),
        12.0,
        12.0,
        1,
        2,
        (0, 0, 0),
        1.0,
        Some(1100.0),
    );
    engagement_row(
        row(&v, "account_id", "A2"),
        10.0,
        10.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );

    // Days: 2026-07-01 holds b4 (5) for A1, against 06-30's b3 (10) → −50%; A3's o1 fell on
    // 06-30 in UTC → 0 against 2 → −100%.
    let v = report(&ws, &["engagement", "--period", "2026-07-01"]);
    assert_eq!(v["params"]["period"], "2026-07-01");
    assert_eq!(v["params"]["previous_period"], "2026-06-30");
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    engagement_row(
        row(&v, "account_id", "A1"),
        5.0,
        5.0,
        1,
        1,
        (0, 0, 0),
        10.0,
        Some(-50.0),
    );
    engagement_row(
        row(&v, "account_id", "A3"),
        0.0,
        0.0,
        0,
        0,
        (0, 0, 0),
        2.0,
        Some(-100.0),
    );

    // ISO weeks: 2027-01-02 (a Saturday) is in 2026-W53 = [Mon 2026-12-28, 2027-01-04):
    // w2 page_view 1 + w3 email_open 1 = 2; W52 had w1 content_download 10 (Sunday 12-27);
    // w4 (2027-01-04T00:00:00) is 2027-W01. (2 − 10) / 10 × 100 = −80.
    for period in ["week", "2026-W53"] {
        let v = report(
            &ws,
            &["engagement", "--period", period, "--at", "2027-01-02"],
        );
        assert_eq!(v["params"]["period"], "2026-W53", "{period}");
        assert_eq!(v["params"]["start"], "2026-12-28");
        assert_eq!(v["params"]["end"], "2027-01-04");
        assert_eq!(v["params"]["previous_period"], "2026-W52");
        assert_eq!(rows(&v).len(), 1, "{v:#}");
        engagement_row(
            row(&v, "account_id", "A1"),
            2.0,
            2.0,
            1,
            2,
            (0, 0, 0),
            10.0,
            Some(-80.0),
        );
    }
    // 2027-W01: w4 5 against W53's 2 → +150%.
    let v = report(&ws, &["engagement", "--period", "2027-W01"]);
    assert_eq!(v["params"]["start"], "2027-01-04");
    engagement_row(
        row(&v, "account_id", "A1"),
        5.0,
        5.0,
        1,
        1,
        (0, 0, 0),
        2.0,
        Some(150.0),
    );

    // Fiscal year starting in April: 2026-05-10 is in fiscal 2026-Q1 = April–June 2026;
    // the previous quarter is January–March 2026 = fiscal 2025-Q4.
    std::fs::write(ws.join("abmeter.toml"), "fiscal_year_start_month = 4\n").unwrap();
    for args in [
        ["engagement", "--period", "quarter", "--at", "2026-05-10"],
        ["engagement", "--period", "2026-Q1", "--at", "2026-05-10"],
    ] {
        let v = report(&ws, &args);
        assert_eq!(v["params"]["period"], "2026-Q1", "{args:?}");
        assert_eq!(v["params"]["start"], "2026-04-01");
        assert_eq!(v["params"]["end"], "2026-07-01");
        assert_eq!(v["params"]["previous_period"], "2025-Q4");
        // Same sums as calendar Q2 against calendar Q1 (A1, A2, A3).
        assert_eq!(rows(&v).len(), 3, "{v:#}");
        engagement_row(
            row(&v, "account_id", "A1"),
            12.0,
            12.0,
            1,
            2,
            (0, 0, 0),
            1.0,
            Some(1100.0),
        );
        engagement_row(
            row(&v, "account_id", "A2"),
            10.0,
            10.0,
            1,
            1,
            (0, 0, 0),
            0.0,
            None,
        );
    }
    // 2026-03-31 is in fiscal 2025-Q4 = [2026-01-01, 2026-04-01): b1 = 1, before it nothing.
    let v = report(
        &ws,
        &["engagement", "--period", "quarter", "--at", "2026-03-31"],
    );
    assert_eq!(v["params"]["period"], "2025-Q4");
    assert_eq!(v["params"]["start"], "2026-01-01");
    assert_eq!(v["params"]["end"], "2026-04-01");
    assert_eq!(rows(&v).len(), 1, "{v:#}");
    engagement_row(
        row(&v, "account_id", "A1"),
        1.0,
        1.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    // Fiscal 2026-Q4 = January–March 2027: w3 1 + w4 5 = 6, against fiscal 2026-Q3 =
    // October–December 2026: w1 10 + w2 1 = 11 → (6 − 11) / 11 × 100 = −45.45…
    let v = report(&ws, &["engagement", "--period", "2026-Q4"]);
    assert_eq!(v["params"]["start"], "2027-01-01");
    assert_eq!(v["params"]["end"], "2027-04-01");
    assert_eq!(v["params"]["previous_period"], "2026-Q3");
    assert_eq!(rows(&v).len(), 1, "{v:#}");
    engagement_row(
        row(&v, "account_id", "A1"),
        6.0,
        6.0,
        1,
        2,
        (0, 0, 0),
        11.0,
        Some((6.0 - 11.0) / 11.0 * 100.0),
    );
    // The year follows the fiscal start too (§11): fiscal 2026 = [2026-04-01, 2027-04-01):
    // A1 b2 2 + b3 10 + b4 5 + w1 10 + w2 1 + w3 1 + w4 5 = 34, against fiscal 2025's b1 = 1
    // → (34 − 1) / 1 × 100 = 3300%.
    let v = report(
        &ws,
        &["engagement", "--period", "year", "--at", "2026-05-10"],
    );
    assert_eq!(v["params"]["period"], "2026");
    assert_eq!(v["params"]["start"], "2026-04-01");
    assert_eq!(v["params"]["end"], "2027-04-01");
    // A2 (10) and A3 (2) are in fiscal 2026 too.
    assert_eq!(rows(&v).len(), 3, "{v:#}");
    engagement_row(
        row(&v, "account_id", "A1"),
        34.0,
        34.0,
        1,
        7,
        (0, 0, 0),
        1.0,
        Some(3300.0),
    );
}

// ---------------------------------------------------------------------------------------
// 4. Drill-down: --by department,seniority, --by industry, --segment industry=Software.

const DRILL_ACCOUNTS: &str = "\
id,name,industry
A1,Acme,Software
A2,Globex,Manufacturing
A3,Initech,Software
";

const DRILL_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Ada,One,,marketing,vp
C2,A1,Bo,Two,,marketing,manager
C3,A2,Cy,Three,,marketing,vp
C4,A2,Di,Four,,it,director
C5,A3,Ed,Five,,it,director
";

// d1 C1 content_download 10 × 1.5 = 15     (A1, marketing/vp)
// d2 C2 form_submit 5 × 1.0 = 5            (A1, marketing/manager)
// d3 C3 content_download 10 × 1.5 = 15     (A2, marketing/vp)
// d4 C4 webinar_attended 30 × 1.25 = 37.5  (A2, it/director)
// d5 C5 call 20 × 1.25 = 25                (A3, it/director)
// d6 anonymous page_view 2 × 0.5 = 1       (A1, unknown/unknown)
const DRILL_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,anonymous_id,account_id,channel,duration_minutes
d1,2026-08-03T10:00:00Z,content_download,C1,,,email,
d2,2026-08-04T10:00:00Z,form_submit,C2,,,web,
d3,2026-08-05T10:00:00Z,content_download,C3,,,email,
d4,2026-08-06T10:00:00Z,webinar_attended,C4,,,webinar,
d5,2026-08-07T10:00:00Z,call,C5,,,,20
d6,2026-08-08T10:00:00Z,page_view,,anon-9,A1,web,2
";

#[test]
fn drill_down_by_dimensions_and_segments() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", DRILL_ACCOUNTS),
            ("contacts.csv", DRILL_CONTACTS),
            ("activities.csv", DRILL_ACTIVITIES),
        ],
    );
    let q3 = ["engagement", "--period", "2026-Q3"];
    let with = |extra: &[&str]| {
        let mut a = q3.to_vec();
        a.extend_from_slice(extra);
        report(&ws, &a)
    };

    // All accounts by department × seniority:
    //   it/director: d4 30 + d5 20 = 50 min, 37.5 + 25 = 62.5, 2 contacts
    //   marketing/vp: d1 10 + d3 10 = 20 min, 15 + 15 = 30, 2 contacts
    //   marketing/manager: 5, 5, 1;  unknown/unknown: 2, 1, no contact
    let v = with(&["--by", "department,seniority"]);
    assert_eq!(rows(&v).len(), 4, "{v:#}");
    for r in rows(&v) {
        assert!(r.get("account_id").is_none(), "no account column: {r}");
    }
    engagement_row(
        cell(&v, "it", "director"),
        50.0,
        62.5,
        2,
        2,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        cell(&v, "marketing", "vp"),
        20.0,
        30.0,
        2,
        2,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        cell(&v, "marketing", "manager"),
        5.0,
        5.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        cell(&v, "unknown", "unknown"),
        2.0,
        1.0,
        0,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    let order: Vec<(&str, &str)> = rows(&v)
        .iter()
        .map(|r| {
            (
                r["department"].as_str().unwrap(),
                r["seniority"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("it", "director"),
            ("marketing", "vp"),
            ("marketing", "manager"),
            ("unknown", "unknown")
        ]
    );

    // By industry: Software = A1 (10 + 5 + 2 = 17 min; 15 + 5 + 1 = 21) + A3 (20; 25)
    //   = 37 min, 46 weighted, 3 contacts, 4 activities;
    //   Manufacturing = A2: 10 + 30 = 40 min, 15 + 37.5 = 52.5, 2 contacts.
    let v = with(&["--by", "industry"]);
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    engagement_row(
        row(&v, "industry", "Software"),
        37.0,
        46.0,
        3,
        4,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        row(&v, "industry", "Manufacturing"),
        40.0,
        52.5,
        2,
        2,
        (0, 0, 0),
        0.0,
        None,
    );

    // --segment industry=Software: A3 (25) before A1 (21); A2 is left out.
    let v = with(&["--segment", "industry=Software"]);
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    assert_eq!(rows(&v)[0]["account_id"], "A3");
    engagement_row(
        row(&v, "account_id", "A1"),
        17.0,
        21.0,
        2,
        3,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        row(&v, "account_id", "A3"),
        20.0,
        25.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    // Segment and grouping together: marketing/vp is only d1 now (10; 15).
    let v = with(&[
        "--segment",
        "industry=Software",
        "--by",
        "department,seniority",
    ]);
    assert_eq!(rows(&v).len(), 4, "{v:#}");
    engagement_row(
        cell(&v, "marketing", "vp"),
        10.0,
        15.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        cell(&v, "it", "director"),
        20.0,
        25.0,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );

    // An activity dimension (read from the raw events): by channel,
    //   email: d1 10 + d3 10 = 20 min, 15 + 15 = 30, 2 contacts
    //   web: d2 5 + d6 2 = 7 min, 5 + 1 = 6, 1 contact (d6 is anonymous)
    //   webinar: d4 30, 37.5; d5 has no channel.
    let v = with(&["--by", "channel"]);
    engagement_row(
        row(&v, "channel", "email"),
        20.0,
        30.0,
        2,
        2,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        row(&v, "channel", "web"),
        7.0,
        6.0,
        1,
        2,
        (0, 0, 0),
        0.0,
        None,
    );
    engagement_row(
        row(&v, "channel", "webinar"),
        30.0,
        37.5,
        1,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
    // --segment channel=email --by industry: Software d1 (10; 15), Manufacturing d3 (10; 15).
    let v = with(&["--segment", "channel=email", "--by", "industry"]);
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    for industry in ["Software", "Manufacturing"] {
        engagement_row(
            row(&v, "industry", industry),
            10.0,
            15.0,
            1,
            1,
            (0, 0, 0),
            0.0,
            None,
        );
    }

    // Unknown dimensions are refused, naming the dimension.
    fails(
        &ws,
        &["engagement", "--period", "2026-Q3", "--by", "colour"],
        &["--by", "colour"],
    );
    fails(
        &ws,
        &[
            "engagement",
            "--period",
            "2026-Q3",
            "--by",
            "department,flavour",
        ],
        &["flavour"],
    );
    fails(
        &ws,
        &[
            "engagement",
            "--period",
            "2026-Q3",
            "--segment",
            "colour=red",
        ],
        &["colour"],
    );
}

// ---------------------------------------------------------------------------------------
// 5. Heatmap against an ideal heatmap.

const HEAT_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Va,Pe,,marketing,vp
C2,A1,Ma,Na,,marketing,manager
C3,A1,Di,Rek,,it,director
C4,A1,Sam,Dev,Software Engineer,,
C5,A1,Dot,Ree,,marketing,director
C6,A2,Ot,Her,,marketing,vp
";

// The default window is the 90 days ending 2026-09-30: [2026-07-03, 2026-10-01)
// (day 273 − 89 = day 184 = July 3).
//   marketing/vp:       h3 10 + h4 25 = 35   (ideal 30 → met)
//   marketing/manager:  h5 20                (ideal 20 → met: not below it)
//   it/director:        h2 10                (ideal 60 → blind spot); h1 is a second early
//   engineering/individual: h6 12 (C4's title → engineering, individual; no ideal)
//   marketing/director: h7 email_send, 0 minutes, no ideal → no row
//   h8 is another account; h9 is after the window.
const HEAT_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,duration_minutes
h1,2026-07-02T23:59:59Z,webinar_attended,C3,100
h2,2026-07-03T00:00:00Z,content_download,C3,
h3,2026-08-10T10:00:00Z,content_download,C1,
h4,2026-08-11T10:00:00Z,webinar_attended,C1,25
h5,2026-08-12T10:00:00Z,webinar_attended,C2,20
h6,2026-08-13T10:00:00Z,page_view,C4,12
h7,2026-08-14T10:00:00Z,email_send,C5,
h8,2026-08-15T10:00:00Z,content_download,C6,
h9,2026-10-01T00:00:00Z,content_download,C2,
";

const IDEAL: &str = "\
[ideal_heatmap.marketing]
vp = 30.0
manager = 20.0

[ideal_heatmap.it]
director = 60.0
";

#[track_caller]
fn heat_cell(
    v: &Value,
    department: &str,
    seniority: &str,
    minutes: f64,
    engaged: u64,
    ideal: Option<f64>,
    blind: bool,
) {
    let c = cell(v, department, seniority);
    approx(&c["minutes"], minutes);
    assert_eq!(c["engaged_contacts"], engaged, "{c}");
    match ideal {
        Some(i) => approx(&c["ideal_minutes"], i),
        None => assert!(c["ideal_minutes"].is_null(), "{c}"),
    }
    assert_eq!(c["blind_spot"], blind, "{c}");
}

#[test]
fn heatmap_cells_blind_spots_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        IDEAL,
        &[
            (
                "accounts.csv",
                "id,name,industry\nA1,Acme,Software\nA2,Globex,Retail\n",
            ),
            ("contacts.csv", HEAT_CONTACTS),
            ("activities.csv", HEAT_ACTIVITIES),
        ],
    );
    for scope in [["--account", "A1"], ["--segment", "industry=Software"]] {
        let mut args = vec!["heatmap", "--at", "2026-09-30"];
        args.extend(scope);
        let v = report(&ws, &args);
        assert_eq!(v["report"], "heatmap");
        assert_eq!(v["params"]["start"], "2026-07-03", "{scope:?}");
        assert_eq!(v["params"]["end"], "2026-10-01");
        assert_eq!(rows(&v).len(), 4, "{v:#}");
        heat_cell(&v, "marketing", "vp", 35.0, 1, Some(30.0), false);
        heat_cell(&v, "marketing", "manager", 20.0, 1, Some(20.0), false);
        heat_cell(&v, "it", "director", 10.0, 1, Some(60.0), true);
        heat_cell(&v, "engineering", "individual", 12.0, 1, None, false);
        // 2 of the 3 cells with an ideal meet it.
        approx(&v["coverage"], 2.0 / 3.0);
        let blind = v["blind_spots"].as_array().unwrap();
        assert_eq!(blind.len(), 1, "{v:#}");
        assert_eq!(blind[0]["department"], "it");
        assert_eq!(blind[0]["seniority"], "director");
    }

    // The terminal grid: departments down, seniority levels across.
    let table = ok(&ws, &["heatmap", "--account", "A1", "--at", "2026-09-30"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines.iter().any(|l| {
            [
                "c_level",
                "vp",
                "director",
                "manager",
                "individual",
                "unknown",
            ]
            .iter()
            .all(|s| l.contains(s))
        }),
        "a header line with the seniority levels: {table}"
    );
    for (dep, minutes) in [("marketing", "35"), ("it", "10"), ("engineering", "12")] {
        assert!(
            lines.iter().any(|l| {
                l.trim_start_matches(['│', '|', ' ']).starts_with(dep) && l.contains(minutes)
            }),
            "a grid line for {dep} with {minutes}: {table}"
        );
    }

    // The whole of Q3 also holds h1: it/director 100 + 10 = 110 ≥ 60 → coverage 3/3.
    let v = report(&ws, &["heatmap", "--account", "A1", "--period", "2026-Q3"]);
    assert_eq!(v["params"]["start"], "2026-07-01");
    heat_cell(&v, "it", "director", 110.0, 1, Some(60.0), false);
    approx(&v["coverage"], 1.0);
    assert_eq!(v["blind_spots"], serde_json::json!([]));

    // An ideal cell nobody touched is a row with 0 minutes and a blind spot: 2 of 4 met.
    std::fs::write(
        ws.join("abmeter.toml"),
        format!("{IDEAL}\n[ideal_heatmap.finance]\nc_level = 15.0\n"),
    )
    .unwrap();
    let v = report(&ws, &["heatmap", "--account", "A1", "--at", "2026-09-30"]);
    assert_eq!(rows(&v).len(), 5, "{v:#}");
    heat_cell(&v, "finance", "c_level", 0.0, 0, Some(15.0), true);
    approx(&v["coverage"], 0.5);
    assert_eq!(v["blind_spots"].as_array().unwrap().len(), 2, "{v:#}");
}

// ---------------------------------------------------------------------------------------
// 6. Trend (EKG).

// ISO weeks of 2026 (W01 starts Mon 2025-12-29): W29 07-13, W30 07-20, W31 07-27,
// W32 08-03, W33 08-10, W34 08-17, W35 08-24, W36 08-31, W37 09-07, W38 09-14, W39 09-21,
// W40 09-28. C1 is a manager (×1), the anonymous visit weighs 0.5.
//   W29  5 (not in any baseline shown)
//   W30 10, W31 1, W32 5 (Sunday 23:59:59), W33 30 (Monday 00:00:00), W34 0, W35 10 + 1 = 11,
//   W36 0, W37 2, W38 10 + 8 × 0.5 = 14 (18 minutes), W39 0, W40 45 (+ a 0-minute send)
const TREND_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,anonymous_id,account_id,duration_minutes
t29,2026-07-13T10:00:00Z,form_submit,C1,,,
t30,2026-07-20T10:00:00Z,content_download,C1,,,
t31,2026-07-29T10:00:00Z,email_open,C1,,,
t32,2026-08-09T23:59:59Z,form_submit,C1,,,
t33,2026-08-10T00:00:00Z,webinar_attended,C1,,,
t35a,2026-08-26T10:00:00Z,content_download,C1,,,
t35b,2026-08-27T10:00:00Z,email_open,C1,,,
t37,2026-09-09T10:00:00Z,email_click,C1,,,
t38a,2026-09-15T10:00:00Z,content_download,C1,,,
t38b,2026-09-16T10:00:00Z,page_view,,anon-1,A1,8
t40a,2026-09-29T10:00:00Z,meeting_held,C1,,,45
t40b,2026-09-30T10:00:00Z,email_send,C1,,,
x40,2026-09-29T10:00:00Z,content_download,C2,,,
";

#[test]
fn trend_weekly_series_and_trailing_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\nA2,Globex\n"),
            (
                "contacts.csv",
                "id,account_id,department,seniority\nC1,A1,marketing,manager\nC2,A2,it,manager\n",
            ),
            ("activities.csv", TREND_ACTIVITIES),
        ],
    );
    let v = report(
        &ws,
        &[
            "trend",
            "--account",
            "A1",
            "--at",
            "2026-09-30",
            "--weeks",
            "3",
        ],
    );
    assert_eq!(v["report"], "trend");
    // week, week_start, weighted, minutes, activities, baseline:
    //   W38 baseline = mean(W30..W37) = (10 + 1 + 5 + 30 + 0 + 11 + 0 + 2) / 8 = 59 / 8
    //   W39 baseline = mean(W31..W38) = (1 + 5 + 30 + 0 + 11 + 0 + 2 + 14) / 8 = 63 / 8
    //   W40 baseline = mean(W32..W39) = (5 + 30 + 0 + 11 + 0 + 2 + 14 + 0) / 8 = 62 / 8
    let want = [
        ("2026-W38", "2026-09-14", 14.0, 18.0, 2, 59.0 / 8.0),
        ("2026-W39", "2026-09-21", 0.0, 0.0, 0, 63.0 / 8.0),
        ("2026-W40", "2026-09-28", 45.0, 45.0, 2, 62.0 / 8.0),
    ];
    assert_eq!(rows(&v).len(), want.len(), "{v:#}");
    for (r, (week, start, wm, m, n, base)) in rows(&v).iter().zip(want) {
        assert_eq!(r["week"], week, "{r}");
        assert_eq!(r["week_start"], start, "{r}");
        approx(&r["weighted_minutes"], wm);
        approx(&r["minutes"], m);
        assert_eq!(r["activities"], n, "{r}");
        approx(&r["baseline"], base);
    }
}

// ---------------------------------------------------------------------------------------
// 7. Marketing-qualified accounts.

const MQA_ACCOUNTS: &str = "\
id,name,is_target
A1,Above,true
A2,Below,true
A3,Solo,true
A4,Newcomer,true
A5,Lapsed,true
A6,Outsider,false
";

const MQA_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,,,,marketing,manager
C2,A1,,,,it,manager
C3,A2,,,,marketing,manager
C4,A2,,,,it,manager
C5,A3,,,,executive,c_level
C6,A4,,,,marketing,manager
C7,A4,,,,marketing,manager
C8,A5,,,,marketing,manager
C9,A5,,,,marketing,manager
C10,A6,,,,sales,manager
C11,A6,,,,sales,manager
";

// At D = 2026-09-30 the window is [2026-07-03, 2026-10-01); at D − 7 = 2026-09-23 it is
// [2026-06-26, 2026-09-24). Managers weigh 1.0. Defaults: ≥ 120 weighted, ≥ 2 contacts.
//   A1 Above:    C1 100 + C2 21 (at the window's first instant) = 121, 2 contacts → MQA
//   A2 Below:    C3 100 + C4 19.5 = 119.5 → not
//   A3 Solo:     C5 c_level 300 × 2 = 600 + anonymous 5 × 0.5 = 602.5, but 1 contact → not
//   A4 Newcomer: C6 100 (08-01) + C7 50 (09-28) = 150, 2 contacts → MQA; at D − 7 only
//                100 and 1 contact → newly qualified
//   A5 Lapsed:   C8 100 + C9 100 on 07-02T23:59:59 → qualified at D − 7, out of the window
//                at D
//   A6 Outsider: C10 100 + C11 100 = 200 → MQA (not a target account)
const MQA_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,anonymous_id,account_id,duration_minutes
m1,2026-08-10T10:00:00Z,webinar_attended,C1,,,100
m2,2026-07-03T00:00:00Z,webinar_attended,C2,,,21
m3,2026-08-10T10:00:00Z,webinar_attended,C3,,,100
m4,2026-08-11T10:00:00Z,webinar_attended,C4,,,19.5
m5,2026-08-12T10:00:00Z,event_attended,C5,,,300
m6,2026-08-12T10:00:00Z,page_view,,anon-3,A3,5
m7,2026-08-01T10:00:00Z,webinar_attended,C6,,,100
m8,2026-09-28T10:00:00Z,webinar_attended,C7,,,50
m9,2026-07-02T23:59:59Z,webinar_attended,C8,,,100
m10,2026-07-02T23:59:59Z,webinar_attended,C9,,,100
m11,2026-09-01T10:00:00Z,webinar_attended,C10,,,100
m12,2026-09-01T10:00:00Z,webinar_attended,C11,,,100
";

/// (rank, account, weighted = minutes, contacts, newly_qualified) of each MQA row, in order.
#[track_caller]
fn mqa_rows(v: &Value, want: &[(u64, &str, f64, u64, bool)]) {
    let got = rows(v);
    assert_eq!(got.len(), want.len(), "{v:#}");
    for (r, &(rank, account, wm, contacts, newly)) in got.iter().zip(want) {
        assert_eq!(r["rank"], rank, "{r}");
        assert_eq!(r["account_id"], account, "{r}");
        approx(&r["weighted_minutes"], wm);
        approx(&r["minutes"], wm);
        assert_eq!(r["engaged_contacts"], contacts, "{r}");
        assert_eq!(r["newly_qualified"], newly, "{r}");
    }
}

#[test]
fn mqa_thresholds_newly_qualified_target_only_and_buying_centers() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", MQA_ACCOUNTS),
            ("contacts.csv", MQA_CONTACTS),
            ("activities.csv", MQA_ACTIVITIES),
        ],
    );
    let v = report(&ws, &["mqa", "--at", "2026-09-30"]);
    assert_eq!(v["report"], "mqa");
    mqa_rows(
        &v,
        &[
            (1, "A6", 200.0, 2, false),
            (2, "A4", 150.0, 2, true),
            (3, "A1", 121.0, 2, false),
        ],
    );
    assert_eq!(rows(&v)[2]["account_name"], "Above");

    // target_only: A6 is not a target account.
    std::fs::write(ws.join("abmeter.toml"), "[mqa]\ntarget_only = true\n").unwrap();
    let v = report(&ws, &["mqa", "--at", "2026-09-30"]);
    mqa_rows(&v, &[(1, "A4", 150.0, 2, true), (2, "A1", 121.0, 2, false)]);

    // Per department: A1 splits into marketing 100 (1 contact) and it 21 → neither;
    // A4 marketing 150 (2 contacts, newly) and A6 sales 200 qualify.
    std::fs::write(
        ws.join("abmeter.toml"),
        "[mqa]\nbuying_center = \"department\"\n",
    )
    .unwrap();
    let v = report(&ws, &["mqa", "--at", "2026-09-30"]);
    mqa_rows(&v, &[(1, "A6", 200.0, 2, false), (2, "A4", 150.0, 2, true)]);
    assert_eq!(rows(&v)[0]["department"], "sales");
    assert_eq!(rows(&v)[1]["department"], "marketing");
}

// ---------------------------------------------------------------------------------------
// 8. Surge and decline alerts.

const ALERT_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Sam,Steady,,marketing,manager
C2,A1,Wendy,Webinar,,marketing,manager
C3,A2,Pat,Former,,it,manager
C4,A2,Quinn,Light,,it,manager
C5,A3,Rae,Even,,sales,manager
";

// The week of 2026-09-30 is 2026-W40 (Mon 09-28); its baseline weeks are W32..W39, whose
// Tuesdays are listed below. Everyone is a manager (×1).
const BASELINE_TUESDAYS: [&str; 8] = [
    "2026-08-04",
    "2026-08-11",
    "2026-08-18",
    "2026-08-25",
    "2026-09-01",
    "2026-09-08",
    "2026-09-15",
    "2026-09-22",
];

// W40: A1 C1 2 × content_download = 20, C2 webinar_attended 30 → 50;
//      A2 C4 form_submit 5; A3 C5 content_download 10 + email_click 2 = 12.
const ALERT_CURRENT: &str = "\
s1,2026-09-29T10:00:00Z,content_download,C1,
s2,2026-09-30T10:00:00Z,content_download,C1,
s3,2026-09-29T11:00:00Z,webinar_attended,C2,
d1,2026-09-30T10:00:00Z,form_submit,C4,
r1,2026-09-29T10:00:00Z,content_download,C5,
r2,2026-09-30T10:00:00Z,email_click,C5,
";

#[test]
fn surge_and_decline_alerts() {
    let dir = tempfile::tempdir().unwrap();
    // Each baseline week: A1 C1 content_download 10; A2 C3 webinar 30 + C4 download 10 = 40;
    // A3 C5 content_download 10.
    let mut activities = String::from("id,timestamp,type,contact_id,duration_minutes\n");
    for (i, day) in BASELINE_TUESDAYS.iter().enumerate() {
        activities.push_str(&format!(
            "b{i}a,{day}T10:00:00Z,content_download,C1,\n\
             b{i}b,{day}T10:00:00Z,webinar_attended,C3,30\n\
             b{i}c,{day}T10:00:00Z,content_download,C4,\n\
             b{i}d,{day}T10:00:00Z,content_download,C5,\n"
        ));
    }
    activities.push_str(ALERT_CURRENT);
    let ws = workspace(
        dir.path(),
        "",
        &[
            (
                "accounts.csv",
                "id,name\nA1,Surge Co\nA2,Decline Co\nA3,Steady Co\n",
            ),
            ("contacts.csv", ALERT_CONTACTS),
            ("activities.csv", &activities),
        ],
    );
    // --weeks 2 also judges W39: A1 10 against mean(W31..W38) = 70 / 8 (W31 empty) — no;
    // A2 40 against 35 — no. So the same two alerts either way.
    for weeks in ["1", "2"] {
        let v = report(&ws, &["alerts", "--at", "2026-09-30", "--weeks", weeks]);
        assert_eq!(v["report"], "alerts");
        // A3: 12 < min_minutes 30 → no surge; its mean 10 < 30 → no decline.
        assert_eq!(rows(&v).len(), 2, "--weeks {weeks}: {v:#}");

        // A1: baseline 8 × 10 → mean 10, sd 0 → z = (50 − 10) / max(0, 1) = 40;
        // ratio 50 / 10 = 5; 50 ≥ 30, 50 ≥ 2 × 10, 40 ≥ 2 → surge.
        let s = row(&v, "account_id", "A1");
        assert_eq!(s["kind"], "surge");
        assert_eq!(s["account_name"], "Surge Co");
        assert_eq!(s["week"], "2026-W40");
        approx(&s["current"], 50.0);
        approx(&s["baseline"], 10.0);
        approx(&s["baseline_sd"], 0.0);
        approx(&s["ratio"], 5.0);
        approx(&s["z"], 40.0);
        // Moved up: C2 0 → 30 (+30), then C1 10 → 20 (+10).
        let tc = s["top_contacts"].as_array().unwrap();
        assert_eq!(tc.len(), 2, "{s}");
        assert_eq!(tc[0]["contact_id"], "C2");
        assert_eq!(tc[0]["name"], "Wendy Webinar");
        approx(&tc[0]["current"], 30.0);
        approx(&tc[0]["baseline"], 0.0);
        assert_eq!(tc[1]["contact_id"], "C1");
        assert_eq!(tc[1]["name"], "Sam Steady");
        approx(&tc[1]["current"], 20.0);
        approx(&tc[1]["baseline"], 10.0);
        // Types: webinar_attended +30, content_download +10.
        let tt = s["top_types"].as_array().unwrap();
        assert_eq!(tt.len(), 2, "{s}");
        assert_eq!(tt[0]["type"], "webinar_attended");
        assert_eq!(tt[1]["type"], "content_download");

        // A2: mean 40 (≥ 30), sd 0; current 5 ≤ 0.5 × 40; z = (5 − 40) / 1 = −35;
        // ratio 5 / 40 = 0.125 → decline.
        let d = row(&v, "account_id", "A2");
        assert_eq!(d["kind"], "decline");
        assert_eq!(d["week"], "2026-W40");
        approx(&d["current"], 5.0);
        approx(&d["baseline"], 40.0);
        approx(&d["baseline_sd"], 0.0);
        approx(&d["ratio"], 0.125);
        approx(&d["z"], -35.0);
        // Moved down: C3 30 → 0 (−30), then C4 10 → 5 (−5).
        let tc = d["top_contacts"].as_array().unwrap();
        assert_eq!(tc.len(), 2, "{d}");
        assert_eq!(tc[0]["contact_id"], "C3");
        assert_eq!(tc[0]["name"], "Pat Former");
        approx(&tc[0]["current"], 0.0);
        approx(&tc[0]["baseline"], 30.0);
        assert_eq!(tc[1]["contact_id"], "C4");
        approx(&tc[1]["current"], 5.0);
        approx(&tc[1]["baseline"], 10.0);
        // Types down: webinar_attended −30, content_download −10 (form_submit went up).
        let tt = d["top_types"].as_array().unwrap();
        assert_eq!(tt.len(), 2, "{d}");
        assert_eq!(tt[0]["type"], "webinar_attended");
        assert_eq!(tt[1]["type"], "content_download");
    }
}

// ---------------------------------------------------------------------------------------
// 9. Timeline.

const TIMELINE_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C1,A1,Jane,Doe,VP Marketing,,
C2,A1,Bob,Roe,Data Engineer,,
C3,A2,Zed,Zee,,,
";

const TIMELINE_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,anonymous_id,account_id,channel,campaign_id,duration_minutes
t1,2026-09-02T09:00:00Z,webinar_attended,C1,,,webinar,CP1,45
t2,2026-09-01T15:30:00Z,page_view,,anon-1,A1,web,,3
t3,2026-09-01T08:00:00Z,email_open,C1,,,email,CP1,
t4,2026-09-02T10:00:00Z,email_click,C1,,,email,CP1,
t5,2026-08-31T23:59:59Z,content_download,C1,,,,,
t6,2026-09-30T23:59:59Z,content_download,C2,,,,,
t7,2026-10-01T00:00:00Z,content_download,C1,,,,,
t8,2026-09-15T10:00:00Z,content_download,C3,,,,,
";

#[test]
fn timeline_in_time_order_with_the_daily_series() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\nA2,Globex\n"),
            (
                "campaigns.csv",
                "id,name,channel\nCP1,Autumn Webinar,webinar\n",
            ),
            ("contacts.csv", TIMELINE_CONTACTS),
            ("activities.csv", TIMELINE_ACTIVITIES),
        ],
    );
    let v = report(
        &ws,
        &[
            "timeline",
            "--account",
            "A1",
            "--from",
            "2026-09-01",
            "--to",
            "2026-09-30",
        ],
    );
    assert_eq!(v["report"], "timeline");
    // [09-01T00:00, 10-01T00:00): t5 is a second early, t7 a second late, t8 is A2's.
    let ids: Vec<&str> = rows(&v)
        .iter()
        .map(|r| r["activity_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t3", "t2", "t1", "t4", "t6"], "{v:#}");
    let r = &rows(&v)[0];
    assert!(
        r["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-09-01T08:00:00"),
        "{r}"
    );
    // (id, contact, name, title, seniority, department, type, channel, campaign, campaign
    // name, minutes, weighted, match_rule). Jane: "VP Marketing" → vp (1.5), marketing;
    // Bob: "Data Engineer" → individual (0.8), engineering; anon-1 → unknown (0.5), rule 1.
    let want = [
        (
            "t3",
            Some("C1"),
            Some("Jane Doe"),
            Some("VP Marketing"),
            "vp",
            "marketing",
            "email_open",
            Some("email"),
            Some("CP1"),
            Some("Autumn Webinar"),
            1.0,
            1.5,
            2,
        ),
        (
            "t2",
            None,
            None,
            None,
            "unknown",
            "unknown",
            "page_view",
            Some("web"),
            None,
            None,
            3.0,
            1.5,
            1,
        ),
        (
            "t1",
            Some("C1"),
            Some("Jane Doe"),
            Some("VP Marketing"),
            "vp",
            "marketing",
            "webinar_attended",
            Some("webinar"),
            Some("CP1"),
            Some("Autumn Webinar"),
            45.0,
            67.5,
            2,
        ),
        (
            "t4",
            Some("C1"),
            Some("Jane Doe"),
            Some("VP Marketing"),
            "vp",
            "marketing",
            "email_click",
            Some("email"),
            Some("CP1"),
            Some("Autumn Webinar"),
            2.0,
            3.0,
            2,
        ),
        (
            "t6",
            Some("C2"),
            Some("Bob Roe"),
            Some("Data Engineer"),
            "individual",
            "engineering",
            "content_download",
            None,
            None,
            None,
            10.0,
            8.0,
            2,
        ),
    ];
    let opt = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    for (r, w) in rows(&v).iter().zip(want) {
        assert_eq!(r["activity_id"], w.0);
        assert_eq!(opt(&r["contact_id"]).as_deref(), w.1, "{r}");
        if w.1.is_some() {
            assert_eq!(opt(&r["contact_name"]).as_deref(), w.2, "{r}");
        }
        assert_eq!(opt(&r["title"]).as_deref(), w.3, "{r}");
        assert_eq!(r["seniority"], w.4, "{r}");
        assert_eq!(r["department"], w.5, "{r}");
        assert_eq!(r["type"], w.6, "{r}");
        assert_eq!(opt(&r["channel"]).as_deref(), w.7, "{r}");
        assert_eq!(opt(&r["campaign_id"]).as_deref(), w.8, "{r}");
        assert_eq!(opt(&r["campaign_name"]).as_deref(), w.9, "{r}");
        approx(&r["minutes"], w.10);
        approx(&r["weighted_minutes"], w.11);
        assert_eq!(r["match_rule"], w.12, "{r}");
    }
    // Per day: 09-01 t3 1 + t2 3 = 4 min, 1.5 + 1.5 = 3; 09-02 t1 45 + t4 2 = 47,
    // 67.5 + 3 = 70.5; 09-30 t6 10, 8. Other days have nothing.
    let series = v["series"].as_array().expect("series");
    let want = [
        ("2026-09-01", 2, 4.0, 3.0, 1),
        ("2026-09-02", 2, 47.0, 70.5, 1),
        ("2026-09-30", 1, 10.0, 8.0, 1),
    ];
    for (day, n, m, wm, engaged) in want {
        let d: Vec<&Value> = series
            .iter()
            .filter(|s| s["day"].as_str().is_some_and(|x| x.starts_with(day)))
            .collect();
        assert_eq!(d.len(), 1, "{day}: {series:?}");
        assert_eq!(d[0]["activities"], n, "{day}");
        approx(&d[0]["minutes"], m);
        approx(&d[0]["weighted_minutes"], wm);
        assert_eq!(d[0]["engaged_contacts"], engaged, "{day}");
    }
    for s in series {
        let day = s["day"].as_str().unwrap();
        if !want.iter().any(|w| day.starts_with(w.0)) {
            assert_eq!(s["activities"].as_u64(), Some(0), "{s}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 10. Bad input.

#[test]
fn bad_periods_dates_and_ranges_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\n"),
            (
                "activities.csv",
                "id,timestamp,type,account_id\ne1,2026-09-01T10:00:00Z,form_submit,A1\n",
            ),
        ],
    );
    fails(
        &ws,
        &["engagement", "--period", "fortnight", "--at", "2026-09-30"],
        &["--period", "fortnight"],
    );
    fails(
        &ws,
        &["heatmap", "--account", "A1", "--period", "fortnight"],
        &["--period", "fortnight"],
    );
    fails(
        &ws,
        &["engagement", "--period", "2026-Q5"],
        &["--period", "2026-Q5"],
    );
    for cmd in ["engagement", "mqa", "alerts"] {
        fails(&ws, &[cmd, "--at", "2026-13-01"], &["--at", "2026-13-01"]);
    }
    fails(
        &ws,
        &[
            "timeline",
            "--account",
            "A1",
            "--from",
            "2026-09-30",
            "--to",
            "2026-09-01",
        ],
        &["--from", "2026-09-30", "2026-09-01"],
    );
    // The good form of the same commands works.
    let v = report(
        &ws,
        &["engagement", "--period", "month", "--at", "2026-09-30"],
    );
    assert_eq!(v["params"]["period"], "2026-09");
    engagement_row(
        row(&v, "account_id", "A1"),
        5.0,
        2.5,
        0,
        1,
        (0, 0, 0),
        0.0,
        None,
    );
}

/// Issue 4: the stored cube and a direct computation from raw events agree on the demo
/// data, cell by cell (account × department × seniority), minutes, weighted minutes,
/// activities and distinct contacts.
#[test]
fn the_cube_agrees_with_raw_events_on_the_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let headline = ok(
        &ws,
        &[
            "demo",
            "--accounts",
            "120",
            "--activities",
            "40000",
            "--end",
            "2026-09-30",
            "--no-serve",
        ],
    );
    // The demo ends with the headline (issue 4), which refreshed the stored cube.
    for part in [
        "accounts engaged in 2026-Q3 (2026-07-01 to 2026-09-30); the top 10 by weighted minutes:",
        "change_pct",
        "marketing-qualified accounts at 2026-09-30",
        "alerts in 2026-W39:",
    ] {
        assert!(
            headline.contains(part),
            "{part:?} missing from:\n{headline}"
        );
    }
    assert!(ws.join("cube/index.json").exists());
    let cube = sql_json(
        &ws,
        "SELECT account_id, department, seniority, sum(minutes) AS m, sum(weighted_minutes) AS w, \
         sum(activities) AS n, count(DISTINCT contact_id) AS c FROM engagement_cube \
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    let raw = sql_json(
        &ws,
        "SELECT resolved_account_id AS account_id, department, seniority, sum(minutes) AS m, \
         sum(weighted_minutes) AS w, count(*) AS n, count(DISTINCT resolved_contact_id) AS c \
         FROM resolved_activities WHERE resolved_account_id IS NOT NULL \
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    let (cube, raw) = (rows(&cube), rows(&raw));
    assert!(cube.len() > 300, "a real demo: {} cells", cube.len());
    assert_eq!(cube.len(), raw.len());
    for (c, r) in cube.iter().zip(raw) {
        for key in ["account_id", "department", "seniority", "n", "c"] {
            assert_eq!(c[key], r[key], "{key}: cube {c} raw {r}");
        }
        for key in ["m", "w"] {
            let (a, b) = (c[key].as_f64().unwrap(), r[key].as_f64().unwrap());
            assert!(
                (a - b).abs() < 1e-6 * b.abs().max(1.0),
                "{key}: cube {c} raw {r}"
            );
        }
    }
}

/// A mistyped `--account` is refused by name, not answered with an empty report.
#[test]
fn an_unknown_account_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\n"),
            (
                "activities.csv",
                "id,timestamp,type,account_id\ne1,2026-09-01T10:00:00Z,page_view,A1\n",
            ),
        ],
    );
    for cmd in [
        "heatmap",
        "trend",
        "engagement",
        "mqa",
        "alerts",
        "timeline",
    ] {
        fails(
            &ws,
            &[cmd, "--account", "a1"],
            &["no account `a1`", "--account"],
        );
    }
    assert_eq!(
        rows(&report(
            &ws,
            &["timeline", "--account", "A1", "--to", "2026-09-30"]
        ))
        .len(),
        1
    );
}
