//! Touches and journeys out of the workspace (SPEC §7).
//!
//! Touches come from `attribution_touches` (activities of an attribution touch type with
//! their resolved account; a cache kept like the engagement cube). An opportunity's touches
//! are its account's touches from `lookback_days` before its creation up to its conversion: the creation for
//! pipeline credit, the end of the close date for revenue credit (won opportunities).
//! Account journeys for the data-driven models are the converting ones (each opportunity's
//! touches) and, per account without an opportunity in the period, the touches of the
//! `lookback_days` before the period's end.

use std::collections::BTreeMap;

use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use chrono::Days;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Float64Type;
use datafusion::execution::context::SessionContext;

use super::{Conversion, Credit, Touch};
use crate::cells::{micros, rfc3339, text, ts};

/// One opportunity with its touches in time order (ties by activity id).
#[derive(Debug, Clone)]
pub struct Opportunity {
    pub id: String,
    pub account_id: String,
    pub amount: f64,
    pub is_won: bool,
    pub conversion: Conversion,
    pub touches: Vec<Touch>,
}

/// Which key a touch is credited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Channel,
    Campaign,
}

impl By {
    pub fn name(self) -> &'static str {
        match self {
            By::Channel => "channel",
            By::Campaign => "campaign",
        }
    }

    /// The touch's key: its channel, or its campaign (`(none)` without one).
    pub fn key(self, t: &Touch) -> String {
        match self {
            By::Channel => t.channel.clone(),
            By::Campaign => t.campaign.clone().unwrap_or_else(|| "(none)".into()),
        }
    }
}

