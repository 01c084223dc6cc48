//! Engagement and outcomes by quintile, the sales follow-up of new MQAs and the alert
//! webhook (SPEC §0, §4; docs/metrics.md), end to end through the real binary on tiny
//! hand-made workspaces. Every expected number was worked out by hand from the SPEC (the
//! arithmetic is in the comments), never copied from the program's output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::engagement::{approx, fails, report, row, rows, workspace};
use super::ok;

// ---------------------------------------------------------------------------------------
// 1. Engagement and outcomes: quintiles of Q2 2026 against opportunities created in
//    [2026-07-01, 2026-09-29) — the 90 days after Q2 ends.

// Listed out of id order on purpose: ties are broken by account id, not by file order.
const OUTCOME_ACCOUNTS: &str = "\
id,name,industry
A09,India,Retail
A04,Delta,Software
A12,Lima,Retail
A01,Alpha,Software
A02,Bravo,Software
A03,Charlie,Retail
A05,Echo,Retail
A06,Foxtrot,Software
A07,Golf,Retail
A08,Hotel,Software
A10,Juliet,Software
A11,Kilo,Software
";

// C03 has no seniority but the title CEO → c_level 2.0. Everyone else as given.
const OUTCOME_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
C01,A01,Dana,Dale,,marketing,director
C02,A02,Vic,Vance,,marketing,vp
C03,A03,Cleo,Chase,CEO,,
C04,A04,Max,Mills,,it,manager
C05,A05,Mo,Marsh,,it,manager
C06,A06,Sid,Send,,it,manager
C07,A07,Gina,Gold,,sales,manager
C08,A08,Hal,Hart,,sales,manager
C09,A09,Ivy,Irons,,sales,manager
C10,A10,Jo,Jones,,sales,manager
";

// Weighted minutes in Q2 = [2026-04-01, 2026-07-01) (no tier weights: every tier 1.0):
//   A03 o01 webinar 150 (cap 180), c_level:          150 × 2.0  = 300 (Q2's first instant)
//   A07 o02 dinner 300 → cap 240, manager:           240 × 1.0  = 240 (Q2's last second)
//   A01 o03 event 96 (cap 480), director:             96 × 1.25 = 120
//   A05 o04 webinar 100, manager:                                 100 (o05 is in Q1)
//   A02 o06 webinar 40, vp:                            40 × 1.5  =  60
//   A04 o07 webinar, no duration → 30, manager:                    30
//   A09 o08 anonymous page_view 20, unknown: 20 × 0.5 = 10; o09 download 10;
//       o10, o11 form_submit 5 + 5                     → 10 + 10 + 10 = 30 (ties with A04)
//   A08 o12 form_submit 5 (o13 is in Q3)                           5
//   A06 o14 email_send only: 0 minutes                             0
//   A10 o15 is at 2026-07-01T00:00:00Z, in Q3                      0
//   A11, A12: no activity at all                                   0
const OUTCOME_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,anonymous_id,account_id,duration_minutes
o01,2026-04-01T00:00:00Z,webinar_attended,C03,,,150
o02,2026-06-30T23:59:59Z,dinner_attended,C07,,,300
o03,2026-05-05T10:00:00Z,event_attended,C01,,,96
o04,2026-05-06T10:00:00Z,webinar_attended,C05,,,100
o05,2026-03-31T23:59:59Z,content_download,C05,,,
o06,2026-05-07T10:00:00Z,webinar_attended,C02,,,40
o07,2026-05-08T10:00:00Z,webinar_attended,C04,,,
o08,2026-05-09T10:00:00Z,page_view,,anon-9,A09,20
o09,2026-05-09T11:00:00Z,content_download,C09,,,
o10,2026-05-09T12:00:00Z,form_submit,C09,,,
o11,2026-05-09T13:00:00Z,form_submit,C09,,,
o12,2026-06-15T10:00:00Z,form_submit,C08,,,
o13,2026-07-01T00:00:00Z,webinar_attended,C08,,,
o14,2026-05-01T10:00:00Z,email_send,C06,,,
o15,2026-07-01T00:00:00Z,content_download,C10,,,
";

