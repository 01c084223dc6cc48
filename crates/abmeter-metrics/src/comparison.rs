//! A period beside the one before it, the shape most KPI reports share: each metric `m`,
//! then every `previous_m`, then every `m_change_pct`; and the period's params.

use abmeter_model::Period;
use abmeter_model::report::{Column, ColumnKind};
use serde_json::{Map, Value, json};

use crate::cells::change_pct;

/// The columns for `metrics`: the metrics, their `previous_` values, their `_change_pct`.
pub fn columns(metrics: &[&str], kind: impl Fn(&str) -> ColumnKind) -> Vec<Column> {
    let mut out: Vec<Column> = metrics.iter().map(|m| Column::new(*m, kind(m))).collect();
    out.extend(
        metrics
            .iter()
            .map(|m| Column::new(format!("previous_{m}"), kind(m))),
    );
    out.extend(
        metrics
            .iter()
            .map(|m| Column::new(format!("{m}_change_pct"), ColumnKind::Number)),
    );
    out
}

/// The cells for [`columns`]: `now`, then `before`, then the change of each.
pub fn values(now: &[Value], before: &[Value]) -> Vec<Value> {
    let mut out = now.to_vec();
    out.extend(before.iter().cloned());
    out.extend(now.iter().zip(before).map(|(a, b)| change_pct(a, b)));
    out
}

/// `period`, `start`, `end` and `previous_period`.
pub fn params(period: &Period) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("period".into(), json!(period.label()));
    out.insert("start".into(), json!(period.start.to_string()));
    out.insert("end".into(), json!(period.end.to_string()));
    out.insert("previous_period".into(), json!(period.previous().label()));
    out
}
