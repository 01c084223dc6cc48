//! The engagement reports of SPEC §4: `engagement`, `timeline`, `heatmap`, `trend`, `mqa`,
//! `alerts` and `explain`. Each opens the workspace, brings the engagement cube up to date
//! (saying so on stderr when that took work), runs its metric and renders the report.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use abmeter_metrics::scope::{Dim, Filters, parse_dims};
use abmeter_metrics::{alerts, engagement, followup, heatmap, mqa, outcomes, timeline, trend};
use abmeter_model::period::trailing_window;
use abmeter_model::{Config, Granularity, Period, Report};
use abmeter_store::cube::{self, Refresh};
use abmeter_store::{Store, StoreError};
use anyhow::{Context, anyhow};
use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;

use crate::cli::{Command, ScopeArgs};

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The workspace's config and a query session whose `engagement_cube` is up to date.
pub async fn open(store: &Store) -> Result<(Config, SessionContext), StoreError> {
    let started = Instant::now();
    if let Refresh::Rebuilt { months, rows } = store.refresh_cube().await? {
        eprintln!(
            "engagement cube: {} month{} rebuilt ({rows} rows) in {:.2} s",
            months.len(),
            if months.len() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64()
        );
    }
    Ok((store.config()?, store.session().await?))
}

/// `--account ID` must name an account: a typo should not read as "no engagement".
pub(super) async fn require_account(store: &Store, id: &str) -> anyhow::Result<()> {
    let ctx = store.session().await?;
    let sql = format!(
        "SELECT count(*) FROM accounts WHERE id = {}",
        abmeter_metrics::scope::quote(id)
    );
    let found = ctx.sql(&sql).await?.collect().await?;
    let n = found
        .first()
        .map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .map_or(0, |a| a.value(0))
        })
        .unwrap_or(0);
    if n == 0 {
        return Err(anyhow!(
            "--account: no account `{id}` in the workspace (account ids are case-sensitive; \
             `abmeter sql \"SELECT id, name FROM accounts\"` lists them)"
        ));
    }
    Ok(())
}

fn filters(scope: &ScopeArgs) -> anyhow::Result<Filters> {
    Filters::new(scope.account.clone(), &scope.segment).map_err(|e| anyhow!(e))
}

pub use super::print;

