//! `abmeter demo`: generate a realistic dataset, import it through the ordinary importer,
//! and say what it made. With `--out DIR` it only writes the canonical CSV files. Either way
//! the ground truth of every activity's account is kept: `DIR/truth/activity_accounts.csv`,
//! or `<workspace>/demo-truth/activity_accounts.csv` after an import.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::cli::DemoArgs;
use crate::demo::{DemoOptions, TruthSummary, generate};

/// Where the ground truth goes in a workspace the demo imported into.
const WORKSPACE_TRUTH: &str = "demo-truth";

fn truth_line(t: &TruthSummary) -> String {
    let pct = |n: u64| {
        if t.rows == 0 {
            0.0
        } else {
            100.0 * n as f64 / t.rows as f64
        }
    };
    format!(
        "{:<20} {:>10} rows  {}  ({:.1}% with an account, {:.1}% resolvable)",
        "truth",
        t.rows,
        t.path.display(),
        pct(t.with_account),
        pct(t.resolvable)
    )
}

pub fn run(root: &Path, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let opts = DemoOptions {
        accounts: args.accounts,
        activities: args.activities,
        seed: args.seed,
        end: args.end.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        contacts_per_account: args.contacts_per_account,
        ip_ranges: args.ip_ranges,
    };
    let started = Instant::now();
    if let Some(out) = &args.out {
        let made = generate(&opts, out)?;
        for (table, path, rows) in &made.files {
            println!("{table:<20} {rows:>10} rows  {}", path.display());
        }
        println!("{}", truth_line(&made.truth));
        println!(
            "demo data written to {} in {:.1}s",
            out.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let data = root.join(".demo-data");
    let made = generate(&opts, &data)?;
    let generated = started.elapsed();
    let files = super::import::collect_files(std::slice::from_ref(&data), None)?;
    let summary = super::import::import_files(root, &files, false)?;
    // Keep the ground truth beside the workspace's tables.
    let mut truth = made.truth;
    let kept = root.join(WORKSPACE_TRUTH);
    std::fs::create_dir_all(&kept).with_context(|| format!("cannot create {}", kept.display()))?;
    let dest = kept.join("activity_accounts.csv");
    std::fs::rename(&truth.path, &dest)
        .or_else(|_| std::fs::copy(&truth.path, &dest).map(|_| ()))
        .with_context(|| format!("cannot write {}", dest.display()))?;
    truth.path = dest;
    let _ = std::fs::remove_dir_all(&data);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "abmeter demo: {} accounts, {} activities (seed {}, ending {}) generated in {:.1}s, imported in {:.1}s",
        opts.accounts,
        opts.activities,
        opts.seed,
        opts.end,
        generated.as_secs_f64(),
        (started.elapsed() - generated).as_secs_f64()
    )?;
    abmeter_outputs::render_table(&summary.report(), &mut out)?;
    writeln!(out, "{}", truth_line(&truth))?;
    let token = demo_config(root)?;
    let store = abmeter_store::Store::open(root)?;
    super::engagement::headline(&store, opts.end, &mut out)?;
    super::pipeline::headline(&store, opts.end, &mut out)?;
    writeln!(out, "\nworkspace: {}", root.display())?;
    writeln!(
        out,
        "try: abmeter --workspace {0} engagement --by industry, abmeter --workspace {0} heatmap --account ID, abmeter --workspace {0} report --period quarter -o review.html",
        root.display()
    )?;
    if args.no_serve {
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    // The data ends at opts.end: open the dashboard on that date.
    let at = if opts.end == chrono::Utc::now().date_naive() {
        String::new()
    } else {
        format!("&at={}", opts.end)
    };
    writeln!(
        out,
        "\nserving the dashboard (sign in with the read token of {}; Ctrl-C stops it)",
        root.join("abmeter.toml").display()
    )?;
    out.flush()?;
    drop(out);
    super::serve::run(root, args.bind.clone(), Some(format!("token={token}{at}")))
}

/// The demo workspace's abmeter.toml: every default, plus an ideal heatmap (so the account
/// pages show blind spots) and a write key and read token made for this workspace. An
/// existing file is kept. Returns the first read token.
fn demo_config(root: &Path) -> anyhow::Result<String> {
    let path = root.join("abmeter.toml");
    if !path.exists() {
        let salt = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let token = format!("demo-read-{:x}", salt ^ u128::from(std::process::id()));
        let write_key = format!("demo-write-{:x}", salt.rotate_left(17));
        let text = abmeter_model::Config::template()
            .replacen(
                "[ideal_heatmap]\n",
                "[ideal_heatmap]\n\
                 marketing = { vp = 30.0, director = 60.0, manager = 60.0 }\n\
                 it = { director = 30.0, manager = 30.0 }\n\
                 finance = { vp = 15.0 }\n\
                 executive = { c_level = 15.0 }\n",
                1,
            )
            .replacen(
                "write_keys = []",
                &format!("write_keys = [\"{write_key}\"]"),
                1,
            )
            .replacen(
                "read_tokens = []",
                &format!("read_tokens = [\"{token}\"]"),
                1,
            );
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let config = abmeter_store::Store::open(root)?.config()?;
    config.server.read_tokens.first().cloned().ok_or_else(|| {
        anyhow::anyhow!(
            "{} has no server.read_tokens: add one to open the dashboard",
            path.display()
        )
    })
}
