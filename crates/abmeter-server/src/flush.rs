//! The flush: pending calls into the workspace tables, as one all-or-nothing import whose
//! manifest also records how far the log is flushed; then the log segments it covers are
//! deleted. Runs every `server.flush_interval_secs` and once more on shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use abmeter_model::Table;
use abmeter_sources::rows::RowAssembler;
use abmeter_sources::segment::Cells;
use abmeter_store::StoreError;

use crate::AppState;
use crate::pending::Entry;

pub async fn run(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(state.config.server.flush_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // An interval's first tick is immediate; the first flush comes one interval in.
    tick.tick().await;
    loop {
        tick.tick().await;
        let s = state.clone();
        let _ = tokio::task::spawn_blocking(move || flush_logged(&s)).await;
    }
}

pub async fn final_flush(state: &Arc<AppState>) {
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || flush_logged(&s)).await;
}

/// One flush, with its outcome logged and counted.
pub(crate) fn flush_logged(state: &AppState) {
    let entries = state.pending.flushable();
    if entries.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    match flush(state, &entries) {
        Ok((seq, events)) => {
            state.metrics.flushes.fetch_add(1, Ordering::Relaxed);
            state
                .metrics
                .events_flushed
                .fetch_add(events as u64, Ordering::Relaxed);
            tracing::info!(
                message = "Flushed calls into the tables.",
                events,
                upto_seq = seq,
                secs = started.elapsed().as_secs_f64()
            );
        }
        Err(e) => {
            state.metrics.flush_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(message = "Flush failed; retrying at the next interval.", error = %e);
        }
    }
}

fn flush(state: &AppState, entries: &[Entry]) -> Result<(u64, usize), StoreError> {
    let seq = entries.last().expect("non-empty").last_seq;
    let mut import = state.store.begin_import()?;
    let mut events = 0;
    for e in entries {
        if e.activities.num_rows() > 0 {
            events += e.activities.num_rows();
            import.append(Table::Activities, e.activities.clone())?;
        }
    }
    let contacts = entries.iter().flat_map(|e| &e.contacts);
    if let Some(batch) = folded(Table::Contacts, contacts, state)? {
        import.patch(Table::Contacts, batch)?;
    }
    let accounts = entries.iter().flat_map(|e| &e.accounts);
    if let Some(batch) = folded(Table::Accounts, accounts, state)? {
        import.patch(Table::Accounts, batch)?;
    }
    import.set_wal_flushed_seq(seq);
    import.commit(&state.config)?;
    state.pending.flushed(seq);
    if let Err(e) = state.wal.checkpoint(seq) {
        // The records stay in the log and are skipped on replay: only space is lost.
        tracing::warn!(message = "WAL checkpoint failed.", error = %e);
    }
    Ok((seq, events))
}

/// The patches of one table folded per id in log order (a later call's fields win), as one
/// batch of partial rows.
fn folded<'a>(
    table: Table,
    patches: impl Iterator<Item = &'a Cells>,
    state: &AppState,
) -> Result<Option<arrow::record_batch::RecordBatch>, StoreError> {
    let mut by_id: BTreeMap<&str, Cells> = BTreeMap::new();
    for p in patches {
        let row = by_id.entry(p["id"].as_str()).or_default();
        row.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if by_id.is_empty() {
        return Ok(None);
    }
    let options = abmeter_sources::ReadOptions {
        batch_rows: by_id.len(),
        ..state.pending.read_options()
    };
    let mut rows = RowAssembler::for_patches(table, options);
    let fields = table.fields();
    for cells in by_id.values() {
        // Each patch was validated when it arrived; their union is valid too.
        rows.push_row(0, |i| cells.get(fields[i].name).map(String::as_str), &[])
            .map_err(|e| StoreError::Unanswerable(format!("{}: {}", table.name(), e.message)))?;
    }
    Ok(rows.finish_batch())
}
