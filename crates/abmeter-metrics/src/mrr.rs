//! Monthly recurring revenue as retention and CLV read it (SPEC §8): the `revenue` table
//! summed per account (or per account and product) and month, with each account's segments.
//! A month without a row is 0.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use abmeter_store::StoreError;
use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Float64Type;
use datafusion::execution::context::SessionContext;

use crate::cells::{at, strings};
use crate::deals::{Dim, Text};

/// A calendar month as a count of months (`year × 12 + month − 1`), so months subtract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub i32);

impl Month {
    /// `2026-09`.
    pub fn parse(text: &str) -> Result<Month, String> {
        let bad = || format!("`{text}` is not a month such as 2026-09");
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, i32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.to_string().len() != 4 || !(1..=12).contains(&m) {
            return Err(bad());
        }
        Ok(Month(y * 12 + m - 1))
    }

    pub fn of(day: NaiveDate) -> Month {
        Month(day.year() * 12 + day.month0() as i32)
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0.div_euclid(12), self.0.rem_euclid(12) as u32 + 1, 1)
            .expect("a valid month")
    }

    pub fn plus(self, months: i32) -> Month {
        Month(self.0 + months)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}",
            self.0.div_euclid(12),
            self.0.rem_euclid(12) + 1
        )
    }
}

/// The account dimensions MRR can be grouped by, plus `product`.
pub const DIMS: [Dim; 8] = [
    Dim::Account,
    Dim::Industry,
    Dim::Region,
    Dim::Country,
    Dim::Tier,
    Dim::Owner,
    Dim::IsTarget,
    Dim::Product,
];

/// What MRR is counted per: an account, or an account's product (`--by product`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unit {
    pub account: Text,
    pub product: Option<Text>,
}

/// An account's name and segments.
#[derive(Debug, Clone, Default)]
pub struct AccountInfo {
    pub name: Option<Text>,
    values: HashMap<Dim, Text>,
}

/// MRR per unit and month.
#[derive(Debug, Default)]
pub struct Book {
    pub mrr: HashMap<Unit, BTreeMap<Month, f64>>,
    pub accounts: HashMap<Text, AccountInfo>,
}

impl Book {
    /// Reads the revenue table; per product when `by_product`, else summed per account.
    pub async fn load(ctx: &SessionContext, by_product: bool) -> Result<Book, StoreError> {
        let sql = "SELECT r.account_id, r.month, CAST(r.mrr AS DOUBLE) AS mrr,
       nullif(trim(r.product), '') AS product,
       a.name, a.industry, a.region, a.country, a.tier, a.owner,
       CASE WHEN a.is_target THEN 'true' WHEN a.id IS NOT NULL THEN 'false' END AS is_target
FROM revenue r LEFT JOIN accounts a ON a.id = r.account_id";
        let mut book = Book::default();
        for b in &ctx.sql(sql).await?.collect().await? {
            let s = |name: &str| strings(b, name);
            let (account, month, product, name) =
                (s("account_id"), s("month"), s("product"), s("name"));
            let segments: Vec<(Dim, _)> = [
                (Dim::Industry, "industry"),
                (Dim::Region, "region"),
                (Dim::Country, "country"),
                (Dim::Tier, "tier"),
                (Dim::Owner, "owner"),
                (Dim::IsTarget, "is_target"),
            ]
            .into_iter()
            .map(|(d, c)| (d, s(c)))
            .collect();
            let mrr = b
                .column_by_name("mrr")
                .and_then(|c| c.as_primitive_opt::<Float64Type>());
            for i in 0..b.num_rows() {
                let (Some(id), Some(m)) = (at(account, i), at(month, i)) else {
                    continue;
                };
                // Stored months were validated on import.
                let Ok(m) = Month::parse(m) else { continue };
                let id = Text::from(id);
                let unit = Unit {
                    account: id.clone(),
                    product: by_product.then(|| at(product, i).map(Text::from)).flatten(),
                };
                *book.mrr.entry(unit).or_default().entry(m).or_default() +=
                    at(mrr, i).unwrap_or(0.0);
                book.accounts.entry(id).or_insert_with(|| AccountInfo {
                    name: at(name, i).map(Text::from),
                    values: segments
                        .iter()
                        .filter_map(|(d, col)| {
                            at(*col, i)
                                .filter(|v| !v.trim().is_empty())
                                .map(|v| (*d, Text::from(v)))
                        })
                        .collect(),
                });
            }
        }
        Ok(book)
    }

    /// The unit's MRR in month `m` (0 without a row).
    pub fn at(&self, unit: &Unit, m: Month) -> f64 {
        self.mrr
            .get(unit)
            .and_then(|months| months.get(&m))
            .copied()
            .unwrap_or(0.0)
    }

    /// The unit's first month with MRR > 0.
    pub fn first_paying(&self, unit: &Unit) -> Option<Month> {
        self.mrr
            .get(unit)?
            .iter()
            .find(|(_, v)| **v > 0.0)
            .map(|(m, _)| *m)
    }

    /// The unit's value of `dim` (`None` when empty or unknown).
    pub fn value(&self, unit: &Unit, dim: Dim) -> Option<Text> {
        match dim {
            Dim::Account => Some(unit.account.clone()),
            Dim::Product => unit.product.clone(),
            _ => self.accounts.get(&unit.account)?.values.get(&dim).cloned(),
        }
    }

    pub fn account_name(&self, account: &str) -> Option<&str> {
        self.accounts.get(account)?.name.as_deref()
    }

    /// The latest month with a row.
    pub fn last_month(&self) -> Option<Month> {
        self.mrr
            .values()
            .filter_map(|m| m.keys().last())
            .max()
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_count_and_print() {
        let m = Month::parse("2026-09").unwrap();
        assert_eq!(m.to_string(), "2026-09");
        assert_eq!(m.plus(4).to_string(), "2027-01");
        assert_eq!(m.plus(-9).to_string(), "2025-12");
        assert_eq!(m.first_day(), NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());
        assert_eq!(Month::of(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()), m);
        assert!(Month::parse("2026-13").is_err());
        assert!(Month::parse("26-01").is_err());
        assert!(Month::parse("2026").is_err());
    }
}
