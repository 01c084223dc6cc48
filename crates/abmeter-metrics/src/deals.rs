//! Opportunities as the pipeline and velocity reports read them: one query over
//! `sourced_opportunities` (each with who sourced it, SPEC §6, and its account's segments),
//! then plain Rust over the rows.
//!
//! Conventions every pipeline metric shares (docs/metrics.md, "Pipeline and revenue"):
//! a deal is *closed* when `is_closed` or `is_won` is true (a won deal is closed even when
//! the CRM left `is_closed` empty); *won* when `is_won`; *lost* when closed and not won. A
//! close date covers its whole day. A missing `type` counts as `new_business` (most CRMs
//! default to it). A null amount is 0.

use std::fmt;
use std::str::FromStr;

use abmeter_store::StoreError;
use abmeter_store::cube::MILESTONES;
use chrono::NaiveDate;
use compact_str::CompactString;
use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{Date32Type, Float64Type, Int64Type};
use datafusion::execution::context::SessionContext;

use crate::cells::{at, micros, strings, times};

/// The opportunity types of SPEC §1, in report order.
pub const TYPES: [&str; 4] = ["new_business", "upsell", "cross_sell", "renewal"];
pub const NEW_BUSINESS: &str = "new_business";
pub const MARKETING: &str = "marketing";

/// What pipeline figures can be grouped and filtered by: the opportunity's own fields and
/// its account's segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Source,
    Type,
    LeadSource,
    Competitor,
    Product,
    Owner,
    Account,
    Industry,
    Region,
    Country,
    Tier,
    IsTarget,
}

impl Dim {
    pub const ALL: [Dim; 12] = [
        Dim::Source,
        Dim::Type,
        Dim::LeadSource,
        Dim::Competitor,
        Dim::Product,
        Dim::Owner,
        Dim::Account,
        Dim::Industry,
        Dim::Region,
        Dim::Country,
        Dim::Tier,
        Dim::IsTarget,
    ];

    /// The field name in rows grouped by it (SPEC §9: `account` rows carry `account_id`).
    pub fn name(self) -> &'static str {
        match self {
            Dim::Source => "source",
            Dim::Type => "type",
            Dim::LeadSource => "lead_source",
            Dim::Competitor => "competitor",
            Dim::Product => "product",
            Dim::Owner => "owner",
            Dim::Account => "account_id",
            Dim::Industry => "industry",
            Dim::Region => "region",
            Dim::Country => "country",
            Dim::Tier => "tier",
            Dim::IsTarget => "is_target",
        }
    }

    /// Its value in the query below.
    fn sql(self) -> &'static str {
        match self {
            Dim::Source => "o.source",
            Dim::Type => "coalesce(o.type, 'new_business')",
            Dim::LeadSource => "o.lead_source",
            Dim::Competitor => "o.competitor",
            Dim::Product => "o.product",
            Dim::Owner => "o.owner",
            Dim::Account => "o.account_id",
            Dim::Industry => "o.industry",
            Dim::Region => "o.region",
            Dim::Country => "o.country",
            Dim::Tier => "o.tier",
            Dim::IsTarget => "CASE WHEN o.is_target THEN 'true' ELSE 'false' END",
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dim {
    type Err = String;

    fn from_str(s: &str) -> Result<Dim, String> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "account" => "account_id",
            "opportunity_type" => "type",
            other => other,
        };
        Dim::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Dim::ALL.iter().map(|d| d.name()).collect();
            format!("`{s}` is not one of {}", names.join(", "))
        })
    }
}

/// Parses an optional `--by` that must be one of `allowed` (reports whose rows are not
/// opportunities accept only some dimensions).
pub fn parse_by(text: Option<&str>, allowed: &[Dim]) -> Result<Option<Dim>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<Dim>() {
        Ok(dim) if allowed.contains(&dim) => Ok(Some(dim)),
        // Name only what this report accepts, not every dimension there is.
        _ => {
            let names: Vec<&str> = allowed.iter().map(|d| d.name()).collect();
            Err(format!("`{text}` is not one of {}", names.join(", ")))
        }
    }
}

/// A short text kept inline (dimension values are mostly under 24 bytes): 200,000 deals
/// × 12 dimensions would otherwise be millions of allocations.
pub type Text = CompactString;

