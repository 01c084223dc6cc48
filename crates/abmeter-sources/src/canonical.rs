//! Canonical CSV and JSON Lines files (SPEC §1): a streaming reader that yields validated
//! record batches and keeps every refused row, with its reason, as data.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};

use abmeter_model::Table;
use arrow::record_batch::RecordBatch;
use serde_json::Value;

use crate::problem::{Problem, RejectedRow, SourceError};
use crate::rows::{CellError, ReadOptions, RowAssembler};

/// The two canonical encodings, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
            Format::JsonLines
        } else {
            Format::Csv
        }
    }
}

/// Counts bytes as they are read, for a progress bar.
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

enum Input {
    Csv {
        /// Records parsed on a thread of their own, so CSV parsing overlaps validation.
        chunks: Receiver<Result<RecordChunk, SourceError>>,
        chunk: RecordChunk,
        /// The next row of `chunk` to validate.
        next_row: usize,
        /// For each table field, its column in the file.
        field_cols: Vec<Option<usize>>,
        /// Columns the table does not know: (name, column).
        extra_cols: Vec<(String, usize)>,
        header: Vec<String>,
    },
    JsonLines {
        lines: BufReader<Counting<File>>,
        line: u64,
        buf: String,
        unknown_keys: HashSet<String>,
    },
}

/// Reads one canonical file of one table. Iterate it for record batches of the valid rows;
/// afterwards `rejected` holds every refused row and `warnings` anything worth saying.
pub struct TableReader {
    label: String,
    path: PathBuf,
    assembler: RowAssembler,
    input: Input,
    pub rejected: Vec<RejectedRow>,
    pub warnings: Vec<String>,
    rows_read: u64,
    bytes: Arc<AtomicU64>,
    finished: bool,
}

