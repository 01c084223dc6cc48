//! `abmeter sql "SELECT …"`: read-only SQL over the workspace.

use std::path::Path;
use std::process::ExitCode;

use abmeter_outputs::Format;
use abmeter_store::Store;

pub fn run(root: &Path, query: &str, format: Format) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let report = super::runtime()?.block_on(abmeter_metrics::sql::run(&store, query))?;
    super::print(&report, format)
}
