//! Issue 6: `abmeter pipeline` and `abmeter velocity` on a hand-made workspace whose fiscal
//! year starts in April (so 2026-Q2 is July–September 2026), every figure computed by hand
//! in the comments.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::abmeter;
use super::close;
use super::engagement::{report, row, rows, workspace};

const CONFIG: &str = "fiscal_year_start_month = 4\n\
                      [targets.quota]\n\"2026-Q2\" = 2000.0\n\
                      [targets.revenue]\n\"2026-Q2\" = 1000.0\n";

/// Fiscal 2026-Q1 = April–June, 2026-Q2 = July–September.
///
/// | opp | acct | amount | type | created | close | state | source |
/// |---|---|---|---|---|---|---|---|
/// | O1 | A1 | 1200 | new_business | 07-10 | 08-20 | won | marketing, 24 months |
/// | O2 | A2 | 600 | new_business | 05-15 | 07-15 | won (created a quarter earlier) | sales |
/// | O3 | A3 | 400 | upsell | 07-20 | 09-01 | lost, Price | lead source Webinar → marketing |
/// | O4 | A1 | 300 | new_business | 08-01 | 09-10 | lost, no reason | sales, 12 months |
/// | O5 | A2 | 1500 | (none → new_business) | 08-05 | 09-25 | open | marketing |
/// | O6 | A3 | 500 | renewal | 04-10 | 11-15 | open | sales |
/// | O7 | A1 | 800 | cross_sell | 04-05 | 06-20 | won | marketing |
fn deals(dir: &Path) -> PathBuf {
    workspace(
        dir,
        CONFIG,
        &[
            (
                "accounts.csv",
                "id,name,industry,region,tier\n\
                 A1,One,Software,NA,Tier 1\n\
                 A2,Two,Retail,EMEA,Tier 2\n\
                 A3,Three,Software,EMEA,Tier 1\n",
            ),
            (
                "contacts.csv",
                "id,account_id,email\nC1,A1,c1@one.com\nC2,A2,c2@two.com\n",
            ),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,type,created_at,close_date,is_closed,is_won,source,lead_source,contract_months,loss_reason,competitor\n\
                 O1,A1,1200,Closed Won,new_business,2026-07-10,2026-08-20,true,true,marketing,,24,,Acme\n\
                 O2,A2,600,Closed Won,new_business,2026-05-15,2026-07-15,true,true,sales,,,,\n\
                 O3,A3,400,Closed Lost,upsell,2026-07-20,2026-09-01,true,false,,Webinar,,Price,Acme\n\
                 O4,A1,300,Closed Lost,new_business,2026-08-01,2026-09-10,true,false,sales,,12,,Beta\n\
                 O5,A2,1500,Negotiation,,2026-08-05,2026-09-25,false,false,marketing,,,,\n\
                 O6,A3,500,Proposal,renewal,2026-04-10,2026-11-15,false,false,sales,,,,\n\
                 O7,A1,800,Closed Won,cross_sell,2026-04-05,2026-06-20,true,true,marketing,,12,,\n",
            ),
            (
                "opportunity_stages.csv",
                // O1: Discovery 10 d + (repeated) 7 d = 17, Demo 5, Proposal skipped,
                // Negotiation until the close date (no closing row) = 19.
                // O2: Discovery 31 d (ends in Q1), Proposal 30 d 10 h (ends in Q2), then the
                // closing marker entered on the close day: no duration.
                // O4: Discovery 20, Proposal until its close = 20. O5 (open): Discovery 20,
                // Negotiation still running.
                "opportunity_id,stage,entered_at\n\
                 O1,Discovery,2026-07-10T00:00:00Z\n\
                 O1,Demo,2026-07-20T00:00:00Z\n\
                 O1,Discovery,2026-07-25T00:00:00Z\n\
                 O1,Negotiation,2026-08-01T00:00:00Z\n\
                 O2,Discovery,2026-05-15T00:00:00Z\n\
                 O2,Proposal,2026-06-15T00:00:00Z\n\
                 O2,Closed Won,2026-07-15T10:00:00Z\n\
                 O4,Discovery,2026-08-01T00:00:00Z\n\
                 O4,Proposal,2026-08-21T00:00:00Z\n\
                 O5,Discovery,2026-08-05T00:00:00Z\n\
                 O5,Negotiation,2026-08-25T00:00:00Z\n",
            ),
            (
                "activities.csv",
                // A1: demo request → scheduled 2.5 d → held 4.5 d → O1 2 d later (and O4,
                // created 08-01, 24 d after the meeting). A2: a meeting held 4 d before O5.
                "id,timestamp,type,contact_id\n\
                 m1,2026-07-01T00:00:00Z,demo_request,C1\n\
                 m2,2026-07-03T12:00:00Z,meeting_scheduled,C1\n\
                 m3,2026-07-08T00:00:00Z,meeting_held,C1\n\
                 m4,2026-08-01T00:00:00Z,meeting_held,C2\n",
            ),
        ],
    )
}

