//! Attribution and ROI (SPEC §7, §11 "Attribution") end to end — `abmeter attribution` under
//! every model, `--by campaign`, `--credit revenue`, and `abmeter roi` with spread campaign
//! costs and `--what-if` — each on a tiny workspace whose every number was worked out by hand
//! from the SPEC (the arithmetic is in the comments), never copied from the program's output.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::engagement::{approx, fails, report, row, rows, workspace};

/// Every model `--model all` compares under pipeline credit (full_path credits revenue only).
const PIPELINE_MODELS: [&str; 10] = [
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "markov",
    "shapley",
    "linear_unique",
];

/// `abmeter attribution --model M --period 2026-Q3 --at 2026-09-30 [extra] --format json`.
/// `--at` only pins the end of the non-converting window of the data-driven models (the end
/// of P or the day after --at, whichever is first: here both are 2026-10-01).
fn attribution(ws: &Path, model: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "attribution",
        "--model",
        model,
        "--period",
        "2026-Q3",
        "--at",
        "2026-09-30",
    ];
    args.extend_from_slice(extra);
    let v = report(ws, &args);
    assert_eq!(v["report"], "attribution", "{v:#}");
    v
}

/// The number in `field` of the row whose `key_col` is `key`; 0 when there is no such row
/// (a touch credited nothing may or may not get a row).
fn num(v: &Value, key_col: &str, key: &str, field: &str) -> f64 {
    let found: Vec<&Value> = rows(v).iter().filter(|r| r[key_col] == key).collect();
    assert!(found.len() <= 1, "several rows {key_col} = {key}: {v:#}");
    found.first().map_or(0.0, |r| {
        r[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field} of {key} is not a number: {v:#}"))
    })
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() < 1e-9,
        "{what}: expected {want}, got {got}"
    );
}

/// Asserts a single-model report of ONE opportunity of `amount`: each key in `want` got
/// `share` of the opportunity, `share × amount` of pipeline, and of revenue if `won` (else 0);
/// every other key got nothing; the shares sum to 1.
#[track_caller]
fn one_opportunity_credit(v: &Value, key_col: &str, amount: f64, won: bool, want: &[(&str, f64)]) {
    let model = v["params"]["model"].to_string();
    for (k, share) in want {
        let what = format!("{model} {k}");
        close(num(v, key_col, k, "opportunities"), *share, &what);
        close(num(v, key_col, k, "pipeline"), share * amount, &what);
        let revenue = if won { share * amount } else { 0.0 };
        close(num(v, key_col, k, "revenue"), revenue, &what);
    }
    let mut total = 0.0;
    for r in rows(v) {
        let k = r[key_col].as_str().expect("key");
        let opps = r["opportunities"].as_f64().expect("opportunities");
        total += opps;
        if !want.iter().any(|(w, _)| *w == k) {
            close(opps, 0.0, &format!("{model} {k} must get no credit: {v:#}"));
        }
    }
    close(total, 1.0, &format!("{model}: shares sum to 1"));
}

// ---------------------------------------------------------------------------------------
// 1. One opportunity, every rule-based model, pipeline credit.

const ONE_ACCOUNT: &str = "id,name\nA1,Acme\n";
const ONE_CONTACT: &str = "id,account_id,first_name\nC1,A1,Ann\n";

// O1: 1000, created 2026-08-15T12:00Z. Counted touches (Δ = days to the creation):
//   t1 2026-08-01T12:00 page_view        Paid_Social → paid_social  Δ = 14      FT
//   t2 2026-08-08T00:00 email_click      Email       → email        Δ = 7.5
//   t3 2026-08-10T12:00 form_submit      web                        Δ = 5       LC
//   t4 2026-08-14T06:00 webinar_attended EMAIL       → email        Δ = 1.25
//   t5 2026-08-15T12:00 page_view        Direct      → direct       Δ = 0       OC (at creation: counts)
// Not touches for pipeline credit:
//   x1 email_send (0 catalogue minutes); x2 2026-01-27T12:00 = exactly 200 days before the
//   creation (Jan 27 → Aug 15: 4 + 28 + 31 + 30 + 31 + 30 + 31 + 15 = 200), outside the 180;
//   x3 2026-08-20 meeting_held, after the creation.
const ONE_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,channel
t1,2026-08-01T12:00:00Z,page_view,C1,Paid_Social
t2,2026-08-08T00:00:00Z,email_click,C1,Email
t3,2026-08-10T12:00:00Z,form_submit,C1,web
x1,2026-08-12T00:00:00Z,email_send,C1,newsletter
t4,2026-08-14T06:00:00Z,webinar_attended,C1,EMAIL
t5,2026-08-15T12:00:00Z,page_view,C1,Direct
x2,2026-01-27T12:00:00Z,page_view,C1,display
x3,2026-08-20T09:00:00Z,meeting_held,C1,sales
";

fn one_opportunity_workspace(dir: &Path, won: bool) -> PathBuf {
    let opportunities = if won {
        "id,account_id,amount,stage,created_at,close_date,is_closed,is_won\n\
         O1,A1,1000,Closed Won,2026-08-15T12:00:00Z,2026-09-01,true,true\n"
    } else {
        "id,account_id,amount,stage,created_at,close_date,is_closed,is_won\n\
         O1,A1,1000,Proposal,2026-08-15T12:00:00Z,2026-11-30,false,false\n"
    };
    workspace(
        dir,
        "",
        &[
            ("accounts.csv", ONE_ACCOUNT),
            ("contacts.csv", ONE_CONTACT),
            ("opportunities.csv", opportunities),
            ("activities.csv", ONE_ACTIVITIES),
        ],
    )
}

