//! An import: new rows of any tables, written as new Parquet files and made visible all at
//! once by one manifest commit. Dropped without `commit`, it removes what it wrote.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use abmeter_model::{Config, Merge, Table};
use abmeter_resolve::resolved::{INPUT_COLUMNS, KEY_COLUMNS};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, StringArray, TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::compute::{concat_batches, filter_record_batch, is_not_null, take};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions;
use datafusion::parquet::arrow::{ArrowWriter, add_encoded_arrow_schema_to_metadata};
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use crate::identity::ActivityKeys;
use crate::manifest::{DataFile, Manifest, TableFiles, sync_dir};
use crate::{Store, StoreError, read_parquet_files, resolved};

/// What an import did to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Valid rows handed to the import.
    pub received: u64,
    /// Rows the import added or replaced.
    pub stored: u64,
    /// Rows dropped as duplicates: an id already stored or given twice (activities,
    /// surveys), or an entity superseded by a later row of the same import.
    pub deduplicated: u64,
    /// Stored rows that the import replaced (upserts, re-imported keys).
    pub replaced: u64,
}

/// Ids of a fact table, as 128-bit hashes: 16 bytes per id instead of the string, with a
/// collision chance far below one in 10^20 for billions of ids.
struct IdSet {
    seen: HashSet<u128, ahash::RandomState>,
    hi: ahash::RandomState,
    lo: ahash::RandomState,
}

impl IdSet {
    fn new() -> Self {
        IdSet {
            seen: HashSet::with_hasher(ahash::RandomState::new()),
            hi: ahash::RandomState::with_seeds(0x5eed_0001, 0x5eed_0002, 0x5eed_0003, 0x5eed_0004),
            lo: ahash::RandomState::with_seeds(0x0abe_0001, 0x0abe_0002, 0x0abe_0003, 0x0abe_0004),
        }
    }

    /// True when the id is new (and records it).
    fn insert(&mut self, id: &str) -> bool {
        let key = ((self.hi.hash_one(id) as u128) << 64) | self.lo.hash_one(id) as u128;
        self.seen.insert(key)
    }
}

struct PartWriter {
    rel_path: String,
    writer: ArrowWriter<File>,
    rows: u64,
}

enum TableImport {
    /// Activities and surveys: deduplicated by id and streamed to Parquet as they come.
    Append {
        ids: IdSet,
        parts: BTreeMap<String, PartWriter>,
        month_cache: Option<(i64, i64, String)>,
    },
    /// Entity and keyed tables: small, merged with the stored rows at commit.
    Buffer {
        batches: Vec<RecordBatch>,
        /// Partial rows of an entity table, one per id: their non-null fields are laid over
        /// the row of that id as merged from `batches` and the stored rows.
        patches: Vec<RecordBatch>,
    },
}

/// One all-or-nothing import into a store. Holds the workspace's import lock.
pub struct Import<'s> {
    store: &'s Store,
    _lock: File,
    base: Manifest,
    generation: u64,
    seq: u32,
    tables: BTreeMap<Table, (TableImport, TableStats)>,
    written: Vec<PathBuf>,
    committed: bool,
    /// Collects the identifying keys of the activities this import stores, for the identity
    /// map, on a thread of its own so the Parquet writing does not wait for it.
    keys: Option<KeyCollector>,
    /// Read every stored activity for the identity map instead of trusting the last map.
    rescan: bool,
    /// Rows the caller expects per fact table (a hint: sizes the id set once).
    expected_rows: BTreeMap<Table, usize>,
    /// The server's WAL position this import brings the tables to.
    wal_flushed_seq: Option<u64>,
}

/// A Parquet writer for a file of `table`.
///
/// Activity files tell Arrow readers (the embedded schema, `ARROW:schema`) to read the
/// identifying keys as dictionaries, the form the `resolved_activities` view resolves fast
/// ([`resolved::keyed_schema`]). The data is the same Parquet either way: the keys are
/// dictionary-encoded text, and a plain Parquet reader sees text.
fn table_writer(file: File, table: Table) -> Result<ArrowWriter<File>, StoreError> {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(256 * 1024));
    // Columns that are (nearly) unique per row: a dictionary only costs time to build
    // before the writer gives up on it.
    for column in ["id", "timestamp", "properties"] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(column), false);
    }
    let mut options = ArrowWriterOptions::new();
    if table == Table::Activities {
        // Room for the distinct keys of a whole row group (the default 1 MiB holds about
        // 30,000 emails), so the reader gets one dictionary per row group.
        for column in &INPUT_COLUMNS[..KEY_COLUMNS] {
            b = b.set_column_dictionary_page_size_limit(ColumnPath::from(*column), 8 << 20);
        }
        let mut props = b.build();
        add_encoded_arrow_schema_to_metadata(&resolved::keyed_schema(), &mut props);
        options = options
            .with_properties(props)
            .with_skip_arrow_metadata(true);
    } else {
        options = options.with_properties(b.build());
    }
    Ok(ArrowWriter::try_new_with_options(
        file,
        table.schema(),
        options,
    )?)
}

