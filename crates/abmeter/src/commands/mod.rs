//! One module per command; `run` dispatches.

mod alerts_send;
mod attribution;
mod demo;
mod engagement;
mod import;
mod init;
mod resolve;
mod sql;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

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
        Command::Attribution {
            model,
            by,
            credit,
            period,
            at,
            journeys,
            output,
        } => attribution::attribution(
            &workspace("."),
            &model,
            &by,
            &credit,
            &period,
            at,
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
