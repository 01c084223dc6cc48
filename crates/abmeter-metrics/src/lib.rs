//! Metrics: one module per area of SPEC, each returning a `Report`. Later issues add
//! engagement, heatmap, trend, MQA, alerts, channels, pipeline, attribution and the rest;
//! today it holds the free-form `sql` report and the Arrow → `Report` conversion they share.

pub mod identity;
pub mod sql;
pub mod to_report;

pub use to_report::batches_to_report;
