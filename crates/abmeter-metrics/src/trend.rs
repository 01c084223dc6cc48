//! The engagement trend, or EKG (SPEC §4): weekly weighted minutes of an account or segment
//! over the last N ISO weeks, each against its trailing baseline, the mean of the 8 weeks
//! before it, and their population standard deviation (the band around the baseline).

use abmeter_model::report::{Column, ColumnKind, Report, View};
use abmeter_model::{Granularity, Period};
use abmeter_store::StoreError;
use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, json};

use crate::scope::{Filters, facts};
use crate::to_report::query_report;

/// Weeks in the trailing baseline.
pub const BASELINE_WEEKS: u64 = 8;

#[derive(Debug, Clone)]
pub struct Params {
    /// Any day of the last week shown.
    pub at: NaiveDate,
    pub weeks: u32,
    pub filters: Filters,
    /// One series per account (the accounts list's sparklines) instead of one in all.
    pub by_account: bool,
}

/// Weekly sums from `from` (a Monday) to `end`, keyed by the week's Monday (and the
/// account, `by_account`).
pub fn weekly_sql(from: NaiveDate, end: NaiveDate, filters: &Filters, by_account: bool) -> String {
    let (account, group) = if by_account {
        (
            ", f.account_id, a.name AS account_name",
            ", f.account_id, a.name",
        )
    } else {
        ("", "")
    };
    format!(
        "SELECT date_trunc('week', CAST(f.day AS TIMESTAMP)) AS week_start,\n  \
         sum(f.weighted_minutes) AS weighted_minutes, sum(f.minutes) AS minutes,\n  \
         sum(f.activities) AS activities{account}\n\
         FROM {} f LEFT JOIN accounts a ON a.id = f.account_id\n\
         WHERE f.day >= DATE '{from}' AND f.day < DATE '{end}'{}\n\
         GROUP BY 1{group}",
        facts(filters.needs_raw_events()),
        filters.sql()
    )
}

/// One weekly series: weighted minutes, minutes and activities per week from the first
/// baseline week.
#[derive(Clone)]
struct Weekly {
    wm: Vec<f64>,
    minutes: Vec<f64>,
    activities: Vec<i64>,
}

pub async fn report(ctx: &SessionContext, p: &Params) -> Result<Report, StoreError> {
    let weeks = u64::from(p.weeks.max(1));
    let last = Period::containing(Granularity::Week, p.at, 1);
    let first = last.start - Days::new(7 * (weeks - 1));
    let from = first - Days::new(7 * BASELINE_WEEKS);
    let sums = query_report(
        ctx,
        "trend",
        Map::new(),
        &weekly_sql(from, last.end, &p.filters, p.by_account),
    )
    .await?;
    // Dense series from `from`: weeks without activity weigh 0. Accounts sorted by id.
    let n = (BASELINE_WEEKS + weeks) as usize;
    let empty = Weekly {
        wm: vec![0.0; n],
        minutes: vec![0.0; n],
        activities: vec![0; n],
    };
    let mut series: std::collections::BTreeMap<(String, String), Weekly> =
        std::collections::BTreeMap::new();
    for row in &sums.rows {
        let Some(start) = row[0]
            .as_str()
            .and_then(|s| s.get(..10))
            .and_then(|s| s.parse::<NaiveDate>().ok())
        else {
            continue;
        };
        let key = if p.by_account {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (text(&row[4]), text(&row[5]))
        } else {
            Default::default()
        };
        let s = series.entry(key).or_insert_with(|| empty.clone());
        let i = ((start - from).num_days() / 7) as usize;
        if i < n {
            s.wm[i] = row[1].as_f64().unwrap_or(0.0);
            s.minutes[i] = row[2].as_f64().unwrap_or(0.0);
            s.activities[i] = row[3].as_i64().unwrap_or(0);
        }
    }
    if !p.by_account && series.is_empty() {
        series.insert(Default::default(), empty);
    }
    let mut params = Map::new();
    params.insert("at".into(), json!(p.at.to_string()));
    params.insert("weeks".into(), json!(p.weeks));
    params.insert("baseline_weeks".into(), json!(BASELINE_WEEKS));
    if p.by_account {
        params.insert("by".into(), json!("account"));
    }
    p.filters.params(&mut params);
    let mut columns = Vec::new();
    if p.by_account {
        columns.push(Column::new("account_id", ColumnKind::Text));
        columns.push(Column::new("account_name", ColumnKind::Text));
    }
    columns.extend([
        Column::new("week", ColumnKind::Text),
        Column::new("week_start", ColumnKind::Date),
        Column::new("weighted_minutes", ColumnKind::Number),
        Column::new("minutes", ColumnKind::Number),
        Column::new("activities", ColumnKind::Integer),
        Column::new("baseline", ColumnKind::Number),
        Column::new("baseline_sd", ColumnKind::Number),
    ]);
    let mut r = Report::new("trend", params, columns);
    for ((account_id, account_name), s) in &series {
        for i in BASELINE_WEEKS as usize..n {
            let start = from + Days::new(7 * i as u64);
            let window = &s.wm[i - BASELINE_WEEKS as usize..i];
            let baseline = window.iter().sum::<f64>() / BASELINE_WEEKS as f64;
            // Population SD, as the alerts use: the band the dashboard draws around it.
            let baseline_sd = (window.iter().map(|v| (v - baseline).powi(2)).sum::<f64>()
                / BASELINE_WEEKS as f64)
                .sqrt();
            let mut row = Vec::with_capacity(8);
            if p.by_account {
                row.push(json!(account_id));
                row.push(json!(account_name));
            }
            row.extend([
                json!(Period::containing(Granularity::Week, start, 1).label()),
                json!(start.to_string()),
                json!(s.wm[i]),
                json!(s.minutes[i]),
                json!(s.activities[i]),
                json!(baseline),
                json!(baseline_sd),
            ]);
            r.rows.push(row);
        }
    }
    if p.by_account {
        return Ok(r);
    }
    r.view = View::Sparkline {
        value: "weighted_minutes".into(),
    };
    Ok(r)
}
