//! Pipeline and revenue (SPEC §6): pipeline created, marketing-sourced pipeline and its share
//! of new business, revenue against its target, win rate, deal size and ACV, pipeline
//! coverage against quota, each for the period and the one before; with win rates by
//! segment, source and competitor, ranked loss reasons, and figures by source and by
//! opportunity type. See [`crate::deals`] for what closed, won, lost and open mean.
//!
//! Pipeline coverage is judged as of `--at` (the end of that day): the amount of the
//! opportunities open then whose close date falls in the period, over `targets.quota[P]`.
//! The previous period's coverage is judged as of the same distance from its start.
//! Targets are for the whole business: rows grouped `--by` leave `revenue_target`, `quota`
//! and `pipeline_coverage` null.

use std::collections::{BTreeMap, HashMap};

use abmeter_model::report::{Column, ColumnKind, Report, View};
use abmeter_model::{Config, Period};
use abmeter_store::StoreError;
use chrono::{Days, NaiveDate};
use datafusion::execution::context::SessionContext;
use serde_json::{Map, Value, json};

use crate::cells::{change_pct, ratio, total};
use crate::deals::{Deal, Dim, TYPES, load};

#[derive(Debug, Clone)]
pub struct Params {
    pub period: Period,
    /// The day pipeline coverage is judged at (its end).
    pub at: NaiveDate,
    pub by: Vec<Dim>,
    /// Only opportunities whose value of each dimension is one of these (ignoring case).
    pub filters: Vec<(Dim, String)>,
}

/// The metrics of a row, in column order; the `bool` says whether the row also carries
/// `previous_<metric>` and `<metric>_change_pct`.
const METRICS: [(&str, bool); 18] = [
    ("opportunities", true),
    ("pipeline", true),
    ("new_business_pipeline", true),
    ("marketing_sourced_opportunities", true),
    ("marketing_sourced_pipeline", true),
    ("marketing_sourced_pipeline_pct", true),
    ("revenue", true),
    ("marketing_sourced_revenue", true),
    ("revenue_target", false),
    ("revenue_target_pct", true),
    ("won", true),
    ("lost", true),
    ("win_rate", true),
    ("avg_deal_size", true),
    ("acv", true),
    ("open_pipeline", true),
    ("quota", false),
    ("pipeline_coverage", true),
];

/// One period's window: the period and the day coverage is judged at.
#[derive(Debug, Clone)]
struct Window {
    period: Period,
    at: NaiveDate,
}

impl Window {
    fn created(&self, d: &Deal) -> bool {
        d.created_in(self.period.start, self.period.end)
    }

    fn closed(&self, d: &Deal) -> bool {
        d.closed_in(self.period.start, self.period.end)
    }

    /// Open at the end of `at` with a close date in the period.
    fn open(&self, d: &Deal) -> bool {
        d.open_at(self.at + Days::new(1)) && d.close_date.is_some_and(|c| self.period.contains(c))
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    won: f64,
    lost: f64,
}

impl Counts {
    fn add(&mut self, d: &Deal) {
        if d.won {
            self.won += 1.0;
        } else {
            self.lost += 1.0;
        }
    }

