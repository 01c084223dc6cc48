//! Reports as HTML: the page frame, tables, KPI cards and the adapters from a report to its
//! chart. The dashboard (abmeter-server) and the business-review file (`abmeter report`)
//! are built from these, so a number looks the same everywhere.
//!
//! Pages are plain server-rendered HTML with inline CSS and SVG: no script, no web font,
//! nothing fetched, so they work offline, in a mail attachment and printed to PDF.

use abmeter_model::report::{Column, ColumnKind, Report};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Map, Value};

use crate::i18n::Lang;
use crate::svg;

/// The stylesheet of every page and report file: light and dark by the reader's setting,
/// and a print layout without navigation.
pub const PAGE_CSS: &str = r#"
:root { --bg:#ffffff; --fg:#1d2330; --muted:#5d6676; --line:#d9dee7; --card:#f5f7fa;
  --accent:#0b63c5; --up:#1a7f37; --down:#c62828; --badge:#e8eefc; --badge-fg:#17407e;
  --warn:#fff4e5; --warn-fg:#8a4b00; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#12161d; --fg:#e6e9ef; --muted:#a3acba; --line:#2c3440; --card:#1b212b;
    --accent:#6cb0ff; --up:#56d37a; --down:#ff7b72; --badge:#20304d; --badge-fg:#b9d3ff;
    --warn:#3a2a10; --warn-fg:#ffcf8a; }
}
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
header.top { display:flex; flex-wrap:wrap; align-items:center; gap:.4rem 1rem; padding:.6rem 1.2rem;
  border-bottom:1px solid var(--line); background:var(--card); }
header.top .brand { font-weight:700; margin-right:.5rem; color:var(--fg); }
nav.pages a { padding:.2rem .45rem; border-radius:4px; white-space:nowrap; }
nav.pages a.active { background:var(--accent); color:var(--bg); }
header.top .lang { margin-left:auto; }
main { padding:1rem 1.2rem 2rem; max-width:1280px; }
h1 { font-size:1.45rem; margin:.2rem 0 .8rem; } h2 { font-size:1.1rem; margin:1.6rem 0 .5rem; }
form.controls { display:flex; flex-wrap:wrap; gap:.5rem .9rem; align-items:flex-end; margin:.2rem 0 1rem;
  padding:.6rem .8rem; background:var(--card); border:1px solid var(--line); border-radius:6px; }
form.controls label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); gap:.15rem; }
input, select, button { font:inherit; color:var(--fg); background:var(--bg); border:1px solid var(--line);
  border-radius:4px; padding:.25rem .45rem; }
button { background:var(--accent); color:var(--bg); border-color:var(--accent); cursor:pointer; }
.kpis { display:grid; grid-template-columns:repeat(auto-fill,minmax(190px,1fr)); gap:.7rem; }
.kpi { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.6rem .8rem; }
.kpi .label { color:var(--muted); font-size:.82rem; }
.kpi .value { font-size:1.45rem; font-weight:650; display:block; color:var(--fg); }
.kpi .prev { color:var(--muted); font-size:.8rem; }
.up { color:var(--up); } .down { color:var(--down); }
.table-wrap { overflow-x:auto; }
table.report { border-collapse:collapse; font-size:.86rem; margin:.3rem 0; }
table.report th, table.report td { padding:.25rem .55rem; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:top; }
table.report th { color:var(--muted); font-weight:600; white-space:nowrap; }
table.report td.num, table.report th.num { text-align:right; font-variant-numeric:tabular-nums;
  white-space:nowrap; }
table.report td[data-field=period], table.report td[data-field=week],
table.report td[data-field=timestamp], table.report td[data-field=month] { white-space:nowrap; }
table.report td svg.ch-sparkline { vertical-align:middle; margin-left:.2rem; }
table.report tr:hover td { background:var(--card); }
.badge { display:inline-block; font-size:.72rem; padding:0 .4rem; border-radius:9px; margin-right:.2rem;
  background:var(--badge); color:var(--badge-fg); white-space:nowrap; }
