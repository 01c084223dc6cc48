//! `abmeter channels`, `abmeter web` and `abmeter funnel` (SPEC §5).

use std::path::Path;
use std::process::ExitCode;

use abmeter_metrics::{channels, funnel, web};
use abmeter_outputs::Format;
use abmeter_store::Store;
use abmeter_store::cube::Derived;

use super::attribution::{by, period};
use super::engagement::print;

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
    let r = super::runtime()?.block_on(async {
        super::refresh(
            &store,
            &[Derived::ChannelActivity, Derived::ContactFirstTouch],
        )
        .await?;
        let ctx = store.session().await?;
        channels::report(&ctx, &store.config()?, &params).await
    })?;
    print(&r, format)
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
    let r = super::runtime()?.block_on(async {
        super::refresh(&store, &[Derived::Milestones, Derived::ContactFirstTouch]).await?;
        let ctx = store.session().await?;
        funnel::report(&ctx, &store.config()?, &params).await
    })?;
    print(&r, format)
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
    let r = super::runtime()?.block_on(async {
        super::refresh(&store, &[Derived::WebVisits]).await?;
        let ctx = store.session().await?;
        web::report(&ctx, &store.config()?, &params).await
    })?;
    print(&r, format)
}
