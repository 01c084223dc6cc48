//! Issue 6, part 4: `abmeter sources`, self-reported ("dark funnel") sources against the
//! tracked first touch (SPEC §6), on a hand-made workspace whose every number was worked out
//! by hand (the arithmetic is in the comments).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::engagement::{approx, fails, report, rows, workspace};
use super::ok;

/// Two accounts, ten contacts and six opportunities with English and Chinese texts.
///
/// Contacts (created, text → category, first touch):
/// - C1 08-01 "Heard on a podcast" → podcast; touches: an email_send 07-01 (0 minutes, not a
///   touch type), a page_view 07-20 `Paid_Social` (→ paid_social), a webinar 07-25 `event`.
/// - C2 08-05 "朋友推荐" → word_of_mouth; no touch → (untracked).
/// - C3 09-10 "G2 reviews" → review_site; a page_view 09-01 without channel → (none).
/// - C4 08-10 blank → no response.
/// - C5 08-20 "no idea" → other; a page_view 08-25 that names only C5's email (resolved to C5
///   by the email, after the contact was created: still its first touch) → organic_search.
/// - C6 09-15 "百度搜索" → search; a lead without account: its page_view 09-14 `paid_search`
///   resolves to the contact but to no account (not an attribution touch), still counted.
/// - C7 06-15 (Q2) "saw you at a conference" → event; no touch.
/// - C8 no created_at, "LinkedIn post" → social; no touch. Counts only without a period.
/// - C9 07-05 no text → no response.
/// - C10 09-01 "My favourite podcast" → podcast; no touch.
///
/// Opportunities (account touches within 180 days before creation: A1 has 07-20
/// paid_social and 07-25 event; A2 has 08-25 organic_search (C5), 09-01 (none) (C3)):
/// - O1 A1 1000 08-10 "Podcast - SaaS Talk" → podcast, first touch paid_social.
/// - O2 A2 2500 09-20 "Saw a LinkedIn post" → social, organic_search.
/// - O3 A2 500 07-02 "朋友推荐的" → word_of_mouth, no touch before 07-02 → (untracked).
/// - O4 A1 700 08-15 blank → no response.
/// - O5 A1 300 05-01 (Q2) "conference" → event, nothing before → (untracked).
/// - O6 A2 200 09-25 "Heard on a podcast" → podcast, organic_search.
fn dark_funnel_workspace(dir: &Path) -> PathBuf {
    workspace(
        dir,
        "",
        &[
            (
                "accounts.csv",
                "id,name,domain\nA1,One,one.com\nA2,Two,two.com\n",
            ),
            (
                "contacts.csv",
                "id,account_id,email,self_reported_source,created_at\n\
                 C1,A1,c1@one.com,Heard on a podcast,2026-08-01T00:00:00Z\n\
                 C2,A1,c2@one.com,朋友推荐,2026-08-05T00:00:00Z\n\
                 C3,A2,c3@two.com,G2 reviews,2026-09-10T00:00:00Z\n\
                 C4,A2,c4@two.com,   ,2026-08-10T00:00:00Z\n\
                 C5,A2,c5@two.com,no idea,2026-08-20T00:00:00Z\n\
                 C6,,,百度搜索,2026-09-15T00:00:00Z\n\
                 C7,A1,,saw you at a conference,2026-06-15T00:00:00Z\n\
                 C8,A1,,LinkedIn post,\n\
                 C9,A1,,,2026-07-05T00:00:00Z\n\
                 C10,A1,,My favourite podcast,2026-09-01T00:00:00Z\n",
            ),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at,self_reported_source\n\
                 O1,A1,1000,Discovery,2026-08-10T00:00:00Z,Podcast - SaaS Talk\n\
                 O2,A2,2500,Discovery,2026-09-20T00:00:00Z,Saw a LinkedIn post\n\
                 O3,A2,500,Discovery,2026-07-02T00:00:00Z,朋友推荐的\n\
                 O4,A1,700,Discovery,2026-08-15T00:00:00Z,\n\
                 O5,A1,300,Discovery,2026-05-01T00:00:00Z,conference\n\
                 O6,A2,200,Discovery,2026-09-25T00:00:00Z,Heard on a podcast\n",
            ),
            (
                "activities.csv",
                "id,timestamp,type,contact_id,email,channel\n\
                 e1,2026-07-01T10:00:00Z,email_send,C1,,email\n\
                 e2,2026-07-20T10:00:00Z,page_view,C1,,Paid_Social\n\
                 e3,2026-07-25T10:00:00Z,webinar_attended,C1,,event\n\
                 e4,2026-09-01T10:00:00Z,page_view,C3,,\n\
                 e5,2026-08-25T10:00:00Z,page_view,,c5@two.com,organic_search\n\
                 e6,2026-09-14T10:00:00Z,page_view,C6,,paid_search\n",
            ),
        ],
    )
}