    fn win_rate(&self) -> Value {
        ratio(self.won, self.won + self.lost)
    }
}

/// The figures of one set of deals in one window, as `METRICS` values.
fn figures(deals: &[&Deal], w: &Window, targets: Option<(Option<f64>, Option<f64>)>) -> Vec<Value> {
    let created: Vec<&&Deal> = deals.iter().filter(|d| w.created(d)).collect();
    let sum = |it: &mut dyn Iterator<Item = &&&Deal>| total(it.map(|d| d.amount));
    let pipeline = sum(&mut created.iter());
    let new_business = sum(&mut created.iter().filter(|d| d.is_new_business()));
    let marketing: Vec<&&&Deal> = created.iter().filter(|d| d.is_marketing()).collect();
    let marketing_pipeline = sum(&mut marketing.iter().copied());
    let marketing_new_business =
        sum(&mut marketing.iter().copied().filter(|d| d.is_new_business()));
    let closed: Vec<&&Deal> = deals.iter().filter(|d| w.closed(d)).collect();
    let won: Vec<&&Deal> = closed.iter().copied().filter(|d| d.won).collect();
    let mut counts = Counts::default();
    closed.iter().for_each(|d| counts.add(d));
    let revenue: f64 = total(won.iter().map(|d| d.amount));
    let marketing_revenue = total(won.iter().filter(|d| d.is_marketing()).map(|d| d.amount));
    let n_won = won.len() as f64;
    let acv: f64 = total(won.iter().map(|d| d.acv()));
    let open_pipeline: f64 = total(deals.iter().filter(|d| w.open(d)).map(|d| d.amount));
    let (revenue_target, quota) = targets.unwrap_or((None, None));
    let opt = |x: Option<f64>| x.map_or(Value::Null, |x| json!(x));
    let of = |n: f64, d: Option<f64>| d.map_or(Value::Null, |d| ratio(n, d));
    vec![
        json!(created.len()),
        json!(pipeline),
        json!(new_business),
        json!(marketing.len()),
        json!(marketing_pipeline),
        ratio(marketing_new_business * 100.0, new_business),
        json!(revenue),
        json!(marketing_revenue),
        opt(revenue_target),
        of(revenue * 100.0, revenue_target),
        json!(counts.won as u64),
        json!(counts.lost as u64),
        counts.win_rate(),
        ratio(revenue, n_won),
        ratio(acv, n_won),
        json!(open_pipeline),
        opt(quota),
        of(open_pipeline, quota),
    ]
}

/// The previous period's window: the period before, judged as far into it as `at` is into
/// the current one.
fn previous(w: &Window) -> Window {
    let period = w.period.previous();
    let shift = (w.period.start - period.start).num_days();
    Window {
        at: w.at - chrono::Duration::days(shift),
        period,
    }
}

pub async fn report(
    ctx: &SessionContext,
    config: &Config,
    p: &Params,
) -> Result<Report, StoreError> {
    let (from, to) = (p.period.previous().start, p.period.end);
    let deals = load(
        ctx,
        &format!(
            "(o.created_at >= TIMESTAMP '{from}T00:00:00Z' AND o.created_at < TIMESTAMP '{to}T00:00:00Z')
   OR (o.close_date >= DATE '{from}' AND o.close_date < DATE '{to}')"
        ),
        &Dim::ALL,
    ).await?;
    Ok(compute(config, p, &deals))
}

/// Whether `d` passes the filters.
pub fn selected(d: &Deal, filters: &[(Dim, String)]) -> bool {
    filters.iter().all(|(dim, want)| {
        d.value(*dim)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(want.trim()))
    })
}

