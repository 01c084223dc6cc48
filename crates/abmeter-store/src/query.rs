//! One DataFusion `SessionContext` over every table of the workspace, as of the manifest
//! it was opened at, and read-only SQL on it.

use std::sync::Arc;

use abmeter_model::Table;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};

use crate::{Store, StoreError};

impl Store {
    /// A query context with every canonical table registered under its SPEC name.
    pub fn session(&self) -> Result<SessionContext, StoreError> {
        let manifest = self.manifest()?;
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let ctx = SessionContext::new_with_config(config);
        for table in Table::ALL {
            let schema = table.schema();
            let files = manifest
                .table(table)
                .map(|t| t.files.as_slice())
                .unwrap_or(&[]);
            if files.is_empty() {
                let empty = MemTable::try_new(schema, vec![vec![]])?;
                ctx.register_table(table.name(), Arc::new(empty))?;
                continue;
            }
            let urls = files
                .iter()
                .map(|f| ListingTableUrl::parse(self.root().join(&f.path).to_string_lossy()))
                .collect::<Result<Vec<_>, _>>()?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(schema);
            ctx.register_table(table.name(), Arc::new(ListingTable::try_new(config)?))?;
        }
        Ok(ctx)
    }

    /// Runs one read-only SQL statement: any DDL, DML, COPY or `SET` is refused.
    pub async fn sql(&self, query: &str) -> Result<(SchemaRef, Vec<RecordBatch>), StoreError> {
        let ctx = self.session()?;
        run_read_only(&ctx, query).await
    }
}

/// Plans `query`, refuses it unless it only reads, then runs it.
pub async fn run_read_only(
    ctx: &SessionContext,
    query: &str,
) -> Result<(SchemaRef, Vec<RecordBatch>), StoreError> {
    let plan = ctx.state().create_logical_plan(query).await?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|e| StoreError::ReadOnly(e.strip_backtrace().to_string()))?;
    let df = ctx.execute_logical_plan(plan).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok((schema, batches))
}