/// The expected shares of the five touches t1..t5 of section 1 per rule-based model.
fn rule_shares() -> Vec<(&'static str, Vec<(&'static str, f64)>)> {
    // time_decay, h = 7: w = 2^(−Δ/7)
    //   t1 2^(−2) = 0.25; t2 2^(−7.5/7) ≈ 0.475848; t3 2^(−5/7) ≈ 0.609507;
    //   t4 2^(−1.25/7) ≈ 0.883577; t5 2^0 = 1; Σ ≈ 3.218932
    //   paid_social 0.25/Σ ≈ 0.077666; email (t2 + t4)/Σ ≈ 0.147828 + 0.274494 = 0.422322;
    //   web ≈ 0.189351; direct 1/Σ ≈ 0.310662.
    let w = [
        2f64.powf(-14.0 / 7.0),
        2f64.powf(-7.5 / 7.0),
        2f64.powf(-5.0 / 7.0),
        2f64.powf(-1.25 / 7.0),
        2f64.powf(0.0 / 7.0),
    ];
    let s: f64 = w.iter().sum();
    assert!((s - 3.218_931_894_355_082).abs() < 1e-12);
    vec![
        // all to t1
        ("first_touch", vec![("paid_social", 1.0)]),
        // all to t5
        ("last_touch", vec![("direct", 1.0)]),
        // t5 is direct ("Direct" lower-cased): the last non-direct touch is t4 (email)
        ("last_non_direct", vec![("email", 1.0)]),
        // 1/5 each; email holds t2 and t4
        (
            "linear",
            vec![
                ("paid_social", 0.2),
                ("email", 0.4),
                ("web", 0.2),
                ("direct", 0.2),
            ],
        ),
        (
            "time_decay",
            vec![
                ("paid_social", w[0] / s),
                ("email", (w[1] + w[3]) / s),
                ("web", w[2] / s),
                ("direct", w[4] / s),
            ],
        ),
        // 0.4 first, 0.4 last, 0.2 / 3 to each of t2, t3, t4: email 2/15, web 1/15
        (
            "position_based",
            vec![
                ("paid_social", 0.4),
                ("email", 2.0 / 15.0),
                ("web", 1.0 / 15.0),
                ("direct", 0.4),
            ],
        ),
        // FT t1 0.3, LC t3 0.3, OC t5 0.3, 0.1 over t2 and t4 (no milestone): email 0.1
        (
            "w_shaped",
            vec![
                ("paid_social", 0.3),
                ("email", 0.1),
                ("web", 0.3),
                ("direct", 0.3),
            ],
        ),
    ]
}

#[test]
fn one_opportunity_under_every_rule_based_model() {
    let dir = tempfile::tempdir().unwrap();
    let ws = one_opportunity_workspace(dir.path(), false);
    for (model, want) in rule_shares() {
        let v = attribution(&ws, model, &[]);
        assert_eq!(v["params"]["model"], model);
        assert_eq!(v["params"]["credit"], "pipeline");
        assert_eq!(v["params"]["period"], "2026-Q3");
        // Not won: revenue 0 everywhere.
        one_opportunity_credit(&v, "channel", 1000.0, false, &want);
        // The excluded activities give their channels no row at all, and nothing is
        // unattributed.
        for k in [
            "newsletter",
            "display",
            "sales",
            "Direct",
            "Email",
            "unattributed",
        ] {
            assert!(
                rows(&v).iter().all(|r| r["channel"] != k),
                "{model}: no row {k}: {v:#}"
            );
        }
    }
    // Linear: four rows, one per channel of t1..t5.
    let v = attribution(&ws, "linear", &[]);
    assert_eq!(rows(&v).len(), 4, "{v:#}");
    approx(&row(&v, "channel", "email")["pipeline"], 400.0);
}

#[test]
fn a_won_opportunity_carries_its_share_of_revenue_too() {
    let dir = tempfile::tempdir().unwrap();
    let ws = one_opportunity_workspace(dir.path(), true);
    // Pipeline credit: the same shares, and revenue = share × 1000 since O1 is won.
    for (model, want) in rule_shares() {
        let v = attribution(&ws, model, &[]);
        one_opportunity_credit(&v, "channel", 1000.0, true, &want);
    }
    // Revenue credit (closed 2026-09-01, in Q3): touches run to the end of the close date,
    // so x3 (meeting_held 2026-08-20, channel sales) joins as the last touch; x1 and x2 still
    // do not count. first_touch: paid_social; last_touch: sales; linear: 6 touches, 1/6 each
    // (email 2/6).
    let v = attribution(&ws, "first_touch", &["--credit", "revenue"]);
    assert_eq!(v["params"]["credit"], "revenue");
    one_opportunity_credit(&v, "channel", 1000.0, true, &[("paid_social", 1.0)]);
    let v = attribution(&ws, "last_touch", &["--credit", "revenue"]);
    one_opportunity_credit(&v, "channel", 1000.0, true, &[("sales", 1.0)]);
    let v = attribution(&ws, "linear", &["--credit", "revenue"]);
    one_opportunity_credit(
        &v,
        "channel",
        1000.0,
        true,
        &[
            ("paid_social", 1.0 / 6.0),
            ("email", 2.0 / 6.0),
            ("web", 1.0 / 6.0),
            ("direct", 1.0 / 6.0),
            ("sales", 1.0 / 6.0),
        ],
    );
    // Not won in Q2: revenue credit of Q2 has nothing; pipeline credit of Q2 neither.
    for credit in ["pipeline", "revenue"] {
        let v = report(
            &ws,
            &[
                "attribution",
                "--model",
                "linear",
                "--credit",
                credit,
                "--period",
                "2026-Q2",
            ],
        );
        assert!(rows(&v).is_empty(), "{credit} in Q2: {v:#}");
    }
}

