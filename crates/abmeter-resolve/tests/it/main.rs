//! Identity resolution end to end (SPEC §3, §11 "Resolution"): a labelled data set measured
//! rule by rule for precision and recall (`labelled`), and focused checks of each rule, its
//! precedence and the normalisations the engine applies (`rules`).
//!
//! `cargo test -p abmeter-resolve --test it -- --nocapture` prints the per-rule table.

mod dataset;
mod labelled;
mod rules;

use abmeter_model::config::TitleRules;
use abmeter_resolve::identity::{self, IdentityMap, Inputs};
use abmeter_resolve::titles::TitleClassifier;

/// The default title rules and no personas.
pub fn titles() -> TitleClassifier {
    TitleClassifier::new(&TitleRules::default(), &[])
}

pub fn build(inputs: &Inputs) -> IdentityMap {
    identity::build(inputs, &titles())
}