.badge.surge { background:var(--up); color:var(--bg); } .badge.decline { background:var(--down); color:var(--bg); }
.downloads { font-size:.8rem; color:var(--muted); margin:.2rem 0 .6rem; }
.downloads a { margin-left:.4rem; }
.note { color:var(--muted); font-size:.85rem; }
.error { background:var(--warn); color:var(--warn-fg); border-radius:6px; padding:.6rem .8rem; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:1rem 1.6rem; }
.chart, svg.ch:not(.ch-sparkline) { max-width:880px; display:block; }
.week { margin:.8rem 0 0; font-weight:600; }
@media print {
  :root { --bg:#fff; --fg:#000; --muted:#444; --line:#bbb; --card:#fff; --accent:#000; }
  header.top, form.controls, .downloads { display:none; }
  main { max-width:none; padding:0; }
  h2 { break-after:avoid; } .kpi, table.report tr, svg { break-inside:avoid; }
}
"#;

/// The words charts write themselves, in `lang`.
pub fn chart_words(lang: Lang) -> svg::Words {
    svg::Words {
        no_data: lang.t("chart_no_data").into(),
        baseline: lang.t("chart_baseline").into(),
        range: lang.t("chart_range").into(),
        ideal: lang.t("chart_ideal").into(),
        blind_spot: lang.t("chart_blind_spot").into(),
        blind_spots: lang.t("blind_spots").into(),
    }
}

/// A complete HTML document: the head with the styles, then `header` and `body`.
pub fn document(lang: Lang, title: &str, header: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · abmeter" }
                style { (PreEscaped(PAGE_CSS)) (PreEscaped(svg::CHART_CSS)) }
            }
            body {
                (header)
                main { (body) }
            }
        }
    }
}

/// A report value as a person reads it: numbers grouped with two decimals (as the terminal
/// tables), `_pct` fields with a percent sign, booleans as yes/no marks, null as a dash.
pub fn fmt_value(column: &str, kind: ColumnKind, v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(b) => if *b { "✓" } else { "" }.into(),
        // 2026-09-30T14:41:08Z → 2026-09-30 14:41 (UTC, as every timestamp here).
        Value::String(s) if kind == ColumnKind::Timestamp && s.len() >= 16 => {
            s[..16].replacen('T', " ", 1)
        }
        Value::Number(n) if column.ends_with("_pct") => {
            format!(
                "{} %",
                crate::display_cell(kind, &Value::from(n.as_f64().unwrap_or(0.0)))
            )
        }
        other => crate::display_cell(kind, other),
    }
}

/// The link of a cell: (column, row) → href.
pub type CellLink<'a> = &'a dyn Fn(&str, &[Value]) -> Option<String>;
/// A heatmap cell's drill-down: (department, seniority) → href.
pub type CellDrill<'a> = &'a dyn Fn(&str, &str) -> String;
/// A last column: its header, and its cell of a row.
pub type ExtraColumn<'a> = (&'a str, &'a dyn Fn(&[Value]) -> Markup);

/// How a table shows a report: which columns, links from cells, sortable headers, extra
/// leading cells (badges, sparklines) and a row limit.
#[derive(Default)]
pub struct TableOptions<'a> {
    /// Columns shown, in this order (default: all).
    pub columns: Option<&'a [&'a str]>,
    pub link: Option<CellLink<'a>>,
    /// The href that sorts by a column (makes headers links).
    pub sort: Option<&'a dyn Fn(&str) -> String>,
    pub extra: Option<ExtraColumn<'a>>,
    /// At most this many rows (0: all); the rest are in the download.
    pub limit: usize,
    /// The table element's id (for tests and in-page links).
    pub id: &'a str,
}

