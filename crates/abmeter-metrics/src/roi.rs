//! Return on the programme (SPEC §7): per channel or campaign, cost = ad spend (the
//! `ad_totals` rows: account-level breakdowns of a campaign's delivery are not added again) +
//! campaign actual cost, attributed revenue under a model, `roas` = revenue / cost and
//! `roi` = (revenue × `finance.gross_margin` − cost) / cost; and the what-if calculator.
//!
//! A campaign's `actual_cost` is spread evenly over the days from its `start_date` to its
//! `end_date` (both included; no end date = one day), so a period carries the share of the
//! days it overlaps. Campaigns without a start date have no days and count in no period
//! (`campaigns_without_dates` in the params says how many).

use std::collections::BTreeMap;

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::attribution::Credit;
use crate::attribution::journeys::{By, opportunities};
use crate::attribution::report::{Model, UNATTRIBUTED, credit};
use crate::to_report::query_report;

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    pub by: By,
    pub model: Model,
}

/// Cost per key in the period: ad spend plus the overlapping share of campaign costs.
pub fn cost_sql(period: &Period, by: By) -> String {
    cost_between(period.start, period.end, by)
}

/// [`cost_sql`] over the days `[s, e)`.
pub fn cost_between(s: chrono::NaiveDate, e: chrono::NaiveDate, by: By) -> String {
    let (ad_key, campaign_key) = match by {
        By::Channel => (
            "lower(coalesce(channel, '(none)'))",
            "lower(coalesce(channel, '(none)'))",
        ),
        By::Campaign => ("coalesce(campaign_id, '(none)')", "id"),
    };
    format!(
        "SELECT arrow_cast(key, 'Utf8') AS key, arrow_cast(sum(cost), 'Float64') AS cost FROM (\n  \
         SELECT {ad_key} AS key, coalesce(spend, 0.0) AS cost FROM ad_totals\n  \
         WHERE date >= DATE '{s}' AND date < DATE '{e}'\n  \
         UNION ALL\n  \
         SELECT {campaign_key} AS key,\n    \
           coalesce(actual_cost, 0.0)\n    \
           * CAST(greatest(0, least(coalesce(end_date, start_date) + INTERVAL '1 day', DATE '{e}') - greatest(start_date, DATE '{s}')) AS DOUBLE)\n    \
           / CAST(coalesce(end_date, start_date) + INTERVAL '1 day' - start_date AS DOUBLE) AS cost\n  \
         FROM campaigns WHERE start_date IS NOT NULL AND actual_cost IS NOT NULL\n) c GROUP BY key"
    )
}

fn ratio(n: f64, d: f64) -> Value {
    if d > 0.0 { json!(n / d) } else { Value::Null }
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let opps = opportunities(ctx, config, &p.period, Credit::Revenue, None).await?;
    let credited = credit(p.model, &opps, &[], p.by, config)
        .map_err(|e| StoreError::Unanswerable(format!("{}: {e}", p.model.name())))?;
    let costs = query_report(ctx, "cost", Map::new(), &cost_sql(&p.period, p.by)).await?;
    let undated = query_report(
        ctx,
        "undated",
        Map::new(),
        "SELECT count(*) FROM campaigns WHERE start_date IS NULL AND actual_cost > 0",
    )
    .await?;
    let margin = config.finance.gross_margin;
    let mut rows: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (k, c) in &credited {
        rows.entry(k.clone()).or_default().0 += c.revenue;
    }
    for r in &costs.rows {
        let key = r[0].as_str().unwrap_or("(none)").to_string();
        rows.entry(key).or_default().1 += r[1].as_f64().unwrap_or(0.0);
    }
    let mut params = Map::new();
    params.insert("period".into(), json!(p.period.label()));
    params.insert("start".into(), json!(p.period.start.to_string()));
    params.insert("end".into(), json!(p.period.end.to_string()));
    params.insert("by".into(), json!(p.by.name()));
    params.insert("model".into(), json!(p.model.name()));
    params.insert("gross_margin".into(), json!(margin));
    params.insert("currency".into(), json!(config.finance.currency));
    params.insert(
        "campaigns_without_dates".into(),
        undated.rows.first().map_or(json!(0), |r| r[0].clone()),
    );
    let mut rep = Report::new(
        "roi",
        params,
        vec![
            Column::new(p.by.name(), ColumnKind::Text),
            Column::new("revenue", ColumnKind::Number),
            Column::new("cost", ColumnKind::Number),
            Column::new("roas", ColumnKind::Number),
            Column::new("roi", ColumnKind::Number),
        ],
    );
    let mut keys: Vec<(&String, &(f64, f64))> = rows
        .iter()
        .filter(|(k, _)| k.as_str() != UNATTRIBUTED)
        .collect();
    keys.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.0.cmp(b.0)));
    let (mut total_rev, mut total_cost) = (0.0, 0.0);
    for (k, (rev, cost)) in keys {
        total_rev += rev;
        total_cost += cost;
        rep.rows.push(vec![
            json!(k),
            json!(rev),
            json!(cost),
            ratio(*rev, *cost),
            ratio(rev * margin - cost, *cost),
        ]);
    }
    // The programme as a whole: attributed revenue against every cost.
    rep.rows.push(vec![
        json!("(programme)"),
        json!(total_rev),
        json!(total_cost),
        ratio(total_rev, total_cost),
        ratio(total_rev * margin - total_cost, total_cost),
    ]);
    if let Some((rev, _)) = rows.get(UNATTRIBUTED) {
        rep.extra.insert("unattributed_revenue".into(), json!(rev));
    }
    Ok(rep)
}