impl<'s> Import<'s> {
    pub(crate) fn begin(store: &'s Store, lock: File) -> Result<Import<'s>, StoreError> {
        let base = Manifest::load(store.root())?;
        remove_unlisted_files(store.root(), &base)?;
        Ok(Import {
            store,
            _lock: lock,
            generation: base.generation + 1,
            base,
            seq: 0,
            tables: BTreeMap::new(),
            written: Vec::new(),
            committed: false,
            keys: None,
            rescan: false,
            expected_rows: BTreeMap::new(),
            wal_flushed_seq: None,
        })
    }

    /// Says about how many rows of `table` will come, before the first: the id set of a fact
    /// table is sized once instead of growing (and rehashing) as rows arrive.
    pub fn expect_rows(&mut self, table: Table, rows: usize) {
        *self.expected_rows.entry(table).or_default() += rows;
    }

    /// Makes the commit rebuild the identity map from all stored activities.
    pub fn rescan_activities(&mut self) {
        self.rescan = true;
    }

    /// Adds valid rows of `table`. Fact rows whose id is already stored are dropped here.
    pub fn append(&mut self, table: Table, batch: RecordBatch) -> Result<(), StoreError> {
        if !self.tables.contains_key(&table) {
            let state = match table.merge() {
                Merge::AppendNewIds => {
                    let mut ids = IdSet::new();
                    ids.seen
                        .reserve(self.expected_rows.get(&table).copied().unwrap_or(0));
                    if let Some(files) = self.base.table(table) {
                        for b in read_parquet_files(self.store.root(), files, Some(&[0]))? {
                            let col = b
                                .column(0)
                                .as_any()
                                .downcast_ref::<StringArray>()
                                .ok_or_else(|| StoreError::Corrupt {
                                    path: self.store.root().join("tables").join(table.name()),
                                    message: "id column is not text".into(),
                                })?;
                            for id in col.iter().flatten() {
                                ids.insert(id);
                            }
                        }
                    }
                    TableImport::Append {
                        ids,
                        parts: BTreeMap::new(),
                        month_cache: None,
                    }
                }
                _ => TableImport::Buffer {
                    batches: Vec::new(),
                    patches: Vec::new(),
                },
            };
            self.tables.insert(table, (state, TableStats::default()));
        }
        let rows = batch.num_rows() as u64;
        let (state, stats) = self.tables.get_mut(&table).expect("inserted above");
        stats.received += rows;
        match state {
            TableImport::Buffer { batches, .. } => {
                batches.push(batch);
                Ok(())
            }
            TableImport::Append {
                ids,
                parts,
                month_cache,
            } => {
                let id_col = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .expect("id is text");
                let keep: BooleanArray = id_col
                    .iter()
                    .map(|id| Some(ids.insert(id.unwrap_or(""))))
                    .collect();
                let kept = keep.true_count() as u64;
                stats.deduplicated += rows - kept;
                stats.stored += kept;
                if kept == 0 {
                    return Ok(());
                }
                let batch = if kept == rows {
                    batch
                } else {
                    filter_record_batch(&batch, &keep)?
                };
                let ctx = WriteCtx {
                    root: self.store.root(),
                    generation: self.generation,
                    table,
                };
                if table == Table::Activities {
                    self.keys
                        .get_or_insert_with(KeyCollector::spawn)
                        .send(batch.clone());
                    for (month, part) in split_by_month(&batch, month_cache)? {
                        let dir = format!("tables/activities/month={month}");
                        ctx.write_part(
                            parts,
                            &mut self.seq,
                            &mut self.written,
                            &dir,
                            &month,
                            &part,
                        )?;
                    }
                } else {
                    let dir = format!("tables/{}", table.name());
                    ctx.write_part(parts, &mut self.seq, &mut self.written, &dir, "", &batch)?;
                }
                Ok(())
            }
        }
    }

    /// Adds partial rows of an entity table (accounts, contacts), at most one per id: each
    /// row's non-null fields replace those of the stored row with its id, the others are
    /// kept; an id not stored yet becomes a new row (a required text field it lacks, such as
    /// an account's name, is set to the id). This is how the server's `identify` and `group`
    /// calls update what an import or the CRM put there.
    pub fn patch(&mut self, table: Table, batch: RecordBatch) -> Result<(), StoreError> {
        assert_eq!(
            table.merge(),
            Merge::UpsertById,
            "only entity tables take patches"
        );
        let rows = batch.num_rows() as u64;
        let (state, stats) = self.tables.entry(table).or_insert_with(|| {
            (
                TableImport::Buffer {
                    batches: Vec::new(),
                    patches: Vec::new(),
                },
                TableStats::default(),
            )
        });
        stats.received += rows;
        if let TableImport::Buffer { patches, .. } = state {
            patches.push(batch);
        }
        Ok(())
    }

    /// Records in the manifest that the server's write-ahead log is in the tables up to
    /// `seq`, in the same atomic commit as the rows.
    pub fn set_wal_flushed_seq(&mut self, seq: u64) {
        self.wal_flushed_seq = Some(seq);
    }

    /// Writes what is buffered, then swaps the manifest: from here on the import is visible.
    /// Makes the import visible: data files fsynced, the identity map rebuilt over the new
    /// state (SPEC §3: late contacts and ranges re-attribute earlier activities), then the
    /// manifest replaced atomically.
    pub fn commit(mut self, config: &Config) -> Result<BTreeMap<Table, TableStats>, StoreError> {
        let root = self.store.root().to_path_buf();
        let mut next = self.base.clone();
        next.generation = self.generation;
        if let Some(seq) = self.wal_flushed_seq {
            next.wal_flushed_seq = seq;
        }
        next.committed_at =
            Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let mut dirs: HashSet<PathBuf> = HashSet::new();
        let tables = std::mem::take(&mut self.tables);
        let mut out = BTreeMap::new();
        let mut appended: Vec<(Table, PartWriter)> = Vec::new();
        for (table, (state, mut stats)) in tables {
            let entry = next.tables.entry(table.name().to_string()).or_default();
            match state {
                TableImport::Append { parts, .. } => {
                    // Flushed below, while the identity map is built.
                    appended.extend(parts.into_values().map(|p| (table, p)));
                }
                TableImport::Buffer { batches, patches } => {
                    let stored = match self.base.table(table) {
                        Some(files) => read_parquet_files(&root, files, None)?,
                        None => Vec::new(),
                    };
                    let merged = merge_rows(table, stored, batches, &mut stats)?;
                    let merged = apply_patches(table, merged, patches, &mut stats)?;
                    let rel = format!(
                        "tables/{}/g{:08}-{:04}.parquet",
                        table.name(),
                        self.generation,
                        self.seq
                    );
                    self.seq += 1;
                    *entry = TableFiles::default();
                    if merged.num_rows() > 0 {
                        let path = root.join(&rel);
                        fs::create_dir_all(path.parent().expect("folder")).map_err(|source| {
                            StoreError::Io {
                                path: path.clone(),
                                source,
                            }
                        })?;
                        self.written.push(path.clone());
                        let file = File::create(&path).map_err(|source| StoreError::Io {
                            path: path.clone(),
                            source,
                        })?;
                        let mut w = table_writer(file, table)?;
                        w.write(&merged)?;
                        let file = w.into_inner()?;
                        file.sync_all().map_err(|source| StoreError::Io {
                            path: path.clone(),
                            source,
                        })?;
                        dirs.insert(path.parent().expect("folder").to_path_buf());
                        entry.files.push(DataFile {
                            path: rel,
                            rows: merged.num_rows() as u64,
                        });
                    }
                }
            }
            out.insert(table, stats);
        }
        // The identity map is built from the entity tables as now merged and the activity
        // keys (those the last map learnt plus this import's, so old activities are not read
        // again; a workspace without a map yet is scanned once), on a thread of its own while
        // this one flushes the appended Parquet files.
        let entities = next.clone();
        let (base, rescan, collector) = (&self.base, self.rescan, self.keys.take());
        let map = std::thread::scope(|s| -> Result<_, StoreError> {
            let builder = s.spawn(|| -> Result<_, StoreError> {
                let started = std::time::Instant::now();
                let mut keys = match base.tables.get(crate::identity::IDENTITY_MAP) {
                    Some(_) if !rescan => {
                        ActivityKeys::of_map(&crate::identity::load(&root, base)?)
                    }
                    _ => crate::identity::scan_activities(&root, base)?,
                };
                if let Some(collector) = collector {
                    keys.merge(collector.finish()?);
                }
                tracing::debug!(
                    rescan,
                    seconds = started.elapsed().as_secs_f64(),
                    "identity map: activity keys gathered"
                );
                let started = std::time::Instant::now();
                let map = crate::identity::build(&root, &entities, config, keys);
                tracing::debug!(
                    seconds = started.elapsed().as_secs_f64(),
                    "identity map: built"
                );
                map
            });
            for (table, p) in appended {
                let file = p.writer.into_inner()?;
                let path = root.join(&p.rel_path);
                file.sync_all().map_err(|source| StoreError::Io {
                    path: path.clone(),
                    source,
                })?;
                dirs.insert(path.parent().expect("file in a folder").to_path_buf());
                next.tables
                    .entry(table.name().to_string())
                    .or_default()
                    .files
                    .push(DataFile {
                        path: p.rel_path,
                        rows: p.rows,
                    });
            }
            builder.join().expect("identity map builder panicked")
        })?;
        self.merge_small_activity_files(&root, &mut next, &mut dirs)?;
        let started = std::time::Instant::now();
        let (file, path) = crate::identity::write(&root, self.generation, &map)?;
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "identity map: written"
        );
        self.written.push(path.clone());
        dirs.insert(path.parent().expect("folder").to_path_buf());
        next.tables.insert(
            crate::identity::IDENTITY_MAP.to_string(),
            TableFiles { files: vec![file] },
        );
        for d in &dirs {
            sync_dir(d)?;
            if let Some(parent) = d.parent() {
                sync_dir(parent)?;
            }
        }
        next.commit(&root)?;
        self.committed = true;
        // Files of the old manifest that the new one dropped (replaced entity tables).
        remove_unlisted_files(&root, &next)?;
        Ok(out)
    }
}

