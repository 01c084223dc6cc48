//! Outputs: one `Report` rendered as a terminal table, JSON (SPEC §9 shape) or CSV.
//! Renderers never compute: they print what the metric returned.

pub mod charts;
pub mod html;
pub mod i18n;
pub mod review;
pub mod svg;
pub mod webhook;

use std::io::{self, Write};
use std::str::FromStr;

use abmeter_model::report::{ColumnKind, Report, View};
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

/// `--format table|json|csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(format!("unknown format `{s}`; expected table, json or csv")),
        }
    }
}

pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => render_table(report, out),
        Format::Json => render_json(report, out),
        Format::Csv => render_csv(report, out),
    }
}

pub fn render_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report.to_json())?;
    writeln!(out)
}

pub fn render_csv(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(report.columns.iter().map(|c| c.name.as_str()))?;
    for row in &report.rows {
        w.write_record(row.iter().map(csv_cell))?;
    }
    w.flush()
}

/// Full precision, no thousands separators: CSV is for machines and spreadsheets.
fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn render_table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.view == View::Scorecard {
        render_scorecards(report, out)?;
        return render_extra(report, out);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(report.columns.iter().map(|c| Cell::new(&c.name)));
    for row in &report.rows {
        t.add_row(report.columns.iter().zip(row).map(|(c, v)| {
            let cell = Cell::new(display_cell(c.kind, v));
            match c.kind {
                ColumnKind::Integer | ColumnKind::Number => {
                    cell.set_alignment(CellAlignment::Right)
                }
                _ => cell,
            }
        }));
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} row{}",
        report.rows.len(),
        if report.rows.len() == 1 { "" } else { "s" }
    )?;
    match &report.view {
        View::Table => {}
        View::Grid {
            row,
            column,
            columns,
            value,
        } => charts::render_grid(
            report,
            row,
            column,
            columns,
            value,
            charts::use_color(),
            out,
        )?,
        View::Sparkline { value } => charts::render_sparkline(report, value, out)?,
        View::Scorecard => {}
    }
    render_extra(report, out)
}

/// One card per row: the row's text fields as a heading, then `metric | value | previous |
/// change_pct` for every metric (previous and change blank when the row has none).
fn render_scorecards(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let is_derived = |name: &str| name.starts_with("previous_") || name.ends_with("_change_pct");
    for row in &report.rows {
        let heading: Vec<String> = report
            .columns
            .iter()
            .zip(row)
            .filter(|(c, _)| c.kind == ColumnKind::Text)
            .map(|(c, v)| format!("{}: {}", c.name, display_cell(c.kind, v)))
            .collect();
        if !heading.is_empty() {
            writeln!(out, "{}", heading.join(", "))?;
        }
        let cell = |name: &str| {
            report
                .column(name)
                .map(|i| display_cell(report.columns[i].kind, &row[i]))
                .unwrap_or_default()
        };
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        t.set_header(["metric", "value", "previous", "change_pct"].map(Cell::new));
        for c in report
            .columns
            .iter()
            .filter(|c| c.kind != ColumnKind::Text && !is_derived(&c.name))
        {
            t.add_row([
                Cell::new(&c.name),
                Cell::new(cell(&c.name)).set_alignment(CellAlignment::Right),
                Cell::new(cell(&format!("previous_{}", c.name)))
                    .set_alignment(CellAlignment::Right),
                Cell::new(cell(&format!("{}_change_pct", c.name)))
                    .set_alignment(CellAlignment::Right),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

/// The report's extra fields after its table: scalars as `name: value`, lists of objects as
/// small tables.
fn render_extra(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for (name, value) in &report.extra {
        match value {
            Value::Array(items) if items.is_empty() => writeln!(out, "{name}: none")?,
            Value::Array(items) if items.iter().all(Value::is_object) => {
                let keys: Vec<String> = items[0]
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic);
                t.set_header(keys.iter().map(Cell::new));
                for item in items {
                    t.add_row(keys.iter().map(|k| {
                        let v = &item[k.as_str()];
                        let cell = Cell::new(display_cell(ColumnKind::Json, v));
                        if v.is_number() {
                            cell.set_alignment(CellAlignment::Right)
                        } else {
                            cell
                        }
                    }));
                }
                writeln!(out, "{name}:\n{t}")?;
            }
            other => writeln!(out, "{name}: {}", display_cell(ColumnKind::Json, other))?,
        }
    }
    Ok(())
}

/// Tables round for display (SPEC §0): numbers to two decimals, thousands grouped.
pub fn display_cell(kind: ColumnKind, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (kind, n.as_i64(), n.as_f64()) {
            (_, Some(i), _) => group_thousands(&i.to_string()),
            (_, None, Some(f)) => {
                let s = format!("{f:.2}");
                let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
                format!("{}.{frac}", group_thousands(int))
            }
            _ => n.to_string(),
        },
        // Lists of objects (an alert's top contacts) read as their names.
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(o) => ["name", "type", "label", "id"]
                    .iter()
                    .find_map(|k| o.get(*k).filter(|v| !v.is_null()))
                    .map_or_else(|| item.to_string(), |v| display_cell(kind, v)),
                other => display_cell(kind, other),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn group_thousands(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use abmeter_model::report::Column;
    use serde_json::json;

    fn sample() -> Report {
        let mut r = Report::new(
            "sql",
            serde_json::Map::new(),
            vec![
                Column {
                    name: "account_id".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    name: "weighted_minutes".into(),
                    kind: ColumnKind::Number,
                },
            ],
        );
        r.rows.push(vec![json!("a1"), json!(4289.123)]);
        r.rows.push(vec![json!("a2, \"quoted\""), Value::Null]);
        r
    }

    #[test]
    fn renders_all_formats() {
        let mut buf = Vec::new();
        render_json(&sample(), &mut buf).unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["report"], "sql");
        assert_eq!(v["rows"][0]["weighted_minutes"], 4289.123);
        assert!(v["rows"][1]["weighted_minutes"].is_null());

        let mut buf = Vec::new();
        render_csv(&sample(), &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "account_id,weighted_minutes\na1,4289.123\n\"a2, \"\"quoted\"\"\",\n"
        );

        let mut buf = Vec::new();
        render_table(&sample(), &mut buf).unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert!(s.contains("4,289.12"), "{s}");
        assert!(s.ends_with("2 rows\n"));
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands("1234567"), "1,234,567");
        assert_eq!(group_thousands("-1234"), "-1,234");
        assert_eq!(group_thousands("123"), "123");
    }
}
