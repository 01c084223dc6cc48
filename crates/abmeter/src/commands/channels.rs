//! `abmeter channels`, `abmeter web` and `abmeter funnel` (SPEC §5).

use std::path::Path;
use std::process::ExitCode;

use abmeter_metrics::{channels, funnel, web};
use abmeter_outputs::Format;
use abmeter_store::Store;
use abmeter_store::cube::Derived;

use super::attribution::{by, period};

pub fn run(
    root: &Path,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    by_text: &str,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let params = channels::Params {
        period: period(&store, period_text, at)?,
        by: by(by_text)?,
    };
    let derived = [Derived::ChannelActivity, Derived::ContactFirstTouch];
    super::show(&store, &derived, format, async |ctx, config| {
        channels::report(ctx, config, &params).await
    })
}

pub fn funnel(
    root: &Path,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    by_text: &str,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let params = funnel::Params {
        period: period(&store, period_text, at)?,
        by: by_text.parse().map_err(|e| anyhow::anyhow!("--by: {e}"))?,
    };
    let derived = [Derived::Milestones, Derived::ContactFirstTouch];
    super::show(&store, &derived, format, async |ctx, config| {
        funnel::report(ctx, config, &params).await
    })
}

pub fn web(
    root: &Path,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let params = web::Params {
        period: period(&store, period_text, at)?,
    };
    super::show(
        &store,
        &[Derived::WebVisits],
        format,
        async |ctx, config| web::report(ctx, config, &params).await,
    )
}
