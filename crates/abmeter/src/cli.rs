//! The command-line grammar (SPEC §9).

use std::path::PathBuf;

use abmeter_outputs::Format;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "abmeter",
    version,
    about = "Account-based-marketing measurement over open Parquet data"
)]
pub struct Cli {
    /// The workspace folder (abmeter.toml, manifest.json, tables/).
    #[arg(long, global = true, env = "ABMETER_WORKSPACE")]
    pub workspace: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented abmeter.toml with every default into DIR (default: the workspace).
    Init {
        dir: Option<PathBuf>,
        /// Overwrite an existing abmeter.toml.
        #[arg(long)]
        force: bool,
    },
    /// Import canonical CSV / JSON Lines files or folders of them, all or nothing.
    Import(ImportArgs),
    /// Generate a realistic demo dataset and import it (or only write its CSVs with --out).
    Demo(DemoArgs),
    /// Rebuild the identity map (every activity to its contact and account) and print how
    /// many activities and contacts each rule matched.
    Resolve {
        /// Also list why the rest stayed unmatched: reasons, stitching conflicts, the top
        /// unmatched domains and company names, ambiguous domains and emails.
        #[arg(long)]
        report: bool,
        #[arg(long, default_value = "table")]
        format: Format,
    },
    /// Engagement per account (or --by any dimensions) in a period, against the previous one.
    Engagement {
        #[command(flatten)]
        scope: ScopeArgs,
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026-W39.
        #[arg(long, default_value = "quarter")]
        period: String,
        /// Group by these dimensions: account (default), region, industry, tier, country,
        /// owner, is_target, department, seniority, persona, type, source, channel, campaign,
        /// contact.
        #[arg(long, value_name = "DIM[,DIM]")]
        by: Option<String>,
        /// Instead: accounts in quintiles of engagement in the period, against the
        /// opportunities, pipeline and won revenue created in the 90 days after it.
        #[arg(long, conflicts_with = "by")]
        outcomes: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// An account's activities in time order, with the per-day series.
    Timeline {
        #[arg(long)]
        account: String,
        /// First day shown (default: 89 days before --to).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day shown (default: --at, else today).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Only activities where DIM=VALUE, DIM a contact or activity dimension
        /// (department=it, seniority=vp, type=webinar_attended, channel=email); repeatable.
        #[arg(long, value_name = "DIM=VALUE")]
        segment: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Departments × seniority of an account or segment, against the ideal heatmap.
    Heatmap {
        #[command(flatten)]
        scope: ScopeArgs,
        /// A period instead of the default window (the trailing mqa.window_days to --at).
        #[arg(long)]
        period: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Weekly weighted minutes with the 8-week trailing baseline (the EKG).
    Trend {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Weeks shown, ending with the week of --at.
        #[arg(long, default_value_t = 12)]
        weeks: u32,
        /// `account`: one series per account with activity in the weeks (baseline included).
        #[arg(long, value_name = "account")]
        by: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Marketing-qualified accounts at --at, ranked.
    Mqa {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Instead: how fast sales followed up the accounts that newly qualified in --period.
        #[arg(long)]
        follow_up: bool,
        /// With --follow-up: the period (default: the quarter of --at).
        #[arg(long, requires = "follow_up")]
        period: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Surge and decline alerts for the week of --at (and --weeks before it).
    Alerts {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Weeks judged, ending with the week of --at.
        #[arg(long, default_value_t = 1)]
        weeks: u32,
        /// POST each alert not sent before to alerts.webhook_url.
        #[arg(long)]
        send: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Credit pipeline or revenue to channels or campaigns under an attribution model.
    Attribution {
        /// first_touch, last_touch, last_non_direct, linear, time_decay, position_based,
        /// w_shaped, full_path, markov, shapley, linear_unique; or all / rules (every model /
        /// every rule-based model, side by side).
        #[arg(long, default_value = "all")]
        model: String,
        /// channel or campaign.
        #[arg(long, default_value = "channel")]
        by: String,
        /// pipeline (opportunities created in the period, touches up to creation) or revenue
        /// (won opportunities closed in the period, touches up to the close).
        #[arg(long, default_value = "pipeline")]
        credit: String,
        #[arg(long, default_value = "quarter")]
        period: String,
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Only this account's opportunities (rule-based models only).
        #[arg(long)]
        account: Option<String>,
        /// Also write the data-driven models' path table (path, conv, null, value) to FILE,
        /// in ChannelAttribution's layout.
        #[arg(long, value_name = "FILE")]
        journeys: Option<std::path::PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Return on the programme per channel or campaign; --what-if projects one.
    Roi {
        /// channel or campaign.
        #[arg(long, default_value = "channel")]
        by: String,
        /// The attribution model that credits revenue.
        #[arg(long, default_value = "linear")]
        model: String,
        #[arg(long, default_value = "quarter")]
        period: String,
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Project a programme instead of measuring one.
        #[arg(long)]
        what_if: bool,
        #[command(flatten)]
        inputs: WhatIfArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Channel KPIs: ad delivery, CTR, CPM, CPC, CPL, view and completion rates, account
    /// reach and target reach, top titles and accounts that clicked; with the previous period.
    Channels {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "month")]
        period: String,
        /// The date that picks the period (default: today, UTC).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// channel or campaign.
        #[arg(long, default_value = "channel")]
        by: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Web KPIs: sessions by channel and campaign, new visitors, pages per session, session
    /// minutes, bounce rate, scroll depth, visits by account; with the previous period.
    Web {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "month")]
        period: String,
        /// The date that picks the period (default: today, UTC).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The funnel's top: leads and MQLs by lead source or first-touch channel or campaign,
    /// cost per lead and MQL, target and ICP shares; demos, meetings and meeting-to-opp.
    Funnel {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "month")]
        period: String,
        /// The date that picks the period (default: today, UTC).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// lead_source, channel or campaign (of the lead's first touch).
        #[arg(long, default_value = "lead_source")]
        by: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Pipeline and revenue: created, marketing-sourced, won, win rate, deal size, ACV,
    /// coverage against quota, loss reasons, by type; with the previous period.
    Pipeline {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "quarter")]
        period: String,
        /// Group rows by DIM[,DIM]: source, type, lead_source, competitor, product, owner,
        /// account, industry, region, country, tier, is_target.
        #[arg(long, value_name = "DIM[,DIM]")]
        by: Option<String>,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Deal velocity: days in each stage, sales cycle, milestone intervals and pipeline
    /// velocity, for the period and the three before it, by source.
    Velocity {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "quarter")]
        period: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Revenue retention from month S to E: ARR, NRR, GRR, expansion, contraction, churn and
    /// new MRR of the accounts paying in S; with a monthly NRR series.
    Retention {
        #[command(flatten)]
        range: MonthRangeArgs,
        /// Group rows by one of: account, industry, region, country, tier, owner, is_target,
        /// product (retention per account and product).
        #[arg(long, value_name = "DIM")]
        by: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Customer lifetime value: the simple formula with its inputs, and BG/NBD + Gamma-Gamma
    /// fitted on won opportunities, ranking accounts by expected value.
    Clv {
        #[command(flatten)]
        range: MonthRangeArgs,
        /// Months ahead the expected purchases and value cover.
        #[arg(long, default_value_t = 12)]
        horizon: u32,
        /// Monthly discount rate of the expected value (0.01 = 1% a month).
        #[arg(long, default_value_t = 0.01)]
        discount: f64,
        /// How many accounts to list, most valuable first (0: all).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// NPS and CSAT for the period and the one before, with the accounts whose NPS fell.
    Nps {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "quarter")]
        period: String,
        /// The date that picks the period (default: today, UTC).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Group rows by one of: account, industry, region, country, tier, owner, is_target.
        #[arg(long, value_name = "DIM")]
        by: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Upsell and cross-sell opportunities by product, and per customer account the new
    /// people engaging (cross-sell signal) and known people attending events (upsell signal).
    Expansion {
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026.
        #[arg(long, default_value = "quarter")]
        period: String,
        /// The date that picks the period (default: today, UTC).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Self-reported ("how did you hear about us?") sources of contacts and opportunities,
    /// grouped by the dark-funnel rules, against the tracked first-touch channel.
    Sources {
        /// Only contacts and opportunities created in this period (default: all time):
        /// day|week|month|quarter|year (with --at), or a label: 2026-Q3, 2026-09, 2026-W39.
        #[arg(long)]
        period: Option<String>,
        /// The date that picks the period (default: today, UTC).
        #[arg(long, requires = "period")]
        at: Option<chrono::NaiveDate>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The business review of a period against the one before: one self-contained HTML file
    /// (inline CSS and SVG, prints to PDF), or its JSON.
    Report {
        /// A label (2026-Q3, 2026-09, 2026-W39, 2026) or a granularity with --at.
        #[arg(long, default_value = "quarter")]
        period: String,
        /// The date that picks the period (default: today, UTC).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// The file to write (default: abmeter-review-<period>.html; JSON goes to stdout).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// html or json.
        #[arg(long, default_value = "html")]
        format: String,
        /// en or zh-CN.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Print the SQL that computes a metric (engagement, cube, heatmap, trend, mqa, alerts,
    /// timeline).
    Explain { metric: String },
    /// Serve the ingestion endpoints (/v1/*), the read API (/api/v1/*), /healthz and
    /// /metrics until SIGTERM or Ctrl-C.
    Serve {
        /// Address and port (default: server.bind of abmeter.toml, 127.0.0.1:8080).
        #[arg(long, env = "ABMETER_BIND")]
        bind: Option<String>,
    },
    /// Run one read-only SQL statement over the workspace's tables.
    Sql {
        /// The statement, e.g. "SELECT type, count(*) FROM activities GROUP BY type".
        query: String,
        #[arg(long, default_value = "table")]
        format: Format,
    },
}

/// The date and the accounts a report covers.
#[derive(Debug, Args, Clone)]
pub struct ScopeArgs {
    /// The report date (default: today, UTC).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
    /// Only this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only rows where DIM=VALUE (e.g. industry=Software); repeat for several.
    #[arg(long, value_name = "DIM=VALUE")]
    pub segment: Vec<String>,
}

/// Two months to compare (SPEC §8).
#[derive(Debug, Args, Clone)]
pub struct MonthRangeArgs {
    /// The start month S, e.g. 2025-09 (default: 12 months before --to).
    #[arg(long, value_name = "YYYY-MM")]
    pub from: Option<String>,
    /// The end month E (default: the last whole month before --at).
    #[arg(long, value_name = "YYYY-MM")]
    pub to: Option<String>,
    /// The date the default months are counted back from (default: today, UTC).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
}

/// The what-if calculator's inputs (rates are fractions: 0.25 for 25%).
#[derive(Debug, Args, Clone, Copy)]
pub struct WhatIfArgs {
    /// Target accounts.
    #[arg(long, default_value_t = 0.0, requires = "what_if")]
    pub accounts: f64,
    /// Share of target accounts that engage.
    #[arg(long, default_value_t = 0.0, requires = "what_if")]
    pub engagement_rate: f64,
    /// Share of engaged accounts that open an opportunity.
    #[arg(long, default_value_t = 0.0, requires = "what_if")]
    pub opportunity_rate: f64,
    /// Share of opportunities won.
    #[arg(long, default_value_t = 0.0, requires = "what_if")]
    pub win_rate: f64,
    /// Average deal size.
    #[arg(long, default_value_t = 0.0, requires = "what_if")]
    pub deal_size: f64,
    /// Programme cost.
    #[arg(long, default_value_t = 0.0, requires = "what_if")]
    pub cost: f64,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct OutputArgs {
    /// table, json or csv.
    #[arg(long, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders; a folder imports every file whose name names a table.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The table the files hold, when their names do not say it.
    #[arg(long)]
    pub kind: Option<abmeter_model::Table>,
    /// Store the valid rows and write the bad ones to rejected-<kind>.csv in the workspace.
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 1_000)]
    pub accounts: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub activities: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The last day of the generated data (default: today, UTC).
    #[arg(long)]
    pub end: Option<chrono::NaiveDate>,
    /// Average contacts (members and leads) per account (default: the natural mix, about 18).
    #[arg(long, value_name = "N")]
    pub contacts_per_account: Option<usize>,
    /// Exact number of ip_ranges rows: more blocks of the accounts, campus ranges, ISP and
    /// hosting ranges (default: the accounts' own ranges, about one per account, plus 3).
    #[arg(long, value_name = "N")]
    pub ip_ranges: Option<usize>,
    /// Only write the canonical CSV files into DIR (and the ground truth of every
    /// activity's account into DIR/truth/); import nothing.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stop after the headline numbers instead of serving the dashboard.
    #[arg(long, conflicts_with = "out")]
    pub no_serve: bool,
    /// Where the dashboard listens (default: server.bind, 127.0.0.1:8080).
    #[arg(long, env = "ABMETER_BIND", conflicts_with = "no_serve")]
    pub bind: Option<String>,
}
