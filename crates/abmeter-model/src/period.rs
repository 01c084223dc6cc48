//! Reporting periods (SPEC §0): day, ISO week, month, fiscal quarter and fiscal year, each a
//! half-open range of days `[start, end)` with its label (`2026-09-30`, `2026-W39`,
//! `2026-09`, `2026-Q3`, `2026`).
//!
//! Fiscal quarters and years start in `fiscal_year_start_month`; a fiscal year is labelled by
//! the calendar year it starts in, so with start month 4, April–June 2026 is `2026-Q1` and
//! `2026` is April 2026 – March 2027.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Granularity {
    pub const ALL: [Granularity; 5] = [
        Granularity::Day,
        Granularity::Week,
        Granularity::Month,
        Granularity::Quarter,
        Granularity::Year,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
            Granularity::Quarter => "quarter",
            Granularity::Year => "year",
        }
    }
}

impl FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown period `{s}`; expected day, week, month, quarter or year")
            })
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One period: `[start, end)` in days, midnight UTC bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub granularity: Granularity,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The fiscal year start month the period was computed with (quarters and years).
    fiscal_start: u32,
}

impl Period {
    /// The period of `granularity` containing `date`.
    pub fn containing(granularity: Granularity, date: NaiveDate, fiscal_start: u32) -> Period {
        let fiscal_start = fiscal_start.clamp(1, 12);
        let (start, end) = match granularity {
            Granularity::Day => (date, date + Days::new(1)),
            Granularity::Week => {
                let start = date - Days::new(date.weekday().num_days_from_monday().into());
                (start, start + Days::new(7))
            }
            Granularity::Month => {
                let start = first_of(date.year(), date.month());
                (start, start + Months::new(1))
            }
            Granularity::Quarter | Granularity::Year => {
                let months = if granularity == Granularity::Quarter {
                    3
                } else {
                    12
                };
                // Months since the fiscal year began, then back to the block's first month.
                let offset = (date.month() + 12 - fiscal_start) % 12;
                let back = offset % months;
                let start = first_of(date.year(), date.month()) - Months::new(back);
                (start, start + Months::new(months))
            }
        };
        Period {
            granularity,
            start,
            end,
            fiscal_start,
        }
    }

    /// Parses a granularity (`quarter`, used with `at`) or a label (`2026-Q3`, `2026-09`,
    /// `2026-W39`, `2026-09-30`, `2026`).
    pub fn parse(text: &str, at: NaiveDate, fiscal_start: u32) -> Result<Period, String> {
        let text = text.trim();
        if let Ok(g) = text.parse::<Granularity>() {
            return Ok(Period::containing(g, at, fiscal_start));
        }
        Period::from_label(text, fiscal_start).ok_or_else(|| {
            format!(
                "`{text}` is neither a period (day, week, month, quarter, year) nor a label \
                 such as 2026-Q3, 2026-09, 2026-W39, 2026-09-30 or 2026"
            )
        })
    }

