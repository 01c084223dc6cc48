//! Account engagement (SPEC §4): minutes, weighted minutes, engaged contacts, activities and
//! meetings per account — or per any combination of account, contact and activity
//! dimensions — in a period, against the previous period.

use abmeter_model::Period;
use abmeter_model::report::{ColumnKind, Report};
use abmeter_store::StoreError;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::scope::{CONTACT_JOIN, Dim, Filters, facts};
use crate::to_report::query_report;

/// What `abmeter engagement` was asked.
#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    /// Grouping; `[Dim::Account]` by default.
    pub by: Vec<Dim>,
    pub filters: Filters,
}

/// The metric columns after the grouping columns, in SPEC §11 order.
pub const METRICS: [(&str, ColumnKind); 9] = [
    ("minutes", ColumnKind::Number),
    ("weighted_minutes", ColumnKind::Number),
    ("engaged_contacts", ColumnKind::Integer),
    ("activities", ColumnKind::Integer),
    ("meetings_scheduled", ColumnKind::Integer),
    ("meetings_held", ColumnKind::Integer),
    ("meetings_canceled", ColumnKind::Integer),
    ("previous_weighted_minutes", ColumnKind::Number),
    ("change_pct", ColumnKind::Number),
];

/// The query: one pass over the period and the previous one, current and previous sums
/// side by side. `change_pct` is null when the previous period weighed nothing (SPEC §0).
pub fn sql(p: &Params) -> String {
    let cur = p.period.start;
    let prev = p.period.previous().start;
    let end = p.period.end;
    let in_p = format!("f.day >= DATE '{cur}'");
    let mut select = Vec::new();
    let mut group = Vec::new();
    let mut outer = Vec::new();
    for d in &p.by {
        for (name, expr) in d.columns() {
            select.push(format!("{expr} AS {name}"));
            outer.push(name.to_string());
        }
        group.push(d.expr().to_string());
    }
    let count_type = |t: &str| {
        format!("coalesce(sum(CASE WHEN {in_p} AND f.type = '{t}' THEN f.activities END), 0)")
    };
    select.extend([
        format!("coalesce(sum(CASE WHEN {in_p} THEN f.minutes END), 0.0) AS minutes"),
        format!("coalesce(sum(CASE WHEN {in_p} THEN f.weighted_minutes END), 0.0) AS weighted_minutes"),
        format!("count(DISTINCT CASE WHEN {in_p} AND f.minutes > 0 THEN f.contact_id END) AS engaged_contacts"),
        format!("coalesce(sum(CASE WHEN {in_p} THEN f.activities END), 0) AS activities"),
        format!("{} AS meetings_scheduled", count_type("meeting_scheduled")),
        format!("{} AS meetings_held", count_type("meeting_held")),
        format!("{} AS meetings_canceled", count_type("meeting_canceled")),
        format!("coalesce(sum(CASE WHEN f.day < DATE '{cur}' THEN f.weighted_minutes END), 0.0) AS previous_weighted_minutes"),
    ]);
    let order: Vec<String> = outer
        .iter()
        .map(|c| format!("{c} ASC NULLS LAST"))
        .collect();
    format!(
        "SELECT {outer}, minutes, weighted_minutes, engaged_contacts, activities, \
         meetings_scheduled, meetings_held, meetings_canceled, previous_weighted_minutes,\n  \
         CASE WHEN previous_weighted_minutes > 0 THEN (weighted_minutes - previous_weighted_minutes) \
         / previous_weighted_minutes * 100 END AS change_pct\n\
         FROM (\n  SELECT {select}\n  FROM {facts} f LEFT JOIN accounts a ON a.id = f.account_id{contacts}\n  \
         WHERE f.day >= DATE '{prev}' AND f.day < DATE '{end}'{filters}\n  GROUP BY {group}\n) g\n\
         ORDER BY weighted_minutes DESC, {order}",
        outer = outer.join(", "),
        select = select.join(",\n    "),
        facts = facts(needs_raw(p)),
        contacts = if p.by.contains(&Dim::Contact) {
            CONTACT_JOIN
        } else {
            ""
        },
        filters = p.filters.sql(),
        group = group.join(", "),
        order = order.join(", "),
    )
}

fn needs_raw(p: &Params) -> bool {
    p.by.iter().any(|d| d.needs_raw_events()) || p.filters.needs_raw_events()
}

pub fn params_json(p: &Params) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("period".into(), json!(p.period.label()));
    params.insert("start".into(), json!(p.period.start.to_string()));
    params.insert("end".into(), json!(p.period.end.to_string()));
    params.insert("previous_period".into(), json!(p.period.previous().label()));
    let by: Vec<&str> = p.by.iter().map(|d| d.name()).collect();
    params.insert("by".into(), json!(by));
    p.filters.params(&mut params);
    params
}

pub async fn report(ctx: &SessionContext, p: &Params) -> Result<Report, StoreError> {
    query_report(ctx, "engagement", params_json(p), &sql(p)).await
}