/// Activity files under this many rows are small (one row group is 256 Ki rows).
const SMALL_FILE_ROWS: u64 = 256 * 1024;
/// Small files a month folder may hold before a commit merges them into one.
const SMALL_FILES_MERGED: usize = 8;

impl Import<'_> {
    /// Merges the small activity files of each month folder into one once there are
    /// [`SMALL_FILES_MERGED`] of them. Frequent small imports (the server flushes every few
    /// seconds) would otherwise leave thousands of files for every query to open; merging
    /// only small files keeps the work per commit bounded (at most 8 × 256 Ki rows).
    fn merge_small_activity_files(
        &mut self,
        root: &Path,
        next: &mut Manifest,
        dirs: &mut HashSet<PathBuf>,
    ) -> Result<(), StoreError> {
        let Some(table) = next.tables.get_mut(Table::Activities.name()) else {
            return Ok(());
        };
        let mut small: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, f) in table.files.iter().enumerate() {
            if f.rows < SMALL_FILE_ROWS {
                let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
                small.entry(dir).or_default().push(i);
            }
        }
        let mut merged_away = HashSet::new();
        let mut merged = Vec::new();
        for (dir, files) in small {
            if files.len() < SMALL_FILES_MERGED {
                continue;
            }
            let parts = TableFiles {
                files: files.iter().map(|&i| table.files[i].clone()).collect(),
            };
            let rel = format!("{dir}/g{:08}-{:04}.parquet", self.generation, self.seq);
            self.seq += 1;
            let path = root.join(&rel);
            let io = |source| StoreError::Io {
                path: path.clone(),
                source,
            };
            let file = File::create(&path).map_err(io)?;
            self.written.push(path.clone());
            let mut w = table_writer(file, Table::Activities)?;
            for b in read_parquet_files(root, &parts, None)? {
                w.write(&b)?;
            }
            w.into_inner()?.sync_all().map_err(io)?;
            dirs.insert(path.parent().expect("folder").to_path_buf());
            merged.push(DataFile {
                path: rel,
                rows: parts.rows(),
            });
            merged_away.extend(files);
        }
        if !merged.is_empty() {
            let kept = std::mem::take(&mut table.files)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !merged_away.contains(i))
                .map(|(_, f)| f);
            table.files = kept.chain(merged).collect();
        }
        Ok(())
    }
}

