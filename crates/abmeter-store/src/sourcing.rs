//! The `sourced_opportunities` view (SPEC §6): who sourced each opportunity, and by which
//! rule. The opportunity's own `source` when given; else its `lead_source` when that is one
//! of `sourcing.marketing_lead_sources` (marketing); else the class of the account's first
//! touch within `attribution.lookback_days` before the opportunity was created (marketing or
//! sales by `sourcing.marketing_channels` / `sales_channels`); else `other`. A `lead_source`
//! outside the list decides nothing: the first touch does (a CRM's default lead source is
//! not evidence). Touches are `attribution_touches` (touch types, resolved accounts).

use abmeter_model::Config;
use datafusion::execution::context::SessionContext;

use crate::StoreError;

pub const SOURCED_VIEW: &str = "sourced_opportunities";

/// A lower-cased SQL list of `values` (NULL when empty, which matches nothing).
fn list(values: &[String]) -> String {
    if values.is_empty() {
        return "NULL".into();
    }
    values
        .iter()
        .map(|v| format!("'{}'", v.trim().to_lowercase().replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The view's definition for `config`.
pub fn view_sql(config: &Config) -> String {
    let s = &config.sourcing;
    let lookback = config.attribution.lookback_days;
    format!(
        "WITH first_touch AS (
  SELECT o.id AS opportunity_id,
         first_value(t.channel ORDER BY t.timestamp, t.id) AS channel,
         min(t.timestamp) AS at
  FROM opportunities o
  JOIN attribution_touches t ON t.account_id = o.account_id
   AND t.timestamp >= o.created_at - INTERVAL '{lookback} days'
   AND t.timestamp <= o.created_at
  GROUP BY o.id
)
SELECT o.id, o.account_id, o.name, o.amount, o.stage, o.type, o.created_at, o.close_date,
       o.is_closed, o.is_won, o.lead_source, o.contract_months, o.loss_reason, o.competitor,
       o.product, o.owner, o.self_reported_source,
       CASE WHEN o.source IS NOT NULL THEN o.source
            WHEN lower(trim(o.lead_source)) IN ({lead_sources}) THEN 'marketing'
            WHEN f.channel IN ({marketing}) THEN 'marketing'
            WHEN f.channel IN ({sales}) THEN 'sales'
            ELSE 'other' END AS source,
       CASE WHEN o.source IS NOT NULL THEN 'source'
            WHEN lower(trim(o.lead_source)) IN ({lead_sources}) THEN 'lead_source'
            WHEN f.channel IN ({marketing}) OR f.channel IN ({sales}) THEN 'first_touch'
            ELSE 'none' END AS source_rule,
       f.channel AS first_touch_channel,
       f.at AS first_touch_at
FROM opportunities o LEFT JOIN first_touch f ON f.opportunity_id = o.id",
        lead_sources = list(&s.marketing_lead_sources),
        marketing = list(&s.marketing_channels),
        sales = list(&s.sales_channels),
    )
}

/// Registers the view on `ctx` (after the tables and the derived tables).
pub(crate) async fn register(ctx: &SessionContext, config: &Config) -> Result<(), StoreError> {
    let df = ctx.sql(&view_sql(config)).await?;
    ctx.register_table(SOURCED_VIEW, df.into_view())?;
    Ok(())
}