/// Runs one of the engagement commands.
pub fn run(root: &Path, command: Command) -> anyhow::Result<ExitCode> {
    let store = Store::open(root)?;
    let rt = super::runtime()?;
    let account = match &command {
        Command::Timeline { account, .. } => Some(account.clone()),
        Command::Engagement { scope, .. }
        | Command::Heatmap { scope, .. }
        | Command::Trend { scope, .. }
        | Command::Mqa { scope, .. }
        | Command::Alerts { scope, .. } => scope.account.clone(),
        _ => None,
    };
    if let Some(account) = account {
        rt.block_on(require_account(&store, &account))?;
    }
    match command {
        Command::Engagement {
            scope,
            period,
            outcomes: true,
            output,
            ..
        } => {
            let fiscal = store.config()?.fiscal_year_start_month;
            let filters = filters(&scope)?;
            if let Some((d, _)) = filters
                .segments
                .iter()
                .find(|(d, _)| !d.is_account_dimension())
            {
                return Err(anyhow!(
                    "--outcomes buckets accounts: --segment takes account dimensions only, not `{d}`"
                ));
            }
            let params = outcomes::Params {
                period: Period::parse(&period, scope.at.unwrap_or_else(today), fiscal)
                    .map_err(|e| anyhow!("--period: {e}"))?,
                filters,
            };
            let report = rt.block_on(async {
                let (config, ctx) = open(&store).await?;
                outcomes::report(&ctx, &config, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Engagement {
            scope,
            period,
            by,
            output,
            ..
        } => {
            let fiscal = store.config()?.fiscal_year_start_month;
            let params = engagement::Params {
                period: Period::parse(&period, scope.at.unwrap_or_else(today), fiscal)
                    .map_err(|e| anyhow!("--period: {e}"))?,
                by: match by {
                    Some(b) => parse_dims(&b).map_err(|e| anyhow!("--by: {e}"))?,
                    None => vec![Dim::Account],
                },
                filters: filters(&scope)?,
            };
            let report = rt.block_on(async {
                let (_, ctx) = open(&store).await?;
                engagement::report(&ctx, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Timeline {
            account,
            from,
            to,
            at,
            segment,
            output,
        } => {
            let to = to.or(at).unwrap_or_else(today);
            let from = from.unwrap_or(to - Days::new(89));
            if from > to {
                return Err(anyhow!("--from {from} is after --to {to}"));
            }
            let filters = Filters::new(None, &segment).map_err(|e| anyhow!(e))?;
            if let Some((d, _)) = filters
                .segments
                .iter()
                .find(|(d, _)| d.is_account_dimension())
            {
                return Err(anyhow!(
                    "--segment: a timeline is one account's; filter by a contact or activity \
                     dimension (department, seniority, persona, type, source, channel, campaign), \
                     not `{d}`"
                ));
            }
            let params = timeline::Params {
                account,
                from,
                to,
                filters,
            };
            let report = rt.block_on(async {
                let (_, ctx) = open(&store).await?;
                timeline::report(&ctx, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Heatmap {
            scope,
            period,
            output,
        } => {
            let config = store.config()?;
            let at = scope.at.unwrap_or_else(today);
            let (start, end, label) = match period {
                Some(p) => {
                    let p = Period::parse(&p, at, config.fiscal_year_start_month)
                        .map_err(|e| anyhow!("--period: {e}"))?;
                    (p.start, p.end, p.label())
                }
                None => {
                    let days = config.mqa.window_days;
                    let (s, e) = trailing_window(at, days);
                    (s, e, format!("{days} days to {at}"))
                }
            };
            let params = heatmap::Params {
                start,
                end,
                label,
                filters: filters(&scope)?,
            };
            let report = rt.block_on(async {
                let (config, ctx) = open(&store).await?;
                heatmap::report(&ctx, &config, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Trend {
            scope,
            weeks,
            by,
            output,
        } => {
            let by_account = match by.as_deref() {
                None => false,
                Some("account") => true,
                Some(other) => {
                    return Err(anyhow!(
                        "--by: trend groups by `account` only, not `{other}`"
                    ));
                }
            };
            let params = trend::Params {
                at: scope.at.unwrap_or_else(today),
                weeks: weeks.max(1),
                filters: filters(&scope)?,
                by_account,
            };
            let report = rt.block_on(async {
                let (_, ctx) = open(&store).await?;
                trend::report(&ctx, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Mqa {
            scope,
            follow_up: true,
            period,
            output,
        } => {
            let at = scope.at.unwrap_or_else(today);
            let fiscal = store.config()?.fiscal_year_start_month;
            let params = followup::Params {
                period: Period::parse(period.as_deref().unwrap_or("quarter"), at, fiscal)
                    .map_err(|e| anyhow!("--period: {e}"))?,
                filters: filters(&scope)?,
            };
            let report = rt.block_on(async {
                let (config, ctx) = open(&store).await?;
                followup::report(&ctx, &config, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Mqa { scope, output, .. } => {
            let params = mqa::Params {
                at: scope.at.unwrap_or_else(today),
                filters: filters(&scope)?,
            };
            let report = rt.block_on(async {
                let (config, ctx) = open(&store).await?;
                mqa::report(&ctx, &config, &params).await
            })?;
            print(&report, output.format)
        }
        Command::Alerts {
            scope,
            weeks,
            send,
            output,
        } => {
            let params = alerts::Params {
                at: scope.at.unwrap_or_else(today),
                weeks: weeks.max(1),
                filters: filters(&scope)?,
            };
            let (config, found) = rt.block_on(async {
                let (config, ctx) = open(&store).await?;
                let found = alerts::find(&ctx, &config, &params).await?;
                Ok::<_, StoreError>((config, found))
            })?;
            if send {
                super::alerts_send::send(&store, &config, &found)?;
            }
            print(&alerts::to_report(&config, &params, &found), output.format)
        }
        Command::Explain { metric } => explain(&store, &metric),
        _ => unreachable!("not an engagement command"),
    }
}

/// `abmeter explain METRIC`: the SQL a metric runs today, then the relations it reads.
fn explain(store: &Store, metric: &str) -> anyhow::Result<ExitCode> {
    let config = store.config().context("reading the configuration")?;
    let at = today();
    let quarter = Period::containing(Granularity::Quarter, at, config.fiscal_year_start_month);
    let sql = match metric {
        "engagement" => engagement::sql(&engagement::Params {
            period: quarter,
            by: vec![Dim::Account],
            filters: Filters::default(),
        }),
        "heatmap" => {
            let (start, end) = trailing_window(at, config.mqa.window_days);
            heatmap::sql(&heatmap::Params {
                start,
                end,
                label: String::new(),
                filters: Filters::default(),
            })
        }
        "trend" => trend::weekly_sql(at - Days::new(7 * 20), at, &Filters::default(), false),
        "mqa" => mqa::sql(
            &config,
            &mqa::Params {
                at,
                filters: Filters::default(),
            },
        ),
        "alerts" => alerts::weekly_sql(at - Days::new(7 * 9), at, &Filters::default()),
        "timeline" => timeline::sql(&timeline::Params {
            account: "ACCOUNT_ID".into(),
            from: at - Days::new(89),
            to: at,
            filters: Filters::default(),
        }),
        "cube" => String::new(),
        other => {
            return Err(anyhow!(
                "no metric `{other}` to explain; try engagement, cube, heatmap, trend, mqa, alerts or timeline"
            ));
        }
    };
    let mut out = std::io::stdout().lock();
    if !sql.is_empty() {
        writeln!(
            out,
            "-- {metric} (as of {at}, defaults from abmeter.toml)\n{sql};\n"
        )?;
    }
    writeln!(
        out,
        "-- engagement_cube: the daily cube every engagement report reads (stored; the first \
         report after an import or a scoring change rebuilds it; this is its definition)\n{};\n",
        cube::CUBE_SQL
    )?;
    writeln!(
        out,
        "-- resolved_activities: every activity with its contact, account, minutes and weighted \
         minutes (SPEC §3, §4); the abmeter_* functions run the identity rules in Rust;\n\
         -- activities_keyed is activities with its five key columns read as dictionaries\n{};",
        abmeter_store::resolved::view_sql()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's closing headline (issue 4): accounts engaged this quarter, the top 10 with
/// their change, the MQA count and last week's alerts, as of `end`.
pub fn headline(store: &Store, end: NaiveDate, out: &mut dyn Write) -> anyhow::Result<()> {
    use chrono::Datelike;
    let rt = super::runtime()?;
    // The last complete ISO week.
    let last_week = if end.weekday() == chrono::Weekday::Sun {
        end
    } else {
        end - Days::new(u64::from(end.weekday().num_days_from_monday()) + 1)
    };
    let (config, quarter, top, mqas, found) = rt.block_on(async {
        let (config, ctx) = open(store).await?;
        let quarter = Period::containing(Granularity::Quarter, end, config.fiscal_year_start_month);
        let top = engagement::report(
            &ctx,
            &engagement::Params {
                period: quarter.clone(),
                by: vec![Dim::Account],
                filters: Filters::default(),
            },
        )
        .await?;
        let mqas = mqa::report(
            &ctx,
            &config,
            &mqa::Params {
                at: end,
                filters: Filters::default(),
            },
        )
        .await?;
        let alert_params = alerts::Params {
            at: last_week,
            weeks: 1,
            filters: Filters::default(),
        };
        let found = alerts::find(&ctx, &config, &alert_params).await?;
        let alert_report = alerts::to_report(&config, &alert_params, &found);
        Ok::<_, StoreError>((config, quarter, top, mqas, alert_report))
    })?;
    let wm = top.column("weighted_minutes").expect("engagement column");
    let engaged = top
        .rows
        .iter()
        .filter(|r| r[wm].as_f64().is_some_and(|v| v > 0.0))
        .count();
    writeln!(
        out,
        "\n{engaged} accounts engaged in {} ({} to {}); the top 10 by weighted minutes:",
        quarter.label(),
        quarter.start,
        quarter.end - Days::new(1)
    )?;
    let mut top10 = top.clone();
    top10.rows.truncate(10);
    let keep = [
        "account_id",
        "account_name",
        "weighted_minutes",
        "engaged_contacts",
        "previous_weighted_minutes",
        "change_pct",
    ];
    select_columns(&mut top10, &keep);
    abmeter_outputs::render_table(&top10, out)?;
    let newly = mqas.column("newly_qualified").map_or(0, |c| {
        mqas.rows
            .iter()
            .filter(|r| r[c] == serde_json::Value::Bool(true))
            .count()
    });
    writeln!(
        out,
        "\n{} marketing-qualified accounts at {end} ({newly} newly qualified; ≥ {} weighted minutes and ≥ {} engaged contacts over {} days)",
        mqas.rows.len(),
        config.mqa.min_weighted_minutes,
        config.mqa.min_contacts,
        config.mqa.window_days
    )?;
    let week = found
        .params
        .get("at")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let week = week
        .parse::<NaiveDate>()
        .map(|d| Period::containing(Granularity::Week, d, 1).label())
        .unwrap_or(week);
    writeln!(out, "\n{} alerts in {week}:", found.rows.len())?;
    let mut alerts_shown = found.clone();
    select_columns(
        &mut alerts_shown,
        &[
            "kind",
            "account_id",
            "account_name",
            "current",
            "baseline",
            "z",
            "top_contacts",
        ],
    );
    // The strongest first: surges and declines by |z|.
    let z = alerts_shown.column("z").expect("alert column");
    alerts_shown.rows.sort_by(|a, b| {
        let z = |r: &Vec<serde_json::Value>| r[z].as_f64().unwrap_or(0.0).abs();
        z(b).total_cmp(&z(a))
    });
    let more = alerts_shown.rows.len().saturating_sub(SHOWN_ALERTS);
    alerts_shown.rows.truncate(SHOWN_ALERTS);
    abmeter_outputs::render_table(&alerts_shown, out)?;
    if more > 0 {
        writeln!(
            out,
            "… and {more} more: abmeter --workspace {} alerts --at {last_week}",
            store.root().display()
        )?;
    }
    Ok(())
}

/// Alerts the demo headline lists (the strongest).
const SHOWN_ALERTS: usize = 10;

/// Keeps only the named columns, in that order.
fn select_columns(report: &mut Report, names: &[&str]) {
    let idx: Vec<usize> = names.iter().filter_map(|n| report.column(n)).collect();
    report.columns = idx.iter().map(|&i| report.columns[i].clone()).collect();
    for row in &mut report.rows {
        *row = idx.iter().map(|&i| row[i].clone()).collect();
    }
}
