//! Sales follow-up of MQAs (SPEC §4, team readiness): for the accounts that newly qualified
//! in a period, the share that got a sales touch (call, meeting_scheduled, meeting_held,
//! sales_email_reply or a CRM task_completed) within `mqa.follow_up_days` after qualifying,
//! and the median hours to it.
//!
//! The MQA rule is judged every day of the period on the trailing window ending that day;
//! an account *newly qualifies* on the first day of the period it qualifies after a day it
//! did not. The moment it qualified is the activity of that day that made the rule hold
//! (activities in time order, ties by id); a follow-up is a sales touch strictly after it.
//! With `mqa.buying_center = "department"` an account qualifies when its first department
//! does.

use std::collections::{BTreeMap, HashMap};

use abmeter_model::config::BuyingCenter;
use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use chrono::{DateTime, Days, NaiveDate, Utc};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Date32Type, TimestampMicrosecondType};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::cells::{float, median, rfc3339, text};
use crate::scope::{Filters, facts, quote};

/// The activity types that count as a sales touch.
pub const SALES_TOUCHES: [&str; 5] = [
    "call",
    "meeting_scheduled",
    "meeting_held",
    "sales_email_reply",
    "task_completed",
];

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    pub filters: Filters,
}

async fn batches(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, StoreError> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

/// Day-level engagement of one buying center.
#[derive(Default)]
struct CenterDays {
    /// day → (weighted minutes, contacts with minutes > 0)
    days: BTreeMap<NaiveDate, (f64, Vec<String>)>,
}

/// The trailing-window state: weighted minutes and how many window days each contact was
/// engaged on.
#[derive(Default, Clone)]
struct Window {
    wm: f64,
    contacts: HashMap<String, u32>,
}

impl Window {
    fn add(&mut self, wm: f64, contacts: &[String], sign: i32) {
        self.wm += f64::from(sign) * wm;
        for c in contacts {
            let n = self.contacts.entry(c.clone()).or_insert(0);
            *n = n.saturating_add_signed(sign);
            if *n == 0 {
                self.contacts.remove(c);
            }
        }
    }
    fn qualifies(&self, config: &Config) -> bool {
        self.wm >= config.mqa.min_weighted_minutes - 1e-9
            && self.contacts.len() as u32 >= config.mqa.min_contacts
    }
}

/// One newly qualified account.
struct Qualified {
    account: String,
    center: Option<String>,
    day: NaiveDate,
    /// The window before the day's own activities.
    before: Window,
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let m = &config.mqa;
    let by_department = m.buying_center == BuyingCenter::Department;
    let window = u64::from(m.window_days);
    let from = p.period.start - Days::new(window);
    let target = if m.target_only {
        " AND a.is_target = true"
    } else {
        ""
    };
    let center = if by_department {
        "f.department"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    // 1. Daily engagement per buying center, from the cube.
    let sql = format!(
        "SELECT f.account_id, {center} AS center, f.day, f.contact_id, \
         sum(f.weighted_minutes) AS weighted_minutes, sum(f.minutes) AS minutes\n\
         FROM {facts} f LEFT JOIN accounts a ON a.id = f.account_id\n\
         WHERE f.day >= DATE '{from}' AND f.day < DATE '{end}'{target}{filters}\n\
         GROUP BY 1, 2, 3, 4",
        facts = facts(p.filters.needs_raw_events()),
        end = p.period.end,
        filters = p.filters.sql(),
    );
    let mut centers: BTreeMap<(String, Option<String>), CenterDays> = BTreeMap::new();
    for b in batches(ctx, &sql).await? {
        let day = b.column(2).as_primitive::<Date32Type>();
        for i in 0..b.num_rows() {
            let Some(account) = text(&b, "account_id", i) else {
                continue;
            };
            let Some(d) = Date32Type::to_naive_date_opt(day.value(i)) else {
                continue;
            };
            let entry = centers
                .entry((account, text(&b, "center", i)))
                .or_default()
                .days
                .entry(d)
                .or_default();
            entry.0 += float(&b, "weighted_minutes", i).unwrap_or(0.0);
            if float(&b, "minutes", i).unwrap_or(0.0) > 0.0
                && let Some(c) = text(&b, "contact_id", i)
            {
                entry.1.push(c);
            }
        }
    }
    // 2. Judge every day of the period; keep each account's first new qualification.
    let mut first: BTreeMap<String, Qualified> = BTreeMap::new();
    for ((account, center), data) in &centers {
        let mut w = Window::default();
        let mut was = false;
        let mut d = from;
        let empty = (0.0, Vec::new());
        while d < p.period.end {
            let (wm, cs) = data.days.get(&d).unwrap_or(&empty);
            let before = w.clone();
            w.add(*wm, cs, 1);
            let out = d - Days::new(window);
            if let Some((wm, cs)) = data.days.get(&out) {
                w.add(*wm, cs, -1);
            }
            let before = {
                let mut b = before;
                if let Some((wm, cs)) = data.days.get(&out) {
                    b.add(*wm, cs, -1);
                }
                b
            };
            let now = w.qualifies(config);
            if now && !was && d >= p.period.start && first.get(account).is_none_or(|q| q.day > d) {
                first.insert(
                    account.clone(),
                    Qualified {
                        account: account.clone(),
                        center: center.clone(),
                        day: d,
                        before,
                    },
                );
            }
            was = now;
            d = d + Days::new(1);
        }
    }
    // 3. The moment each qualified, from that day's raw activities; 4. its first sales touch.
    let accounts: Vec<String> = first.keys().map(|a| quote(a)).collect();
    let mut moments: HashMap<String, (i64, String)> = HashMap::new();
    let mut touches: HashMap<String, Vec<(i64, String, String)>> = HashMap::new();
    if !accounts.is_empty() {
        let days: Vec<String> = {
            let mut d: Vec<NaiveDate> = first.values().map(|q| q.day).collect();
            d.sort();
            d.dedup();
            d.iter().map(|d| format!("DATE '{d}'")).collect()
        };
        let lo = first.values().map(|q| q.day).min().expect("some");
        let hi = first.values().map(|q| q.day).max().expect("some") + Days::new(1);
        let sql = format!(
            "SELECT resolved_account_id AS account_id, department, resolved_contact_id AS contact_id, \
             id, timestamp, minutes, weighted_minutes\n\
             FROM resolved_activities\n\
             WHERE timestamp >= TIMESTAMP '{lo}T00:00:00Z' AND timestamp < TIMESTAMP '{hi}T00:00:00Z'\n  \
             AND CAST(timestamp AS DATE) IN ({days}) AND resolved_account_id IN ({accounts})\n\
             ORDER BY timestamp, id",
            days = days.join(", "),
            accounts = accounts.join(", "),
        );
        let mut state: HashMap<String, Window> = first
            .iter()
            .map(|(a, q)| (a.clone(), q.before.clone()))
            .collect();
        for b in batches(ctx, &sql).await? {
            let ts = b
                .column_by_name("timestamp")
                .expect("ts")
                .as_primitive::<TimestampMicrosecondType>();
            for i in 0..b.num_rows() {
                let Some(account) = text(&b, "account_id", i) else {
                    continue;
                };
                let Some(q) = first.get(&account) else {
                    continue;
                };
                if moments.contains_key(&account) {
                    continue;
                }
                let t = ts.value(i);
                let day = DateTime::<Utc>::from_timestamp_micros(t).map(|d| d.date_naive());
                if day != Some(q.day)
                    || (q.center.is_some() && text(&b, "department", i) != q.center)
                {
                    continue;
                }
                let w = state.get_mut(&account).expect("state");
                let contacts: Vec<String> = match text(&b, "contact_id", i) {
                    Some(c) if float(&b, "minutes", i).unwrap_or(0.0) > 0.0 => vec![c],
                    _ => Vec::new(),
                };
                w.add(
                    float(&b, "weighted_minutes", i).unwrap_or(0.0),
                    &contacts,
                    1,
                );
                if w.qualifies(config) {
                    moments.insert(account, (t, text(&b, "id", i).unwrap_or_default()));
                }
            }
        }
        let end = p.period.end + Days::new(u64::from(m.follow_up_days) + 1);
        let types: Vec<String> = SALES_TOUCHES.iter().map(|t| quote(t)).collect();
        let sql = format!(
            "SELECT resolved_account_id AS account_id, id, timestamp, type FROM resolved_activities\n\
             WHERE timestamp >= TIMESTAMP '{lo}T00:00:00Z' AND timestamp < TIMESTAMP '{end}T00:00:00Z'\n  \
             AND type IN ({types}) AND resolved_account_id IN ({accounts})\n\
             ORDER BY timestamp, id",
            types = types.join(", "),
            accounts = accounts.join(", "),
        );
        for b in batches(ctx, &sql).await? {
            let ts = b
                .column_by_name("timestamp")
                .expect("ts")
                .as_primitive::<TimestampMicrosecondType>();
            for i in 0..b.num_rows() {
                if let Some(account) = text(&b, "account_id", i) {
                    touches.entry(account).or_default().push((
                        ts.value(i),
                        text(&b, "id", i).unwrap_or_default(),
                        text(&b, "type", i).unwrap_or_default(),
                    ));
                }
            }
        }
    }
    let names = account_names(ctx, &accounts).await?;
    // 5. The rows and the summary.
    let limit = i64::from(m.follow_up_days) * 24 * 3600 * 1_000_000;
    let mut r = Report::new(
        "mqa_follow_up",
        params(config, p),
        vec![
            Column::new("account_id", ColumnKind::Text),
            Column::new("account_name", ColumnKind::Text),
            Column::new("department", ColumnKind::Text),
            Column::new("qualified_at", ColumnKind::Timestamp),
            Column::new("followed_up", ColumnKind::Bool),
            Column::new("first_touch_at", ColumnKind::Timestamp),
            Column::new("first_touch_type", ColumnKind::Text),
            Column::new("hours_to_follow_up", ColumnKind::Number),
        ],
    );
    if !by_department {
        r.columns.remove(2);
    }
    let mut hours = Vec::new();
    let mut qualified: Vec<&Qualified> = first.values().collect();
    qualified.sort_by(|a, b| {
        let ma = moments.get(&a.account).map(|m| m.0);
        let mb = moments.get(&b.account).map(|m| m.0);
        (a.day, ma, &a.account).cmp(&(b.day, mb, &b.account))
    });
    for q in qualified {
        // Without the raw activity (it cannot happen unless the cube is stale) the day's
        // start stands in for the moment.
        let (at, _) = moments.get(&q.account).cloned().unwrap_or_else(|| {
            (
                q.day
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc()
                    .timestamp_micros(),
                String::new(),
            )
        });
        // Strictly later in time: a touch at the same instant is not a reaction to it.
        let touch = touches
            .get(&q.account)
            .and_then(|ts| ts.iter().find(|(t, _, _)| *t > at && *t - at <= limit));
        let h = touch.map(|(t, _, _)| (t - at) as f64 / 3_600_000_000.0);
        if let Some(h) = h {
            hours.push(h);
        }
        let mut row = vec![
            json!(q.account),
            names
                .get(&q.account)
                .cloned()
                .map_or(Value::Null, Value::String),
            json!(q.center),
            json!(rfc3339(at)),
            json!(touch.is_some()),
            touch.map_or(Value::Null, |(t, _, _)| json!(rfc3339(*t))),
            touch.map_or(Value::Null, |(_, _, ty)| json!(ty)),
            h.map_or(Value::Null, |h| json!(h)),
        ];
        if !by_department {
            row.remove(2);
        }
        r.rows.push(row);
    }
    let n = r.rows.len();
    r.extra.insert("newly_qualified".into(), json!(n));
    r.extra.insert("followed_up".into(), json!(hours.len()));
    r.extra.insert(
        "followed_up_share".into(),
        if n == 0 {
            Value::Null
        } else {
            json!(hours.len() as f64 / n as f64)
        },
    );
    r.extra.insert(
        "median_hours".into(),
        median(&mut hours).map_or(Value::Null, |m| json!(m)),
    );
    Ok(r)
}

async fn account_names(
    ctx: &SessionContext,
    quoted: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    if quoted.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT id, name FROM accounts WHERE id IN ({})",
        quoted.join(", ")
    );
    for b in batches(ctx, &sql).await? {
        for i in 0..b.num_rows() {
            if let (Some(id), Some(name)) = (text(&b, "id", i), text(&b, "name", i)) {
                out.insert(id, name);
            }
        }
    }
    Ok(out)
}

fn params(config: &Config, p: &Params) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("period".into(), json!(p.period.label()));
    params.insert("start".into(), json!(p.period.start.to_string()));
    params.insert("end".into(), json!(p.period.end.to_string()));
    params.insert("follow_up_days".into(), json!(config.mqa.follow_up_days));
    params.insert("sales_touches".into(), json!(SALES_TOUCHES));
    p.filters.params(&mut params);
    params
}
