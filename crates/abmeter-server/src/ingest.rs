//! `POST /v1/*`: the Segment HTTP Tracking API. A request is read whole (gunzipped when
//! sent so), authenticated, parsed and validated; its new calls are appended to the
//! write-ahead log, and only once the log is fsynced is the answer 200. A request with one
//! bad call stores nothing and names the call and field.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use abmeter_sources::segment::{CallContext, CallRows, parse_call};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, header};
use base64::Engine;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::pending::Entry;

/// The call type of each single-call path; `None` for `/v1/batch`.
fn path_type(path: &str) -> Option<Option<&'static str>> {
    Some(match path {
        "track" | "t" => Some("track"),
        "page" | "p" => Some("page"),
        "screen" | "s" => Some("screen"),
        "identify" | "i" => Some("identify"),
        "group" | "g" => Some("group"),
        "alias" | "a" => Some("alias"),
        "batch" | "import" => None,
        _ => return None,
    })
}

/// A `/v1/batch` body. Items are kept raw to check each one's size before parsing it.
#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
    context: Option<Map<String, Value>>,
    #[serde(rename = "sentAt")]
    sent_at: Option<Value>,
    #[serde(rename = "writeKey")]
    write_key: Option<Value>,
}

pub async fn handle(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let started = Instant::now();
    let result = tokio::time::timeout(state.config.server.request_timeout(), async {
        ingest(&state, &path, request).await
    })
    .await
    .unwrap_or_else(|_| {
        Err(ApiError::timeout(
            "the request took longer than server.request_timeout_secs",
        ))
    });
    state.metrics.ingest_latency.observe(started.elapsed());
    if let Err(e) = &result {
        state.metrics.rejected(e.status.as_u16());
    }
    result
}

async fn ingest(
    state: &Arc<AppState>,
    path: &str,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let kind = path_type(path)
        .ok_or_else(|| ApiError::not_found(format!("no such endpoint: /v1/{path}")))?;
    let limits = &state.config.server;
    // Refuse early what the headers already condemn: a bad key, an oversized body.
    let header_key = write_key_from_headers(request.headers())?;
    if let Some(key) = &header_key {
        state.check_write_key(key)?;
    }
    let limit = if kind.is_none() {
        limits.max_batch_bytes
    } else {
        limits.max_message_bytes
    } as usize;
    if state.pending.events() >= limits.max_pending_events {
        return Err(ApiError::unavailable(
            "ingestion is ahead of the flush to disk; retry shortly",
            5,
        ));
    }
    let _permit = state
        .limiter
        .try_acquire()
        .map_err(|_| ApiError::unavailable("too many requests in progress; retry shortly", 1))?;
    let request_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let gzip = is_gzip(request.headers())?;
    let body = read_body(request.into_body(), limit, gzip).await?;
    let received_at = chrono_now_micros();

    let (calls, positions) = {
        let options = &state.call_options;
        let mut calls = Vec::new();
        let mut positions = Vec::new();
        match kind {
            Some(t) => {
                let msg: Value = serde_json::from_slice(&body).map_err(json_error)?;
                check_body_key(&header_key, msg.get("writeKey"), state)?;
                let cx = CallContext {
                    path_type: Some(t),
                    received_at,
                    sent_at: None,
                    batch_context: None,
                    request_ip: request_ip.as_deref(),
                    track_events: &options.track_events,
                    activity_types: &options.activity_types,
                    prefix: "",
                };
                calls.push(parse_call(&msg, &cx).map_err(call_error)?);
                positions.push(0);
            }
            None => {
                let b: BatchBody = serde_json::from_slice(&body).map_err(json_error)?;
                check_body_key(&header_key, b.write_key.as_ref(), state)?;
                let items = b.batch.ok_or_else(|| {
                    ApiError::bad_request("missing_field", "a batch call carries a \"batch\" array")
                        .with_field("batch")
                })?;
                if items.len() > limits.max_batch_items {
                    return Err(ApiError::too_large(format!(
                        "{} calls in one batch; at most {} (server.max_batch_items)",
                        items.len(),
                        limits.max_batch_items
                    ))
                    .with_field("batch"));
                }
                let sent_at = match &b.sent_at {
                    Some(Value::String(s)) => Some(s.as_str()),
                    _ => None,
                };
                for (i, raw) in items.iter().enumerate() {
                    let prefix = format!("batch[{i}].");
                    if raw.get().len() > limits.max_message_bytes as usize {
                        return Err(ApiError::too_large(format!(
                            "call of {} bytes; at most {} (server.max_message_bytes)",
                            raw.get().len(),
                            limits.max_message_bytes
                        ))
                        .with_field(format!("batch[{i}]")));
                    }
                    let msg: Value = serde_json::from_str(raw.get()).map_err(json_error)?;
                    let cx = CallContext {
                        path_type: None,
                        received_at,
                        sent_at,
                        batch_context: b.context.as_ref(),
                        request_ip: request_ip.as_deref(),
                        track_events: &options.track_events,
                        activity_types: &options.activity_types,
                        prefix: &prefix,
                    };
                    calls.push(parse_call(&msg, &cx).map_err(call_error)?);
                    positions.push(i);
                }
            }
        }
        (calls, positions)
    };

    let total = calls.len();
    let state2 = state.clone();
    let stored =
        tokio::task::spawn_blocking(move || state2.store_calls(calls, positions, kind.is_none()))
            .await
            .map_err(|e| ApiError::internal(format!("ingestion task failed: {e}")))??;
    let duplicates = total - stored;
    state
        .metrics
        .events_received
        .fetch_add(stored as u64, Ordering::Relaxed);
    state
        .metrics
        .events_duplicate
        .fetch_add(duplicates as u64, Ordering::Relaxed);
    Ok(Json(
        json!({"success": true, "stored": stored, "duplicates": duplicates}),
    ))
}

