//! The engagement heatmap (SPEC §4): departments × seniority levels of one account or a set
//! of accounts, each cell the unweighted minutes and the engaged contacts, against the
//! config's ideal heatmap: blind spots and `coverage`.

use std::collections::BTreeMap;

use abmeter_model::Config;
use abmeter_model::config::{DEPARTMENTS, SENIORITIES};
use abmeter_model::report::{Column, ColumnKind, Report, View};
use abmeter_store::StoreError;
use chrono::NaiveDate;
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::scope::{Filters, facts};
use crate::to_report::query_report;

#[derive(Debug, Clone)]
pub struct Params {
    /// `[start, end)`.
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The window's name in the params (`2026-Q3`, or `90 days to 2026-09-30`).
    pub label: String,
    pub filters: Filters,
}

pub fn sql(p: &Params) -> String {
    format!(
        "SELECT f.department, f.seniority, sum(f.minutes) AS minutes,\n  \
         count(DISTINCT CASE WHEN f.minutes > 0 THEN f.contact_id END) AS engaged_contacts\n\
         FROM {} f LEFT JOIN accounts a ON a.id = f.account_id\n\
         WHERE f.day >= DATE '{}' AND f.day < DATE '{}'{}\n\
         GROUP BY f.department, f.seniority",
        facts(p.filters.needs_raw_events()),
        p.start,
        p.end,
        p.filters.sql()
    )
}

/// Position of a value in a SPEC list, unknown names last in name order.
fn rank(list: &[&str], v: &str) -> usize {
    list.iter().position(|x| *x == v).unwrap_or(list.len())
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let cells = query_report(ctx, "heatmap", Map::new(), &sql(p)).await?;
    // (department, seniority) → (minutes, engaged contacts)
    let mut actual: BTreeMap<(String, String), (f64, i64)> = BTreeMap::new();
    for row in &cells.rows {
        let text = |i: usize| row[i].as_str().unwrap_or("unknown").to_string();
        actual.insert(
            (text(0), text(1)),
            (row[2].as_f64().unwrap_or(0.0), row[3].as_i64().unwrap_or(0)),
        );
    }
    let mut keys: Vec<(String, String)> = actual
        .iter()
        .filter(|(_, (m, _))| *m > 0.0)
        .map(|(k, _)| k.clone())
        .collect();
    for (dep, row) in &config.ideal_heatmap {
        for (sen, ideal) in row {
            if *ideal > 0.0 && !keys.contains(&(dep.clone(), sen.clone())) {
                keys.push((dep.clone(), sen.clone()));
            }
        }
    }
    keys.sort_by_key(|(d, s)| (rank(&DEPARTMENTS, d), d.clone(), rank(&SENIORITIES, s)));

    let mut params = Map::new();
    params.insert("window".into(), json!(p.label));
    params.insert("start".into(), json!(p.start.to_string()));
    params.insert("end".into(), json!(p.end.to_string()));
    p.filters.params(&mut params);
    let mut r = Report::new(
        "heatmap",
        params,
        vec![
            Column::new("department", ColumnKind::Text),
            Column::new("seniority", ColumnKind::Text),
            Column::new("minutes", ColumnKind::Number),
            Column::new("engaged_contacts", ColumnKind::Integer),
            Column::new("ideal_minutes", ColumnKind::Number),
            Column::new("blind_spot", ColumnKind::Bool),
        ],
    );
    let (mut with_ideal, mut met) = (0u32, 0u32);
    let mut blind = Vec::new();
    for (dep, sen) in keys {
        let (minutes, contacts) = actual
            .get(&(dep.clone(), sen.clone()))
            .copied()
            .unwrap_or((0.0, 0));
        let ideal = config.ideal_minutes(&dep, &sen);
        let blind_spot = ideal > 0.0 && minutes < ideal;
        if ideal > 0.0 {
            with_ideal += 1;
            if !blind_spot {
                met += 1;
            }
        }
        if blind_spot {
            blind.push(json!({"department": dep, "seniority": sen, "minutes": minutes, "ideal_minutes": ideal}));
        }
        r.rows.push(vec![
            json!(dep),
            json!(sen),
            json!(minutes),
            json!(contacts),
            if ideal > 0.0 {
                json!(ideal)
            } else {
                Value::Null
            },
            json!(blind_spot),
        ]);
    }
    let coverage = (with_ideal > 0).then(|| f64::from(met) / f64::from(with_ideal));
    r.extra.insert("coverage".into(), json!(coverage));
    r.extra.insert("blind_spots".into(), Value::Array(blind));
    r.view = View::Grid {
        row: "department".into(),
        column: "seniority".into(),
        columns: SENIORITIES.iter().map(|s| s.to_string()).collect(),
        value: "minutes".into(),
    };
    Ok(r)
}