/// The report's rows as an HTML table.
pub fn table(lang: Lang, report: &Report, opts: &TableOptions) -> Markup {
    let shown: Vec<(usize, &Column)> = match opts.columns {
        Some(names) => names
            .iter()
            .filter_map(|n| report.column(n).map(|i| (i, &report.columns[i])))
            .collect(),
        None => report.columns.iter().enumerate().collect(),
    };
    if report.rows.is_empty() {
        return html! { p.note { (lang.t("no_data")) } };
    }
    let limit = if opts.limit == 0 {
        report.rows.len()
    } else {
        opts.limit
    };
    let numeric = |c: &Column| matches!(c.kind, ColumnKind::Integer | ColumnKind::Number);
    html! {
        div.table-wrap {
            table.report id=[(!opts.id.is_empty()).then_some(opts.id)] data-report=(report.name) {
                thead { tr {
                    @for (_, c) in &shown {
                        th class=[numeric(c).then_some("num")] scope="col" title=(c.name) {
                            @if let Some(sort) = opts.sort {
                                a href=(sort(&c.name)) { (lang.label(&c.name)) }
                            } @else {
                                (lang.label(&c.name))
                            }
                        }
                    }
                    @if let Some((header, _)) = opts.extra { th scope="col" { (header) } }
                } }
                tbody {
                    @for row in report.rows.iter().take(limit) {
                        tr {
                            @for (i, c) in &shown {
                                @let text = fmt_value(&c.name, c.kind, &row[*i]);
                                td class=[numeric(c).then_some("num")] data-field=(c.name) {
                                    @match opts.link.and_then(|f| f(&c.name, row)) {
                                        Some(href) => a href=(href) { (text) },
                                        None => (text),
                                    }
                                }
                            }
                            @if let Some((_, cell)) = opts.extra { td { (cell(row)) } }
                        }
                    }
                }
            }
        }
        @if report.rows.len() > limit {
            p.note { (report.rows.len() - limit) " " (lang.t("more_rows")) }
        }
    }
}

/// A KPI card: label, value, the previous period's value and the change.
pub fn kpi(
    label: &str,
    value: &str,
    previous: Option<&str>,
    change_pct: Option<f64>,
    href: Option<&str>,
    lang: Lang,
) -> Markup {
    html! {
        div.kpi {
            span.label { (label) }
            @match href {
                Some(h) => a.value href=(h) { (value) },
                None => span.value { (value) },
            }
            @if let Some(prev) = previous {
                span.prev {
                    @if let Some(c) = change_pct.filter(|c| c.is_finite()) {
                        span class=(if c >= 0.0 { "up" } else { "down" }) {
                            (if c >= 0.0 { "▲ " } else { "▼ " }) (format!("{:.1} %", c.abs()))
                        }
                        " "
                    }
                    (lang.t("vs_previous")) ": " (prev)
                }
            }
        }
    }
}

/// "Download: CSV · JSON" of the report behind `href` (which takes `format=`).
pub fn downloads(lang: Lang, href: &str) -> Markup {
    let sep = if href.contains('?') { '&' } else { '?' };
    html! {
        p.downloads {
            (lang.t("download")) ":"
            a href=(format!("{href}{sep}format=csv")) download { "CSV" }
            a href=(format!("{href}{sep}format=json")) download { "JSON" }
        }
    }
}

