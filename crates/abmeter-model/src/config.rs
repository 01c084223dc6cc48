//! The workspace configuration, `abmeter.toml` (SPEC §10): every knob of SPEC §4–§10 with its
//! default, how a file is read (unknown keys and wrong types refused with their key path),
//! merged (the activity catalogue) and validated, and the commented template `abmeter init`
//! writes.
//!
//! Merge rules, in short: a section or key left out of the file keeps its default. A list
//! given in the file (title rules, dark-funnel rules, sourcing lists, referrers, keys) replaces
//! the default list whole. The activity catalogue is the exception: it is merged per type and
//! per key (see [`Config::activities`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The seniority levels of SPEC §4, in heatmap column order.
pub const SENIORITIES: [&str; 6] = [
    "c_level",
    "vp",
    "director",
    "manager",
    "individual",
    "unknown",
];

/// The departments of SPEC §4, in heatmap row order: the twelve of the title rules, then
/// `other` (a title matching no rule) and `unknown` (no title).
pub const DEPARTMENTS: [&str; 14] = [
    "marketing",
    "sales",
    "customer_success",
    "it",
    "engineering",
    "product",
    "finance",
    "operations",
    "hr",
    "legal",
    "procurement",
    "executive",
    "other",
    "unknown",
];

/// Activity types only Segment/RudderStack calls carry (SPEC §9): `identify` and `alias`
/// stitch visitors, `group` links people to accounts, `track` is an event whose name maps to
/// no activity type. They are kept in `activities` but are not interactions: the
/// `resolved_activities` view, and so every metric, leaves them out.
pub const CALL_TYPES: [&str; 4] = ["identify", "group", "alias", "track"];

/// Environment variable whose comma-separated value replaces `server.write_keys`.
pub const ENV_WRITE_KEYS: &str = "ABMETER_WRITE_KEYS";
/// Environment variable whose comma-separated value replaces `server.read_tokens`.
pub const ENV_READ_TOKENS: &str = "ABMETER_READ_TOKENS";
/// Environment variable whose value replaces `server.bind`.
pub const ENV_BIND: &str = "ABMETER_BIND";

/// The `source` of an activity type declared in the config without one.
pub const DEFAULT_CUSTOM_SOURCE: &str = "other";

// ---------------------------------------------------------------------------------------------
// Error

/// A refused configuration: the key path (`mqa.window_days`, `activities.call.cap_minutes`,
/// an environment variable name for [`Config::apply_env`], or empty for a TOML syntax error)
/// and the reason, naming the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_error(.key, .message))]
pub struct ConfigError {
    /// Dotted key path of the offending value; empty when the file is not valid TOML.
    pub key: String,
    /// What is wrong, with the value (and for parse errors the line and column).
    pub message: String,
}

impl ConfigError {
    /// An error at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

fn render_error(key: &str, message: &str) -> String {
    if key.is_empty() {
        message.to_string()
    } else {
        format!("`{key}`: {message}")
    }
}

fn err<T>(key: impl Into<String>, message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::new(key, message))
}

// ---------------------------------------------------------------------------------------------
// Config

/// The whole `abmeter.toml`. [`Config::default`] is the SPEC's defaults; [`Config::template`]
/// writes them out with comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// First month (1–12) of the fiscal year; fiscal quarters and years start there
    /// (4 = April–June is Q1 of the fiscal year labelled by the calendar year it starts in).
    pub fiscal_year_start_month: u32,
    /// The activity catalogue, type name → worth in minutes (SPEC §4). Reading a file merges
    /// its `[activities]` onto the built-in catalogue: a new type is added (keys left out:
    /// 0 minutes, no duration, source `other`), a built-in type is overridden key by key
    /// (keys left out keep the built-in values; `use_duration = false` without a
    /// `cap_minutes` also drops the built-in cap). Built-in types cannot be removed.
    #[serde(deserialize_with = "deserialize_activities")]
    pub activities: BTreeMap<String, ActivityType>,
    /// Multiplier on minutes by the contact's seniority (weighted minutes).
    pub seniority_weights: SeniorityWeights,
    /// Multiplier on an account's weighted minutes by its `tier`; a tier not listed is 1.0.
    pub tier_weights: BTreeMap<String, f64>,
    /// Keyword rules deriving seniority and department from a title.
    pub title_rules: TitleRules,
    /// Persona rules: a contact without a persona gets the first rule that fits it (SPEC §3).
    /// Empty by default (no derived personas).
    pub personas: Vec<PersonaRule>,
    /// Ideal heatmap: department → seniority → minimum unweighted minutes; empty by default.
    pub ideal_heatmap: BTreeMap<String, BTreeMap<String, f64>>,
    /// Marketing-qualified accounts.
    pub mqa: MqaConfig,
    /// Surge and decline alerts.
    pub alerts: AlertsConfig,
    /// Attribution.
    pub attribution: AttributionConfig,
    /// Marketing vs sales sourcing of opportunities.
    pub sourcing: SourcingConfig,
    /// Web sessions and traffic classes.
    pub web: WebConfig,
    /// Grouping of self-reported sources.
    pub dark_funnel: DarkFunnelConfig,
    /// Engagement → outcomes windows.
    pub outcomes: OutcomesConfig,
    /// Ideal customer profile.
    pub icp: IcpConfig,
    /// Quota and revenue targets per period.
    pub targets: TargetsConfig,
    /// Currency and margin.
    pub finance: FinanceConfig,
    /// `abmeter serve`.
    pub server: ServerConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fiscal_year_start_month: 1,
            activities: builtin_activities(),
            seniority_weights: SeniorityWeights::default(),
            tier_weights: BTreeMap::new(),
            title_rules: TitleRules::default(),
            personas: Vec::new(),
            ideal_heatmap: BTreeMap::new(),
            mqa: MqaConfig::default(),
            alerts: AlertsConfig::default(),
            attribution: AttributionConfig::default(),
            sourcing: SourcingConfig::default(),
            web: WebConfig::default(),
            dark_funnel: DarkFunnelConfig::default(),
            outcomes: OutcomesConfig::default(),
            icp: IcpConfig::default(),
            targets: TargetsConfig::default(),
            finance: FinanceConfig::default(),
            server: ServerConfig::default(),
        }
    }
}

impl Config {
    /// Reads an `abmeter.toml`: parses it (an unknown key or a wrongly typed value is refused
    /// with its key path), merges the activity catalogue onto the built-in one and validates
    /// the result. An empty text is the default configuration.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::parse(text).map_err(|e| {
            let mut e = toml_error(text, "", &e);
            e.message.insert_str(0, "invalid TOML: ");
            e
        })?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            toml_error(text, &path, e.inner())
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The commented `abmeter.toml` that `abmeter init` writes: every default written out,
    /// each key with a comment on what it does and its unit.
    pub fn template() -> &'static str {
        include_str!("config/template.toml")
    }

    /// Applies the environment overrides: `ABMETER_WRITE_KEYS` and `ABMETER_READ_TOKENS`
    /// (comma-separated; blanks around and empty items ignored) replace `server.write_keys`
    /// and `server.read_tokens`; `ABMETER_BIND` replaces `server.bind`. A variable that is
    /// unset or blank changes nothing. `get` looks a variable up (`|k| std::env::var(k).ok()`).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(value) = set(ENV_WRITE_KEYS) {
            let keys = split_list(&value);
            for key in &keys {
                check_write_key(ENV_WRITE_KEYS, key)?;
            }
            self.server.write_keys = keys;
        }
        if let Some(value) = set(ENV_READ_TOKENS) {
            let tokens = split_list(&value);
            for token in &tokens {
                check_read_token(ENV_READ_TOKENS, token)?;
            }
            self.server.read_tokens = tokens;
        }
        if let Some(value) = set(ENV_BIND) {
            let value = value.trim().to_string();
            check_bind(ENV_BIND, &value)?;
            self.server.bind = value;
        }
        Ok(())
    }

    /// The catalogue entry of an activity type.
    pub fn activity(&self, ty: &str) -> Option<&ActivityType> {
        self.activities.get(ty)
    }

    /// Every activity type of the catalogue (built-in and declared), in name order.
    pub fn activity_type_names(&self) -> impl Iterator<Item = &str> {
        self.activities.keys().map(String::as_str)
    }

    /// The weight of a seniority level (case-insensitive); any other name gets the `unknown`
    /// weight.
    pub fn seniority_weight(&self, seniority: &str) -> f64 {
        self.seniority_weights
            .get(seniority)
            .unwrap_or(self.seniority_weights.unknown)
    }

    /// The weight of an account tier: the `tier_weights` entry of that exact name, else one
    /// whose name equals it ignoring case and surrounding blanks, else 1.0 (also with no tier).
    pub fn tier_weight(&self, tier: Option<&str>) -> f64 {
        let Some(tier) = tier else { return 1.0 };
        if let Some(w) = self.tier_weights.get(tier) {
            return *w;
        }
        let wanted = tier.trim();
        self.tier_weights
            .iter()
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted))
            .map_or(1.0, |(_, w)| *w)
    }

    /// The activity types that count as attribution touches (SPEC §7): the configured
    /// `attribution.touch_types`, else every catalogue type whose minutes are > 0 plus
    /// `ad_impression` when `attribution.view_through` is on.
    pub fn attribution_touch_types(&self) -> BTreeSet<String> {
        self.attribution.effective_touch_types(&self.activities)
    }

    /// The ideal minutes of a heatmap cell (0 when the config declares none).
    pub fn ideal_minutes(&self, department: &str, seniority: &str) -> f64 {
        self.ideal_heatmap
            .get(department)
            .and_then(|row| row.get(seniority))
            .copied()
            .unwrap_or(0.0)
    }

    /// Checks every value; the first problem is returned with its key path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=12).contains(&self.fiscal_year_start_month) {
            return err(
                "fiscal_year_start_month",
                format!("must be 1–12, got {}", self.fiscal_year_start_month),
            );
        }
        for (name, activity) in &self.activities {
            activity.validate(name)?;
        }
        self.seniority_weights.validate()?;
        for (tier, weight) in &self.tier_weights {
            if tier.trim().is_empty() {
                return err("tier_weights", "a tier name must not be empty");
            }
            non_negative(&format!("tier_weights.{tier}"), *weight)?;
        }
        self.title_rules.validate()?;
        for (i, rule) in self.personas.iter().enumerate() {
            rule.validate(&format!("personas[{i}]"))?;
        }
        for (department, row) in &self.ideal_heatmap {
            let key = format!("ideal_heatmap.{department}");
            if !DEPARTMENTS.contains(&department.as_str()) {
                return err(
                    key,
                    format!(
                        "unknown department (expected one of {})",
                        DEPARTMENTS.join(", ")
                    ),
                );
            }
            for (seniority, minutes) in row {
                let key = format!("{key}.{seniority}");
                if !SENIORITIES.contains(&seniority.as_str()) {
                    return err(
                        key,
                        format!(
                            "unknown seniority (expected one of {})",
                            SENIORITIES.join(", ")
                        ),
                    );
                }
                non_negative(&key, *minutes)?;
            }
        }
        self.mqa.validate()?;
        self.alerts.validate()?;
        self.attribution.validate(&self.activities)?;
        self.sourcing.validate()?;
        self.web.validate()?;
        self.dark_funnel.validate()?;
        self.outcomes.validate()?;
        self.icp.validate()?;
        self.targets.validate()?;
        self.finance.validate()?;
        self.server.validate()?;
        for name in CALL_TYPES {
            if self.activities.contains_key(name) && !is_builtin_activity(name) {
                return err(
                    format!("activities.{name}"),
                    "is the type of Segment calls that are not interactions (identify, group, \
                     alias, unmapped track); choose another name",
                );
            }
        }
        for (event, ty) in &self.server.track_events {
            if !self.activities.contains_key(ty) {
                return err(
                    format!("server.track_events.{event:?}"),
                    format!("names no activity type of the catalogue: {ty:?}"),
                );
            }
        }
        Ok(())
    }
}

