//! Terminal charts drawn beside a report's table: the heatmap grid (shaded cells, blind
//! spots marked) and the EKG sparkline. Colour only on a terminal and without `NO_COLOR`;
//! the shade characters carry the same information in a pipe or a file.

use std::io::{self, IsTerminal, Write};

use abmeter_model::report::Report;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

/// Shade characters, empty to full.
const SHADES: [&str; 5] = ["·", "░", "▒", "▓", "█"];
/// ANSI 256-colour greens, light to dark, one per shade.
const GREENS: [u8; 5] = [255, 194, 120, 34, 22];
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal()
}

/// 0 for nothing, else 1–4 by the share of the largest value.
fn shade(v: f64, max: f64) -> usize {
    if v <= 0.0 || max <= 0.0 {
        0
    } else {
        1 + ((v / max) * 3.999).floor().min(3.0) as usize
    }
}

/// The grid of `report`: one line per distinct `row` value (in report order), one column
/// per entry of `columns`, each cell `value` rounded with its shade; `!` marks a blind spot.
pub fn render_grid(
    report: &Report,
    row: &str,
    column: &str,
    columns: &[String],
    value: &str,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (Some(ri), Some(ci), Some(vi)) = (
        report.column(row),
        report.column(column),
        report.column(value),
    ) else {
        return Ok(());
    };
    let blind = report.column("blind_spot");
    let mut rows: Vec<String> = Vec::new();
    for r in &report.rows {
        let name = text(&r[ri]);
        if !rows.contains(&name) {
            rows.push(name);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let max = report
        .rows
        .iter()
        .filter_map(|r| r[vi].as_f64())
        .fold(0.0, f64::max);
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec![Cell::new(format!("{row} \\ {column}"))];
    header.extend(columns.iter().map(Cell::new));
    t.set_header(header);
    for name in &rows {
        let mut line = vec![Cell::new(name)];
        for col in columns {
            let hit = report
                .rows
                .iter()
                .find(|r| text(&r[ri]) == *name && text(&r[ci]) == *col);
            let v = hit.and_then(|r| r[vi].as_f64()).unwrap_or(0.0);
            let is_blind = hit
                .zip(blind)
                .is_some_and(|(r, b)| r[b] == Value::Bool(true));
            let s = shade(v, max);
            let mut label = format!("{} {:>6}", SHADES[s].repeat(2), format!("{v:.0}"));
            if is_blind {
                label.push('!');
            }
            if color {
                let fg = if s >= 3 { 15 } else { 0 };
                label = format!("\x1b[48;5;{}m\x1b[38;5;{fg}m{label}\x1b[0m", GREENS[s]);
            }
            line.push(Cell::new(label).set_alignment(CellAlignment::Right));
        }
        t.add_row(line);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{value} by {row} and {column}; shades {} from none to the largest cell ({max:.0}){}",
        SHADES.join(" "),
        if blind.is_some() {
            "; ! = below the ideal (blind spot)"
        } else {
            ""
        }
    )
}

/// ▁▂▃▄▅▆▇█ of `values`, scaled from 0 to their maximum.
pub fn sparkline(values: &[f64]) -> String {
    let max = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                BARS[((v.max(0.0) / max) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// The report's `value` column as a sparkline line.
pub fn render_sparkline(report: &Report, value: &str, out: &mut dyn Write) -> io::Result<()> {
    let Some(vi) = report.column(value) else {
        return Ok(());
    };
    let values: Vec<f64> = report
        .rows
        .iter()
        .map(|r| r[vi].as_f64().unwrap_or(0.0))
        .collect();
    writeln!(out, "{value}: {}", sparkline(&values))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(sparkline(&[0.0, 1.0, 2.0, 4.0]), "▁▃▅█");
        assert_eq!(sparkline(&[0.0, 0.0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn the_grid_places_cells_shades_them_and_marks_blind_spots() {
        use abmeter_model::report::{Column, ColumnKind};
        use serde_json::json;
        let mut r = Report::new(
            "heatmap",
            serde_json::Map::new(),
            vec![
                Column::new("department", ColumnKind::Text),
                Column::new("seniority", ColumnKind::Text),
                Column::new("minutes", ColumnKind::Number),
                Column::new("blind_spot", ColumnKind::Bool),
            ],
        );
        r.rows.push(vec![
            json!("marketing"),
            json!("vp"),
            json!(100.0),
            json!(false),
        ]);
        r.rows.push(vec![
            json!("marketing"),
            json!("director"),
            json!(20.0),
            json!(true),
        ]);
        r.rows.push(vec![
            json!("it"),
            json!("c_level"),
            json!(60.0),
            json!(false),
        ]);
        let columns: Vec<String> = ["c_level", "vp", "director"].map(String::from).to_vec();
        let mut out = Vec::new();
        render_grid(
            &r,
            "department",
            "seniority",
            &columns,
            "minutes",
            false,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Header, rule, two department lines (in report order), bottom, legend.
        assert!(lines[1].contains("department \\ seniority"), "{text}");
        assert!(
            lines[1].contains("c_level") && lines[1].contains("director"),
            "{text}"
        );
        let marketing = lines.iter().find(|l| l.contains("marketing")).unwrap();
        assert!(marketing.contains("··      0"), "{marketing}");
        assert!(marketing.contains("██    100"), "{marketing}");
        assert!(marketing.contains("░░     20!"), "{marketing}");
        let it = lines.iter().find(|l| l.contains(" it ")).unwrap();
        // 60 of 100 is in the third quarter of the range.
        assert!(it.contains("▓▓     60"), "{it}");
        assert!(text.contains("! = below the ideal"), "{text}");
        assert!(!text.contains('\x1b'), "no colour off a terminal");
    }

    #[test]
    fn shades_split_the_range_in_four() {
        assert_eq!(shade(0.0, 10.0), 0);
        assert_eq!(shade(1.0, 10.0), 1);
        assert_eq!(shade(5.0, 10.0), 2);
        assert_eq!(shade(7.5, 10.0), 3);
        assert_eq!(shade(10.0, 10.0), 4);
    }
}
