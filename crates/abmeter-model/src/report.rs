//! `Report`: what every metric returns and every output renders (SPEC §9 JSON shape).

use serde_json::{Map, Value};

/// The type of a report column, so renderers can align and round without guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Integer,
    Number,
    Bool,
    Timestamp,
    Date,
    /// Nested JSON (lists, objects).
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(name: impl Into<String>, kind: ColumnKind) -> Column {
        Column {
            name: name.into(),
            kind,
        }
    }
}

/// How a terminal should draw a report besides its table.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// Only the table.
    Table,
    /// A grid: one row per value of `row`, one column per value of `column` (in the order
    /// given), each cell shaded by `value` (the heatmap).
    Grid {
        row: String,
        column: String,
        columns: Vec<String>,
        value: String,
    },
    /// A sparkline of `value` over the rows, in row order (the EKG trend).
    Sparkline { value: String },
    /// Instead of one wide table, a card per row: each metric beside its
    /// `previous_<metric>` and `<metric>_change_pct` (the pipeline's dozens of figures).
    Scorecard,
}

/// A named table of results with the parameters that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub name: String,
    pub params: Map<String, Value>,
    pub columns: Vec<Column>,
    /// One `Vec` per row, cells in column order; `Value::Null` for null.
    pub rows: Vec<Vec<Value>>,
    /// Further top-level JSON fields beside `rows` (a heatmap's `coverage`, a timeline's
    /// per-day `series`), printed after the table on a terminal.
    pub extra: Map<String, Value>,
    pub view: View,
}

impl Report {
    pub fn new(name: impl Into<String>, params: Map<String, Value>, columns: Vec<Column>) -> Self {
        Report {
            name: name.into(),
            params,
            columns,
            rows: Vec::new(),
            extra: Map::new(),
            view: View::Table,
        }
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The SPEC §9 JSON object: `{"report": NAME, "params": {...}, "rows": [{col: value}]}`.
    pub fn to_json(&self) -> Value {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let obj: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.name.clone(), v.clone()))
                    .collect();
                Value::Object(obj)
            })
            .collect();
        let mut out = Map::new();
        out.insert("report".into(), Value::String(self.name.clone()));
        out.insert("params".into(), Value::Object(self.params.clone()));
        out.insert("rows".into(), Value::Array(rows));
        for (k, v) in &self.extra {
            out.insert(k.clone(), v.clone());
        }
        Value::Object(out)
    }
}
