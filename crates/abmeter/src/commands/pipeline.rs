//! `abmeter pipeline` and `abmeter velocity` (SPEC §6).

use std::path::Path;
use std::process::ExitCode;

use abmeter_metrics::deals::Dim;
use abmeter_metrics::{pipeline, velocity};
use abmeter_model::Period;
use abmeter_outputs::Format;
use abmeter_store::Store;
use abmeter_store::cube::Derived;
use anyhow::anyhow;

use super::engagement::today;
use crate::cli::ScopeArgs;

fn dims(text: &str) -> anyhow::Result<Vec<Dim>> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let dim: Dim = part.parse().map_err(|e| anyhow!("--by: {e}"))?;
        if !out.contains(&dim) {
            out.push(dim);
        }
    }
    Ok(out)
}

/// `--account ID` and each `--segment DIM=VALUE` as opportunity filters.
fn filters(scope: &ScopeArgs) -> anyhow::Result<Vec<(Dim, String)>> {
    let mut out = Vec::new();
    if let Some(account) = &scope.account {
        out.push((Dim::Account, account.clone()));
    }
    for s in &scope.segment {
        let (dim, value) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--segment: `{s}` is not DIM=VALUE (e.g. industry=Software)"))?;
        let dim: Dim = dim.parse().map_err(|e| anyhow!("--segment: {e}"))?;
        out.push((dim, value.trim().to_string()));
    }
    Ok(out)
}

fn period(store: &Store, text: &str, at: chrono::NaiveDate) -> anyhow::Result<Period> {
    let fiscal = store.config()?.fiscal_year_start_month;
    Period::parse(text, at, fiscal).map_err(|e| anyhow!("--period: {e}"))
}

pub fn pipeline(
    root: &Path,
    period_text: &str,
    by: Option<&str>,
    scope: &ScopeArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let at = scope.at.unwrap_or_else(today);
    let params = pipeline::Params {
        period: period(&store, period_text, at)?,
        at,
        by: by.map(dims).transpose()?.unwrap_or_default(),
        filters: filters(scope)?,
    };
    // Sourcing reads each account's first touch.
    let derived = [Derived::Touches, Derived::Milestones, Derived::Sourcing];
    super::show(&store, &derived, format, async |ctx, config| {
        pipeline::report(ctx, config, &params).await
    })
}

pub fn velocity(
    root: &Path,
    period_text: &str,
    scope: &ScopeArgs,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let at = scope.at.unwrap_or_else(today);
    let params = velocity::Params {
        period: period(&store, period_text, at)?,
        at,
        filters: filters(scope)?,
    };
    let derived = [
        Derived::Touches,
        Derived::Milestones,
        Derived::Sourcing,
        Derived::StageTime,
    ];
    super::show(&store, &derived, format, async |ctx, config| {
        velocity::report(ctx, config, &params).await
    })
}

/// The demo's pipeline headline: this quarter's pipeline, marketing-sourced share, revenue
/// and win rate against the previous quarter.
pub fn headline(
    store: &Store,
    end: chrono::NaiveDate,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let config = store.config()?;
    let params = pipeline::Params {
        period: Period::containing(
            abmeter_model::Granularity::Quarter,
            end,
            config.fiscal_year_start_month,
        ),
        at: end,
        by: Vec::new(),
        filters: Vec::new(),
    };
    let r = super::runtime()?.block_on(async {
        super::refresh(
            store,
            &[Derived::Touches, Derived::Milestones, Derived::Sourcing],
        )
        .await?;
        pipeline::report(&store.session().await?, &config, &params).await
    })?;
    let Some(row) = r.rows.first() else {
        return Ok(());
    };
    let cell = |name: &str| {
        r.column(name)
            .map(|i| abmeter_outputs::display_cell(r.columns[i].kind, &row[i]))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "–".into())
    };
    writeln!(
        out,
        "\npipeline {}: {} opportunities, {} {} created ({} % marketing-sourced new business; \
         {} % on the previous quarter), revenue {} {}, win rate {}",
        params.period.label(),
        cell("opportunities"),
        cell("pipeline"),
        config.finance.currency,
        cell("marketing_sourced_pipeline_pct"),
        cell("pipeline_change_pct"),
        cell("revenue"),
        config.finance.currency,
        cell("win_rate"),
    )?;
    writeln!(
        out,
        "try: abmeter pipeline --period {0} --by source, abmeter velocity --period {0}",
        params.period.label()
    )?;
    Ok(())
}
