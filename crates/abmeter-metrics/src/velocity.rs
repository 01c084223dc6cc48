//! Deal velocity (SPEC §6), for the period and the three before it so acceleration and
//! slowdown show, for all opportunities and split by who sourced them:
//!
//! - **Days in each stage** from `opportunity_stages`: a stage lasts from its entry to the
//!   next entry of the deal; the last stage of a closed deal ends at its close date
//!   (midnight), and a last stage entered on or after the close date is the closing marker
//!   ("Closed Won") and has no duration. A stage entered several times counts once per deal
//!   with the time of all its visits; a skipped stage is simply absent. A deal's stage time
//!   counts in the period in which its last visit of that stage ended; the current stage
//!   of an open deal has not ended and is left out.
//! - **Sales cycle** of won deals: close date (midnight) − created_at, by close period.
//! - **Milestone intervals** before each opportunity created in the period, from its
//!   account's activities within `attribution.lookback_days` before creation: the first
//!   demo_request, then the first meeting_scheduled at or after it, then the first
//!   meeting_held at or after that, then the creation; each interval between consecutive
//!   milestones found (a missing one is skipped, so `demo_request → meeting_held` appears
//!   when nothing was scheduled).
//! - **Pipeline velocity** = open opportunities × win_rate × avg_deal_size / mean sales-cycle
//!   days (money per day), open at the end of the period (or of `--at`, when earlier).

use ahash::AHashMap;

use abmeter_model::report::{Column, ColumnKind, Report};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use abmeter_store::cube::{MILESTONES, STAGE_TIME_TABLE};
use chrono::{Days, NaiveDate};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Float64Type, UInt64Type};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::cells::{DAY_MICROS, at, mean, median, micros, number, ratio, strings, times};
use crate::deals::{Deal, Dim, Text, load};
use crate::pipeline::selected;

/// How many periods the report covers, the asked one last.
pub const PERIODS: usize = 4;
/// The bucket of every deal beside its own source's.
pub const ALL: &str = "all";
const SOURCE_ORDER: [&str; 4] = ["marketing", "sales", "partner", "other"];

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    pub at: NaiveDate,
    pub filters: Vec<(Dim, String)>,
}

/// A `stage_time` row: the days one opportunity spent in one stage, the position of the
/// stage's first entry in its history, and when its last visit ended (µs).
#[derive(Debug, Clone)]
pub struct StageTime {
    pub opportunity_id: Text,
    pub stage: Text,
    pub first_entry: u64,
    pub days: f64,
    pub last_end: i64,
}

/// The periods covered, oldest first.
pub fn periods(p: &Period) -> Vec<Period> {
    let mut out = vec![p.clone()];
    while out.len() < PERIODS {
        let earlier = out[0].previous();
        out.insert(0, earlier);
    }
    out
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let series = periods(&p.period);
    let (from, to) = (series[0].start, p.period.end);
    // Deals created before the end that were open at the start or closed since.
    let scope = format!(
        "o.created_at < TIMESTAMP '{to}T00:00:00Z'
   AND (NOT (coalesce(o.is_closed, false) OR coalesce(o.is_won, false))
        OR o.close_date IS NULL OR o.close_date >= DATE '{from}')"
    );
    let mut dims = vec![Dim::Source];
    dims.extend(p.filters.iter().map(|(d, _)| *d));
    // The stage time that ended in the four periods.
    let stage_sql = format!(
        "SELECT t.opportunity_id, t.stage, t.first_entry, t.days, t.last_end
FROM {STAGE_TIME_TABLE} t
WHERE t.last_end >= TIMESTAMP '{from}T00:00:00Z' AND t.last_end < TIMESTAMP '{to}T00:00:00Z'"
    );
    let deals = load(ctx, &scope, &dims).await?;
    let mut stages = Vec::new();
    for b in ctx
        .sql(&stage_sql)
        .await?
        .collect_partitioned()
        .await?
        .iter()
        .flatten()
    {
        let (ids, names, ended) = (
            strings(b, "opportunity_id"),
            strings(b, "stage"),
            times(b, "last_end"),
        );
        let first = b
            .column_by_name("first_entry")
            .and_then(|c| c.as_primitive_opt::<UInt64Type>());
        let days = b
            .column_by_name("days")
            .and_then(|c| c.as_primitive_opt::<Float64Type>());
        for i in 0..b.num_rows() {
            if let (Some(id), Some(stage), Some(last_end)) =
                (at(ids, i), at(names, i), at(ended, i))
            {
                stages.push(StageTime {
                    opportunity_id: Text::from(id),
                    stage: Text::from(stage),
                    first_entry: at(first, i).unwrap_or(0),
                    days: at(days, i).unwrap_or(0.0),
                    last_end,
                });
            }
        }
    }
    Ok(compute(config, p, &deals, &stages))
}

