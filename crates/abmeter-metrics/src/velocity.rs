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
use abmeter_store::cube::{MILESTONES, MILESTONES_TABLE};
use chrono::{Days, NaiveDate};
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

/// One stage entry: (opportunity id, stage, entered_at µs).
pub type StageRow = (Text, Text, i64);
/// One milestone activity: (account id, µs, index into [`MILESTONES`]).
pub type MilestoneRow = (Text, i64, usize);

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
    let mut dims = vec![Dim::Source, Dim::Type, Dim::Account];
    dims.extend(p.filters.iter().map(|(d, _)| *d));
    let stage_sql = format!(
        "SELECT s.opportunity_id, s.stage, s.entered_at FROM opportunity_stages s
WHERE s.opportunity_id IN (SELECT o.id FROM opportunities o WHERE {scope})"
    );
    // Only the accounts with an opportunity created in the four periods need milestones.
    let lo = from - Days::new(config.attribution.lookback_days.into());
    let milestone_sql = format!(
        "SELECT account_id, timestamp, type FROM {MILESTONES_TABLE}
WHERE timestamp >= TIMESTAMP '{lo}T00:00:00Z' AND timestamp < TIMESTAMP '{to}T00:00:00Z'
  AND account_id IN (SELECT account_id FROM opportunities
                     WHERE created_at >= TIMESTAMP '{from}T00:00:00Z'
                       AND created_at < TIMESTAMP '{to}T00:00:00Z')"
    );
    let deals = load(ctx, &scope, &dims).await?;
    let stage_batches = ctx.sql(&stage_sql).await?.collect().await?;
    let milestone_batches = ctx.sql(&milestone_sql).await?.collect().await?;
    let mut stages = Vec::new();
    for b in &stage_batches {
        let (ids, names, entered) = (
            strings(b, "opportunity_id"),
            strings(b, "stage"),
            times(b, "entered_at"),
        );
        for i in 0..b.num_rows() {
            if let (Some(id), Some(stage), Some(t)) = (at(ids, i), at(names, i), at(entered, i)) {
                stages.push((Text::from(id), Text::from(stage), t));
            }
        }
    }
    let mut milestones = Vec::new();
    for b in &milestone_batches {
        let (accounts, stamps, types) = (
            strings(b, "account_id"),
            times(b, "timestamp"),
            strings(b, "type"),
        );
        for i in 0..b.num_rows() {
            let kind = at(types, i).and_then(|t| MILESTONES.iter().position(|m| *m == t));
            if let (Some(account), Some(t), Some(kind)) = (at(accounts, i), at(stamps, i), kind) {
                milestones.push((Text::from(account), t, kind));
            }
        }
    }
    Ok(compute(config, p, &deals, &stages, &milestones))
}

/// Durations in days per (period index, source bucket, name).
#[derive(Default)]
struct Samples<'a>(AHashMap<(usize, &'a str, &'a str), Vec<f64>>);