impl TableReader {
    /// Opens `path` as `table`, checking the CSV header against the table's fields.
    pub fn open(
        path: &Path,
        table: Table,
        options: ReadOptions,
    ) -> Result<TableReader, SourceError> {
        let label = path.display().to_string();
        let bytes = Arc::new(AtomicU64::new(0));
        let file = File::open(path).map_err(|source| SourceError::Io {
            path: path.into(),
            source,
        })?;
        let counting = Counting {
            inner: file,
            bytes: bytes.clone(),
        };
        let mut warnings = Vec::new();
        let input = match Format::from_path(path) {
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(true)
                    .from_reader(counting);
                let header = reader
                    .byte_headers()
                    .map_err(|e| csv_error(&label, e))?
                    .clone();
                let header: Vec<String> = header
                    .iter()
                    .map(|h| {
                        String::from_utf8_lossy(h)
                            .trim_start_matches('\u{feff}')
                            .trim()
                            .to_string()
                    })
                    .collect();
                let (field_cols, extra_cols) = map_header(&label, table, &header)?;
                if !extra_cols.is_empty() && !table.keeps_unknown_columns() {
                    let names: Vec<&str> = extra_cols.iter().map(|(n, _)| n.as_str()).collect();
                    warnings.push(format!(
                        "{label}: ignoring columns that {table} does not have: {}",
                        names.join(", ")
                    ));
                }
                Input::Csv {
                    chunks: spawn_csv_parser(reader, label.clone()),
                    chunk: RecordChunk::default(),
                    next_row: 0,
                    field_cols,
                    extra_cols,
                    header,
                }
            }
            Format::JsonLines => Input::JsonLines {
                lines: BufReader::with_capacity(1 << 20, counting),
                line: 0,
                buf: String::new(),
                unknown_keys: HashSet::new(),
            },
        };
        Ok(TableReader {
            label,
            path: path.to_path_buf(),
            assembler: RowAssembler::new(table, options),
            input,
            rejected: Vec::new(),
            warnings,
            rows_read: 0,
            bytes,
            finished: false,
        })
    }

    pub fn table(&self) -> Table {
        self.assembler.table()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Data rows read so far (valid and refused).
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    /// A shared counter of the bytes read so far.
    pub fn bytes_counter(&self) -> Arc<AtomicU64> {
        self.bytes.clone()
    }

    /// Reads rows until a batch is full or the file ends.
    fn fill(&mut self) -> Result<(), SourceError> {
        while !self.assembler.is_full() {
            let more = match &mut self.input {
                Input::Csv { .. } => self.next_csv_row()?,
                Input::JsonLines { .. } => self.next_json_row()?,
            };
            if !more {
                self.finish_input();
                self.finished = true;
                break;
            }
        }
        Ok(())
    }

    fn finish_input(&mut self) {
        if let Input::JsonLines { unknown_keys, .. } = &self.input
            && !unknown_keys.is_empty()
        {
            {
                let mut names: Vec<&String> = unknown_keys.iter().collect();
                names.sort();
                let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                self.warnings.push(format!(
                    "{}: ignoring fields that {} does not have: {}",
                    self.label,
                    self.table(),
                    names.join(", ")
                ));
            }
        }
    }

    fn next_csv_row(&mut self) -> Result<bool, SourceError> {
        let TableReader {
            input,
            assembler,
            rejected,
            label,
            rows_read,
            ..
        } = self;
        let Input::Csv {
            chunks,
            chunk,
            next_row,
            field_cols,
            extra_cols,
            header,
        } = input
        else {
            unreachable!("csv input")
        };
        let table = assembler.table();
        let mut reject = |line, err, col, raw| reject(rejected, label, table, line, err, col, raw);
        if *next_row == chunk.rows.len() {
            match chunks.recv() {
                Ok(Ok(c)) => {
                    *chunk = c;
                    *next_row = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(false), // the parser is done: end of file
            }
        }
        let row = chunk.rows[*next_row];
        *next_row += 1;
        let line = row.line;
        *rows_read += 1;
        let chunk = &*chunk;
        let raw = || raw_csv(&chunk.fields(row));
        if row.len != header.len() {
            let err = CellError {
                field: None,
                value: None,
                message: format!("has {} fields, the header has {}", row.len, header.len()),
            };
            let raw = raw();
            reject(line, err, None, raw);
            return Ok(true);
        }
        let text = match chunk.row_text(row) {
            Ok(text) => text,
            Err(c) => {
                let bytes = chunk.fields(row)[c];
                let err = CellError {
                    field: field_cols.iter().position(|fc| *fc == Some(c)),
                    value: Some(String::from_utf8_lossy(bytes).into_owned()),
                    message: "is not valid UTF-8 (save the file as UTF-8)".into(),
                };
                let raw = raw();
                let mut e = err;
                if e.field.is_none() {
                    e.message = format!("column {} ({}) {}", c + 1, header[c], e.message);
                }
                reject(line, e, Some(c + 1), raw);
                return Ok(true);
            }
        };
        let extra: Vec<(&str, Value)> = if assembler.table().keeps_unknown_columns() {
            extra_cols
                .iter()
                .map(|(n, c)| (n.as_str(), chunk.cell(text, row, *c).trim()))
                .filter(|(_, v)| !v.is_empty())
                .map(|(n, v)| (n, Value::String(v.to_string())))
                .collect()
        } else {
            Vec::new()
        };
        let fc = &*field_cols;
        let result = assembler.push_row(line, |i| fc[i].map(|c| chunk.cell(text, row, c)), &extra);
        if let Err(err) = result {
            let col = err.field.and_then(|i| fc[i]).map(|c| c + 1);
            let raw = raw();
            reject(line, err, col, raw);
        }
        Ok(true)
    }

    fn next_json_row(&mut self) -> Result<bool, SourceError> {
        let TableReader {
            input,
            assembler,
            rejected,
            label,
            rows_read,
            path,
            ..
        } = self;
        let Input::JsonLines {
            lines,
            line,
            buf,
            unknown_keys,
        } = input
        else {
            unreachable!("json input")
        };
        let table = assembler.table();
        let mut reject = |line, err, col, raw| reject(rejected, label, table, line, err, col, raw);
        buf.clear();
        let n = lines.read_line(buf).map_err(|source| SourceError::Io {
            path: path.clone(),
            source,
        })?;
        if n == 0 {
            return Ok(false);
        }
        *line += 1;
        let line = *line;
        // A byte-order mark some editors write at the start of the file is not data.
        let text = buf.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            return Ok(true);
        }
        *rows_read += 1;
        let row_err = |message: String| CellError {
            field: None,
            value: None,
            message,
        };
        let obj = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                let raw = text.to_string();
                reject(line, row_err("is not a JSON object".into()), None, raw);
                return Ok(true);
            }
            Err(e) => {
                let raw = text.to_string();
                reject(line, row_err(format!("is not valid JSON ({e})")), None, raw);
                return Ok(true);
            }
        };
        let fields = table.fields();
        let mut cells: Vec<Option<String>> = vec![None; fields.len()];
        let mut extra: Vec<(&str, Value)> = Vec::new();
        let mut bad: Option<CellError> = None;
        for (k, v) in &obj {
            let idx = table
                .field_index(k)
                .or_else(|| table.field_index(&k.to_ascii_lowercase()));
            match idx {
                Some(i) => match json_cell(v, fields[i].name == "properties") {
                    Ok(s) => cells[i] = s,
                    Err(message) => {
                        bad.get_or_insert(CellError {
                            field: Some(i),
                            value: Some(v.to_string()),
                            message,
                        });
                    }
                },
                None if table.keeps_unknown_columns() => {
                    if !v.is_null() {
                        extra.push((k.as_str(), v.clone()));
                    }
                }
                None => {
                    unknown_keys.insert(k.clone());
                }
            }
        }
        let result = match bad {
            Some(e) => Err(e),
            None => assembler.push_row(line, |i| cells[i].as_deref(), &extra),
        };
        if let Err(err) = result {
            let raw = text.to_string();
            reject(line, err, None, raw);
        }
        Ok(true)
    }
}

