//! Marketing-qualified accounts (SPEC §4): weighted minutes over the trailing
//! `mqa.window_days` ≥ `mqa.min_weighted_minutes` and engaged contacts in that window ≥
//! `mqa.min_contacts`, optionally target accounts only, per account or per (account,
//! department) buying center; ranked, with `newly_qualified` (not qualified
//! `mqa.newly_qualified_days` earlier).

use abmeter_model::Config;
use abmeter_model::config::BuyingCenter;
use abmeter_model::period::trailing_window;
use abmeter_model::report::Report;
use abmeter_store::StoreError;
use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, json};

use crate::scope::{Filters, facts};
use crate::to_report::query_report;

#[derive(Debug, Clone)]
pub struct Params {
    pub at: NaiveDate,
    pub filters: Filters,
}

/// The MQA query at `at`: both windows (at D and at D − step) in one pass over the cube.
pub fn sql(config: &Config, p: &Params) -> String {
    let m = &config.mqa;
    let (start, end) = trailing_window(p.at, m.window_days);
    let earlier = p.at - Days::new(m.newly_qualified_days.into());
    let (e_start, e_end) = trailing_window(earlier, m.window_days);
    let by_department = m.buying_center == BuyingCenter::Department;
    let (dept_select, dept_group, dept_out) = if by_department {
        (
            "f.department AS department, ",
            ", f.department",
            "department, ",
        )
    } else {
        ("", "", "")
    };
    let now = format!("f.day >= DATE '{start}' AND f.day < DATE '{end}'");
    let then = format!("f.day >= DATE '{e_start}' AND f.day < DATE '{e_end}'");
    let target = if m.target_only {
        " AND a.is_target = true"
    } else {
        ""
    };
    let qualifies = |wm: &str, c: &str| {
        format!(
            "{wm} >= {} AND {c} >= {}",
            sql_f64(m.min_weighted_minutes),
            m.min_contacts
        )
    };
    format!(
        "SELECT row_number() OVER (ORDER BY weighted_minutes DESC, account_id{dept_order}) AS rank,\n  \
         account_id, account_name, {dept_out}weighted_minutes, minutes, engaged_contacts,\n  \
         NOT ({was}) AS newly_qualified\n\
         FROM (\n  SELECT f.account_id, max(a.name) AS account_name, {dept_select}\n    \
         coalesce(sum(CASE WHEN {now} THEN f.weighted_minutes END), 0.0) AS weighted_minutes,\n    \
         coalesce(sum(CASE WHEN {now} THEN f.minutes END), 0.0) AS minutes,\n    \
         count(DISTINCT CASE WHEN {now} AND f.minutes > 0 THEN f.contact_id END) AS engaged_contacts,\n    \
         coalesce(sum(CASE WHEN {then} THEN f.weighted_minutes END), 0.0) AS earlier_weighted_minutes,\n    \
         count(DISTINCT CASE WHEN {then} AND f.minutes > 0 THEN f.contact_id END) AS earlier_contacts\n  \
         FROM {facts} f LEFT JOIN accounts a ON a.id = f.account_id\n  \
         WHERE f.day >= DATE '{lo}' AND f.day < DATE '{end}'{target}{filters}\n  \
         GROUP BY f.account_id{dept_group}\n) q\n\
         WHERE {is}\n\
         ORDER BY rank",
        dept_order = if by_department { ", department" } else { "" },
        was = qualifies("earlier_weighted_minutes", "earlier_contacts"),
        is = qualifies("weighted_minutes", "engaged_contacts"),
        lo = e_start.min(start),
        filters = p.filters.sql(),
        facts = facts(p.filters.needs_raw_events()),
    )
}

/// A float as a SQL literal that is always a float.
fn sql_f64(v: f64) -> String {
    format!("CAST({v:?} AS DOUBLE)")
}

pub fn params_json(config: &Config, p: &Params) -> Map<String, serde_json::Value> {
    let m = &config.mqa;
    let (start, end) = trailing_window(p.at, m.window_days);
    let mut params = Map::new();
    params.insert("at".into(), json!(p.at.to_string()));
    params.insert("window_start".into(), json!(start.to_string()));
    params.insert("window_end".into(), json!(end.to_string()));
    params.insert("window_days".into(), json!(m.window_days));
    params.insert("min_weighted_minutes".into(), json!(m.min_weighted_minutes));
    params.insert("min_contacts".into(), json!(m.min_contacts));
    params.insert("target_only".into(), json!(m.target_only));
    params.insert(
        "buying_center".into(),
        json!(match m.buying_center {
            BuyingCenter::Account => "account",
            BuyingCenter::Department => "department",
        }),
    );
    params.insert("newly_qualified_days".into(), json!(m.newly_qualified_days));
    p.filters.params(&mut params);
    params
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    query_report(ctx, "mqa", params_json(config, p), &sql(config, p)).await
}
