//! An account's timeline (SPEC §4): its activities in time order with the contact's name,
//! title, seniority and department, the type, channel, campaign and minutes; plus the
//! per-day series (`series` beside `rows`). Reads raw events, only of the months asked for.

use abmeter_model::report::Report;
use abmeter_store::StoreError;
use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::scope::{Filters, contact_name, quote};
use crate::to_report::query_report;

#[derive(Debug, Clone)]
pub struct Params {
    pub account: String,
    /// First and last day shown (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only activities of these contact or activity dimensions (`type=webinar_attended`,
    /// `department=it`): the dashboard's drill-down from a heatmap cell.
    pub filters: Filters,
}

pub fn sql(p: &Params) -> String {
    let end = p.to + Days::new(1);
    format!(
        "SELECT f.timestamp, f.id AS activity_id, f.resolved_contact_id AS contact_id,\n  \
         {name} AS contact_name, c.title,\n  \
         f.seniority, f.department, f.type, f.channel, f.campaign_id, cp.name AS campaign_name,\n  \
         f.minutes, f.weighted_minutes, f.match_rule\n\
         FROM resolved_activities f\n  \
         LEFT JOIN contacts c ON c.id = f.resolved_contact_id\n  \
         LEFT JOIN campaigns cp ON cp.id = f.campaign_id\n\
         WHERE f.resolved_account_id = {account}\n  \
         AND f.timestamp >= TIMESTAMP '{from}T00:00:00Z' AND f.timestamp < TIMESTAMP '{end}T00:00:00Z'{filters}\n\
         ORDER BY f.timestamp, f.id",
        account = quote(&p.account),
        from = p.from,
        name = contact_name("c"),
        filters = p.filters.sql(),
    )
}

/// Per-day sums of the same window, from the cube (from the raw events when filtered, so
/// the series always sums the rows).
pub fn series_sql(p: &Params) -> String {
    if !p.filters.segments.is_empty() {
        return format!(
            "SELECT CAST(f.timestamp AS DATE) AS day, count(*) AS activities,\n  \
             sum(f.minutes) AS minutes, sum(f.weighted_minutes) AS weighted_minutes,\n  \
             count(DISTINCT CASE WHEN f.minutes > 0 THEN f.resolved_contact_id END) AS engaged_contacts\n\
             FROM resolved_activities f\n\
             WHERE f.resolved_account_id = {} AND f.timestamp >= TIMESTAMP '{}T00:00:00Z'\n  \
             AND f.timestamp < TIMESTAMP '{}T00:00:00Z'{}\n\
             GROUP BY 1 ORDER BY 1",
            quote(&p.account),
            p.from,
            p.to + Days::new(1),
            p.filters.sql()
        );
    }
    format!(
        "SELECT day, sum(activities) AS activities, sum(minutes) AS minutes,\n  \
         sum(weighted_minutes) AS weighted_minutes,\n  \
         count(DISTINCT CASE WHEN minutes > 0 THEN contact_id END) AS engaged_contacts\n\
         FROM engagement_cube\n\
         WHERE account_id = {} AND day >= DATE '{}' AND day < DATE '{}'\n\
         GROUP BY day ORDER BY day",
        quote(&p.account),
        p.from,
        p.to + Days::new(1)
    )
}

pub async fn report(ctx: &SessionContext, p: &Params) -> Result<Report, StoreError> {
    let mut params = Map::new();
    params.insert("account".into(), json!(p.account));
    params.insert("from".into(), json!(p.from.to_string()));
    params.insert("to".into(), json!(p.to.to_string()));
    p.filters.params(&mut params);
    let mut r = query_report(ctx, "timeline", params, &sql(p)).await?;
    let series = query_report(ctx, "series", Map::new(), &series_sql(p)).await?;
    r.extra
        .insert("series".into(), series.to_json()["rows"].clone());
    let name = query_report(
        ctx,
        "account",
        Map::new(),
        &format!("SELECT name FROM accounts WHERE id = {}", quote(&p.account)),
    )
    .await?;
    r.params.insert(
        "account_name".into(),
        name.rows.first().map_or(Value::Null, |row| row[0].clone()),
    );
    Ok(r)
}
