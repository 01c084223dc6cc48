//! One function per dashboard page: which reports it runs, and how it lays them out.
//! Pages choose and arrange; every number comes from a report unchanged.

use abmeter_model::Report;
use abmeter_model::report::ColumnKind;
use abmeter_outputs::html::{self, TableOptions, encode, fmt_value, kpi, numbers, texts};
use abmeter_outputs::i18n::Lang;
use abmeter_outputs::svg;
use axum::http::StatusCode;
use maud::{Markup, PreEscaped, html};
use serde_json::Value;

use super::{Ctx, controls, frame, with_query};
use crate::error::ApiError;

type Asked = (&'static str, Vec<(String, String)>);
type Got = Result<std::sync::Arc<Report>, ApiError>;

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A link from an account cell to the account page.
fn account_link(ctx: &Ctx) -> impl Fn(&str, &[Value], &Report) -> Option<String> + '_ {
    move |col, row, report| {
        if col != "account_id" && col != "account_name" {
            return None;
        }
        let id = report.column("account_id").and_then(|i| row[i].as_str())?;
        Some(ctx.link(&format!("/accounts/{}", encode(id)), &[]))
    }
}

/// A section: heading, the report's table (and chart), its downloads; or its error.
fn section(
    ctx: &Ctx,
    title: &str,
    id: &str,
    asked: &Asked,
    result: &Got,
    body: impl FnOnce(&Report) -> Markup,
) -> Markup {
    html! {
        section id=(id) {
            h2 { (title) }
            @match result {
                Ok(r) => { (body(r)) (ctx.downloads(asked.0, &asked.1)) }
                Err(e) => (ctx.failed(e)),
            }
        }
    }
}

/// A list the report carries beside its rows (`loss_reasons`), as a table with its own
/// download.
fn part(ctx: &Ctx, asked: &Asked, report: &Report, name: &str, title: &str) -> Markup {
    let items = report
        .extra
        .get(name)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let r = html::objects_report(name, &items);
    let link = account_link(ctx);
    let link = |c: &str, row: &[Value]| link(c, row, &r);
    let mut p = asked.1.clone();
    p.push(("part".into(), name.into()));
    html! {
        h2 id=(name) { (title) }
        (html::table(ctx.lang, &r, &TableOptions { link: Some(&link), limit: 50, id: name, ..Default::default() }))
        (ctx.downloads(asked.0, &p))
    }
}

fn table_of(ctx: &Ctx, r: &Report, id: &str, columns: Option<&[&str]>, limit: usize) -> Markup {
    let link = account_link(ctx);
    let link = |c: &str, row: &[Value]| link(c, row, r);
    html::table(
        ctx.lang,
        r,
        &TableOptions {
            columns,
            link: Some(&link),
            limit,
            id,
            ..Default::default()
        },
    )
}

/// KPI cards of a one-row report with `previous_<m>` and `<m>_change_pct` fields.
fn scorecard(lang: Lang, r: &Report, metrics: &[&str], href: Option<&str>) -> Markup {
    let Some(row) = r.rows.first() else {
        return html! { p.note { (lang.t("no_data")) } };
    };
    let get = |name: &str| r.column(name).map(|i| (r.columns[i].kind, &row[i]));
    html! {
        div.kpis {
            @for m in metrics {
                @if let Some((kind, v)) = get(m) {
                    @let prev = get(&format!("previous_{m}")).map(|(k, p)| fmt_value(m, k, p));
                    @let change = get(&format!("{m}_change_pct")).and_then(|(_, c)| c.as_f64());
                    (kpi(&lang.label(m), &fmt_value(m, kind, v), prev.as_deref(), change, href, lang))
                }
            }
        }
    }
}

fn count_where(r: &Report, column: &str, pred: impl Fn(&Value) -> bool) -> usize {
    r.column(column)
        .map_or(0, |i| r.rows.iter().filter(|row| pred(&row[i])).count())
}

fn positive(v: &Value) -> bool {
    v.as_f64().is_some_and(|x| x > 0.0)
}

fn pct_change(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| (now - before) / before * 100.0)
}