/// Turns a TOML or serde error into a [`ConfigError`] at `key`, with line and column.
fn toml_error(text: &str, key: &str, e: &toml::de::Error) -> ConfigError {
    let mut message = e.message().trim().to_string();
    if let Some(span) = e.span() {
        let (line, column) = line_column(text, span.start);
        message.push_str(&format!(" (line {line}, column {column})"));
    }
    ConfigError::new(key, message)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Activity catalogue

/// What one activity type is worth (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivityType {
    /// Minutes credited to one activity of the type (≥ 0).
    pub minutes: f64,
    /// Whether the activity's own `duration_minutes`, when present, counts instead of
    /// `minutes`.
    pub use_duration: bool,
    /// Upper bound, in minutes, on a counted duration (> 0); only with `use_duration`.
    /// `None` = no cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_minutes: Option<f64>,
    /// The source the type is grouped under (`web`, `marketing_automation`, `crm`, …).
    pub source: String,
}

impl Default for ActivityType {
    /// A type declared in the config with nothing said: 0 minutes, no duration, source
    /// `other`.
    fn default() -> Self {
        ActivityType {
            minutes: 0.0,
            use_duration: false,
            cap_minutes: None,
            source: DEFAULT_CUSTOM_SOURCE.to_string(),
        }
    }
}

impl ActivityType {
    /// Minutes of one activity of this type (SPEC §4): when the type uses duration and the
    /// activity has one, that duration capped at `cap_minutes` (uncapped when there is no cap;
    /// a negative or NaN duration counts as 0); otherwise the catalogue minutes.
    pub fn minutes_for(&self, duration_minutes: Option<f64>) -> f64 {
        match duration_minutes {
            Some(d) if self.use_duration => {
                let d = d.max(0.0); // NaN.max(0.0) is 0.0
                self.cap_minutes.map_or(d, |cap| d.min(cap))
            }
            _ => self.minutes,
        }
    }

    fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let key = format!("activities.{name}");
        if !is_snake_case(name) {
            return err(
                key,
                "an activity type name must be snake_case (a–z, 0–9 and _)",
            );
        }
        non_negative(&format!("{key}.minutes"), self.minutes)?;
        if let Some(cap) = self.cap_minutes {
            positive(&format!("{key}.cap_minutes"), cap)?;
            if !self.use_duration {
                return err(
                    format!("{key}.cap_minutes"),
                    format!("a cap ({cap}) only applies with use_duration = true"),
                );
            }
        }
        if self.source.trim().is_empty() {
            return err(format!("{key}.source"), "must not be empty");
        }
        Ok(())
    }
}

/// The same type with only the keys a config file gave.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityPatch {
    minutes: Option<f64>,
    use_duration: Option<bool>,
    cap_minutes: Option<f64>,
    source: Option<String>,
}

impl ActivityPatch {
    fn apply(self, to: &mut ActivityType) {
        if let Some(minutes) = self.minutes {
            to.minutes = minutes;
        }
        if let Some(use_duration) = self.use_duration {
            to.use_duration = use_duration;
            if !use_duration && self.cap_minutes.is_none() {
                to.cap_minutes = None;
            }
        }
        if let Some(cap) = self.cap_minutes {
            to.cap_minutes = Some(cap);
        }
        if let Some(source) = self.source {
            to.source = source;
        }
    }
}

fn deserialize_activities<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, ActivityType>, D::Error> {
    let patches = BTreeMap::<String, ActivityPatch>::deserialize(deserializer)?;
    let mut catalogue = builtin_activities();
    for (name, patch) in patches {
        patch.apply(catalogue.entry(name).or_default());
    }
    Ok(catalogue)
}

/// (type, minutes, use_duration, cap_minutes, source): the catalogue of SPEC §4.
const BUILTIN_ACTIVITIES: [(&str, f64, bool, Option<f64>, &str); 35] = [
    ("page_view", 1.0, true, Some(30.0), "web"),
    ("scroll", 0.0, false, None, "web"),
    ("email_send", 0.0, false, None, "marketing_automation"),
    ("email_bounce", 0.0, false, None, "marketing_automation"),
    (
        "email_unsubscribe",
        0.0,
        false,
        None,
        "marketing_automation",
    ),
    ("email_open", 1.0, false, None, "marketing_automation"),
    ("email_click", 2.0, false, None, "marketing_automation"),
    ("ad_impression", 0.0, false, None, "advertising"),
    ("ad_click", 2.0, false, None, "advertising"),
    ("ad_engagement", 1.0, false, None, "advertising"),
    ("social_follow", 1.0, false, None, "social"),
    ("social_like", 1.0, false, None, "social"),
    ("social_share", 5.0, false, None, "social"),
    ("social_comment", 3.0, false, None, "social"),
    ("social_mention", 3.0, false, None, "social"),
    ("review_posted", 10.0, false, None, "social"),
    ("form_submit", 5.0, false, None, "marketing_automation"),
    (
        "content_download",
        10.0,
        false,
        None,
        "marketing_automation",
    ),
    ("video_view", 3.0, true, Some(60.0), "marketing_automation"),
    (
        "webinar_registration",
        2.0,
        false,
        None,
        "marketing_automation",
    ),
    (
        "event_registration",
        2.0,
        false,
        None,
        "marketing_automation",
    ),
    (
        "webinar_attended",
        30.0,
        true,
        Some(180.0),
        "marketing_automation",
    ),
    (
        "event_attended",
        60.0,
        true,
        Some(480.0),
        "marketing_automation",
    ),
    (
        "dinner_attended",
        120.0,
        true,
        Some(240.0),
        "marketing_automation",
    ),
    ("demo_request", 15.0, false, None, "web"),
    ("trial_signup", 10.0, false, None, "product"),
    ("product_usage", 0.0, true, Some(480.0), "product"),
    ("campaign_member", 0.0, false, None, "crm"),
    ("campaign_responded", 5.0, false, None, "crm"),
    ("task_completed", 5.0, false, None, "crm"),
    ("call", 10.0, true, Some(120.0), "sales"),
    ("sales_email_reply", 5.0, false, None, "sales"),
    ("meeting_scheduled", 0.0, false, None, "sales"),
    ("meeting_held", 30.0, true, Some(240.0), "sales"),
    ("meeting_canceled", 0.0, false, None, "sales"),
];

/// The built-in activity catalogue of SPEC §4 (35 types).
pub fn builtin_activities() -> BTreeMap<String, ActivityType> {
    BUILTIN_ACTIVITIES
        .iter()
        .map(|&(name, minutes, use_duration, cap_minutes, source)| {
            (
                name.to_string(),
                ActivityType {
                    minutes,
                    use_duration,
                    cap_minutes,
                    source: source.to_string(),
                },
            )
        })
        .collect()
}

/// Whether `name` is one of the built-in activity types of SPEC §4.
pub fn is_builtin_activity(name: &str) -> bool {
    BUILTIN_ACTIVITIES.iter().any(|(n, ..)| *n == name)
}

// ---------------------------------------------------------------------------------------------
// Seniority weights and title rules

/// Multiplier on an activity's minutes by its contact's seniority (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeniorityWeights {
    /// C-level (CEO, CFO, founder, …).
    pub c_level: f64,
    /// Vice presidents.
    pub vp: f64,
    /// Directors and heads of.
    pub director: f64,
    /// Managers and team leads.
    pub manager: f64,
    /// Everyone else with a title.
    pub individual: f64,
    /// No title, or an anonymous visitor resolved only to an account.
    pub unknown: f64,
}

impl Default for SeniorityWeights {
    fn default() -> Self {
        SeniorityWeights {
            c_level: 2.0,
            vp: 1.5,
            director: 1.25,
            manager: 1.0,
            individual: 0.8,
            unknown: 0.5,
        }
    }
}

impl SeniorityWeights {
    /// The weight of a level named in [`SENIORITIES`] (case-insensitive), else `None`.
    pub fn get(&self, seniority: &str) -> Option<f64> {
        let s = seniority.trim();
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("c_level") {
            Some(self.c_level)
        } else if is("vp") {
            Some(self.vp)
        } else if is("director") {
            Some(self.director)
        } else if is("manager") {
            Some(self.manager)
        } else if is("individual") {
            Some(self.individual)
        } else if is("unknown") {
            Some(self.unknown)
        } else {
            None
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for level in SENIORITIES {
            let weight = self.get(level).unwrap_or_default();
            non_negative(&format!("seniority_weights.{level}"), weight)?;
        }
        Ok(())
    }
}

/// Ordered keyword rules deriving a contact's seniority and department from its title
/// (SPEC §4). Keywords match whole words, case-insensitively, hyphens read as spaces; the
/// first matching rule wins. A file that gives either list replaces that list whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TitleRules {
    /// Seniority rules in match order; no match → `individual`, no title → `unknown`.
    pub seniority: Vec<SeniorityRule>,
    /// Department rules in match order; no match → `other`, no title → `unknown`.
    pub department: Vec<DepartmentRule>,
}