// ---------------------------------------------------------------------------------------
// 2. Full path (revenue credit only): the SPEC fixture a(FT) b c(LC) d(OC) e f(CW).

// O1: 2000, created 2026-08-15T12:00Z, won, closed 2026-09-10.
//   a 07-01 page_view (FT), b 07-10 email_open, c 07-20 content_download (LC),
//   d 08-15T11:00 meeting_held (OC: last touch before the creation), e 08-25 call,
//   f 09-10T23:00 email_click (CW: the close date covers its whole day),
//   g 09-11T00:00 page_view: after the close date, not a touch.
const PATH_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,channel
a,2026-07-01T10:00:00Z,page_view,C1,a
b,2026-07-10T10:00:00Z,email_open,C1,b
c,2026-07-20T10:00:00Z,content_download,C1,c
d,2026-08-15T11:00:00Z,meeting_held,C1,d
e,2026-08-25T10:00:00Z,call,C1,e
f,2026-09-10T23:00:00Z,email_click,C1,f
g,2026-09-11T00:00:00Z,page_view,C1,g
";

#[test]
fn full_path_on_the_spec_fixture_with_revenue_credit() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", ONE_ACCOUNT),
            ("contacts.csv", ONE_CONTACT),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at,close_date,is_closed,is_won\n\
                 O1,A1,2000,Closed Won,2026-08-15T12:00:00Z,2026-09-10,true,true\n",
            ),
            ("activities.csv", PATH_ACTIVITIES),
        ],
    );
    // 0.225 each to a, c, d, f; 0.1 over b and e = 0.05 each.
    // Revenue: 0.225 × 2000 = 450, 0.05 × 2000 = 100.
    let v = attribution(&ws, "full_path", &["--credit", "revenue"]);
    assert_eq!(v["params"]["model"], "full_path");
    one_opportunity_credit(
        &v,
        "channel",
        2000.0,
        true,
        &[
            ("a", 0.225),
            ("b", 0.05),
            ("c", 0.225),
            ("d", 0.225),
            ("e", 0.05),
            ("f", 0.225),
        ],
    );
    approx(&row(&v, "channel", "f")["revenue"], 450.0);
    approx(&row(&v, "channel", "b")["revenue"], 100.0);
    assert!(rows(&v).iter().all(|r| r["channel"] != "g"), "{v:#}");

    // W-shaped under revenue credit gives touches after OC (e, f) nothing:
    // a, c, d 0.3 each; the 0.1 goes to b alone (the only no-milestone touch between FT and OC).
    let v = attribution(&ws, "w_shaped", &["--credit", "revenue"]);
    one_opportunity_credit(
        &v,
        "channel",
        2000.0,
        true,
        &[("a", 0.3), ("b", 0.1), ("c", 0.3), ("d", 0.3)],
    );

    // Full path needs the close: refused under pipeline credit, naming --credit revenue.
    let ws_args = ["attribution", "--model", "full_path", "--period", "2026-Q3"];
    fails(&ws, &ws_args, &["--credit revenue"]);
    let mut explicit = ws_args.to_vec();
    explicit.extend(["--credit", "pipeline"]);
    fails(&ws, &explicit, &["--credit revenue"]);
}

// ---------------------------------------------------------------------------------------
// 3. Unattributed opportunities, and `--model all`.

// O1 (A1, 1000, created 2026-08-15, won 2026-09-20): touches paid_social, web (LC), direct.
// O2 (A2, 500, created 2026-07-05, won 2026-09-25): no touch at all → unattributed.
// O3 (A3, 7000, created 2026-05-01, Q2, open): not in Q3's pipeline.
// A3 (a paid_social touch) and A4 (a web touch) are non-converting journeys. (Their
// channels are among O1's: Shapley's Σφ = v(every channel) must not be 0, which it would be
// if no converting journey touched every channel.)
const MIXED_ACCOUNTS: &str = "id,name\nA1,Acme\nA2,Beta\nA3,Gamma\nA4,Delta\n";
const MIXED_CONTACTS: &str = "id,account_id\nC1,A1\nC2,A2\nC3,A3\nC4,A4\n";
const MIXED_OPPORTUNITIES: &str = "\
id,account_id,amount,stage,created_at,close_date,is_closed,is_won
O1,A1,1000,Closed Won,2026-08-15T12:00:00Z,2026-09-20,true,true
O2,A2,500,Closed Won,2026-07-05T09:00:00Z,2026-09-25,true,true
O3,A3,7000,Proposal,2026-05-01T09:00:00Z,2026-12-15,false,false
";
const MIXED_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,channel
p1,2026-08-01T10:00:00Z,page_view,C1,paid_social
p2,2026-08-05T10:00:00Z,form_submit,C1,web
p3,2026-08-10T10:00:00Z,page_view,C1,direct
q1,2026-04-20T10:00:00Z,page_view,C3,paid_social
n1,2026-09-01T10:00:00Z,email_open,C4,web
";