// The window is [2026-07-01T00:00:00Z, 2026-09-29T00:00:00Z):
//   P01 A03 50,000 won,  created at the window's first instant      → in, won
//   P02 A03 20,000 open                                             → in
//   P03 A07 30,000 won,  created 2026-06-30 (inside Q2 itself)      → out
//   P04 A07 40,000 open, created 2026-09-29T00:00:00Z (window end)  → out
//   P05 A01 10,000 lost, created 2026-09-28T23:59:59Z               → in, not won
//   P06 A02 25,000 won                                              → in, won
//   P07 A09  8,000 won                                              → in, won
//   P08 A11  5,000 open (an account with no activity at all)        → in
//   P09 A12  7,000 open, created 2026-10-15                         → out
//   P10 A05 12,000 open, created 2026-09-29T01:00:00+02:00
//       = 2026-09-28T23:00:00Z                                      → in
const OUTCOME_OPPORTUNITIES: &str = "\
id,account_id,name,amount,stage,type,created_at,close_date,is_closed,is_won,source
P01,A03,Charlie new,50000,Closed Won,new_business,2026-07-01T00:00:00Z,2026-08-30,true,true,marketing
P02,A03,Charlie upsell,20000,Proposal,upsell,2026-08-15T09:00:00Z,,false,false,sales
P03,A07,Golf early,30000,Closed Won,new_business,2026-06-30T12:00:00Z,2026-07-20,true,true,marketing
P04,A07,Golf late,40000,Qualification,new_business,2026-09-29T00:00:00Z,,false,false,sales
P05,A01,Alpha lost,10000,Closed Lost,new_business,2026-09-28T23:59:59Z,2026-09-30,true,false,marketing
P06,A02,Bravo won,25000,Closed Won,new_business,2026-07-20T10:00:00Z,2026-09-01,true,true,marketing
P07,A09,India won,8000,Closed Won,upsell,2026-09-01T10:00:00Z,2026-09-20,true,true,partner
P08,A11,Kilo open,5000,Discovery,new_business,2026-08-01T10:00:00Z,,false,false,other
P09,A12,Lima later,7000,Discovery,new_business,2026-10-15T10:00:00Z,,false,false,other
P10,A05,Echo offset,12000,Proposal,new_business,2026-09-29T01:00:00+02:00,,false,false,sales
";

/// One expected quintile.
struct Bucket {
    quintile: u64,
    accounts: u64,
    min: f64,
    max: f64,
    avg: f64,
    with_opportunity: u64,
    share: f64,
    opportunities: u64,
    pipeline: f64,
    won: f64,
}

#[track_caller]
fn buckets(v: &Value, want: &[Bucket]) {
    let got = rows(v);
    assert_eq!(got.len(), want.len(), "{v:#}");
    for (r, b) in got.iter().zip(want) {
        assert_eq!(r["quintile"], b.quintile, "quintiles in order: {v:#}");
        let q = b.quintile;
        assert_eq!(r["accounts"], b.accounts, "quintile {q} accounts: {r}");
        approx(&r["min_weighted_minutes"], b.min);
        approx(&r["max_weighted_minutes"], b.max);
        approx(&r["avg_weighted_minutes"], b.avg);
        assert_eq!(
            r["accounts_with_opportunity"], b.with_opportunity,
            "quintile {q} accounts_with_opportunity: {r}"
        );
        approx(&r["opportunity_share"], b.share);
        assert_eq!(
            r["opportunities"], b.opportunities,
            "quintile {q} opportunities: {r}"
        );
        approx(&r["pipeline"], b.pipeline);
        approx(&r["won_revenue"], b.won);
    }
}

