//! The ten canonical tables of SPEC §1: their fields, types and Arrow schemas.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// How a field's text is parsed and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, kept as given (trimmed).
    Text,
    /// An email address: one `@` with text on both sides; stored lower case.
    Email,
    /// An IPv4 or IPv6 address.
    Ip,
    /// `;`-separated domains, normalised to registrable domains.
    Domains,
    /// A whole number.
    Int,
    /// A non-negative whole number (counts).
    Count,
    /// A decimal number.
    Float,
    /// A decimal number ≥ 0 (money, durations).
    NonNegative,
    /// A percentage 0–100 (scroll depth).
    Percent,
    /// `true/false/1/0/yes/no`, any case.
    Bool,
    /// RFC 3339 (offset honoured, none = UTC) or a bare date (midnight UTC).
    Timestamp,
    /// A calendar date `2026-09-30` (a timestamp is accepted and cut to its UTC date).
    Date,
    /// A calendar month `2026-09`.
    Month,
    /// A JSON object.
    JsonObject,
    /// One value of a closed list (compared lower-case, spaces and hyphens as `_`).
    OneOf(&'static [&'static str]),
    /// An activity type: the SPEC §4 catalogue plus types declared in the config.
    ActivityType,
    /// A network: CIDR (`203.0.113.0/24`, `2001:db8::/32`) or `start_ip-end_ip`.
    Network,
    /// A survey score; its range depends on the row's `kind` (nps 0–10, csat 1–5).
    SurveyScore,
}

impl FieldKind {
    /// The Arrow type a field of this kind is stored as.
    pub fn data_type(self) -> DataType {
        match self {
            FieldKind::Int | FieldKind::Count | FieldKind::SurveyScore => DataType::Int64,
            FieldKind::Float | FieldKind::NonNegative | FieldKind::Percent => DataType::Float64,
            FieldKind::Bool => DataType::Boolean,
            FieldKind::Timestamp => timestamp_type(),
            FieldKind::Date => DataType::Date32,
            _ => DataType::Utf8,
        }
    }
}

/// The one timestamp type of the store: microseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// One column of a canonical table.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
}

const fn req(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: true,
    }
}
const fn opt(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required: false,
    }
}

use FieldKind::*;

pub const OPPORTUNITY_TYPES: &[&str] = &["new_business", "upsell", "cross_sell", "renewal"];
pub const OPPORTUNITY_SOURCES: &[&str] = &["marketing", "sales", "partner", "other"];
pub const IP_RANGE_TYPES: &[&str] = &["business", "isp", "hosting", "education"];
pub const SURVEY_KINDS: &[&str] = &["nps", "csat"];

const ACCOUNTS: &[FieldSpec] = &[
    req("id", Text),
    req("name", Text),
    opt("domain", Domains),
    opt("industry", Text),
    opt("region", Text),
    opt("country", Text),
    opt("employees", Count),
    opt("annual_revenue", NonNegative),
    opt("tier", Text),
    opt("is_target", Bool),
    opt("owner", Text),
    opt("created_at", Timestamp),
];

const CONTACTS: &[FieldSpec] = &[
    req("id", Text),
    opt("account_id", Text),
    opt("email", Email),
    opt("first_name", Text),
    opt("last_name", Text),
    opt("company", Text),
    opt("title", Text),
    opt("department", Text),
    opt("seniority", Text),
    opt("persona", Text),
    opt("lead_source", Text),
    opt("lead_source_detail", Text),
    opt("self_reported_source", Text),
    opt("status", Text),
    opt("created_at", Timestamp),
    opt("mql_at", Timestamp),
];

const ACTIVITIES: &[FieldSpec] = &[
    req("id", Text),
    req("timestamp", Timestamp),
    req("type", ActivityType),
    opt("contact_id", Text),
    opt("email", Email),
    opt("anonymous_id", Text),
    opt("account_id", Text),
    opt("ip", Ip),
    opt("source", Text),
    opt("channel", Text),
    opt("campaign_id", Text),
    opt("url", Text),
    opt("referrer", Text),
    opt("utm_source", Text),
    opt("utm_medium", Text),
    opt("utm_campaign", Text),
    opt("utm_term", Text),
    opt("utm_content", Text),
    opt("duration_minutes", NonNegative),
    opt("scroll_depth", Percent),
    opt("status", Text),
    opt("properties", JsonObject),
];

