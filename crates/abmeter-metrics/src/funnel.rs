//! The funnel's top (SPEC §5): leads (contacts created in the period) and MQLs (contacts
//! whose `mql_at` is in it) by lead source or by the channel or campaign of their first
//! touch, what each cost, and how many are at target and ICP accounts; then demo requests
//! and meetings by channel and target/non-target, and `meeting_to_opp_pct`.
//!
//! - `cost_per_lead` / `cost_per_mql` = cost / leads (MQLs), where cost is what `roi`
//!   counts: ad spend (`ad_totals`) plus the period's share of campaign costs. By channel
//!   or campaign each row carries its own cost; by lead source only the total row can
//!   (lead sources have no spend of their own).
//! - `target_account_pct` / `icp_pct`: leads whose account is a target account / fits the
//!   `[icp]` config, over leads × 100 (`icp_pct` null without an ICP configured).
//! - `meeting_to_opp_pct`: accounts with a meeting held in the period that had an
//!   opportunity created within `outcomes.opportunity_window_days` after one of those
//!   meetings / accounts with a meeting held × 100.

use std::collections::{BTreeMap, HashMap};

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use abmeter_store::cube::{CONTACT_FIRST_TOUCH_TABLE, MILESTONES_TABLE};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::attribution::journeys::By;
use crate::cells::{DAY_MICROS, float, micros, ratio, text, ts};
use crate::comparison;
use crate::roi::cost_sql;

/// What leads and MQLs are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelBy {
    LeadSource,
    Touch(By),
}

impl FunnelBy {
    pub fn name(self) -> &'static str {
        match self {
            FunnelBy::LeadSource => "lead_source",
            FunnelBy::Touch(b) => b.name(),
        }
    }
}

impl std::str::FromStr for FunnelBy {
    type Err = String;

    fn from_str(s: &str) -> Result<FunnelBy, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lead_source" | "source" => Ok(FunnelBy::LeadSource),
            "channel" => Ok(FunnelBy::Touch(By::Channel)),
            "campaign" | "campaign_id" => Ok(FunnelBy::Touch(By::Campaign)),
            other => Err(format!("`{other}` is not lead_source, channel or campaign")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    pub by: FunnelBy,
}

/// One contact in the funnel.
struct Lead {
    key: String,
    created: Option<i64>,
    mql: Option<i64>,
    target: bool,
    icp: bool,
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let now = p.period.clone();
    let before = now.previous();
    let (from, to) = (before.start, now.end);
    let key = match p.by {
        FunnelBy::LeadSource => "coalesce(nullif(trim(c.lead_source), ''), '(none)')".to_string(),
        FunnelBy::Touch(By::Channel) => "coalesce(f.channel, '(untracked)')".to_string(),
        FunnelBy::Touch(By::Campaign) => "coalesce(f.campaign_id, '(none)')".to_string(),
    };
    let window = |col: &str| {
        format!("({col} >= TIMESTAMP '{from}T00:00:00Z' AND {col} < TIMESTAMP '{to}T00:00:00Z')")
    };
    let contacts = ctx
        .sql(&format!(
            "SELECT {key} AS key, c.created_at, c.mql_at, a.is_target, a.industry,
       CAST(a.employees AS BIGINT) AS employees, a.country
FROM contacts c
LEFT JOIN {CONTACT_FIRST_TOUCH_TABLE} f ON f.contact_id = c.id
LEFT JOIN accounts a ON a.id = c.account_id
WHERE {} OR {}",
            window("c.created_at"),
            window("c.mql_at")
        ))
        .await?
        .collect()
        .await?;
    let icp = &config.icp;
    let mut leads = Vec::new();
    for b in &contacts {
        let targets = b
            .column_by_name("is_target")
            .and_then(|c| c.as_boolean_opt());
        let employees = b
            .column_by_name("employees")
            .and_then(|c| c.as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>());
        for i in 0..b.num_rows() {
            let industry = text(b, "industry", i);
            let country = text(b, "country", i);
            let staff = employees.filter(|a| !a.is_null(i)).map(|a| a.value(i));
            leads.push(Lead {
                key: text(b, "key", i).unwrap_or_else(|| "(none)".into()),
                created: ts(b, "created_at", i),
                mql: ts(b, "mql_at", i),
                target: targets.is_some_and(|a| !a.is_null(i) && a.value(i)),
                icp: !icp.is_empty() && icp.matches(industry.as_deref(), staff, country.as_deref()),
            });
        }
    }