#[test]
fn outcomes_by_quintile_with_the_ninety_day_opportunity_window() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", OUTCOME_ACCOUNTS),
            ("contacts.csv", OUTCOME_CONTACTS),
            ("activities.csv", OUTCOME_ACTIVITIES),
            ("opportunities.csv", OUTCOME_OPPORTUNITIES),
        ],
    );
    let v = report(&ws, &["engagement", "--outcomes", "--period", "2026-Q2"]);
    assert_eq!(v["report"], "engagement_outcomes");
    assert_eq!(v["params"]["period"], "2026-Q2");
    // Ranked by weighted minutes desc, ties by id:
    //   A03 300, A07 240, A01 120, A05 100, A02 60, A04 30, A09 30, A08 5,
    //   A06 0, A10 0, A11 0, A12 0.
    // ntile(5) of 12 rows: 12 = 5 × 2 + 2 → sizes 3, 3, 2, 2, 2.
    buckets(
        &v,
        &[
            // A03, A07, A01: avg (300 + 240 + 120) / 3 = 220. Opportunities P01, P02 (A03)
            // and P05 (A01): 2 of 3 accounts; pipeline 50,000 + 20,000 + 10,000 = 80,000;
            // won P01 50,000.
            Bucket {
                quintile: 1,
                accounts: 3,
                min: 120.0,
                max: 300.0,
                avg: 220.0,
                with_opportunity: 2,
                share: 2.0 / 3.0,
                opportunities: 3,
                pipeline: 80_000.0,
                won: 50_000.0,
            },
            // A05, A02, A04 (A04 before A09 at 30: the id decides): avg (100 + 60 + 30) / 3
            // = 63.33…; P10 (A05, open) and P06 (A02, won): pipeline 12,000 + 25,000
            // = 37,000, won 25,000.
            Bucket {
                quintile: 2,
                accounts: 3,
                min: 30.0,
                max: 100.0,
                avg: 190.0 / 3.0,
                with_opportunity: 2,
                share: 2.0 / 3.0,
                opportunities: 2,
                pipeline: 37_000.0,
                won: 25_000.0,
            },
            // A09, A08: avg (30 + 5) / 2 = 17.5; P07 (A09, won 8,000).
            Bucket {
                quintile: 3,
                accounts: 2,
                min: 5.0,
                max: 30.0,
                avg: 17.5,
                with_opportunity: 1,
                share: 0.5,
                opportunities: 1,
                pipeline: 8_000.0,
                won: 8_000.0,
            },
            // A06 (0-minute email_send), A10 (activity only in Q3): nothing in the window.
            Bucket {
                quintile: 4,
                accounts: 2,
                min: 0.0,
                max: 0.0,
                avg: 0.0,
                with_opportunity: 0,
                share: 0.0,
                opportunities: 0,
                pipeline: 0.0,
                won: 0.0,
            },
            // A11, A12: no activity at all, still bucketed (bottom). P08 (A11, open 5,000);
            // A12's P09 is after the window.
            Bucket {
                quintile: 5,
                accounts: 2,
                min: 0.0,
                max: 0.0,
                avg: 0.0,
                with_opportunity: 1,
                share: 0.5,
                opportunities: 1,
                pipeline: 5_000.0,
                won: 0.0,
            },
        ],
    );

    // Software only: A01 120, A02 60, A04 30, A08 5, A06 0, A10 0, A11 0 — 7 accounts;
    // ntile(5) of 7: 7 = 5 × 1 + 2 → sizes 2, 2, 1, 1, 1. Segments ignore case.
    for segment in ["industry=Software", "industry=software"] {
        let v = report(
            &ws,
            &[
                "engagement",
                "--outcomes",
                "--period",
                "2026-Q2",
                "--segment",
                segment,
            ],
        );
        assert_eq!(v["report"], "engagement_outcomes");
        buckets(
            &v,
            &[
                // A01, A02: avg 90; P05 (lost 10,000) + P06 (won 25,000): both accounts.
                Bucket {
                    quintile: 1,
                    accounts: 2,
                    min: 60.0,
                    max: 120.0,
                    avg: 90.0,
                    with_opportunity: 2,
                    share: 1.0,
                    opportunities: 2,
                    pipeline: 35_000.0,
                    won: 25_000.0,
                },
                // A04, A08: avg (30 + 5) / 2 = 17.5; no opportunity.
                Bucket {
                    quintile: 2,
                    accounts: 2,
                    min: 5.0,
                    max: 30.0,
                    avg: 17.5,
                    with_opportunity: 0,
                    share: 0.0,
                    opportunities: 0,
                    pipeline: 0.0,
                    won: 0.0,
                },
                // A06.
                Bucket {
                    quintile: 3,
                    accounts: 1,
                    min: 0.0,
                    max: 0.0,
                    avg: 0.0,
                    with_opportunity: 0,
                    share: 0.0,
                    opportunities: 0,
                    pipeline: 0.0,
                    won: 0.0,
                },
                // A10.
                Bucket {
                    quintile: 4,
                    accounts: 1,
                    min: 0.0,
                    max: 0.0,
                    avg: 0.0,
                    with_opportunity: 0,
                    share: 0.0,
                    opportunities: 0,
                    pipeline: 0.0,
                    won: 0.0,
                },
                // A11 with P08.
                Bucket {
                    quintile: 5,
                    accounts: 1,
                    min: 0.0,
                    max: 0.0,
                    avg: 0.0,
                    with_opportunity: 1,
                    share: 1.0,
                    opportunities: 1,
                    pipeline: 5_000.0,
                    won: 0.0,
                },
            ],
        );
    }

    // A contact dimension cannot pick accounts for a quintile.
    fails(
        &ws,
        &[
            "engagement",
            "--outcomes",
            "--period",
            "2026-Q2",
            "--segment",
            "department=it",
        ],
        &["account dimensions", "department"],
    );
}