#[test]
fn pipeline_figures_against_quota_and_targets_with_an_april_fiscal_year() {
    let dir = tempfile::tempdir().unwrap();
    let ws = deals(dir.path());
    let v = report(
        &ws,
        &["pipeline", "--period", "2026-Q2", "--at", "2026-08-15"],
    );
    assert_eq!(v["report"], "pipeline");
    assert_eq!(v["params"]["period"], "2026-Q2");
    assert_eq!(v["params"]["start"], "2026-07-01");
    assert_eq!(v["params"]["previous_period"], "2026-Q1");
    assert_eq!(rows(&v).len(), 1);
    let r = &rows(&v)[0];
    let want = [
        // Created in Q2: O1, O3, O4, O5.
        ("opportunities", 4.0),
        ("pipeline", 3400.0),
        // New business: O1 + O4 + O5 (no type counts as new business).
        ("new_business_pipeline", 3000.0),
        // Marketing: O1, O3 (lead source), O5.
        ("marketing_sourced_opportunities", 3.0),
        ("marketing_sourced_pipeline", 3100.0),
        // Marketing new business O1 + O5 = 2700 of 3000.
        ("marketing_sourced_pipeline_pct", 90.0),
        // Won with a close date in Q2: O1 and O2 (created in Q1).
        ("revenue", 1800.0),
        ("marketing_sourced_revenue", 1200.0),
        ("revenue_target", 1000.0),
        ("revenue_target_pct", 180.0),
        ("won", 2.0),
        ("lost", 2.0),
        ("win_rate", 0.5),
        ("avg_deal_size", 900.0),
        // O1: 1200 × 12 / 24 = 600; O2: no contract length, its amount 600.
        ("acv", 600.0),
        // Open at the end of 15 August, closing in Q2: O1 (closed 20 August), O3, O4, O5.
        ("open_pipeline", 3400.0),
        ("quota", 2000.0),
        ("pipeline_coverage", 1.7),
        // Q1: O2, O6, O7 created (1900); O7 won (800).
        ("previous_opportunities", 3.0),
        ("previous_pipeline", 1900.0),
        ("previous_revenue", 800.0),
        ("previous_win_rate", 1.0),
        ("pipeline_change_pct", 1500.0 / 1900.0 * 100.0),
        ("win_rate_change_pct", -50.0),
        // Judged on 16 May (as far into Q1): O7 open and closing in Q1.
        ("previous_open_pipeline", 800.0),
    ];
    for (field, value) in want {
        close(&r[field], value, field);
    }
    // No quota or revenue target for Q1: null, not 0.
    assert_eq!(r["previous_pipeline_coverage"], Value::Null);
    assert_eq!(r["previous_revenue_target_pct"], Value::Null);
    assert_eq!(r["pipeline_coverage_change_pct"], Value::Null);

    let reasons = v["loss_reasons"].as_array().unwrap();
    assert_eq!(
        reasons,
        &vec![
            json!({"rank": 1, "loss_reason": "Price", "lost": 1, "lost_amount": 400.0, "lost_pct": 50.0}),
            json!({"rank": null, "loss_reason": "(none)", "lost": 1, "lost_amount": 300.0, "lost_pct": 50.0}),
        ]
    );
    let by = |dim: &str, value: &str| -> Value {
        v["win_rate_by"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["dimension"] == dim && r["value"] == value)
            .unwrap_or_else(|| panic!("{dim}={value}"))["win_rate"]
            .clone()
    };
    close(&by("industry", "Software"), 1.0 / 3.0, "Software");
    close(&by("industry", "Retail"), 1.0, "Retail");
    close(&by("competitor", "Acme"), 0.5, "Acme");
    close(&by("competitor", "Beta"), 0.0, "Beta");
    close(&by("competitor", "(none)"), 1.0, "no competitor");
    close(&by("source", "marketing"), 0.5, "marketing");
    close(&by("tier", "Tier 1"), 1.0 / 3.0, "Tier 1");

    let types = v["by_type"].as_array().unwrap();
    let t = |name: &str| types.iter().find(|t| t["type"] == name).unwrap().clone();
    assert_eq!(
        (
            t("new_business")["created"].clone(),
            t("new_business")["won"].clone(),
            t("new_business")["lost"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    assert_eq!(t("upsell")["lost"], json!(1));
    assert_eq!(t("cross_sell")["previous_won"], json!(1));
    assert_eq!(t("renewal")["previous_created"], json!(1));

    let sources = v["by_source"].as_array().unwrap();
    let s = |name: &str| {
        sources
            .iter()
            .find(|t| t["source"] == name)
            .unwrap()
            .clone()
    };
    close(&s("marketing")["acv"], 600.0, "marketing acv");
    close(&s("sales")["avg_deal_size"], 600.0, "sales deal size");
}

#[test]
fn pipeline_by_source_and_filtered_by_segment() {
    let dir = tempfile::tempdir().unwrap();
    let ws = deals(dir.path());
    let v = report(
        &ws,
        &[
            "pipeline",
            "--period",
            "2026-Q2",
            "--at",
            "2026-08-15",
            "--by",
            "source",
        ],
    );
    let got: Vec<&Value> = rows(&v).iter().map(|r| &r["source"]).collect();
    assert_eq!(got, [&json!("marketing"), &json!("sales")]);
    let m = row(&v, "source", "marketing");
    close(&m["pipeline"], 3100.0, "marketing pipeline");
    close(&m["revenue"], 1200.0, "marketing revenue");
    assert_eq!(
        m["pipeline_coverage"],
        Value::Null,
        "targets are for the whole"
    );
    let s = row(&v, "source", "sales");
    close(&s["win_rate"], 0.5, "sales win rate");
    close(&s["previous_pipeline"], 1100.0, "sales Q1: O2 + O6");

    let v = report(
        &ws,
        &[
            "pipeline",
            "--period",
            "2026-Q2",
            "--at",
            "2026-08-15",
            "--segment",
            "industry=software",
            "--by",
            "account",
        ],
    );
    let accounts: Vec<(&Value, &Value)> = rows(&v)
        .iter()
        .map(|r| (&r["account_id"], &r["account_name"]))
        .collect();
    assert_eq!(
        accounts,
        [
            (&json!("A1"), &json!("One")),
            (&json!("A3"), &json!("Three"))
        ]
    );

    let csv = super::ok(
        &ws,
        &[
            "pipeline", "--period", "2026-Q2", "--by", "type", "--format", "csv",
        ],
    );
    assert!(csv.starts_with("type,opportunities,pipeline,"), "{csv}");
}

#[test]
fn velocity_stages_cycle_milestones_and_pipeline_velocity() {
    let dir = tempfile::tempdir().unwrap();
    let ws = deals(dir.path());
    let v = report(
        &ws,
        &["velocity", "--period", "2026-Q2", "--at", "2026-09-30"],
    );
    assert_eq!(
        v["params"]["periods"],
        json!(["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"])
    );
    let q2 = rows(&v)
        .iter()
        .find(|r| r["period"] == "2026-Q2" && r["source"] == "all")
        .unwrap();
    // Won in Q2: O1 41 days (07-10 → 08-20), O2 61 days (05-15 → 07-15).
    close(&q2["sales_cycle_days_median"], 51.0, "cycle median");
    close(&q2["sales_cycle_days_mean"], 51.0, "cycle mean");
    // Open at the end of Q2: O5 and O6. 2 × 0.5 × 900 / 51.
    assert_eq!(q2["open_opportunities"], json!(2));
    close(
        &q2["pipeline_velocity"],
        2.0 * 0.5 * 900.0 / 51.0,
        "velocity",
    );

    let stage = |period: &str, source: &str, name: &str| -> (Value, Value, Value) {
        let s = v["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["period"] == period && s["source"] == source && s["stage"] == name)
            .unwrap_or_else(|| panic!("{period} {source} {name}: {:#}", v["stages"]));
        (
            s["deals"].clone(),
            s["median_days"].clone(),
            s["mean_days"].clone(),
        )
    };
    // Discovery: O1 17 (repeated), O4 20, O5 20.
    let (n, med, mean) = stage("2026-Q2", "all", "Discovery");
    assert_eq!(n, json!(3));
    close(&med, 20.0, "Discovery median");
    close(&mean, 19.0, "Discovery mean");
    // Proposal: O2 30 d 10 h, O4 20 d.
    let (n, med, _) = stage("2026-Q2", "all", "Proposal");
    assert_eq!(n, json!(2));
    close(&med, (30.0 + 10.0 / 24.0 + 20.0) / 2.0, "Proposal median");
    close(
        &stage("2026-Q2", "all", "Negotiation").1,
        19.0,
        "Negotiation",
    );
    close(&stage("2026-Q2", "marketing", "Demo").1, 5.0, "Demo");
    close(
        &stage("2026-Q1", "sales", "Discovery").1,
        31.0,
        "O2's Discovery ended in Q1",
    );
    let stages = v["stages"].as_array().unwrap();
    assert!(
        !stages.iter().any(|s| s["stage"] == "Closed Won"),
        "the closing marker has no duration"
    );
    let order: Vec<&str> = stages
        .iter()
        .filter(|s| s["period"] == "2026-Q2" && s["source"] == "all")
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["Discovery", "Demo", "Proposal", "Negotiation"]);

    let interval = |name: &str| -> (Value, Value) {
        let m = v["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["period"] == "2026-Q2" && m["source"] == "all" && m["interval"] == name)
            .unwrap_or_else(|| panic!("{name}: {:#}", v["milestones"]));
        (m["deals"].clone(), m["mean_days"].clone())
    };
    // O1 and O4 both follow A1's chain; O5 follows A2's meeting.
    let (n, mean) = interval("demo_request → meeting_scheduled");
    assert_eq!(n, json!(2));
    close(&mean, 2.5, "demo → scheduled");
    close(
        &interval("meeting_scheduled → meeting_held").1,
        4.5,
        "scheduled → held",
    );
    let (n, mean) = interval("meeting_held → opportunity");
    assert_eq!(n, json!(3));
    close(&mean, (2.0 + 24.0 + 4.0) / 3.0, "held → opportunity");
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ws = deals(dir.path());
    for (args, want) in [
        (vec!["pipeline", "--period", "2026-Q5"], "--period"),
        (
            vec!["pipeline", "--by", "colour"],
            "--by: `colour` is not one of",
        ),
        (
            vec!["pipeline", "--segment", "industry"],
            "is not DIM=VALUE",
        ),
        (vec!["velocity", "--period", "fortnight"], "--period"),
    ] {
        let out = abmeter(&ws, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