/// One seniority rule: a title with any of `keywords` is `level`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeniorityRule {
    /// `c_level`, `vp`, `director`, `manager` or `individual`.
    pub level: String,
    /// Whole-word, case-insensitive keywords.
    pub keywords: Vec<String>,
}

/// One department rule: a title with any of `keywords` is in `department`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DepartmentRule {
    /// One of the first twelve [`DEPARTMENTS`] (not `other` or `unknown`).
    pub department: String,
    /// Whole-word, case-insensitive keywords.
    pub keywords: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for TitleRules {
    fn default() -> Self {
        let seniority = [
            ("vp", &["VP", "vice president", "SVP", "EVP", "副总裁"][..]),
            (
                "c_level",
                &[
                    "CEO",
                    "CFO",
                    "CTO",
                    "CMO",
                    "CIO",
                    "COO",
                    "CRO",
                    "chief",
                    "president",
                    "founder",
                    "co founder",
                    "首席",
                    "总裁",
                    "总经理",
                ][..],
            ),
            ("director", &["director", "head of", "总监"][..]),
            ("manager", &["manager", "team lead", "经理", "主管"][..]),
        ];
        let department = [
            (
                "marketing",
                &["marketing", "brand", "demand", "growth", "市场", "营销"][..],
            ),
            (
                "sales",
                &[
                    "sales",
                    "account executive",
                    "business development",
                    "bdr",
                    "sdr",
                    "销售",
                ][..],
            ),
            (
                "customer_success",
                &["customer success", "support", "客户成功"][..],
            ),
            (
                "it",
                &[
                    "it",
                    "information technology",
                    "cio",
                    "infrastructure",
                    "security",
                    "信息",
                ][..],
            ),
            (
                "engineering",
                &[
                    "engineer",
                    "engineering",
                    "developer",
                    "software",
                    "cto",
                    "devops",
                    "工程",
                    "研发",
                    "技术",
                ][..],
            ),
            ("product", &["product", "产品"][..]),
            (
                "finance",
                &["finance", "cfo", "accounting", "controller", "财务"][..],
            ),
            ("operations", &["operations", "coo", "运营"][..]),
            (
                "hr",
                &[
                    "hr",
                    "human resources",
                    "people",
                    "talent",
                    "recruiting",
                    "人力",
                ][..],
            ),
            ("legal", &["legal", "counsel", "compliance", "法务"][..]),
            ("procurement", &["procurement", "purchasing", "采购"][..]),
            (
                "executive",
                &["ceo", "president", "founder", "总裁", "总经理"][..],
            ),
        ];
        TitleRules {
            seniority: seniority
                .iter()
                .map(|(level, keywords)| SeniorityRule {
                    level: level.to_string(),
                    keywords: strings(keywords),
                })
                .collect(),
            department: department
                .iter()
                .map(|(department, keywords)| DepartmentRule {
                    department: department.to_string(),
                    keywords: strings(keywords),
                })
                .collect(),
        }
    }
}

impl TitleRules {
    fn validate(&self) -> Result<(), ConfigError> {
        for (i, rule) in self.seniority.iter().enumerate() {
            let key = format!("title_rules.seniority[{i}]");
            let levels = &SENIORITIES[..5];
            if !levels.contains(&rule.level.as_str()) {
                return err(
                    format!("{key}.level"),
                    format!("must be one of {}, got {:?}", levels.join(", "), rule.level),
                );
            }
            keywords(&format!("{key}.keywords"), &rule.keywords)?;
        }
        for (i, rule) in self.department.iter().enumerate() {
            let key = format!("title_rules.department[{i}]");
            let departments = &DEPARTMENTS[..12];
            if !departments.contains(&rule.department.as_str()) {
                return err(
                    format!("{key}.department"),
                    format!(
                        "must be one of {}, got {:?}",
                        departments.join(", "),
                        rule.department
                    ),
                );
            }
            keywords(&format!("{key}.keywords"), &rule.keywords)?;
        }
        Ok(())
    }
}

/// One persona rule (SPEC §3 "persona from config mapping when declared"). A contact with no
/// persona of its own gets the persona of the first rule whose every non-empty list fits it:
/// its department is in `departments`, its seniority in `seniorities`, its title has one of
/// `keywords` (matched like the title rules: whole words, case-insensitive, hyphens as
/// spaces, CJK keywords anywhere). At least one list must be given.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersonaRule {
    /// The persona given to matching contacts (free text, e.g. `Economic buyer`).
    pub persona: String,
    /// Departments (of [`DEPARTMENTS`]) the rule applies to; empty = any.
    pub departments: Vec<String>,
    /// Seniority levels (of [`SENIORITIES`]) the rule applies to; empty = any.
    pub seniorities: Vec<String>,
    /// Title keywords, any of which must appear; empty = any title (or none).
    pub keywords: Vec<String>,
}

impl PersonaRule {
    fn validate(&self, key: &str) -> Result<(), ConfigError> {
        if self.persona.trim().is_empty() {
            return err(format!("{key}.persona"), "must not be empty");
        }
        if self.departments.is_empty() && self.seniorities.is_empty() && self.keywords.is_empty() {
            return err(
                key,
                "must list at least one of departments, seniorities or keywords",
            );
        }
        for (i, department) in self.departments.iter().enumerate() {
            if !DEPARTMENTS.contains(&department.as_str()) {
                return err(
                    format!("{key}.departments[{i}]"),
                    format!(
                        "must be one of {}, got {department:?}",
                        DEPARTMENTS.join(", ")
                    ),
                );
            }
        }
        for (i, seniority) in self.seniorities.iter().enumerate() {
            if !SENIORITIES.contains(&seniority.as_str()) {
                return err(
                    format!("{key}.seniorities[{i}]"),
                    format!(
                        "must be one of {}, got {seniority:?}",
                        SENIORITIES.join(", ")
                    ),
                );
            }
        }
        non_blank_items(&format!("{key}.keywords"), &self.keywords)
    }
}

fn keywords(key: &str, keywords: &[String]) -> Result<(), ConfigError> {
    if keywords.is_empty() {
        return err(key, "must list at least one keyword");
    }
    non_blank_items(key, keywords)
}

// ---------------------------------------------------------------------------------------------
// MQA, alerts, attribution

/// How an account's buying group is judged for MQA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuyingCenter {
    /// The account as a whole.
    #[default]
    Account,
    /// Each (account, department) alone.
    Department,
}

impl BuyingCenter {
    /// `account` or `department`.
    pub fn as_str(self) -> &'static str {
        match self {
            BuyingCenter::Account => "account",
            BuyingCenter::Department => "department",
        }
    }
}

impl Serialize for BuyingCenter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BuyingCenter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "account" => Ok(BuyingCenter::Account),
            "department" => Ok(BuyingCenter::Department),
            _ => Err(serde::de::Error::custom(format!(
                "must be \"account\" or \"department\", got {text:?}"
            ))),
        }
    }
}

/// Marketing-qualified accounts (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqaConfig {
    /// Trailing window, in days ending at the report date, over which engagement is summed.
    pub window_days: u32,
    /// Weighted minutes in the window needed to qualify.
    pub min_weighted_minutes: f64,
    /// Distinct engaged contacts in the window needed to qualify.
    pub min_contacts: u32,
    /// Only target accounts can qualify.
    pub target_only: bool,
    /// Judge whole accounts or each (account, department).
    pub buying_center: BuyingCenter,
    /// Days back compared for `newly_qualified`.
    pub newly_qualified_days: u32,
    /// Days after qualifying within which a sales touch counts as follow-up.
    pub follow_up_days: u32,
}

impl Default for MqaConfig {
    fn default() -> Self {
        MqaConfig {
            window_days: 90,
            min_weighted_minutes: 120.0,
            min_contacts: 2,
            target_only: false,
            buying_center: BuyingCenter::Account,
            newly_qualified_days: 7,
            follow_up_days: 7,
        }
    }
}

impl MqaConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        at_least_one("mqa.window_days", self.window_days.into())?;
        non_negative("mqa.min_weighted_minutes", self.min_weighted_minutes)?;
        at_least_one("mqa.newly_qualified_days", self.newly_qualified_days.into())?;
        at_least_one("mqa.follow_up_days", self.follow_up_days.into())?;
        Ok(())
    }
}

/// Surge and decline alerts (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Weeks before the current one forming the baseline (mean and population sd).
    pub baseline_weeks: u32,
    /// Weighted minutes the current week (surge) or the baseline mean (decline) needs.
    pub min_minutes: f64,
    /// URL alerts are POSTed to as JSON; `None` = no webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Surge: current ≥ this × baseline mean (≥ 1).
    pub surge_ratio: f64,
    /// Surge: z ≥ this (≥ 0).
    pub surge_z: f64,
    /// Decline: current ≤ this × baseline mean (0–1).
    pub decline_ratio: f64,
    /// Decline: z ≤ this (≤ 0).
    pub decline_z: f64,
    /// `abmeter serve` checks the last complete week this often and sends new alerts to
    /// `webhook_url` (0 = never).
    pub check_interval_secs: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            baseline_weeks: 8,
            min_minutes: 30.0,
            webhook_url: None,
            surge_ratio: 2.0,
            surge_z: 2.0,
            decline_ratio: 0.5,
            decline_z: -2.0,
            check_interval_secs: 3600,
        }
    }
}

impl AlertsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        at_least_one("alerts.baseline_weeks", self.baseline_weeks.into())?;
        non_negative("alerts.min_minutes", self.min_minutes)?;
        if let Some(url) = &self.webhook_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return err(
                    "alerts.webhook_url",
                    format!("must be an http:// or https:// URL, got {url:?}"),
                );
            }
        }
        let (r, z) = (self.surge_ratio, self.surge_z);
        if !r.is_finite() || r < 1.0 {
            return err("alerts.surge_ratio", format!("must be ≥ 1, got {r}"));
        }
        if !z.is_finite() || z < 0.0 {
            return err("alerts.surge_z", format!("must be ≥ 0, got {z}"));
        }
        let (r, z) = (self.decline_ratio, self.decline_z);
        if !(0.0..=1.0).contains(&r) {
            return err("alerts.decline_ratio", format!("must be 0–1, got {r}"));
        }
        if !z.is_finite() || z > 0.0 {
            return err("alerts.decline_z", format!("must be ≤ 0, got {z}"));
        }
        Ok(())
    }
}