// ---------------------------------------------------------------------------------------
// 2. Sales follow-up of the accounts newly qualified in 2026-Q3 (default MQA rule: 90-day
//    window, ≥ 120 weighted minutes, ≥ 2 engaged contacts; follow_up_days 7).

const FOLLOW_ACCOUNTS: &str = "\
id,name
A,Alpha Fast
B,Bravo Slow
C,Charlie Steady
D,Delta Early Touch
E,Echo Meeting
G,Golf Again
";

// Everyone is a manager (×1.0): weighted minutes = minutes.
const FOLLOW_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
A1,A,Ann,Able,,marketing,manager
A2,A,Art,Able,,it,manager
B1,B,Bea,Bond,,marketing,manager
B2,B,Ben,Bond,,it,manager
C1,C,Cy,Cole,,marketing,manager
C2,C,Cat,Cole,,it,manager
D1,D,Dee,Dunn,,marketing,manager
D2,D,Don,Dunn,,it,manager
E1,E,Eve,Eads,,marketing,manager
E2,E,Eli,Eads,,it,manager
G1,G,Gus,Gale,,marketing,manager
G2,G,Gil,Gale,,it,manager
";

// A: a1 webinar 60 (A1) → 60, 1 contact; a2 webinar 50 (A2) → 110, 2 contacts (< 120);
//    a3 content_download 10 at 14:00 → 120 ≥ 120 with 2 contacts: qualified at
//    2026-08-10T14:00:00Z. a5 call 2026-08-11T02:00 is 12 h later → followed up, 12 h.
// B: b1 dinner 120 (B1), 1 contact → no; b2 email_open 1 (B2) → 121, 2 contacts: qualified
//    at 2026-08-20T15:30:00Z. b3 email_click is no sales touch; b4 meeting_held comes
//    8 days (192 h) later → not followed up within 7 days.
// C: qualified on 2026-06-15 (2 × dinner 120 = 240, 2 contacts) and still on every day of
//    Q3 (06-15 stays in the window until 06-15 + 89 = 09-12, 07-15 until 10-12): not newly
//    qualified in Q3 → no row.
// D: d1 call 20 (D1) at 08:00 → 20; d2 event 100 (D2) at 09:00 → 120, 2 contacts:
//    qualified at 2026-09-01T09:00:00Z. The 08:00 call is before that moment (no
//    follow-up); d3 meeting_scheduled 2026-09-02T15:00 is 24 + 6 = 30 h later.
// E: e1 webinar 100 (E1) → 100; e2 meeting_held 30 (E2) at 16:00 → 130, 2 contacts: the
//    meeting is itself the qualifying activity, not its own follow-up; no other touch.
// G: qualified 2026-04-10 (dinner 120 + email_open 1, 2 contacts) until 04-10 + 89 days
//    = 07-08, so qualified on Q3's first days but not newly; not qualified from 07-09;
//    g3 webinar 120 (G1) → 120, 1 contact; g4 email_click 2 (G2) → 122, 2 contacts:
//    newly qualified again at 2026-08-01T09:30:00Z. No sales touch.
const FOLLOW_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,duration_minutes
a1,2026-08-10T09:00:00Z,webinar_attended,A1,60
a2,2026-08-10T11:00:00Z,webinar_attended,A2,50
a3,2026-08-10T14:00:00Z,content_download,A1,
a4,2026-08-10T18:00:00Z,content_download,A2,
a5,2026-08-11T02:00:00Z,call,A1,15
a6,2026-08-12T10:00:00Z,meeting_held,A2,45
b1,2026-08-20T10:00:00Z,dinner_attended,B1,
b2,2026-08-20T15:30:00Z,email_open,B2,
b3,2026-08-21T09:00:00Z,email_click,B1,
b4,2026-08-28T15:30:00Z,meeting_held,B1,30
c1,2026-06-15T10:00:00Z,dinner_attended,C1,
c2,2026-06-15T11:00:00Z,dinner_attended,C2,
c3,2026-07-15T10:00:00Z,dinner_attended,C1,
c4,2026-07-15T11:00:00Z,dinner_attended,C2,
c5,2026-08-05T10:00:00Z,call,C1,20
d1,2026-09-01T08:00:00Z,call,D1,20
d2,2026-09-01T09:00:00Z,event_attended,D2,100
d3,2026-09-02T15:00:00Z,meeting_scheduled,D1,
e1,2026-09-10T10:00:00Z,webinar_attended,E1,100
e2,2026-09-10T16:00:00Z,meeting_held,E2,30
g1,2026-04-10T10:00:00Z,dinner_attended,G1,
g2,2026-04-10T11:00:00Z,email_open,G2,
g3,2026-08-01T09:00:00Z,webinar_attended,G1,120
g4,2026-08-01T09:30:00Z,email_click,G2,
";