pub async fn overview(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let at = ctx.at();
    let asked: Vec<Asked> = vec![
        ("engagement", ctx.with_period(&[])),
        ("mqa", params(&[("at", &at)])),
        ("alerts", params(&[("at", &at)])),
        ("pipeline", ctx.with_period(&[])),
        ("trend", params(&[("at", &at), ("weeks", "26")])),
    ];
    let got = ctx.reports(asked.clone()).await;
    let (eng, mqa, alerts, pipeline, trend) = (&got[0], &got[1], &got[2], &got[3], &got[4]);
    let mut cards = Vec::new();
    if let Ok(e) = eng {
        let now = count_where(e, "weighted_minutes", positive);
        let before = count_where(e, "previous_weighted_minutes", positive);
        cards.push(kpi(
            lang.t("engaged_accounts"),
            &now.to_string(),
            Some(&before.to_string()),
            pct_change(now as f64, before as f64),
            Some(&ctx.link("/accounts", &[])),
            lang,
        ));
    }
    if let Ok(m) = mqa {
        let newly = count_where(m, "newly_qualified", |v| v == &Value::Bool(true));
        cards.push(kpi(
            lang.t("mqas"),
            &m.rows.len().to_string(),
            None,
            None,
            Some(&ctx.link("/mqa", &[])),
            lang,
        ));
        cards.push(kpi(
            lang.t("newly_qualified"),
            &newly.to_string(),
            None,
            None,
            Some(&ctx.link("/mqa", &[])),
            lang,
        ));
    }
    if let Ok(a) = alerts {
        let surges = count_where(a, "kind", |v| v == "surge");
        let declines = count_where(a, "kind", |v| v == "decline");
        cards.push(kpi(
            lang.t("alerts"),
            &format!("{surges} ▲ · {declines} ▼"),
            None,
            None,
            Some(&format!("{}#alerts", ctx.link("/mqa", &[]))),
            lang,
        ));
    }
    html! {
        (frame(ctx, "overview", lang.t("overview"), html! {
            (controls(ctx, &[], html! {}))
            div.kpis { @for c in &cards { (c) } }
            @match pipeline {
                Ok(p) => (scorecard(lang, p, &["pipeline", "revenue", "pipeline_coverage", "marketing_sourced_pipeline_pct", "win_rate"], Some(&ctx.link("/pipeline", &[])))),
                Err(e) => (ctx.failed(e)),
            }
            div.grid2 {
                (section(ctx, lang.t("engagement_trend"), "trend", &asked[4], trend, |r| html! {
                    div.chart { (html::trend_chart(lang, r, "overview-trend", lang.t("engagement_trend"))) }
                }))
                (section(ctx, lang.t("top_accounts"), "top", &asked[0], eng, |r| table_of(ctx, r, "top-accounts",
                    Some(&["account_name", "weighted_minutes", "engaged_contacts", "change_pct"]), 10)))
            }
        }))
    }
}

