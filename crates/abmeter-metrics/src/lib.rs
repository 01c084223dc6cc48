//! Metrics: one module per area of SPEC, each returning a `Report`: identity resolution
//! (§3), engagement, heatmap, trend, MQA, alerts and timeline (§4), and the free-form `sql`
//! report; channels, web and funnel (§5), pipeline and velocity (§6), attribution and ROI
//! (§7), retention, CLV, NPS and expansion (§8).

pub mod alerts;
pub mod attribution;
pub mod cells;
pub mod channels;
pub mod clv;
pub mod clv_model;
pub mod comparison;
pub mod dark_funnel;
pub mod deals;
pub mod engagement;
pub mod expansion;
pub mod followup;
pub mod funnel;
pub mod heatmap;
pub mod identity;
pub mod monthly;
pub mod mqa;
pub mod mrr;
pub mod nps;
pub mod outcomes;
pub mod pipeline;
pub mod retention;
pub mod roi;
pub mod scope;
pub mod sql;
pub mod timeline;
pub mod to_report;
pub mod trend;
pub mod velocity;
pub mod web;

pub use to_report::batches_to_report;