/// The report over already loaded deals (those created or closed in the period or the one
/// before).
pub fn compute(config: &Config, p: &Params, all: &[Deal]) -> Report {
    let deals: Vec<&Deal> = all.iter().filter(|d| selected(d, &p.filters)).collect();
    let current = Window {
        period: p.period.clone(),
        at: p.at,
    };
    let before = previous(&current);
    let label = current.period.label();
    let targets = |w: &Window| {
        let l = w.period.label();
        (
            config.targets.revenue.get(&l).copied(),
            config.targets.quota.get(&l).copied(),
        )
    };

    let mut columns: Vec<Column> =
        p.by.iter()
            .map(|d| Column::new(d.name(), ColumnKind::Text))
            .collect();
    if p.by.contains(&Dim::Account) {
        columns.push(Column::new("account_name", ColumnKind::Text));
    }
    for (m, _) in METRICS {
        columns.push(Column::new(m, kind(m)));
    }
    for (m, compared) in METRICS {
        if compared {
            columns.push(Column::new(format!("previous_{m}"), kind(m)));
        }
    }
    for (m, compared) in METRICS {
        if compared {
            columns.push(Column::new(format!("{m}_change_pct"), ColumnKind::Number));
        }
    }

    let mut params = Map::new();
    params.insert("period".into(), json!(label));
    params.insert("start".into(), json!(current.period.start.to_string()));
    params.insert("end".into(), json!(current.period.end.to_string()));
    params.insert("at".into(), json!(current.at.to_string()));
    params.insert("previous_period".into(), json!(before.period.label()));
    params.insert("previous_at".into(), json!(before.at.to_string()));
    params.insert(
        "by".into(),
        json!(p.by.iter().map(|d| d.name()).collect::<Vec<_>>()),
    );
    let (revenue_target, quota) = targets(&current);
    params.insert("revenue_target".into(), json!(revenue_target));
    params.insert("quota".into(), json!(quota));
    params.insert("currency".into(), json!(config.finance.currency));
    for (d, v) in &p.filters {
        params.insert(d.name().into(), json!(v));
    }
    let mut rep = Report::new("pipeline", params, columns);
    rep.view = View::Scorecard;

    // Rows: one per group (one in all without --by), the largest pipeline first.
    let mut groups: BTreeMap<Vec<Option<&str>>, Vec<&Deal>> = BTreeMap::new();
    for d in &deals {
        let key = p.by.iter().map(|dim| d.value(*dim)).collect();
        groups.entry(key).or_default().push(d);
    }
    if groups.is_empty() && p.by.is_empty() {
        groups.insert(Vec::new(), Vec::new());
    }
    let grouped = !p.by.is_empty();
    let mut rows: Vec<(Vec<Value>, f64)> = Vec::new();
    for (key, members) in &groups {
        let (now, then) = if grouped {
            (
                figures(members, &current, None),
                figures(members, &before, None),
            )
        } else {
            (
                figures(members, &current, Some(targets(&current))),
                figures(members, &before, Some(targets(&before))),
            )
        };
        let mut row: Vec<Value> = key.iter().map(|v| json!(v.unwrap_or("(none)"))).collect();
        if p.by.contains(&Dim::Account) {
            row.push(json!(
                members.first().and_then(|d| d.account_name.as_deref())
            ));
        }
        row.extend(now.iter().cloned());
        for (i, (_, compared)) in METRICS.iter().enumerate() {
            if *compared {
                row.push(then[i].clone());
            }
        }
        for (i, (_, compared)) in METRICS.iter().enumerate() {
            if *compared {
                row.push(change_pct(&now[i], &then[i]));
            }
        }
        let pipeline = now[1].as_f64().unwrap_or(0.0);
        rows.push((row, pipeline));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    rep.rows = rows.into_iter().map(|(r, _)| r).collect();

    rep.extra
        .insert("win_rate_by".into(), win_rate_by(&deals, &current, &before));
    rep.extra
        .insert("loss_reasons".into(), loss_reasons(&deals, &current));
    rep.extra
        .insert("by_source".into(), by_source(&deals, &current));
    rep.extra
        .insert("by_type".into(), by_type(&deals, &current, &before));
    rep
}

fn kind(metric: &str) -> ColumnKind {
    match metric {
        "opportunities" | "marketing_sourced_opportunities" | "won" | "lost" => ColumnKind::Integer,
        _ => ColumnKind::Number,
    }
}

/// Win rate of the deals closed in the period by industry, region, tier, source and
/// competitor, with the previous period's.
fn win_rate_by(deals: &[&Deal], w: &Window, before: &Window) -> Value {
    let mut out = Vec::new();
    for dim in [
        Dim::Industry,
        Dim::Region,
        Dim::Tier,
        Dim::Source,
        Dim::Competitor,
    ] {
        let mut by: HashMap<&str, (Counts, Counts)> = HashMap::new();
        for d in deals {
            let value = d.value(dim).unwrap_or("(none)");
            if w.closed(d) {
                by.entry(value).or_default().0.add(d);
            }
            if before.closed(d) {
                by.entry(value).or_default().1.add(d);
            }
        }
        let mut rows: Vec<(&str, Counts, Counts)> =
            by.into_iter().map(|(v, (a, b))| (v, a, b)).collect();
        rows.sort_by(|a, b| {
            (b.1.won + b.1.lost)
                .total_cmp(&(a.1.won + a.1.lost))
                .then(a.0.cmp(b.0))
        });
        for (value, now, then) in rows {
            out.push(json!({
                "dimension": dim.name(),
                "value": value,
                "won": now.won as u64,
                "lost": now.lost as u64,
                "win_rate": now.win_rate(),
                "previous_win_rate": then.win_rate(),
            }));
        }
    }
    Value::Array(out)
}

/// Loss reasons of the deals lost in the period, most frequent first (ties: the larger
/// amount, then the name); deals lost without a reason come last as `(none)`.
fn loss_reasons(deals: &[&Deal], w: &Window) -> Value {
    let lost: Vec<&&Deal> = deals.iter().filter(|d| w.closed(d) && !d.won).collect();
    let mut by: BTreeMap<Option<&str>, (f64, f64)> = BTreeMap::new();
    for d in &lost {
        let e = by.entry(d.loss_reason.as_deref()).or_default();
        e.0 += 1.0;
        e.1 += d.amount;
    }
    let none = by.remove(&None);
    let mut ranked: Vec<(Option<&str>, (f64, f64))> = by.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(b.1.1.total_cmp(&a.1.1)));
    let total = lost.len() as f64;
    let mut out: Vec<Value> = ranked
        .iter()
        .enumerate()
        .map(|(i, (reason, (n, amount)))| {
            json!({"rank": i + 1, "loss_reason": reason, "lost": *n as u64, "lost_amount": amount,
                   "lost_pct": ratio(n * 100.0, total)})
        })
        .collect();
    if let Some((n, amount)) = none {
        out.push(
            json!({"rank": null, "loss_reason": "(none)", "lost": n as u64,
                        "lost_amount": amount, "lost_pct": ratio(n * 100.0, total)}),
        );
    }
    Value::Array(out)
}