/// Attribution (SPEC §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttributionConfig {
    /// Days before an opportunity's creation whose touches can be credited.
    pub lookback_days: u32,
    /// Half-life, in days, of the time_decay model.
    pub half_life_days: f64,
    /// Ad impressions count as touches.
    pub view_through: bool,
    /// Activity types that are touches; `None` = the default of
    /// [`AttributionConfig::effective_touch_types`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub touch_types: Option<Vec<String>>,
    /// Order of the markov model's chain (1–4).
    pub markov_order: u32,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            lookback_days: 180,
            half_life_days: 7.0,
            view_through: false,
            touch_types: None,
            markov_order: 1,
        }
    }
}

impl AttributionConfig {
    /// The touch types over `catalogue`: `touch_types` when given, else every type whose
    /// catalogue minutes are > 0, plus `ad_impression` when `view_through` is on.
    pub fn effective_touch_types(
        &self,
        catalogue: &BTreeMap<String, ActivityType>,
    ) -> BTreeSet<String> {
        if let Some(types) = &self.touch_types {
            return types.iter().cloned().collect();
        }
        let mut types: BTreeSet<String> = catalogue
            .iter()
            .filter(|(_, a)| a.minutes > 0.0)
            .map(|(name, _)| name.clone())
            .collect();
        if self.view_through {
            types.insert("ad_impression".to_string());
        }
        types
    }

    fn validate(&self, catalogue: &BTreeMap<String, ActivityType>) -> Result<(), ConfigError> {
        at_least_one("attribution.lookback_days", self.lookback_days.into())?;
        positive("attribution.half_life_days", self.half_life_days)?;
        if let Some(types) = &self.touch_types {
            if types.is_empty() {
                return err(
                    "attribution.touch_types",
                    "must list at least one activity type (leave it out for the default)",
                );
            }
            for ty in types {
                if !catalogue.contains_key(ty) {
                    return err(
                        "attribution.touch_types",
                        format!("{ty:?} is not an activity type of the catalogue"),
                    );
                }
            }
        }
        if !(1..=4).contains(&self.markov_order) {
            return err(
                "attribution.markov_order",
                format!("must be 1–4, got {}", self.markov_order),
            );
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Sourcing, web, dark funnel, outcomes, ICP

/// What makes an opportunity marketing- or sales-sourced (SPEC §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcingConfig {
    /// `lead_source` values (compared ignoring case) that mean marketing sourced it.
    pub marketing_lead_sources: Vec<String>,
    /// Channels (compared ignoring case) whose first touch makes an opportunity
    /// marketing-sourced.
    pub marketing_channels: Vec<String>,
    /// Channels (compared ignoring case) whose first touch makes an opportunity
    /// sales-sourced.
    pub sales_channels: Vec<String>,
}

impl Default for SourcingConfig {
    fn default() -> Self {
        SourcingConfig {
            marketing_lead_sources: strings(&[
                "Web",
                "Website",
                "Webinar",
                "Content",
                "Content Syndication",
                "Event",
                "Trade Show",
                "Paid Search",
                "Paid Social",
                "Advertisement",
                "Email",
                "Organic Search",
                "Social",
                "Marketing",
            ]),
            marketing_channels: strings(&[
                "paid_social",
                "paid_search",
                "display",
                "email",
                "content_syndication",
                "webinar",
                "event",
                "organic_search",
                "organic_social",
                "social",
                "referral",
                "review_site",
                "web",
                "direct",
            ]),
            sales_channels: strings(&[
                "sales",
                "outbound",
                "call",
                "meeting",
                "sdr",
                "bdr",
                "sales_email",
            ]),
        }
    }
}

fn contains_ignoring_case(list: &[String], value: &str) -> bool {
    let value = value.trim();
    list.iter()
        .any(|item| item.trim().eq_ignore_ascii_case(value))
}

impl SourcingConfig {
    /// Whether a `lead_source` value means marketing (ignoring case and surrounding blanks).
    pub fn is_marketing_lead_source(&self, lead_source: &str) -> bool {
        contains_ignoring_case(&self.marketing_lead_sources, lead_source)
    }

    /// Whether a channel is a marketing channel (ignoring case).
    pub fn is_marketing_channel(&self, channel: &str) -> bool {
        contains_ignoring_case(&self.marketing_channels, channel)
    }

    /// Whether a channel is a sales channel (ignoring case).
    pub fn is_sales_channel(&self, channel: &str) -> bool {
        contains_ignoring_case(&self.sales_channels, channel)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        non_blank_items(
            "sourcing.marketing_lead_sources",
            &self.marketing_lead_sources,
        )?;
        non_blank_items("sourcing.marketing_channels", &self.marketing_channels)?;
        non_blank_items("sourcing.sales_channels", &self.sales_channels)?;
        if let Some(both) = self
            .sales_channels
            .iter()
            .find(|c| self.is_marketing_channel(c))
        {
            return err(
                "sourcing.sales_channels",
                format!("{both:?} is also in sourcing.marketing_channels"),
            );
        }
        Ok(())
    }
}

/// Web sessions and traffic classification (SPEC §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Minutes of inactivity after which a visitor's next page view starts a new session.
    pub session_gap_minutes: f64,
    /// Referrer host fragments (ignoring case) classifying a visit as search.
    pub search_referrers: Vec<String>,
    /// Referrer host fragments (ignoring case) classifying a visit as social.
    pub social_referrers: Vec<String>,
    /// `utm_medium` values (ignoring case) marking a visit as paid.
    pub paid_mediums: Vec<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_gap_minutes: 30.0,
            search_referrers: strings(&[
                "google.",
                "bing.",
                "baidu.",
                "duckduckgo.",
                "yahoo.",
                "yandex.",
                "so.com",
                "sogou.",
            ]),
            social_referrers: strings(&[
                "linkedin.",
                "twitter.",
                "x.com",
                "t.co",
                "facebook.",
                "instagram.",
                "youtube.",
                "weibo.",
                "weixin.",
                "wechat.",
                "reddit.",
                "zhihu.",
            ]),
            paid_mediums: strings(&[
                "cpc",
                "ppc",
                "paid",
                "paidsearch",
                "paid_social",
                "display",
                "cpm",
            ]),
        }
    }
}

impl WebConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        positive("web.session_gap_minutes", self.session_gap_minutes)?;
        non_blank_items("web.search_referrers", &self.search_referrers)?;
        non_blank_items("web.social_referrers", &self.social_referrers)?;
        non_blank_items("web.paid_mediums", &self.paid_mediums)?;
        Ok(())
    }
}

/// Grouping of self-reported ("dark funnel") sources (SPEC §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DarkFunnelConfig {
    /// Rules in match order: the first category with a keyword found in the text (ignoring
    /// case) wins; no match → `other`. A file that gives rules replaces the list whole.
    pub rules: Vec<DarkFunnelRule>,
}

/// One dark-funnel rule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DarkFunnelRule {
    /// Category name (snake_case), e.g. `podcast`.
    pub category: String,
    /// Keywords, found in the text ignoring case.
    pub keywords: Vec<String>,
}

impl Default for DarkFunnelConfig {
    fn default() -> Self {
        let rules = [
            ("podcast", &["podcast", "播客"][..]),
            (
                "community",
                &["community", "slack", "discord", "forum", "社区"][..],
            ),
            (
                "word_of_mouth",
                &[
                    "word of mouth",
                    "friend",
                    "colleague",
                    "referral",
                    "referred",
                    "朋友",
                    "同事",
                    "推荐",
                ][..],
            ),
            (
                "review_site",
                &["g2", "capterra", "trustradius", "gartner", "review", "评测"][..],
            ),
            (
                "social",
                &[
                    "linkedin",
                    "twitter",
                    "social",
                    "facebook",
                    "youtube",
                    "微信",
                    "微博",
                    "小红书",
                ][..],
            ),
            (
                "search",
                &["google", "search", "bing", "baidu", "搜索", "百度"][..],
            ),
            (
                "event",
                &[
                    "event",
                    "conference",
                    "webinar",
                    "meetup",
                    "trade show",
                    "展会",
                    "会议",
                ][..],
            ),
        ];
        DarkFunnelConfig {
            rules: rules
                .iter()
                .map(|(category, keywords)| DarkFunnelRule {
                    category: category.to_string(),
                    keywords: strings(keywords),
                })
                .collect(),
        }
    }
}

/// The category of a self-reported source that no dark-funnel rule matches.
pub const DARK_FUNNEL_OTHER: &str = "other";

/// The dark-funnel rules ready to classify many texts: keywords lower-cased once.
#[derive(Debug, Clone)]
pub struct DarkFunnelClassifier<'a> {
    rules: Vec<(&'a str, Vec<String>)>,
}

impl<'a> DarkFunnelClassifier<'a> {
    /// The category of `text`: the first rule with a keyword found anywhere in it, ignoring
    /// case (Unicode lower case, so `G2` and `LinkedIn` match and Chinese keywords match as
    /// written); [`DARK_FUNNEL_OTHER`] when none does.
    pub fn category(&self, text: &str) -> &'a str {
        let lower = text.to_lowercase();
        self.rules
            .iter()
            .find(|(_, keywords)| keywords.iter().any(|k| lower.contains(k.as_str())))
            .map_or(DARK_FUNNEL_OTHER, |(category, _)| *category)
    }
}

impl DarkFunnelConfig {
    /// The rules with their keywords lower-cased, to classify many texts.
    pub fn classifier(&self) -> DarkFunnelClassifier<'_> {
        DarkFunnelClassifier {
            rules: self
                .rules
                .iter()
                .map(|r| {
                    let keywords = r
                        .keywords
                        .iter()
                        .map(|k| k.to_lowercase())
                        .filter(|k| !k.is_empty())
                        .collect();
                    (r.category.as_str(), keywords)
                })
                .collect(),
        }
    }

    /// The category of one text ([`DarkFunnelClassifier::category`]).
    pub fn category(&self, text: &str) -> &str {
        self.classifier().category(text)
    }

    /// Every category in report order: the rules' categories in rule order (each once),
    /// then [`DARK_FUNNEL_OTHER`].
    pub fn categories(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rules {
            if !out.contains(&r.category.as_str()) && r.category != DARK_FUNNEL_OTHER {
                out.push(&r.category);
            }
        }
        out.push(DARK_FUNNEL_OTHER);
        out
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (i, rule) in self.rules.iter().enumerate() {
            let key = format!("dark_funnel.rules[{i}]");
            if !is_snake_case(&rule.category) {
                return err(
                    format!("{key}.category"),
                    format!(
                        "must be snake_case (a–z, 0–9 and _), got {:?}",
                        rule.category
                    ),
                );
            }
            keywords(&format!("{key}.keywords"), &rule.keywords)?;
        }
        Ok(())
    }
}