impl Drop for Import<'_> {
    fn drop(&mut self) {
        if !self.committed {
            for p in &self.written {
                let _ = fs::remove_file(p);
            }
        }
    }
}

/// A thread that gathers [`ActivityKeys`] from the batches sent to it.
struct KeyCollector {
    tx: std::sync::mpsc::SyncSender<RecordBatch>,
    handle: std::thread::JoinHandle<Result<ActivityKeys, StoreError>>,
}

impl KeyCollector {
    fn spawn() -> KeyCollector {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(8);
        let handle = std::thread::spawn(move || {
            let mut keys = ActivityKeys::default();
            for batch in rx {
                keys.collect(&batch)?;
            }
            Ok(keys)
        });
        KeyCollector { tx, handle }
    }

    /// Hands a batch over; a failed collector reports its error at [`KeyCollector::finish`].
    fn send(&self, batch: RecordBatch) {
        let _ = self.tx.send(batch);
    }

    fn finish(self) -> Result<ActivityKeys, StoreError> {
        drop(self.tx);
        self.handle.join().expect("key collector panicked")
    }
}

struct WriteCtx<'a> {
    root: &'a Path,
    generation: u64,
    table: Table,
}

impl WriteCtx<'_> {
    fn write_part(
        &self,
        parts: &mut BTreeMap<String, PartWriter>,
        seq: &mut u32,
        written: &mut Vec<PathBuf>,
        dir: &str,
        key: &str,
        batch: &RecordBatch,
    ) -> Result<(), StoreError> {
        if !parts.contains_key(key) {
            let rel = format!("{dir}/g{:08}-{:04}.parquet", self.generation, *seq);
            *seq += 1;
            let path = self.root.join(&rel);
            fs::create_dir_all(path.parent().expect("folder")).map_err(|source| {
                StoreError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
            let file = File::create(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
            let writer = table_writer(file, self.table)?;
            parts.insert(
                key.to_string(),
                PartWriter {
                    rel_path: rel,
                    writer,
                    rows: 0,
                },
            );
        }
        let part = parts.get_mut(key).expect("inserted above");
        part.writer.write(batch)?;
        part.rows += batch.num_rows() as u64;
        Ok(())
    }
}

/// Splits activities by the UTC month of their timestamp (column 1).
fn split_by_month(
    batch: &RecordBatch,
    cache: &mut Option<(i64, i64, String)>,
) -> Result<Vec<(String, RecordBatch)>, StoreError> {
    let ts = batch
        .column(1)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("activities.timestamp is a timestamp");
    let mut labels: Vec<u32> = Vec::with_capacity(ts.len());
    let mut names: Vec<String> = Vec::new();
    for v in ts.values().iter() {
        let hit = matches!(cache, Some((lo, hi, _)) if *v >= *lo && *v < *hi);
        if !hit {
            *cache = Some(month_bounds(*v));
        }
        let name = &cache.as_ref().expect("set above").2;
        let idx = match names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                names.push(name.clone());
                names.len() - 1
            }
        };
        labels.push(idx as u32);
    }
    if names.len() == 1 {
        return Ok(vec![(names.pop().expect("one"), batch.clone())]);
    }
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let mask: BooleanArray = labels.iter().map(|&l| Some(l == i as u32)).collect();
        out.push((name, filter_record_batch(batch, &mask)?));
    }
    Ok(out)
}

