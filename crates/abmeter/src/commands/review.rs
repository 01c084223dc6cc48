//! `abmeter report --period 2026-Q3`: the business review of a period against the one
//! before, as one self-contained HTML file (or its JSON).
//!
//! It runs the ordinary report commands in process (the same numbers as `abmeter pipeline`,
//! `abmeter engagement`, …) and only picks figures out of them: the KPI rows say which
//! report and field each comes from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use abmeter_model::Report;
use abmeter_model::report::{Column, ColumnKind};
use abmeter_outputs::i18n::Lang;
use anyhow::{Context, anyhow};
use chrono::{Datelike, Days};
use serde_json::{Map, Value, json};

/// One report to run: its name and options.
type Ask = (&'static str, Vec<(String, String)>);

fn ask(name: &'static str, pairs: &[(&str, &str)]) -> Ask {
    (
        name,
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Runs the asked reports, two at a time (the machine's cores share the rest).
fn run_all(root: &Path, asked: &[Ask]) -> Vec<anyhow::Result<Report>> {
    let mut out: Vec<Option<anyhow::Result<Report>>> = (0..asked.len()).map(|_| None).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(&mut out);
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(2, |n| n.get().min(4)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((name, params)) = asked.get(i) else {
                        break;
                    };
                    let r = super::run_report(root, name, params)
                        .with_context(|| format!("{name} failed"));
                    if let Ok(mut slot) = results.lock() {
                        slot[i] = Some(r);
                    }
                }
            });
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow!("not run"))))
        .collect()
}

fn value(r: &Report, row: usize, field: &str) -> Value {
    r.column(field)
        .and_then(|i| r.rows.get(row).map(|rw| rw[i].clone()))
        .unwrap_or(Value::Null)
}

fn sum(r: &Report, field: &str) -> Value {
    match r.column(field) {
        Some(i) => json!(r.rows.iter().filter_map(|row| row[i].as_f64()).sum::<f64>()),
        None => Value::Null,
    }
}

fn count_positive(r: &Report, field: &str) -> Value {
    match r.column(field) {
        Some(i) => json!(
            r.rows
                .iter()
                .filter(|row| row[i].as_f64().is_some_and(|v| v > 0.0))
                .count()
        ),
        None => Value::Null,
    }
}

fn change_pct(now: &Value, before: &Value) -> Value {
    match (now.as_f64(), before.as_f64()) {
        (Some(n), Some(b)) if b != 0.0 => json!((n - b) / b.abs() * 100.0),
        _ => Value::Null,
    }
}

