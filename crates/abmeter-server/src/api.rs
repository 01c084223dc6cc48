//! The read side: `GET /api/v1/<report>` behind a bearer token, `/healthz`, `/metrics`,
//! and the JSON 404 for every other path.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::metrics::Gauges;

pub async fn report(
    State(state): State<Arc<AppState>>,
    Path(report): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let s = state.clone();
    let result: Result<Arc<abmeter_model::Report>, ApiError> = async move {
        check_read_token(&s, &headers)?;
        // Parsed here, not by an extractor, so a bad query string gets our JSON error.
        let Query(params) = Query::<Vec<(String, String)>>::try_from_uri(&uri).map_err(|e| {
            ApiError::bad_request("invalid_parameter", format!("query string: {e}"))
        })?;
        let timeout = s.config.server.request_timeout();
        let run = tokio::task::spawn_blocking(move || s.report(&report, &params));
        match tokio::time::timeout(timeout, run).await {
            Err(_) => Err(ApiError::timeout(
                "the report took longer than server.request_timeout_secs",
            )),
            Ok(joined) => {
                joined.map_err(|e| ApiError::internal(format!("report task failed: {e}")))?
            }
        }
    }
    .await;
    state.metrics.api_latency.observe(started.elapsed());
    match result {
        Ok(report) => {
            let mut body = Vec::new();
            match abmeter_outputs::render_json(&report, &mut body) {
                Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
                Err(e) => ApiError::internal(format!("cannot render {}: {e}", report.name))
                    .into_response(),
            }
        }
        Err(e) => {
            state.metrics.rejected(e.status.as_u16());
            e.into_response()
        }
    }
}

fn check_read_token(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let tokens = &state.config.server.read_tokens;
    if tokens.is_empty() {
        return Err(ApiError::unauthorized(
            "the read API is off: no read token is configured (server.read_tokens or \
             ABMETER_READ_TOKENS)",
        ));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| {
            ApiError::unauthorized("the read API takes `Authorization: Bearer <read token>`")
        })?;
    if tokens.iter().any(|t| t == given.trim()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("invalid read token"))
    }
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "uptime_secs": state.started.elapsed().as_secs(),
        "pending_events": state.pending.events(),
        "pending_bytes": state.pending.bytes(),
        "wal_next_seq": state.wal.next_seq(),
    }))
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let wal = state.wal.stats();
    let text = state.metrics.render(&Gauges {
        wal_bytes: wal.bytes,
        wal_fsyncs: wal.fsyncs,
        wal_commits: wal.commits,
        pending_events: state.pending.events(),
        pending_bytes: state.pending.bytes(),
        flush_lag_secs: state.pending.lag_secs(),
        report_cache: state.report_cache.counts(),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response()
}

pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {}", uri.path()))
}