/// Engagement → outcomes (SPEC §4, §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutcomesConfig {
    /// Days after a period (or a held meeting) within which an opportunity created counts as
    /// its outcome.
    pub opportunity_window_days: u32,
}

impl Default for OutcomesConfig {
    fn default() -> Self {
        OutcomesConfig {
            opportunity_window_days: 90,
        }
    }
}

impl OutcomesConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(
            "outcomes.opportunity_window_days",
            self.opportunity_window_days.into(),
        )
    }
}

/// Ideal customer profile (SPEC §5 `icp_pct`); empty lists and absent bounds constrain
/// nothing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcpConfig {
    /// Industries that fit (ignoring case); empty = any.
    pub industries: Vec<String>,
    /// Countries that fit (ignoring case); empty = any.
    pub countries: Vec<String>,
    /// Smallest employee count that fits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employees_min: Option<u64>,
    /// Largest employee count that fits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employees_max: Option<u64>,
}

impl IcpConfig {
    /// Whether no ICP constraint is configured.
    pub fn is_empty(&self) -> bool {
        self.industries.is_empty()
            && self.countries.is_empty()
            && self.employees_min.is_none()
            && self.employees_max.is_none()
    }

    /// Whether an account fits every configured constraint; a missing value fails any
    /// constraint on it (an account with no industry does not fit an industry list).
    pub fn matches(
        &self,
        industry: Option<&str>,
        employees: Option<i64>,
        country: Option<&str>,
    ) -> bool {
        let in_list = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| contains_ignoring_case(list, v))
        };
        let bounded = self.employees_min.is_some() || self.employees_max.is_some();
        let employees_fit = !bounded
            || employees.is_some_and(|n| {
                let n = i128::from(n);
                self.employees_min.is_none_or(|min| n >= i128::from(min))
                    && self.employees_max.is_none_or(|max| n <= i128::from(max))
            });
        in_list(&self.industries, industry) && in_list(&self.countries, country) && employees_fit
    }

    fn validate(&self) -> Result<(), ConfigError> {
        non_blank_items("icp.industries", &self.industries)?;
        non_blank_items("icp.countries", &self.countries)?;
        if let (Some(min), Some(max)) = (self.employees_min, self.employees_max)
            && min > max
        {
            return err(
                "icp.employees_max",
                format!("must be ≥ employees_min ({min}), got {max}"),
            );
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Targets, finance, server

/// Quota and revenue targets per period label (`2026`, `2026-Q3`, `2026-09`, `2026-W39`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetsConfig {
    /// Sales quota per period (denominator of `pipeline_coverage`).
    pub quota: BTreeMap<String, f64>,
    /// Revenue target per period.
    pub revenue: BTreeMap<String, f64>,
}

impl TargetsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (name, map) in [("quota", &self.quota), ("revenue", &self.revenue)] {
            for (label, amount) in map {
                let key = format!("targets.{name}.{label}");
                if let Err(why) = check_period_label(label) {
                    return err(
                        key,
                        format!(
                            "not a period label ({why}; expected a year 2026, a quarter 2026-Q3, \
                             a month 2026-09 or an ISO week 2026-W39)"
                        ),
                    );
                }
                non_negative(&key, *amount)?;
            }
        }
        Ok(())
    }
}

/// Checks a period label: `YYYY`, `YYYY-Qn` (1–4), `YYYY-MM` (01–12) or `YYYY-Www` (01–53,
/// and a week 53 only in ISO years that have one).
fn check_period_label(label: &str) -> Result<(), String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (year, rest) = label.split_at_checked(4).unwrap_or((label, ""));
    if year.len() != 4 || !digits(year) {
        return Err("the year must be four digits".to_string());
    }
    if rest.is_empty() {
        return Ok(());
    }
    let Some(rest) = rest.strip_prefix('-') else {
        return Err("a dash must follow the year".to_string());
    };
    if let Some(q) = rest.strip_prefix('Q') {
        return match q {
            "1" | "2" | "3" | "4" => Ok(()),
            _ => Err(format!("quarter must be 1–4, got {q:?}")),
        };
    }
    if let Some(w) = rest.strip_prefix('W') {
        let week: u32 = w
            .parse()
            .ok()
            .filter(|_| w.len() == 2 && digits(w))
            .ok_or_else(|| format!("week must be two digits 01–53, got {w:?}"))?;
        if !(1..=53).contains(&week) {
            return Err(format!("week must be 01–53, got {w}"));
        }
        let y: i32 = year.parse().unwrap_or_default();
        if chrono::NaiveDate::from_isoywd_opt(y, week, chrono::Weekday::Mon).is_none() {
            return Err(format!("ISO year {year} has no week {w}"));
        }
        return Ok(());
    }
    if rest.len() == 2 && digits(rest) {
        let month: u32 = rest.parse().unwrap_or_default();
        return if (1..=12).contains(&month) {
            Ok(())
        } else {
            Err(format!("month must be 01–12, got {rest}"))
        };
    }
    Err(format!("{rest:?} is not Qn, MM or Www"))
}

/// Money (SPEC §0, §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FinanceConfig {
    /// The one currency every amount is in (ISO 4217 code, three capital letters).
    pub currency: String,
    /// Gross margin as a fraction, 0 < m ≤ 1, applied to revenue in `roi` and `clv`.
    pub gross_margin: f64,
    /// Sales cost per month (team, tools), added to marketing cost for CAC in `clv`.
    pub monthly_sales_cost: f64,
}

impl Default for FinanceConfig {
    fn default() -> Self {
        FinanceConfig {
            currency: "USD".to_string(),
            gross_margin: 1.0,
            monthly_sales_cost: 0.0,
        }
    }
}

impl FinanceConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let c = &self.currency;
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return err(
                "finance.currency",
                format!("must be a three-letter ISO 4217 code such as \"USD\", got {c:?}"),
            );
        }
        let m = self.gross_margin;
        if !(m > 0.0 && m <= 1.0) {
            return err(
                "finance.gross_margin",
                format!("must be a fraction with 0 < m ≤ 1, got {m}"),
            );
        }
        let s = self.monthly_sales_cost;
        if !(s.is_finite() && s >= 0.0) {
            return err(
                "finance.monthly_sales_cost",
                format!("must be a number ≥ 0, got {s}"),
            );
        }
        Ok(())
    }
}

/// `abmeter serve` (SPEC §9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on (a socket address such as `127.0.0.1:8080`).
    pub bind: String,
    /// Write keys accepted as the HTTP Basic user on the ingestion endpoints.
    pub write_keys: Vec<String>,
    /// Bearer tokens accepted on the read API.
    pub read_tokens: Vec<String>,
    /// Largest single message, in bytes.
    pub max_message_bytes: u64,
    /// Largest request body (a batch), in bytes.
    pub max_batch_bytes: u64,
    /// Most messages in one batch.
    pub max_batch_items: usize,
    /// Most requests handled at once.
    pub max_concurrent_requests: usize,
    /// Seconds a request may take.
    pub request_timeout_secs: u64,
    /// Seconds between flushes of ingested events into the workspace tables.
    pub flush_interval_secs: u64,
    /// Seconds a shutdown waits for in-flight requests and the last flush.
    pub shutdown_timeout_secs: u64,
    /// Events received but not yet flushed to the tables beyond which ingestion answers 503
    /// with Retry-After (the flush is behind) instead of growing memory without limit.
    pub max_pending_events: usize,
    /// Segment `track` event name → activity type. Merged onto the built-in names (see
    /// [`default_track_events`]); an event named like a catalogue type (`Email Open`,
    /// `email_open`) is that type; any other event is stored as type `track`.
    #[serde(deserialize_with = "merge_track_events")]
    pub track_events: BTreeMap<String, String>,
}

/// The built-in `server.track_events`: Segment's spec event names and common variants for
/// the interactions of the SPEC §4 catalogue.
pub fn default_track_events() -> BTreeMap<String, String> {
    [
        ("Email Sent", "email_send"),
        ("Email Delivered", "email_send"),
        ("Email Opened", "email_open"),
        ("Email Link Clicked", "email_click"),
        ("Email Clicked", "email_click"),
        ("Email Bounced", "email_bounce"),
        ("Unsubscribed", "email_unsubscribe"),
        ("Email Unsubscribed", "email_unsubscribe"),
        ("Form Submitted", "form_submit"),
        ("Content Downloaded", "content_download"),
        ("Whitepaper Downloaded", "content_download"),
        ("Video Playback Started", "video_view"),
        ("Video Viewed", "video_view"),
        ("Webinar Registered", "webinar_registration"),
        ("Webinar Attended", "webinar_attended"),
        ("Event Registered", "event_registration"),
        ("Event Attended", "event_attended"),
        ("Dinner Attended", "dinner_attended"),
        ("Demo Requested", "demo_request"),
        ("Trial Started", "trial_signup"),
        ("Signed Up", "trial_signup"),
        ("Ad Clicked", "ad_click"),
        ("Meeting Scheduled", "meeting_scheduled"),
        ("Meeting Held", "meeting_held"),
        ("Meeting Canceled", "meeting_canceled"),
        ("Product Used", "product_usage"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn merge_track_events<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let mut all = default_track_events();
    all.extend(BTreeMap::<String, String>::deserialize(d)?);
    Ok(all)
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".to_string(),
            write_keys: Vec::new(),
            read_tokens: Vec::new(),
            max_message_bytes: 32 * 1024,
            max_batch_bytes: 500 * 1024,
            max_batch_items: 2500,
            max_concurrent_requests: 256,
            request_timeout_secs: 30,
            flush_interval_secs: 5,
            shutdown_timeout_secs: 10,
            max_pending_events: 1_000_000,
            track_events: default_track_events(),
        }
    }
}