/// One opportunity with what the pipeline metrics need.
#[derive(Debug, Clone)]
pub struct Deal {
    pub id: Text,
    pub account_name: Option<Text>,
    pub amount: f64,
    /// µs since the epoch.
    pub created_at: i64,
    /// The day of `created_at`: comparing days is cheaper than converting periods to µs
    /// for every deal (`created_at < midnight(d)` ⟺ `created_day < d`).
    created_day: NaiveDate,
    pub close_date: Option<NaiveDate>,
    pub closed: bool,
    pub won: bool,
    pub contract_months: Option<i64>,
    pub loss_reason: Option<Text>,
    /// When the account reached each sales milestone before the deal was created
    /// (`sourced_opportunities`' `demo_request_at`, … in [`MILESTONES`] order), µs.
    pub milestones: [Option<i64>; MILESTONES.len()],
    /// The value of each [`Dim`], in `Dim::ALL` order (`None` when empty).
    values: [Option<Text>; Dim::ALL.len()],
    marketing: bool,
    new_business: bool,
}

impl Deal {
    pub fn value(&self, dim: Dim) -> Option<&str> {
        self.values[dim as usize].as_deref()
    }

    pub fn source(&self) -> &str {
        self.value(Dim::Source).unwrap_or("other")
    }

    pub fn kind(&self) -> &str {
        self.value(Dim::Type).unwrap_or(NEW_BUSINESS)
    }

    pub fn is_marketing(&self) -> bool {
        self.marketing
    }

    pub fn is_new_business(&self) -> bool {
        self.new_business
    }

    fn new(mut d: Deal) -> Deal {
        d.created_day = chrono::DateTime::from_timestamp_micros(d.created_at)
            .map_or(NaiveDate::MIN, |t| t.date_naive());
        d.marketing = d.source() == MARKETING;
        d.new_business = d.kind() == NEW_BUSINESS;
        d
    }

    pub fn created_in(&self, from: NaiveDate, to: NaiveDate) -> bool {
        from <= self.created_day && self.created_day < to
    }

    /// Closed with a close date in `[from, to)`.
    pub fn closed_in(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.closed && self.close_date.is_some_and(|d| from <= d && d < to)
    }

    /// Open at the start of `day`: created before it and not closed on an earlier day. A
    /// closed deal without a close date is never open (when it closed is unknown).
    pub fn open_at(&self, day: NaiveDate) -> bool {
        self.created_day < day && !(self.closed && self.close_date.is_none_or(|d| d < day))
    }

    /// Annual contract value: amount × 12 / contract_months, the amount itself when the
    /// contract length is empty or 0 (SPEC §6).
    pub fn acv(&self) -> f64 {
        match self.contract_months {
            Some(m) if m > 0 => self.amount * 12.0 / m as f64,
            _ => self.amount,
        }
    }

    /// Days from creation to the close date (midnight), never negative.
    pub fn cycle_days(&self) -> Option<f64> {
        let close = micros(self.close_date?);
        Some(((close - self.created_at) as f64 / crate::cells::DAY_MICROS).max(0.0))
    }
}