/// A list of JSON objects (a report's extra field) as a report of its own, so it renders
/// and downloads like any other: columns from the keys of the first object.
pub fn objects_report(name: &str, items: &[Value]) -> Report {
    let keys: Vec<String> = items
        .iter()
        .find_map(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let columns = keys
        .iter()
        .map(|k| {
            let kind = items
                .iter()
                .filter_map(|it| it.get(k))
                .find(|v| !v.is_null())
                .map_or(ColumnKind::Text, |v| match v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => ColumnKind::Integer,
                    Value::Number(_) => ColumnKind::Number,
                    Value::Bool(_) => ColumnKind::Bool,
                    Value::String(_) => ColumnKind::Text,
                    _ => ColumnKind::Json,
                });
            Column::new(k.clone(), kind)
        })
        .collect();
    let mut r = Report::new(name, Map::new(), columns);
    r.rows = items
        .iter()
        .map(|it| {
            keys.iter()
                .map(|k| it.get(k).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    r
}

/// The values of column `name`, as numbers (missing for null or not a number).
pub fn numbers(report: &Report, name: &str) -> Vec<Option<f64>> {
    match report.column(name) {
        Some(i) => report.rows.iter().map(|r| r[i].as_f64()).collect(),
        None => vec![None; report.rows.len()],
    }
}

/// The values of column `name` as text.
pub fn texts(report: &Report, name: &str) -> Vec<String> {
    match report.column(name) {
        Some(i) => report
            .rows
            .iter()
            .map(|r| match &r[i] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect(),
        None => vec![String::new(); report.rows.len()],
    }
}

/// The EKG of a `trend` report: weighted minutes per week, the baseline dashed, the band of
/// baseline ± one standard deviation.
pub fn trend_chart(lang: Lang, report: &Report, id: &str, title: &str) -> Markup {
    let baseline = numbers(report, "baseline");
    let sd = numbers(report, "baseline_sd");
    let band = (
        baseline
            .iter()
            .zip(&sd)
            .map(|(b, s)| Some((b.unwrap_or(0.0) - s.unwrap_or(0.0)).max(0.0)))
            .collect(),
        baseline
            .iter()
            .zip(&sd)
            .map(|(b, s)| Some(b.unwrap_or(0.0) + s.unwrap_or(0.0)))
            .collect(),
    );
    PreEscaped(svg::line_chart(&svg::LineChart {
        id: id.into(),
        title: title.into(),
        desc: Some(format!(
            "{}; {}",
            lang.t("weighted_minutes_week"),
            lang.t("baseline_band")
        )),
        x_labels: texts(report, "week"),
        series: vec![svg::Series {
            name: lang.label("weighted_minutes"),
            values: numbers(report, "weighted_minutes"),
        }],
        baseline: Some(baseline),
        band: Some(band),
        unit: lang.t("minutes_unit").into(),
        words: chart_words(lang),
        ..Default::default()
    }))
}

/// The heatmap of a `heatmap` report: departments × seniorities, minutes against the ideal,
/// blind spots marked; `link(department, seniority)` is each cell's drill-down.
pub fn heatmap_chart(lang: Lang, report: &Report, id: &str, link: Option<CellDrill>) -> Markup {
    let departments = distinct(&texts(report, "department"));
    // Seniorities from the most senior down, as buyers read a buying group.
    const ORDER: [&str; 6] = abmeter_model::config::SENIORITIES;
    let present = texts(report, "seniority");
    let seniorities: Vec<String> = ORDER
        .iter()
        .filter(|s| present.iter().any(|p| p == *s))
        .map(|s| s.to_string())
        .chain(
            distinct(&present)
                .into_iter()
                .filter(|s| !ORDER.contains(&s.as_str())),
        )
        .collect();
    let minutes = numbers(report, "minutes");
    let ideal = numbers(report, "ideal_minutes");
    let blind: Vec<bool> = match report.column("blind_spot") {
        Some(i) => report
            .rows
            .iter()
            .map(|r| r[i] == Value::Bool(true))
            .collect(),
        None => vec![false; report.rows.len()],
    };
    let (d_of, s_of) = (texts(report, "department"), texts(report, "seniority"));
    let find = |d: &str, s: &str| (0..report.rows.len()).find(|&i| d_of[i] == d && s_of[i] == s);
    let grid = |f: &dyn Fn(usize) -> Option<f64>| -> Vec<Vec<Option<f64>>> {
        departments
            .iter()
            .map(|d| seniorities.iter().map(|s| find(d, s).and_then(f)).collect())
            .collect()
    };
    PreEscaped(svg::heatmap(&svg::Heatmap {
        id: id.into(),
        title: lang.t("heatmap").into(),
        desc: Some(lang.t("heatmap_hint").into()),
        values: grid(&|i| minutes[i]),
        ideal: Some(grid(&|i| ideal[i])),
        blind: departments
            .iter()
            .map(|d| {
                seniorities
                    .iter()
                    .map(|s| find(d, s).is_some_and(|i| blind[i]))
                    .collect()
            })
            .collect(),
        links: link.map(|f| {
            departments
                .iter()
                .map(|d| seniorities.iter().map(|s| f(d, s)).collect())
                .collect()
        }),
        rows: departments.iter().map(|d| d.replace('_', " ")).collect(),
        columns: seniorities.iter().map(|s| s.replace('_', " ")).collect(),
        unit: lang.t("minutes_unit").into(),
        words: chart_words(lang),
        ..Default::default()
    }))
}

/// Bars of `value` per `label` row (horizontal: ranked lists read best that way).
pub fn bar_chart(
    lang: Lang,
    report: &Report,
    id: &str,
    title: &str,
    label: &str,
    values: &[&str],
    stacked: bool,
) -> Markup {
    PreEscaped(svg::bar_chart(&svg::BarChart {
        id: id.into(),
        title: title.into(),
        labels: texts(report, label),
        series: values
            .iter()
            .map(|v| svg::Series {
                name: lang.label(v),
                values: numbers(report, v),
            })
            .collect(),
        stacked,
        horizontal: true,
        height: (40 + 22 * report.rows.len() as u32).clamp(120, 640),
        words: chart_words(lang),
        ..Default::default()
    }))
}

fn distinct(values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// Percent-encodes a query-string value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Report {
        let mut r = Report::new(
            "engagement",
            Map::new(),
            vec![
                Column::new("account_id", ColumnKind::Text),
                Column::new("weighted_minutes", ColumnKind::Number),
                Column::new("change_pct", ColumnKind::Number),
            ],
        );
        r.rows
            .push(vec![json!("a<1>"), json!(4289.123), json!(-16.955)]);
        r.rows.push(vec![json!("a2"), json!(12.0), Value::Null]);
        r
    }

    #[test]
    fn a_table_escapes_formats_links_and_limits() {
        let link = |col: &str, row: &[Value]| {
            let id = row[0].as_str()?;
            (col == "account_id").then(|| format!("/accounts/{}", encode(id)))
        };
        let html = table(
            Lang::En,
            &sample(),
            &TableOptions {
                link: Some(&link),
                limit: 1,
                id: "t",
                ..Default::default()
            },
        )
        .into_string();
        assert!(
            html.contains(r#"<a href="/accounts/a%3C1%3E">a&lt;1&gt;</a>"#),
            "{html}"
        );
        assert!(html.contains(">4,289.12<"), "{html}");
        assert!(html.contains(">-16.95 %<"), "{html}");
        assert!(!html.contains("a2"), "limited to one row: {html}");
        assert!(html.contains("1 more rows"), "{html}");
        assert!(html.contains(">Weighted minutes<"), "{html}");
        let zh = table(Lang::ZhCn, &sample(), &TableOptions::default()).into_string();
        assert!(zh.contains(">加权分钟<") && zh.contains(">–<"), "{zh}");
    }

    #[test]
    fn extra_objects_become_a_report() {
        let r = objects_report(
            "loss_reasons",
            &[json!({"loss_reason": "Price", "lost": 2, "lost_pct": 25.0})],
        );
        assert_eq!(r.columns[1].kind, ColumnKind::Integer);
        assert_eq!(r.columns[2].kind, ColumnKind::Number);
        assert_eq!(r.rows[0][0], json!("Price"));
    }

    #[test]
    fn kpi_cards_show_the_change() {
        let html = kpi(
            "Pipeline",
            "2,365,800",
            Some("1,880,000"),
            Some(25.84),
            None,
            Lang::En,
        )
        .into_string();
        assert!(html.contains("▲ 25.8 %") && html.contains("up"), "{html}");
        let html = kpi(
            "NPS",
            "30.77",
            Some("63.16"),
            Some(-51.3),
            Some("/customers"),
            Lang::ZhCn,
        )
        .into_string();
        assert!(
            html.contains("▼ 51.3 %") && html.contains("较上期"),
            "{html}"
        );
    }
}
