//! Issue 7, ads: `abmeter channels` on a hand-made workspace, every figure computed by hand.

use serde_json::{Value, json};

use super::close;
use super::engagement::{report, row, rows, workspace};

/// Q3 2026 against Q2. paid_social K1: a campaign-level row (1000 impressions, 20 clicks,
/// 100 spend, 400 views, 100 completions, 2 leads, 50 engagements) and an account-level
/// breakdown for A1 that only counts for reach; Q2: 500 impressions, 10 clicks, 60 spend.
/// display: only an account-level row (A3): it counts. paid_search: a zero-impression day.
fn ads(dir: &std::path::Path) -> std::path::PathBuf {
    workspace(
        dir,
        "",
        &[
            (
                "accounts.csv",
                "id,name,is_target\nA1,One,true\nA2,Two,true\nA3,Three,false\n",
            ),
            (
                "contacts.csv",
                "id,account_id,title,created_at\nC1,A1,VP Marketing,\nC2,A2,CMO,\nC3,A1,VP Marketing,\n\
                 C4,A3,Analyst,2026-07-15T00:00:00Z\n",
            ),
            (
                "campaigns.csv",
                "id,name,channel,start_date,end_date,actual_cost\n\
                 K1,LinkedIn ABM,paid_social,,,\n\
                 K3,Syndication,content_syndication,2026-07-01,2026-09-30,900\n",
            ),
            (
                "ad_performance.csv",
                "date,channel,campaign_id,account_id,impressions,clicks,spend,video_views,video_completions,leads,engagements\n\
                 2026-07-05,paid_social,K1,,1000,20,100,400,100,2,50\n\
                 2026-07-06,paid_social,K1,A1,300,5,30,,,,\n\
                 2026-08-01,display,,A3,500,0,10,,,,\n\
                 2026-04-10,paid_social,K1,,500,10,60,,,,\n\
                 2026-07-07,paid_search,,,0,0,0,,,,\n\
                 2026-07-15,content_syndication,K3,,0,0,0,,,30,\n",
            ),
            (
                "activities.csv",
                // A2 reached through an impression of its contact; C1 and C3 (A1, both VP
                // Marketing) and C2 (A2, CMO) clicked or engaged.
                "id,timestamp,type,contact_id,channel,campaign_id\n\
                 a1,2026-07-10T10:00:00Z,ad_impression,C2,paid_social,K1\n\
                 a2,2026-07-11T10:00:00Z,ad_click,C1,paid_social,K1\n\
                 a3,2026-07-12T10:00:00Z,ad_engagement,C3,paid_social,K1\n\
                 a4,2026-07-12T11:00:00Z,ad_click,C2,paid_social,K1\n\
                 e1,2026-07-01T09:00:00Z,email_send,C1,email,K2\n\
                 e2,2026-07-01T09:00:00Z,email_send,C2,email,K2\n\
                 e3,2026-07-01T09:00:00Z,email_send,C3,email,K2\n\
                 e4,2026-07-01T09:01:00Z,email_bounce,C3,email,K2\n\
                 e5,2026-07-01T10:00:00Z,email_open,C1,email,K2\n\
                 e6,2026-07-02T10:00:00Z,email_open,C1,email,K2\n\
                 e7,2026-07-01T11:00:00Z,email_open,C2,email,K2\n\
                 e8,2026-07-01T10:05:00Z,email_click,C1,email,K2\n\
                 e9,2026-07-03T10:00:00Z,email_unsubscribe,C2,email,K2\n\
                 e10,2026-07-16T10:00:00Z,form_submit,C4,email,K2\n\
                 s1,2026-07-20T10:00:00Z,social_like,C1,organic_social,\n\
                 s2,2026-07-20T11:00:00Z,social_share,C2,organic_social,\n\
                 s3,2026-07-21T10:00:00Z,social_like,C3,organic_social,\n",
            ),
        ],
    )
}

#[test]
fn ad_kpis_reach_and_who_engaged() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ads(dir.path());
    let v = report(&ws, &["channels", "--period", "2026-Q3"]);
    assert_eq!(v["params"]["target_accounts"], json!(2));
    let order: Vec<&Value> = rows(&v).iter().map(|r| &r["channel"]).collect();
    assert_eq!(
        order,
        [
            &json!("paid_social"),
            &json!("display"),
            &json!("content_syndication"),
            &json!("paid_search")
        ]
    );
    // Syndication bought per lead without ad spend: cpl from the campaign's cost, 900 / 30.
    close(
        &row(&v, "channel", "content_syndication")["cpl"],
        30.0,
        "syndication cpl",
    );

    let s = row(&v, "channel", "paid_social");
    for (field, want) in [
        ("impressions", 1000.0),
        ("clicks", 20.0),
        ("spend", 100.0),
        ("leads", 2.0),
        ("ctr", 0.02),
        ("cpm", 100.0),
        ("cpc", 5.0),
        ("cpl", 50.0),
        ("view_rate", 0.4),
        ("completion_rate", 0.25),
        ("engagement_rate", 0.05),
        ("accounts_reached", 2.0),
        ("target_accounts_reached", 2.0),
        ("target_reach_pct", 100.0),
        ("previous_impressions", 500.0),
        ("previous_spend", 60.0),
        ("impressions_change_pct", 100.0),
        ("spend_change_pct", 40.0 / 60.0 * 100.0),
        ("ctr_change_pct", 0.0),
    ] {
        close(&s[field], want, field);
    }
    assert_eq!(
        s["top_titles"],
        json!([{"name": "VP Marketing", "people": 2}, {"name": "CMO", "people": 1}])
    );
    assert_eq!(
        s["top_accounts"],
        json!([
            {"account_id": "A1", "name": "One", "activities": 2},
            {"account_id": "A2", "name": "Two", "activities": 1}
        ])
    );

    let d = row(&v, "channel", "display");
    close(&d["impressions"], 500.0, "display impressions");
    close(&d["cpm"], 20.0, "display cpm");
    assert_eq!(d["cpc"], Value::Null, "no clicks: cpc null");
    close(&d["accounts_reached"], 1.0, "display reach");
    close(&d["target_reach_pct"], 0.0, "no target reached");

    let z = row(&v, "channel", "paid_search");
    for field in ["ctr", "cpm", "cpc", "view_rate", "engagement_rate"] {
        assert_eq!(z[field], Value::Null, "zero impressions: {field} null");
    }

    let v = report(
        &ws,
        &["channels", "--period", "2026-Q3", "--by", "campaign"],
    );
    let k = row(&v, "campaign", "K1");
    assert_eq!(k["campaign_name"], "LinkedIn ABM");
    close(&k["spend"], 100.0, "K1 spend");
}

#[test]
fn bad_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ads(dir.path());
    for (args, want) in [
        (vec!["channels", "--period", "2026-Q9"], "--period"),
        (vec!["channels", "--by", "colour"], "--by"),
    ] {
        let out = super::abmeter(&ws, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
