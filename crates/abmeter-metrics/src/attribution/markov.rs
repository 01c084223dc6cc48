//! Markov-chain attribution (SPEC §7).