/// The review as a report: one row per KPI, and the sections as extra fields.
pub fn build(
    root: &Path,
    period_text: &str,
    at: Option<chrono::NaiveDate>,
) -> anyhow::Result<Report> {
    let store = abmeter_store::Store::open(root)?;
    let config = store.config()?;
    let at = at.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let period = abmeter_model::Period::parse(period_text, at, config.fiscal_year_start_month)
        .map_err(|e| anyhow!("--period: {e}"))?;
    let prev = period.previous();
    let (label, prev_label) = (period.label(), prev.label());
    // Point-in-time reports (MQAs, the heatmap window) are read on the period's last day.
    let last = (period.end - Days::new(1)).to_string();
    let prev_last = (prev.end - Days::new(1)).to_string();
    // Retention over the period: from the month before it to its last month.
    let month = |d: chrono::NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let before = |p: &abmeter_model::Period| month(p.start - Days::new(1));
    let asked: Vec<Ask> = vec![
        ask("pipeline", &[("period", &label)]),
        ask("engagement", &[("period", &label)]),
        ask("engagement", &[("period", &prev_label)]),
        ask(
            "engagement",
            &[("period", &label), ("segment", "is_target=true")],
        ),
        ask(
            "engagement",
            &[("period", &prev_label), ("segment", "is_target=true")],
        ),
        ask("mqa", &[("at", &last)]),
        ask("mqa", &[("at", &prev_last)]),
        ask("funnel", &[("period", &label)]),
        ask("roi", &[("period", &label)]),
        ask("roi", &[("period", &prev_label)]),
        ask(
            "retention",
            &[
                ("from", &before(&period)),
                ("to", &month(period.end - Days::new(1))),
            ],
        ),
        ask(
            "retention",
            &[
                ("from", &before(&prev)),
                ("to", &month(prev.end - Days::new(1))),
            ],
        ),
        ask(
            "mqa",
            &[("follow_up", ""), ("period", &label), ("at", &last)],
        ),
        ask(
            "mqa",
            &[
                ("follow_up", ""),
                ("period", &prev_label),
                ("at", &prev_last),
            ],
        ),
        ask(
            "heatmap",
            &[("period", &label), ("segment", "is_target=true")],
        ),
        // The rule-based models side by side; the data-driven ones (Markov, Shapley) take
        // seconds on millions of touches and are on the dashboard's attribution page.
        ask("attribution", &[("period", &label), ("model", "rules")]),
        ask("velocity", &[("period", &label)]),
        ask("nps", &[("period", &label)]),
    ];
    let results = run_all(root, &asked);
    let mut got = Vec::with_capacity(results.len());
    for r in results {
        got.push(r?);
    }
    let [
        pipeline,
        eng,
        eng_prev,
        targets,
        targets_prev,
        mqa,
        mqa_prev,
        funnel,
        roi,
        roi_prev,
        retention,
        retention_prev,
        follow,
        follow_prev,
        heatmap,
        attribution,
        velocity,
        nps,
    ] = got.as_slice()
    else {
        return Err(anyhow!("the review ran {} reports, not 18", got.len()));
    };
    let programme = |r: &Report| {
        r.rows
            .iter()
            .position(|row| row.first().and_then(Value::as_str) == Some("(programme)"))
            .map_or(Value::Null, |i| value(r, i, "roi"))
    };
    let extra_num = |r: &Report, k: &str| r.extra.get(k).cloned().unwrap_or(Value::Null);
    // (group, metric, value, previous, source)
    let kpis: Vec<(&str, &str, Value, Value, &str)> = vec![
        (
            "impact",
            "pipeline",
            value(pipeline, 0, "pipeline"),
            value(pipeline, 0, "previous_pipeline"),
            "pipeline.pipeline",
        ),
        (
            "impact",
            "marketing_sourced_pipeline",
            value(pipeline, 0, "marketing_sourced_pipeline"),
            value(pipeline, 0, "previous_marketing_sourced_pipeline"),
            "pipeline.marketing_sourced_pipeline",
        ),
        (
            "impact",
            "revenue",
            value(pipeline, 0, "revenue"),
            value(pipeline, 0, "previous_revenue"),
            "pipeline.revenue",
        ),
        (
            "impact",
            "nrr",
            value(retention, 0, "nrr"),
            value(retention_prev, 0, "nrr"),
            "retention.nrr",
        ),
        (
            "impact",
            "roi",
            programme(roi),
            programme(roi_prev),
            "roi.roi (programme)",
        ),
        (
            "output",
            "engaged_accounts",
            count_positive(eng, "weighted_minutes"),
            count_positive(eng_prev, "weighted_minutes"),
            "engagement: accounts with weighted_minutes > 0",
        ),
        (
            "output",
            "engaged_target_accounts",
            count_positive(targets, "weighted_minutes"),
            count_positive(targets_prev, "weighted_minutes"),
            "engagement --segment is_target=true",
        ),
        (
            "output",
            "weighted_minutes",
            sum(eng, "weighted_minutes"),
            sum(eng_prev, "weighted_minutes"),
            "engagement: Σ weighted_minutes",
        ),
        (
            "output",
            "mqas",
            json!(mqa.rows.len()),
            json!(mqa_prev.rows.len()),
            "mqa at the period's last day",
        ),
        (
            "action",
            "leads",
            sum(funnel, "leads"),
            sum(funnel, "previous_leads"),
            "funnel: Σ leads",
        ),
        (
            "action",
            "meetings_held",
            sum(eng, "meetings_held"),
            sum(eng_prev, "meetings_held"),
            "engagement: Σ meetings_held",
        ),
        (
            "action",
            "opportunities",
            value(pipeline, 0, "opportunities"),
            value(pipeline, 0, "previous_opportunities"),
            "pipeline.opportunities",
        ),
        (
            "readiness",
            "newly_qualified",
            extra_num(follow, "newly_qualified"),
            extra_num(follow_prev, "newly_qualified"),
            "mqa --follow-up",
        ),
        (
            "readiness",
            "followed_up_share",
            extra_num(follow, "followed_up_share"),
            extra_num(follow_prev, "followed_up_share"),
            "mqa --follow-up",
        ),
        (
            "readiness",
            "median_hours",
            extra_num(follow, "median_hours"),
            extra_num(follow_prev, "median_hours"),
            "mqa --follow-up",
        ),
    ];
    let mut params = Map::new();
    params.insert("period".into(), json!(label));
    params.insert("start".into(), json!(period.start.to_string()));
    params.insert("end".into(), json!(period.end.to_string()));
    params.insert("previous_period".into(), json!(prev_label));
    params.insert("currency".into(), json!(config.finance.currency));
    let mut r = Report::new(
        "review",
        params,
        vec![
            Column::new("group", ColumnKind::Text),
            Column::new("metric", ColumnKind::Text),
            Column::new("value", ColumnKind::Number),
            Column::new("previous", ColumnKind::Number),
            Column::new("change_pct", ColumnKind::Number),
            Column::new("source", ColumnKind::Text),
        ],
    );
    for (group, metric, v, p, source) in kpis {
        let c = change_pct(&v, &p);
        r.rows
            .push(vec![json!(group), json!(metric), v, p, c, json!(source)]);
    }
    let mut top = eng.clone();
    top.rows.truncate(10);
    for (name, report) in [
        ("top_accounts", &top),
        ("target_heatmap", heatmap),
        ("attribution", attribution),
        ("pipeline", pipeline),
        ("velocity", velocity),
        ("retention", retention),
        ("nps", nps),
    ] {
        r.extra.insert(name.into(), report.to_json());
    }
    Ok(r)
}

pub fn run(
    root: &Path,
    period: &str,
    at: Option<chrono::NaiveDate>,
    output: Option<&PathBuf>,
    format: &str,
    lang: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let lang = match lang {
        Some(l) => Lang::parse(l).ok_or_else(|| anyhow!("--lang `{l}`: en or zh-CN"))?,
        None => Lang::En,
    };
    if !matches!(format, "html" | "json") {
        return Err(anyhow!("--format `{format}`: html or json"));
    }
    let started = std::time::Instant::now();
    let review = build(root, period, at)?;
    let text = if format == "json" {
        let mut buf = Vec::new();
        abmeter_outputs::render_json(&review, &mut buf)?;
        String::from_utf8(buf)?
    } else {
        abmeter_outputs::review::html(lang, &review, &root.display().to_string())
    };
    let label = review.params["period"]
        .as_str()
        .unwrap_or(period)
        .to_string();
    let path = match output {
        Some(p) => p.clone(),
        None if format == "json" => {
            print!("{text}");
            return Ok(ExitCode::SUCCESS);
        }
        None => PathBuf::from(format!("abmeter-review-{label}.html")),
    };
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "review of {label} written to {} in {:.2} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
