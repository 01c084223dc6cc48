//! Attribution (SPEC §7): how much of each opportunity's pipeline and revenue the touches
//! before it earned, per channel and campaign.
//!
//! - [`rules`]: the rule-based models over one opportunity's touches (first and last touch,
//!   last non-direct, linear, time decay, position based, W-shaped, full path);
//! - [`markov`] and [`shapley`]: the data-driven models over account journeys;
//! - [`journeys`]: touches and journeys out of the workspace; [`report`]: the report.

pub mod journeys;
pub mod markov;
pub mod report;
pub mod rules;
pub mod shapley;

/// One touch of an account, as the models see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    /// Microseconds since the epoch, UTC.
    pub at: i64,
    /// The activity id: orders touches at the same instant.
    pub id: String,
    /// The activity type (`form_submit`, `content_download` and `demo_request` mark lead
    /// creation for the W-shaped and full-path models).
    pub kind: String,
    /// The channel, lower-cased; `(none)` when the activity names none.
    pub channel: String,
    pub campaign: Option<String>,
}

/// The activity types that create a lead (the W-shaped and full-path LC milestone).
pub const LEAD_CREATION: [&str; 3] = ["form_submit", "content_download", "demo_request"];

/// Which amount a touch is credited with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    /// Touches up to the opportunity's creation share its amount as pipeline.
    Pipeline,
    /// Touches up to the close of a won opportunity share its amount as revenue.
    Revenue,
}

/// The moments the rule-based models need of one opportunity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    /// The opportunity's creation, µs since the epoch.
    pub created_at: i64,
    /// The end of the touch window: `created_at` for pipeline credit, the end of the
    /// close date for revenue credit.
    pub converted_at: i64,
    pub credit: Credit,
}

/// One account journey for the data-driven models: its channels in time order with
/// consecutive repeats merged, and how many times it converted, did not, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Journey {
    pub path: Vec<String>,
    pub conversions: f64,
    pub nulls: f64,
    pub value: f64,
}

/// A data-driven model's credit for one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCredit {
    pub channel: String,
    /// Conversions credited (they sum to the journeys' conversions).
    pub conversions: f64,
    /// Value credited (it sums to the journeys' value).
    pub value: f64,
    /// Markov: the removal effect; Shapley: φ; linear_unique: the unnormalised credit.
    pub score: f64,
}

/// A journey from `"a > b > c"` (tests).
#[cfg(test)]
pub(crate) fn journey(path: &str, conversions: f64, nulls: f64, value: f64) -> Journey {
    Journey {
        path: path.split('>').map(|c| c.trim().to_string()).collect(),
        conversions,
        nulls,
        value,
    }
}