/// The list, or with `format=csv|json` the list as shown as a file: `Err((report, format))`.
pub async fn accounts(ctx: &Ctx) -> Result<Markup, (Report, String)> {
    let lang = ctx.lang;
    let at = ctx.at();
    let mut eng_params = ctx.with_period(&[]);
    for s in ctx.all("segment") {
        eng_params.push(("segment".into(), s.into()));
    }
    let asked: Vec<Asked> = vec![
        ("engagement", eng_params),
        ("mqa", params(&[("at", &at)])),
        // This week's alerts: the badges say what is happening now (the MQA page lists
        // the last four weeks).
        ("alerts", params(&[("at", &at)])),
        (
            "trend",
            params(&[("at", &at), ("by", "account"), ("weeks", "12")]),
        ),
    ];
    let got = ctx.reports(asked.clone()).await;
    let mut eng = match &got[0] {
        Ok(r) => (**r).clone(),
        Err(e) => return Ok(frame(ctx, "accounts", lang.t("accounts"), ctx.failed(e))),
    };
    let ids_of = |r: &Got, col: &str| -> Vec<(String, String)> {
        match r {
            Ok(r) => texts(r, "account_id")
                .into_iter()
                .zip(texts(r, col))
                .collect(),
            Err(_) => Vec::new(),
        }
    };
    let mqas: std::collections::HashSet<String> = ids_of(&got[1], "account_id")
        .into_iter()
        .map(|p| p.0)
        .collect();
    let mut alert_kinds: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (id, kind) in ids_of(&got[2], "kind") {
        let kinds = alert_kinds.entry(id).or_default();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let mut weekly: std::collections::HashMap<String, Vec<Option<f64>>> = Default::default();
    if let Ok(t) = &got[3] {
        for (id, v) in texts(t, "account_id")
            .into_iter()
            .zip(numbers(t, "weighted_minutes"))
        {
            weekly.entry(id).or_default().push(v);
        }
    }
    // Filters of the list itself: badges and a name search.
    let id_col = eng.column("account_id");
    let name_col = eng.column("account_name");
    let search = ctx.q("q").map(str::to_lowercase);
    let only_mqa = ctx.q("mqa").is_some();
    let only_alerts = ctx.q("alerts").is_some();
    eng.rows.retain(|row| {
        let id = id_col.and_then(|i| row[i].as_str()).unwrap_or_default();
        let name = name_col.and_then(|i| row[i].as_str()).unwrap_or_default();
        (!only_mqa || mqas.contains(id))
            && (!only_alerts || alert_kinds.contains_key(id))
            && search
                .as_ref()
                .is_none_or(|q| name.to_lowercase().contains(q) || id.to_lowercase().contains(q))
    });
    let sort = ctx
        .q("sort")
        .filter(|s| eng.column(s).is_some())
        .map(str::to_string);
    let desc = ctx.q("dir") != Some("asc");
    if let Some(i) = sort.as_ref().and_then(|s| eng.column(s)) {
        eng.rows.sort_by(|a, b| {
            let ord = match (a[i].as_f64(), b[i].as_f64()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Greater,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (None, None) => a[i].as_str().cmp(&b[i].as_str()),
            };
            if desc { ord.reverse() } else { ord }
        });
    }
    // The list as shown is itself downloadable.
    if let Some(format) = ctx.q("format") {
        eng.name = "accounts".into();
        return Err((eng, format.to_string()));
    }
    let keep: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "sort" | "dir" | "lang"))
        .cloned()
        .collect();
    let sort_href = |col: &str| {
        let mut p = keep.clone();
        p.push(("sort".into(), col.into()));
        let next_dir = if sort.as_deref() == Some(col) && desc {
            "asc"
        } else {
            "desc"
        };
        p.push(("dir".into(), next_dir.into()));
        with_query("/accounts", &p)
    };
    let link = account_link(ctx);
    let eng_ref = &eng;
    let link = |c: &str, row: &[Value]| link(c, row, eng_ref);
    let badges = |row: &[Value]| {
        let id = id_col.and_then(|i| row[i].as_str()).unwrap_or_default();
        let spark = weekly.get(id).map(|v| {
            svg::sparkline(
                &format!("spark-{id}"),
                &format!(
                    "{} · 12 × {}",
                    lang.label("weighted_minutes"),
                    lang.label("week")
                ),
                v,
                96,
                22,
            )
        });
        html! {
            @if mqas.contains(id) { span.badge.mqa { "MQA" } }
            @for k in alert_kinds.get(id).into_iter().flatten() {
                span class=(format!("badge {k}")) { (lang.t(if k == "surge" { "surge" } else { "decline" })) }
            }
            @if let Some(s) = spark { (PreEscaped(s)) }
        }
    };
    let limit: usize = ctx.q("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let mut download_pairs = ctx.query.clone();
    download_pairs.retain(|(k, _)| k != "format" && k != "lang");
    let filter_form = html! {
        label { (lang.t("segment"))
            input name="segment" value=(ctx.q("segment").unwrap_or_default()) placeholder="industry=Software" size="16";
        }
        label { (lang.t("search")) input name="q" value=(ctx.q("q").unwrap_or_default()) size="14"; }
        label { (lang.t("only_mqa")) input type="checkbox" name="mqa" value="1" checked[only_mqa]; }
        label { (lang.t("only_alerts")) input type="checkbox" name="alerts" value="1" checked[only_alerts]; }
    };
    Ok(frame(
        ctx,
        "accounts",
        lang.t("accounts"),
        html! {
            (controls(ctx, &["sort", "dir"], filter_form))
            p.note { (eng.rows.len()) " " (lang.t("accounts")) " · " (lang.t("period")) " " (eng.params.get("period").and_then(Value::as_str).unwrap_or_default()) }
            (html::table(lang, &eng, &TableOptions {
                columns: Some(&["account_name", "weighted_minutes", "previous_weighted_minutes", "change_pct", "engaged_contacts", "activities", "meetings_held"]),
                link: Some(&link),
                sort: Some(&sort_href),
                extra: Some((lang.t("badges"), &badges)),
                limit,
                id: "accounts",
            }))
            p.downloads {
                (lang.t("download")) ":"
                a href=(with_query("/accounts", &[download_pairs.clone(), vec![("format".into(), "csv".into())]].concat())) download { "CSV" }
                a href=(with_query("/accounts", &[download_pairs, vec![("format".into(), "json".into())]].concat())) download { "JSON" }
            }
        },
    ))
}

