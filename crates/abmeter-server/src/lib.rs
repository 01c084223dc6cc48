//! The HTTP server (SPEC §9): Segment-compatible ingestion through a write-ahead log, the
//! read API over every report, `/healthz` and `/metrics`.
//!
//! Shape: [`open`] replays the log and builds the [`AppState`]; [`app`] is the router (tests
//! drive it with `tower::ServiceExt::oneshot`); [`serve`] runs it on a listener with the
//! background flush and a graceful shutdown that flushes last.

mod api;
mod cache;
mod dashboard;
pub mod error;
mod flush;
mod ingest;
mod metrics;
mod pending;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use abmeter_model::{Config, Report};
use abmeter_sources::ReadOptions;
use abmeter_sources::segment::CallRows;
use abmeter_store::pending::PendingRows;
use abmeter_store::wal::{Wal, WalOptions};
use abmeter_store::{Store, StoreError};
use axum::Router;
use axum::routing::{get, post};
use tokio::sync::Semaphore;

pub use error::ApiError;
pub use metrics::Metrics;
use pending::{Entry, Pending};

/// The folder of the write-ahead log inside the workspace.
pub const WAL_DIR: &str = "wal";

/// Runs the CLI's reports for the read API and the dashboard; the binary provides it, so
/// `GET /api/v1/<report>` answers exactly what `abmeter <report> --format json` prints and a
/// dashboard page shows exactly those numbers.
pub trait Reports: Send + Sync + 'static {
    /// `report` with `params` as its command-line options (`period=2026-Q3` is
    /// `--period 2026-Q3`). Errors: an unknown report is 404, bad options 400.
    fn run(&self, report: &str, params: &[(String, String)]) -> Result<Report, ApiError>;

    /// Checks the last complete week for surge and decline alerts and delivers the new ones
    /// to the webhook through the durable outbox (`abmeter alerts --send`); `serve` calls it
    /// every `alerts.check_interval_secs` when `alerts.webhook_url` is set.
    fn send_alerts(&self) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("write-ahead log: {0}")]
    Wal(#[from] abmeter_store::wal::WalError),
    #[error("{0}")]
    Replay(String),
}

/// What parsing calls needs from the config, built once.
pub struct CallOptions {
    pub track_events: BTreeMap<String, String>,
    pub activity_types: HashSet<String>,
}

/// Everything a request handler reaches.
pub struct AppState {
    pub store: Store,
    pub config: Config,
    pub wal: Wal,
    pub metrics: Metrics,
    pending: Arc<Pending>,
    /// Kept alive while the server runs: sessions of this process see the pending rows.
    _published: Arc<dyn PendingRows>,
    reports: Arc<dyn Reports>,
    pub(crate) report_cache: cache::ReportCache,
    limiter: Semaphore,
    call_options: CallOptions,
    started: Instant,
}

