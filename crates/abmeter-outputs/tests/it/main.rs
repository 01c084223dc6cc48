//! The crate's one integration test binary: one module per feature.

mod webhook;
