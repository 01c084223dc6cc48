//! `abmeter init [DIR]`: write the commented abmeter.toml.

use std::path::Path;
use std::process::ExitCode;

use abmeter_model::Config;
use anyhow::{Context, bail};

pub fn run(dir: &Path, force: bool) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("abmeter.toml");
    if path.exists() && !force {
        bail!(
            "{} exists already; pass --force to overwrite it",
            path.display()
        );
    }
    std::fs::write(&path, Config::template())
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote {} with every default; edit it, then `abmeter import` your data",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
