//! One DataFusion `SessionContext` over every table of the workspace, as of the manifest
//! it was opened at, and read-only SQL on it.

use std::sync::Arc;

use abmeter_model::Table;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::config::TableParquetOptions;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};

use abmeter_resolve::identity_table;

use crate::identity::IDENTITY_MAP;
use crate::manifest::DataFile;
use crate::{Store, StoreError, ads, cast_batch, cube, resolved};

impl Store {
    /// A query context with every canonical table registered under its SPEC name, plus the
    /// stored `identity_map` and the `resolved_activities` view over both.
    pub async fn session(&self) -> Result<SessionContext, StoreError> {
        let manifest = self.manifest()?;
        let abm_config = self.config()?;
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let ctx = SessionContext::new_with_config(config);
        let pending = crate::pending::published(self.root())
            .map(|p| p.activities_after(manifest.wal_flushed_seq))
            .filter(|batches| !batches.is_empty());
        for table in Table::ALL {
            let files = manifest
                .table(table)
                .map(|t| t.files.as_slice())
                .unwrap_or(&[]);
            if table != Table::Activities {
                self.register_files(&ctx, table.name(), table.schema(), files)?;
                continue;
            }
            // Activities twice: as stored, and as the resolved view reads them. The view's
            // filter (no calls) runs while decoding, as the reader hands out each row group's
            // dictionaries: a filter above the scan would gather its rows into new batches,
            // copying the dictionaries apart.
            for (name, schema, filters_in_scan) in [
                (table.name(), table.schema(), false),
                (resolved::KEYED_ACTIVITIES, resolved::keyed_schema(), true),
            ] {
                let stored = self.files_table(schema.clone(), files, filters_in_scan)?;
                match &pending {
                    // Stored and pending rows as one table: a view over their union.
                    Some(batches) => {
                        let batches = batches
                            .iter()
                            .map(|b| cast_batch(b, &schema))
                            .collect::<Result<Vec<_>, _>>()?;
                        let pending = MemTable::try_new(schema, vec![batches])?;
                        let both = ctx
                            .read_table(stored)?
                            .union(ctx.read_table(Arc::new(pending))?)?;
                        ctx.register_table(name, both.into_view())?;
                    }
                    None => {
                        ctx.register_table(name, stored)?;
                    }
                }
            }
        }
        let files = manifest
            .tables
            .get(IDENTITY_MAP)
            .map(|t| t.files.as_slice())
            .unwrap_or(&[]);
        self.register_files(&ctx, IDENTITY_MAP, identity_table::schema(), files)?;
        resolved::register(
            &ctx,
            self.root().to_path_buf(),
            manifest.clone(),
            abm_config.clone(),
        )?;
        resolved::register_view(&ctx).await?;
        cube::register(self, &ctx, &manifest, &abm_config).await?;
        ads::register(&ctx).await?;
        Ok(ctx)
    }

    /// Registers the Parquet `files` as table `name` (an empty table when there are none).
    pub(crate) fn register_files(
        &self,
        ctx: &SessionContext,
        name: &str,
        schema: SchemaRef,
        files: &[DataFile],
    ) -> Result<(), StoreError> {
        ctx.register_table(name, self.files_table(schema, files, false)?)?;
        Ok(())
    }

    /// The Parquet `files` as one table (an empty table when there are none);
    /// `filters_in_scan` applies a query's filters while decoding (Parquet filter pushdown).
    fn files_table(
        &self,
        schema: SchemaRef,
        files: &[DataFile],
        filters_in_scan: bool,
    ) -> Result<Arc<dyn TableProvider>, StoreError> {
        if files.is_empty() {
            return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
        }
        let urls = files
            .iter()
            .map(|f| ListingTableUrl::parse(self.root().join(&f.path).to_string_lossy()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut format = TableParquetOptions::default();
        format.global.pushdown_filters = filters_in_scan;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default().with_options(format)))
            .with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(schema);
        Ok(Arc::new(ListingTable::try_new(config)?))
    }

    /// Runs one read-only SQL statement: any DDL, DML, COPY or `SET` is refused.
    pub async fn sql(&self, query: &str) -> Result<(SchemaRef, Vec<RecordBatch>), StoreError> {
        let ctx = self.session().await?;
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
    if plan
        .display_indent()
        .to_string()
        .contains("resolved_activities")
    {
        resolved::prefetch(ctx);
    }
    let df = ctx.execute_logical_plan(plan).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok((schema, batches))
}
