//! Assembling validated rows of one canonical table into Arrow record batches.
//!
//! A row is parsed cell by cell into scratch values first and appended to the column
//! builders only when every cell and the row-level rules pass, so a bad row leaves no trace.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use abmeter_model::domain::registrable_domain;
use abmeter_model::table::{FieldKind, FieldSpec, Table};
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::record_batch::RecordBatch;

use crate::cell;

/// The activity types an import accepts: the catalogue plus the config's own.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub activity_types: Arc<HashSet<String>>,
    /// Rows per record batch.
    pub batch_rows: usize,
}

impl ReadOptions {
    pub fn new(activity_types: impl IntoIterator<Item = String>) -> Self {
        ReadOptions {
            activity_types: Arc::new(activity_types.into_iter().collect()),
            batch_rows: 32_768,
        }
    }
}

/// A cell refused: which field and why. The caller adds file and line.
#[derive(Debug)]
pub struct CellError {
    /// Index into the table's fields, or `None` for a row-level rule.
    pub field: Option<usize>,
    pub value: Option<String>,
    pub message: String,
}

enum Parsed {
    Null,
    /// The cell's own text, trimmed (fetched again when appending).
    Text,
    Owned(String),
    I64(i64),
    F64(f64),
    Bool(bool),
    Micros(i64),
    Days(i32),
}

enum Builder {
    Utf8(StringBuilder),
    I64(Int64Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMicrosecondBuilder),
    Date(Date32Builder),
}

