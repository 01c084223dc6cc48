//! The vocabulary of abmeter: the canonical tables and their Arrow schemas, the
//! configuration, the `Report` every metric returns, and pure helpers on domains.
//! No IO, no query engine.

pub mod config;
pub mod domain;
pub mod period;
pub mod report;
pub mod table;

pub use config::{Config, ConfigError};
pub use period::{Granularity, Period};
pub use report::Report;
pub use table::{FieldKind, FieldSpec, Merge, Table};