    fn from_label(text: &str, fiscal_start: u32) -> Option<Period> {
        let fiscal_start = fiscal_start.clamp(1, 12);
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(Period::containing(Granularity::Day, day, fiscal_start));
        }
        if let Some((y, w)) = text.split_once("-W").or_else(|| text.split_once("-w")) {
            let day =
                NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)?;
            return Some(Period::containing(Granularity::Week, day, fiscal_start));
        }
        if let Some((y, q)) = text.split_once("-Q").or_else(|| text.split_once("-q")) {
            let (y, q): (i32, u32) = (y.parse().ok()?, q.parse().ok()?);
            if !(1..=4).contains(&q) {
                return None;
            }
            let start = first_of(y, fiscal_start) + Months::new(3 * (q - 1));
            return Some(Period::containing(
                Granularity::Quarter,
                start,
                fiscal_start,
            ));
        }
        if let Some((y, m)) = text.split_once('-') {
            let start = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
            return Some(Period::containing(Granularity::Month, start, fiscal_start));
        }
        if text.len() == 4 {
            let start = first_of(text.parse().ok()?, fiscal_start);
            return Some(Period::containing(Granularity::Year, start, fiscal_start));
        }
        None
    }

    /// The period just before this one.
    pub fn previous(&self) -> Period {
        Period::containing(
            self.granularity,
            self.start - Days::new(1),
            self.fiscal_start,
        )
    }

    /// The period just after this one.
    pub fn next(&self) -> Period {
        Period::containing(self.granularity, self.end, self.fiscal_start)
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day < self.end
    }

    /// `2026-09-30`, `2026-W39`, `2026-09`, `2026-Q3` (fiscal), `2026` (fiscal).
    pub fn label(&self) -> String {
        match self.granularity {
            Granularity::Day => self.start.format("%Y-%m-%d").to_string(),
            Granularity::Week => {
                let w = self.start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Granularity::Month => self.start.format("%Y-%m").to_string(),
            Granularity::Quarter => {
                let (year, offset) = self.fiscal_position();
                format!("{year}-Q{}", offset / 3 + 1)
            }
            Granularity::Year => self.fiscal_position().0.to_string(),
        }
    }

    /// The fiscal year (labelled by the calendar year it starts in) and the months since it
    /// began, of the period's first day.
    fn fiscal_position(&self) -> (i32, u32) {
        let m = self.start.month();
        let year = if m >= self.fiscal_start {
            self.start.year()
        } else {
            self.start.year() - 1
        };
        (year, (m + 12 - self.fiscal_start) % 12)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn first_of(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).expect("month 1–12")
}

/// The trailing window of `days` days ending at `at` (SPEC §0): `[at − (days − 1), at + 1)`.
pub fn trailing_window(at: NaiveDate, days: u32) -> (NaiveDate, NaiveDate) {
    let days = days.max(1);
    (at - Days::new(u64::from(days) - 1), at + Days::new(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn span(p: &Period) -> (String, String, String) {
        (p.start.to_string(), p.end.to_string(), p.label())
    }

    #[test]
    fn calendar_quarters() {
        let p = Period::containing(Granularity::Quarter, d("2026-09-30"), 1);
        assert_eq!(
            span(&p),
            ("2026-07-01".into(), "2026-10-01".into(), "2026-Q3".into())
        );
        assert_eq!(p.previous().label(), "2026-Q2");
        assert_eq!(p.next().label(), "2026-Q4");
        assert_eq!(p.next().next().label(), "2027-Q1");
    }

    #[test]
    fn fiscal_quarters_starting_in_april() {
        // April–June is Q1 of the fiscal year labelled by the calendar year it starts in.
        let q1 = Period::containing(Granularity::Quarter, d("2026-04-01"), 4);
        assert_eq!(
            span(&q1),
            ("2026-04-01".into(), "2026-07-01".into(), "2026-Q1".into())
        );
        let q4 = Period::containing(Granularity::Quarter, d("2027-03-31"), 4);
        assert_eq!(
            span(&q4),
            ("2027-01-01".into(), "2027-04-01".into(), "2026-Q4".into())
        );
        assert_eq!(q1.previous().label(), "2025-Q4");
        assert_eq!(q1.previous().start, d("2026-01-01"));
        let fy = Period::containing(Granularity::Year, d("2027-02-10"), 4);
        assert_eq!(
            span(&fy),
            ("2026-04-01".into(), "2027-04-01".into(), "2026".into())
        );
        // Labels parse back to the same period.
        assert_eq!(Period::parse("2026-Q4", d("2000-01-01"), 4).unwrap(), q4);
        assert_eq!(Period::parse("2026", d("2000-01-01"), 4).unwrap(), fy);
    }

    #[test]
    fn iso_weeks_across_a_year_end() {
        // 2026-12-31 is a Thursday: ISO week 2026-W53 runs Monday 28 Dec – Sunday 3 Jan.
        let w = Period::containing(Granularity::Week, d("2027-01-03"), 1);
        assert_eq!(
            span(&w),
            ("2026-12-28".into(), "2027-01-04".into(), "2026-W53".into())
        );
        assert_eq!(w.next().label(), "2027-W01");
        // 2024-12-30 (Monday) already belongs to 2025-W01.
        let w = Period::containing(Granularity::Week, d("2024-12-31"), 1);
        assert_eq!(w.label(), "2025-W01");
        assert_eq!(w.start, d("2024-12-30"));
        assert_eq!(Period::parse("2025-W01", d("2000-01-01"), 1).unwrap(), w);
    }

    #[test]
    fn labels_and_granularities_parse() {
        let at = d("2026-09-30");
        assert_eq!(Period::parse("month", at, 1).unwrap().label(), "2026-09");
        assert_eq!(
            Period::parse("2026-02", at, 1).unwrap().end,
            d("2026-03-01")
        );
        assert_eq!(Period::parse("day", at, 1).unwrap().label(), "2026-09-30");
        assert_eq!(Period::parse("year", at, 1).unwrap().label(), "2026");
        assert!(Period::parse("2026-Q5", at, 1).is_err());
        assert!(Period::parse("fortnight", at, 1).is_err());
    }

    #[test]
    fn trailing_windows_include_the_day() {
        assert_eq!(
            trailing_window(d("2026-09-30"), 90),
            (d("2026-07-03"), d("2026-10-01"))
        );
        assert_eq!(
            trailing_window(d("2026-09-30"), 1),
            (d("2026-09-30"), d("2026-10-01"))
        );
    }
}