/// Asserts a follow-up row: qualified_at, and the follow-up touch (at, type, hours) if any.
#[track_caller]
fn follow_row(v: &Value, account: &str, qualified_at: &str, touch: Option<(&str, &str, f64)>) {
    let r = row(v, "account_id", account);
    assert_eq!(r["qualified_at"], qualified_at, "{r}");
    match touch {
        Some((at, kind, hours)) => {
            assert_eq!(r["followed_up"], true, "{r}");
            assert_eq!(r["first_touch_at"], at, "{r}");
            assert_eq!(r["first_touch_type"], kind, "{r}");
            approx(&r["hours_to_follow_up"], hours);
        }
        None => {
            assert_eq!(r["followed_up"], false, "{r}");
            assert!(r["first_touch_at"].is_null(), "no follow-up touch: {r}");
            assert!(r["first_touch_type"].is_null(), "no follow-up touch: {r}");
            assert!(r["hours_to_follow_up"].is_null(), "no follow-up hours: {r}");
        }
    }
}

#[test]
fn mqa_follow_up_of_the_accounts_newly_qualified_in_q3() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", FOLLOW_ACCOUNTS),
            ("contacts.csv", FOLLOW_CONTACTS),
            ("activities.csv", FOLLOW_ACTIVITIES),
        ],
    );
    for args in [
        vec![
            "mqa",
            "--follow-up",
            "--period",
            "2026-Q3",
            "--at",
            "2026-09-30",
        ],
        // The default period is the quarter of --at.
        vec!["mqa", "--follow-up", "--at", "2026-09-30"],
    ] {
        let v = report(&ws, &args);
        assert_eq!(v["report"], "mqa_follow_up", "{args:?}");
        assert_eq!(v["params"]["period"], "2026-Q3", "{args:?}");
        // A, B, D, E, G newly qualified; C was qualified all along.
        assert_eq!(rows(&v).len(), 5, "{v:#}");
        assert!(rows(&v).iter().all(|r| r["account_id"] != "C"), "{v:#}");
        follow_row(
            &v,
            "A",
            "2026-08-10T14:00:00Z",
            Some(("2026-08-11T02:00:00Z", "call", 12.0)),
        );
        assert_eq!(row(&v, "account_id", "A")["account_name"], "Alpha Fast");
        follow_row(&v, "B", "2026-08-20T15:30:00Z", None);
        follow_row(
            &v,
            "D",
            "2026-09-01T09:00:00Z",
            Some(("2026-09-02T15:00:00Z", "meeting_scheduled", 30.0)),
        );
        follow_row(&v, "E", "2026-09-10T16:00:00Z", None);
        follow_row(&v, "G", "2026-08-01T09:30:00Z", None);
        // 5 newly qualified, 2 followed up (A, D): share 2 / 5 = 0.4; median of the
        // followed-up hours [12, 30] = (12 + 30) / 2 = 21.
        assert_eq!(v["newly_qualified"], 5, "{v:#}");
        assert_eq!(v["followed_up"], 2, "{v:#}");
        approx(&v["followed_up_share"], 0.4);
        approx(&v["median_hours"], 21.0);
    }

    // follow_up_days = 9 lets B's meeting 192 h (8 days) later count; E and G still have no
    // other touch. Followed up: A 12, D 30, B 192 → 3 / 5 = 0.6, median 30.
    std::fs::write(ws.join("abmeter.toml"), "[mqa]\nfollow_up_days = 9\n").unwrap();
    let v = report(
        &ws,
        &[
            "mqa",
            "--follow-up",
            "--period",
            "2026-Q3",
            "--at",
            "2026-09-30",
        ],
    );
    follow_row(
        &v,
        "B",
        "2026-08-20T15:30:00Z",
        Some(("2026-08-28T15:30:00Z", "meeting_held", 192.0)),
    );
    follow_row(
        &v,
        "A",
        "2026-08-10T14:00:00Z",
        Some(("2026-08-11T02:00:00Z", "call", 12.0)),
    );
    follow_row(&v, "E", "2026-09-10T16:00:00Z", None);
    assert_eq!(v["newly_qualified"], 5, "{v:#}");
    assert_eq!(v["followed_up"], 3, "{v:#}");
    approx(&v["followed_up_share"], 0.6);
    approx(&v["median_hours"], 30.0);
}