impl<'a> Samples<'a> {
    /// Adds `days` under the deal's source and under `all`.
    fn add(&mut self, period: usize, source: &'a str, name: &'a str, days: f64) {
        for bucket in [ALL, source] {
            self.0.entry((period, bucket, name)).or_default().push(days);
        }
    }
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

/// The report over loaded deals, their stage history and the milestone activities.
pub fn compute(
    config: &Config,
    p: &Params,
    all: &[Deal],
    stage_rows: &[StageRow],
    milestone_rows: &[MilestoneRow],
) -> Report {
    let series = periods(&p.period);
    let bounds: Vec<(i64, i64)> = series
        .iter()
        .map(|p| (micros(p.start), micros(p.end)))
        .collect();
    let deals: Vec<&Deal> = all.iter().filter(|d| selected(d, &p.filters)).collect();
    let by_id: AHashMap<&str, usize> = deals
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();

    // Stage time per deal and stage, and each stage's usual position. Stages are numbered
    // as met so the million-row history is hashed once per row.
    let mut stage_number: AHashMap<&str, usize> = AHashMap::new();
    let mut stage_names: Vec<&str> = Vec::new();
    let mut histories: Vec<Vec<(usize, i64)>> = vec![Vec::new(); deals.len()];
    for (id, stage, at) in stage_rows {
        if let Some(&d) = by_id.get(id.as_str()) {
            let n = *stage_number.entry(stage.as_str()).or_insert_with(|| {
                stage_names.push(stage.as_str());
                stage_names.len() - 1
            });
            histories[d].push((n, *at));
        }
    }
    let mut stage_days = Samples::default();
    let mut position: Vec<(f64, f64)> = vec![(0.0, 0.0); stage_names.len()];
    for (deal, history) in deals.iter().zip(&mut histories) {
        if history.is_empty() {
            continue;
        }
        history.sort_by_key(|(_, at)| *at);
        let close = deal.closed.then_some(deal.close_date).flatten().map(micros);
        // (stage, days, end of its last visit), in order of first entry
        let mut spent: Vec<(usize, f64, i64)> = Vec::new();
        for (i, (stage, entered)) in history.iter().enumerate() {
            let slot = match spent.iter().position(|s| s.0 == *stage) {
                Some(slot) => slot,
                None => {
                    let (sum, n) = &mut position[*stage];
                    *sum += spent.len() as f64;
                    *n += 1.0;
                    spent.push((*stage, 0.0, i64::MIN));
                    spent.len() - 1
                }
            };
            let end = match (history.get(i + 1), close) {
                (Some((_, next)), _) => *next,
                (None, Some(close)) if *entered < close => close,
                _ => continue,
            };
            let e = &mut spent[slot];
            e.1 += (end - entered).max(0) as f64 / DAY_MICROS;
            e.2 = e.2.max(end);
        }
        for (stage, days, end) in spent {
            if let Some(k) = period_of(&bounds, end) {
                stage_days.add(k, deal.source(), stage_names[stage], days);
            }
        }
    }
    let position: AHashMap<&str, (f64, f64)> = stage_names
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

    // Milestones before each opportunity created in the series.
    let mut by_account: AHashMap<&str, Vec<(i64, usize)>> = AHashMap::new();
    for (account, at, kind) in milestone_rows {
        by_account
            .entry(account.as_str())
            .or_default()
            .push((*at, *kind));
    }
    for list in by_account.values_mut() {
        list.sort_unstable();
    }
    let lookback = config.attribution.lookback_days as i64 * DAY_MICROS as i64;
    // Interval names by (from, to) milestone index; MILESTONES.len() is the creation.
    let nodes: Vec<&str> = MILESTONES.iter().copied().chain(["opportunity"]).collect();
    let names: Vec<Vec<String>> = nodes
        .iter()
        .map(|a| nodes.iter().map(|b| format!("{a} → {b}")).collect())
        .collect();
    let mut milestone_days = Samples::default();
    for d in &deals {
        let Some(k) = period_of(&bounds, d.created_at) else {
            continue;
        };
        let Some(list) = d.value(Dim::Account).and_then(|a| by_account.get(a)) else {
            continue;
        };
        let window = |at: i64| d.created_at - lookback <= at && at <= d.created_at;
        let mut chain: Vec<(i64, usize)> = Vec::new();
        let mut after = d.created_at - lookback;
        for m in 0..MILESTONES.len() {
            if let Some((at, _)) = list
                .iter()
                .find(|(at, kind)| *kind == m && *at >= after && window(*at))
            {
                chain.push((*at, m));
                after = *at;
            }
        }
        chain.push((d.created_at, MILESTONES.len()));
        for pair in chain.windows(2) {
            let days = (pair[1].0 - pair[0].0) as f64 / DAY_MICROS;
            milestone_days.add(k, d.source(), &names[pair[0].1][pair[1].1], days);
        }
    }

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
    let bucket: Vec<usize> = deals
        .iter()
        .map(|d| number_of.get(d.source()).copied().unwrap_or(0))
        .collect();
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
        let mut rows: Vec<(Key, Value)> = samples
            .0
            .into_iter()
            .map(|((k, source, name), mut days)| {
                let s = sources.iter().position(|x| *x == source).unwrap_or(0);
                let row = json!({
                    "period": series[k].label(),
                    "source": source,
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

    #[test]
    fn stages_skipped_repeated_and_closing() {
        use Dim::*;
        let deals = vec![
            // Won 2026-08-31; created 2026-07-01: cycle 61 days.
            deal(
                "w",
                1000.0,
                "2026-07-01",
                Some("2026-08-31"),
                true,
                true,
                &[(Source, "marketing"), (Account, "A")],
            ),
            // Open deal: its current stage never ends.
            deal(
                "o",
                500.0,
                "2026-07-10",
                Some("2026-12-01"),
                false,
                false,
                &[(Source, "sales"), (Account, "B")],
            ),
        ];
        let stages: Vec<StageRow> = [
            // Discovery 10 d, Demo 5 d, back to Discovery 5 d (15 d in all, repeated),
            // Proposal skipped, Negotiation until the closing marker is entered = 41.375 d;
            // the marker, entered on the close day, has no duration.
            ("w", "Discovery", "2026-07-01T00:00:00Z"),
            ("w", "Demo", "2026-07-11T00:00:00Z"),
            ("w", "Discovery", "2026-07-16T00:00:00Z"),
            ("w", "Negotiation", "2026-07-21T00:00:00Z"),
            ("w", "Closed Won", "2026-08-31T09:00:00Z"),
            ("o", "Discovery", "2026-07-10T00:00:00Z"),
            ("o", "Demo", "2026-07-12T12:00:00Z"),
        ]
        .iter()
        .map(|(o, s, at)| (Text::from(*o), Text::from(*s), t(at)))
        .collect();
        let milestones: Vec<MilestoneRow> = vec![
            ("A".into(), t("2026-06-01T00:00:00Z"), 0),
            ("A".into(), t("2026-06-03T12:00:00Z"), 1),
            ("A".into(), t("2026-06-10T00:00:00Z"), 2),
            // B: a meeting held only, nothing scheduled.
            ("B".into(), t("2026-07-05T00:00:00Z"), 2),
        ];
        let p = Params {
            period: Period::parse("2026-Q3", NaiveDate::MIN, 1).unwrap(),
            at: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
            filters: Vec::new(),
        };
        let r = compute(&Config::default(), &p, &deals, &stages, &milestones);
        assert_eq!(r.rows.len(), 4 * 3, "4 quarters × all, marketing, sales");
        let q3_all = &r.rows[9];
        assert_eq!(q3_all[0], json!("2026-Q3"));
        assert_eq!(q3_all[1], json!("all"));
        assert_eq!(q3_all[7], json!(61.0));
        // Open at the end of Q3: o. Velocity = 1 × 1.0 × 1000 / 61.
        assert_eq!(q3_all[9], json!(1));
        assert_eq!(q3_all[10], json!(1000.0 / 61.0));
        let stages = r.extra["stages"].as_array().unwrap();
        let got: Vec<(String, String, f64)> = stages
            .iter()
            .filter(|s| s["period"] == "2026-Q3")
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
        let ms: Vec<(String, String, f64)> = r.extra["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["source"] == "all")
            .map(|m| {
                (
                    m["interval"].as_str().unwrap().into(),
                    m["period"].as_str().unwrap().into(),
                    m["mean_days"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ms,
            [
                ("demo_request → meeting_scheduled", "2026-Q3", 2.5),
                ("meeting_scheduled → meeting_held", "2026-Q3", 6.5),
                ("meeting_held → opportunity", "2026-Q3", 13.0),
            ]
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
            .collect::<Vec<_>>()
        );
    }
}
