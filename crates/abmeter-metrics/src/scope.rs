//! What an engagement report groups by and filters on (SPEC §4 drill-down, §9 `--by`,
//! `--account`, `--segment`): account dimensions from `accounts`, contact dimensions and the
//! activity type from the engagement cube, and the activity dimensions only raw events carry
//! (source, channel, campaign).
//!
//! Every name is checked against this list and every value is quoted, so user input never
//! becomes SQL.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

/// A dimension to group or filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Account,
    Region,
    Industry,
    Tier,
    Country,
    Owner,
    IsTarget,
    Department,
    Seniority,
    Persona,
    Type,
    Source,
    Channel,
    Campaign,
    /// The contact (the account page's contacts by engagement).
    Contact,
}

impl Dim {
    pub const ALL: [Dim; 15] = [
        Dim::Account,
        Dim::Region,
        Dim::Industry,
        Dim::Tier,
        Dim::Country,
        Dim::Owner,
        Dim::IsTarget,
        Dim::Department,
        Dim::Seniority,
        Dim::Persona,
        Dim::Type,
        Dim::Source,
        Dim::Channel,
        Dim::Campaign,
        Dim::Contact,
    ];

    /// The name on the command line and in the rows (`--by industry` → field `industry`).
    pub fn name(self) -> &'static str {
        match self {
            Dim::Account => "account",
            Dim::Region => "region",
            Dim::Industry => "industry",
            Dim::Tier => "tier",
            Dim::Country => "country",
            Dim::Owner => "owner",
            Dim::IsTarget => "is_target",
            Dim::Department => "department",
            Dim::Seniority => "seniority",
            Dim::Persona => "persona",
            Dim::Type => "type",
            Dim::Source => "source",
            Dim::Channel => "channel",
            Dim::Campaign => "campaign",
            Dim::Contact => "contact",
        }
    }

    /// The SQL expression over the facts `f` joined to `accounts a`.
    pub fn expr(self) -> &'static str {
        match self {
            Dim::Account => "f.account_id",
            Dim::Region => "a.region",
            Dim::Industry => "a.industry",
            Dim::Tier => "a.tier",
            Dim::Country => "a.country",
            Dim::Owner => "a.owner",
            Dim::IsTarget => "a.is_target",
            Dim::Department => "f.department",
            Dim::Seniority => "f.seniority",
            Dim::Persona => "f.persona",
            Dim::Type => "f.type",
            Dim::Source => "f.source",
            Dim::Channel => "f.channel",
            Dim::Campaign => "f.campaign_id",
            Dim::Contact => "f.contact_id",
        }
    }

    /// A property of the account itself (not of its contacts or activities).
    pub fn is_account_dimension(self) -> bool {
        matches!(
            self,
            Dim::Account
                | Dim::Region
                | Dim::Industry
                | Dim::Tier
                | Dim::Country
                | Dim::Owner
                | Dim::IsTarget
        )
    }

    /// Only raw events carry it: the cube does not.
    pub fn needs_raw_events(self) -> bool {
        matches!(self, Dim::Source | Dim::Channel | Dim::Campaign)
    }

    /// The output columns for a grouping by this dimension.
    pub fn columns(self) -> Vec<(&'static str, String)> {
        match self {
            Dim::Account => vec![
                ("account_id", "f.account_id".into()),
                ("account_name", "max(a.name)".into()),
            ],
            // Needs `contacts c` joined (see [`CONTACT_JOIN`]).
            Dim::Contact => vec![
                ("contact_id", "f.contact_id".into()),
                ("contact_name", format!("max({})", contact_name("c"))),
                ("title", "max(c.title)".into()),
            ],
            d => vec![(d.name(), d.expr().into())],
        }
    }
}

impl FromStr for Dim {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "account_id" => "account",
            "campaign_id" => "campaign",
            "contact_id" => "contact",
            other => other,
        };
        Dim::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Dim::ALL.iter().map(|d| d.name()).collect();
            format!(
                "unknown dimension `{s}`; expected one of {}",
                names.join(", ")
            )
        })
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `--by DIM[,DIM]`.
pub fn parse_dims(text: &str) -> Result<Vec<Dim>, String> {
    let mut dims = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let d: Dim = part.parse()?;
        if !dims.contains(&d) {
            dims.push(d);
        }
    }
    if dims.is_empty() {
        return Err("--by needs at least one dimension".into());
    }
    Ok(dims)
}

