//! The server through its router (`tower::ServiceExt::oneshot`), on real workspaces.

mod fuzz;
mod ingest;
mod serve;

use std::sync::Arc;

use abmeter_model::Report;
use abmeter_server::{ApiError, AppState, Reports};
use abmeter_store::Store;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::Value;
use tower::ServiceExt;

pub const WRITE_KEY: &str = "wk_test";
pub const READ_TOKEN: &str = "rt_test";

/// Answers `sql?q=…` from the store; any other report is 404.
pub struct SqlReports(pub Store);

impl Reports for SqlReports {
    fn run(&self, report: &str, params: &[(String, String)]) -> Result<Report, ApiError> {
        if report != "sql" {
            return Err(ApiError::not_found(format!("no such report: {report}")));
        }
        let q = params
            .iter()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(abmeter_metrics::sql::run(&self.0, &q))
            .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))
    }
}

/// A workspace with a write key and a read token, and the server state on it.
pub fn workspace(dir: &std::path::Path, extra_config: &str) -> Arc<AppState> {
    std::fs::write(
        dir.join("abmeter.toml"),
        format!(
            "[server]\nwrite_keys = [\"{WRITE_KEY}\"]\nread_tokens = [\"{READ_TOKEN}\"]\n{extra_config}"
        ),
    )
    .unwrap();
    open(dir)
}

pub fn open(dir: &std::path::Path) -> Arc<AppState> {
    let store = Store::open(dir).unwrap();
    let config = store.config().unwrap();
    abmeter_server::open(store.clone(), config, Arc::new(SqlReports(store))).unwrap()
}

pub fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

/// Sends a request; returns the status and the body as JSON (or as a JSON string).
pub async fn send(state: &Arc<AppState>, req: Request<Body>) -> (StatusCode, Value) {
    let res = abmeter_server::app(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

pub fn post(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .header("authorization", basic(WRITE_KEY))
        .body(body.into())
        .unwrap()
}

/// `SELECT …` through the read API.
pub async fn sql(state: &Arc<AppState>, q: &str) -> Vec<Value> {
    let uri = format!("/api/v1/sql?q={}", urlencode(q));
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {READ_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(state, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Null fields left out, so a test lists only the fields a row has.
    let mut rows = body["rows"].as_array().cloned().unwrap_or_default();
    for row in &mut rows {
        if let Value::Object(o) = row {
            o.retain(|_, v| !v.is_null());
        }
    }
    rows
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