/// The opportunities credited in `period`: created in it (pipeline), or won with a close
/// date in it (revenue); each with its touches. Only `account`'s, when given.
pub async fn opportunities(
    ctx: &SessionContext,
    config: &Config,
    period: &Period,
    credit: Credit,
    account: Option<&str>,
) -> Result<Vec<Opportunity>, StoreError> {
    let (s, e) = (period.start, period.end);
    let only = account.map_or(String::new(), |a| {
        format!(" AND account_id = {}", crate::scope::quote(a))
    });
    let scope = match credit {
        Credit::Pipeline => format!(
            "created_at >= TIMESTAMP '{s}T00:00:00Z' AND created_at < TIMESTAMP '{e}T00:00:00Z'"
        ),
        Credit::Revenue => {
            format!("is_won = true AND close_date >= DATE '{s}' AND close_date < DATE '{e}'")
        }
    } + &only;
    // A close date covers its whole day (SPEC §11).
    let conversion = match credit {
        Credit::Pipeline => "o.created_at".to_string(),
        Credit::Revenue => {
            "CAST(o.close_date AS TIMESTAMP) + INTERVAL '1 day' - INTERVAL '1 microsecond'".into()
        }
    };
    let lookback = config.attribution.lookback_days;
    // The touch window of every opportunity in scope, as literal bounds: Parquet then skips
    // the months outside it instead of resolving every stored activity.
    let bounds = format!(
        "WITH o AS (SELECT created_at, close_date FROM opportunities WHERE {scope})\n\
         SELECT min(o.created_at) - INTERVAL '{lookback} days' AS lo, \
         arrow_cast(max({conversion}), 'Timestamp(Microsecond, Some(\"UTC\"))') AS hi FROM o"
    );
    let window = ctx.sql(&bounds).await?.collect().await?;
    let (lo, hi) = match window.first().filter(|b| b.num_rows() > 0) {
        Some(b) => (ts(b, "lo", 0), ts(b, "hi", 0)),
        None => (None, None),
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "WITH o AS (\n  SELECT id, account_id, coalesce(amount, 0.0) AS amount, coalesce(is_won, false) AS is_won,\n    \
         created_at, close_date FROM opportunities WHERE {scope}\n)\n\
         SELECT o.id AS opportunity_id, o.account_id, o.amount, o.is_won, o.created_at,\n  \
         arrow_cast({conversion}, 'Timestamp(Microsecond, Some(\"UTC\"))') AS converted_at,\n  \
         t.id AS touch_id, t.timestamp AS touch_at, t.type AS touch_type,\n  \
         t.channel, t.campaign_id\n\
         FROM o LEFT JOIN (\n  SELECT id, timestamp, type, channel, campaign_id, account_id\n  \
         FROM attribution_touches\n  \
         WHERE timestamp >= TIMESTAMP '{lo}' AND timestamp <= TIMESTAMP '{hi}'\n) t\n  \
         ON t.account_id = o.account_id\n  \
         AND t.timestamp >= o.created_at - INTERVAL '{lookback} days'\n  \
         AND t.timestamp <= {conversion}\n\
         ORDER BY o.id, t.timestamp, t.id",
        lo = rfc3339(lo),
        hi = rfc3339(hi),
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut out: Vec<Opportunity> = Vec::new();
    for b in &batches {
        let amount = b
            .column_by_name("amount")
            .expect("amount")
            .as_primitive::<Float64Type>();
        let won = b.column_by_name("is_won").expect("is_won").as_boolean();
        for i in 0..b.num_rows() {
            let id = text(b, "opportunity_id", i).unwrap_or_default();
            if out.last().is_none_or(|o| o.id != id) {
                let created_at = ts(b, "created_at", i).unwrap_or(0);
                out.push(Opportunity {
                    id: id.clone(),
                    account_id: text(b, "account_id", i).unwrap_or_default(),
                    amount: amount.value(i),
                    is_won: won.value(i),
                    conversion: Conversion {
                        created_at,
                        converted_at: ts(b, "converted_at", i).unwrap_or(created_at),
                        credit,
                    },
                    touches: Vec::new(),
                });
            }
            if let (Some(touch_id), Some(at)) = (text(b, "touch_id", i), ts(b, "touch_at", i)) {
                out.last_mut().expect("pushed").touches.push(Touch {
                    at,
                    id: touch_id,
                    kind: text(b, "touch_type", i).unwrap_or_default(),
                    channel: text(b, "channel", i).unwrap_or_else(|| "(none)".into()),
                    campaign: text(b, "campaign_id", i),
                });
            }
        }
    }
    Ok(out)
}

/// The touches of each account in `[end − lookback_days, end)`, for the non-converting
/// journeys of accounts without an opportunity in the period.
pub async fn account_touches(
    ctx: &SessionContext,
    config: &Config,
    end: chrono::NaiveDate,
) -> Result<BTreeMap<String, Vec<Touch>>, StoreError> {
    let from = end - Days::new(config.attribution.lookback_days.into());
    let sql = format!(
        "SELECT account_id, id, timestamp, type, channel, campaign_id\n\
         FROM attribution_touches\n\
         WHERE timestamp >= TIMESTAMP '{from}T00:00:00Z' AND timestamp < TIMESTAMP '{end}T00:00:00Z'\n\
         ORDER BY account_id, timestamp, id",
    );
    let mut out: BTreeMap<String, Vec<Touch>> = BTreeMap::new();
    for b in &ctx.sql(&sql).await?.collect().await? {
        for i in 0..b.num_rows() {
            let (Some(account), Some(at)) = (text(b, "account_id", i), ts(b, "timestamp", i))
            else {
                continue;
            };
            out.entry(account).or_default().push(Touch {
                at,
                id: text(b, "id", i).unwrap_or_default(),
                kind: text(b, "type", i).unwrap_or_default(),
                channel: text(b, "channel", i).unwrap_or_else(|| "(none)".into()),
                campaign: text(b, "campaign_id", i),
            });
        }
    }
    Ok(out)
}

/// The period's bounds in µs, for callers that compare touch times.
pub fn period_micros(period: &Period) -> (i64, i64) {
    (micros(period.start), micros(period.end))
}
