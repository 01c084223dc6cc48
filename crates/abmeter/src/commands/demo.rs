//! `abmeter demo`: generate a realistic dataset, import it through the ordinary importer,
//! and say what it made. With `--out DIR` it only writes the canonical CSV files.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::cli::DemoArgs;
use crate::demo::{DemoOptions, generate};

pub fn run(root: &Path, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let opts = DemoOptions {
        accounts: args.accounts,
        activities: args.activities,
        seed: args.seed,
        end: args.end.unwrap_or_else(|| chrono::Utc::now().date_naive()),
    };
    let started = Instant::now();
    if let Some(out) = &args.out {
        let made = generate(&opts, out)?;
        for (table, path, rows) in &made.files {
            println!("{table:<20} {rows:>10} rows  {}", path.display());
        }
        println!(
            "demo data written to {} in {:.1}s",
            out.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let data = root.join(".demo-data");
    generate(&opts, &data)?;
    let generated = started.elapsed();
    let files = super::import::collect_files(std::slice::from_ref(&data), None)?;
    let summary = super::import::import_files(root, &files, false)?;
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
    writeln!(out, "workspace: {}", root.display())?;
    writeln!(
        out,
        "try: abmeter --workspace {} sql \"SELECT type, count(*) AS n FROM activities GROUP BY type ORDER BY n DESC\"",
        root.display()
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
