//! Issue 8: `retention`, `clv` (simple), `nps` and `expansion` on hand-made workspaces,
//! every figure computed by hand.

use serde_json::Value;

use super::close;
use super::engagement::{fails, report, row, rows, workspace};

/// From 2025-09 (S) to 2026-09 (E). A1 expands 100 → 150 (Core 100 → 120, Addon 0 → 30),
/// A2 contracts 200 → 120, A3 churns 50 → 0, A4 is new at 70, A5 stays at 30. Tiers: A1,
/// A2, A5 are 1; A3, A4 are 2.
fn book(dir: &std::path::Path) -> std::path::PathBuf {
    workspace(
        dir,
        "[finance]\ngross_margin = 0.8\nmonthly_sales_cost = 50\n",
        &[
            (
                "accounts.csv",
                "id,name,tier,industry\nA1,One,1,Software\nA2,Two,1,Retail\nA3,Three,2,Software\n\
                 A4,Four,2,Retail\nA5,Five,1,Software\n",
            ),
            (
                "revenue.csv",
                "account_id,month,mrr,product\n\
                 A1,2025-09,100,Core\nA1,2026-09,120,Core\nA1,2026-09,30,Addon\n\
                 A2,2025-09,200,Core\nA2,2026-09,120,Core\n\
                 A3,2025-09,50,Core\n\
                 A4,2026-09,70,Addon\n\
                 A5,2025-09,30,Core\nA5,2026-09,30,Core\n",
            ),
            (
                "ad_performance.csv",
                "date,channel,spend\n2025-09-10,linkedin,999\n2026-01-15,linkedin,600\n",
            ),
        ],
    )
}

#[test]
fn retention_of_a_cohort_with_expansion_contraction_churn_and_new() {
    let dir = tempfile::tempdir().unwrap();
    let ws = book(dir.path());
    let v = report(&ws, &["retention", "--from", "2025-09", "--to", "2026-09"]);
    let r = &rows(&v)[0];
    close(&r["arr_start"], 12.0 * 380.0, "arr_start");
    close(&r["arr_end"], 12.0 * 370.0, "arr_end");
    close(&r["nrr"], 300.0 / 380.0, "nrr");
    close(&r["grr"], 250.0 / 380.0, "grr");
    close(&r["expansion_mrr"], 50.0, "expansion");
    close(&r["contraction_mrr"], 80.0, "contraction");
    close(&r["churned_mrr"], 50.0, "churned_mrr");
    close(&r["churned_accounts"], 1.0, "churned_accounts");
    close(&r["cohort_accounts"], 4.0, "cohort");
    close(&r["logo_churn_rate"], 0.25, "logo churn");
    close(&r["new_mrr"], 70.0, "new_mrr");
    close(&r["new_accounts"], 1.0, "new_accounts");

    // The series ends at E with the same figures; its first month has no cohort.
    let series = v["nrr_series"].as_array().unwrap();
    assert_eq!(series.len(), 12);
    assert_eq!(series[11]["month"], "2026-09");
    close(&series[11]["nrr"], 300.0 / 380.0, "series nrr at E");
    assert_eq!(series[0]["month"], "2025-10");
    assert_eq!(series[0]["from"], "2024-10");
    assert_eq!(series[0]["nrr"], Value::Null);

    let by = |dim: &str| {
        let args = [
            "retention",
            "--from",
            "2025-09",
            "--to",
            "2026-09",
            "--by",
            dim,
        ];
        report(&ws, &args)
    };

    let v = by("tier");
    let t1 = row(&v, "tier", "1");
    close(&t1["nrr"], 300.0 / 330.0, "tier 1 nrr");
    close(&t1["grr"], 250.0 / 330.0, "tier 1 grr");
    let t2 = row(&v, "tier", "2");
    close(&t2["nrr"], 0.0, "tier 2 nrr");
    close(&t2["churned_mrr"], 50.0, "tier 2 churn");
    close(&t2["new_mrr"], 70.0, "tier 2 new");

    // Per product: A1's Addon is new, so Core's cohort end is 120 + 120 + 0 + 30.
    let v = by("product");
    let core = row(&v, "product", "Core");
    close(&core["nrr"], 270.0 / 380.0, "Core nrr");
    close(&core["expansion_mrr"], 20.0, "Core expansion");
    let addon = row(&v, "product", "Addon");
    assert_eq!(addon["nrr"], Value::Null, "no Addon cohort");
    close(&addon["new_mrr"], 100.0, "Addon new");
    close(&addon["new_accounts"], 2.0, "Addon new accounts");

    let v = by("account");
    let a2 = row(&v, "account_id", "A2");
    assert_eq!(a2["account_name"], "Two");
    close(&a2["nrr"], 0.6, "A2 nrr");

    fails(
        &ws,
        &["retention", "--from", "2026-09", "--to", "2026-09"],
        &["--from"],
    );
    fails(&ws, &["retention", "--to", "2026-13"], &["--to", "2026-13"]);
    let err = fails(&ws, &["retention", "--by", "channel"], &["--by", "channel"]);
    assert!(
        !err.contains("competitor"),
        "names only what retention accepts: {err}"
    );
}