/// Rows as `category channel contacts opportunities pipeline`.
fn lines(v: &Value) -> Vec<String> {
    rows(v)
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r["self_reported"].as_str().unwrap(),
                r["first_touch_channel"].as_str().unwrap(),
                r["contacts"].as_u64().unwrap(),
                r["opportunities"].as_u64().unwrap(),
                r["pipeline"].as_f64().unwrap()
            )
        })
        .collect()
}

/// The `categories` entry of `name`.
fn category<'a>(v: &'a Value, name: &str) -> &'a Value {
    let found: Vec<&Value> = v["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .filter(|c| c["self_reported"] == name)
        .collect();
    assert_eq!(found.len(), 1, "one category {name}: {v:#}");
    found[0]
}

#[test]
fn self_reported_sources_against_the_tracked_first_touch() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dark_funnel_workspace(dir.path());

    // 2026-Q3: contacts C1, C2, C3, C4, C5, C6, C9, C10 (8; C4 and C9 without a text) and
    // opportunities O1, O2, O3, O4, O6 (5; O4 without): 10 responses, 3 without.
    let v = report(
        &ws,
        &["sources", "--period", "2026-Q3", "--at", "2026-09-30"],
    );
    assert_eq!(v["report"], "sources");
    assert_eq!(v["params"]["period"], "2026-Q3");
    assert_eq!(v["params"]["start"], "2026-07-01");
    assert_eq!(v["params"]["end"], "2026-10-01");
    assert_eq!(v["params"]["responses"], 10);
    assert_eq!(v["params"]["without_response"], 3);
    // Categories in rule order, then by responses (descending), then channel: podcast's
    // paid_social (C1 + O1) first, then its two single responses, `(untracked)` (C10)
    // before `organic_search` (O6).
    assert_eq!(
        lines(&v),
        [
            "podcast paid_social 1 1 1000",
            "podcast (untracked) 1 0 0",
            "podcast organic_search 0 1 200",
            "word_of_mouth (untracked) 1 1 500",
            "review_site (none) 1 0 0",
            "social organic_search 0 1 2500",
            "search paid_search 1 0 0",
            "other organic_search 1 0 0",
        ]
    );
    // Every category, in rule order, with its share of the 10 responses.
    let names: Vec<&str> = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["self_reported"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "podcast",
            "community",
            "word_of_mouth",
            "review_site",
            "social",
            "search",
            "event",
            "other"
        ]
    );
    let podcast = category(&v, "podcast");
    assert_eq!(podcast["contacts"], 2);
    assert_eq!(podcast["opportunities"], 2);
    approx(&podcast["pipeline"], 1200.0);
    approx(&podcast["responses_pct"], 40.0);
    assert_eq!(podcast["top_first_touch_channel"], "paid_social");
    let wom = category(&v, "word_of_mouth");
    approx(&wom["responses_pct"], 20.0);
    approx(&wom["pipeline"], 500.0);
    assert_eq!(wom["top_first_touch_channel"], "(untracked)");
    let social = category(&v, "social");
    approx(&social["responses_pct"], 10.0);
    approx(&social["pipeline"], 2500.0);
    assert_eq!(social["top_first_touch_channel"], "organic_search");
    // A category nobody named: zeros, 0% of the responses, no top channel.
    let community = category(&v, "community");
    assert_eq!(community["contacts"], 0);
    assert_eq!(community["opportunities"], 0);
    approx(&community["pipeline"], 0.0);
    approx(&community["responses_pct"], 0.0);
    assert!(community["top_first_touch_channel"].is_null(), "{v:#}");

    // All time adds C7 (event), C8 (no created_at; social) and O5 (event, 300): 13
    // responses, still 3 without. Social's two single responses tie: `(untracked)` (C8)
    // sorts before `organic_search` (O2) and is the top channel.
    let v = report(&ws, &["sources"]);
    assert!(v["params"]["period"].is_null(), "{v:#}");
    assert!(v["params"]["start"].is_null() && v["params"]["end"].is_null());
    assert_eq!(v["params"]["responses"], 13);
    assert_eq!(v["params"]["without_response"], 3);
    assert_eq!(
        lines(&v),
        [
            "podcast paid_social 1 1 1000",
            "podcast (untracked) 1 0 0",
            "podcast organic_search 0 1 200",
            "word_of_mouth (untracked) 1 1 500",
            "review_site (none) 1 0 0",
            "social (untracked) 1 0 0",
            "social organic_search 0 1 2500",
            "search paid_search 1 0 0",
            "event (untracked) 1 1 300",
            "other organic_search 1 0 0",
        ]
    );
    assert_eq!(
        category(&v, "social")["top_first_touch_channel"],
        "(untracked)"
    );
    approx(&category(&v, "event")["responses_pct"], 200.0 / 13.0);

    // A granularity with --at: September 2026 has C3, C6, C10 and O2, O6.
    let v = report(&ws, &["sources", "--period", "month", "--at", "2026-09-15"]);
    assert_eq!(v["params"]["period"], "2026-09");
    assert_eq!(v["params"]["responses"], 5);
    assert_eq!(v["params"]["without_response"], 0);

    // A period with nobody in it: no rows, and the shares are null, not 0.
    let v = report(&ws, &["sources", "--period", "2025-Q1"]);
    assert!(rows(&v).is_empty(), "{v:#}");
    assert_eq!(v["params"]["responses"], 0);
    assert!(category(&v, "podcast")["responses_pct"].is_null(), "{v:#}");

    // CSV and the terminal table carry the same rows.
    let csv = ok(&ws, &["sources", "--period", "2026-Q3", "--format", "csv"]);
    let mut csv_lines = csv.lines();
    assert_eq!(
        csv_lines.next(),
        Some("self_reported,first_touch_channel,contacts,opportunities,pipeline")
    );
    assert_eq!(csv_lines.count(), 8, "{csv}");
    let table = ok(&ws, &["sources", "--period", "2026-Q3"]);
    assert!(table.contains("word_of_mouth"), "{table}");
    assert!(table.contains("categories:"), "{table}");
}

