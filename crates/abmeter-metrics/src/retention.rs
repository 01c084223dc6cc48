//! Net and gross revenue retention (SPEC §8) between a start month S and an end month E.
//!
//! The cohort is every unit (an account; an account's product with `--by product`) with
//! MRR > 0 in S. `nrr` = Σ MRR_E / Σ MRR_S over the cohort; `grr` = Σ min(MRR_E, MRR_S) /
//! Σ MRR_S; expansion and contraction are the cohort's units still paying in E; churn is
//! the cohort's units at 0 in E; `new_mrr` is E's MRR of units outside the cohort.
//! `arr_start` / `arr_end` = 12 × Σ MRR of every unit in S / E. Beside the rows, `nrr_series`
//! gives the same retention for each of the 12 months up to E, each against the month the
//! same distance (E − S) before it.

use std::collections::HashMap;

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_store::StoreError;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::cells::ratio;
use crate::deals::{Dim, Text};
use crate::mrr::{Book, Month, Unit};

#[derive(Debug, Clone)]
pub struct Params {
    pub from: Month,
    pub to: Month,
    pub by: Option<Dim>,
}

/// The cohort movement between two months, over some units.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Movement {
    pub mrr_start: f64,
    pub mrr_end: f64,
    pub cohort_units: f64,
    pub cohort_mrr_end: f64,
    pub retained_mrr: f64,
    pub expansion_mrr: f64,
    pub contraction_mrr: f64,
    pub churned_mrr: f64,
    pub churned_units: f64,
    pub new_mrr: f64,
    pub new_units: f64,
}

impl Movement {
    /// The movement of `units` from month `s` to month `e`.
    pub fn of<'u>(book: &Book, units: impl Iterator<Item = &'u Unit>, s: Month, e: Month) -> Self {
        let mut m = Movement::default();
        for u in units {
            let (start, end) = (book.at(u, s), book.at(u, e));
            m.mrr_start += start;
            m.mrr_end += end;
            if start > 0.0 {
                m.cohort_units += 1.0;
                m.cohort_mrr_end += end;
                m.retained_mrr += start.min(end);
                if end > 0.0 {
                    m.expansion_mrr += (end - start).max(0.0);
                    m.contraction_mrr += (start - end).max(0.0);
                } else {
                    m.churned_mrr += start;
                    m.churned_units += 1.0;
                }
            } else if end > 0.0 {
                m.new_mrr += end;
                m.new_units += 1.0;
            }
        }
        m
    }

    pub fn nrr(&self) -> Value {
        ratio(self.cohort_mrr_end, self.mrr_start)
    }

    pub fn grr(&self) -> Value {
        ratio(self.retained_mrr, self.mrr_start)
    }

    /// Churned cohort units / cohort units (a fraction).
    pub fn logo_churn_rate(&self) -> Value {
        ratio(self.churned_units, self.cohort_units)
    }

    fn values(&self) -> Vec<Value> {
        vec![
            json!(12.0 * self.mrr_start),
            json!(12.0 * self.mrr_end),
            json!(self.mrr_start),
            json!(self.mrr_end),
            self.nrr(),
            self.grr(),
            json!(self.expansion_mrr),
            json!(self.contraction_mrr),
            json!(self.churned_mrr),
            json!(self.churned_units as u64),
            json!(self.cohort_units as u64),
            self.logo_churn_rate(),
            json!(self.new_mrr),
            json!(self.new_units as u64),
        ]
    }
}

const FIELDS: [&str; 14] = [
    "arr_start",
    "arr_end",
    "mrr_start",
    "mrr_end",
    "nrr",
    "grr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "churned_accounts",
    "cohort_accounts",
    "logo_churn_rate",
    "new_mrr",
    "new_accounts",
];

/// How many months `nrr_series` covers.
const SERIES_MONTHS: i32 = 12;

pub async fn report(ctx: &SessionContext, p: &Params) -> Result<Report, StoreError> {
    let book = Book::load(ctx, p.by == Some(Dim::Product)).await?;
    Ok(compute(&book, p))
}

pub fn compute(book: &Book, p: &Params) -> Report {
    let mut columns = Vec::new();
    if let Some(dim) = p.by {
        columns.push(Column::new(dim.name(), ColumnKind::Text));
        if dim == Dim::Account {
            columns.push(Column::new("account_name", ColumnKind::Text));
        }
    }
    columns.extend(FIELDS.iter().map(|f| Column::new(*f, kind(f))));
    let mut params = Map::new();
    params.insert("from".into(), json!(p.from.to_string()));
    params.insert("to".into(), json!(p.to.to_string()));
    params.insert("months".into(), json!(p.to.0 - p.from.0));
    params.insert("by".into(), json!(p.by.map(Dim::name)));
    let mut rep = Report::new("retention", params, columns);

    let mut groups: HashMap<Option<Text>, Vec<&Unit>> = HashMap::new();
    for unit in book.mrr.keys() {
        let key = p.by.and_then(|d| book.value(unit, d));
        groups.entry(key).or_default().push(unit);
    }
    let mut rows: Vec<(Option<Text>, Movement)> = groups
        .into_iter()
        .map(|(k, units)| (k, Movement::of(book, units.into_iter(), p.from, p.to)))
        .filter(|(_, m)| m.mrr_start > 0.0 || m.mrr_end > 0.0)
        .collect();
    // The largest starting MRR first; an empty segment last.
    rows.sort_by(|(ka, a), (kb, b)| {
        (ka.is_none(), -a.mrr_start, -a.mrr_end, ka)
            .partial_cmp(&(kb.is_none(), -b.mrr_start, -b.mrr_end, kb))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if p.by.is_none() && rows.is_empty() {
        rows.push((None, Movement::default()));
    }
    for (key, m) in rows {
        let mut row = Vec::new();
        if let Some(dim) = p.by {
            row.push(json!(key.as_deref()));
            if dim == Dim::Account {
                row.push(json!(key.as_deref().and_then(|a| book.account_name(a))));
            }
        }
        row.extend(m.values());
        rep.rows.push(row);
    }

    let gap = p.to.0 - p.from.0;
    let series: Vec<Value> = (0..SERIES_MONTHS)
        .rev()
        .map(|back| {
            let e = p.to.plus(-back);
            let m = Movement::of(book, book.mrr.keys(), e.plus(-gap), e);
            json!({"month": e.to_string(), "from": e.plus(-gap).to_string(),
                   "mrr": m.mrr_end, "arr": 12.0 * m.mrr_end,
                   "nrr": m.nrr(), "grr": m.grr(), "logo_churn_rate": m.logo_churn_rate()})
        })
        .collect();
    rep.extra.insert("nrr_series".into(), Value::Array(series));
    rep
}

fn kind(field: &str) -> ColumnKind {
    match field {
        "churned_accounts" | "cohort_accounts" | "new_accounts" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    }
}