#[test]
fn simple_clv_shows_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let ws = book(dir.path());
    let v = report(&ws, &["clv", "--from", "2025-09", "--to", "2026-09"]);
    let s = &v["simple"];
    // 4 customers pay 370 a month in E: 1,110 a year each; 1 of 4 churned → 4 years; CAC =
    // (600 of ads inside (S, E] + 12 × 50 of sales) / 1 new customer.
    close(&s["avg_annual_revenue_per_customer"], 1110.0, "average");
    close(&s["annual_logo_churn_rate"], 0.25, "churn");
    close(&s["expected_lifetime_years"], 4.0, "lifetime");
    close(&s["marketing_cost"], 600.0, "marketing cost");
    close(&s["sales_cost"], 600.0, "sales cost");
    close(&s["new_customers"], 1.0, "new customers");
    close(&s["cac"], 1200.0, "cac");
    close(&s["clv_before_cac"], 1110.0 * 0.8 * 4.0, "gross clv");
    close(&s["clv"], 1110.0 * 0.8 * 4.0 - 1200.0, "clv");
    let v = report(&ws, &["clv", "--from", "2026-03", "--to", "2026-09"]);
    assert_eq!(
        v["simple"]["logo_churn_rate"],
        Value::Null,
        "no one paid in 2026-03"
    );
    // No won opportunities: the model says why it could not fit.
    assert!(v["model"]["error"].is_string(), "{:#}", v["model"]);
}

/// Q3 2026 against Q2. Q3 NPS: A1 10, 9, 7, 3; A2 through its contact C1 10, and 6 from a
/// survey naming an unknown account with C1; A3 7, 8 (all passives); 9 with no account.
/// CSAT Q3: A1 5, 4, 3. Q2 NPS: A1 10, 10; A3 9.
fn surveys(dir: &std::path::Path) -> std::path::PathBuf {
    workspace(
        dir,
        "",
        &[
            (
                "accounts.csv",
                "id,name,tier\nA1,One,1\nA2,Two,1\nA3,Three,2\n",
            ),
            ("contacts.csv", "id,account_id\nC1,A2\n"),
            (
                "surveys.csv",
                "id,timestamp,kind,score,account_id,contact_id\n\
                 s1,2026-07-01,nps,10,A1,\ns2,2026-07-02,nps,9,A1,\ns3,2026-07-03,nps,7,A1,\n\
                 s4,2026-07-04,nps,3,A1,\ns5,2026-08-01,nps,10,,C1\ns6,2026-08-02,nps,6,AX,C1\n\
                 s7,2026-08-03,nps,7,A3,\ns8,2026-08-04,nps,8,A3,\ns9,2026-09-30,nps,9,,\n\
                 c1,2026-07-05,csat,5,A1,\nc2,2026-07-06,csat,4,A1,\nc3,2026-07-07,csat,3,A1,\n\
                 p1,2026-04-01,nps,10,A1,\np2,2026-05-01,nps,10,A1,\np3,2026-06-30,nps,9,A3,\n",
            ),
        ],
    )
}

#[test]
fn nps_and_csat_with_their_edges() {
    let dir = tempfile::tempdir().unwrap();
    let ws = surveys(dir.path());
    let v = report(&ws, &["nps", "--period", "2026-Q3"]);
    let r = &rows(&v)[0];
    close(&r["responses"], 9.0, "responses");
    close(&r["promoters"], 4.0, "promoters");
    close(&r["passives"], 3.0, "passives");
    close(&r["detractors"], 2.0, "detractors");
    close(&r["nps"], 200.0 / 9.0, "nps");
    close(&r["csat"], 200.0 / 3.0, "csat");
    close(&r["previous_nps"], 100.0, "previous nps");
    assert_eq!(r["previous_csat"], Value::Null, "no CSAT responses in Q2");

    let v = report(&ws, &["nps", "--period", "2026-Q3", "--by", "account"]);
    close(&row(&v, "account_id", "A1")["nps"], 25.0, "A1");
    close(
        &row(&v, "account_id", "A2")["nps"],
        0.0,
        "A2 via its contact",
    );
    close(&row(&v, "account_id", "A3")["nps"], 0.0, "A3 all passives");
    assert_eq!(row(&v, "account_id", "A2")["account_name"], "Two");
    let fell = v["nps_fell"].as_array().unwrap();
    let ids: Vec<&str> = fell
        .iter()
        .map(|f| f["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A3", "A1"], "{fell:#?}");
    close(&fell[1]["nps_change"], -75.0, "A1 fell");

    let v = report(&ws, &["nps", "--period", "2026-Q3", "--by", "tier"]);
    close(&row(&v, "tier", "1")["nps"], 100.0 / 6.0, "tier 1");

    // No responses at all: null, not 0.
    let v = report(&ws, &["nps", "--period", "2025-Q1"]);
    assert_eq!(rows(&v)[0]["nps"], Value::Null);
    assert_eq!(rows(&v)[0]["responses"], 0);
}