// ---------------------------------------------------------------------------------------
// 3. `alerts --send`: one POST per new alert, recorded, never repeated; a failing receiver
//    leaves the alert for the next run.

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    method: String,
    path: String,
    /// Names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

pub(crate) type Log = Arc<Mutex<Vec<Received>>>;

/// A tiny HTTP/1.1 receiver on 127.0.0.1 answering every request with `status` (e.g.
/// "200 OK"); returns its URL and the log of what it received.
pub(crate) fn receiver(status: &'static str) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let rec = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let rec = rec.clone();
            std::thread::spawn(move || serve(stream, status, &rec));
        }
    });
    (url, log)
}

/// Serves requests on one connection (keep-alive) until the client closes it.
fn serve(stream: TcpStream, status: &str, log: &Log) {
    let mut out = stream.try_clone().unwrap();
    let mut input = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if input.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if input.read_exact(&mut body).is_err() {
            return;
        }
        log.lock().unwrap().push(Received {
            method,
            path,
            headers,
            body,
        });
        let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        if out
            .write_all(answer.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return;
        }
    }
}

pub(crate) fn taken(log: &Log) -> Vec<Received> {
    std::mem::take(&mut *log.lock().unwrap())
}

fn sent_lines(ws: &Path) -> Vec<String> {
    std::fs::read_to_string(ws.join("alerts-sent.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn webhook_config(url: &str) -> String {
    format!("[alerts]\nwebhook_url = \"{url}\"\n")
}

const SEND_CONTACTS: &str = "\
id,account_id,first_name,last_name,title,department,seniority
K1,ACC,Kim,Kent,,marketing,manager
K2,ACC2,Lou,Lane,,it,manager
";

/// Managers (×1.0) only.
/// ACC: 10 (content_download) on the Tuesday of each of 2026-W32..W39, then 50 (webinar of
///      50 min) in W40 (Mon 2026-09-28).
/// ACC2: W33..W40 alternate 5 (form_submit) and 15 (content_download + form_submit),
///      then 60 (webinar of 60 min) in W41 (Mon 2026-10-05).
fn send_activities() -> String {
    let tuesdays = [
        "2026-08-04",
        "2026-08-11",
        "2026-08-18",
        "2026-08-25",
        "2026-09-01",
        "2026-09-08",
        "2026-09-15",
        "2026-09-22",
        "2026-09-29",
    ];
    let mut s = String::from("id,timestamp,type,contact_id,duration_minutes\n");
    for (i, day) in tuesdays[..8].iter().enumerate() {
        s.push_str(&format!("k{i},{day}T10:00:00Z,content_download,K1,\n"));
    }
    s.push_str("k8,2026-09-29T10:00:00Z,webinar_attended,K1,50\n");
    for (i, day) in tuesdays[1..].iter().enumerate() {
        s.push_str(&format!("l{i}a,{day}T10:00:00Z,form_submit,K2,\n"));
        if i % 2 == 1 {
            s.push_str(&format!("l{i}b,{day}T11:00:00Z,content_download,K2,\n"));
        }
    }
    s.push_str("l9,2026-10-06T10:00:00Z,webinar_attended,K2,60\n");
    s
}

#[test]
fn alerts_send_posts_each_new_alert_once() {
    let dir = tempfile::tempdir().unwrap();
    let activities = send_activities();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nACC,Surge One\nACC2,Surge Two\n"),
            ("contacts.csv", SEND_CONTACTS),
            ("activities.csv", &activities),
        ],
    );

    // No webhook_url: a clear error, nothing sent or recorded.
    fails(
        &ws,
        &["alerts", "--at", "2026-09-30", "--send"],
        &["alerts.webhook_url"],
    );
    assert!(sent_lines(&ws).is_empty());

    let (url, log) = receiver("200 OK");
    std::fs::write(ws.join("abmeter.toml"), webhook_config(&url)).unwrap();

    // W40: ACC baseline W32..W39 = 8 × 10 → mean 10, sd 0; z = (50 − 10) / max(0, 1) = 40;
    // ratio 50 / 10 = 5; 50 ≥ 30, 50 ≥ 2 × 10, 40 ≥ 2 → surge.
    // ACC2 in W40: 15 < min_minutes 30 → no surge; mean (0 + 5 + 15 + 5 + 15 + 5 + 15 + 5)
    // / 8 = 8.125 < 30 → no decline. So exactly one alert.
    ok(&ws, &["alerts", "--at", "2026-09-30", "--send"]);
    let got = taken(&log);
    assert_eq!(got.len(), 1, "{got:#?}");
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hook");
    assert_eq!(r.header("idempotency-key"), Some("surge:ACC:2026-W40"));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{r:?}"
    );
    let b = r.json();
    assert_eq!(b["alert"], "surge", "{b:#}");
    assert_eq!(b["account_id"], "ACC");
    assert_eq!(b["account_name"], "Surge One");
    assert_eq!(b["week"], "2026-W40");
    approx(&b["current"], 50.0);
    approx(&b["baseline"], 10.0);
    approx(&b["baseline_sd"], 0.0);
    approx(&b["ratio"], 5.0);
    approx(&b["z"], 40.0);
    assert_eq!(b["top_contacts"][0]["contact_id"], "K1", "{b:#}");
    let lines = sent_lines(&ws);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("surge:ACC:2026-W40"), "{lines:?}");

    // Again: already delivered → no request, success.
    ok(&ws, &["alerts", "--at", "2026-09-30", "--send"]);
    assert!(taken(&log).is_empty());
    assert_eq!(sent_lines(&ws).len(), 1);

    // W40 and W41 at --at 2026-10-07. W41: ACC 0 against mean (7 × 10 + 50) / 8 = 15 < 30
    // → no decline. ACC2 60 against W33..W40 = 5, 15, … → mean 10, every deviation ±5 → sd 5;
    // z = (60 − 10) / 5 = 10, ratio 6 → surge. ACC's W40 alert is already sent.
    // A receiver answering 500: retried (5 attempts), then reported, not recorded.
    let (url500, log500) = receiver("500 Internal Server Error");
    std::fs::write(ws.join("abmeter.toml"), webhook_config(&url500)).unwrap();
    let args = ["alerts", "--at", "2026-10-07", "--weeks", "2", "--send"];
    let err = fails(&ws, &args, &["surge:ACC2:2026-W41"]);
    assert!(
        err.contains("retried") || err.contains("next run"),
        "says it will be retried: {err}"
    );
    let got = taken(&log500);
    assert_eq!(got.len(), 5, "5 attempts: {got:#?}");
    assert!(
        got.iter()
            .all(|r| r.header("idempotency-key") == Some("surge:ACC2:2026-W41")),
        "{got:#?}"
    );
    assert_eq!(sent_lines(&ws).len(), 1);

    // The receiver is back: the ACC2 alert goes out, ACC's is not repeated.
    std::fs::write(ws.join("abmeter.toml"), webhook_config(&url)).unwrap();
    ok(&ws, &args);
    let got = taken(&log);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(
        got[0].header("idempotency-key"),
        Some("surge:ACC2:2026-W41")
    );
    let b = got[0].json();
    assert_eq!(b["alert"], "surge");
    assert_eq!(b["account_id"], "ACC2");
    assert_eq!(b["account_name"], "Surge Two");
    assert_eq!(b["week"], "2026-W41");
    approx(&b["current"], 60.0);
    approx(&b["baseline"], 10.0);
    approx(&b["baseline_sd"], 5.0);
    approx(&b["ratio"], 6.0);
    approx(&b["z"], 10.0);
    let lines = sent_lines(&ws);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("surge:ACC2:2026-W41"), "{lines:?}");
}
