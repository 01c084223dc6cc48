//! `abmeter attribution` and `abmeter roi` (SPEC §7).

use std::path::Path;
use std::process::ExitCode;

use abmeter_metrics::attribution::Credit;
use abmeter_metrics::attribution::journeys::By;
use abmeter_metrics::attribution::report::{self, Selection};
use abmeter_metrics::roi;
use abmeter_model::Period;
use abmeter_outputs::Format;
use abmeter_store::Store;
use abmeter_store::cube::Derived;
use anyhow::anyhow;

use super::engagement::{print, today};
use crate::cli::WhatIfArgs;

/// The config and a session whose `attribution_touches` is up to date.
async fn open(
    store: &Store,
) -> Result<
    (
        abmeter_model::Config,
        datafusion::execution::context::SessionContext,
    ),
    abmeter_store::StoreError,
> {
    super::refresh(store, &[Derived::Touches]).await?;
    Ok((store.config()?, store.session().await?))
}

pub(super) fn by(text: &str) -> anyhow::Result<By> {
    match text.trim().to_ascii_lowercase().as_str() {
        "channel" => Ok(By::Channel),
        "campaign" | "campaign_id" => Ok(By::Campaign),
        other => Err(anyhow!("--by: `{other}` is not channel or campaign")),
    }
}

pub(super) fn period(
    store: &Store,
    text: &str,
    at: Option<chrono::NaiveDate>,
) -> anyhow::Result<Period> {
    let fiscal = store.config()?.fiscal_year_start_month;
    Period::parse(text, at.unwrap_or_else(today), fiscal).map_err(|e| anyhow!("--period: {e}"))
}

#[allow(clippy::too_many_arguments)]
pub fn attribution(
    root: &Path,
    model: &str,
    by_text: &str,
    credit: &str,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    account: Option<&str>,
    journeys: Option<&Path>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let model: Selection = model.parse().map_err(|e| anyhow!("--model: {e}"))?;
    let credit = match credit.trim().to_ascii_lowercase().as_str() {
        "pipeline" => Credit::Pipeline,
        "revenue" => Credit::Revenue,
        other => return Err(anyhow!("--credit: `{other}` is not pipeline or revenue")),
    };
    if credit == Credit::Pipeline && model.name() == "full_path" {
        return Err(anyhow!(
            "--model full_path credits revenue (touches up to the close): add --credit revenue"
        ));
    }
    let params = report::Params {
        period: period(&store, period_text, at)?,
        at: at.unwrap_or_else(today),
        model,
        by: by(by_text)?,
        credit,
        account: account.map(str::to_string),
    };
    let rt = super::runtime()?;
    if let Some(account) = account {
        rt.block_on(super::engagement::require_account(&store, account))?;
    }
    let (r, table) = rt.block_on(async {
        let (config, ctx) = open(&store).await?;
        let table = match journeys {
            Some(_) => Some(report::journeys_csv(&ctx, &config, &params).await?),
            None => None,
        };
        Ok::<_, abmeter_store::StoreError>((report::report(&ctx, &config, &params).await?, table))
    })?;
    if let (Some(path), Some(table)) = (journeys, table) {
        std::fs::write(path, table)
            .map_err(|e| anyhow!("--journeys: cannot write {}: {e}", path.display()))?;
    }
    print(&r, format)
}

pub fn roi(
    root: &Path,
    by_text: &str,
    model: &str,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
    what_if: Option<&WhatIfArgs>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    if let Some(w) = what_if {
        let rate = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(anyhow!(
                    "--{name} is a fraction from 0 to 1 (0.25 for 25%), got {v}"
                ))
            }
        };
        let non_negative = |name: &str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(anyhow!("--{name} must be ≥ 0, got {v}"))
            }
        };
        let input = roi::WhatIf {
            target_accounts: non_negative("accounts", w.accounts)?,
            engagement_rate: rate("engagement-rate", w.engagement_rate)?,
            opportunity_rate: rate("opportunity-rate", w.opportunity_rate)?,
            win_rate: rate("win-rate", w.win_rate)?,
            deal_size: non_negative("deal-size", w.deal_size)?,
            cost: non_negative("cost", w.cost)?,
        };
        let config = store.config()?;
        return print(&roi::what_if(&input, config.finance.gross_margin), format);
    }
    let params = roi::Params {
        period: period(&store, period_text, at)?,
        by: by(by_text)?,
        model: model.parse().map_err(|e| anyhow!("--model: {e}"))?,
    };
    let rt = super::runtime()?;
    let r = rt.block_on(async {
        let (config, ctx) = open(&store).await?;
        roi::report(&ctx, &config, &params).await
    })?;
    print(&r, format)
}