impl Iterator for TableReader {
    type Item = Result<RecordBatch, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.finished
            && let Err(e) = self.fill()
        {
            self.finished = true;
            return Some(Err(e));
        }
        self.assembler.finish_batch().map(Ok)
    }
}

fn reject(
    rejected: &mut Vec<RejectedRow>,
    label: &str,
    table: Table,
    line: u64,
    err: CellError,
    column_number: Option<usize>,
    raw: String,
) {
    let column = err.field.map(|i| table.fields()[i].name.to_string());
    let problem = Problem {
        file: label.to_string(),
        line,
        column_number,
        column,
        value: err.value,
        message: err.message,
    };
    rejected.push(RejectedRow { problem, raw });
}

/// Maps a CSV header to the table's fields; refuses a header without a required column.
#[allow(clippy::type_complexity)]
fn map_header(
    label: &str,
    table: Table,
    header: &[String],
) -> Result<(Vec<Option<usize>>, Vec<(String, usize)>), SourceError> {
    let fields = table.fields();
    let mut field_cols = vec![None; fields.len()];
    let mut extra = Vec::new();
    for (c, name) in header.iter().enumerate() {
        let idx = table
            .field_index(name)
            .or_else(|| table.field_index(&name.to_ascii_lowercase()));
        match idx {
            Some(i) if field_cols[i].is_some() => {
                return Err(SourceError::Format {
                    file: label.into(),
                    line: 1,
                    message: format!("column `{name}` appears twice in the header"),
                });
            }
            Some(i) => field_cols[i] = Some(c),
            None if name.is_empty() => {}
            None => extra.push((name.clone(), c)),
        }
    }
    let missing: Vec<&str> = fields
        .iter()
        .zip(&field_cols)
        .filter(|(f, c)| f.required && c.is_none())
        .map(|(f, _)| f.name)
        .collect();
    if !missing.is_empty() {
        return Err(SourceError::Format {
            file: label.into(),
            line: 1,
            message: format!(
                "the header lacks required column{} {} of {table} (it has: {})",
                if missing.len() > 1 { "s" } else { "" },
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                header.join(", ")
            ),
        });
    }
    if table == Table::IpRanges
        && field_cols[table.field_index("account_id").expect("field")].is_none()
        && field_cols[table.field_index("domain").expect("field")].is_none()
    {
        return Err(SourceError::Format {
            file: label.into(),
            line: 1,
            message: "ip_ranges needs an `account_id` or a `domain` column".into(),
        });
    }
    Ok((field_cols, extra))
}

