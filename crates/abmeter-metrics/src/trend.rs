//! The engagement trend, or EKG (SPEC §4): weekly weighted minutes of an account or segment
//! over the last N ISO weeks, each against its trailing baseline, the mean of the 8 weeks
//! before it.

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
}

/// Weekly sums from `from` (a Monday) to `end`, keyed by the week's Monday.
pub fn weekly_sql(from: NaiveDate, end: NaiveDate, filters: &Filters) -> String {
    format!(
        "SELECT date_trunc('week', CAST(f.day AS TIMESTAMP)) AS week_start,\n  \
         sum(f.weighted_minutes) AS weighted_minutes, sum(f.minutes) AS minutes,\n  \
         sum(f.activities) AS activities\n\
         FROM {} f LEFT JOIN accounts a ON a.id = f.account_id\n\
         WHERE f.day >= DATE '{from}' AND f.day < DATE '{end}'{}\n\
         GROUP BY 1",
        facts(filters.needs_raw_events()),
        filters.sql()
    )
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
        &weekly_sql(from, last.end, &p.filters),
    )
    .await?;
    // Dense series from `from`: weeks without activity weigh 0.
    let n = (BASELINE_WEEKS + weeks) as usize;
    let mut wm = vec![0.0; n];
    let mut minutes = vec![0.0; n];
    let mut activities = vec![0i64; n];
    for row in &sums.rows {
        let Some(start) = row[0]
            .as_str()
            .and_then(|s| s.get(..10))
            .and_then(|s| s.parse::<NaiveDate>().ok())
        else {
            continue;
        };
        let i = ((start - from).num_days() / 7) as usize;
        if i < n {
            wm[i] = row[1].as_f64().unwrap_or(0.0);
            minutes[i] = row[2].as_f64().unwrap_or(0.0);
            activities[i] = row[3].as_i64().unwrap_or(0);
        }
    }
    let mut params = Map::new();
    params.insert("at".into(), json!(p.at.to_string()));
    params.insert("weeks".into(), json!(p.weeks));
    params.insert("baseline_weeks".into(), json!(BASELINE_WEEKS));
    p.filters.params(&mut params);
    let mut r = Report::new(
        "trend",
        params,
        vec![
            Column::new("week", ColumnKind::Text),
            Column::new("week_start", ColumnKind::Date),
            Column::new("weighted_minutes", ColumnKind::Number),
            Column::new("minutes", ColumnKind::Number),
            Column::new("activities", ColumnKind::Integer),
            Column::new("baseline", ColumnKind::Number),
        ],
    );
    for i in BASELINE_WEEKS as usize..n {
        let start = from + Days::new(7 * i as u64);
        let baseline =
            wm[i - BASELINE_WEEKS as usize..i].iter().sum::<f64>() / BASELINE_WEEKS as f64;
        r.rows.push(vec![
            json!(Period::containing(Granularity::Week, start, 1).label()),
            json!(start.to_string()),
            json!(wm[i]),
            json!(minutes[i]),
            json!(activities[i]),
            json!(baseline),
        ]);
    }
    r.view = View::Sparkline {
        value: "weighted_minutes".into(),
    };
    Ok(r)
}