impl Builder {
    fn for_kind(kind: FieldKind, capacity: usize) -> Builder {
        use arrow::datatypes::DataType as D;
        match kind.data_type() {
            D::Int64 => Builder::I64(Int64Builder::with_capacity(capacity)),
            D::Float64 => Builder::F64(Float64Builder::with_capacity(capacity)),
            D::Boolean => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            D::Timestamp(..) => Builder::Ts(TimestampMicrosecondBuilder::with_capacity(capacity)),
            D::Date32 => Builder::Date(Date32Builder::with_capacity(capacity)),
            _ => Builder::Utf8(StringBuilder::with_capacity(capacity, capacity * 16)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Utf8(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")),
            Builder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// Builds record batches of one table from rows of text cells.
pub struct RowAssembler {
    table: Table,
    fields: &'static [FieldSpec],
    options: ReadOptions,
    builders: Vec<Builder>,
    scratch: Vec<Parsed>,
    rows: usize,
    /// Entity tables: ids seen in this file, with their line, to refuse a second copy.
    seen_ids: Option<HashMap<String, u64>>,
    properties_field: Option<usize>,
    kind_field: Option<usize>,
    /// Partial rows (see [`RowAssembler::for_patches`]): only the id is required.
    patches: bool,
}

impl RowAssembler {
    pub fn new(table: Table, options: ReadOptions) -> Self {
        let fields = table.fields();
        let seen_ids = (table.merge() == abmeter_model::Merge::UpsertById).then(HashMap::new);
        let mut a = RowAssembler {
            table,
            fields,
            builders: Vec::new(),
            scratch: Vec::with_capacity(fields.len()),
            rows: 0,
            seen_ids,
            properties_field: table.field_index("properties"),
            kind_field: (table == Table::Surveys)
                .then(|| table.field_index("kind"))
                .flatten(),
            options,
            patches: false,
        };
        a.reset_builders();
        a
    }

    /// An assembler of partial rows of an entity table (the server's `identify` and `group`
    /// calls): every field but the id may be empty, and the batches come with the table's
    /// schema made all-nullable. The store lays them over the stored rows.
    pub fn for_patches(table: Table, options: ReadOptions) -> Self {
        let mut a = RowAssembler::new(table, options);
        a.patches = true;
        a.seen_ids = None;
        a
    }

    fn reset_builders(&mut self) {
        let cap = self.options.batch_rows;
        self.builders = self
            .fields
            .iter()
            .map(|f| Builder::for_kind(f.kind, cap))
            .collect();
        self.rows = 0;
    }

    pub fn table(&self) -> Table {
        self.table
    }

    pub fn buffered_rows(&self) -> usize {
        self.rows
    }

    pub fn is_full(&self) -> bool {
        self.rows >= self.options.batch_rows
    }

    /// Validates one row and appends it. `cell(i)` gives the text of field `i` (None or
    /// empty = null). `extra` are unknown columns: merged into `properties` for activities.
    pub fn push_row<'a>(
        &mut self,
        line: u64,
        cell: impl Fn(usize) -> Option<&'a str>,
        extra: &[(&str, serde_json::Value)],
    ) -> Result<(), CellError> {
        self.scratch.clear();
        for (i, spec) in self.fields.iter().enumerate() {
            let text = cell(i).map(str::trim).unwrap_or("");
            if text.is_empty() {
                if spec.required && !(self.patches && i > 0) {
                    return Err(CellError {
                        field: Some(i),
                        value: None,
                        message: "is required but empty".into(),
                    });
                }
                self.scratch.push(Parsed::Null);
                continue;
            }
            match self.parse_cell(spec.kind, text) {
                Ok(p) => self.scratch.push(p),
                Err(message) => {
                    return Err(CellError {
                        field: Some(i),
                        value: Some(text.to_string()),
                        message,
                    });
                }
            }
        }
        self.check_row(line, &cell)?;
        if !extra.is_empty() {
            self.merge_extra_properties(extra);
        }
        for (i, p) in self.scratch.drain(..).enumerate() {
            match (&mut self.builders[i], p) {
                (Builder::Utf8(b), Parsed::Text) => b.append_value(cell(i).unwrap_or("").trim()),
                (Builder::Utf8(b), Parsed::Owned(s)) => b.append_value(s),
                (Builder::Utf8(b), Parsed::Null) => b.append_null(),
                (Builder::I64(b), Parsed::I64(v)) => b.append_value(v),
                (Builder::I64(b), _) => b.append_null(),
                (Builder::F64(b), Parsed::F64(v)) => b.append_value(v),
                (Builder::F64(b), _) => b.append_null(),
                (Builder::Bool(b), Parsed::Bool(v)) => b.append_value(v),
                (Builder::Bool(b), _) => b.append_null(),
                (Builder::Ts(b), Parsed::Micros(v)) => b.append_value(v),
                (Builder::Ts(b), _) => b.append_null(),
                (Builder::Date(b), Parsed::Days(v)) => b.append_value(v),
                (Builder::Date(b), _) => b.append_null(),
                (Builder::Utf8(b), _) => b.append_null(),
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn parse_cell(&self, kind: FieldKind, s: &str) -> Result<Parsed, String> {
        Ok(match kind {
            FieldKind::Text => Parsed::Text,
            // Most cells are already in canonical form: keep their text, copy only the others.
            FieldKind::Email => match cell::parse_email(s)? {
                Cow::Borrowed(_) => Parsed::Text,
                Cow::Owned(e) => Parsed::Owned(e),
            },
            FieldKind::Ip => {
                if cell::is_canonical_ipv4(s) {
                    Parsed::Text
                } else {
                    Parsed::Owned(cell::parse_ip(s)?)
                }
            }
            FieldKind::Domains => Parsed::Owned(parse_domains(s)?),
            FieldKind::Int => Parsed::I64(cell::parse_int(s)?),
            FieldKind::Count => Parsed::I64(cell::parse_count(s)?),
            FieldKind::SurveyScore => Parsed::I64(
                cell::parse_int(s).map_err(|_| "is not a whole-number score".to_string())?,
            ),
            FieldKind::Float => Parsed::F64(cell::parse_float(s)?),
            FieldKind::NonNegative => Parsed::F64(cell::parse_non_negative(s)?),
            FieldKind::Percent => Parsed::F64(cell::parse_percent(s)?),
            FieldKind::Bool => Parsed::Bool(cell::parse_bool(s)?),
            FieldKind::Timestamp => Parsed::Micros(cell::parse_timestamp(s)?),
            FieldKind::Date => Parsed::Days(cell::parse_date(s)?),
            FieldKind::Month => Parsed::Owned(cell::parse_month(s)?),
            FieldKind::JsonObject => Parsed::Owned(cell::parse_json_object(s)?),
            FieldKind::OneOf(allowed) => Parsed::Owned(cell::parse_one_of(s, allowed)?),
            FieldKind::Network => Parsed::Owned(cell::parse_network(s)?),
            FieldKind::ActivityType => {
                if self.options.activity_types.contains(s) {
                    Parsed::Text
                } else {
                    let norm = cell::snake(s);
                    if self.options.activity_types.contains(&norm) {
                        Parsed::Owned(norm)
                    } else {
                        return Err("is not a known activity type (see the [activities] \
                                    catalogue in abmeter.toml, where custom types are declared)"
                            .into());
                    }
                }
            }
        })
    }

    /// Rules that involve more than one cell, or other rows of the same file.
    fn check_row<'a>(
        &mut self,
        line: u64,
        cell: &impl Fn(usize) -> Option<&'a str>,
    ) -> Result<(), CellError> {
        match self.table {
            Table::IpRanges => {
                let has = |name| {
                    let i = self.table.field_index(name).expect("ip_ranges field");
                    !matches!(self.scratch[i], Parsed::Null)
                };
                if !has("account_id") && !has("domain") {
                    return Err(CellError {
                        field: None,
                        value: None,
                        message: "needs an account_id or a domain".into(),
                    });
                }
            }
            Table::Surveys => {
                let kind_i = self.kind_field.expect("surveys.kind");
                let score_i = self.table.field_index("score").expect("surveys.score");
                let (lo, hi) = match &self.scratch[kind_i] {
                    Parsed::Owned(k) if k == "nps" => (0, 10),
                    _ => (1, 5),
                };
                if let Parsed::I64(score) = self.scratch[score_i]
                    && !(lo..=hi).contains(&score)
                {
                    return Err(CellError {
                        field: Some(score_i),
                        value: Some(score.to_string()),
                        message: format!("is out of range for this survey kind ({lo}–{hi})"),
                    });
                }
            }
            _ => {}
        }
        if let Some(seen) = &mut self.seen_ids {
            let id = cell(0).unwrap_or("").trim();
            if let Some(first) = seen.get(id) {
                return Err(CellError {
                    field: Some(0),
                    value: Some(id.to_string()),
                    message: format!("is a duplicate id in this file (first on line {first})"),
                });
            }
            seen.insert(id.to_string(), line);
        }
        Ok(())
    }

    fn merge_extra_properties(&mut self, extra: &[(&str, serde_json::Value)]) {
        let Some(pi) = self.properties_field else {
            return;
        };
        let mut obj = match &self.scratch[pi] {
            Parsed::Owned(json) => match serde_json::from_str::<serde_json::Value>(json) {
                Ok(serde_json::Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            },
            _ => serde_json::Map::new(),
        };
        for (k, v) in extra {
            // The row's own `properties` win over a loose column of the same name.
            obj.entry(k.to_string()).or_insert_with(|| v.clone());
        }
        self.scratch[pi] = Parsed::Owned(serde_json::Value::Object(obj).to_string());
    }

    /// The rows buffered so far as one batch (empty when none).
    pub fn finish_batch(&mut self) -> Option<RecordBatch> {
        if self.rows == 0 {
            return None;
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        self.reset_builders();
        let schema = if self.patches {
            let fields: Vec<_> = self
                .table
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect();
            std::sync::Arc::new(arrow::datatypes::Schema::new(fields))
        } else {
            self.table.schema()
        };
        Some(RecordBatch::try_new(schema, columns).expect("builders follow the schema"))
    }
}

/// `;`-separated domains (commas accepted too), each cut to its registrable domain.
fn parse_domains(s: &str) -> Result<String, String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        match registrable_domain(part) {
            Some(d) if !out.contains(&d) => out.push(d),
            Some(_) => {}
            None => return Err(format!("has {part:?}, which is not a registrable domain")),
        }
    }
    if out.is_empty() {
        return Err("holds no domain".into());
    }
    Ok(out.join(";"))
}