    // Cost per key (channel or campaign) and in all, for both periods.
    let cost = |period: &Period, by: By| cost_sql(period, by);
    let mut costs: [HashMap<String, f64>; 2] = [HashMap::new(), HashMap::new()];
    let by_touch = match p.by {
        FunnelBy::Touch(b) => b,
        FunnelBy::LeadSource => By::Channel,
    };
    for (slot, period) in [&now, &before].into_iter().enumerate() {
        for b in &ctx.sql(&cost(period, by_touch)).await?.collect().await? {
            for i in 0..b.num_rows() {
                if let Some(k) = text(b, "key", i) {
                    *costs[slot].entry(k).or_default() += float(b, "cost", i).unwrap_or(0.0);
                }
            }
        }
    }
    let total_cost = [
        costs[0].values().sum::<f64>() + 0.0,
        costs[1].values().sum::<f64>() + 0.0,
    ];

    let in_period = |t: Option<i64>, period: &Period| {
        t.is_some_and(|t| micros(period.start) <= t && t < micros(period.end))
    };
    // key → [now, before] → (leads, mqls, target leads, icp leads)
    let mut by: BTreeMap<&str, [[f64; 4]; 2]> = BTreeMap::new();
    for l in &leads {
        for (slot, period) in [&now, &before].into_iter().enumerate() {
            let e = &mut by.entry(l.key.as_str()).or_default()[slot];
            if in_period(l.created, period) {
                e[0] += 1.0;
                e[2] += f64::from(u8::from(l.target));
                e[3] += f64::from(u8::from(l.icp));
            }
            if in_period(l.mql, period) {
                e[1] += 1.0;
            }
        }
    }
    let figures = |c: &[f64; 4], cost: Option<f64>| -> Vec<Value> {
        vec![
            json!(c[0] as u64),
            json!(c[1] as u64),
            cost.map_or(Value::Null, |x| json!(x)),
            cost.map_or(Value::Null, |x| ratio(x, c[0])),
            cost.map_or(Value::Null, |x| ratio(x, c[1])),
            ratio(c[2] * 100.0, c[0]),
            if icp.is_empty() {
                Value::Null
            } else {
                ratio(c[3] * 100.0, c[0])
            },
        ]
    };
    const FIELDS: [&str; 7] = [
        "leads",
        "mqls",
        "cost",
        "cost_per_lead",
        "cost_per_mql",
        "target_account_pct",
        "icp_pct",
    ];
    let mut columns = vec![Column::new(p.by.name(), ColumnKind::Text)];
    let kind = |f: &str| match f {
        "leads" | "mqls" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    };
    columns.extend(comparison::columns(&FIELDS, kind));
    let mut params = comparison::params(&now);
    params.insert("by".into(), json!(p.by.name()));
    params.insert("currency".into(), json!(config.finance.currency));
    let mut rep = Report::new("funnel", params, columns);
    let row = |key: &str, c: &[[f64; 4]; 2], cost: [Option<f64>; 2]| {
        let (a, b) = (figures(&c[0], cost[0]), figures(&c[1], cost[1]));
        let mut row = vec![json!(key)];
        row.extend(comparison::values(&a, &b));
        row
    };
    let mut rows: Vec<(f64, Vec<Value>)> = Vec::new();
    let mut total = [[0.0; 4]; 2];
    for (k, c) in &by {
        for (t, x) in total.iter_mut().zip(c) {
            for (a, b) in t.iter_mut().zip(x) {
                *a += b;
            }
        }
        let cost = match p.by {
            FunnelBy::LeadSource => [None, None],
            FunnelBy::Touch(_) => [
                Some(costs[0].get(*k).copied().unwrap_or(0.0)),
                Some(costs[1].get(*k).copied().unwrap_or(0.0)),
            ],
        };
        rows.push((c[0][0], row(k, c, cost)));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    rep.rows = rows.into_iter().map(|(_, r)| r).collect();
    // The whole funnel against every cost.
    rep.rows.push(row(
        "(total)",
        &total,
        [Some(total_cost[0]), Some(total_cost[1])],
    ));

    rep.extra.extend(meetings(ctx, config, &now).await?);
    Ok(rep)
}

/// Demo requests and meetings in the period by channel and target/non-target (`meetings`),
/// and `meeting_to_opp_pct` with its counts.
async fn meetings(
    ctx: &SessionContext,
    config: &Config,
    period: &Period,
) -> Result<Map<String, Value>, StoreError> {
    let (s, e) = (period.start, period.end);
    let window = i64::from(config.outcomes.opportunity_window_days) * DAY_MICROS as i64;
    let counts = ctx
        .sql(&format!(
            "SELECT m.channel, coalesce(a.is_target, false) AS target, m.type,
       CAST(count(*) AS DOUBLE) AS n
FROM {MILESTONES_TABLE} m LEFT JOIN accounts a ON a.id = m.account_id
WHERE m.timestamp >= TIMESTAMP '{s}T00:00:00Z' AND m.timestamp < TIMESTAMP '{e}T00:00:00Z'
GROUP BY 1, 2, 3"
        ))
        .await?
        .collect()
        .await?;
    // (channel, target) → [demo_request, meeting_scheduled, meeting_held]
    let mut by: BTreeMap<(String, bool), [u64; 3]> = BTreeMap::new();
    for b in &counts {
        let target = b.column_by_name("target").and_then(|c| c.as_boolean_opt());
        for i in 0..b.num_rows() {
            let (Some(channel), Some(t)) = (text(b, "channel", i), text(b, "type", i)) else {
                continue;
            };
            let Some(j) = abmeter_store::cube::MILESTONES.iter().position(|m| *m == t) else {
                continue;
            };
            let is_target = target.is_some_and(|a| !a.is_null(i) && a.value(i));
            by.entry((channel, is_target)).or_default()[j] +=
                float(b, "n", i).unwrap_or(0.0) as u64;
        }
    }
    // Accounts with a meeting held, and whether an opportunity followed one within the window.
    let held = ctx
        .sql(&format!(
            "SELECT m.account_id, m.timestamp AS held_at, o.created_at
FROM {MILESTONES_TABLE} m
LEFT JOIN opportunities o ON o.account_id = m.account_id
  AND o.created_at > m.timestamp
  AND o.created_at <= m.timestamp + INTERVAL '{days} days'
WHERE m.type = 'meeting_held'
  AND m.timestamp >= TIMESTAMP '{s}T00:00:00Z' AND m.timestamp < TIMESTAMP '{e}T00:00:00Z'",
            days = config.outcomes.opportunity_window_days
        ))
        .await?
        .collect()
        .await?;
    let mut accounts: BTreeMap<String, bool> = BTreeMap::new();
    for b in &held {
        for i in 0..b.num_rows() {
            let Some(account) = text(b, "account_id", i) else {
                continue;
            };
            let followed = match (ts(b, "held_at", i), ts(b, "created_at", i)) {
                (Some(m), Some(o)) => o > m && o - m <= window,
                _ => false,
            };
            *accounts.entry(account).or_default() |= followed;
        }
    }
    let with_opp = accounts.values().filter(|f| **f).count() as f64;
    let rows: Vec<Value> = by
        .iter()
        .map(|((channel, target), c)| {
            json!({"channel": channel, "target": target, "demo_requests": c[0],
                   "meetings_scheduled": c[1], "meetings_held": c[2]})
        })
        .collect();
    let met = accounts.len() as f64;
    let mut out = Map::new();
    out.insert("meetings".into(), Value::Array(rows));
    out.insert("accounts_with_meeting_held".into(), json!(met as u64));
    out.insert(
        "accounts_with_opportunity_after".into(),
        json!(with_opp as u64),
    );
    out.insert("meeting_to_opp_pct".into(), ratio(with_opp * 100.0, met));
    Ok(out)
}