#[test]
fn unattributed_opportunities_and_every_model_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", MIXED_ACCOUNTS),
            ("contacts.csv", MIXED_CONTACTS),
            ("opportunities.csv", MIXED_OPPORTUNITIES),
            ("activities.csv", MIXED_ACTIVITIES),
        ],
    );
    // Under every single model: one row `unattributed` holding O2 whole
    // (opportunities 1, pipeline 500, revenue 500 since O2 is won).
    for model in PIPELINE_MODELS {
        let v = attribution(&ws, model, &[]);
        let u = row(&v, "channel", "unattributed");
        approx(&u["opportunities"], 1.0);
        approx(&u["pipeline"], 500.0);
        approx(&u["revenue"], 500.0);
        // O1 and O2 credited in full: Σ opportunities = 2, Σ pipeline = 1500.
        let opps: f64 = rows(&v)
            .iter()
            .map(|r| r["opportunities"].as_f64().unwrap())
            .sum();
        let pipeline: f64 = rows(&v)
            .iter()
            .map(|r| r["pipeline"].as_f64().unwrap())
            .sum();
        close(opps, 2.0, &format!("{model}: Σ opportunities"));
        close(pipeline, 1500.0, &format!("{model}: Σ pipeline"));
    }
    for model in ["full_path", "w_shaped", "markov"] {
        let v = attribution(&ws, model, &["--credit", "revenue"]);
        let u = row(&v, "channel", "unattributed");
        approx(&u["opportunities"], 1.0);
        approx(&u["revenue"], 500.0);
    }

    // --model all (the default): one field per model, pipeline under pipeline credit.
    for args in [vec!["attribution", "--model", "all"], vec!["attribution"]] {
        let mut args = args;
        args.extend(["--period", "2026-Q3", "--at", "2026-09-30"]);
        let v = report(&ws, &args);
        assert_eq!(v["params"]["model"], "all", "{args:?}");
        assert_eq!(v["params"]["amount"], "pipeline");
        side_by_side(&v, &PIPELINE_MODELS, 1500.0);
        // Linear on O1: 1000 / 3 each to paid_social, web, direct; first_touch: all to
        // paid_social; unattributed 500 under every model.
        approx(&row(&v, "channel", "web")["linear"], 1000.0 / 3.0);
        approx(&row(&v, "channel", "paid_social")["first_touch"], 1000.0);
        approx(&row(&v, "channel", "web")["first_touch"], 0.0);
        let u = row(&v, "channel", "unattributed");
        for m in PIPELINE_MODELS {
            approx(&u[m], 500.0);
        }
    }
    // Revenue credit adds full_path; won O1 and O2 close in Q3: 1000 + 500 = 1500.
    let v = attribution(&ws, "all", &["--credit", "revenue"]);
    assert_eq!(v["params"]["amount"], "revenue");
    let mut models = PIPELINE_MODELS.to_vec();
    models.push("full_path");
    side_by_side(&v, &models, 1500.0);
    // Full path over paid_social (FT) web (LC) direct (OC = CW): no other touch, so the
    // 10% goes to the milestones in proportion: FT 0.225, LC 0.225, direct 0.45 → scaled by
    // 1 / 0.9: 0.25, 0.25, 0.5 of 1000.
    approx(&row(&v, "channel", "direct")["full_path"], 500.0);
    approx(&row(&v, "channel", "web")["full_path"], 250.0);
    approx(&row(&v, "channel", "paid_social")["full_path"], 250.0);

    // --account (the dashboard's account page): A1's O1 alone, linear 1000 / 3 per touch;
    // A2's O2 has no touch: all unattributed. The data-driven models learn from every
    // account's journeys, so they refuse it.
    let a1 = attribution(&ws, "rules", &["--account", "A1"]);
    assert_eq!(a1["params"]["account"], "A1");
    assert_eq!(a1["params"]["opportunities"], 1);
    approx(&row(&a1, "channel", "web")["linear"], 1000.0 / 3.0);
    approx(&row(&a1, "channel", "paid_social")["first_touch"], 1000.0);
    side_by_side(&a1, &PIPELINE_MODELS[..7], 1000.0);
    assert!(rows(&a1).iter().all(|r| r["channel"] != "unattributed"));
    let a2 = attribution(&ws, "linear", &["--account", "A2"]);
    approx(&row(&a2, "channel", "unattributed")["pipeline"], 500.0);
    assert_eq!(rows(&a2).len(), 1);
    fails(
        &ws,
        &[
            "attribution",
            "--model",
            "markov",
            "--account",
            "A1",
            "--period",
            "2026-Q3",
        ],
        &["data-driven"],
    );
    fails(
        &ws,
        &[
            "attribution",
            "--model",
            "rules",
            "--account",
            "A9",
            "--period",
            "2026-Q3",
        ],
        &["A9"],
    );
}

/// Every row of a `--model all` report has exactly the key and one number per model, and
/// each model's column sums (unattributed included) to `total`.
#[track_caller]
fn side_by_side(v: &Value, models: &[&str], total: f64) {
    assert!(!rows(v).is_empty(), "{v:#}");
    for r in rows(v) {
        let obj = r.as_object().expect("row object");
        let mut fields: Vec<&str> = obj.keys().map(String::as_str).collect();
        fields.sort_unstable();
        let mut want: Vec<&str> = models.to_vec();
        want.push("channel");
        want.sort_unstable();
        assert_eq!(fields, want, "fields of {r}");
    }
    for m in models {
        let sum: f64 = rows(v).iter().map(|r| r[*m].as_f64().unwrap()).sum();
        close(sum, total, &format!("Σ {m}"));
    }
}

// ---------------------------------------------------------------------------------------
// 4. Markov: the worked example of docs/attribution.md (Bryl).