/// Pipeline created, revenue, deal size and ACV per source.
fn by_source(deals: &[&Deal], w: &Window) -> Value {
    let mut by: BTreeMap<&str, Vec<&Deal>> = BTreeMap::new();
    for d in deals {
        if w.created(d) || (w.closed(d) && d.won) {
            by.entry(d.source()).or_default().push(d);
        }
    }
    let mut out = Vec::new();
    for (source, members) in by {
        let created: Vec<&&Deal> = members.iter().filter(|d| w.created(d)).collect();
        let won: Vec<&&Deal> = members.iter().filter(|d| w.closed(d) && d.won).collect();
        let revenue: f64 = total(won.iter().map(|d| d.amount));
        let n = won.len() as f64;
        out.push(json!({
            "source": source,
            "opportunities": created.len(),
            "pipeline": total(created.iter().map(|d| d.amount)),
            "won": won.len(),
            "revenue": revenue,
            "avg_deal_size": ratio(revenue, n),
            "acv": ratio(total(won.iter().map(|d| d.acv())), n),
        }));
    }
    Value::Array(out)
}

/// Opportunities created, won and lost by type, with the previous period's counts; the
/// four SPEC types always, then any other.
fn by_type(deals: &[&Deal], w: &Window, before: &Window) -> Value {
    let mut by: BTreeMap<&str, [f64; 8]> = TYPES.iter().map(|t| (*t, [0.0; 8])).collect();
    for d in deals {
        let e = by.entry(d.kind()).or_default();
        for (window, at) in [(w, 0), (before, 5)] {
            if window.created(d) {
                e[at] += 1.0;
                if at == 0 {
                    e[3] += d.amount;
                }
            }
            if window.closed(d) {
                e[at + 1 + usize::from(!d.won)] += 1.0;
                if at == 0 && d.won {
                    e[4] += d.amount;
                }
            }
        }
    }
    let mut keys: Vec<&str> = TYPES.to_vec();
    keys.extend(by.keys().filter(|k| !TYPES.contains(k)));
    keys.iter()
        .map(|k| {
            let e = by[k];
            json!({
                "type": k, "created": e[0] as u64, "pipeline": e[3] + 0.0,
                "won": e[1] as u64, "lost": e[2] as u64, "revenue": e[4] + 0.0,
                "win_rate": ratio(e[1], e[1] + e[2]), "previous_created": e[5] as u64,
                "previous_won": e[6] as u64, "previous_lost": e[7] as u64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deals::deal;

    fn params(label: &str, at: &str) -> Params {
        Params {
            period: Period::parse(label, NaiveDate::MIN, 1).unwrap(),
            at: NaiveDate::parse_from_str(at, "%Y-%m-%d").unwrap(),
            by: Vec::new(),
            filters: Vec::new(),
        }
    }

    fn field<'a>(r: &'a Report, row: usize, name: &str) -> &'a Value {
        &r.rows[row][r.column(name).unwrap_or_else(|| panic!("{name}"))]
    }

    #[test]
    fn hand_computed_quarter() {
        use Dim::*;
        let deals = vec![
            // Created in Q3, marketing new business, won in Q3.
            deal(
                "a",
                100.0,
                "2026-07-05",
                Some("2026-08-01"),
                true,
                true,
                &[(Source, "marketing"), (Type, "new_business")],
            ),
            // Created in Q2, won in Q3 (closed a period later than created).
            deal(
                "b",
                300.0,
                "2026-05-01",
                Some("2026-07-10"),
                true,
                true,
                &[(Source, "sales"), (Type, "new_business")],
            ),
            // Created in Q3, lost in Q3 without a reason.
            deal(
                "c",
                50.0,
                "2026-07-20",
                Some("2026-09-30"),
                true,
                false,
                &[(Source, "marketing"), (Type, "upsell")],
            ),
            // Created in Q3, open, closing in Q3: coverage.
            deal(
                "d",
                400.0,
                "2026-08-01",
                Some("2026-09-15"),
                false,
                false,
                &[(Source, "sales")],
            ),
        ];
        let mut config = Config::default();
        config.targets.revenue.insert("2026-Q3".into(), 800.0);
        let r = compute(&config, &params("2026-Q3", "2026-08-15"), &deals);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(field(&r, 0, "opportunities"), &json!(3));
        assert_eq!(field(&r, 0, "pipeline"), &json!(550.0));
        // New business created: a (100, marketing) and d (400, no type → new business).
        assert_eq!(field(&r, 0, "new_business_pipeline"), &json!(500.0));
        assert_eq!(field(&r, 0, "marketing_sourced_pipeline"), &json!(150.0));
        assert_eq!(field(&r, 0, "marketing_sourced_pipeline_pct"), &json!(20.0));
        assert_eq!(field(&r, 0, "revenue"), &json!(400.0));
        assert_eq!(field(&r, 0, "marketing_sourced_revenue"), &json!(100.0));
        assert_eq!(field(&r, 0, "revenue_target_pct"), &json!(50.0));
        assert_eq!(field(&r, 0, "win_rate"), &json!(2.0 / 3.0));
        assert_eq!(field(&r, 0, "avg_deal_size"), &json!(200.0));
        // No quota: coverage null, not 0; the open pipeline is still shown: d, and c, which
        // was still open on 15 August (it was lost on 30 September).
        assert_eq!(field(&r, 0, "open_pipeline"), &json!(450.0));
        assert_eq!(field(&r, 0, "pipeline_coverage"), &Value::Null);
        // Q2: b created (300) → +83.3 %.
        assert_eq!(field(&r, 0, "previous_pipeline"), &json!(300.0));
        let change = field(&r, 0, "pipeline_change_pct").as_f64().unwrap();
        assert!((change - 250.0 / 3.0).abs() < 1e-9);
        let lr = &r.extra["loss_reasons"];
        assert_eq!(lr[0]["loss_reason"], json!("(none)"));
        assert_eq!(lr[0]["rank"], Value::Null);
        let types = r.extra["by_type"].as_array().unwrap();
        assert_eq!(types[0]["type"], json!("new_business"));
        assert_eq!(types[0]["created"], json!(2));
        assert_eq!(types[0]["won"], json!(2));
        assert_eq!(types[0]["previous_created"], json!(1));
        assert_eq!(types[1]["lost"], json!(1));
    }
}