/// The month containing `micros`: its bounds and its `YYYY-MM` label.
fn month_bounds(micros: i64) -> (i64, i64, String) {
    use chrono::{Datelike, NaiveDate, TimeZone, Utc};
    let t = Utc
        .timestamp_micros(micros)
        .single()
        .expect("valid timestamp");
    let start = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).expect("month start");
    let next = if t.month() == 12 {
        NaiveDate::from_ymd_opt(t.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(t.year(), t.month() + 1, 1)
    }
    .expect("next month");
    let us = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_micros()
    };
    (
        us(start),
        us(next),
        format!("{:04}-{:02}", t.year(), t.month()),
    )
}

/// The table's rows after this import: stored rows whose key the import names are
/// replaced; for entity tables the last row of an id within the import wins.
fn merge_rows(
    table: Table,
    stored: Vec<RecordBatch>,
    new: Vec<RecordBatch>,
    stats: &mut TableStats,
) -> Result<RecordBatch, StoreError> {
    let schema = table.schema();
    let new = concat_batches(&schema, &new)?;
    let stored = concat_batches(&schema, &stored)?;
    let key_cols: Vec<usize> = match table.merge() {
        Merge::UpsertById => vec![0],
        Merge::ReplaceByKey(cols) => cols
            .iter()
            .map(|c| table.field_index(c).expect("key column"))
            .collect(),
        Merge::AppendNewIds => unreachable!("fact tables are not buffered"),
    };
    let converter = RowConverter::new(
        key_cols
            .iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect(),
    )?;
    let keys = |b: &RecordBatch| -> Result<Vec<OwnedRow>, StoreError> {
        let cols: Vec<ArrayRef> = key_cols.iter().map(|&i| b.column(i).clone()).collect();
        Ok(converter
            .convert_columns(&cols)?
            .iter()
            .map(|r| r.owned())
            .collect())
    };
    let new_keys = keys(&new)?;
    let new = if table.key_is_unique() {
        let mut seen = HashSet::new();
        let mut keep = vec![false; new_keys.len()];
        for i in (0..new_keys.len()).rev() {
            keep[i] = seen.insert(new_keys[i].clone());
        }
        let mask = BooleanArray::from(keep);
        stats.deduplicated += (mask.len() - mask.true_count()) as u64;
        filter_record_batch(&new, &mask)?
    } else {
        new
    };
    let new_set: HashSet<OwnedRow> = new_keys.into_iter().collect();
    let stored_keys = keys(&stored)?;
    let keep: BooleanArray = stored_keys
        .iter()
        .map(|k| Some(!new_set.contains(k)))
        .collect();
    stats.replaced += (keep.len() - keep.true_count()) as u64;
    stats.stored += new.num_rows() as u64;
    let stored = filter_record_batch(&stored, &keep)?;
    Ok(concat_batches(&schema, &[stored, new])?)
}

