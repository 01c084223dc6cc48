//! Engagement and outcomes (SPEC §4): every account bucketed into quintiles of its weighted
//! minutes in a period (1 = the most engaged fifth, ties broken by account id), with the
//! share of each bucket that had an opportunity created within
//! `outcomes.opportunity_window_days` (default 90) after the period, that pipeline and the
//! part of it won — how engagement turns into revenue.

use abmeter_model::report::Report;
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use chrono::Days;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, json};

use crate::scope::Filters;
use crate::to_report::query_report;

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    /// Account filters only (a quintile is of accounts).
    pub filters: Filters,
}

pub fn sql(config: &Config, p: &Params) -> String {
    let (s, e) = (p.period.start, p.period.end);
    let until = e + Days::new(config.outcomes.opportunity_window_days.into());
    // Filters name `f.account_id` and `a.*`: the account list plays `f` here.
    let filters = p.filters.sql().replace("f.account_id", "a.id");
    format!(
        "WITH engaged AS (\n  \
           SELECT a.id AS account_id, coalesce(e.weighted_minutes, 0.0) AS weighted_minutes\n  \
           FROM accounts a LEFT JOIN (\n    \
             SELECT account_id, sum(weighted_minutes) AS weighted_minutes FROM engagement_cube\n    \
             WHERE day >= DATE '{s}' AND day < DATE '{e}' GROUP BY account_id\n  \
           ) e ON e.account_id = a.id\n  \
           WHERE true{filters}\n\
         ), ranked AS (\n  \
           SELECT *, ntile(5) OVER (ORDER BY weighted_minutes DESC, account_id) AS quintile FROM engaged\n\
         ), opps AS (\n  \
           SELECT account_id, count(*) AS opportunities, sum(coalesce(amount, 0.0)) AS pipeline,\n    \
             sum(CASE WHEN is_won THEN coalesce(amount, 0.0) ELSE 0.0 END) AS won_revenue\n  \
           FROM opportunities\n  \
           WHERE created_at >= TIMESTAMP '{e}T00:00:00Z' AND created_at < TIMESTAMP '{until}T00:00:00Z'\n  \
           GROUP BY account_id\n\
         )\n\
         SELECT quintile, count(*) AS accounts,\n  \
           min(weighted_minutes) AS min_weighted_minutes, max(weighted_minutes) AS max_weighted_minutes,\n  \
           avg(weighted_minutes) AS avg_weighted_minutes,\n  \
           count(o.account_id) AS accounts_with_opportunity,\n  \
           CAST(count(o.account_id) AS DOUBLE) / count(*) AS opportunity_share,\n  \
           coalesce(sum(o.opportunities), 0) AS opportunities,\n  \
           coalesce(sum(o.pipeline), 0.0) AS pipeline,\n  \
           coalesce(sum(o.won_revenue), 0.0) AS won_revenue\n\
         FROM ranked r LEFT JOIN opps o ON o.account_id = r.account_id\n\
         GROUP BY quintile ORDER BY quintile"
    )
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let until = p.period.end + Days::new(config.outcomes.opportunity_window_days.into());
    let mut params = Map::new();
    params.insert("period".into(), json!(p.period.label()));
    params.insert("start".into(), json!(p.period.start.to_string()));
    params.insert("end".into(), json!(p.period.end.to_string()));
    params.insert("opportunities_from".into(), json!(p.period.end.to_string()));
    params.insert("opportunities_until".into(), json!(until.to_string()));
    p.filters.params(&mut params);
    query_report(ctx, "engagement_outcomes", params, &sql(config, p)).await
}
