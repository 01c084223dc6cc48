//! `abmeter resolve [--report]`: rebuild the identity map, then say what it matched.

use std::path::Path;
use std::process::ExitCode;

use abmeter_outputs::Format;
use abmeter_store::Store;

pub fn run(root: &Path, full: bool, format: Format) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let started = std::time::Instant::now();
    store.rebuild_identity()?;
    eprintln!(
        "identity map rebuilt from every stored activity in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let report = super::runtime()?.block_on(async {
        let ctx = store.session().await?;
        abmeter_metrics::identity::report(&ctx, full).await
    })?;
    super::print(&report, format)
}
