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
    /// Run one read-only SQL statement over the workspace's tables.
    Sql {
        /// The statement, e.g. "SELECT type, count(*) FROM activities GROUP BY type".
        query: String,
        #[arg(long, default_value = "table")]
        format: Format,
    },
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
}