pub async fn account(ctx: &Ctx, id: &str) -> (StatusCode, Markup) {
    let lang = ctx.lang;
    let at = ctx.at();
    let segments: Vec<String> = ctx.all("segment").into_iter().map(String::from).collect();
    let mut timeline = params(&[("account", id), ("to", &at)]);
    for s in &segments {
        timeline.push(("segment".into(), s.clone()));
    }
    let asked: Vec<Asked> = vec![
        ("engagement", ctx.with_period(&[("account", id)])),
        (
            "trend",
            params(&[("account", id), ("at", &at), ("weeks", "26")]),
        ),
        ("heatmap", params(&[("account", id), ("at", &at)])),
        ("timeline", timeline),
        (
            "engagement",
            ctx.with_period(&[("account", id), ("by", "contact")]),
        ),
        ("mqa", params(&[("account", id), ("at", &at)])),
        // This week's alerts, as the badges of the accounts list.
        ("alerts", params(&[("account", id), ("at", &at)])),
        (
            "sql",
            params(&[(
                "q",
                &format!(
                    "SELECT id, name, type, stage, amount, created_at, close_date, is_won, source \
                     FROM opportunities WHERE account_id = '{}' ORDER BY created_at DESC, id",
                    id.replace('\'', "''")
                ),
            )]),
        ),
        (
            "attribution",
            ctx.with_period(&[("account", id), ("model", "rules")]),
        ),
    ];
    let got = ctx.reports(asked.clone()).await;
    let summary = match &got[0] {
        Ok(r) => r,
        Err(e) => {
            let status =
                if e.message.contains("no account") || e.message.contains("unknown account") {
                    StatusCode::NOT_FOUND
                } else {
                    e.status
                };
            return (
                status,
                frame(ctx, "accounts", lang.t("unknown_account"), ctx.failed(e)),
            );
        }
    };
    let name = got[3]
        .as_ref()
        .ok()
        .and_then(|t| {
            t.params
                .get("account_name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| id.to_string());
    let is_mqa = got[5].as_ref().is_ok_and(|m| !m.rows.is_empty());
    let alert_kinds: Vec<String> = got[6]
        .as_ref()
        .map(|a| texts(a, "kind"))
        .unwrap_or_default();
    let base = format!("/accounts/{}", encode(id));
    let cell_link = |dept: &str, seniority: &str| {
        format!(
            "{}#timeline",
            ctx.link(
                &base,
                &[
                    ("segment", &format!("department={dept}")),
                    ("segment", &format!("seniority={seniority}"))
                ]
            )
        )
    };
    let title = format!("{name} ({id})");
    let body = html! {
        (controls(ctx, &["segment"], html! {}))
        p {
            @if is_mqa { span.badge.mqa { "MQA" } }
            @for k in &alert_kinds { span class=(format!("badge {k}")) { (lang.t(if k == "surge" { "surge" } else { "decline" })) } }
        }
        (scorecard_plain(lang, summary, &["weighted_minutes", "minutes", "engaged_contacts", "activities", "meetings_held"]))
        (section(ctx, lang.t("engagement_trend"), "trend", &asked[1], &got[1], |r| html! {
            div.chart { (html::trend_chart(lang, r, "account-trend", lang.t("engagement_trend"))) }
        }))
        (section(ctx, lang.t("heatmap"), "heatmap", &asked[2], &got[2], |r| html! {
            p.note { (lang.t("heatmap_hint")) }
            @if let Some(c) = r.extra.get("coverage").and_then(Value::as_f64) {
                p { (lang.t("heatmap_coverage")) ": " (format!("{:.1} %", c * 100.0)) }
            }
            div.chart { (html::heatmap_chart(lang, r, "account-heatmap", Some(&cell_link))) }
        }))
        (timeline_section(ctx, &asked[3], &got[3], &base, &segments))
        (section(ctx, lang.t("contacts_by_engagement"), "contacts", &asked[4], &got[4], |r| {
            table_of(ctx, r, "contacts", Some(&["contact_name", "title", "weighted_minutes", "minutes", "activities", "meetings_held", "change_pct"]), 50)
        }))
        (section(ctx, lang.t("opportunities"), "opportunities", &asked[7], &got[7], |r| {
            table_of(ctx, r, "opportunities", None, 100)
        }))
        (section(ctx, lang.t("opportunity_attribution"), "attribution", &asked[8], &got[8], |r| {
            table_of(ctx, r, "account-attribution", None, 50)
        }))
    };
    (StatusCode::OK, frame(ctx, "accounts", &title, body))
}

/// KPI cards of a one-row report without previous values.
fn scorecard_plain(lang: Lang, r: &Report, metrics: &[&str]) -> Markup {
    let Some(row) = r.rows.first() else {
        return html! { p.note { (lang.t("no_data")) } };
    };
    html! {
        div.kpis {
            @for m in metrics {
                @if let Some(i) = r.column(m) {
                    (kpi(&lang.label(m), &fmt_value(m, r.columns[i].kind, &row[i]), None, None, None, lang))
                }
            }
        }
    }
}

/// The account's activities, newest week first, grouped by ISO week, with filters.
fn timeline_section(
    ctx: &Ctx,
    asked: &Asked,
    result: &Got,
    base: &str,
    segments: &[String],
) -> Markup {
    let lang = ctx.lang;
    let Ok(r) = result else {
        return section(
            ctx,
            lang.t("timeline"),
            "timeline",
            asked,
            result,
            |_| html! {},
        );
    };
    let chosen = |dim: &str| {
        segments
            .iter()
            .find_map(|s| s.strip_prefix(&format!("{dim}=")))
            .unwrap_or_default()
            .to_string()
    };
    let options = |col: &str| {
        let mut v: Vec<String> = texts(r, col)
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    // Rows by the Monday of their week.
    let stamps = texts(r, "timestamp");
    let mut weeks: Vec<(String, Report)> = Vec::new();
    for (i, ts) in stamps.iter().enumerate() {
        let monday = ts
            .get(..10)
            .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
            .map(|d| {
                use chrono::Datelike;
                (d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))).to_string()
            })
            .unwrap_or_default();
        if weeks.last().is_none_or(|(w, _)| *w != monday) {
            let mut empty = Report::new("timeline", Default::default(), r.columns.clone());
            empty.view = r.view.clone();
            weeks.push((monday.clone(), empty));
        }
        if let Some((_, w)) = weeks.last_mut() {
            w.rows.push(r.rows[i].clone());
        }
    }
    weeks.reverse();
    let series = html::objects_report(
        "series",
        r.extra
            .get("series")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    );
    let shown = [
        "timestamp",
        "contact_name",
        "title",
        "department",
        "seniority",
        "type",
        "channel",
        "campaign_name",
        "weighted_minutes",
    ];
    // At most 400 rows on the page, newest weeks first; the download has them all.
    let mut left: usize = 400;
    let limits: Vec<usize> = weeks
        .iter()
        .map(|(_, w)| {
            let n = left.min(w.rows.len());
            left -= n;
            n
        })
        .collect();
    html! {
        section id="timeline" {
            h2 { (lang.t("timeline")) }
            form.controls method="get" action=(base) {
                @for (key, label) in [("department", "department"), ("seniority", "seniority"), ("type", "activity_type"), ("channel", "channel")] {
                    label { (lang.t(label))
                        select name="segment" {
                            option value="" { (lang.t("all")) }
                            @for o in options(key) {
                                @let v = format!("{key}={o}");
                                option value=(v) selected[chosen(key) == o] { (o) }
                            }
                        }
                    }
                }
                @for k in ["period", "at"] { @if let Some(v) = ctx.q(k) { input type="hidden" name=(k) value=(v); } }
                button type="submit" { (lang.t("filter")) }
                @if !segments.is_empty() { a href=(format!("{}#timeline", ctx.link(base, &[]))) { (lang.t("clear_filters")) } }
            }
            @if !segments.is_empty() {
                p.filtered { (lang.t("filtered_by")) ": " @for s in segments { span.badge data-segment=(s) { (s) } } }
            }
            @if !series.rows.is_empty() {
                div.chart { (PreEscaped(svg::bar_chart(&svg::BarChart {
                    id: "timeline-series".into(),
                    title: format!("{} · {}", lang.t("timeline"), lang.label("weighted_minutes")),
                    labels: texts(&series, "day"),
                    series: vec![svg::Series { name: lang.label("weighted_minutes"), values: numbers(&series, "weighted_minutes") }],
                    unit: lang.t("minutes_unit").into(),
                    height: 160,
                    words: html::chart_words(lang),
                ..Default::default()
                }))) }
            }
            @if weeks.is_empty() { p.note { (lang.t("no_data")) } }
            @for ((monday, rows), limit) in weeks.iter().zip(limits) {
                @if limit > 0 {
                    p.week { (lang.t("week_of")) " " (monday) " · " (rows.rows.len()) " " (lang.t("rows")) }
                    (html::table(lang, rows, &TableOptions { columns: Some(&shown), limit, id: "", ..Default::default() }))
                }
            }
            (ctx.downloads(asked.0, &asked.1))
        }
    }
}

pub async fn mqa(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let at = ctx.at();
    let asked: Vec<Asked> = vec![
        ("mqa", params(&[("at", &at)])),
        ("alerts", params(&[("at", &at), ("weeks", "4")])),
        (
            "mqa",
            params(&[("at", &at), ("follow_up", ""), ("period", ctx.period())]),
        ),
    ];
    let got = ctx.reports(asked.clone()).await;
    frame(
        ctx,
        "mqa_alerts",
        lang.t("mqa_alerts"),
        html! {
            (controls(ctx, &[], html! {}))
            (section(ctx, lang.t("mqas"), "mqas", &asked[0], &got[0], |r| table_of(ctx, r, "mqa-list", None, 200)))
            (section(ctx, lang.t("alerts"), "alerts", &asked[1], &got[1], |r| table_of(ctx, r, "alert-list",
                Some(&["kind", "account_name", "week", "current", "baseline", "ratio", "z", "top_contacts", "top_types"]), 200)))
            (section(ctx, lang.t("readiness"), "follow-up", &asked[2], &got[2], |r| html! {
                div.kpis {
                    @for k in ["newly_qualified", "followed_up", "followed_up_share", "median_hours"] {
                        @if let Some(v) = r.extra.get(k) {
                            (kpi(&lang.label(k), &fmt_value(k, ColumnKind::Number, v), None, None, None, lang))
                        }
                    }
                }
                (table_of(ctx, r, "follow-up", None, 100))
            }))
        },
    )
}

fn by_select(ctx: &Ctx, choices: &[&str]) -> Markup {
    let current = ctx.q("by").unwrap_or(choices[0]);
    html! {
        label { (ctx.lang.t("by"))
            select name="by" { @for c in choices { option value=(c) selected[*c == current] { (ctx.lang.label(c)) } } }
        }
    }
}

pub async fn channels(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let by = ctx.q("by").unwrap_or("channel").to_string();
    let asked: Vec<Asked> = vec![("channels", ctx.with_period(&[("by", &by)]))];
    let got = ctx.reports(asked.clone()).await;
    let label = by.clone();
    frame(
        ctx,
        "channels",
        lang.t("channels"),
        html! {
            (controls(ctx, &[], by_select(ctx, &["channel", "campaign"])))
            (section(ctx, lang.t("channel_kpis"), "channels", &asked[0], &got[0], |r| html! {
                div.chart { (html::bar_chart(lang, r, "channel-clicks", &format!("{} / {}", lang.label("impressions"), lang.label("clicks")), &label, &["clicks", "leads"], false)) }
                (table_of(ctx, r, "channel-table", Some(&[label.as_str(), "impressions", "clicks", "spend", "ctr", "cpm", "cpc", "cpl", "view_rate", "completion_rate", "accounts_reached", "target_reach_pct", "clicks_change_pct"]), 100))
            }))
            @if let Ok(r) = &got[0] {
                (part(ctx, &asked[0], r, "email", &lang.label("email")))
                (part(ctx, &asked[0], r, "social", &lang.label("social")))
            }
        },
    )
}

pub async fn web(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let asked: Vec<Asked> = vec![("web", ctx.with_period(&[]))];
    let got = ctx.reports(asked.clone()).await;
    frame(
        ctx,
        "web",
        lang.t("web"),
        html! {
            (controls(ctx, &[], html! {}))
            (section(ctx, lang.t("web_kpis"), "web", &asked[0], &got[0], |r| html! {
                (scorecard(lang, r, &["sessions", "page_views", "new_visitor_pct", "pages_per_session", "avg_session_minutes", "bounce_rate", "scroll_50_pct", "scroll_100_pct"], None))
                @if let Some(n) = r.extra.get("accounts_visiting") {
                    p { (lang.label("accounts_visiting")) ": " (fmt_value("accounts_visiting", ColumnKind::Integer, n)) }
                }
            }))
            @if let Ok(r) = &got[0] {
                (part(ctx, &asked[0], r, "sessions_by_channel", &lang.label("sessions_by_channel")))
                (part(ctx, &asked[0], r, "visits_by_account", &lang.label("visits_by_account")))
            }
        },
    )
}

pub async fn funnel(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let by = ctx.q("by").unwrap_or("lead_source").to_string();
    let asked: Vec<Asked> = vec![("funnel", ctx.with_period(&[("by", &by)]))];
    let got = ctx.reports(asked.clone()).await;
    let label = by.clone();
    frame(
        ctx,
        "funnel",
        lang.t("funnel"),
        html! {
            (controls(ctx, &[], by_select(ctx, &["lead_source", "channel", "campaign"])))
            (section(ctx, lang.t("funnel_kpis"), "funnel", &asked[0], &got[0], |r| {
                let sum = |c: &str| numbers(r, c).into_iter().flatten().sum::<f64>();
                let meetings = r.extra.get("accounts_with_meeting_held").and_then(Value::as_f64).unwrap_or(0.0);
                let opps = r.extra.get("accounts_with_opportunity_after").and_then(Value::as_f64).unwrap_or(0.0);
                html! {
                    div.chart { (PreEscaped(svg::funnel(&svg::Funnel {
                        id: "funnel-chart".into(),
                        title: lang.t("funnel").into(),
                        stages: vec![
                            (lang.label("leads"), sum("leads")),
                            (lang.label("mqls"), sum("mqls")),
                            (lang.label("accounts_with_meeting_held"), meetings),
                            (lang.label("accounts_with_opportunity_after"), opps),
                        ],
                        words: html::chart_words(lang),
                    ..Default::default()
                    }))) }
                    (table_of(ctx, r, "funnel-table", Some(&[label.as_str(), "leads", "mqls", "cost", "cost_per_lead", "cost_per_mql", "target_account_pct", "icp_pct", "leads_change_pct", "mqls_change_pct"]), 100))
                    @if let Some(p) = r.extra.get("meeting_to_opp_pct") {
                        p { (lang.label("meeting_to_opp_pct")) ": " (fmt_value("meeting_to_opp_pct", ColumnKind::Number, p)) }
                    }
                }
            }))
            @if let Ok(r) = &got[0] { (part(ctx, &asked[0], r, "meetings", lang.t("meetings"))) }
        },
    )
}

pub async fn pipeline(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let asked: Vec<Asked> = vec![
        ("pipeline", ctx.with_period(&[])),
        ("velocity", ctx.with_period(&[])),
    ];
    let got = ctx.reports(asked.clone()).await;
    frame(
        ctx,
        "pipeline",
        lang.t("pipeline"),
        html! {
            (controls(ctx, &[], html! {}))
            (section(ctx, lang.t("pipeline_kpis"), "pipeline", &asked[0], &got[0], |r| scorecard(lang, r, &[
                "opportunities", "pipeline", "marketing_sourced_pipeline", "marketing_sourced_pipeline_pct", "revenue",
                "marketing_sourced_revenue", "won", "lost", "win_rate", "avg_deal_size", "acv", "open_pipeline", "pipeline_coverage", "revenue_target_pct",
            ], None)))
            @if let Ok(r) = &got[0] {
                @let by_source = html::objects_report("by_source", r.extra.get("by_source").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default());
                div.chart { (html::bar_chart(lang, &by_source, "pipeline-by-source", lang.t("by_source"), "source", &["pipeline", "revenue"], false)) }
                (part(ctx, &asked[0], r, "by_source", lang.t("by_source")))
                (part(ctx, &asked[0], r, "by_type", lang.t("by_type")))
                (part(ctx, &asked[0], r, "loss_reasons", lang.t("loss_reasons")))
            }
            (section(ctx, lang.t("velocity"), "velocity", &asked[1], &got[1], |r| html! {
                (table_of(ctx, r, "velocity-table", None, 100))
            }))
            @if let Ok(r) = &got[1] {
                (part(ctx, &asked[1], r, "stages", &lang.label("stages")))
            }
        },
    )
}

/// The models `attribution --model` takes, in the order analysts compare them.
const MODELS: &[&str] = &[
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
    "markov",
    "shapley",
    "linear_unique",
];

pub async fn attribution(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let model = ctx.q("model").unwrap_or("linear").to_string();
    let by = ctx.q("by").unwrap_or("channel").to_string();
    let credit = ctx.q("credit").unwrap_or("pipeline").to_string();
    let pick = |m: &str| ctx.with_period(&[("model", m), ("by", &by), ("credit", &credit)]);
    let asked: Vec<Asked> = vec![("attribution", pick(&model)), ("attribution", pick("all"))];
    let got = ctx.reports(asked.clone()).await;
    let form = html! {
        label { (lang.t("model"))
            select name="model" { @for m in MODELS { option value=(m) selected[*m == model] { (m) } } }
        }
        (by_select(ctx, &["channel", "campaign"]))
        label { (lang.t("credit"))
            select name="credit" { @for c in ["pipeline", "revenue"] { option value=(c) selected[c == credit] { (lang.label(c)) } } }
        }
    };
    let dim = by.clone();
    frame(
        ctx,
        "attribution",
        lang.t("attribution"),
        html! {
            (controls(ctx, &[], form))
            p.note { (lang.t("attribution_hint")) }
            (section(ctx, &format!("{} · {model}", lang.t("attribution")), "model", &asked[0], &got[0], |r| html! {
                div.chart { (html::bar_chart(lang, r, "attribution-chart", &format!("{model} · {}", lang.label(&credit)), &dim, &[credit.as_str()], false)) }
                (table_of(ctx, r, "attribution-table", None, 100))
            }))
            (section(ctx, lang.t("side_by_side"), "all-models", &asked[1], &got[1], |r| table_of(ctx, r, "attribution-all", None, 100)))
        },
    )
}

pub async fn customers(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let at = ctx.at();
    let asked: Vec<Asked> = vec![
        ("retention", params(&[("at", &at)])),
        ("clv", params(&[("at", &at), ("limit", "20")])),
        ("nps", ctx.with_period(&[])),
        ("expansion", ctx.with_period(&[])),
    ];
    let got = ctx.reports(asked.clone()).await;
    frame(
        ctx,
        "customers",
        lang.t("customers"),
        html! {
            (controls(ctx, &[], html! {}))
            (section(ctx, lang.t("retention"), "retention", &asked[0], &got[0], |r| html! {
                (scorecard_plain(lang, r, &["arr_start", "arr_end", "nrr", "grr", "expansion_mrr", "contraction_mrr", "churned_mrr", "churned_accounts", "new_mrr"]))
                @let series = html::objects_report("nrr_series", r.extra.get("nrr_series").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default());
                div.chart { (PreEscaped(svg::line_chart(&svg::LineChart {
                    id: "nrr-chart".into(),
                    title: lang.t("nrr_series").into(),
                    x_labels: texts(&series, "month"),
                    series: vec![
                        svg::Series { name: lang.label("nrr"), values: numbers(&series, "nrr") },
                        svg::Series { name: lang.label("grr"), values: numbers(&series, "grr") },
                    ],
                    words: html::chart_words(lang),
                    ..Default::default()
                }))) }
            }))
            @if let Ok(r) = &got[0] { (part(ctx, &asked[0], r, "nrr_series", lang.t("nrr_series"))) }
            (section(ctx, lang.t("clv"), "clv", &asked[1], &got[1], |r| html! {
                @if let Some(Value::Object(simple)) = r.extra.get("simple") {
                    div.kpis { @for (k, v) in simple { (kpi(&lang.label(k), &fmt_value(k, ColumnKind::Number, v), None, None, None, lang)) } }
                }
                @if let Some(w) = r.extra.get("model").and_then(|m| m.get("error").or_else(|| m.get("warning"))).and_then(Value::as_str) {
                    p.note { (lang.t("clv_model")) ": " (w) }
                }
                (table_of(ctx, r, "clv-table", None, 20))
            }))
            (section(ctx, lang.t("nps"), "nps", &asked[2], &got[2], |r| scorecard(lang, r, &["nps", "responses", "promoters", "passives", "detractors", "csat"], None)))
            @if let Ok(r) = &got[2] { (part(ctx, &asked[2], r, "nps_fell", lang.t("nps_fell"))) }
            (section(ctx, lang.t("expansion"), "expansion", &asked[3], &got[3], |r| table_of(ctx, r, "expansion-table",
                Some(&["product", "type", "created", "pipeline", "won", "revenue", "lost", "win_rate", "created_change_pct"]), 50)))
            @if let Ok(r) = &got[3] {
                (part(ctx, &asked[3], r, "cross_sell_signals", &lang.label("cross_sell_signals")))
                (part(ctx, &asked[3], r, "upsell_signals", &lang.label("upsell_signals")))
            }
        },
    )
}

/// The what-if inputs, their labels and defaults (a mid-size programme).
const WHAT_IF: &[(&str, &str)] = &[
    ("accounts", "500"),
    ("engagement_rate", "0.4"),
    ("opportunity_rate", "0.15"),
    ("win_rate", "0.25"),
    ("deal_size", "40000"),
    ("cost", "250000"),
];

pub async fn roi(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let model = ctx.q("model").unwrap_or("linear").to_string();
    let mut what_if = vec![("what_if".to_string(), String::new())];
    for (k, d) in WHAT_IF {
        what_if.push((k.to_string(), ctx.q(k).unwrap_or(d).to_string()));
    }
    let asked: Vec<Asked> = vec![
        ("roi", ctx.with_period(&[("model", &model)])),
        ("roi", what_if.clone()),
    ];
    let got = ctx.reports(asked.clone()).await;
    let form = html! {
        form.controls method="get" action="/roi" id="what-if" {
            @for (k, _) in &what_if[1..] {
                label { (lang.label(k)) input name=(k) value=(v_of(&what_if, k)) inputmode="decimal" size="9"; }
            }
            @for k in ["period", "at", "model"] { @if let Some(v) = ctx.q(k) { input type="hidden" name=(k) value=(v); } }
            button type="submit" { (lang.t("compute")) }
        }
    };
    frame(
        ctx,
        "roi",
        lang.t("roi"),
        html! {
            (controls(ctx, &WHAT_IF.iter().map(|(k, _)| *k).collect::<Vec<_>>(), html! {
                label { (lang.t("model"))
                    select name="model" { @for m in MODELS { option value=(m) selected[*m == model] { (m) } } }
                }
            }))
            (section(ctx, lang.t("roi_measured"), "measured", &asked[0], &got[0], |r| html! {
                div.chart { (html::bar_chart(lang, r, "roi-chart", &format!("{} / {}", lang.label("revenue"), lang.label("cost")), "channel", &["revenue", "cost"], false)) }
                (table_of(ctx, r, "roi-table", None, 100))
            }))
            section id="calculator" {
                h2 { (lang.t("roi_what_if")) }
                p.note { (lang.t("roi_hint")) }
                (form)
                @match &got[1] {
                    Ok(r) => { (scorecard_plain(lang, r, &["engaged_accounts", "opportunities", "pipeline", "deals_won", "revenue", "roas", "roi", "break_even_win_rate"])) (ctx.downloads(asked[1].0, &asked[1].1)) }
                    Err(e) => (ctx.failed(e)),
                }
            }
        },
    )
}

fn v_of<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}
