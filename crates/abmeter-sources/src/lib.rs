//! Sources: every accepted input turned into validated Arrow record batches of the
//! canonical tables (SPEC §1–§2). Bad rows come back as data; nothing here writes.

pub mod canonical;
pub mod cell;
pub mod problem;
pub mod rows;
pub mod segment;

pub use canonical::{Format, TableReader};
pub use problem::{Problem, RejectedRow, SourceError};
pub use rows::ReadOptions;
