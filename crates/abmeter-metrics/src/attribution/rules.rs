//! Rule-based attribution models (SPEC §7).