/// The opportunities matching `filter` (SQL over `o`, a `sourced_opportunities` row), with
/// the values of `dims` (the others read as empty: a report asks only for what it uses).
pub async fn load(
    ctx: &SessionContext,
    filter: &str,
    dims: &[Dim],
) -> Result<Vec<Deal>, StoreError> {
    let dims: Vec<String> = Dim::ALL
        .iter()
        .map(|d| {
            let value = if dims.contains(d) { d.sql() } else { "NULL" };
            format!("nullif(trim({value}), '') AS \"d_{}\"", d.name())
        })
        .collect();
    let sql = format!(
        "SELECT o.id, o.account_name, CAST(coalesce(o.amount, 0) AS DOUBLE) AS amount,
       o.created_at, o.close_date,
       coalesce(o.is_closed, false) OR coalesce(o.is_won, false) AS closed,
       coalesce(o.is_won, false) AS won,
       CAST(o.contract_months AS BIGINT) AS contract_months,
       nullif(trim(o.loss_reason), '') AS loss_reason,
       {milestones},
       {dims}
FROM sourced_opportunities o
WHERE {filter}",
        dims = dims.join(", "),
        milestones = MILESTONES
            .iter()
            .map(|m| format!("o.{m}_at"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let mut out = Vec::new();
    // Partition by partition: the same files give the same order on every run, so sums
    // over the deals come out the same without sorting them.
    let partitions = ctx.sql(&sql).await?.collect_partitioned().await?;
    for b in partitions.iter().flatten() {
        // The dimension columns once per batch, not once per cell.
        let dims: Vec<Option<&StringArray>> = Dim::ALL
            .iter()
            .map(|d| {
                b.column_by_name(&format!("d_{}", d.name()))
                    .and_then(|c| c.as_string_opt::<i32>())
            })
            .collect();
        // Every column once per batch: looking a column up by name per cell costs more
        // than reading it.
        let column = |name: &str| b.column_by_name(name);
        let (ids, names, reasons) = (
            strings(b, "id"),
            strings(b, "account_name"),
            strings(b, "loss_reason"),
        );
        let amounts = column("amount").and_then(|c| c.as_primitive_opt::<Float64Type>());
        let created = times(b, "created_at");
        let closes = column("close_date").and_then(|c| c.as_primitive_opt::<Date32Type>());
        let closed = column("closed").and_then(|c| c.as_boolean_opt());
        let won = column("won").and_then(|c| c.as_boolean_opt());
        let months = column("contract_months").and_then(|c| c.as_primitive_opt::<Int64Type>());
        let reached: Vec<_> = MILESTONES
            .iter()
            .map(|m| times(b, &format!("{m}_at")))
            .collect();
        for i in 0..b.num_rows() {
            let values = std::array::from_fn(|k| {
                dims[k]
                    .filter(|a| !a.is_null(i))
                    .map(|a| Text::from(a.value(i)))
            });
            out.push(Deal::new(Deal {
                id: at(ids, i).map(Text::from).unwrap_or_default(),
                account_name: at(names, i).map(Text::from),
                amount: at(amounts, i).unwrap_or(0.0),
                created_at: at(created, i).unwrap_or(0),
                created_day: NaiveDate::MIN,
                close_date: at(closes, i).and_then(Date32Type::to_naive_date_opt),
                closed: at(closed, i).unwrap_or(false),
                won: at(won, i).unwrap_or(false),
                contract_months: at(months, i),
                loss_reason: at(reasons, i).map(Text::from),
                milestones: std::array::from_fn(|k| at(reached[k], i)),
                values,
                marketing: false,
                new_business: false,
            }));
        }
    }
    // Batches arrive in any order; sums in one order come out the same on every run.
    out.sort_unstable_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

#[cfg(test)]
pub(crate) fn deal(
    id: &str,
    amount: f64,
    created: &str,
    close: Option<&str>,
    closed: bool,
    won: bool,
    values: &[(Dim, &str)],
) -> Deal {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut v: [Option<Text>; Dim::ALL.len()] = Default::default();
    for (d, x) in values {
        v[*d as usize] = Some(Text::from(*x));
    }
    Deal::new(Deal {
        id: id.into(),
        account_name: None,
        amount,
        created_at: micros(day(created)),
        created_day: NaiveDate::MIN,
        close_date: close.map(day),
        closed,
        won,
        contract_months: None,
        loss_reason: None,
        milestones: [None; MILESTONES.len()],
        values: v,
        marketing: false,
        new_business: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_closed_acv_and_cycle() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut x = deal(
            "o",
            1200.0,
            "2026-07-01",
            Some("2026-07-31"),
            true,
            true,
            &[],
        );
        assert!(x.open_at(d("2026-07-31")));
        assert!(!x.open_at(d("2026-08-01")));
        assert!(
            !x.open_at(d("2026-07-01")),
            "not yet created at its creation day's start"
        );
        assert_eq!(x.cycle_days(), Some(30.0));
        assert_eq!(x.acv(), 1200.0);
        x.contract_months = Some(24);
        assert_eq!(x.acv(), 600.0);
        x.contract_months = Some(0);
        assert_eq!(x.acv(), 1200.0);
        x.close_date = None;
        assert!(
            !x.open_at(d("2026-07-15")),
            "closed, date unknown: not open"
        );
        assert_eq!(x.kind(), NEW_BUSINESS);
        assert_eq!(x.source(), "other");
        assert_eq!("Account".parse::<Dim>(), Ok(Dim::Account));
        assert!("colour".parse::<Dim>().unwrap_err().contains("industry"));
    }
}