// B1: c1 > c2 > c3, then O1 (3000) created 2026-08-15: a converting journey.
// B2: c1 only; B3: c2 > c3 only: non-converting journeys (touches in the 180 days before
// the end of Q3, no opportunity).
const BRYL_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,channel
b1,2026-08-01T10:00:00Z,page_view,C1,c1
b2,2026-08-05T10:00:00Z,email_click,C1,c2
b3,2026-08-10T10:00:00Z,webinar_attended,C1,c3
b4,2026-09-01T10:00:00Z,page_view,C2,c1
b5,2026-09-02T10:00:00Z,email_click,C3,c2
b6,2026-09-03T10:00:00Z,webinar_attended,C3,c3
";

#[test]
fn markov_reproduces_the_worked_example() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,Acme\nA2,Beta\nA3,Gamma\n"),
            ("contacts.csv", "id,account_id\nC1,A1\nC2,A2\nC3,A3\n"),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at\nO1,A1,3000,Discovery,2026-08-15T12:00:00Z\n",
            ),
            ("activities.csv", BRYL_ACTIVITIES),
        ],
    );
    // Transitions: start→c1 2, start→c2 1; c1→c2 1, c1→null 1; c2→c3 2;
    // c3→conv 1, c3→null 1.
    // P(conv) = 2/3 · 1/2 · 1 · 1/2 + 1/3 · 1 · 1/2 = 1/6 + 1/6 = 1/3.
    // Without c1: only start→c2→c3→conv = 1/3 · 1/2 = 1/6 → RE = 1 − (1/6)/(1/3) = 0.5.
    // Without c2 or c3: 0 → RE = 1.
    // Shares 0.5/2.5 = 0.2, 1/2.5 = 0.4, 0.4 of 1 conversion; pipeline 600, 1200, 1200.
    let v = attribution(&ws, "markov", &[]);
    for (c, re, share) in [("c1", 0.5, 0.2), ("c2", 1.0, 0.4), ("c3", 1.0, 0.4)] {
        let r = row(&v, "channel", c);
        approx(&r["removal_effect"], re);
        approx(&r["opportunities"], share);
        approx(&r["pipeline"], share * 3000.0);
        approx(&r["revenue"], 0.0);
    }
    assert_eq!(rows(&v).len(), 3, "{v:#}");

    // SPEC §11: non-converting journeys end at the end of P or the day after --at, whichever
    // is first. At 2026-09-01 the window ends 2026-09-02: A3's touches (2 and 3 September)
    // are not yet a journey, A2's (1 September) is. Journeys c1 > c2 > c3 (converting) and
    // c1 (not): start→c1 2; c1→c2 1, c1→null 1; c2→c3 1; c3→conv 1. Removing any channel
    // leaves no way to convert: RE 1 each, a third of the conversion each.
    let v = report(
        &ws,
        &[
            "attribution",
            "--model",
            "markov",
            "--period",
            "2026-Q3",
            "--at",
            "2026-09-01",
        ],
    );
    for c in ["c1", "c2", "c3"] {
        let r = row(&v, "channel", c);
        approx(&r["removal_effect"], 1.0);
        approx(&r["opportunities"], 1.0 / 3.0);
    }
}

// ---------------------------------------------------------------------------------------
// 5. Shapley and linear_unique on two channels.

// Journeys (touch channels; consecutive repeats merge):
//   A1: a            → O1 100   converting
//   A2: a                       not
//   A3: b                       not
//   A4: a > a > b = a > b → O4 200 converting
//   A5: b > a        → O5 300   converting
// Exactly-set conversion rates: v({a}) = 1/2 (A1 of A1, A2); v({b}) = 0/1 = 0;
// v({a, b}) = 2/2 = 1 (A4, A5); v(∅) = 0.
// φ_a = ½ (v(a) − v(∅)) + ½ (v(ab) − v(b)) = ½ · ½ + ½ · 1 = 0.75
// φ_b = ½ (v(b) − v(∅)) + ½ (v(ab) − v(a)) = 0 + ½ · ½ = 0.25;  Σφ = 1
// Shapley credit: 3 conversions × 0.75 = 2.25 (a), × 0.25 = 0.75 (b);
// pipeline 600 × 0.75 = 450, × 0.25 = 150.
// linear_unique: A1 → a 1 (100); A4 → a ½, b ½ (100, 100); A5 → a ½, b ½ (150, 150):
// a 2 opportunities, 350; b 1 opportunity, 250.
const SHAPLEY_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,channel
s1,2026-08-01T10:00:00Z,page_view,C1,a
s2,2026-09-01T10:00:00Z,page_view,C2,a
s3,2026-09-02T10:00:00Z,page_view,C3,b
s4,2026-08-01T10:00:00Z,page_view,C4,a
s5,2026-08-02T10:00:00Z,page_view,C4,a
s6,2026-08-03T10:00:00Z,email_open,C4,b
s7,2026-08-01T10:00:00Z,email_open,C5,b
s8,2026-08-02T10:00:00Z,page_view,C5,a
";

