//! Arrow record batches → `Report` rows, numbers as JSON numbers, timestamps RFC 3339.

use abmeter_model::report::{Column, ColumnKind, Report};
use arrow::datatypes::{DataType, Schema};
use arrow::json::writer::{JsonArray, WriterBuilder};
use arrow::record_batch::RecordBatch;
use serde_json::{Map, Value};

/// Builds a report from query results; every column of `schema` becomes a report column.
pub fn batches_to_report(
    name: &str,
    params: Map<String, Value>,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<Report, arrow::error::ArrowError> {
    let columns: Vec<Column> = schema
        .fields()
        .iter()
        .map(|f| Column {
            name: f.name().clone(),
            kind: column_kind(f.data_type()),
        })
        .collect();
    let mut report = Report::new(name, params, columns);
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let mut buf = Vec::new();
        let mut writer = WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, JsonArray>(&mut buf);
        writer.write(batch)?;
        writer.finish()?;
        drop(writer);
        let rows: Vec<Map<String, Value>> = serde_json::from_slice(&buf)
            .map_err(|e| arrow::error::ArrowError::JsonError(e.to_string()))?;
        for mut obj in rows {
            let row = report
                .columns
                .iter()
                .map(|c| normalise(c.kind, obj.remove(&c.name).unwrap_or(Value::Null)))
                .collect();
            report.rows.push(row);
        }
    }
    Ok(report)
}

/// Non-finite floats become null (SPEC §0: never NaN or infinity).
fn normalise(kind: ColumnKind, v: Value) -> Value {
    match (kind, &v) {
        (ColumnKind::Number, Value::String(s)) if s.parse::<f64>().is_err() => Value::Null,
        _ => v,
    }
}

fn column_kind(dt: &DataType) -> ColumnKind {
    use DataType as D;
    match dt {
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => {
            ColumnKind::Integer
        }
        D::Float16 | D::Float32 | D::Float64 | D::Decimal128(..) | D::Decimal256(..) => {
            ColumnKind::Number
        }
        D::Boolean => ColumnKind::Bool,
        D::Timestamp(..) => ColumnKind::Timestamp,
        D::Date32 | D::Date64 => ColumnKind::Date,
        D::List(_) | D::LargeList(_) | D::Struct(_) | D::Map(..) => ColumnKind::Json,
        D::Dictionary(_, v) => column_kind(v),
        _ => ColumnKind::Text,
    }
}

/// Runs one of our own queries and returns its rows as report `name`.
pub async fn query_report(
    ctx: &datafusion::execution::context::SessionContext,
    name: &str,
    params: Map<String, Value>,
    sql: &str,
) -> Result<Report, abmeter_store::StoreError> {
    let df = ctx.sql(sql).await?;
    let schema = df.schema().as_arrow().clone();
    let batches = df.collect().await?;
    Ok(batches_to_report(name, params, &schema, &batches)?)
}
