//! Reports computed a moment ago, kept while nothing they read has changed.
//!
//! A team reviewing accounts opens the same pages again and again; each page runs several
//! reports over millions of activities. A report's answer depends only on its options, the
//! workspace's data and config, and today's date (the default `--at`). So it is kept under
//! a key of all four: the manifest's generation (every import and flush commits a new
//! one), the write-ahead log's next record (every acknowledged call, visible at once as a
//! pending row), the config file's modification time and the date. Any change makes new
//! keys; old entries age out of a bounded least-recently-used map.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use abmeter_model::Report;

use crate::error::ApiError;

/// Reports kept at most (a page runs up to eight).
const CAPACITY: usize = 512;

/// What the workspace's data and config were when a report ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataVersion {
    pub generation: u64,
    pub wal_next_seq: u64,
    pub config_modified: Option<SystemTime>,
    pub today: chrono::NaiveDate,
}

type Key = (DataVersion, String, Vec<(String, String)>);

#[derive(Default)]
pub struct ReportCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, (Arc<Report>, u64)>,
    clock: u64,
    hits: u64,
    misses: u64,
}

impl ReportCache {
    /// The report under `key`, else `run`'s (kept when it succeeds; errors are not kept).
    pub fn get_or_run(
        &self,
        version: DataVersion,
        name: &str,
        params: &[(String, String)],
        run: impl FnOnce() -> Result<Report, ApiError>,
    ) -> Result<Arc<Report>, ApiError> {
        let key: Key = (version, name.to_string(), params.to_vec());
        if let Ok(mut inner) = self.inner.lock() {
            inner.clock += 1;
            let now = inner.clock;
            if let Some((report, used)) = inner.entries.get_mut(&key) {
                *used = now;
                let report = report.clone();
                inner.hits += 1;
                return Ok(report);
            }
            inner.misses += 1;
        }
        // Computed outside the lock: other pages go on meanwhile.
        let report = Arc::new(run()?);
        if let Ok(mut inner) = self.inner.lock() {
            if inner.entries.len() >= CAPACITY {
                // Entries of an older data version are never asked for again: drop them
                // first, then the least recently used.
                let current = key.0.clone();
                inner.entries.retain(|k, _| k.0 == current);
                if inner.entries.len() >= CAPACITY
                    && let Some(oldest) = inner
                        .entries
                        .iter()
                        .min_by_key(|(_, (_, used))| *used)
                        .map(|(k, _)| k.clone())
                {
                    inner.entries.remove(&oldest);
                }
            }
            let now = inner.clock;
            inner.entries.insert(key, (report.clone(), now));
        }
        Ok(report)
    }

    /// (hits, misses) since the server started, for `/metrics`.
    pub fn counts(&self) -> (u64, u64) {
        self.inner.lock().map_or((0, 0), |i| (i.hits, i.misses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn version(generation: u64) -> DataVersion {
        DataVersion {
            generation,
            wal_next_seq: 1,
            config_modified: None,
            today: chrono::NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
        }
    }

    #[test]
    fn a_report_runs_once_per_data_version_and_options() {
        let cache = ReportCache::default();
        let runs = Cell::new(0);
        let run = || {
            runs.set(runs.get() + 1);
            Ok(Report::new("mqa", Default::default(), Vec::new()))
        };
        let p = vec![("at".to_string(), "2026-09-30".to_string())];
        cache.get_or_run(version(1), "mqa", &p, run).unwrap();
        cache.get_or_run(version(1), "mqa", &p, run).unwrap();
        assert_eq!(runs.get(), 1, "the second asks the kept report");
        cache.get_or_run(version(2), "mqa", &p, run).unwrap();
        assert_eq!(runs.get(), 2, "a new generation runs again");
        cache.get_or_run(version(2), "mqa", &[], run).unwrap();
        assert_eq!(runs.get(), 3, "other options run again");
        let failed = cache.get_or_run(version(2), "x", &[], || {
            Err(ApiError::bad_request("invalid_parameter", "no"))
        });
        assert!(failed.is_err());
        assert_eq!(cache.counts(), (1, 4));
    }

    #[test]
    fn it_stays_within_its_capacity() {
        let cache = ReportCache::default();
        for i in 0..(CAPACITY + 10) {
            let p = vec![("n".to_string(), i.to_string())];
            cache
                .get_or_run(version(1), "sql", &p, || {
                    Ok(Report::new("sql", Default::default(), Vec::new()))
                })
                .unwrap();
        }
        assert_eq!(cache.inner.lock().unwrap().entries.len(), CAPACITY);
    }
}
