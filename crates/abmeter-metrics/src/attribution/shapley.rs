//! Shapley attribution (SPEC §7).