#[test]
fn shapley_and_linear_unique_on_two_channels() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,A\nA2,B\nA3,C\nA4,D\nA5,E\n"),
            (
                "contacts.csv",
                "id,account_id\nC1,A1\nC2,A2\nC3,A3\nC4,A4\nC5,A5\n",
            ),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at\n\
                 O1,A1,100,Discovery,2026-08-10T12:00:00Z\n\
                 O4,A4,200,Discovery,2026-08-10T12:00:00Z\n\
                 O5,A5,300,Discovery,2026-08-10T12:00:00Z\n",
            ),
            ("activities.csv", SHAPLEY_ACTIVITIES),
        ],
    );
    let v = attribution(&ws, "shapley", &[]);
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    let a = row(&v, "channel", "a");
    approx(&a["shapley_value"], 0.75);
    approx(&a["opportunities"], 2.25);
    approx(&a["pipeline"], 450.0);
    let b = row(&v, "channel", "b");
    approx(&b["shapley_value"], 0.25);
    approx(&b["opportunities"], 0.75);
    approx(&b["pipeline"], 150.0);

    let v = attribution(&ws, "linear_unique", &[]);
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    approx(&row(&v, "channel", "a")["opportunities"], 2.0);
    approx(&row(&v, "channel", "a")["pipeline"], 350.0);
    approx(&row(&v, "channel", "b")["opportunities"], 1.0);
    approx(&row(&v, "channel", "b")["pipeline"], 250.0);

    // Rule-based linear credits every touch, repeats included, and ignores the
    // non-converting journeys: A1 a 1; A4 a 2/3, b 1/3; A5 b ½, a ½.
    // a = 1 + 2/3 + ½ = 13/6, b = 1/3 + ½ = 5/6; pipeline a = 100 + 400/3 + 150, b = 200/3 + 150.
    let v = attribution(&ws, "linear", &[]);
    approx(&row(&v, "channel", "a")["opportunities"], 13.0 / 6.0);
    approx(&row(&v, "channel", "b")["opportunities"], 5.0 / 6.0);
    approx(
        &row(&v, "channel", "a")["pipeline"],
        100.0 + 400.0 / 3.0 + 150.0,
    );
    approx(&row(&v, "channel", "b")["pipeline"], 200.0 / 3.0 + 150.0);
}

// Shapley's Σφ = v(every channel): with journeys `a` → O1 (100) and `b` → O2 (200) and none
// touching both, v({a}) = v({b}) = 1, v({a, b}) = 0: φ_a = ½ (1 − 0) + ½ (0 − 1) = 0 = φ_b,
// Σφ = 0 — nothing to scale by. Alone it is refused (docs: "group channels, or use markov or
// linear_unique"); side by side its column is empty and params.unavailable says why.
// Markov on the same journeys: start→a ½, start→b ½, each → conversion; removing either
// leaves P(conv) = ½ → RE 0.5 each, shares ½: pipeline 300 × ½ = 150 each (total value ×
// the removal-effect share, SPEC §11, not each journey's own value).
#[test]
fn shapley_without_a_journey_touching_every_channel_cannot_be_scaled() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,A\nA2,B\n"),
            ("contacts.csv", "id,account_id\nC1,A1\nC2,A2\n"),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at\n\
                 O1,A1,100,Discovery,2026-08-10T12:00:00Z\n\
                 O2,A2,200,Discovery,2026-08-10T12:00:00Z\n",
            ),
            (
                "activities.csv",
                "id,timestamp,type,contact_id,channel\n\
                 u1,2026-08-01T10:00:00Z,page_view,C1,a\n\
                 u2,2026-08-01T10:00:00Z,page_view,C2,b\n",
            ),
        ],
    );
    fails(
        &ws,
        &[
            "attribution",
            "--model",
            "shapley",
            "--period",
            "2026-Q3",
            "--at",
            "2026-09-30",
        ],
        &["shapley", "linear_unique"],
    );
    let v = attribution(&ws, "all", &[]);
    assert!(v["params"]["unavailable"]["shapley"].is_string(), "{v:#}");
    assert_eq!(rows(&v).len(), 2, "{v:#}");
    for r in rows(&v) {
        assert!(r["shapley"].is_null(), "{r}");
    }
    approx(&row(&v, "channel", "a")["linear"], 100.0);
    approx(&row(&v, "channel", "b")["linear"], 200.0);
    approx(&row(&v, "channel", "a")["linear_unique"], 100.0);
    approx(&row(&v, "channel", "a")["markov"], 150.0);
    approx(&row(&v, "channel", "b")["markov"], 150.0);
    let v = attribution(&ws, "markov", &[]);
    approx(&row(&v, "channel", "a")["removal_effect"], 0.5);
    approx(&row(&v, "channel", "a")["opportunities"], 1.0);
}

// ---------------------------------------------------------------------------------------
// 6. --by campaign.

#[test]
fn by_campaign_keys_by_campaign_id() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", ONE_ACCOUNT),
            ("contacts.csv", ONE_CONTACT),
            (
                "campaigns.csv",
                "id,name,channel\nLI-Q3,LinkedIn Q3,paid_social\nWeb-Q3,Web Q3,web\n",
            ),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,created_at\nO1,A1,900,Discovery,2026-08-15T12:00:00Z\n",
            ),
            (
                "activities.csv",
                "id,timestamp,type,contact_id,channel,campaign_id\n\
                 k1,2026-08-01T10:00:00Z,ad_click,C1,paid_social,LI-Q3\n\
                 k2,2026-08-05T10:00:00Z,email_click,C1,email,\n\
                 k3,2026-08-10T10:00:00Z,form_submit,C1,web,Web-Q3\n",
            ),
        ],
    );
    // Linear: 1/3 each, 300 of 900, keyed by the campaign id as given (ids are opaque and
    // case-sensitive, not lower-cased); k2 has no campaign → (none).
    let v = attribution(&ws, "linear", &["--by", "campaign"]);
    assert_eq!(v["params"]["by"], "campaign");
    one_opportunity_credit(
        &v,
        "campaign",
        900.0,
        false,
        &[
            ("LI-Q3", 1.0 / 3.0),
            ("(none)", 1.0 / 3.0),
            ("Web-Q3", 1.0 / 3.0),
        ],
    );
    let v = attribution(&ws, "first_touch", &["--by", "campaign"]);
    one_opportunity_credit(&v, "campaign", 900.0, false, &[("LI-Q3", 1.0)]);
    // W-shaped: FT k1 0.3, LC k3 0.3 and OC k3 0.3 (k3 holds both: 0.6), 0.1 to k2 (between).
    let v = attribution(&ws, "w_shaped", &["--by", "campaign"]);
    one_opportunity_credit(
        &v,
        "campaign",
        900.0,
        false,
        &[("LI-Q3", 0.3), ("(none)", 0.1), ("Web-Q3", 0.6)],
    );
}