/// Q3 2026. Customers: A1 (paying in 2026-06) and A2 (won in 2026-03); A3 is not one. C2
/// (A1) and C3 (A2) first engage in Q3 (cross-sell); C1 (A1, known since February)
/// attends a webinar (upsell); C2 attends an event but is new, so not an upsell signal.
#[test]
fn expansion_opportunities_and_signals() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(
        dir.path(),
        "",
        &[
            ("accounts.csv", "id,name\nA1,One\nA2,Two\nA3,Three\n"),
            (
                "contacts.csv",
                "id,account_id,first_name,last_name,title\nC1,A1,Ann,Lee,CFO\nC2,A1,Bo,Chen,IT Manager\n\
                 C3,A2,Cy,Diaz,\nC4,A3,Di,Eng,\n",
            ),
            ("revenue.csv", "account_id,month,mrr\nA1,2026-06,100\n"),
            (
                "opportunities.csv",
                "id,account_id,amount,stage,type,product,created_at,close_date,is_closed,is_won\n\
                 O1,A1,500,Won,upsell,Addon,2026-07-05,2026-08-30,true,true\n\
                 O2,A2,300,Lost,cross_sell,Core,2026-06-01,2026-07-20,true,false\n\
                 O3,A2,1000,Won,new_business,Core,2026-01-10,2026-03-01,true,true\n\
                 O4,A1,200,Open,upsell,Addon,2026-05-01,,false,false\n",
            ),
            (
                "activities.csv",
                "id,timestamp,type,contact_id\n\
                 a1,2026-02-01T10:00:00Z,page_view,C1\n\
                 a2,2026-08-01T10:00:00Z,page_view,C2\n\
                 a3,2026-07-10T10:00:00Z,email_open,C3\n\
                 a4,2026-07-15T10:00:00Z,page_view,C4\n\
                 a5,2026-08-10T10:00:00Z,webinar_attended,C1\n\
                 a6,2026-08-20T10:00:00Z,event_attended,C2\n",
            ),
        ],
    );
    let v = report(&ws, &["expansion", "--period", "2026-Q3"]);
    let addon = row(&v, "product", "Addon");
    assert_eq!(addon["type"], "upsell");
    close(&addon["created"], 1.0, "Addon created");
    close(&addon["pipeline"], 500.0, "Addon pipeline");
    close(&addon["revenue"], 500.0, "Addon revenue");
    close(&addon["win_rate"], 1.0, "Addon win rate");
    close(
        &addon["previous_pipeline"],
        200.0,
        "Addon previous pipeline",
    );
    assert_eq!(addon["previous_win_rate"], Value::Null);
    let core = row(&v, "product", "Core");
    assert_eq!(core["type"], "cross_sell");
    close(&core["lost"], 1.0, "Core lost");
    close(&core["win_rate"], 0.0, "Core win rate");
    assert_eq!(rows(&v).len(), 2, "new business is not expansion");

    let cross = v["cross_sell_signals"].as_array().unwrap();
    let ids: Vec<&str> = cross
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A1", "A2"], "{cross:#?}");
    assert_eq!(cross[0]["contacts"][0]["contact_id"], "C2");
    assert_eq!(cross[0]["contacts"][0]["contact_name"], "Bo Chen");
    assert_eq!(cross[0]["contacts"][0]["department"], "it");
    let up = v["upsell_signals"].as_array().unwrap();
    assert_eq!(up.len(), 1, "{up:#?}");
    assert_eq!(up[0]["account_id"], "A1");
    assert_eq!(up[0]["contacts"][0]["contact_id"], "C1");
    assert_eq!(up[0]["contacts"][0]["type"], "webinar_attended");
}

