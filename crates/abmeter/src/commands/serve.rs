//! `abmeter serve`: the HTTP server on the workspace, with the CLI's reports behind the read
//! API. Stops on SIGTERM or Ctrl-C: stops accepting, finishes requests, flushes, exits.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use abmeter_model::Report;
use abmeter_server::{ApiError, Reports};
use abmeter_store::{Store, StoreError};
use anyhow::Context;
use clap::Parser;

use crate::cli::Cli;

/// The commands the read API runs: the reports, none that write (import, resolve, alerts
/// --send, init, demo, serve).
pub const API_REPORTS: &[&str] = &[
    "engagement",
    "timeline",
    "heatmap",
    "trend",
    "mqa",
    "alerts",
    "attribution",
    "roi",
    "sources",
    "channels",
    "web",
    "funnel",
    "pipeline",
    "velocity",
    "retention",
    "clv",
    "nps",
    "expansion",
    "sql",
];

/// Serves the workspace; `dashboard`, when given, is the query string (`token=…`) of the
/// dashboard link printed on stdout once the port is known (the demo's).
pub fn run(
    root: &Path,
    bind: Option<String>,
    dashboard: Option<String>,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let mut config = store.config()?;
    if let Some(bind) = bind {
        config.server.bind = bind;
    }
    let addr = config
        .server
        .bind_addr()
        .map_err(|e| anyhow::anyhow!("--bind: {e}"))?;
    if config.server.write_keys.is_empty() {
        tracing::warn!("no write key configured: ingestion answers 401 (set server.write_keys)");
    }
    let reports = Arc::new(CliReports {
        workspace: store.root().to_path_buf(),
    });
    let state = abmeter_server::open(store, config, reports)
        .with_context(|| format!("cannot open the server on {}", root.display()))?;
    super::runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        eprintln!("abmeter serving on http://{local} (Ctrl-C to stop)");
        if let Some(query) = &dashboard {
            println!("dashboard: http://{local}/?{query}");
        }
        abmeter_server::serve(state, listener, shutdown_signal()).await?;
        eprintln!("abmeter stopped: pending events flushed");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Runs a report as `abmeter <report> --<param> <value> … --format json` would, in process.
struct CliReports {
    workspace: PathBuf,
}

impl Reports for CliReports {
    fn run(&self, report: &str, params: &[(String, String)]) -> Result<Report, ApiError> {
        if !API_REPORTS.contains(&report) {
            return Err(ApiError::not_found(format!(
                "no such report: {report} (one of {})",
                API_REPORTS.join(", ")
            )));
        }
        if params.iter().any(|(k, _)| k == "send") {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "alerts --send delivers webhooks; the read API only reads",
            )
            .with_field("send"));
        }
        super::run_report(&self.workspace, report, params).map_err(classify)
    }

    fn send_alerts(&self) -> Result<(), String> {
        // The last complete week: the current one is partial and would look like a decline.
        let at = (chrono::Utc::now().date_naive() - chrono::Days::new(7)).to_string();
        let workspace = self.workspace.to_string_lossy().into_owned();
        let argv = [
            "abmeter",
            "--workspace",
            &workspace,
            "alerts",
            "--send",
            "--at",
            &at,
        ];
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        // `alerts --send` prints the alerts it judged; they are in the outbox already.
        super::capture(cli)
            .map(|_| ())
            .map_err(|e| format!("{e:#}"))
    }
}

/// A report that failed: the workspace's fault (I/O, corrupt files) is a 500, anything else
/// (a bad period, an unknown account) the caller's, a 400.
fn classify(e: anyhow::Error) -> ApiError {
    let ours = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some()
            || matches!(
                c.downcast_ref::<StoreError>(),
                Some(StoreError::Io { .. } | StoreError::Corrupt { .. } | StoreError::Parquet(_))
            )
    });
    let message = format!("{e:#}");
    if let Some(bad) = e.downcast_ref::<super::InvalidParameters>() {
        ApiError::bad_request("invalid_parameter", bad.0.clone())
    } else if ours {
        ApiError::internal(message)
    } else {
        ApiError::bad_request("invalid_request", message)
    }
}
