//! Deterministic demo data generator (`abmeter demo`).
//!
//! Writes the ten canonical tables of SPEC §1 as CSV files: a fictional ABM vendor's accounts,
//! contacts and leads, campaigns, deals with stage history, recurring revenue, surveys, reverse-IP
//! ranges, ad delivery and a large activity stream. Everything is drawn from ChaCha8 streams
//! seeded from `DemoOptions::seed`, so the same options give byte-identical files.
//!
//! Layout:
//! - `names`: word lists (company names, people, titles, texts);
//! - `accounts`: accounts, their domains and reverse-IP ranges (`accounts.csv`, `ip_ranges.csv`);
//! - `people`: contacts and account-less leads (`contacts.csv`);
//! - `campaigns`: campaigns and daily ad delivery (`campaigns.csv`, `ad_performance.csv`);
//! - `deals`: opportunities, stage history, MRR and surveys;
//! - `activities`: the activity stream (`activities.csv`);
//! - `networks`: extra reverse-IP ranges for scale runs (`--ip-ranges`);
//! - `truth`: the true account of every activity and whether SPEC §3 can find it
//!   (`truth/activity_accounts.csv`, a subfolder so importing the folder skips it).

mod accounts;
mod activities;
mod campaigns;
mod deals;
mod names;
mod networks;
mod people;
mod truth;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Options of `abmeter demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of accounts (companies); default 1,000.
    pub accounts: usize,
    /// Exact number of rows in `activities.csv`; default 1,000,000.
    pub activities: usize,
    /// Random seed; default 42.
    pub seed: u64,
    /// Last day of the data (inclusive); default today (UTC). Activities cover the 730 days
    /// ending on this day.
    pub end: NaiveDate,
    /// Average rows of `contacts.csv` per account (members and leads); `None`: the natural
    /// mix, about 18 (10–25 members by tier plus 2.3 leads per account).
    pub contacts_per_account: Option<usize>,
    /// Exact number of rows of `ip_ranges.csv`; `None`: only the accounts' own ranges (about
    /// one per account) and three ISP/hosting ranges. More rows add further blocks of the
    /// accounts, campus ranges of education accounts, and ISP and hosting ranges.
    pub ip_ranges: Option<usize>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            accounts: 1_000,
            activities: 1_000_000,
            seed: 42,
            end: chrono::Utc::now().date_naive(),
            contacts_per_account: None,
            ip_ranges: None,
        }
    }
}

/// What `generate` wrote: one entry per table, `(table name, path, data rows)`, and the
/// ground-truth file.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub files: Vec<(String, PathBuf, u64)>,
    pub truth: TruthSummary,
}

/// `truth/activity_accounts.csv`: its path and what it says.
#[derive(Debug, Clone, Default)]
pub struct TruthSummary {
    pub path: PathBuf,
    /// Rows (one per activity).
    pub rows: u64,
    /// Activities that belong to an account.
    pub with_account: u64,
    /// Activities whose true account SPEC §3 finds from the data as written.
    pub resolvable: u64,
}

/// Generates the demo workspace files into `out_dir` (created if missing).
pub fn generate(opts: &DemoOptions, out_dir: &Path) -> Result<DemoSummary> {
    ensure!(opts.accounts >= 1, "demo: --accounts must be at least 1");
    ensure!(
        opts.accounts <= 1_000_000,
        "demo: --accounts must be at most 1,000,000"
    );
    if let Some(n) = opts.contacts_per_account {
        ensure!(
            (1..=1_000).contains(&n),
            "demo: --contacts-per-account must be between 1 and 1,000"
        );
        ensure!(
            n.saturating_mul(opts.accounts) <= 20_000_000,
            "demo: --accounts × --contacts-per-account must be at most 20,000,000"
        );
    }
    if let Some(n) = opts.ip_ranges {
        ensure!(
            n <= 10_000_000,
            "demo: --ip-ranges must be at most 10,000,000"
        );
    }
    let clock = Clock::new(opts.end)?;
    let seed = opts.seed;

    let mut accts = accounts::generate(&mut stream(seed, 1), opts.accounts, &clock);
    let nets = match opts.ip_ranges {
        Some(target) => networks::plan(&mut stream(seed, 8), &mut accts, target)?,
        None => networks::Networks::default(),
    };
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let people = people::generate(
        &mut stream(seed, 2),
        &accts,
        &clock,
        opts.contacts_per_account,
    );
    let camps = campaigns::generate(&mut stream(seed, 3), &clock);
    let book = deals::generate(&mut stream(seed, 4), &accts, &people, &clock);

    let mut files = Vec::with_capacity(10);
    files.push(accounts::write_accounts(out_dir, &accts, &clock)?);
    files.push(people::write(out_dir, &people, &accts, &clock)?);
    files.push(campaigns::write_campaigns(out_dir, &camps, &clock)?);
    let (opps, stages) = deals::write_opportunities(out_dir, &book, &accts, &clock)?;
    files.push(opps);
    files.push(stages);
    let world = activities::World {
        clock: &clock,
        accounts: &accts,
        people: &people,
        campaigns: &camps,
        book: &book,
        nets: &nets,
    };
    let (acts, truth) =
        activities::generate_and_write(&mut stream(seed, 5), &world, opts.activities, out_dir)?;
    files.push(acts);
    files.push(campaigns::write_ad_performance(
        &mut stream(seed, 6),
        out_dir,
        &camps,
        &accts,
        &clock,
    )?);
    files.push(accounts::write_ip_ranges(out_dir, &accts, &nets)?);
    files.push(deals::write_revenue(out_dir, &book, &accts)?);
    files.push(deals::write_surveys(
        &mut stream(seed, 7),
        out_dir,
        &book,
        &accts,
        &people,
        &clock,
    )?);
    Ok(DemoSummary { files, truth })
}

/// A written file: (table name, path, data rows).
pub(crate) type FileEntry = (String, PathBuf, u64);

/// One independent random stream per part, so parts do not shift each other.
fn stream(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

pub(crate) const DAY: i64 = 86_400;
/// Length of the activity window in days (about 24 months).
pub(crate) const WINDOW_DAYS: i64 = 730;

/// The time frame: day 0 is the first day of the activity window, day `days - 1` is `end`.
/// Times are Unix seconds (UTC).
pub(crate) struct Clock {
    pub start_ts: i64,
    /// Last second of the end day.
    pub end_ts: i64,
    pub days: usize,
}

impl Clock {
    fn new(end: NaiveDate) -> Result<Self> {
        let end_midnight = end
            .and_hms_opt(0, 0, 0)
            .context("demo: invalid end date")?
            .and_utc()
            .timestamp();
        let start_ts = end_midnight - (WINDOW_DAYS - 1) * DAY;
        Ok(Self {
            start_ts,
            end_ts: end_midnight + DAY - 1,
            days: WINDOW_DAYS as usize,
        })
    }
    /// Midnight of window day `d` (may be negative or beyond the window).
    pub fn day_ts(&self, d: i64) -> i64 {
        self.start_ts + d * DAY
    }
    /// Window day of a timestamp.
    pub fn day_of(&self, ts: i64) -> i64 {
        (ts - self.start_ts).div_euclid(DAY)
    }
    /// Month number (year * 12 + month0) of a timestamp.
    pub fn month_of(ts: i64) -> i64 {
        let (y, m, _) = civil(ts.div_euclid(DAY));
        y as i64 * 12 + (m as i64 - 1)
    }
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
pub(crate) fn civil(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends `2026-09-30T14:05:00Z`.
pub(crate) fn push_ts(buf: &mut String, ts: i64) {
    let (y, m, d) = civil(ts.div_euclid(DAY));
    let s = ts.rem_euclid(DAY);
    let _ = write!(
        buf,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    );
}

/// Appends the date `2026-09-30` of a timestamp.
pub(crate) fn push_date(buf: &mut String, ts: i64) {
    let (y, m, d) = civil(ts.div_euclid(DAY));
    let _ = write!(buf, "{y:04}-{m:02}-{d:02}");
}

pub(crate) fn ts_string(ts: i64) -> String {
    let mut s = String::with_capacity(20);
    push_ts(&mut s, ts);
    s
}

pub(crate) fn date_string(ts: i64) -> String {
    let mut s = String::with_capacity(10);
    push_date(&mut s, ts);
    s
}

/// Adds calendar months to a timestamp (day clamped to 28 to stay valid).
pub(crate) fn add_months(ts: i64, months: i64) -> i64 {
    let day = ts.div_euclid(DAY);
    let secs = ts.rem_euclid(DAY);
    let (y, m, d) = civil(day);
    let total = y as i64 * 12 + (m as i64 - 1) + months;
    let ny = total.div_euclid(12) as i32;
    let nm = total.rem_euclid(12) as u32 + 1;
    days_from_civil(ny, nm, d.min(28)) * DAY + secs
}

/// A well-mixed 64-bit hash (SplitMix64 finaliser); a bijection of `x`.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// True with probability `p`.
pub(crate) fn chance<R: Rng>(rng: &mut R, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// Uniform element of a non-empty slice.
pub(crate) fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Uniform element of a non-empty list of static strings.
pub(crate) fn pick_str<R: Rng>(rng: &mut R, items: &[&'static str]) -> &'static str {
    items[rng.random_range(0..items.len())]
}

/// Element of a non-empty `(item, weight)` slice, by weight.
pub(crate) fn pick_w<'a, T, R: Rng>(rng: &mut R, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| *w).sum();
    let mut r = rng.random::<f64>() * total;
    for (item, w) in items {
        if r < *w {
            return item;
        }
        r -= *w;
    }
    &items[items.len() - 1].0
}

/// Uniform in `[lo, hi)` (returns `lo` when the range is empty).
pub(crate) fn unif<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    if hi <= lo {
        lo
    } else {
        lo + (hi - lo) * rng.random::<f64>()
    }
}

/// Uniform integer in `[lo, hi]` (returns `lo` when `hi < lo`).
pub(crate) fn unif_i<R: Rng>(rng: &mut R, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// Approximately standard normal (sum of 4 uniforms, rescaled): cheap and portable.
pub(crate) fn normalish<R: Rng>(rng: &mut R) -> f64 {
    let s: f64 = (0..4).map(|_| rng.random::<f64>()).sum();
    (s - 2.0) * (3.0f64).sqrt()
}

/// Log-uniform in `[lo, hi)`.
pub(crate) fn log_unif<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    (unif(rng, lo.ln(), hi.ln())).exp()
}

/// A CSV file being written, counting its data rows.
pub(crate) struct Table {
    name: &'static str,
    path: PathBuf,
    w: csv::Writer<std::fs::File>,
    rows: u64,
}

impl Table {
    pub fn create(out_dir: &Path, name: &'static str, header: &[&str]) -> Result<Self> {
        let path = out_dir.join(format!("{name}.csv"));
        let mut w = csv::WriterBuilder::new()
            .buffer_capacity(1 << 20)
            .from_path(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        w.write_record(header)?;
        Ok(Self {
            name,
            path,
            w,
            rows: 0,
        })
    }

    pub fn row<I, T>(&mut self, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.w
            .write_record(fields)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(String, PathBuf, u64)> {
        self.w
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        Ok((self.name.to_string(), self.path, self.rows))
    }
}

/// Money with two decimals.
pub(crate) fn money(x: f64) -> String {
    format!("{:.2}", x.max(0.0))
}

#[cfg(test)]
mod tests;