impl AppState {
    /// Dedupes, validates, logs and publishes calls; runs on a blocking thread (the log's
    /// fsync) and cannot be cancelled half-way, so what is logged is always pending too.
    /// Returns how many calls were new.
    fn store_calls(
        &self,
        calls: Vec<CallRows>,
        positions: Vec<usize>,
        batch: bool,
    ) -> Result<usize, ApiError> {
        let fresh = self
            .pending
            .admit(calls.into_iter().zip(positions).collect());
        if fresh.is_empty() {
            return Ok(0);
        }
        let (activities, contacts, accounts) = match self.pending.assemble(&fresh, batch) {
            Ok(a) => a,
            Err(e) => {
                self.pending.release(&fresh);
                return Err(e);
            }
        };
        let records: Vec<Vec<u8>> = fresh
            .iter()
            .map(|(c, _)| serde_json::to_vec(c).expect("rows serialise"))
            .collect();
        match self.wal.append(&records) {
            Ok(seqs) => {
                self.pending.push(Entry {
                    first_seq: seqs.start,
                    last_seq: seqs.end - 1,
                    activities,
                    contacts,
                    accounts,
                    received: Instant::now(),
                });
                Ok(fresh.len())
            }
            Err(e) => {
                self.pending.release(&fresh);
                Err(ApiError::internal(format!("write-ahead log: {e}")))
            }
        }
    }
}

fn chrono_now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The write key of `Authorization: Basic base64(key:)`; an `Authorization` of another
/// scheme (a read token on the write path) is refused.
fn write_key_from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Err(ApiError::unauthorized(
            "ingestion takes a write key as the HTTP Basic user (a read token does not write)",
        ));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::unauthorized("the Basic credentials are not valid base64"))?;
    let key = decoded.split(':').next().unwrap_or("").to_string();
    Ok(Some(key))
}

/// Without a Basic header, Segment clients may put the key in the body as `writeKey`.
fn check_body_key(
    header_key: &Option<String>,
    body_key: Option<&Value>,
    state: &AppState,
) -> Result<(), ApiError> {
    if header_key.is_some() {
        return Ok(());
    }
    match body_key {
        Some(Value::String(k)) => state.check_write_key(k),
        _ => Err(ApiError::unauthorized(
            "missing write key: send it as the HTTP Basic user (password empty)",
        )),
    }
}

fn is_gzip(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => Ok(false),
        Some(Ok(e)) if e.eq_ignore_ascii_case("gzip") => Ok(true),
        Some(Ok(e)) if e.eq_ignore_ascii_case("identity") => Ok(false),
        Some(other) => Err(ApiError::bad_request(
            "unsupported_encoding",
            format!(
                "Content-Encoding {:?} is not supported (gzip or none)",
                other.unwrap_or("?")
            ),
        )),
    }
}

/// The body, at most `limit` bytes after decompression (so a small gzip bomb is as
/// refused as a large body).
async fn read_body(body: Body, limit: usize, gzip: bool) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::too_large(format!("request body larger than {limit} bytes"));
    let raw = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    if !gzip {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    flate2::read::MultiGzDecoder::new(&raw[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::bad_request("invalid_gzip", format!("body is not valid gzip: {e}"))
        })?;
    if out.len() > limit {
        return Err(too_large());
    }
    Ok(out.into())
}

fn json_error(e: serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_json",
        format!(
            "malformed JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    )
}

fn call_error(e: abmeter_sources::segment::CallError) -> ApiError {
    ApiError::bad_request(e.code, e.message).with_field(e.field)
}
