//! Activities the server has made durable in its write-ahead log but not yet flushed into
//! the tables. A query session of the same process includes them in `activities` (and so in
//! `resolved_activities`), so an event is visible as soon as its request is answered.
//!
//! The server publishes its pending rows for its workspace here; [`crate::Store::session`]
//! asks for the rows the session's manifest does not hold yet (those after the manifest's
//! `wal_flushed_seq`), so a flush that commits between the two never shows a row twice.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use datafusion::arrow::record_batch::RecordBatch;

/// A source of not-yet-flushed activity rows.
pub trait PendingRows: Send + Sync {
    /// Activity batches of the log records after sequence number `flushed`.
    fn activities_after(&self, flushed: u64) -> Vec<RecordBatch>;
}

type Entry = (PathBuf, Weak<dyn PendingRows>);

static PUBLISHED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Makes `rows` part of every session opened on the workspace at `root` (canonical path)
/// for as long as the caller keeps `rows` alive.
pub fn publish(root: &Path, rows: &Arc<dyn PendingRows>) {
    let mut all = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|(r, w)| w.strong_count() > 0 && r != root);
    all.push((root.to_path_buf(), Arc::downgrade(rows)));
}

/// The pending rows published for `root`, if a live server holds any.
pub(crate) fn published(root: &Path) -> Option<Arc<dyn PendingRows>> {
    let all = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
    all.iter()
        .find(|(r, _)| r == root)
        .and_then(|(_, w)| w.upgrade())
}