impl AppState {
    /// A report as the read API and the dashboard serve it: run as the CLI runs it, and kept
    /// while the workspace's data, config and date are unchanged (see `cache`).
    pub(crate) fn report(
        &self,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Arc<Report>, ApiError> {
        let generation = self
            .store
            .manifest()
            .map_err(|e| ApiError::internal(format!("cannot read the manifest: {e}")))?
            .generation;
        let version = cache::DataVersion {
            generation,
            wal_next_seq: self.wal.next_seq(),
            config_modified: std::fs::metadata(self.store.root().join("abmeter.toml"))
                .and_then(|m| m.modified())
                .ok(),
            today: chrono::Utc::now().date_naive(),
        };
        self.report_cache
            .get_or_run(version, name, params, || self.reports.run(name, params))
    }

    fn check_write_key(&self, key: &str) -> Result<(), ApiError> {
        if self.config.server.write_keys.is_empty() {
            return Err(ApiError::unauthorized(
                "ingestion is off: no write key is configured (server.write_keys or \
                 ABMETER_WRITE_KEYS)",
            ));
        }
        if self.config.server.write_keys.iter().any(|k| k == key) {
            Ok(())
        } else {
            Err(ApiError::unauthorized("invalid write key"))
        }
    }
}

/// Opens the server's state on a workspace: the log is replayed (a torn tail dropped) and
/// every record the tables do not hold yet becomes pending again.
pub fn open(
    store: Store,
    config: Config,
    reports: Arc<dyn Reports>,
) -> Result<Arc<AppState>, ServerError> {
    let manifest = store.manifest()?;
    let flushed = manifest.wal_flushed_seq;
    let mut activity_types: HashSet<String> =
        config.activity_type_names().map(str::to_string).collect();
    let call_options = CallOptions {
        track_events: config.server.track_events.clone(),
        activity_types: activity_types.clone(),
    };
    activity_types.extend(abmeter_model::config::CALL_TYPES.map(String::from));
    let pending = Arc::new(Pending::new(flushed, ReadOptions::new(activity_types)));
    let dir: PathBuf = store.root().join(WAL_DIR);
    let mut replayed: Vec<(u64, CallRows)> = Vec::new();
    let mut bad: Option<String> = None;
    let options = WalOptions {
        first_seq: flushed + 1,
        ..WalOptions::default()
    };
    let wal = Wal::open_with(&dir, options, |seq, payload| {
        if seq <= flushed || bad.is_some() {
            return;
        }
        match serde_json::from_slice::<CallRows>(payload) {
            Ok(rows) => replayed.push((seq, rows)),
            Err(e) => bad = Some(format!("record {seq} is not a call: {e}")),
        }
    })?;
    if let Some(why) = bad {
        return Err(ServerError::Replay(format!("{}: {why}", dir.display())));
    }
    if wal.next_seq() <= flushed {
        return Err(ServerError::Replay(format!(
            "{} ends at record {} but the workspace holds records up to {flushed}: the log \
             was replaced by an older copy. Move it away to start a new one.",
            dir.display(),
            wal.next_seq() - 1
        )));
    }
    // Replayed records go back in runs, as if each run had been one request.
    for chunk in replayed.chunks(10_000) {
        let calls: Vec<(CallRows, usize)> = chunk.iter().map(|(_, c)| (c.clone(), 0)).collect();
        let calls = pending.admit(calls);
        let (activities, contacts, accounts) = pending.assemble(&calls, false).map_err(|e| {
            ServerError::Replay(format!(
                "{}: a logged call no longer validates: {}",
                dir.display(),
                e.message
            ))
        })?;
        pending.push(Entry {
            first_seq: chunk[0].0,
            last_seq: chunk[chunk.len() - 1].0,
            activities,
            contacts,
            accounts,
            received: Instant::now(),
        });
    }
    if !replayed.is_empty() {
        tracing::info!(records = replayed.len(), "Replayed calls not yet flushed.");
    }
    let published: Arc<dyn PendingRows> = pending.clone();
    abmeter_store::pending::publish(store.root(), &published);
    Ok(Arc::new(AppState {
        limiter: Semaphore::new(config.server.max_concurrent_requests),
        store,
        config,
        wal,
        metrics: Metrics::default(),
        pending,
        _published: published,
        reports,
        report_cache: cache::ReportCache::default(),
        call_options,
        started: Instant::now(),
    }))
}

/// Flushes every pending call into the tables now (blocking; tests and tools).
pub fn flush_now(state: &AppState) {
    flush::flush_logged(state);
}

/// Calls durable in the log but not yet in the tables.
pub fn pending_events(state: &AppState) -> usize {
    state.pending.events()
}

/// The router: ingestion, read API, dashboard, health and metrics.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/{path}", post(ingest::handle))
        .route("/api/v1/{report}", get(api::report))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .merge(dashboard::routes())
        .fallback(api::not_found)
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves: then stops accepting, lets
/// requests in flight finish (up to `server.shutdown_timeout_secs`), and flushes.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let flusher = tokio::spawn(flush::run(state.clone()));
    let alerts = tokio::spawn(alert_checks(state.clone()));
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = std::future::IntoFuture::into_future(
        axum::serve(listener, service).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        }),
    );
    let mut stop_wait = stop_rx.clone();
    let deadline = state.config.server.shutdown_timeout();
    let result = tokio::select! {
        r = server => r,
        // In-flight requests get the shutdown timeout, not forever.
        _ = async {
            let _ = stop_wait.wait_for(|s| *s).await;
            tokio::time::sleep(deadline).await;
        } => Ok(()),
    };
    flusher.abort();
    alerts.abort();
    flush::final_flush(&state).await;
    result
}

/// The scheduled alert check (off without a webhook or with a zero interval).
async fn alert_checks(state: Arc<AppState>) {
    let every = state.config.alerts.check_interval_secs;
    if state.config.alerts.webhook_url.is_none() || every == 0 {
        return;
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = state.clone();
        let outcome = tokio::task::spawn_blocking(move || s.reports.send_alerts()).await;
        let counter = match outcome {
            Ok(Ok(())) => &state.metrics.alert_checks,
            Ok(Err(e)) => {
                tracing::warn!(message = "Alert check failed; retried at the next one.", error = %e);
                &state.metrics.alert_check_failures
            }
            Err(e) => {
                tracing::warn!(message = "Alert check failed.", error = %e);
                &state.metrics.alert_check_failures
            }
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