impl ServerConfig {
    /// `bind` as a socket address.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        check_bind("server.bind", &self.bind)
    }

    /// `request_timeout_secs` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// `flush_interval_secs` as a duration.
    pub fn flush_interval(&self) -> Duration {
        Duration::from_secs(self.flush_interval_secs)
    }

    /// `shutdown_timeout_secs` as a duration.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        for key in &self.write_keys {
            check_write_key("server.write_keys", key)?;
        }
        for token in &self.read_tokens {
            check_read_token("server.read_tokens", token)?;
        }
        at_least_one("server.max_message_bytes", self.max_message_bytes)?;
        at_least_one("server.max_batch_bytes", self.max_batch_bytes)?;
        if self.max_message_bytes > self.max_batch_bytes {
            return err(
                "server.max_message_bytes",
                format!(
                    "must be ≤ max_batch_bytes ({}), got {}",
                    self.max_batch_bytes, self.max_message_bytes
                ),
            );
        }
        at_least_one("server.max_batch_items", self.max_batch_items as u64)?;
        at_least_one(
            "server.max_concurrent_requests",
            self.max_concurrent_requests as u64,
        )?;
        at_least_one("server.request_timeout_secs", self.request_timeout_secs)?;
        at_least_one("server.flush_interval_secs", self.flush_interval_secs)?;
        at_least_one("server.max_pending_events", self.max_pending_events as u64)?;
        Ok(())
    }
}

fn check_bind(key: &str, bind: &str) -> Result<SocketAddr, ConfigError> {
    bind.parse::<SocketAddr>().map_err(|_| {
        ConfigError::new(
            key,
            format!("must be an IP address and port such as \"127.0.0.1:8080\", got {bind:?}"),
        )
    })
}

fn check_write_key(key: &str, write_key: &str) -> Result<(), ConfigError> {
    if write_key.is_empty() || write_key.contains(|c: char| c.is_whitespace() || c == ':') {
        return err(
            key,
            format!(
                "a write key must be non-empty, without blanks or ':' (it is sent as the HTTP \
                 Basic user), got {write_key:?}"
            ),
        );
    }
    Ok(())
}

