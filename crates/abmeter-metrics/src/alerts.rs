//! Surge and decline alerts (SPEC §4), per account and ISO week W: the baseline is the mean
//! and population standard deviation of the weekly weighted minutes of the
//! `alerts.baseline_weeks` weeks before W (weeks without activity count as 0);
//! z = (current − mean) / max(sd, 1). Surge: current ≥ `alerts.min_minutes`,
//! current ≥ `surge_ratio` × mean and z ≥ `surge_z`. Decline: mean ≥ `alerts.min_minutes`,
//! current ≤ `decline_ratio` × mean and z ≤ `decline_z`. Each alert names the three contacts
//! and activity types that moved most in its direction (current week against their own
//! baseline mean).

use std::collections::{BTreeMap, HashMap};

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Granularity, Period};
use abmeter_store::StoreError;
use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::scope::{Filters, contact_name, facts, quote};
use crate::to_report::query_report;

/// Contacts and types named per alert.
const TOP: usize = 3;

#[derive(Debug, Clone)]
pub struct Params {
    /// Any day of the last week judged.
    pub at: NaiveDate,
    /// Weeks judged, ending with the week of `at`.
    pub weeks: u32,
    pub filters: Filters,
}

/// One alert, before it becomes a report row.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: &'static str,
    pub account_id: String,
    pub account_name: Option<String>,
    pub week: String,
    pub week_start: NaiveDate,
    pub current: f64,
    pub baseline: f64,
    pub baseline_sd: f64,
    pub ratio: Option<f64>,
    pub z: f64,
    pub top_contacts: Vec<Value>,
    pub top_types: Vec<Value>,
}

impl Alert {
    /// Identifies the alert for good: what a webhook receiver deduplicates on.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.kind, self.account_id, self.week)
    }
}

/// The weekly per-account sums alerts are judged on.
pub fn weekly_sql(from: NaiveDate, end: NaiveDate, filters: &Filters) -> String {
    format!(
        "SELECT f.account_id, max(a.name) AS account_name,\n  \
         CAST(date_trunc('week', CAST(f.day AS TIMESTAMP)) AS DATE) AS week_start,\n  \
         sum(f.weighted_minutes) AS weighted_minutes\n\
         FROM {} f LEFT JOIN accounts a ON a.id = f.account_id\n\
         WHERE f.day >= DATE '{from}' AND f.day < DATE '{end}'{}\n\
         GROUP BY f.account_id, 3",
        facts(filters.needs_raw_events()),
        filters.sql()
    )
}

/// Mean and population standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn date_of(v: &Value) -> Option<NaiveDate> {
    v.as_str()?.get(..10)?.parse().ok()
}

