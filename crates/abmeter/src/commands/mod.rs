//! One module per command; `run` dispatches.

mod alerts_send;
mod attribution;
mod channels;
mod customers;
mod demo;
mod engagement;
mod import;
mod init;
mod pipeline;
mod resolve;
mod review;
mod serve;
mod sources;
mod sql;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let workspace = |default: &str| {
        cli.workspace
            .clone()
            .unwrap_or_else(|| PathBuf::from(default))
    };
    match cli.command {
        Command::Init { dir, force } => init::run(&dir.unwrap_or_else(|| workspace(".")), force),
        Command::Import(args) => import::run(&workspace("."), &args),
        // The demo gets a folder of its own so it never litters the current one.
        Command::Demo(args) => demo::run(&workspace("abmeter-demo"), &args),
        Command::Resolve { report, format } => resolve::run(&workspace("."), report, format),
        Command::Sql { query, format } => sql::run(&workspace("."), &query, format),
        Command::Serve { bind } => serve::run(&workspace("."), bind, None),
        Command::Report {
            period,
            at,
            output,
            format,
            lang,
        } => review::run(
            &workspace("."),
            &period,
            at,
            output.as_ref(),
            &format,
            lang.as_deref(),
        ),
        Command::Attribution {
            model,
            by,
            credit,
            period,
            at,
            account,
            journeys,
            output,
        } => attribution::attribution(
            &workspace("."),
            &model,
            &by,
            &credit,
            &period,
            at,
            account.as_deref(),
            journeys.as_deref(),
            output.format,
        ),
        Command::Roi {
            by,
            model,
            period,
            at,
            what_if,
            inputs,
            output,
        } => attribution::roi(
            &workspace("."),
            &by,
            &model,
            &period,
            at,
            what_if.then_some(&inputs),
            output.format,
        ),
        Command::Sources { period, at, output } => {
            sources::run(&workspace("."), period.as_deref(), at, output.format)
        }
        Command::Channels {
            period,
            at,
            by,
            output,
        } => channels::run(&workspace("."), &period, at, &by, output.format),
        Command::Web { period, at, output } => {
            channels::web(&workspace("."), &period, at, output.format)
        }
        Command::Funnel {
            period,
            at,
            by,
            output,
        } => channels::funnel(&workspace("."), &period, at, &by, output.format),
        Command::Pipeline {
            period,
            by,
            scope,
            output,
        } => pipeline::pipeline(
            &workspace("."),
            &period,
            by.as_deref(),
            &scope,
            output.format,
        ),
        Command::Velocity {
            period,
            scope,
            output,
        } => pipeline::velocity(&workspace("."), &period, &scope, output.format),
        Command::Retention { range, by, output } => {
            customers::retention(&workspace("."), &range, by.as_deref(), output.format)
        }
        Command::Clv {
            range,
            horizon,
            discount,
            limit,
            output,
        } => customers::clv(
            &workspace("."),
            &range,
            horizon,
            discount,
            limit,
            output.format,
        ),
        Command::Nps {
            period,
            at,
            by,
            output,
        } => customers::nps(&workspace("."), &period, at, by.as_deref(), output.format),
        Command::Expansion { period, at, output } => {
            customers::expansion(&workspace("."), &period, at, output.format)
        }
        c @ (Command::Engagement { .. }
        | Command::Timeline { .. }
        | Command::Heatmap { .. }
        | Command::Trend { .. }
        | Command::Mqa { .. }
        | Command::Alerts { .. }
        | Command::Explain { .. }) => engagement::run(&workspace("."), c),
    }
}

/// A tokio runtime for commands that query.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the query runtime")
}

/// Brings the derived tables a report reads up to date (a rebuild after an import can take
/// seconds on millions of activities, so it says so on stderr).
pub async fn refresh(
    store: &abmeter_store::Store,
    kinds: &[abmeter_store::cube::Derived],
) -> Result<(), abmeter_store::StoreError> {
    for kind in kinds {
        let started = std::time::Instant::now();
        if let abmeter_store::cube::Refresh::Rebuilt { rows, .. } = store.refresh(*kind).await? {
            eprintln!(
                "{}: {rows} rows rebuilt in {:.2} s",
                kind.table(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Runs a report the way most commands do: bring the derived tables it reads up to date,
/// open a query session, compute, print in `format`.
pub fn show<F>(
    store: &abmeter_store::Store,
    derived: &[abmeter_store::cube::Derived],
    format: abmeter_outputs::Format,
    compute: F,
) -> anyhow::Result<ExitCode>
where
    F: AsyncFnOnce(
        &datafusion::execution::context::SessionContext,
        &abmeter_model::Config,
    ) -> Result<abmeter_model::Report, abmeter_store::StoreError>,
{
    let config = store.config()?;
    let report = runtime()?.block_on(async {
        refresh(store, derived).await?;
        let ctx = store.session().await?;
        compute(&ctx, &config).await
    })?;
    print(&report, format)
}

thread_local! {
    /// Where [`print`] puts reports instead of printing them while [`capture`] runs (the
    /// read API, the dashboard and `abmeter report` run commands in process).
    static CAPTURED: std::cell::RefCell<Option<Vec<abmeter_model::Report>>> =
        const { std::cell::RefCell::new(None) };
}

/// Prints a report to stdout in `format` (or keeps it for a [`capture`]).
pub fn print(
    report: &abmeter_model::Report,
    format: abmeter_outputs::Format,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let captured = CAPTURED.with(|c| {
        c.borrow_mut()
            .as_mut()
            .map(|reports| reports.push(report.clone()))
            .is_some()
    });
    if captured {
        return Ok(ExitCode::SUCCESS);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    abmeter_outputs::render(report, format, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Runs a command with the report it prints kept instead of written to stdout.
pub fn capture(cli: Cli) -> anyhow::Result<abmeter_model::Report> {
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let result = run(cli);
    let reports = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    result?;
    reports
        .into_iter()
        .next_back()
        .ok_or_else(|| anyhow::anyhow!("the command printed no report"))
}

/// Runs report command `name` in process, `params` as its options (`period=2026-Q3` is
/// `--period 2026-Q3`, an empty value a bare flag, `q` the statement of `sql`).
pub fn run_report(
    workspace: &std::path::Path,
    name: &str,
    params: &[(String, String)],
) -> anyhow::Result<abmeter_model::Report> {
    let mut argv: Vec<String> = vec![
        "abmeter".into(),
        "--workspace".into(),
        workspace.to_string_lossy().into_owned(),
        name.into(),
    ];
    for (key, value) in params {
        match key.as_str() {
            "format" => continue,
            "q" if name == "sql" => argv.push(value.clone()),
            _ => {
                argv.push(format!("--{}", key.replace('_', "-")));
                if !value.is_empty() {
                    argv.push(value.clone());
                }
            }
        }
    }
    argv.extend(["--format".into(), "json".into()]);
    let cli = Cli::try_parse_from(&argv).map_err(|e| {
        let text = e.render().to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("invalid parameters")
            .to_string();
        InvalidParameters(first.trim_start_matches("error: ").to_string())
    })?;
    capture(cli)
}

/// Options a report command does not take (the caller's mistake, not the workspace's).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidParameters(pub String);