/// Durations in days per (period index, source bucket, name); names are numbered as met, so
/// a sample hashes one string and indexes the rest.
#[derive(Default)]
struct Samples<'a> {
    numbers: AHashMap<&'a str, usize>,
    names: Vec<&'a str>,
    /// `days[period][bucket][name]`
    days: Vec<Vec<Vec<Vec<f64>>>>,
}

impl<'a> Samples<'a> {
    /// Adds `days` under the deal's source bucket and under `all` (bucket 0); returns the
    /// name's number.
    fn add(&mut self, period: usize, bucket: usize, name: &'a str, days: f64) -> usize {
        let n = *self.numbers.entry(name).or_insert_with(|| {
            self.names.push(name);
            self.names.len() - 1
        });
        for b in [0, bucket] {
            let slot = grown(grown(grown(&mut self.days, period), b), n);
            slot.push(days);
        }
        n
    }

    /// ((period, bucket, name), days) for every non-empty cell.
    fn cells(self) -> impl Iterator<Item = ((usize, usize, usize), Vec<f64>)> {
        self.days.into_iter().enumerate().flat_map(|(k, buckets)| {
            buckets.into_iter().enumerate().flat_map(move |(b, names)| {
                names
                    .into_iter()
                    .enumerate()
                    .filter(|(_, days)| !days.is_empty())
                    .map(move |(n, days)| ((k, b, n), days))
            })
        })
    }
}

/// `v[i]`, growing `v` with defaults to reach it.
fn grown<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

/// The figures of one period for one source bucket.
#[derive(Default)]
struct Tally {
    created: usize,
    won: usize,
    lost: usize,
    revenue: f64,
    cycles: Vec<f64>,
    open: usize,
}

/// The index of the period containing the instant `t` (µs), given the periods' bounds.
fn period_of(bounds: &[(i64, i64)], t: i64) -> Option<usize> {
    bounds.iter().position(|(s, e)| *s <= t && t < *e)
}

