//! Issue 7, funnel: `abmeter funnel` on a hand-made workspace, every figure computed by hand.

use serde_json::{Value, json};

use super::close;
use super::engagement::{report, row, rows, workspace};

/// Q3 2026 against Q2; ICP = Software. L1 (A1: target, Software) created 07-05 and MQL 07-20,
/// first touch paid_search; L2 (A2: Retail) created 07-10, first touch its meeting; L3 (A1)
/// created in Q2, MQL 07-02, never touched; L4 (A2) created 08-01 without a lead source, first touch email. Spend: 300
/// on paid_search. Meetings held: A1 07-15 followed by O1 on 08-01 (17 days), A2 07-20
/// followed by O2 only 134 days later; a demo request from A2.
fn leads(dir: &std::path::Path) -> std::path::PathBuf {
    workspace(
        dir,
        "[icp]\nindustries = [\"Software\"]\n",
        &[
            (
                "accounts.csv",
                "id,name,industry,is_target\nA1,One,Software,true\nA2,Two,Retail,false\n",
            ),
            (
                "contacts.csv",
                "id,account_id,lead_source,created_at,mql_at\n\
                 L1,A1,Webinar,2026-07-05T00:00:00Z,2026-07-20T00:00:00Z\n\
                 L2,A2,Webinar,2026-07-10T00:00:00Z,\n\
                 L3,A1,Paid Search,2026-04-10T00:00:00Z,2026-07-02T00:00:00Z\n\
                 L4,A2,,2026-08-01T00:00:00Z,\n",
            ),
            (
                "ad_performance.csv",
                "date,channel,spend\n2026-07-01,paid_search,300\n",
            ),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at\n\
                 O1,A1,100,Discovery,2026-08-01T00:00:00Z\n\
                 O2,A2,100,Discovery,2026-12-01T00:00:00Z\n",
            ),
            (
                "activities.csv",
                "id,timestamp,type,contact_id,channel,campaign_id\n\
                 t1,2026-07-04T10:00:00Z,page_view,L1,paid_search,K1\n\
                 t2,2026-07-30T10:00:00Z,page_view,L4,email,K2\n\
                 m1,2026-07-15T00:00:00Z,meeting_held,L1,sales,\n\
                 m2,2026-07-20T00:00:00Z,meeting_held,L2,sales,\n\
                 d1,2026-08-02T00:00:00Z,demo_request,L4,web,\n",
            ),
        ],
    )
}

#[test]
fn leads_mqls_costs_and_meetings() {
    let dir = tempfile::tempdir().unwrap();
    let ws = leads(dir.path());
    let v = report(&ws, &["funnel", "--period", "2026-Q3"]);
    let w = row(&v, "lead_source", "Webinar");
    close(&w["leads"], 2.0, "Webinar leads");
    close(&w["mqls"], 1.0, "Webinar MQLs");
    close(&w["target_account_pct"], 50.0, "Webinar target");
    close(&w["icp_pct"], 50.0, "Webinar ICP");
    assert_eq!(
        w["cost_per_lead"],
        Value::Null,
        "lead sources carry no spend"
    );
    let p = row(&v, "lead_source", "Paid Search");
    close(&p["leads"], 0.0, "Paid Search leads in Q3");
    close(&p["mqls"], 1.0, "L3's MQL");
    close(&p["previous_leads"], 1.0, "L3 created in Q2");
    close(&row(&v, "lead_source", "(none)")["leads"], 1.0, "L4");
    let t = row(&v, "lead_source", "(total)");
    close(&t["leads"], 3.0, "total leads");
    close(&t["mqls"], 2.0, "total MQLs");
    close(&t["cost"], 300.0, "total cost");
    close(&t["cost_per_lead"], 100.0, "cost per lead");
    close(&t["cost_per_mql"], 150.0, "cost per MQL");
    close(&t["target_account_pct"], 100.0 / 3.0, "total target");
    close(&t["icp_pct"], 100.0 / 3.0, "total ICP");

    assert_eq!(
        v["meetings"],
        json!([
            {"channel": "sales", "target": false, "demo_requests": 0, "meetings_scheduled": 0, "meetings_held": 1},
            {"channel": "sales", "target": true, "demo_requests": 0, "meetings_scheduled": 0, "meetings_held": 1},
            {"channel": "web", "target": false, "demo_requests": 1, "meetings_scheduled": 0, "meetings_held": 0},
        ])
    );
    assert_eq!(v["accounts_with_meeting_held"], json!(2));
    close(&v["meeting_to_opp_pct"], 50.0, "meeting to opportunity");

    let v = report(&ws, &["funnel", "--period", "2026-Q3", "--by", "channel"]);
    let ps = row(&v, "channel", "paid_search");
    close(&ps["leads"], 1.0, "paid_search leads");
    close(&ps["cost_per_lead"], 300.0, "paid_search cost per lead");
    // L2's first touch is its meeting (sales); L3, never touched, is an untracked MQL.
    close(
        &row(&v, "channel", "sales")["leads"],
        1.0,
        "L2 by its meeting",
    );
    close(
        &row(&v, "channel", "(untracked)")["mqls"],
        1.0,
        "L3 untracked",
    );
    close(&row(&v, "channel", "email")["leads"], 1.0, "L4 by email");
    assert!(rows(&v).iter().any(|r| r["channel"] == "(total)"));

    let out = super::abmeter(&ws, &["funnel", "--by", "colour"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--by"));
}
