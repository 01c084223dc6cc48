//! The HTTP server (SPEC §9): Segment-compatible ingestion with a write-ahead log, the read
//! API and the dashboard. It arrives with the server issue; the crate exists so that only
//! the server and the binary assemble stages, as ARCHITECTURE.md requires.