/// The report over loaded deals (with their milestones) and their stage time that ended in
/// the four periods.
pub fn compute(config: &Config, p: &Params, all: &[Deal], stage_rows: &[StageTime]) -> Report {
    let series = periods(&p.period);
    let bounds: Vec<(i64, i64)> = series
        .iter()
        .map(|p| (micros(p.start), micros(p.end)))
        .collect();
    let deals: Vec<&Deal> = all.iter().filter(|d| selected(d, &p.filters)).collect();
    // Per period and source: cycle, win rate, deal size, open deals, velocity.
    // The source buckets: `all`, the SPEC's sources present, then any other, by name.
    let mut present: AHashMap<&str, ()> = AHashMap::new();
    for d in &deals {
        present.entry(d.source()).or_default();
    }
    let mut sources: Vec<&str> = vec![ALL];
    sources.extend(SOURCE_ORDER.iter().filter(|s| present.contains_key(*s)));
    let mut others: Vec<&str> = present
        .keys()
        .copied()
        .filter(|s| !SOURCE_ORDER.contains(s))
        .collect();
    others.sort_unstable();
    sources.extend(others);
    let number_of: AHashMap<&str, usize> =
        sources.iter().enumerate().map(|(i, s)| (*s, i)).collect();

    let bucket: Vec<usize> = deals
        .iter()
        .map(|d| number_of.get(d.source()).copied().unwrap_or(0))
        .collect();
    let by_id: AHashMap<&str, usize> = deals
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();

    // Days in stage by the period the stage ended in; each stage's usual position.
    let mut stage_days = Samples::default();
    let mut position: Vec<(f64, f64)> = Vec::new();
    for t in stage_rows {
        let (Some(&d), Some(k)) = (
            by_id.get(t.opportunity_id.as_str()),
            period_of(&bounds, t.last_end),
        ) else {
            continue;
        };
        let n = stage_days.add(k, bucket[d], t.stage.as_str(), t.days);
        if position.len() <= n {
            position.resize(n + 1, (0.0, 0.0));
        }
        position[n].0 += t.first_entry as f64;
        position[n].1 += 1.0;
    }
    let position: AHashMap<&str, (f64, f64)> = stage_days
        .names
        .iter()
        .copied()
        .zip(position.iter().copied())
        .collect();
    let mut stage_order: Vec<(&str, f64)> =
        position.iter().map(|(s, (sum, n))| (*s, sum / n)).collect();
    stage_order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    let rank: AHashMap<&str, usize> = stage_order
        .iter()
        .enumerate()
        .map(|(i, (s, _))| (*s, i))
        .collect();

    // The milestone intervals before each opportunity created in the series.
    // Interval names by (from, to) milestone index; MILESTONES.len() is the creation.
    let nodes: Vec<&str> = MILESTONES.iter().copied().chain(["opportunity"]).collect();
    let names: Vec<Vec<String>> = nodes
        .iter()
        .map(|a| nodes.iter().map(|b| format!("{a} → {b}")).collect())
        .collect();
    let mut milestone_days = Samples::default();
    for (d, b) in deals.iter().zip(&bucket) {
        let Some(k) = period_of(&bounds, d.created_at) else {
            continue;
        };
        let mut chain: Vec<(i64, usize)> = d
            .milestones
            .iter()
            .enumerate()
            .filter_map(|(m, at)| at.map(|at| (at, m)))
            .collect();
        chain.push((d.created_at, MILESTONES.len()));
        for pair in chain.windows(2) {
            let days = (pair[1].0 - pair[0].0) as f64 / DAY_MICROS;
            milestone_days.add(k, *b, &names[pair[0].1][pair[1].1], days);
        }
    }

    let columns = vec![
        Column::new("period", ColumnKind::Text),
        Column::new("source", ColumnKind::Text),
        Column::new("opportunities_created", ColumnKind::Integer),
        Column::new("won", ColumnKind::Integer),
        Column::new("lost", ColumnKind::Integer),
        Column::new("win_rate", ColumnKind::Number),
        Column::new("avg_deal_size", ColumnKind::Number),
        Column::new("sales_cycle_days_median", ColumnKind::Number),
        Column::new("sales_cycle_days_mean", ColumnKind::Number),
        Column::new("open_opportunities", ColumnKind::Integer),
        Column::new("pipeline_velocity", ColumnKind::Number),
    ];
    let mut params = Map::new();
    params.insert("period".into(), json!(p.period.label()));
    params.insert("start".into(), json!(series[0].start.to_string()));
    params.insert("end".into(), json!(p.period.end.to_string()));
    params.insert(
        "periods".into(),
        json!(series.iter().map(Period::label).collect::<Vec<_>>()),
    );
    params.insert("at".into(), json!(p.at.to_string()));
    params.insert("currency".into(), json!(config.finance.currency));
    for (d, v) in &p.filters {
        params.insert(d.name().into(), json!(v));
    }
    let mut rep = Report::new("velocity", params, columns);
    for period in &series {
        let open_day = period.end.min(p.at + Days::new(1));
        let mut tallies: Vec<Tally> = sources.iter().map(|_| Tally::default()).collect();
        for (d, b) in deals.iter().zip(&bucket) {
            for t in [0, *b] {
                let t = &mut tallies[t];
                t.created += usize::from(d.created_in(period.start, period.end));
                if d.closed_in(period.start, period.end) {
                    if d.won {
                        t.won += 1;
                        t.revenue += d.amount;
                        t.cycles.extend(d.cycle_days());
                    } else {
                        t.lost += 1;
                    }
                }
                t.open += usize::from(d.open_at(open_day));
            }
        }
        for (source, t) in sources.iter().zip(&mut tallies) {
            let cycle_mean = mean(&t.cycles);
            let cycle_median = median(&mut t.cycles);
            let win_rate = ratio(t.won as f64, (t.won + t.lost) as f64);
            let deal_size = ratio(t.revenue, t.won as f64);
            let velocity = match (win_rate.as_f64(), deal_size.as_f64(), cycle_mean) {
                (Some(w), Some(s), Some(c)) if c > 0.0 => json!(t.open as f64 * w * s / c),
                _ => Value::Null,
            };
            rep.rows.push(vec![
                json!(period.label()),
                json!(source),
                json!(t.created),
                json!(t.won),
                json!(t.lost),
                win_rate,
                deal_size,
                number(cycle_median),
                number(cycle_mean),
                json!(t.open),
                velocity,
            ]);
        }
    }

    let detail = |samples: Samples, key: &str, order: &dyn Fn(&str) -> usize| {
        // (period, source bucket, position, name) orders the rows.
        type Key<'k> = (usize, usize, usize, &'k str);
        let names = samples.names.clone();
        let mut rows: Vec<(Key, Value)> = samples
            .cells()
            .map(|((k, s, n), mut days)| {
                let name = names[n];
                let row = json!({
                    "period": series[k].label(),
                    "source": sources[s],
                    key: name,
                    "deals": days.len(),
                    "median_days": number(median(&mut days)),
                    "mean_days": number(mean(&days)),
                });
                ((k, s, order(name), name), row)
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Array(rows.into_iter().map(|(_, r)| r).collect())
    };
    rep.extra.insert(
        "stages".into(),
        detail(stage_days, "stage", &|s| {
            rank.get(s).copied().unwrap_or(usize::MAX)
        }),
    );
    rep.extra.insert(
        "milestones".into(),
        detail(milestone_days, "interval", &|name| {
            MILESTONES
                .iter()
                .position(|m| name.starts_with(m))
                .unwrap_or(MILESTONES.len())
        }),
    );
    rep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deals::deal;

    fn t(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    fn time(o: &str, stage: &str, first_entry: u64, days: f64, last_end: &str) -> StageTime {
        StageTime {
            opportunity_id: o.into(),
            stage: stage.into(),
            first_entry,
            days,
            last_end: t(last_end),
        }
    }

    #[test]
    fn buckets_cycle_velocity_stage_order_and_milestones() {
        use Dim::*;
        let mut won = deal(
            "w",
            1000.0,
            "2026-07-01",
            Some("2026-08-31"),
            true,
            true,
            &[(Source, "marketing"), (Account, "A")],
        );
        // Demo request, scheduled 2.5 d later, held 6.5 d after that, created 21 d later.
        won.milestones = [
            Some(t("2026-06-01T00:00:00Z")),
            Some(t("2026-06-03T12:00:00Z")),
            Some(t("2026-06-10T00:00:00Z")),
        ];
        let mut open = deal(
            "o",
            500.0,
            "2026-07-10",
            Some("2026-12-01"),
            false,
            false,
            &[(Source, "sales"), (Account, "B")],
        );
        // Only a meeting held, 5 days before.
        open.milestones = [None, None, Some(t("2026-07-05T00:00:00Z"))];
        let stages = [
            time("w", "Discovery", 1, 15.0, "2026-07-21T00:00:00Z"),
            time("w", "Demo", 2, 5.0, "2026-07-16T00:00:00Z"),
            time("w", "Negotiation", 4, 41.375, "2026-08-31T09:00:00Z"),
            time("o", "Discovery", 1, 2.5, "2026-07-12T12:00:00Z"),
            // Ended before the four quarters: left out.
            time("o", "Prospecting", 1, 3.0, "2025-01-01T00:00:00Z"),
            // Not a deal in scope.
            time("x", "Discovery", 1, 99.0, "2026-07-12T12:00:00Z"),
        ];
        let p = Params {
            period: Period::parse("2026-Q3", NaiveDate::MIN, 1).unwrap(),
            at: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
            filters: Vec::new(),
        };
        let r = compute(&Config::default(), &p, &[won, open], &stages);
        assert_eq!(r.rows.len(), 4 * 3, "4 quarters × all, marketing, sales");
        let q3_all = &r.rows[9];
        assert_eq!(q3_all[0], json!("2026-Q3"));
        assert_eq!(q3_all[1], json!("all"));
        // Won 2026-08-31, created 2026-07-01: a 61-day cycle.
        assert_eq!(q3_all[7], json!(61.0));
        // Open at the end of Q3: o. Velocity = 1 × 1.0 × 1000 / 61.
        assert_eq!(q3_all[9], json!(1));
        assert_eq!(q3_all[10], json!(1000.0 / 61.0));
        let got: Vec<(String, String, f64)> = r.extra["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["source"].as_str().unwrap().into(),
                    s["stage"].as_str().unwrap().into(),
                    s["median_days"].as_f64().unwrap(),
                )
            })
            .collect();
        let want: Vec<(String, String, f64)> = [
            ("all", "Discovery", 8.75),
            ("all", "Demo", 5.0),
            ("all", "Negotiation", 41.375),
            ("marketing", "Discovery", 15.0),
            ("marketing", "Demo", 5.0),
            ("marketing", "Negotiation", 41.375),
            ("sales", "Discovery", 2.5),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
        assert_eq!(got, want);
        let ms: Vec<(String, f64)> = r.extra["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["source"] == "all")
            .map(|m| {
                (
                    m["interval"].as_str().unwrap().into(),
                    m["mean_days"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ms,
            [
                ("demo_request → meeting_scheduled", 2.5),
                ("meeting_scheduled → meeting_held", 6.5),
                ("meeting_held → opportunity", 13.0),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), *b))
            .collect::<Vec<_>>()
        );
    }
}