/// Lays each patch row's non-null fields over the row of its id in `rows` (see
/// [`Import::patch`]).
fn apply_patches(
    table: Table,
    rows: RecordBatch,
    patches: Vec<RecordBatch>,
    stats: &mut TableStats,
) -> Result<RecordBatch, StoreError> {
    if patches.is_empty() {
        return Ok(rows);
    }
    let schema = table.schema();
    // Patches come all-nullable (a partial row may lack a required field).
    let patch = concat_batches(&patches[0].schema(), &patches)?;
    let ids = |b: &RecordBatch| b.column(0).as_string::<i32>().clone();
    let (row_ids, patch_ids) = (ids(&rows), ids(&patch));
    let at: HashMap<&str, u32> = row_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| Some((id?, i as u32)))
        .collect();
    let base_index: UInt32Array = patch_ids
        .iter()
        .map(|id| id.and_then(|id| at.get(id).copied()))
        .collect();
    let updated = base_index.iter().flatten().count() as u64;
    stats.replaced += updated;
    stats.stored += patch.num_rows() as u64 - updated;
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (c, field) in schema.fields().iter().enumerate() {
        let base = take(rows.column(c), &base_index, None)?;
        let new = patch.column(c);
        let mut merged = zip(&is_not_null(new)?, new, &base)?;
        if !field.is_nullable() && merged.null_count() > 0 {
            // A new id without a required text field: the id stands in (an account named
            // only by its group id until a call or import says more).
            merged = zip(&is_not_null(&merged)?, &merged, patch.column(0))?;
        }
        columns.push(merged);
    }
    let patched = RecordBatch::try_new(schema.clone(), columns)?;
    let replaced: HashSet<u32> = base_index.iter().flatten().collect();
    let keep: BooleanArray = (0..rows.num_rows() as u32)
        .map(|i| Some(!replaced.contains(&i)))
        .collect();
    let kept = filter_record_batch(&rows, &keep)?;
    Ok(concat_batches(&schema, &[kept, patched])?)
}

/// Deletes data files that the manifest does not list (left by a crashed or failed
/// import, or replaced by a commit) and a stale temporary manifest.
fn remove_unlisted_files(root: &Path, manifest: &Manifest) -> Result<(), StoreError> {
    let listed: HashSet<PathBuf> = manifest
        .tables
        .values()
        .flat_map(|t| t.files.iter().map(|f| root.join(&f.path)))
        .collect();
    let _ = fs::remove_file(root.join(format!("{}.tmp", crate::manifest::MANIFEST_FILE)));
    let mut stack = vec![root.join("tables")];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(StoreError::Io { path: dir, source }),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") && !listed.contains(&path) {
                fs::remove_file(&path).map_err(|source| StoreError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
        }
    }
    Ok(())
}
