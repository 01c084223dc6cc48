//! Expansion (SPEC §8): upsell and cross-sell opportunities created, won and lost by product
//! for a period beside the one before; and, per customer account, the two signals expansion
//! teams act on.
//!
//! - A **customer** during period P: an account with MRR > 0 in the month before P starts,
//!   or with an opportunity won in the 12 months before P starts.
//! - **Cross-sell signal**: contacts of a customer account whose first engaged activity
//!   (minutes > 0) ever falls in P — new people, often in a new department, discovering you.
//! - **Upsell signal**: existing people of a customer account (engaged before P) attending a
//!   webinar, event or dinner in P.

use std::collections::BTreeMap;

use abmeter_model::Period;
use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_store::StoreError;
use chrono::Months;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::cells::{at, micros, ratio, rfc3339, strings, times};
use crate::comparison;
use crate::deals::{Deal, Dim, Text, load};
use crate::mrr::Month;
use crate::scope::contact_name;

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
}

/// The opportunity types that expand a customer.
pub const EXPANSION_TYPES: [&str; 2] = ["upsell", "cross_sell"];

/// Attendance that signals an upsell.
pub const ATTENDANCE: [&str; 3] = ["webinar_attended", "event_attended", "dinner_attended"];

const FIELDS: [&str; 6] = ["created", "pipeline", "won", "revenue", "lost", "win_rate"];

/// How many people each account's signal lists.
const PEOPLE_LISTED: usize = 10;

pub async fn report(ctx: &SessionContext, p: &Params) -> Result<Report, StoreError> {
    let filter = format!(
        "coalesce(o.type, 'new_business') IN ({})",
        EXPANSION_TYPES.map(|t| format!("'{t}'")).join(", ")
    );
    let deals = load(ctx, &filter, &[Dim::Product, Dim::Type]).await?;
    let mut rep = opportunities(p, &deals);
    let start = micros(p.period.start);
    let end = micros(p.period.end);
    let customers = format!(
        "SELECT account_id FROM revenue WHERE month = '{month}' AND mrr > 0
  UNION SELECT account_id FROM opportunities
  WHERE coalesce(is_won, false) AND close_date >= DATE '{year_before}'
    AND close_date < DATE '{start_day}'",
        month = Month::of(p.period.start).plus(-1),
        year_before = p.period.start - Months::new(12),
        start_day = p.period.start,
    );
    let ts = |t: i64| format!("arrow_cast({t}, 'Timestamp(Microsecond, Some(\"UTC\"))')");
    // Each engaged contact's account and first engaged moment, up to the period's end.
    let engaged = format!(
        "SELECT resolved_contact_id AS contact_id, max(resolved_account_id) AS account_id,
         min(timestamp) AS first_at, max(department) AS department, max(seniority) AS seniority
  FROM resolved_activities
  WHERE resolved_contact_id IS NOT NULL AND minutes > 0 AND timestamp < {end}
  GROUP BY resolved_contact_id",
        end = ts(end)
    );
    let person = format!(
        "e.account_id, a.name AS account_name, e.contact_id, {name} AS contact_name, c.title,
       e.department, e.seniority",
        name = contact_name("c")
    );
    let cross = format!(
        "WITH customers AS ({customers}), engaged AS ({engaged})
SELECT {person}, e.first_at AS at, NULL AS type
FROM engaged e JOIN customers k ON k.account_id = e.account_id
LEFT JOIN contacts c ON c.id = e.contact_id LEFT JOIN accounts a ON a.id = e.account_id
WHERE e.first_at >= {start}
ORDER BY e.account_id, e.first_at, e.contact_id",
        start = ts(start)
    );
    let upsell = format!(
        "WITH customers AS ({customers}), engaged AS ({engaged})
SELECT {person}, r.timestamp AS at, r.type
FROM resolved_activities r
JOIN engaged e ON e.contact_id = r.resolved_contact_id AND e.first_at < {start}
JOIN customers k ON k.account_id = e.account_id
LEFT JOIN contacts c ON c.id = e.contact_id LEFT JOIN accounts a ON a.id = e.account_id
WHERE r.type IN ({types}) AND r.timestamp >= {start} AND r.timestamp < {end}
ORDER BY e.account_id, r.timestamp, e.contact_id",
        start = ts(start),
        end = ts(end),
        types = ATTENDANCE.map(|t| format!("'{t}'")).join(", "),
    );
    for (name, sql) in [("cross_sell_signals", cross), ("upsell_signals", upsell)] {
        let mut people = Vec::new();
        for b in &ctx.sql(&sql).await?.collect().await? {
            let s = |c: &str| strings(b, c);
            let (account, account_name, contact, contact_name, title, dept, seniority, kind) = (
                s("account_id"),
                s("account_name"),
                s("contact_id"),
                s("contact_name"),
                s("title"),
                s("department"),
                s("seniority"),
                s("type"),
            );
            let stamp = times(b, "at");
            for i in 0..b.num_rows() {
                let Some(a) = at(account, i) else { continue };
                people.push(Signal {
                    account: Text::from(a),
                    account_name: at(account_name, i).map(Text::from),
                    person: json!({
                        "contact_id": at(contact, i), "contact_name": at(contact_name, i),
                        "title": at(title, i), "department": at(dept, i),
                        "seniority": at(seniority, i), "type": at(kind, i),
                        "at": at(stamp, i).map(rfc3339),
                    }),
                });
            }
        }
        rep.extra.insert(name.into(), per_account(people));
    }
    Ok(rep)
}

