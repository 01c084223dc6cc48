//! Issue 7, web: `abmeter web` on a hand-made workspace, every figure computed by hand.

use serde_json::{Value, json};

use super::close;
use super::engagement::{report, rows, workspace};

/// C1 (contact of A1): in Q2 one page (its first ever); in Q3 a search visit of two pages
/// 20 minutes apart (the first scrolled to 80 by a scroll event), then 40 minutes later a
/// paid-social page of campaign Q3, 10 minutes later an email page of campaign Q3-B (a new
/// campaign: a new session). Visitor v9 (anonymous, reverse IP to A2): one direct page.
fn visits(dir: &std::path::Path) -> std::path::PathBuf {
    workspace(
        dir,
        "",
        &[
            ("accounts.csv", "id,name\nA1,One\nA2,Two\n"),
            ("contacts.csv", "id,account_id\nC1,A1\n"),
            ("ip_ranges.csv", "network,account_id\n203.0.113.0/24,A2\n"),
            (
                "activities.csv",
                "id,timestamp,type,contact_id,anonymous_id,ip,url,referrer,utm_source,utm_medium,utm_campaign,duration_minutes,scroll_depth\n\
                 p0,2026-06-15T10:00:00Z,page_view,C1,,,/a,,,,,,\n\
                 p1,2026-07-01T10:00:00Z,page_view,C1,,,/a,https://www.google.com/search,,,,2,30\n\
                 s1,2026-07-01T10:01:00Z,scroll,C1,,,/a,,,,,,80\n\
                 p2,2026-07-01T10:20:00Z,page_view,C1,,,/b,,,,,,\n\
                 p3,2026-07-01T11:00:00Z,page_view,C1,,,/c,,linkedin,paid_social,Q3,1,\n\
                 p4,2026-07-01T11:10:00Z,page_view,C1,,,/d,,newsletter,email,Q3-B,3,100\n\
                 p5,2026-07-02T09:00:00Z,page_view,,v9,203.0.113.5,/a,,,,,,50\n",
            ),
        ],
    )
}

#[test]
fn sessions_channels_scroll_depth_and_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let ws = visits(dir.path());
    let v = report(&ws, &["web", "--period", "2026-Q3"]);
    let r = &rows(&v)[0];
    for (field, want) in [
        ("sessions", 4.0),
        ("page_views", 5.0),
        // Only v9's session is its visitor's first.
        ("new_visitor_pct", 25.0),
        ("pages_per_session", 1.25),
        // 20 (two pages, no last duration) + 1 + 3 + 0.
        ("avg_session_minutes", 6.0),
        ("bounce_rate", 0.75),
        // p1 (80 by its scroll event), p4 (100), p5 (50).
        ("page_views_with_scroll_depth", 3.0),
        ("scroll_25_pct", 100.0),
        ("scroll_50_pct", 100.0),
        ("scroll_75_pct", 200.0 / 3.0),
        ("scroll_100_pct", 100.0 / 3.0),
        ("previous_sessions", 1.0),
        ("previous_new_visitor_pct", 100.0),
        ("sessions_change_pct", 300.0),
    ] {
        close(&r[field], want, field);
    }
    let mut channels: Vec<(String, Value, u64)> = v["sessions_by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["channel"].as_str().unwrap().to_string(),
                c["campaign"].clone(),
                c["sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    channels.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        channels,
        [
            ("direct".to_string(), Value::Null, 1),
            ("email".to_string(), json!("Q3-B"), 1),
            ("paid_social".to_string(), json!("Q3"), 1),
            ("search".to_string(), Value::Null, 1),
        ]
    );
    assert_eq!(
        v["visits_by_account"],
        json!([
            {"account_id": "A1", "account_name": "One", "sessions": 3,
             "identified_sessions": 3, "reverse_ip_sessions": 0},
            {"account_id": "A2", "account_name": "Two", "sessions": 1,
             "identified_sessions": 0, "reverse_ip_sessions": 1},
        ])
    );
}

#[test]
fn a_shorter_gap_splits_more_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let ws = visits(dir.path());
    std::fs::write(ws.join("abmeter.toml"), "[web]\nsession_gap_minutes = 10\n").unwrap();
    let v = report(&ws, &["web", "--period", "2026-Q3"]);
    // p1 → p2 is 20 minutes: two sessions now.
    close(&rows(&v)[0]["sessions"], 5.0, "sessions");
    let out = super::abmeter(&ws, &["web", "--period", "2026-Q0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--period"));
}
