//! One module per command; `run` dispatches.

mod demo;
mod import;
mod init;
mod sql;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use abmeter_model::Config;
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
        Command::Sql { query, format } => sql::run(&workspace("."), &query, format),
    }
}

/// The workspace's configuration: abmeter.toml if present, else the defaults; then the
/// `ABMETER_*` environment overrides.
pub fn load_config(root: &Path) -> anyhow::Result<Config> {
    let path = root.join("abmeter.toml");
    let mut config = match std::fs::read_to_string(&path) {
        Ok(text) => Config::from_toml_str(&text)
            .with_context(|| format!("{} is invalid", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    config
        .apply_env(|k| std::env::var(k).ok())
        .context("invalid ABMETER_* environment setting")?;
    Ok(config)
}

/// A tokio runtime for commands that query.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the query runtime")
}
