//! `abmeter retention`, `abmeter clv`, `abmeter nps` and `abmeter expansion` (SPEC §8): how
//! existing customers grow, stay, value and feel.

use std::path::Path;
use std::process::ExitCode;

use abmeter_metrics::deals::parse_by;
use abmeter_metrics::mrr::{self, Month};
use abmeter_metrics::{clv, expansion, nps, retention};
use abmeter_outputs::Format;
use abmeter_store::Store;
use abmeter_store::cube::Derived;
use anyhow::anyhow;

use super::attribution::period;
use super::engagement::today;
use crate::cli::MonthRangeArgs;

/// The months S and E: given, else E = the last whole month before `--at` (default today)
/// and S = 12 months before E.
fn months(range: &MonthRangeArgs) -> anyhow::Result<(Month, Month)> {
    let parse = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<Month>> {
        text.as_deref()
            .map(|t| Month::parse(t).map_err(|e| anyhow!("{flag}: {e}")))
            .transpose()
    };
    let to = parse("--to", &range.to)?
        .unwrap_or_else(|| Month::of(range.at.unwrap_or_else(today)).plus(-1));
    let from = parse("--from", &range.from)?.unwrap_or(to.plus(-12));
    if from >= to {
        return Err(anyhow!(
            "--from ({from}) must be a month before --to ({to})"
        ));
    }
    Ok((from, to))
}

pub fn retention(
    root: &Path,
    range: &MonthRangeArgs,
    by: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let (from, to) = months(range)?;
    let params = retention::Params {
        from,
        to,
        by: parse_by(by, &mrr::DIMS).map_err(|e| anyhow!("--by: {e}"))?,
    };
    super::show(&store, &[], format, async |ctx, _| {
        retention::report(ctx, &params).await
    })
}

pub fn clv(
    root: &Path,
    range: &MonthRangeArgs,
    horizon_months: u32,
    discount: f64,
    limit: usize,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let (from, to) = months(range)?;
    if !(discount.is_finite() && discount >= 0.0) {
        return Err(anyhow!(
            "--discount: must be a monthly rate ≥ 0, got {discount}"
        ));
    }
    let params = clv::Params {
        from,
        to,
        horizon_months,
        discount,
        limit,
    };
    super::show(&store, &[], format, async |ctx, config| {
        clv::report(ctx, config, &params).await
    })
}

pub fn nps(
    root: &Path,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    by: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let params = nps::Params {
        period: period(&store, period_text, at)?,
        by: parse_by(by, &nps::DIMS).map_err(|e| anyhow!("--by: {e}"))?,
    };
    super::show(&store, &[], format, async |ctx, _| {
        nps::report(ctx, &params).await
    })
}

pub fn expansion(
    root: &Path,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let params = expansion::Params {
        period: period(&store, period_text, at)?,
    };
    let derived = [Derived::Touches, Derived::Milestones, Derived::Sourcing];
    super::show(&store, &derived, format, async |ctx, _| {
        expansion::report(ctx, &params).await
    })
}