/// `--account ID` and `--segment DIM=VALUE` filters (all must hold).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub account: Option<String>,
    pub segments: Vec<(Dim, String)>,
}

impl Filters {
    /// Parses `--segment` values: `industry=Software`, several allowed.
    pub fn new(account: Option<String>, segments: &[String]) -> Result<Filters, String> {
        let mut out = Filters {
            account,
            segments: Vec::new(),
        };
        for s in segments {
            let (k, v) = s.split_once('=').ok_or_else(|| {
                format!("--segment `{s}` must be DIM=VALUE, e.g. industry=Software")
            })?;
            out.segments.push((k.parse()?, v.trim().to_string()));
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.account.is_none() && self.segments.is_empty()
    }

    pub fn needs_raw_events(&self) -> bool {
        self.segments.iter().any(|(d, _)| d.needs_raw_events())
    }

    /// ` AND …` conditions over `f` and `a`; text compares case-insensitively.
    pub fn sql(&self) -> String {
        let mut out = String::new();
        if let Some(a) = &self.account {
            out.push_str(&format!(" AND f.account_id = {}", quote(a)));
        }
        for (d, v) in &self.segments {
            out.push_str(&format!(
                " AND lower(CAST({} AS VARCHAR)) = lower({})",
                d.expr(),
                quote(v)
            ));
        }
        out
    }

    /// The filters as report params.
    pub fn params(&self, params: &mut Map<String, Value>) {
        if let Some(a) = &self.account {
            params.insert("account".into(), json!(a));
        }
        if !self.segments.is_empty() {
            let seg: Map<String, Value> = self
                .segments
                .iter()
                .map(|(d, v)| (d.name().to_string(), json!(v)))
                .collect();
            params.insert("segment".into(), Value::Object(seg));
        }
    }
}

/// A SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The facts a report reads, as SQL: the cube, or raw resolved events with the same columns
/// plus source, channel and campaign when a dimension needs them.
pub fn facts(raw: bool) -> &'static str {
    if raw {
        "(SELECT resolved_account_id AS account_id, CAST(timestamp AS DATE) AS day, \
         resolved_contact_id AS contact_id, type, department, seniority, persona, minutes, \
         weighted_minutes, CAST(1 AS BIGINT) AS activities, source, channel, campaign_id \
         FROM resolved_activities WHERE resolved_account_id IS NOT NULL)"
    } else {
        "engagement_cube"
    }
}

/// The join [`Dim::Contact`]'s columns read.
pub const CONTACT_JOIN: &str = " LEFT JOIN contacts c ON c.id = f.contact_id";

/// A contact's display name from `contacts` alias `c`: "First Last", or family name first
/// without a space when both parts are Chinese or Japanese script (郭杰, not 杰 郭).
pub fn contact_name(c: &str) -> String {
    format!(
        "CASE WHEN regexp_like(concat({c}.first_name, {c}.last_name), \
         '^[\\p{{Han}}\\p{{Hiragana}}\\p{{Katakana}}]+$') \
         THEN concat({c}.last_name, {c}.first_name) \
         ELSE concat_ws(' ', {c}.first_name, {c}.last_name) END"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_parse_and_refuse_unknown_names() {
        assert_eq!(
            parse_dims("industry, department,industry").unwrap(),
            vec![Dim::Industry, Dim::Department]
        );
        assert_eq!(parse_dims("account_id").unwrap(), vec![Dim::Account]);
        let e = parse_dims("colour").unwrap_err();
        assert!(e.contains("unknown dimension `colour`"), "{e}");
    }

    #[test]
    fn filter_values_are_quoted() {
        let f = Filters::new(Some("o'brien".into()), &["industry=Soft'ware".into()]).unwrap();
        assert_eq!(
            f.sql(),
            " AND f.account_id = 'o''brien' AND lower(CAST(a.industry AS VARCHAR)) = lower('Soft''ware')"
        );
        assert!(Filters::new(None, &["industry".into()]).is_err());
    }
}
