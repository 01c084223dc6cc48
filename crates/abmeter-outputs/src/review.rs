//! The business-review file (`abmeter report`): one HTML document with its styles and
//! charts inline, nothing fetched, laid out to print on A4 from a browser.
//!
//! It renders the `review` report as it comes: the KPI rows grouped as expansion teams
//! review them (impact, output, action, team readiness), then the sections the report
//! carries (top accounts, the target accounts' heatmap, attribution, pipeline, velocity,
//! retention, NPS).

use abmeter_model::Report;
use abmeter_model::report::ColumnKind;
use maud::{Markup, PreEscaped, html};
use serde_json::Value;

use crate::html::{self, TableOptions, fmt_value, objects_report};
use crate::i18n::Lang;
use crate::svg;

const GROUPS: [&str; 4] = ["impact", "output", "action", "readiness"];

/// A section of the review (an extra field holding a report's JSON) as a report.
fn section(review: &Report, name: &str) -> Option<(Report, Value)> {
    let json = review.extra.get(name)?;
    let rows = json.get("rows")?.as_array()?;
    Some((objects_report(name, rows), json.clone()))
}

fn list(json: &Value, name: &str) -> Report {
    objects_report(
        name,
        json.get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    )
}

fn kpi_value(metric: &str, v: &Value) -> String {
    // Shares and ratios are fractions in the reports; a review reads them as percentages.
    match (metric, v.as_f64()) {
        ("nrr" | "roi" | "followed_up_share", Some(f)) => format!("{:.1} %", f * 100.0),
        _ => fmt_value(metric, ColumnKind::Number, v),
    }
}

/// The review as a complete HTML document.
pub fn html(lang: Lang, review: &Report, workspace: &str) -> String {
    let param = |k: &str| {
        review
            .params
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let title = format!("{} · {}", lang.t("review_title"), param("period"));
    let (g, m, v, p, c) = (
        review.column("group"),
        review.column("metric"),
        review.column("value"),
        review.column("previous"),
        review.column("change_pct"),
    );
    let cell = |row: &[Value], i: Option<usize>| i.map(|i| row[i].clone()).unwrap_or(Value::Null);
    let kpis = html! {
        div.grid2 {
            @for group in GROUPS {
                section {
                    h2 { (lang.t(group)) }
                    table.report id=(format!("kpi-{group}")) {
                        thead { tr {
                            th { (lang.t("kpi")) }
                            th.num { (param("period")) }
                            th.num { (param("previous_period")) }
                            th.num { (lang.t("change")) }
                        } }
                        tbody {
                            @for row in review.rows.iter().filter(|r| cell(r, g).as_str() == Some(group)) {
                                @let metric = cell(row, m).as_str().unwrap_or_default().to_string();
                                @let change = cell(row, c).as_f64();
                                tr data-metric=(metric) {
                                    td { (lang.label(&metric)) }
                                    td.num { (kpi_value(&metric, &cell(row, v))) }
                                    td.num { (kpi_value(&metric, &cell(row, p))) }
                                    td.num class=[change.map(|x| if x >= 0.0 { "up" } else { "down" })] {
                                        @if let Some(x) = change { (format!("{}{:.1} %", if x >= 0.0 { "▲ " } else { "▼ " }, x.abs())) } @else { "–" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        p.note {
            (param("start")) " – " (param("end")) " · " (lang.t("previous_period")) ": " (param("previous_period"))
            " · " (lang.t("workspace")) ": " (workspace)
        }
        (kpis)
        @if let Some((top, _)) = section(review, "top_accounts") {
            h2 { (lang.t("top_accounts")) }
            (html::bar_chart(lang, &top, "review-top", lang.t("top_accounts"), "account_name", &["weighted_minutes"], false))
            (html::table(lang, &top, &TableOptions { columns: Some(&["account_name", "weighted_minutes", "previous_weighted_minutes", "change_pct", "engaged_contacts", "meetings_held"]), ..Default::default() }))
        }
        @if let Some((heat, json)) = section(review, "target_heatmap") {
            h2 { (lang.t("target_heatmap")) }
            @if let Some(cov) = json.get("coverage").and_then(Value::as_f64) {
                p { (lang.t("heatmap_coverage")) ": " (format!("{:.1} %", cov * 100.0)) }
            }
            (html::heatmap_chart(lang, &heat, "review-heatmap", None))
        }
        @if let Some((attr, _)) = section(review, "attribution") {
            h2 { (lang.t("attribution_by_channel")) }
            (html::bar_chart(lang, &attr, "review-attribution", lang.t("attribution_by_channel"), "channel", &["first_touch", "linear", "w_shaped"], false))
            (html::table(lang, &attr, &TableOptions::default()))
        }
        @if let Some((pipe, json)) = section(review, "pipeline") {
            h2 { (lang.t("pipeline_kpis")) }
            (html::table(lang, &pipe, &TableOptions { columns: Some(&["opportunities", "pipeline", "marketing_sourced_pipeline_pct", "revenue", "won", "lost", "win_rate", "avg_deal_size", "pipeline_coverage"]), ..Default::default() }))
            @let by_source = list(&json, "by_source");
            (html::bar_chart(lang, &by_source, "review-by-source", lang.t("by_source"), "source", &["pipeline", "revenue"], false))
        }
        @if let Some((vel, _)) = section(review, "velocity") {
            h2 { (lang.t("velocity")) }
            (html::table(lang, &vel, &TableOptions::default()))
        }
        @if let Some((ret, json)) = section(review, "retention") {
            h2 { (lang.t("retention")) }
            (html::table(lang, &ret, &TableOptions { columns: Some(&["arr_start", "arr_end", "nrr", "grr", "expansion_mrr", "contraction_mrr", "churned_mrr", "churned_accounts", "new_mrr"]), ..Default::default() }))
            @let series = list(&json, "nrr_series");
            (PreEscaped(svg::line_chart(&svg::LineChart {
                id: "review-nrr".into(),
                title: lang.t("nrr_series").into(),
                x_labels: html::texts(&series, "month"),
                series: vec![svg::Series { name: lang.label("nrr"), values: html::numbers(&series, "nrr") }],
                words: html::chart_words(lang),
                ..Default::default()
            })))
        }
        @if let Some((nps, json)) = section(review, "nps") {
            h2 { (lang.t("nps")) }
            (html::table(lang, &nps, &TableOptions { columns: Some(&["nps", "previous_nps", "responses", "promoters", "passives", "detractors", "csat", "previous_csat"]), ..Default::default() }))
            @let fell = list(&json, "nps_fell");
            @if !fell.rows.is_empty() {
                h2 { (lang.t("nps_fell")) }
                (html::table(lang, &fell, &TableOptions { limit: 15, ..Default::default() }))
            }
        }
        p.note { (lang.t("definitions")) }
    };
    let doc: Markup = html::document(lang, &title, html! {}, html! { h1 { (title) } (body) });
    doc.into_string()
}