// ---------------------------------------------------------------------------------------
// 7. ROI.

// Costs in Q3 (2026-07-01 .. 2026-10-01):
//   ad_performance: paid_social 2026-08-10 400 (in), paid_social 2026-10-02 1000 (Q4: out),
//                   display 2026-09-01 250 (in). paid_social's account-level row of
//                   2026-08-11 (123) breaks down delivery its campaign-level rows already
//                   count: not added; display has only an account-level row: it counts.
//   campaigns: SUM (event) 900 over 2026-09-21..2026-10-20 = 10 + 20 = 30 days; Q3 holds
//              Sep 21..30 = 10 days → 900 × 10/30 = 300.
//              OLD (paid_social) 5000 over 2026-05-01..2026-05-31: Q2, nothing in Q3.
//              NODATE (web) 700 without dates: in no period.
// Revenue: O1 (6000, created 2026-08-01, won 2026-09-15) under linear with revenue credit:
//   touches paid_social 07-20, event 07-25, web 07-28 (LC), sales 09-14 (after the creation,
//   before the close) → 1500 each.
//   O2 (99999, won 2026-10-05, Q4) and O3 (open) bring nothing.
const ROI_CAMPAIGNS: &str = "\
id,name,channel,start_date,end_date,actual_cost
SUM,Summit,event,2026-09-21,2026-10-20,900
OLD,Spring ads,paid_social,2026-05-01,2026-05-31,5000
NODATE,Web refresh,web,,,700
";
const ROI_ADS: &str = "\
date,channel,account_id,spend
2026-08-10,paid_social,,400
2026-08-11,paid_social,A1,123
2026-10-02,paid_social,,1000
2026-09-01,display,A1,250
";
const ROI_OPPORTUNITIES: &str = "\
id,account_id,amount,stage,created_at,close_date,is_closed,is_won
O1,A1,6000,Closed Won,2026-08-01T10:00:00Z,2026-09-15,true,true
O2,A1,99999,Closed Won,2026-09-20T10:00:00Z,2026-10-05,true,true
O3,A1,5000,Proposal,2026-09-01T10:00:00Z,2026-12-01,false,false
";
const ROI_ACTIVITIES: &str = "\
id,timestamp,type,contact_id,channel
r1,2026-07-20T10:00:00Z,ad_click,C1,paid_social
r2,2026-07-25T10:00:00Z,event_attended,C1,event
r3,2026-07-28T10:00:00Z,form_submit,C1,web
r4,2026-09-14T10:00:00Z,meeting_held,C1,sales
";

fn roi_workspace(dir: &Path, config: &str) -> PathBuf {
    workspace(
        dir,
        config,
        &[
            ("accounts.csv", ONE_ACCOUNT),
            ("contacts.csv", ONE_CONTACT),
            ("campaigns.csv", ROI_CAMPAIGNS),
            ("ad_performance.csv", ROI_ADS),
            ("opportunities.csv", ROI_OPPORTUNITIES),
            ("activities.csv", ROI_ACTIVITIES),
        ],
    )
}

/// Asserts a roi row: revenue, cost, roas and roi (None = null).
#[track_caller]
fn roi_row(v: &Value, key: &str, revenue: f64, cost: f64, roas: Option<f64>, roi: Option<f64>) {
    let r = row(v, "channel", key);
    approx(&r["revenue"], revenue);
    approx(&r["cost"], cost);
    for (field, want) in [("roas", roas), ("roi", roi)] {
        match want {
            Some(x) => approx(&r[field], x),
            None => assert!(r[field].is_null(), "{key} {field} must be null: {r}"),
        }
    }
}

