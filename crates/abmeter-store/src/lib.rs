//! The store: the workspace on disk. Canonical tables as Parquet files listed by one
//! atomically replaced manifest, imports that commit all or nothing, and one DataFusion
//! `SessionContext` over every table.

pub mod ads;
pub mod cube;
pub mod identity;
pub mod import;
pub mod manifest;
pub mod pending;
pub mod query;
pub mod resolved;
pub mod sourcing;
pub mod wal;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use abmeter_model::Config;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub use import::{Import, TableStats};
pub use manifest::{Manifest, TableFiles};

/// What can go wrong in the store, by who can act on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("another import holds the workspace lock ({}); wait for it to finish", path.display())]
    Locked { path: PathBuf },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("abmeter sql is read-only: {0}")]
    ReadOnly(String),
    #[error(transparent)]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("{0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// A metric that cannot be computed on this data, with why and what to do instead.
    #[error("{0}")]
    Unanswerable(String),
}

/// A workspace folder: `abmeter.toml`, `manifest.json` and `tables/`.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

const LOCK_FILE: &str = ".import.lock";

impl Store {
    /// Opens (creating the folder if needed) the workspace at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Store, StoreError> {
        let root = root.as_ref();
        fs::create_dir_all(root).map_err(|source| StoreError::Io {
            path: root.into(),
            source,
        })?;
        let root = root.canonicalize().map_err(|source| StoreError::Io {
            path: root.into(),
            source,
        })?;
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The workspace's configuration: `abmeter.toml` if present, else the defaults; then
    /// the `ABMETER_*` environment overrides.
    pub fn config(&self) -> Result<Config, StoreError> {
        let path = self.root.join("abmeter.toml");
        let mut config = match fs::read_to_string(&path) {
            Ok(text) => Config::from_toml_str(&text).map_err(|e| StoreError::Config {
                path: path.clone(),
                message: format!("invalid: {e}"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        config
            .apply_env(|k| std::env::var(k).ok())
            .map_err(|e| StoreError::Config {
                path: "environment".into(),
                message: format!("invalid ABMETER_* setting: {e}"),
            })?;
        Ok(config)
    }

    /// The manifest now on disk.
    pub fn manifest(&self) -> Result<Manifest, StoreError> {
        Manifest::load(&self.root)
    }

    /// Starts an import, waiting for none: a second concurrent import is refused. The lock
    /// is an OS file lock, so a killed import leaves no stale lock behind.
    pub fn begin_import(&self) -> Result<Import<'_>, StoreError> {
        let path = self.root.join(LOCK_FILE);
        match try_lock(&path)? {
            Some(file) => Import::begin(self, file),
            None => Err(StoreError::Locked { path }),
        }
    }
}

/// Takes the OS lock on `path` (created if missing) without waiting: `None` when another
/// process holds it. The OS drops it with the process, so a crash leaves no stale lock.
pub(crate) fn try_lock(path: &Path) -> Result<Option<File>, StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(source)) => Err(io(source)),
    }
}

impl Store {
    /// Rebuilds the identity map from every stored table, activities read afresh, and
    /// commits it (after a change to the title or persona rules, which no import picks up).
    pub fn rebuild_identity(&self) -> Result<(), StoreError> {
        let config = self.config()?;
        let mut import = self.begin_import()?;
        import.rescan_activities();
        import.commit(&config)?;
        Ok(())
    }
}

/// Reads the listed files of a table, optionally only some columns (by index).
pub(crate) fn read_parquet_files(
    root: &Path,
    files: &TableFiles,
    columns: Option<&[usize]>,
) -> Result<Vec<RecordBatch>, StoreError> {
    let mut out = Vec::new();
    for f in &files.files {
        let path = root.join(&f.path);
        let file = File::open(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let mut builder =
            ParquetRecordBatchReaderBuilder::try_new(file)?.with_batch_size(64 * 1024);
        if let Some(cols) = columns {
            let mask = ProjectionMask::roots(builder.parquet_schema(), cols.iter().copied());
            builder = builder.with_projection(mask);
        }
        for b in builder.build()? {
            out.push(plain_columns(b?)?);
        }
    }
    Ok(out)
}

/// `batch` with dictionary columns (the activity keys, as their files ask to be read) cast
/// to their values' type, the table's own.
fn plain_columns(batch: RecordBatch) -> Result<RecordBatch, StoreError> {
    let schema = batch.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
    {
        return Ok(batch);
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, values) => f.as_ref().clone().with_data_type(*values.clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    cast_batch(&batch, &Arc::new(Schema::new(fields)))
}

/// `batch` with its columns cast to the types of `schema` (the same columns, in order).
pub(crate) fn cast_batch(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, StoreError> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
