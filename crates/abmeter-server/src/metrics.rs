//! `/metrics`: counters in the Prometheus text format, no client library needed for a
//! handful of numbers.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (i, le) in BUCKETS.iter().enumerate() {
            let n = self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {n}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// What the server counts.
#[derive(Default)]
pub struct Metrics {
    /// Calls accepted and made durable.
    pub events_received: AtomicU64,
    /// Calls dropped as repeats of a messageId.
    pub events_duplicate: AtomicU64,
    /// Requests refused, by status class.
    pub rejected_400: AtomicU64,
    pub rejected_401: AtomicU64,
    pub rejected_413: AtomicU64,
    pub rejected_503: AtomicU64,
    pub rejected_other: AtomicU64,
    pub flushes: AtomicU64,
    pub flush_errors: AtomicU64,
    pub events_flushed: AtomicU64,
    pub alert_checks: AtomicU64,
    pub alert_check_failures: AtomicU64,
    pub ingest_latency: Histogram,
    pub api_latency: Histogram,
    pub page_latency: Histogram,
}

/// Gauges read at render time.
pub struct Gauges {
    pub wal_bytes: u64,
    pub wal_fsyncs: u64,
    pub wal_commits: u64,
    pub pending_events: usize,
    pub pending_bytes: usize,
    pub flush_lag_secs: f64,
    /// Reports answered from the cache, and run.
    pub report_cache: (u64, u64),
}

impl Metrics {
    pub fn rejected(&self, status: u16) {
        let c = match status {
            400 => &self.rejected_400,
            401 => &self.rejected_401,
            413 => &self.rejected_413,
            503 => &self.rejected_503,
            _ => &self.rejected_other,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, v) in samples {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        counter(
            "abmeter_events_received_total",
            "Calls accepted and durable in the write-ahead log.",
            &[("", get(&self.events_received))],
        );
        counter(
            "abmeter_events_duplicate_total",
            "Calls dropped as repeats of a messageId.",
            &[("", get(&self.events_duplicate))],
        );
        counter(
            "abmeter_requests_rejected_total",
            "Requests refused, by HTTP status.",
            &[
                ("{status=\"400\"}", get(&self.rejected_400)),
                ("{status=\"401\"}", get(&self.rejected_401)),
                ("{status=\"413\"}", get(&self.rejected_413)),
                ("{status=\"503\"}", get(&self.rejected_503)),
                ("{status=\"other\"}", get(&self.rejected_other)),
            ],
        );
        counter(
            "abmeter_flushes_total",
            "Flushes of pending calls into the workspace tables.",
            &[("", get(&self.flushes))],
        );
        counter(
            "abmeter_flush_errors_total",
            "Flushes that failed (retried at the next interval).",
            &[("", get(&self.flush_errors))],
        );
        counter(
            "abmeter_events_flushed_total",
            "Calls written into the workspace tables.",
            &[("", get(&self.events_flushed))],
        );
        counter(
            "abmeter_alert_checks_total",
            "Scheduled alert checks, by outcome.",
            &[
                ("{outcome=\"ok\"}", get(&self.alert_checks)),
                ("{outcome=\"failed\"}", get(&self.alert_check_failures)),
            ],
        );
        counter(
            "abmeter_wal_bytes_total",
            "Bytes appended to the write-ahead log since start.",
            &[("", g.wal_bytes)],
        );
        counter(
            "abmeter_wal_fsyncs_total",
            "fsync calls of the write-ahead log since start.",
            &[("", g.wal_fsyncs)],
        );
        counter(
            "abmeter_wal_commits_total",
            "Group commits of the write-ahead log since start.",
            &[("", g.wal_commits)],
        );
        let _ = writeln!(
            out,
            "# HELP abmeter_pending_events Calls durable but not yet flushed into the tables.\n\
             # TYPE abmeter_pending_events gauge\nabmeter_pending_events {}",
            g.pending_events
        );
        let _ = writeln!(
            out,
            "# HELP abmeter_pending_bytes Memory of the calls not yet flushed.\n\
             # TYPE abmeter_pending_bytes gauge\nabmeter_pending_bytes {}",
            g.pending_bytes
        );
        let _ = writeln!(
            out,
            "# HELP abmeter_flush_lag_seconds Age of the oldest call not yet flushed.\n\
             # TYPE abmeter_flush_lag_seconds gauge\nabmeter_flush_lag_seconds {:.3}",
            g.flush_lag_secs
        );
        let _ = writeln!(
            out,
            "# HELP abmeter_report_cache_total Reports for pages and the read API, by whether \
             a kept answer served them.\n\
             # TYPE abmeter_report_cache_total counter\n\
             abmeter_report_cache_total{{result=\"hit\"}} {}\n\
             abmeter_report_cache_total{{result=\"miss\"}} {}",
            g.report_cache.0, g.report_cache.1
        );
        let _ = writeln!(
            out,
            "# HELP abmeter_request_duration_seconds Request latency.\n\
             # TYPE abmeter_request_duration_seconds histogram"
        );
        self.ingest_latency.render(
            &mut out,
            "abmeter_request_duration_seconds",
            "route=\"ingest\"",
        );
        self.api_latency.render(
            &mut out,
            "abmeter_request_duration_seconds",
            "route=\"api\"",
        );
        self.page_latency.render(
            &mut out,
            "abmeter_request_duration_seconds",
            "route=\"dashboard\"",
        );
        out
    }
}