/// A JSON value as cell text: strings as they are, numbers and bools written out, null as
/// empty; objects only where a JSON object is expected.
fn json_cell(v: &Value, object_ok: bool) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Object(_) if object_ok => Ok(Some(v.to_string())),
        Value::Object(_) | Value::Array(_) => {
            Err("is a JSON object or list where a single value belongs".into())
        }
    }
}

fn raw_csv(fields: &[&[u8]]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// Records per chunk handed from the parser thread to validation.
const CHUNK_ROWS: usize = 8192;

/// Parsed CSV records, fields laid end to end in one buffer.
#[derive(Default)]
struct RecordChunk {
    data: Vec<u8>,
    /// End offset in `data` of every field.
    ends: Vec<usize>,
    rows: Vec<RowRef>,
}

#[derive(Clone, Copy)]
struct RowRef {
    line: u64,
    /// Index of the row's first field in `ends`.
    first: usize,
    len: usize,
}

impl RecordChunk {
    fn push(&mut self, record: &csv::ByteRecord, line: u64) {
        let first = self.ends.len();
        for f in record.iter() {
            self.data.extend_from_slice(f);
            self.ends.push(self.data.len());
        }
        self.rows.push(RowRef {
            line,
            first,
            len: record.len(),
        });
    }

    fn start(&self, field: usize) -> usize {
        if field == 0 { 0 } else { self.ends[field - 1] }
    }

    fn fields(&self, row: RowRef) -> Vec<&[u8]> {
        (row.first..row.first + row.len)
            .map(|f| &self.data[self.start(f)..self.ends[f]])
            .collect()
    }

    /// The row's bytes as text, checked as UTF-8 in one pass; on failure, the column
    /// (0-based) of the first invalid cell.
    fn row_text(&self, row: RowRef) -> Result<&str, usize> {
        if row.len == 0 {
            return Ok("");
        }
        let (lo, hi) = (self.start(row.first), self.ends[row.first + row.len - 1]);
        // A field boundary inside a multi-byte character means the cells on either side are
        // invalid on their own, even when their bytes join into a valid character.
        match std::str::from_utf8(&self.data[lo..hi]) {
            Ok(s)
                if (row.first..row.first + row.len)
                    .all(|f| s.is_char_boundary(self.start(f) - lo)) =>
            {
                Ok(s)
            }
            _ => Err((row.first..row.first + row.len)
                .position(|f| std::str::from_utf8(&self.data[self.start(f)..self.ends[f]]).is_err())
                .unwrap_or(0)),
        }
    }

    /// Cell `c` of a row whose text `row_text` returned.
    fn cell<'t>(&self, text: &'t str, row: RowRef, c: usize) -> &'t str {
        let lo = self.start(row.first);
        &text[self.start(row.first + c) - lo..self.ends[row.first + c] - lo]
    }
}

/// Parses CSV records on a thread of its own and sends them on in chunks. The thread ends at
/// the end of the file, at a CSV error (sent on), or when the receiver is dropped.
fn spawn_csv_parser(
    mut reader: csv::Reader<Counting<File>>,
    label: String,
) -> Receiver<Result<RecordChunk, SourceError>> {
    let (tx, rx) = sync_channel(4);
    std::thread::spawn(move || {
        let mut record = csv::ByteRecord::new();
        let mut chunk = RecordChunk::default();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {
                    if record.len() == 1 && record[0].is_empty() {
                        continue; // a blank line
                    }
                    let line = record.position().map_or(0, |p| p.line());
                    chunk.push(&record, line);
                    if chunk.rows.len() == CHUNK_ROWS
                        && tx.send(Ok(std::mem::take(&mut chunk))).is_err()
                    {
                        return;
                    }
                }
                Ok(false) => {
                    if !chunk.rows.is_empty() {
                        let _ = tx.send(Ok(chunk));
                    }
                    return;
                }
                Err(e) => {
                    if !chunk.rows.is_empty() && tx.send(Ok(std::mem::take(&mut chunk))).is_err() {
                        return;
                    }
                    let _ = tx.send(Err(csv_error(&label, e)));
                    return;
                }
            }
        }
    });
    rx
}

fn csv_error(label: &str, e: csv::Error) -> SourceError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(source) => SourceError::Io {
            path: label.into(),
            source,
        },
        other => SourceError::Format {
            file: label.into(),
            line,
            message: format!("{other:?}"),
        },
    }
}
