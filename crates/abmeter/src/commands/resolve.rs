//! `abmeter resolve [--report]`: rebuild the identity map, then say what it matched.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use abmeter_outputs::Format;
use abmeter_store::Store;

pub fn run(root: &Path, full: bool, format: Format) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    store.rebuild_identity()?;
    let mut report = super::runtime()?.block_on(async {
        let ctx = store.session().await?;
        abmeter_metrics::identity::report(&ctx).await
    })?;
    if !full {
        // Without --report: the totals and the per-rule counts only.
        report
            .rows
            .retain(|r| matches!(r[0].as_str(), Some("total" | "matched" | "unmatched")));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    abmeter_outputs::render(&report, format, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