const OPPORTUNITIES: &[FieldSpec] = &[
    req("id", Text),
    req("account_id", Text),
    opt("name", Text),
    req("amount", NonNegative),
    req("stage", Text),
    opt("type", OneOf(OPPORTUNITY_TYPES)),
    req("created_at", Timestamp),
    opt("close_date", Date),
    opt("is_closed", Bool),
    opt("is_won", Bool),
    opt("source", OneOf(OPPORTUNITY_SOURCES)),
    opt("lead_source", Text),
    opt("contract_months", Count),
    opt("loss_reason", Text),
    opt("competitor", Text),
    opt("product", Text),
    opt("owner", Text),
    opt("self_reported_source", Text),
];

const OPPORTUNITY_STAGES: &[FieldSpec] = &[
    req("opportunity_id", Text),
    req("stage", Text),
    req("entered_at", Timestamp),
];

const CAMPAIGNS: &[FieldSpec] = &[
    req("id", Text),
    req("name", Text),
    opt("channel", Text),
    opt("type", Text),
    opt("start_date", Date),
    opt("end_date", Date),
    opt("budget", NonNegative),
    opt("actual_cost", NonNegative),
];

const AD_PERFORMANCE: &[FieldSpec] = &[
    req("date", Date),
    req("channel", Text),
    opt("campaign_id", Text),
    opt("account_id", Text),
    opt("impressions", Count),
    opt("clicks", Count),
    opt("spend", NonNegative),
    opt("video_views", Count),
    opt("video_completions", Count),
    opt("reach", Count),
    opt("leads", Count),
    opt("engagements", Count),
];

const IP_RANGES: &[FieldSpec] = &[
    req("network", Network),
    // One of account_id and domain is required; checked per row.
    opt("account_id", Text),
    opt("domain", Domains),
    opt("type", OneOf(IP_RANGE_TYPES)),
];

const REVENUE: &[FieldSpec] = &[
    req("account_id", Text),
    req("month", Month),
    req("mrr", NonNegative),
    opt("product", Text),
];

const SURVEYS: &[FieldSpec] = &[
    req("id", Text),
    req("timestamp", Timestamp),
    req("kind", OneOf(SURVEY_KINDS)),
    req("score", SurveyScore),
    opt("account_id", Text),
    opt("contact_id", Text),
    opt("comment", Text),
];

/// How a new import combines with what the table already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Entity tables: a row replaces the stored row with the same `id` (latest import wins);
    /// an id twice in one import is a bad row.
    UpsertById,
    /// Facts with an id (activities, surveys): an id already stored, or seen earlier in the
    /// same import, is dropped as a duplicate; the first copy stays.
    AppendNewIds,
    /// Facts without an id: the import replaces every stored row whose key (these columns)
    /// occurs in it, so re-importing an overlapping export never double counts.
    ReplaceByKey(&'static [&'static str]),
}

/// The canonical tables, in dependency order (a table only refers to tables before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Accounts,
    Contacts,
    Campaigns,
    Opportunities,
    OpportunityStages,
    Activities,
    AdPerformance,
    IpRanges,
    Revenue,
    Surveys,
}