/// Finds the alerts (without their top contacts and types).
pub async fn find(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Vec<Alert>, StoreError> {
    let c = &config.alerts;
    let base_weeks = u64::from(c.baseline_weeks);
    let weeks = u64::from(p.weeks.max(1));
    let last = Period::containing(Granularity::Week, p.at, 1);
    let first = last.start - Days::new(7 * (weeks - 1));
    let from = first - Days::new(7 * base_weeks);
    let n = (base_weeks + weeks) as usize;
    let sums = query_report(
        ctx,
        "alerts",
        Map::new(),
        &weekly_sql(from, last.end, &p.filters),
    )
    .await?;
    let mut series: BTreeMap<String, (Option<String>, Vec<f64>)> = BTreeMap::new();
    for row in &sums.rows {
        let (Some(account), Some(week)) = (row[0].as_str(), date_of(&row[2])) else {
            continue;
        };
        let i = ((week - from).num_days() / 7) as usize;
        let entry = series
            .entry(account.to_string())
            .or_insert_with(|| (row[1].as_str().map(str::to_string), vec![0.0; n]));
        if i < n {
            entry.1[i] += row[3].as_f64().unwrap_or(0.0);
        }
    }
    let mut alerts = Vec::new();
    for (account, (name, wm)) in series {
        for i in base_weeks as usize..n {
            let current = wm[i];
            let (mean, sd) = mean_sd(&wm[i - base_weeks as usize..i]);
            let z = (current - mean) / sd.max(1.0);
            let kind = if current >= c.min_minutes
                && current >= c.surge_ratio * mean
                && z >= c.surge_z
            {
                "surge"
            } else if mean >= c.min_minutes && current <= c.decline_ratio * mean && z <= c.decline_z
            {
                "decline"
            } else {
                continue;
            };
            let week_start = from + Days::new(7 * i as u64);
            alerts.push(Alert {
                kind,
                account_id: account.clone(),
                account_name: name.clone(),
                week: Period::containing(Granularity::Week, week_start, 1).label(),
                week_start,
                current,
                baseline: mean,
                baseline_sd: sd,
                ratio: (mean > 0.0).then(|| current / mean),
                z,
                top_contacts: Vec::new(),
                top_types: Vec::new(),
            });
        }
    }
    alerts.sort_by(|a, b| {
        (a.week_start, a.kind)
            .cmp(&(b.week_start, b.kind))
            .then(b.z.abs().total_cmp(&a.z.abs()))
            .then(a.account_id.cmp(&b.account_id))
    });
    explain(ctx, config, &mut alerts).await?;
    Ok(alerts)
}

/// Fills each alert's top contacts and types: those whose own weekly minutes moved most in
/// the alert's direction, current week against the mean of their baseline weeks.
async fn explain(
    ctx: &SessionContext,
    config: &Config,
    alerts: &mut [Alert],
) -> Result<(), StoreError> {
    if alerts.is_empty() {
        return Ok(());
    }
    let base_weeks = u64::from(config.alerts.baseline_weeks);
    let accounts: Vec<String> = {
        let mut a: Vec<String> = alerts.iter().map(|a| quote(&a.account_id)).collect();
        a.sort();
        a.dedup();
        a
    };
    let from =
        alerts.iter().map(|a| a.week_start).min().expect("alerts") - Days::new(7 * base_weeks);
    let end = alerts.iter().map(|a| a.week_start).max().expect("alerts") + Days::new(7);
    let sql = format!(
        "SELECT f.account_id, CAST(date_trunc('week', CAST(f.day AS TIMESTAMP)) AS DATE) AS week_start,\n  \
         f.contact_id, max({name}) AS contact_name, f.type,\n  \
         sum(f.weighted_minutes) AS weighted_minutes\n\
         FROM engagement_cube f LEFT JOIN contacts c ON c.id = f.contact_id\n\
         WHERE f.account_id IN ({accounts}) AND f.day >= DATE '{from}' AND f.day < DATE '{end}'\n\
         GROUP BY f.account_id, 2, f.contact_id, f.type",
        name = contact_name("c"),
        accounts = accounts.join(", ")
    );
    let rows = query_report(ctx, "alerts", Map::new(), &sql).await?.rows;
    for alert in alerts.iter_mut() {
        let lo = alert.week_start - Days::new(7 * base_weeks);
        // key → (name, current, baseline sum)
        let mut contacts: HashMap<Option<String>, (Option<String>, f64, f64)> = HashMap::new();
        let mut types: HashMap<String, (f64, f64)> = HashMap::new();
        for row in rows
            .iter()
            .filter(|r| r[0].as_str() == Some(&alert.account_id))
        {
            let Some(week) = date_of(&row[1]) else {
                continue;
            };
            if week < lo || week > alert.week_start {
                continue;
            }
            let wm = row[5].as_f64().unwrap_or(0.0);
            let current = week == alert.week_start;
            let c = contacts
                .entry(row[2].as_str().map(str::to_string))
                .or_insert((
                    row[3]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    0.0,
                    0.0,
                ));
            let t = types
                .entry(row[4].as_str().unwrap_or("").to_string())
                .or_insert((0.0, 0.0));
            if current {
                c.1 += wm;
                t.0 += wm;
            } else {
                c.2 += wm;
                t.1 += wm;
            }
        }
        let sign = if alert.kind == "surge" { 1.0 } else { -1.0 };
        let n = base_weeks as f64;
        let mut cs: Vec<(f64, Value)> = contacts
            .into_iter()
            .map(|(id, (name, cur, base))| {
                let base = base / n;
                let name = match (&id, name) {
                    (None, _) => Some("(anonymous visitors)".to_string()),
                    (_, name) => name,
                };
                (
                    sign * (cur - base),
                    json!({"contact_id": id, "name": name, "current": cur, "baseline": base}),
                )
            })
            .filter(|(moved, _)| *moved > 0.0)
            .collect();
        cs.sort_by(|a, b| {
            b.0.total_cmp(&a.0).then_with(|| {
                a.1["contact_id"]
                    .to_string()
                    .cmp(&b.1["contact_id"].to_string())
            })
        });
        alert.top_contacts = cs.into_iter().take(TOP).map(|(_, v)| v).collect();
        let mut ts: Vec<(f64, Value)> = types
            .into_iter()
            .map(|(t, (cur, base))| {
                let base = base / n;
                (
                    sign * (cur - base),
                    json!({"type": t, "current": cur, "baseline": base}),
                )
            })
            .filter(|(moved, _)| *moved > 0.0)
            .collect();
        ts.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1["type"].to_string().cmp(&b.1["type"].to_string()))
        });
        alert.top_types = ts.into_iter().take(TOP).map(|(_, v)| v).collect();
    }
    Ok(())
}

pub fn to_report(config: &Config, p: &Params, alerts: &[Alert]) -> Report {
    let c = &config.alerts;
    let mut params = Map::new();
    params.insert("at".into(), json!(p.at.to_string()));
    params.insert("weeks".into(), json!(p.weeks));
    params.insert("baseline_weeks".into(), json!(c.baseline_weeks));
    params.insert("min_minutes".into(), json!(c.min_minutes));
    p.filters.params(&mut params);
    let mut r = Report::new(
        "alerts",
        params,
        vec![
            Column::new("kind", ColumnKind::Text),
            Column::new("account_id", ColumnKind::Text),
            Column::new("account_name", ColumnKind::Text),
            Column::new("week", ColumnKind::Text),
            Column::new("current", ColumnKind::Number),
            Column::new("baseline", ColumnKind::Number),
            Column::new("baseline_sd", ColumnKind::Number),
            Column::new("ratio", ColumnKind::Number),
            Column::new("z", ColumnKind::Number),
            Column::new("top_contacts", ColumnKind::Json),
            Column::new("top_types", ColumnKind::Json),
        ],
    );
    for a in alerts {
        r.rows.push(vec![
            json!(a.kind),
            json!(a.account_id),
            json!(a.account_name),
            json!(a.week),
            json!(a.current),
            json!(a.baseline),
            json!(a.baseline_sd),
            json!(a.ratio),
            json!(a.z),
            Value::Array(a.top_contacts.clone()),
            Value::Array(a.top_types.clone()),
        ]);
    }
    r
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let alerts = find(ctx, config, p).await?;
    Ok(to_report(config, p, &alerts))
}