/// One person behind a signal.
#[derive(Debug, Clone)]
pub struct Signal {
    pub account: Text,
    pub account_name: Option<Text>,
    pub person: Value,
}

/// Signals grouped per account, the accounts with the most people first: `people` counts
/// distinct contacts, `signals` every row (an upsell attendee may attend twice).
pub fn per_account(signals: Vec<Signal>) -> Value {
    let mut accounts: BTreeMap<Text, (Option<Text>, Vec<Value>)> = BTreeMap::new();
    for s in signals {
        let e = accounts
            .entry(s.account)
            .or_insert((s.account_name, Vec::new()));
        e.1.push(s.person);
    }
    let mut out: Vec<(usize, Value)> = accounts
        .into_iter()
        .map(|(id, (name, rows))| {
            let mut contacts: Vec<&str> = rows
                .iter()
                .filter_map(|r| r["contact_id"].as_str())
                .collect();
            contacts.sort_unstable();
            contacts.dedup();
            let n = contacts.len();
            let v = json!({"account_id": id.as_str(), "account_name": name.as_deref(),
                           "people": n, "signals": rows.len(),
                           "contacts": rows.iter().take(PEOPLE_LISTED).collect::<Vec<_>>()});
            (n, v)
        })
        .collect();
    // Stable: equal counts stay in account id order.
    out.sort_by_key(|a| std::cmp::Reverse(a.0));
    Value::Array(out.into_iter().map(|(_, v)| v).collect())
}

/// Expansion opportunities by product and type, the period beside the one before.
pub fn opportunities(p: &Params, deals: &[Deal]) -> Report {
    let (now, before) = (p.period.clone(), p.period.previous());
    let mut columns = vec![
        Column::new("product", ColumnKind::Text),
        Column::new("type", ColumnKind::Text),
    ];
    columns.extend(comparison::columns(&FIELDS, |f| match f {
        "created" | "won" | "lost" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    }));
    let mut rep = Report::new("expansion", comparison::params(&now), columns);
    // (product, type) → [now, before] × [created, pipeline, won, revenue, lost].
    type Key = (bool, Option<Text>, Text);
    let mut groups: BTreeMap<Key, [[f64; 5]; 2]> = BTreeMap::new();
    for d in deals {
        let product = d.value(Dim::Product).map(Text::from);
        let key = (product.is_none(), product, Text::from(d.kind()));
        for (slot, w) in [&now, &before].into_iter().enumerate() {
            let created = d.created_in(w.start, w.end);
            let closed = d.closed_in(w.start, w.end);
            if !created && !closed {
                continue;
            }
            let f = &mut groups.entry(key.clone()).or_default()[slot];
            if created {
                f[0] += 1.0;
                f[1] += d.amount;
            }
            if closed && d.won {
                f[2] += 1.0;
                f[3] += d.amount;
            } else if closed {
                f[4] += 1.0;
            }
        }
    }
    let values = |f: &[f64; 5]| -> Vec<Value> {
        vec![
            json!(f[0] as u64),
            json!(f[1]),
            json!(f[2] as u64),
            json!(f[3]),
            json!(f[4] as u64),
            ratio(f[2], f[2] + f[4]),
        ]
    };
    for ((_, product, kind), [a, b]) in &groups {
        let mut row = vec![json!(product.as_deref()), json!(kind.as_str())];
        row.extend(comparison::values(&values(a), &values(b)));
        rep.rows.push(row);
    }
    let mut totals = Map::new();
    for (slot, name) in [(0, "period"), (1, "previous_period")] {
        let mut t = [0.0; 5];
        for f in groups.values() {
            for (x, y) in t.iter_mut().zip(f[slot]) {
                *x += y;
            }
        }
        let obj: Map<String, Value> = FIELDS
            .iter()
            .map(|f| f.to_string())
            .zip(values(&t))
            .collect();
        totals.insert(name.into(), Value::Object(obj));
    }
    rep.extra.insert("totals".into(), Value::Object(totals));
    rep
}