impl Table {
    pub const ALL: [Table; 10] = [
        Table::Accounts,
        Table::Contacts,
        Table::Campaigns,
        Table::Opportunities,
        Table::OpportunityStages,
        Table::Activities,
        Table::AdPerformance,
        Table::IpRanges,
        Table::Revenue,
        Table::Surveys,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::Contacts => "contacts",
            Table::Campaigns => "campaigns",
            Table::Opportunities => "opportunities",
            Table::OpportunityStages => "opportunity_stages",
            Table::Activities => "activities",
            Table::AdPerformance => "ad_performance",
            Table::IpRanges => "ip_ranges",
            Table::Revenue => "revenue",
            Table::Surveys => "surveys",
        }
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Table::Accounts => ACCOUNTS,
            Table::Contacts => CONTACTS,
            Table::Campaigns => CAMPAIGNS,
            Table::Opportunities => OPPORTUNITIES,
            Table::OpportunityStages => OPPORTUNITY_STAGES,
            Table::Activities => ACTIVITIES,
            Table::AdPerformance => AD_PERFORMANCE,
            Table::IpRanges => IP_RANGES,
            Table::Revenue => REVENUE,
            Table::Surveys => SURVEYS,
        }
    }

    pub fn merge(self) -> Merge {
        match self {
            Table::Accounts | Table::Contacts | Table::Campaigns | Table::Opportunities => {
                Merge::UpsertById
            }
            Table::Activities | Table::Surveys => Merge::AppendNewIds,
            Table::OpportunityStages => Merge::ReplaceByKey(&["opportunity_id"]),
            Table::AdPerformance => {
                Merge::ReplaceByKey(&["date", "channel", "campaign_id", "account_id"])
            }
            Table::IpRanges => Merge::ReplaceByKey(&["network"]),
            Table::Revenue => Merge::ReplaceByKey(&["account_id", "month", "product"]),
        }
    }

    /// Whether the merge key names one row: then the last row of a key within one import
    /// wins. Not so for ad_performance (several ad-group rows per campaign and day) and
    /// opportunity_stages (several stages per opportunity).
    pub fn key_is_unique(self) -> bool {
        !matches!(self, Table::AdPerformance | Table::OpportunityStages)
    }

    /// Unknown input columns go into `properties` (activities) or are ignored with a warning.
    pub fn keeps_unknown_columns(self) -> bool {
        self == Table::Activities
    }

    pub fn field_index(self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }

    /// The Arrow schema the table is stored with.
    pub fn schema(self) -> SchemaRef {
        static SCHEMAS: OnceLock<Vec<SchemaRef>> = OnceLock::new();
        let all = SCHEMAS.get_or_init(|| {
            Table::ALL
                .iter()
                .map(|t| {
                    let fields: Vec<Field> = t
                        .fields()
                        .iter()
                        .map(|f| Field::new(f.name, f.kind.data_type(), !f.required))
                        .collect();
                    Arc::new(Schema::new(fields))
                })
                .collect()
        });
        all[self as usize].clone()
    }

    /// The table a file holds, from its name: `accounts.csv`, `activities-2026-09.jsonl`,
    /// `opportunity_stages_2026.csv`. The longest table name that the file name starts with,
    /// followed by the end or a separator, wins.
    pub fn from_file_name(file_name: &str) -> Option<Table> {
        let lower = file_name.to_ascii_lowercase();
        let stem = lower.split('.').next().unwrap_or("");
        let mut best: Option<Table> = None;
        for t in Table::ALL {
            let name = t.name();
            let alt = name.replace('_', "-");
            for n in [name, alt.as_str()] {
                if let Some(rest) = stem.strip_prefix(n) {
                    let ok = rest.is_empty()
                        || rest.starts_with(['-', '_', ' '])
                        || rest.starts_with(|c: char| c.is_ascii_digit());
                    if ok && best.is_none_or(|b| b.name().len() < name.len()) {
                        best = Some(t);
                    }
                }
            }
        }
        best
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Table {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Table::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
                format!(
                    "unknown table kind `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_from_file_names() {
        assert_eq!(Table::from_file_name("accounts.csv"), Some(Table::Accounts));
        assert_eq!(
            Table::from_file_name("activities-2026-09.jsonl"),
            Some(Table::Activities)
        );
        assert_eq!(
            Table::from_file_name("opportunity_stages.csv"),
            Some(Table::OpportunityStages)
        );
        assert_eq!(
            Table::from_file_name("Opportunities_2026.CSV"),
            Some(Table::Opportunities)
        );
        assert_eq!(
            Table::from_file_name("ip-ranges.csv"),
            Some(Table::IpRanges)
        );
        assert_eq!(Table::from_file_name("accountsx.csv"), None);
        assert_eq!(Table::from_file_name("notes.csv"), None);
    }

    #[test]
    fn schemas_follow_fields() {
        for t in Table::ALL {
            assert_eq!(t.schema().fields().len(), t.fields().len());
        }
        assert_eq!(
            Table::Activities.schema().field(1).data_type(),
            &timestamp_type()
        );
    }
}
