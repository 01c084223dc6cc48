//! Calls made durable in the write-ahead log and not yet flushed into the tables: kept in
//! memory as validated Arrow rows, shown to queries at once (through
//! [`abmeter_store::pending`]), and handed to the flush in log order.
//!
//! Deduplication by `messageId` happens here: a call whose id is pending or was flushed by
//! this process recently is dropped before it reaches the log. An id flushed before a
//! restart and sent again is dropped by the flush itself (the store keeps the first copy of
//! an activity id), so the tables never hold a call twice.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use abmeter_model::Table;
use abmeter_sources::ReadOptions;
use abmeter_sources::rows::RowAssembler;
use abmeter_sources::segment::{CallRows, Cells};
use abmeter_store::pending::PendingRows;
use arrow::array::AsArray;
use arrow::record_batch::RecordBatch;

use crate::error::ApiError;

/// Flushed ids remembered for deduplication besides the pending ones.
const RECENT_IDS: usize = 1_000_000;

/// The rows of one request (or of replayed log records), with their log sequence numbers.
#[derive(Debug, Clone)]
pub struct Entry {
    pub first_seq: u64,
    pub last_seq: u64,
    pub activities: RecordBatch,
    pub contacts: Vec<Cells>,
    pub accounts: Vec<Cells>,
    pub received: Instant,
}

#[derive(Default)]
struct Inner {
    /// In sequence order of their first record.
    entries: BTreeMap<u64, Entry>,
    /// Ids of pending calls, and of calls being written to the log now.
    ids: HashSet<String, ahash::RandomState>,
    recent: VecDeque<String>,
    recent_ids: HashSet<String, ahash::RandomState>,
    events: usize,
    /// Every record up to here is in the tables.
    flushed_seq: u64,
}

/// The server's pending calls.
pub struct Pending {
    inner: Mutex<Inner>,
    options: ReadOptions,
}

impl Pending {
    pub fn new(flushed_seq: u64, options: ReadOptions) -> Pending {
        Pending {
            inner: Mutex::new(Inner {
                flushed_seq,
                ..Inner::default()
            }),
            options,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn read_options(&self) -> ReadOptions {
        self.options.clone()
    }

    /// Events pending (for the overload check and `/metrics`).
    pub fn events(&self) -> usize {
        self.lock().events
    }

    /// Memory the pending rows take, in bytes.
    pub fn bytes(&self) -> usize {
        self.lock()
            .entries
            .values()
            .map(|e| e.activities.get_array_memory_size())
            .sum()
    }

    /// Seconds the oldest pending event has waited for a flush.
    pub fn lag_secs(&self) -> f64 {
        self.lock()
            .entries
            .values()
            .map(|e| e.received.elapsed().as_secs_f64())
            .fold(0.0, f64::max)
    }

    /// Keeps the calls whose ids are neither pending nor recently flushed (nor repeated
    /// earlier in `calls`), reserving their ids. Calls come with their position in the
    /// request, for errors.
    pub fn admit(&self, calls: Vec<(CallRows, usize)>) -> Vec<(CallRows, usize)> {
        let mut inner = self.lock();
        calls
            .into_iter()
            .filter(|(c, _)| {
                let id = &c.activity["id"];
                !inner.recent_ids.contains(id) && inner.ids.insert(id.clone())
            })
            .collect()
    }

    /// Gives back the ids of calls that were admitted but not logged.
    pub fn release(&self, calls: &[(CallRows, usize)]) {
        let mut inner = self.lock();
        for (c, _) in calls {
            inner.ids.remove(&c.activity["id"]);
        }
    }

    /// Validates calls into Arrow rows, as an import would: the first bad cell is an error
    /// naming the call (`batch[3]`) and the field.
    pub fn assemble(
        &self,
        calls: &[(CallRows, usize)],
        batch: bool,
    ) -> Result<(RecordBatch, Vec<Cells>, Vec<Cells>), ApiError> {
        // Builders sized to the request: an entry keeps its arrays' capacity while pending.
        let options = ReadOptions {
            batch_rows: calls.len().max(1),
            ..self.options.clone()
        };
        let mut rows = RowAssembler::new(Table::Activities, options.clone());
        let mut contacts = RowAssembler::for_patches(Table::Contacts, options.clone());
        let mut accounts = RowAssembler::for_patches(Table::Accounts, options);
        for (call, pos) in calls {
            let at = if batch {
                format!("batch[{pos}]")
            } else {
                String::new()
            };
            push(&mut rows, &call.activity, &at, "activity")?;
            if let Some(c) = &call.contact {
                push(&mut contacts, c, &at, "contact")?;
            }
            if let Some(g) = &call.account {
                push(&mut accounts, g, &at, "account")?;
            }
        }
        let batch = rows
            .finish_batch()
            .unwrap_or_else(|| RecordBatch::new_empty(Table::Activities.schema()));
        let contacts = calls
            .iter()
            .filter_map(|(c, _)| c.contact.clone())
            .collect();
        let accounts = calls
            .iter()
            .filter_map(|(c, _)| c.account.clone())
            .collect();
        Ok((batch, contacts, accounts))
    }

    /// Adds rows the log now holds.
    pub fn push(&self, entry: Entry) {
        let mut inner = self.lock();
        inner.events += entry.activities.num_rows();
        inner.entries.insert(entry.first_seq, entry);
    }

    /// The pending entries a flush may take: those continuing the log without a gap from
    /// the last flushed record (a request still writing leaves a gap; what follows it waits
    /// for the next flush, so the workspace never claims a record it does not hold).
    pub fn flushable(&self) -> Vec<Entry> {
        let inner = self.lock();
        let mut next = inner.flushed_seq + 1;
        let mut out = Vec::new();
        for (&first, e) in &inner.entries {
            if first != next {
                break;
            }
            next = e.last_seq + 1;
            out.push(e.clone());
        }
        out
    }

    /// Forgets entries up to `seq`, now in the tables; their ids stay known for a while.
    pub fn flushed(&self, seq: u64) {
        let mut inner = self.lock();
        inner.flushed_seq = inner.flushed_seq.max(seq);
        let done: Vec<u64> = inner.entries.range(..=seq).map(|(&k, _)| k).collect();
        for k in done {
            let e = inner.entries.remove(&k).expect("listed");
            inner.events -= e.activities.num_rows();
            let ids = e.activities.column(0).as_string::<i32>().clone();
            for id in ids.iter().flatten() {
                inner.ids.remove(id);
                if inner.recent_ids.insert(id.to_string()) {
                    inner.recent.push_back(id.to_string());
                }
            }
        }
        while inner.recent.len() > RECENT_IDS {
            let old = inner.recent.pop_front().expect("non-empty");
            inner.recent_ids.remove(&old);
        }
    }
}

fn push(rows: &mut RowAssembler, cells: &Cells, at: &str, what: &str) -> Result<(), ApiError> {
    let fields = rows.table().fields();
    rows.push_row(0, |i| cells.get(fields[i].name).map(String::as_str), &[])
        .map_err(|e| {
            let name = e.field.map_or("", |i| fields[i].name);
            let value = e.value.map(|v| format!(" {v:?}")).unwrap_or_default();
            ApiError::bad_request(
                "invalid_field",
                format!("{what} field {name}{value} {}", e.message),
            )
            .with_field(at)
        })
}

impl PendingRows for Pending {
    fn activities_after(&self, flushed: u64) -> Vec<RecordBatch> {
        self.lock()
            .entries
            .values()
            .filter(|e| e.first_seq > flushed)
            .map(|e| e.activities.clone())
            .collect()
    }
}