fn check_read_token(key: &str, token: &str) -> Result<(), ConfigError> {
    if token.is_empty() || token.contains(char::is_whitespace) {
        return err(
            key,
            format!("a read token must be non-empty and without blanks, got {token:?}"),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shared checks

fn is_snake_case(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn non_negative(key: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        err(key, format!("must be ≥ 0, got {value}"))
    }
}

fn positive(key: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        err(key, format!("must be > 0, got {value}"))
    }
}

fn at_least_one(key: &str, value: u64) -> Result<(), ConfigError> {
    if value >= 1 {
        Ok(())
    } else {
        err(key, format!("must be ≥ 1, got {value}"))
    }
}

fn non_blank_items(key: &str, items: &[String]) -> Result<(), ConfigError> {
    if let Some(i) = items.iter().position(|s| s.trim().is_empty()) {
        return err(format!("{key}[{i}]"), "must not be empty");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> ConfigError {
        match Config::from_toml_str(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e,
        }
    }

    fn assert_refused(text: &str, key: &str, fragment: &str) {
        let e = parse_err(text);
        assert_eq!(e.key, key, "{text}: {e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("`{key}`: ")),
            "{text}: display {shown:?}"
        );
        assert!(
            shown.contains(fragment),
            "{text}: {shown:?} lacks {fragment:?}"
        );
    }

    #[test]
    fn template_parses_to_default() {
        let parsed = Config::from_toml_str(Config::template()).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn template_writes_out_every_default() {
        let template: toml::Table = toml::from_str(Config::template()).unwrap();
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        for (key, value) in &defaults {
            assert_eq!(template.get(key), Some(value), "template key `{key}`");
        }
        let extra: Vec<_> = template
            .keys()
            .filter(|k| !defaults.contains_key(*k))
            .collect();
        assert!(extra.is_empty(), "template keys not in Config: {extra:?}");
        assert_eq!(template, defaults);
    }

    #[test]
    fn template_comments_every_key() {
        // Every `key = value` line is preceded by a comment line (the activity rows, each
        // described above; the title-rule and dark-funnel rows described per list).
        // The event-name rows of [server.track_events] are described once, above the table.
        let lines: Vec<&str> = Config::template().lines().collect();
        let mut section = "";
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                section = t;
            }
            if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
                continue;
            }
            if section == "[server.track_events]" {
                continue;
            }
            if t.starts_with("keywords") || t.starts_with("level") || t.starts_with("department") {
                continue;
            }
            if t.starts_with("category") {
                continue;
            }
            assert!(
                lines[i - 1].trim_start().starts_with('#'),
                "line {} has no comment above: {t}",
                i + 1
            );
        }
    }

    #[test]
    fn call_types_cannot_be_declared_as_activities() {
        let e = Config::from_toml_str(
            "[activities]\ntrack = { minutes = 1.0, use_duration = false, source = \"web\" }",
        )
        .unwrap_err();
        assert_eq!(e.key, "activities.track", "{e}");
        let e = Config::from_toml_str("[server.track_events]\n\"Clicked\" = \"nope\"").unwrap_err();
        assert_eq!(e.key, "server.track_events.\"Clicked\"", "{e}");
    }

    #[test]
    fn empty_file_is_default() {
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
        assert_eq!(
            Config::from_toml_str("# nothing\n\n").unwrap(),
            Config::default()
        );
        Config::default().validate().unwrap();
    }

    #[test]
    fn serialised_default_round_trips() {
        let text = toml::to_string(&Config::default()).unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap(), Config::default());
    }

    #[test]
    fn default_catalogue_matches_spec() {
        let c = Config::default();
        assert_eq!(c.activities.len(), 35);
        let page = c.activity("page_view").unwrap();
        assert_eq!(
            (page.minutes, page.use_duration, page.cap_minutes),
            (1.0, true, Some(30.0))
        );
        assert_eq!(c.activity("dinner_attended").unwrap().minutes, 120.0);
        assert_eq!(c.activity("ad_click").unwrap().source, "advertising");
        assert_eq!(c.activity("email_click").unwrap().minutes, 2.0);
        assert_eq!(c.activity("social_like").unwrap().minutes, 1.0);
        assert!(c.activity("nope").is_none());
        assert!(c.activity_type_names().any(|n| n == "meeting_canceled"));
        assert!(is_builtin_activity("call"));
        for name in c.activity_type_names() {
            assert!(is_snake_case(name));
        }
    }

    #[test]
    fn minutes_for() {
        let c = Config::default();
        let page = c.activity("page_view").unwrap();
        assert_eq!(page.minutes_for(Some(45.0)), 30.0);
        assert_eq!(page.minutes_for(Some(12.5)), 12.5);
        assert_eq!(page.minutes_for(Some(0.0)), 0.0);
        assert_eq!(page.minutes_for(None), 1.0);
        let download = c.activity("content_download").unwrap();
        assert_eq!(download.minutes_for(Some(99.0)), 10.0);
        assert_eq!(download.minutes_for(None), 10.0);
        assert_eq!(c.activity("product_usage").unwrap().minutes_for(None), 0.0);
        let uncapped = ActivityType {
            minutes: 4.0,
            use_duration: true,
            cap_minutes: None,
            source: "web".into(),
        };
        assert_eq!(uncapped.minutes_for(Some(999.0)), 999.0);
        assert_eq!(uncapped.minutes_for(Some(-3.0)), 0.0);
    }

    #[test]
    fn custom_activity_adds_to_catalogue() {
        let c = Config::from_toml_str(
            "[activities.partner_referral]\nminutes = 20\nsource = \"partner\"\n",
        )
        .unwrap();
        assert_eq!(c.activities.len(), 36);
        let custom = c.activity("partner_referral").unwrap();
        assert_eq!(custom.minutes, 20.0);
        assert!(!custom.use_duration);
        assert_eq!(custom.cap_minutes, None);
        assert_eq!(custom.source, "partner");
        assert_eq!(
            c.activity("page_view"),
            Config::default().activity("page_view")
        );

        let bare = Config::from_toml_str("[activities.my_custom_type]\n").unwrap();
        assert_eq!(
            bare.activity("my_custom_type"),
            Some(&ActivityType::default())
        );
        assert_eq!(bare.activity("my_custom_type").unwrap().source, "other");
    }

    #[test]
    fn builtin_override_is_per_key() {
        let c = Config::from_toml_str("[activities.page_view]\nminutes = 2.5\n").unwrap();
        let page = c.activity("page_view").unwrap();
        assert_eq!(page.minutes, 2.5);
        assert!(page.use_duration);
        assert_eq!(page.cap_minutes, Some(30.0));
        assert_eq!(page.source, "web");
        let mut expected = Config::default();
        expected.activities.get_mut("page_view").unwrap().minutes = 2.5;
        assert_eq!(c, expected);

        // Inline-table form, and turning duration off drops the built-in cap.
        let c = Config::from_toml_str(
            "[activities]\ncall = { use_duration = false }\nform_submit = { minutes = 8 }\n",
        )
        .unwrap();
        let call = c.activity("call").unwrap();
        assert!(!call.use_duration);
        assert_eq!(call.cap_minutes, None);
        assert_eq!(call.minutes_for(Some(60.0)), 10.0);
        assert_eq!(c.activity("form_submit").unwrap().minutes, 8.0);
        assert_eq!(c.activities.len(), 35);

        let c = Config::from_toml_str("[activities.call]\ncap_minutes = 45\n").unwrap();
        assert_eq!(c.activity("call").unwrap().minutes_for(Some(60.0)), 45.0);
    }

    #[test]
    fn activity_rules() {
        assert_refused(
            "[activities.webinar_attended]\ncap_minutes = -5\n",
            "activities.webinar_attended.cap_minutes",
            "must be > 0, got -5",
        );
        assert_refused(
            "[activities.page_view]\nminutes = -1\n",
            "activities.page_view.minutes",
            "must be ≥ 0, got -1",
        );
        assert_refused(
            "[activities.page_view]\nminutes = nan\n",
            "activities.page_view.minutes",
            "got NaN",
        );
        assert_refused(
            "[activities.\"My-Type\"]\nminutes = 1\n",
            "activities.My-Type",
            "snake_case",
        );
        assert_refused(
            "[activities.sample]\ncap_minutes = 10\n",
            "activities.sample.cap_minutes",
            "use_duration = true",
        );
        assert_refused(
            "[activities.sample]\nsource = \" \"\n",
            "activities.sample.source",
            "must not be empty",
        );
        assert_refused(
            "[activities.page_view]\nminute = 3\n",
            "activities.page_view.minute",
            "unknown field",
        );
    }

    #[test]
    fn unknown_key_and_wrong_type_name_their_path() {
        assert_refused("[mqa]\nwindow_dayz = 3\n", "mqa.window_dayz", "window_dayz");
        assert_refused(
            "[mqa]\nwindow_days = \"x\"\n",
            "mqa.window_days",
            "line 2, column 15",
        );
        assert_refused("colour = 1\n", "colour", "unknown field");
        assert_refused("[nonsense]\n", "nonsense", "unknown field");
        assert_refused(
            "[server]\nmax_batch_items = -1\n",
            "server.max_batch_items",
            "-1",
        );
        assert_refused(
            "[[title_rules.seniority]]\nlevel = \"vp\"\nkeyword = [\"x\"]\n",
            "title_rules.seniority[0].keyword",
            "unknown field",
        );
    }

    #[test]
    fn syntax_error_has_no_key_and_a_position() {
        let e = parse_err("[mqa]\nwindow_days = = 3\n");
        assert_eq!(e.key, "");
        assert!(e.message.starts_with("invalid TOML: "), "{e}");
        assert!(e.message.contains("line 2, column 15"), "{e}");
        assert!(!e.to_string().starts_with('`'), "{e}");
    }

    #[test]
    fn scalar_rules() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "fiscal_year_start_month = 13",
                "fiscal_year_start_month",
                "must be 1–12, got 13",
            ),
            (
                "fiscal_year_start_month = 0",
                "fiscal_year_start_month",
                "got 0",
            ),
            (
                "[seniority_weights]\nvp = -1.5",
                "seniority_weights.vp",
                "must be ≥ 0, got -1.5",
            ),
            (
                "[tier_weights]\n\"Tier 1\" = -2",
                "tier_weights.Tier 1",
                "got -2",
            ),
            (
                "[mqa]\nbuying_center = \"team\"",
                "mqa.buying_center",
                "must be \"account\" or \"department\", got \"team\"",
            ),
            (
                "[mqa]\nwindow_days = 0",
                "mqa.window_days",
                "must be ≥ 1, got 0",
            ),
            (
                "[mqa]\nmin_weighted_minutes = -1",
                "mqa.min_weighted_minutes",
                "got -1",
            ),
            (
                "[mqa]\nnewly_qualified_days = 0",
                "mqa.newly_qualified_days",
                "got 0",
            ),
            ("[mqa]\nfollow_up_days = 0", "mqa.follow_up_days", "got 0"),
            (
                "[alerts]\nbaseline_weeks = 0",
                "alerts.baseline_weeks",
                "got 0",
            ),
            (
                "[alerts]\nmin_minutes = -30",
                "alerts.min_minutes",
                "got -30",
            ),
            (
                "[alerts]\nwebhook_url = \"ftp://x\"",
                "alerts.webhook_url",
                "\"ftp://x\"",
            ),
            (
                "[alerts]\nsurge_ratio = 0.5",
                "alerts.surge_ratio",
                "got 0.5",
            ),
            ("[alerts]\nsurge_z = -1", "alerts.surge_z", "got -1"),
            (
                "[alerts]\ndecline_ratio = 1.5",
                "alerts.decline_ratio",
                "got 1.5",
            ),
            ("[alerts]\ndecline_z = 1", "alerts.decline_z", "got 1"),
            (
                "[attribution]\nlookback_days = 0",
                "attribution.lookback_days",
                "got 0",
            ),
            (
                "[attribution]\nhalf_life_days = 0",
                "attribution.half_life_days",
                "must be > 0, got 0",
            ),
            (
                "[attribution]\ntouch_types = [\"page_view\", \"telepathy\"]",
                "attribution.touch_types",
                "\"telepathy\"",
            ),
            (
                "[attribution]\ntouch_types = []",
                "attribution.touch_types",
                "at least one",
            ),
            (
                "[attribution]\nmarkov_order = 0",
                "attribution.markov_order",
                "must be 1–4, got 0",
            ),
            (
                "[sourcing]\nsales_channels = [\"Email\"]",
                "sourcing.sales_channels",
                "\"Email\"",
            ),
            (
                "[sourcing]\nmarketing_lead_sources = [\"Web\", \"\"]",
                "sourcing.marketing_lead_sources[1]",
                "must not be empty",
            ),
            (
                "[web]\nsession_gap_minutes = 0",
                "web.session_gap_minutes",
                "must be > 0, got 0",
            ),
            (
                "[web]\npaid_mediums = [\" \"]",
                "web.paid_mediums[0]",
                "must not be empty",
            ),
            (
                "[outcomes]\nopportunity_window_days = 0",
                "outcomes.opportunity_window_days",
                "got 0",
            ),
            (
                "[icp]\nemployees_min = 500\nemployees_max = 100",
                "icp.employees_max",
                "got 100",
            ),
            (
                "[finance]\ncurrency = \"usd\"",
                "finance.currency",
                "got \"usd\"",
            ),
            (
                "[finance]\ngross_margin = 0",
                "finance.gross_margin",
                "got 0",
            ),
            (
                "[finance]\ngross_margin = 1.2",
                "finance.gross_margin",
                "got 1.2",
            ),
            (
                "[server]\nbind = \"localhost\"",
                "server.bind",
                "got \"localhost\"",
            ),
            (
                "[server]\nwrite_keys = [\"a:b\"]",
                "server.write_keys",
                "\"a:b\"",
            ),
            (
                "[server]\nread_tokens = [\"a b\"]",
                "server.read_tokens",
                "\"a b\"",
            ),
            (
                "[server]\nmax_message_bytes = 0",
                "server.max_message_bytes",
                "got 0",
            ),
            (
                "[server]\nmax_message_bytes = 600000",
                "server.max_message_bytes",
                "got 600000",
            ),
            (
                "[server]\nmax_batch_items = 0",
                "server.max_batch_items",
                "got 0",
            ),
            (
                "[server]\nmax_concurrent_requests = 0",
                "server.max_concurrent_requests",
                "got 0",
            ),
            (
                "[server]\nrequest_timeout_secs = 0",
                "server.request_timeout_secs",
                "got 0",
            ),
            (
                "[server]\nflush_interval_secs = 0",
                "server.flush_interval_secs",
                "got 0",
            ),
        ];
        for (text, key, fragment) in cases {
            assert_refused(text, key, fragment);
        }
    }

    #[test]
    fn title_and_dark_funnel_rules() {
        assert_refused(
            "[[title_rules.seniority]]\nlevel = \"boss\"\nkeywords = [\"boss\"]\n",
            "title_rules.seniority[0].level",
            "got \"boss\"",
        );
        assert_refused(
            "[[title_rules.seniority]]\nkeywords = [\"boss\"]\n",
            "title_rules.seniority[0].level",
            "got \"\"",
        );
        assert_refused(
            "[[title_rules.seniority]]\nlevel = \"vp\"\nkeywords = []\n",
            "title_rules.seniority[0].keywords",
            "at least one keyword",
        );
        assert_refused(
            "[[title_rules.department]]\ndepartment = \"other\"\nkeywords = [\"x\"]\n",
            "title_rules.department[0].department",
            "got \"other\"",
        );
        assert_refused(
            "[[title_rules.department]]\ndepartment = \"sales\"\nkeywords = [\"x\", \"\"]\n",
            "title_rules.department[0].keywords[1]",
            "must not be empty",
        );
        assert_refused(
            "[[dark_funnel.rules]]\ncategory = \"Word of mouth\"\nkeywords = [\"x\"]\n",
            "dark_funnel.rules[0].category",
            "snake_case",
        );

        // A given list replaces the default list; the other list keeps its default.
        let c = Config::from_toml_str(
            "[[title_rules.seniority]]\nlevel = \"individual\"\nkeywords = [\"intern\"]\n",
        )
        .unwrap();
        assert_eq!(c.title_rules.seniority.len(), 1);
        assert_eq!(c.title_rules.department, TitleRules::default().department);

        let rules = TitleRules::default();
        let levels: Vec<_> = rules.seniority.iter().map(|r| r.level.as_str()).collect();
        assert_eq!(levels, ["vp", "c_level", "director", "manager"]);
        let departments: Vec<_> = rules
            .department
            .iter()
            .map(|r| r.department.as_str())
            .collect();
        assert_eq!(departments, DEPARTMENTS[..12]);
        assert!(rules.seniority[1].keywords.contains(&"总经理".to_string()));
    }

    #[test]
    fn dark_funnel_categories() {
        let d = DarkFunnelConfig::default();
        for (text, want) in [
            ("Heard on a podcast", "podcast"),
            ("听了一期播客", "podcast"),
            ("Slack community", "community"),
            ("朋友推荐", "word_of_mouth"),
            ("A COLLEAGUE told me", "word_of_mouth"),
            ("G2 reviews", "review_site"),
            ("Gartner", "review_site"),
            ("LinkedIn post", "social"),
            ("小红书", "social"),
            ("百度搜索", "search"),
            ("Googled it", "search"),
            ("saw you at a conference", "event"),
            ("行业展会", "event"),
            ("no idea", "other"),
            ("", "other"),
            // The first rule in order wins: a podcast a friend recommended is a podcast.
            ("my friend's podcast", "podcast"),
        ] {
            assert_eq!(d.category(text), want, "{text:?}");
        }
        assert_eq!(
            d.categories(),
            [
                "podcast",
                "community",
                "word_of_mouth",
                "review_site",
                "social",
                "search",
                "event",
                "other"
            ]
        );

        // Configured rules: keywords in any case, a category split over two rules listed once,
        // an explicit `other` rule kept last.
        let c = Config::from_toml_str(
            "[[dark_funnel.rules]]\ncategory = \"analyst\"\nkeywords = [\"FORRESTER\"]\n\
             [[dark_funnel.rules]]\ncategory = \"other\"\nkeywords = [\"unsure\"]\n\
             [[dark_funnel.rules]]\ncategory = \"review_site\"\nkeywords = [\"G2\"]\n\
             [[dark_funnel.rules]]\ncategory = \"analyst\"\nkeywords = [\"Gartner\"]\n\
             [[dark_funnel.rules]]\ncategory = \"event\"\nkeywords = [\"Événement\"]\n",
        )
        .unwrap();
        let d = &c.dark_funnel;
        assert_eq!(d.category("a Forrester wave"), "analyst");
        assert_eq!(d.category("gartner and g2"), "review_site");
        assert_eq!(d.category("Unsure"), "other");
        assert_eq!(d.category("podcast"), "other");
        // Unicode lower case, not ASCII only.
        assert_eq!(d.category("un ÉVÉNEMENT client"), "event");
        assert_eq!(d.categories(), ["analyst", "review_site", "event", "other"]);
    }

    #[test]
    fn personas() {
        assert!(Config::default().personas.is_empty());
        let c = Config::from_toml_str(
            "[[personas]]\npersona = \"Economic buyer\"\nseniorities = [\"c_level\", \"vp\"]\n\
             [[personas]]\npersona = \"Technical buyer\"\ndepartments = [\"it\", \"engineering\"]\n\
             seniorities = [\"director\"]\nkeywords = [\"architect\", \"架构\"]\n",
        )
        .unwrap();
        assert_eq!(c.personas.len(), 2);
        assert_eq!(c.personas[0].persona, "Economic buyer");
        assert_eq!(c.personas[0].seniorities, ["c_level", "vp"]);
        assert!(c.personas[0].departments.is_empty() && c.personas[0].keywords.is_empty());
        assert_eq!(c.personas[1].keywords, ["architect", "架构"]);
        let text = toml::to_string(&c).unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap(), c);

        assert_refused(
            "[[personas]]\npersona = \"Anyone\"\n",
            "personas[0]",
            "at least one of departments, seniorities or keywords",
        );
        assert_refused(
            "[[personas]]\npersona = \"A\"\ndepartments = []\nseniorities = []\nkeywords = []\n",
            "personas[0]",
            "at least one of",
        );
        assert_refused(
            "[[personas]]\nseniorities = [\"vp\"]\n",
            "personas[0].persona",
            "must not be empty",
        );
        assert_refused(
            "[[personas]]\npersona = \"A\"\nseniorities = [\"vp\"]\n\
             [[personas]]\npersona = \"B\"\ndepartments = [\"sales\", \"marketting\"]\n",
            "personas[1].departments[1]",
            "got \"marketting\"",
        );
        assert_refused(
            "[[personas]]\npersona = \"A\"\nseniorities = [\"boss\"]\n",
            "personas[0].seniorities[0]",
            "got \"boss\"",
        );
        assert_refused(
            "[[personas]]\npersona = \"A\"\nkeywords = [\"x\", \" \"]\n",
            "personas[0].keywords[1]",
            "must not be empty",
        );
        assert_refused(
            "[[personas]]\npersona = \"A\"\nlevel = \"vp\"\n",
            "personas[0].level",
            "unknown field",
        );
    }

    #[test]
    fn ideal_heatmap() {
        let c = Config::from_toml_str(
            "[ideal_heatmap.marketing]\nvp = 30\ndirector = 60.0\n[ideal_heatmap.it]\nc_level = 15\n",
        )
        .unwrap();
        assert_eq!(c.ideal_minutes("marketing", "director"), 60.0);
        assert_eq!(c.ideal_minutes("it", "c_level"), 15.0);
        assert_eq!(c.ideal_minutes("sales", "vp"), 0.0);
        let e = parse_err("[ideal_heatmap.marketting]\nvp = 30\n");
        assert_eq!(e.key, "ideal_heatmap.marketting");
        assert!(
            e.message
                .contains("unknown department (expected one of marketing"),
            "{e}"
        );
        assert_refused(
            "[ideal_heatmap.sales]\nboss = 30\n",
            "ideal_heatmap.sales.boss",
            "unknown seniority",
        );
        assert_refused(
            "[ideal_heatmap.sales]\nvp = -30\n",
            "ideal_heatmap.sales.vp",
            "got -30",
        );
    }

    #[test]
    fn targets() {
        let c = Config::from_toml_str(
            "[targets.quota]\n\"2026\" = 4e6\n\"2026-Q3\" = 1e6\n\"2026-09\" = 3e5\n\
             \"2026-W39\" = 7e4\n\"2026-W53\" = 1\n[targets.revenue]\n\"2027-Q1\" = 5e5\n",
        )
        .unwrap();
        assert_eq!(c.targets.quota["2026-Q3"], 1e6);
        assert_eq!(c.targets.revenue["2027-Q1"], 5e5);
        for bad in [
            "2026-Q5", "2026-Q0", "2026-13", "2026-00", "2026-W00", "2026-W54", "2027-W53", "26",
            "2026Q3", "2026-q3", "2026-9", "2026-W5", "20260", "Q3-2026",
        ] {
            let text = format!("[targets.quota]\n\"{bad}\" = 1\n");
            assert_refused(&text, &format!("targets.quota.{bad}"), "not a period label");
        }
        assert_refused(
            "[targets.revenue]\n\"2026\" = -1\n",
            "targets.revenue.2026",
            "got -1",
        );
    }

    #[test]
    fn weights() {
        let c = Config::from_toml_str("[tier_weights]\n\"Tier 1\" = 2.0\ntier_2 = 1.5\n").unwrap();
        assert_eq!(c.tier_weight(Some("Tier 1")), 2.0);
        assert_eq!(c.tier_weight(Some("tier 1")), 2.0);
        assert_eq!(c.tier_weight(Some("TIER_2")), 1.5);
        assert_eq!(c.tier_weight(Some("Tier 3")), 1.0);
        assert_eq!(c.tier_weight(None), 1.0);
        assert_eq!(c.seniority_weight("c_level"), 2.0);
        assert_eq!(c.seniority_weight("VP"), 1.5);
        assert_eq!(c.seniority_weight("director"), 1.25);
        assert_eq!(c.seniority_weight("individual"), 0.8);
        assert_eq!(c.seniority_weight("unknown"), 0.5);
        assert_eq!(c.seniority_weight("intern"), 0.5);
        assert_eq!(c.seniority_weight(""), 0.5);
    }

    #[test]
    fn touch_types() {
        let c = Config::default();
        let types = c.attribution_touch_types();
        assert!(types.contains("page_view"));
        assert!(types.contains("meeting_held"));
        assert!(!types.contains("ad_impression"));
        assert!(!types.contains("email_send"));
        assert!(!types.contains("product_usage"));
        let zero: Vec<_> = c
            .activities
            .iter()
            .filter(|(_, a)| a.minutes == 0.0)
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(types.len(), c.activities.len() - zero.len());

        let c = Config::from_toml_str("[attribution]\nview_through = true\n").unwrap();
        assert!(c.attribution_touch_types().contains("ad_impression"));

        let c = Config::from_toml_str(
            "[attribution]\ntouch_types = [\"form_submit\", \"demo_request\"]\n",
        )
        .unwrap();
        let types: Vec<_> = c.attribution_touch_types().into_iter().collect();
        assert_eq!(types, ["demo_request", "form_submit"]);

        // A declared custom type is a valid touch type and a default touch when it has minutes.
        let c = Config::from_toml_str(
            "[activities.partner_touch]\nminutes = 3\n[attribution]\ntouch_types = [\"partner_touch\"]\n",
        )
        .unwrap();
        assert!(c.attribution_touch_types().contains("partner_touch"));
        let c = Config::from_toml_str("[activities.partner_touch]\nminutes = 3\n").unwrap();
        assert!(c.attribution_touch_types().contains("partner_touch"));
    }

    #[test]
    fn apply_env() {
        let mut c = Config::default();
        let env: BTreeMap<&str, &str> = [
            (ENV_WRITE_KEYS, " wk_1, wk_2 ,,"),
            (ENV_READ_TOKENS, "rt_1"),
            (ENV_BIND, "0.0.0.0:9000"),
        ]
        .into();
        c.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.server.write_keys, ["wk_1", "wk_2"]);
        assert_eq!(c.server.read_tokens, ["rt_1"]);
        assert_eq!(c.server.bind, "0.0.0.0:9000");
        assert_eq!(c.server.bind_addr().unwrap().port(), 9000);
        c.validate().unwrap();

        // Unset or blank variables change nothing.
        let before = c.clone();
        c.apply_env(|_| None).unwrap();
        assert_eq!(c, before);
        c.apply_env(|_| Some("  ".to_string())).unwrap();
        assert_eq!(c, before);

        let e = c
            .apply_env(|k| (k == ENV_BIND).then(|| "nowhere".to_string()))
            .unwrap_err();
        assert_eq!(e.key, ENV_BIND);
        assert!(e.to_string().contains("\"nowhere\""), "{e}");
        assert_eq!(c.server.bind, "0.0.0.0:9000");
        let e = c
            .apply_env(|k| (k == ENV_WRITE_KEYS).then(|| "good,bad:key".to_string()))
            .unwrap_err();
        assert_eq!(e.key, ENV_WRITE_KEYS);
        assert_eq!(c.server.write_keys, ["wk_1", "wk_2"]);
    }

    #[test]
    fn server_defaults() {
        let s = ServerConfig::default();
        assert_eq!(s.max_message_bytes, 32768);
        assert_eq!(s.max_batch_bytes, 512000);
        assert_eq!(
            s.bind_addr().unwrap(),
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(s.request_timeout(), Duration::from_secs(30));
        assert_eq!(s.flush_interval(), Duration::from_secs(5));
        assert_eq!(s.shutdown_timeout(), Duration::from_secs(10));
        let c =
            Config::from_toml_str("[server]\nbind = \"[::1]:80\"\nwrite_keys = [\"k\"]\n").unwrap();
        assert_eq!(c.server.write_keys, ["k"]);
    }

    #[test]
    fn sourcing_and_icp_helpers() {
        let s = SourcingConfig::default();
        assert!(s.is_marketing_lead_source("paid search"));
        assert!(s.is_marketing_lead_source(" WEBINAR "));
        assert!(!s.is_marketing_lead_source("Partner"));
        assert!(s.is_marketing_channel("Paid_Social"));
        assert!(s.is_sales_channel("SDR"));
        assert!(!s.is_sales_channel("email"));

        let open = IcpConfig::default();
        assert!(open.is_empty());
        assert!(open.matches(None, None, None));
        let icp = Config::from_toml_str(
            "[icp]\nindustries = [\"Software\"]\nemployees_min = 100\nemployees_max = 1000\n",
        )
        .unwrap()
        .icp;
        assert!(!icp.is_empty());
        assert!(icp.matches(Some("software"), Some(100), None));
        assert!(icp.matches(Some("Software"), Some(1000), Some("US")));
        assert!(!icp.matches(Some("Software"), Some(1001), None));
        assert!(!icp.matches(Some("Retail"), Some(500), None));
        assert!(!icp.matches(None, Some(500), None));
        assert!(!icp.matches(Some("Software"), None, None));
    }

    #[test]
    fn error_display() {
        let e = ConfigError::new("mqa.window_days", "must be ≥ 1, got 0");
        assert_eq!(e.to_string(), "`mqa.window_days`: must be ≥ 1, got 0");
        assert_eq!(ConfigError::new("", "bad").to_string(), "bad");
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("中文\nx", 3), (1, 2));
    }
}