/// The what-if calculator's inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhatIf {
    pub target_accounts: f64,
    /// Fractions (0.3, not 30).
    pub engagement_rate: f64,
    pub opportunity_rate: f64,
    pub win_rate: f64,
    pub deal_size: f64,
    pub cost: f64,
}

/// Projects the programme: engaged accounts, opportunities, pipeline, deals won, revenue,
/// ROAS and ROI (with the gross margin), and the win rate at which it breaks even.
pub fn what_if(w: &WhatIf, gross_margin: f64) -> Report {
    let engaged = w.target_accounts * w.engagement_rate;
    let opps = engaged * w.opportunity_rate;
    let pipeline = opps * w.deal_size;
    let won = opps * w.win_rate;
    let revenue = won * w.deal_size;
    let mut params = Map::new();
    for (k, v) in [
        ("target_accounts", w.target_accounts),
        ("engagement_rate", w.engagement_rate),
        ("opportunity_rate", w.opportunity_rate),
        ("win_rate", w.win_rate),
        ("deal_size", w.deal_size),
        ("cost", w.cost),
        ("gross_margin", gross_margin),
    ] {
        params.insert(k.into(), json!(v));
    }
    let mut r = Report::new(
        "roi_what_if",
        params,
        vec![
            Column::new("engaged_accounts", ColumnKind::Number),
            Column::new("opportunities", ColumnKind::Number),
            Column::new("pipeline", ColumnKind::Number),
            Column::new("deals_won", ColumnKind::Number),
            Column::new("revenue", ColumnKind::Number),
            Column::new("roas", ColumnKind::Number),
            Column::new("roi", ColumnKind::Number),
            Column::new("break_even_win_rate", ColumnKind::Number),
        ],
    );
    r.rows.push(vec![
        json!(engaged),
        json!(opps),
        json!(pipeline),
        json!(won),
        json!(revenue),
        ratio(revenue, w.cost),
        ratio(revenue * gross_margin - w.cost, w.cost),
        // revenue × margin = cost ⇔ win rate = cost / (margin × pipeline).
        ratio(w.cost, gross_margin * pipeline),
    ]);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_if_projects_and_breaks_even() {
        // 500 accounts × 40% engaged = 200; × 25% = 50 opportunities; × $40k = $2M pipeline;
        // × 20% = 10 deals = $400k; cost $100k, margin 0.8: ROI (320k − 100k) / 100k = 2.2;
        // break even at 100k / (0.8 × 2M) = 6.25%.
        let r = what_if(
            &WhatIf {
                target_accounts: 500.0,
                engagement_rate: 0.4,
                opportunity_rate: 0.25,
                win_rate: 0.2,
                deal_size: 40_000.0,
                cost: 100_000.0,
            },
            0.8,
        );
        let row: Vec<f64> = r.rows[0].iter().map(|v| v.as_f64().unwrap()).collect();
        let want = [200.0, 50.0, 2_000_000.0, 10.0, 400_000.0, 4.0, 2.2, 0.0625];
        for (g, w) in row.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{row:?}");
        }
        // No cost: the ratios are null, never infinite.
        let r = what_if(
            &WhatIf {
                target_accounts: 10.0,
                engagement_rate: 1.0,
                opportunity_rate: 1.0,
                win_rate: 1.0,
                deal_size: 1.0,
                cost: 0.0,
            },
            1.0,
        );
        assert!(r.rows[0][5].is_null() && r.rows[0][6].is_null());
    }
}
