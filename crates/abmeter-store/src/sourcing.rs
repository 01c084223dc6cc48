//! The `sourced_opportunities` view (SPEC §6): who sourced each opportunity, and by which
//! rule. The opportunity's own `source` when given; else its `lead_source` when that is one
//! of `sourcing.marketing_lead_sources` (marketing); else the class of the account's first
//! touch within `attribution.lookback_days` before the opportunity was created (marketing or
//! sales by `sourcing.marketing_channels` / `sales_channels`); else `other`. A `lead_source`
//! outside the list decides nothing: the first touch does (a CRM's default lead source is
//! not evidence). Touches are `attribution_touches` (touch types, resolved accounts).
//!
//! The view is a derived table ([`crate::cube::Derived::Sourcing`]): kept in `sourcing/`
//! and rebuilt after an import of opportunities, accounts or activities, so reports read
//! 200,000 decided opportunities instead of joining them with millions of touches and
//! hundreds of thousands of accounts each time.

use std::sync::Arc;

use abmeter_model::{Config, Table};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::cube::{MILESTONES, MILESTONES_TABLE};

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
),
{chain}
SELECT {own},
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
       f.at AS first_touch_at,
       a.name AS account_name, a.industry, a.region, a.country, a.tier, a.is_target,
       m0.at AS {m0}_at, m1.at AS {m1}_at, m2.at AS {m2}_at
FROM opportunities o LEFT JOIN first_touch f ON f.opportunity_id = o.id
LEFT JOIN accounts a ON a.id = o.account_id
LEFT JOIN m0 ON m0.opportunity_id = o.id
LEFT JOIN m1 ON m1.opportunity_id = o.id
LEFT JOIN m2 ON m2.opportunity_id = o.id",
        chain = milestone_chain(lookback),
        m0 = MILESTONES[0],
        m1 = MILESTONES[1],
        m2 = MILESTONES[2],
        own = own_fields()
            .map(|f| format!("o.{}", f.name()))
            .collect::<Vec<_>>()
            .join(", "),
        lead_sources = list(&s.marketing_lead_sources),
        marketing = list(&s.marketing_channels),
        sales = list(&s.sales_channels),
    )
}

/// The sales milestones before each opportunity (SPEC §6, deal velocity) as CTEs `m0`, `m1`,
/// `m2`: within `lookback` days before its creation, the account's first `demo_request`;
/// then the first `meeting_scheduled` at or after it (after the window's start when there
/// was none); then the first `meeting_held` at or after the last milestone found.
fn milestone_chain(lookback: u32) -> String {
    let mut ctes = Vec::new();
    for (i, kind) in MILESTONES.iter().enumerate() {
        let found: Vec<String> = (0..i).rev().map(|j| format!("m{j}.at")).collect();
        let after = format!(
            "coalesce({}o.created_at - INTERVAL '{lookback} days')",
            found.iter().map(|f| format!("{f}, ")).collect::<String>()
        );
        let joins: String = (0..i)
            .map(|j| format!("\n  LEFT JOIN m{j} ON m{j}.opportunity_id = o.id"))
            .collect();
        ctes.push(format!(
            "m{i} AS (
  SELECT o.id AS opportunity_id, min(m.timestamp) AS at
  FROM opportunities o{joins}
  JOIN {MILESTONES_TABLE} m ON m.account_id = o.account_id AND m.type = '{kind}'
   AND m.timestamp >= {after} AND m.timestamp <= o.created_at
  GROUP BY o.id
)"
        ));
    }
    ctes.join(",\n")
}

/// The opportunity's own fields the view carries: all but `source`, which it decides.
fn own_fields() -> impl Iterator<Item = Arc<Field>> {
    Table::Opportunities
        .schema()
        .fields()
        .iter()
        .filter(|f| f.name() != "source")
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
}

/// The view's columns: the opportunity's own, then `source`, `source_rule`,
/// `first_touch_channel` and `first_touch_at`, then its account's name and segments
/// (`account_name`, `industry`, `region`, `country`, `tier`, `is_target`), which the pipeline
/// reports group by, then the sales milestones before it (`demo_request_at`,
/// `meeting_scheduled_at`, `meeting_held_at`, see [`milestone_chain`]).
pub fn schema() -> SchemaRef {
    let mut fields: Vec<Arc<Field>> = own_fields().collect();
    for name in ["source", "source_rule", "first_touch_channel"] {
        fields.push(Arc::new(Field::new(name, DataType::Utf8, true)));
    }
    fields.push(Arc::new(Field::new(
        "first_touch_at",
        abmeter_model::table::timestamp_type(),
        true,
    )));
    for name in ["account_name", "industry", "region", "country", "tier"] {
        fields.push(Arc::new(Field::new(name, DataType::Utf8, true)));
    }
    fields.push(Arc::new(Field::new("is_target", DataType::Boolean, true)));
    for kind in MILESTONES {
        fields.push(Arc::new(Field::new(
            format!("{kind}_at"),
            abmeter_model::table::timestamp_type(),
            true,
        )));
    }
    Arc::new(Schema::new(fields))
}
