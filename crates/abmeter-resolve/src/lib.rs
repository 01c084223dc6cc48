//! Identity resolution (SPEC §3): every activity to its contact and account — explicit ids,
//! emails and their registrable domains, fuzzy company names, reverse-IP ranges and
//! `identify` stitching. The rules arrive with the identity-resolution issue; the crate
//! exists so the pipeline's boundaries (sources → resolve → store) hold from the start.

pub mod company;
pub mod free_mail;
pub mod identity;
pub mod identity_table;
pub mod ip_ranges;
pub mod lookup;
pub mod resolved;
pub mod titles;
