//! `abmeter sources`: self-reported ("dark funnel") sources against the tracked first touch
//! (SPEC §6).

use std::path::Path;
use std::process::ExitCode;

use abmeter_metrics::dark_funnel;
use abmeter_model::Period;
use abmeter_outputs::Format;
use abmeter_store::Store;
use abmeter_store::cube::Derived;
use anyhow::anyhow;

use super::engagement::today;

pub fn run(
    root: &Path,
    period_text: Option<&str>,
    at: Option<chrono::NaiveDate>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let config = store.config()?;
    let period = period_text
        .map(|text| {
            Period::parse(
                text,
                at.unwrap_or_else(today),
                config.fiscal_year_start_month,
            )
            .map_err(|e| anyhow!("--period: {e}"))
        })
        .transpose()?;
    let params = dark_funnel::Params { period };
    // Opportunities' first touches: `sourced_opportunities`, built from the touches.
    let derived = [
        Derived::Touches,
        Derived::Milestones,
        Derived::Sourcing,
        Derived::ContactFirstTouch,
    ];
    super::show(&store, &derived, format, async |ctx, config| {
        dark_funnel::report(ctx, config, &params).await
    })
}