/// On generated data: retention and NPS against the same sums written independently in SQL,
/// and the CLV and expansion reports hold together.
#[test]
fn customer_reports_on_demo_data_agree_with_sql() {
    let dir = tempfile::tempdir().unwrap();
    let data = super::demo_out(dir.path(), "400", "20000");
    let ws = dir.path().join("ws");
    super::ok(&ws, &["import", data.to_str().unwrap()]);

    let v = report(&ws, &["retention", "--from", "2025-08", "--to", "2026-08"]);
    let r = &rows(&v)[0];
    let want = &super::sql_json(
        &ws,
        "WITH m AS (SELECT account_id,
                sum(CASE WHEN month = '2025-08' THEN mrr ELSE 0 END) AS s,
                sum(CASE WHEN month = '2026-08' THEN mrr ELSE 0 END) AS e
              FROM revenue GROUP BY account_id)
         SELECT sum(s) AS s, sum(e) AS e,
                sum(CASE WHEN s > 0 THEN e ELSE 0 END) AS cohort_e,
                sum(CASE WHEN s > 0 THEN least(s, e) ELSE 0 END) AS kept,
                sum(CASE WHEN s > 0 AND e = 0 THEN 1 ELSE 0 END) AS churned,
                sum(CASE WHEN s = 0 AND e > 0 THEN e ELSE 0 END) AS new_mrr
         FROM m",
    )["rows"][0];
    let f = |k: &str| want[k].as_f64().unwrap();
    assert!(
        f("s") > 0.0 && f("churned") > 0.0,
        "the demo has a cohort and churn: {want}"
    );
    let near = |got: &Value, want: f64, what: &str| {
        let got = got.as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{what}: {got} vs {want}"
        );
    };
    near(&r["mrr_start"], f("s"), "mrr_start");
    near(&r["arr_end"], 12.0 * f("e"), "arr_end");
    near(&r["nrr"], f("cohort_e") / f("s"), "nrr");
    near(&r["grr"], f("kept") / f("s"), "grr");
    near(&r["churned_accounts"], f("churned"), "churned accounts");
    near(&r["new_mrr"], f("new_mrr"), "new_mrr");
    let moved = r["mrr_start"].as_f64().unwrap() + r["expansion_mrr"].as_f64().unwrap()
        - r["contraction_mrr"].as_f64().unwrap()
        - r["churned_mrr"].as_f64().unwrap();
    near(
        &Value::from(moved),
        f("cohort_e"),
        "start + expansion − contraction − churn",
    );

    let v = report(&ws, &["nps", "--period", "2026-Q2"]);
    let r = &rows(&v)[0];
    let want = &super::sql_json(
        &ws,
        "SELECT count(*) AS n, sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS p,
                sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS d
         FROM surveys WHERE kind = 'nps'
           AND timestamp >= TIMESTAMP '2026-04-01T00:00:00Z'
           AND timestamp < TIMESTAMP '2026-07-01T00:00:00Z'",
    )["rows"][0];
    let n = want["n"].as_f64().unwrap();
    assert!(n > 0.0, "the demo has NPS responses in 2026-Q2");
    near(&r["responses"], n, "responses");
    near(
        &r["nps"],
        100.0 * (want["p"].as_f64().unwrap() - want["d"].as_f64().unwrap()) / n,
        "nps",
    );

    let v = report(&ws, &["clv", "--to", "2026-08", "--limit", "0"]);
    assert!(
        v["simple"]["avg_annual_revenue_per_customer"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let values: Vec<f64> = rows(&v)
        .iter()
        .map(|r| r["expected_value"].as_f64().unwrap_or(0.0))
        .collect();
    assert!(
        !values.is_empty(),
        "accounts with won deals: {:#}",
        v["model"]
    );
    assert!(
        values.windows(2).all(|w| w[0] >= w[1]),
        "ranked by expected value"
    );
    let won = super::sql_json(
        &ws,
        "SELECT count(DISTINCT account_id) AS n FROM opportunities
         WHERE is_won AND close_date < DATE '2026-09-01'",
    )["rows"][0]["n"]
        .as_f64()
        .unwrap();
    assert_eq!(
        values.len() as f64,
        won,
        "one row per account with a won deal"
    );

    let v = report(&ws, &["expansion", "--period", "2026-Q2"]);
    let created: f64 = rows(&v)
        .iter()
        .map(|r| r["created"].as_f64().unwrap())
        .sum();
    let want = super::sql_json(
        &ws,
        "SELECT count(*) AS n FROM opportunities WHERE type IN ('upsell', 'cross_sell')
           AND created_at >= TIMESTAMP '2026-04-01T00:00:00Z'
           AND created_at < TIMESTAMP '2026-07-01T00:00:00Z'",
    )["rows"][0]["n"]
        .as_f64()
        .unwrap();
    assert_eq!(created, want, "expansion opportunities created");
}
