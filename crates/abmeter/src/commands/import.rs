//! `abmeter import PATH… [--kind K] [--skip-invalid]`: validate every file, then store
//! everything in one commit, or nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;

use abmeter_model::Table;
use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_sources::{ReadOptions, RejectedRow, SourceError, TableReader};
use abmeter_store::Store;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::cli::ImportArgs;

/// How many problems a refused import lists.
const SHOWN_PROBLEMS: usize = 20;

pub fn run(root: &Path, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let files = collect_files(&args.paths, args.kind)?;
    let summary = import_files(root, &files, args.skip_invalid)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    abmeter_outputs::render_table(&summary.report(), &mut out)?;
    for (table, path) in &summary.rejected_files {
        writeln!(
            out,
            "rejected rows of {table} written to {}",
            path.display()
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Per table: rows read, stored, deduplicated, replaced and rejected.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub tables: BTreeMap<Table, Counts>,
    pub rejected_files: Vec<(Table, PathBuf)>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub read: u64,
    pub stored: u64,
    pub deduplicated: u64,
    pub replaced: u64,
    pub rejected: u64,
}

impl ImportSummary {
    pub fn report(&self) -> Report {
        let col = |n: &str, kind| Column {
            name: n.into(),
            kind,
        };
        let mut r = Report::new(
            "import",
            serde_json::Map::new(),
            vec![
                col("table", ColumnKind::Text),
                col("read", ColumnKind::Integer),
                col("stored", ColumnKind::Integer),
                col("deduplicated", ColumnKind::Integer),
                col("replaced", ColumnKind::Integer),
                col("rejected", ColumnKind::Integer),
            ],
        );
        for (t, c) in &self.tables {
            r.rows.push(vec![
                json!(t.name()),
                json!(c.read),
                json!(c.stored),
                json!(c.deduplicated),
                json!(c.replaced),
                json!(c.rejected),
            ]);
        }
        r
    }
}

/// The files to import, each with its table, in dependency order.
pub fn collect_files(
    paths: &[PathBuf],
    kind: Option<Table>,
) -> anyhow::Result<Vec<(PathBuf, Table)>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read folder {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for p in entries {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with('.') || name.starts_with("rejected-") || !is_data_file(name) {
                    continue;
                }
                match kind.or_else(|| Table::from_file_name(name)) {
                    Some(t) => out.push((p, t)),
                    None => eprintln!("warning: skipping {}: its name names no table", p.display()),
                }
            }
        } else if path.is_file() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let Some(t) = kind.or_else(|| Table::from_file_name(name)) else {
                bail!(
                    "cannot tell which table {} holds: name it after the table (accounts.csv, \
                     activities-2026-09.jsonl, …) or pass --kind",
                    path.display()
                );
            };
            out.push((path.clone(), t));
        } else {
            bail!("{} does not exist", path.display());
        }
    }
    if out.is_empty() {
        bail!(
            "no data files found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

fn is_data_file(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".csv", ".jsonl", ".ndjson", ".json"]
        .iter()
        .any(|ext| n.ends_with(ext))
}

/// Validates and stores `files` in one commit. Any bad row (without `skip_invalid`)
/// refuses the whole import: the problems go to stderr and nothing is stored.
pub fn import_files(
    root: &Path,
    files: &[(PathBuf, Table)],
    skip_invalid: bool,
) -> anyhow::Result<ImportSummary> {
    let store = Store::open(root)?;
    let config = store.config()?;
    let options = ReadOptions::new(config.activity_type_names().map(str::to_string));
    let mut import = store.begin_import()?;
    for (path, table) in files {
        // Canonical activity rows run 100–250 bytes: a low guess sizes the id set without
        // over-allocating (more rows than guessed only means it grows as before).
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        import.expect_rows(*table, (bytes / 200) as usize);
    }
    let mut summary = ImportSummary::default();
    let mut rejected: BTreeMap<Table, Vec<RejectedRow>> = BTreeMap::new();
    let mut problems = 0usize;

    let total_bytes: u64 = files
        .iter()
        .filter_map(|(p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let progress = progress_bar(total_bytes);
    let mut done_bytes = 0u64;

    for (path, table) in files {
        let reader = TableReader::open(path, *table, options.clone())?;
        let bytes = reader.bytes_counter();
        let (tx, rx) = sync_channel::<Result<_, SourceError>>(4);
        let stop_early = !skip_invalid;
        let already = problems;
        // Parse and validate on one thread while this one deduplicates and writes Parquet.
        let reader = std::thread::scope(|s| -> anyhow::Result<TableReader> {
            let worker = s.spawn(move || {
                let mut reader = reader;
                while let Some(batch) = reader.next() {
                    if tx.send(batch).is_err() {
                        break;
                    }
                    if stop_early && already + reader.rejected.len() >= SHOWN_PROBLEMS {
                        break;
                    }
                }
                reader
            });
            let mut failure = None;
            for batch in rx {
                progress.set_position(done_bytes + bytes.load(Ordering::Relaxed));
                match batch {
                    Ok(b) if failure.is_none() && (skip_invalid || problems == 0) => {
                        if let Err(e) = import.append(*table, b) {
                            failure = Some(anyhow::Error::from(e));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => failure = Some(e.into()),
                }
            }
            let reader = worker.join().expect("reader thread panicked");
            match failure {
                Some(e) => Err(e),
                None => Ok(reader),
            }
        })?;
        done_bytes += bytes.load(Ordering::Relaxed);
        for w in &reader.warnings {
            progress.suspend(|| eprintln!("warning: {w}"));
        }
        let counts = summary.tables.entry(*table).or_default();
        counts.read += reader.rows_read();
        counts.rejected += reader.rejected.len() as u64;
        problems += reader.rejected.len();
        rejected.entry(*table).or_default().extend(reader.rejected);
        if !skip_invalid && problems >= SHOWN_PROBLEMS {
            break;
        }
    }
    progress.finish_and_clear();

    if problems > 0 && !skip_invalid {
        drop(import); // removes the files it wrote: nothing becomes visible
        let mut err = std::io::stderr().lock();
        for row in rejected.values().flatten().take(SHOWN_PROBLEMS) {
            let _ = writeln!(err, "  {}", row.problem);
        }
        let more = if problems >= SHOWN_PROBLEMS {
            " (showing the first 20)"
        } else {
            ""
        };
        bail!(
            "import refused: {problems} bad row{}{more}; nothing was stored. Fix the rows, or \
             pass --skip-invalid to store the valid rows and write the bad ones to rejected-<kind>.csv",
            if problems == 1 { "" } else { "s" }
        );
    }

    let stats = import.commit(&config)?;
    for (table, s) in stats {
        let c = summary.tables.entry(table).or_default();
        c.stored += s.stored;
        c.deduplicated += s.deduplicated;
        c.replaced += s.replaced;
    }
    for (table, rows) in rejected.into_iter().filter(|(_, r)| !r.is_empty()) {
        let path = store.root().join(format!("rejected-{}.csv", table.name()));
        write_rejected(&path, &rows)?;
        summary.rejected_files.push((table, path));
    }
    Ok(summary)
}

fn write_rejected(path: &Path, rows: &[RejectedRow]) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["file", "line", "column", "field", "value", "error", "row"])?;
    for r in rows {
        let p = &r.problem;
        w.write_record([
            p.file.as_str(),
            &p.line.to_string(),
            &p.column_number.map(|c| c.to_string()).unwrap_or_default(),
            p.column.as_deref().unwrap_or(""),
            p.value.as_deref().unwrap_or(""),
            &p.message,
            &r.raw,
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    // Small imports finish before a bar would be worth drawing.
    if total_bytes < 16 << 20 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "importing {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("valid template"),
    );
    bar
}
