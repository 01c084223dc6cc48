//! `abmeter sql`: read-only SQL over the workspace, as a report.

use abmeter_model::Report;
use abmeter_store::{Store, StoreError};
use serde_json::{Map, Value};

use crate::batches_to_report;

/// Runs `query` read-only and returns its rows as the `sql` report.
pub async fn run(store: &Store, query: &str) -> Result<Report, StoreError> {
    let (schema, batches) = store.sql(query).await?;
    let mut params = Map::new();
    params.insert("query".into(), Value::String(query.to_string()));
    Ok(batches_to_report("sql", params, &schema, &batches)?)
}