#[test]
fn roi_spreads_campaign_costs_and_applies_the_gross_margin() {
    let dir = tempfile::tempdir().unwrap();
    let ws = roi_workspace(dir.path(), "");
    let args = [
        "roi", "--period", "2026-Q3", "--by", "channel", "--model", "linear",
    ];
    let v = report(&ws, &args);
    assert_eq!(v["report"], "roi");
    // margin 1:
    //   paid_social 1500 / 400 = 3.75; (1500 − 400) / 400 = 2.75
    //   event       1500 / 300 = 5;    (1500 − 300) / 300 = 4
    //   web, sales  1500, cost 0 → null, null (NODATE's 700 is in no period)
    //   display     0 / 250 = 0;       (0 − 250) / 250 = −1
    //   (programme) 6000 / 950 = 6.315789…; (6000 − 950) / 950 = 5.315789…
    roi_row(&v, "paid_social", 1500.0, 400.0, Some(3.75), Some(2.75));
    roi_row(&v, "event", 1500.0, 300.0, Some(5.0), Some(4.0));
    roi_row(&v, "web", 1500.0, 0.0, None, None);
    roi_row(&v, "sales", 1500.0, 0.0, None, None);
    roi_row(&v, "display", 0.0, 250.0, Some(0.0), Some(-1.0));
    roi_row(
        &v,
        "(programme)",
        6000.0,
        950.0,
        Some(6000.0 / 950.0),
        Some(5050.0 / 950.0),
    );
    assert_eq!(rows(&v).len(), 6, "{v:#}");
    assert_eq!(rows(&v).last().unwrap()["channel"], "(programme)");

    // gross_margin 0.8: roas unchanged; roi on 0.8 × revenue:
    //   paid_social (1200 − 400) / 400 = 2; event (1200 − 300) / 300 = 3; display −1;
    //   (programme) (4800 − 950) / 950 = 3850 / 950 = 4.052631…
    let dir = tempfile::tempdir().unwrap();
    let ws = roi_workspace(dir.path(), "[finance]\ngross_margin = 0.8\n");
    let v = report(&ws, &args);
    roi_row(&v, "paid_social", 1500.0, 400.0, Some(3.75), Some(2.0));
    roi_row(&v, "event", 1500.0, 300.0, Some(5.0), Some(3.0));
    roi_row(&v, "web", 1500.0, 0.0, None, None);
    roi_row(&v, "display", 0.0, 250.0, Some(0.0), Some(-1.0));
    roi_row(
        &v,
        "(programme)",
        6000.0,
        950.0,
        Some(6000.0 / 950.0),
        Some(3850.0 / 950.0),
    );

    // Q4 (2026-10-01 .. 2027-01-01): O2 won 2026-10-05 (99999). Its touches: r4 sales
    // (09-14) only — r1..r3 are before the creation 2026-09-20 but within 180 days, so all
    // four count: 99999 / 4 = 24999.75 each.
    //   costs: paid_social 1000 (2026-10-02); event: Oct 1..20 = 20 of 30 days → 600.
    //   paid_social: roas 24999.75 / 1000; roi (0.8 × 24999.75 − 1000) / 1000.
    let v = report(
        &ws,
        &[
            "roi", "--period", "2026-Q4", "--by", "channel", "--model", "linear",
        ],
    );
    roi_row(
        &v,
        "paid_social",
        24999.75,
        1000.0,
        Some(24.99975),
        Some((0.8 * 24999.75 - 1000.0) / 1000.0),
    );
    roi_row(
        &v,
        "event",
        24999.75,
        600.0,
        Some(24999.75 / 600.0),
        Some((0.8 * 24999.75 - 600.0) / 600.0),
    );
}

// ---------------------------------------------------------------------------------------
// 8. What-if, and refused arguments.

const WHAT_IF: [&str; 14] = [
    "roi",
    "--what-if",
    "--accounts",
    "500",
    "--engagement-rate",
    "0.4",
    "--opportunity-rate",
    "0.25",
    "--win-rate",
    "0.2",
    "--deal-size",
    "40000",
    "--cost",
    "100000",
];

#[test]
fn what_if_projects_the_programme() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), "", &[("accounts.csv", ONE_ACCOUNT)]);
    // engaged 500 × 0.4 = 200; opportunities 200 × 0.25 = 50; pipeline 50 × 40000 = 2e6;
    // won 50 × 0.2 = 10; revenue 10 × 40000 = 400000; roas 400000 / 100000 = 4;
    // roi (400000 − 100000) / 100000 = 3; break-even win rate 100000 / (1 × 2e6) = 0.05.
    let v = report(&ws, &WHAT_IF);
    assert_eq!(v["report"], "roi_what_if");
    assert_eq!(rows(&v).len(), 1, "{v:#}");
    let r = &rows(&v)[0];
    approx(&r["engaged_accounts"], 200.0);
    approx(&r["opportunities"], 50.0);
    approx(&r["pipeline"], 2_000_000.0);
    approx(&r["deals_won"], 10.0);
    approx(&r["revenue"], 400_000.0);
    approx(&r["roas"], 4.0);
    approx(&r["roi"], 3.0);
    approx(&r["break_even_win_rate"], 0.05);

    // Cost 0: roas, roi null; break-even 0 / 2e6 = 0.
    let mut free = WHAT_IF.to_vec();
    *free.last_mut().unwrap() = "0";
    let v = report(&ws, &free);
    let r = &rows(&v)[0];
    assert!(r["roas"].is_null(), "{r}");
    assert!(r["roi"].is_null(), "{r}");
    approx(&r["revenue"], 400_000.0);

    // gross_margin 0.8: roi (0.8 × 400000 − 100000) / 100000 = 2.2; break-even
    // 100000 / (0.8 × 2e6) = 0.0625; roas unchanged.
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "[finance]\ngross_margin = 0.8\n",
        &[("accounts.csv", ONE_ACCOUNT)],
    );
    let v = report(&ws, &WHAT_IF);
    let r = &rows(&v)[0];
    approx(&r["roas"], 4.0);
    approx(&r["roi"], 2.2);
    approx(&r["break_even_win_rate"], 0.0625);

    // A rate is a fraction: 20 (for 20%) is refused, naming the flag.
    let mut bad = WHAT_IF.to_vec();
    bad[9] = "20";
    fails(&ws, &bad, &["--win-rate"]);
    let mut bad = WHAT_IF.to_vec();
    bad[5] = "1.5";
    fails(&ws, &bad, &["--engagement-rate"]);
}

#[test]
fn bad_model_by_credit_and_period_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = one_opportunity_workspace(dir.path(), false);
    let base = ["attribution", "--period", "2026-Q3"];
    for (flag, value) in [
        ("--model", "magic"),
        ("--by", "region"),
        ("--credit", "bookings"),
        ("--period", "2026-Q5"),
    ] {
        let mut args = base.to_vec();
        args.extend([flag, value]);
        fails(&ws, &args, &[flag]);
    }
    for (flag, value) in [
        ("--model", "magic"),
        ("--by", "region"),
        ("--period", "2026-Q5"),
    ] {
        fails(&ws, &["roi", flag, value], &[flag]);
    }
}