#[test]
fn configured_rules_replace_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dark_funnel_workspace(dir.path());
    // Only two rules: `analyst` (G2, in any case) and `word_of_mouth` (朋友); everything
    // else is `other`, listed last.
    std::fs::write(
        ws.join("abmeter.toml"),
        "[[dark_funnel.rules]]\ncategory = \"analyst\"\nkeywords = [\"g2\", \"GARTNER\"]\n\
         [[dark_funnel.rules]]\ncategory = \"word_of_mouth\"\nkeywords = [\"朋友\"]\n",
    )
    .unwrap();
    let v = report(
        &ws,
        &["sources", "--period", "2026-Q3", "--at", "2026-09-30"],
    );
    // Other: C5, O2 and O6 organic_search (3: 2,500 + 200); C1 and O1 paid_social (2);
    // C10 (untracked) and C6 paid_search (1 each, by channel).
    assert_eq!(
        lines(&v),
        [
            "analyst (none) 1 0 0",
            "word_of_mouth (untracked) 1 1 500",
            "other organic_search 1 2 2700",
            "other paid_social 1 1 1000",
            "other (untracked) 1 0 0",
            "other paid_search 1 0 0",
        ]
    );
    let names: Vec<&str> = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["self_reported"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["analyst", "word_of_mouth", "other"]);
    // 7 of the 10 responses.
    approx(&category(&v, "other")["responses_pct"], 70.0);
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dark_funnel_workspace(dir.path());
    fails(&ws, &["sources", "--period", "2026-Q5"], &["--period"]);
    fails(&ws, &["sources", "--period", "fortnight"], &["--period"]);
    // --at only picks a period: alone it is a usage error naming --period.
    fails(&ws, &["sources", "--at", "2026-09-30"], &["--period"]);
    fails(
        &ws,
        &["sources", "--at", "yesterday", "--period", "month"],
        &["--at"],
    );
    fails(&ws, &["sources", "--format", "xml"], &["--format"]);
}
