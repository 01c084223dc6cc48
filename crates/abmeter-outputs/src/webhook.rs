//! Alert webhook: POSTs each new engagement alert once as JSON to `alerts.webhook_url`
//! (SPEC §4), with retries and backoff, remembering what was delivered in a state file in the
//! workspace so that a restart neither loses nor repeats an alert.
//!
//! Why it is shaped like this:
//! - The state file is append-only JSON Lines, one line per delivered alert, fsynced before
//!   the next alert is tried. A crash can therefore only ever lose the record of the one
//!   alert that was in flight, and that alert is then sent again on the next run: delivery is
//!   at-most-once for every alert except that one, which may arrive twice. Each request
//!   carries an `Idempotency-Key` header so receivers can drop that rare repeat.
//! - Failures are never recorded: an alert that could not be delivered is simply tried again
//!   on the next call, so nothing is lost.
//! - The state file is locked for the whole call, so the CLI and the server sending at the
//!   same time cannot both deliver the same alert.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use ureq::http::StatusCode;

/// One alert to deliver: `key` identifies it for good (e.g. "surge:ACC-1:2026-W39"), `body`
/// is the JSON posted.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub key: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookOptions {
    pub url: String,
    /// Attempts per alert before giving up for this run (default 5). Once one alert has used
    /// them all on retryable errors, the alerts after it get one attempt each until one
    /// succeeds, so a receiver that is down costs one backoff cycle per run, not one per alert.
    /// 0 is taken as 1.
    pub attempts: u32,
    /// First backoff; doubled each retry (no jitter: one sender per workspace), capped at
    /// `max_backoff` (defaults 500 ms, 8 s). `max_backoff` also caps a `Retry-After`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Per-request timeout, connecting and reading the answer included (default 10 s).
    pub timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            url: String::new(),
            attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What one call did, by alert key, in the order the deliveries were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendSummary {
    /// Delivered (2xx) and recorded in this call.
    pub sent: Vec<String>,
    /// Recorded as delivered by an earlier call: not sent again.
    pub already_sent: Vec<String>,
    /// Not delivered in this call, with the last error; tried again on the next call.
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook URL: set alerts.webhook_url")]
    NoUrl,
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// The state file cannot be trusted, so nothing is sent: resending everything could repeat
    /// delivered alerts. Fix or remove the line by hand.
    #[error("{}:{line}: corrupt webhook state line: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Sends every delivery whose key is not yet recorded in `state_file`, in order, sleeping with
/// `std::thread::sleep` between retries. See [`send_new_with`].
pub fn send_new(
    opts: &WebhookOptions,
    state_file: &Path,
    deliveries: &[Delivery],
) -> Result<SendSummary, WebhookError> {
    send_new_with(opts, state_file, deliveries, &mut std::thread::sleep)
}

/// Sends every delivery whose key is not yet recorded in `state_file`, in order, calling
/// `sleep` for each wait between attempts (injectable so tests need not wait).
///
/// Each success is appended to the state file (one JSON line
/// `{"key":..,"sent_at":RFC 3339 UTC,"status":HTTP status}`) and fsynced before the next alert
/// is tried, so a crash or restart never repeats a delivered alert — except the one in flight
/// when the process was killed (delivered, not yet recorded), which is sent again next time
/// with the same `Idempotency-Key`. An alert that failed all its attempts, or was refused by
/// the receiver, is not recorded and is tried again on the next call (never lost).
///
/// 2xx is delivered; 408, 429, 5xx, connection errors and timeouts are retried with backoff
/// (a `Retry-After` in seconds on 429/503 replaces the backoff, capped at `max_backoff`); any
/// other status (3xx — redirects are not followed, a POST should not be moved — and other
/// 4xx) fails the alert for this run at once.
///
/// Creates the state file and its folder if missing, and holds an exclusive lock on it for the
/// whole call (a second sender waits). A corrupt line is an error naming the file and line
/// number, and nothing is sent. A key given twice in `deliveries` is handled once.
pub fn send_new_with(
    opts: &WebhookOptions,
    state_file: &Path,
    deliveries: &[Delivery],
    sleep: &mut dyn FnMut(Duration),
) -> Result<SendSummary, WebhookError> {
    if opts.url.trim().is_empty() {
        return Err(WebhookError::NoUrl);
    }
    let mut state = StateFile::open(state_file)?;
    let agent = agent(opts);
    let mut summary = SendSummary::default();
    let mut handled: HashSet<&str> = HashSet::new();
    // Set once an alert used up all its attempts on retryable errors: the receiver is
    // probably down, so the next alerts get a single attempt until one gets through.
    let mut degraded = false;
    for d in deliveries {
        if !handled.insert(d.key.as_str()) {
            continue;
        }
        if state.sent.contains(&d.key) {
            summary.already_sent.push(d.key.clone());
            continue;
        }
        let attempts = if degraded { 1 } else { opts.attempts.max(1) };
        match deliver(&agent, opts, d, attempts, sleep) {
            Outcome::Delivered(status) => {
                state.record(&d.key, status)?;
                summary.sent.push(d.key.clone());
                degraded = false;
            }
            Outcome::Refused(err) => summary.failed.push((d.key.clone(), err)),
            Outcome::GaveUp(err) => {
                summary.failed.push((d.key.clone(), err));
                degraded = true;
            }
        }
    }
    Ok(summary)
}

fn agent(opts: &WebhookOptions) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(opts.timeout))
        .build()
        .new_agent()
}

enum Outcome {
    /// 2xx with this status.
    Delivered(u16),
    /// A non-retryable answer or error: no more attempts this run.
    Refused(String),
    /// Every attempt failed with a retryable error; the last one.
    GaveUp(String),
}

/// One attempt's result: delivered, or an error with whether it is worth retrying and how
/// long the server asked us to wait.
enum Attempt {
    Delivered(u16),
    Failed {
        error: String,
        retry: bool,
        retry_after: Option<Duration>,
    },
}

fn deliver(
    agent: &ureq::Agent,
    opts: &WebhookOptions,
    d: &Delivery,
    attempts: u32,
    sleep: &mut dyn FnMut(Duration),
) -> Outcome {
    let body = serde_json::to_vec(&d.body).expect("a serde_json::Value always serializes");
    let mut backoff = opts.initial_backoff.min(opts.max_backoff);
    let mut attempt = 1;
    loop {
        match post(agent, opts, &d.key, &body) {
            Attempt::Delivered(status) => return Outcome::Delivered(status),
            Attempt::Failed { error, retry, .. } if !retry => return Outcome::Refused(error),
            Attempt::Failed { error, .. } if attempt >= attempts => {
                let tries = if attempt == 1 { "attempt" } else { "attempts" };
                return Outcome::GaveUp(format!("{error} (after {attempt} {tries})"));
            }
            Attempt::Failed { retry_after, .. } => {
                sleep(retry_after.map_or(backoff, |ra| ra.min(opts.max_backoff)));
                backoff = backoff.saturating_mul(2).min(opts.max_backoff);
                attempt += 1;
            }
        }
    }
}

fn post(agent: &ureq::Agent, opts: &WebhookOptions, key: &str, body: &[u8]) -> Attempt {
    let result = agent
        .post(&opts.url)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", header_safe(key))
        .header("User-Agent", concat!("abmeter/", env!("CARGO_PKG_VERSION")))
        .send(body);
    let mut resp = match result {
        Ok(resp) => resp,
        Err(e) => {
            let retry = matches!(
                e,
                ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::ConnectionFailed
                    | ureq::Error::HostNotFound
                    | ureq::Error::Protocol(_)
            );
            return Attempt::Failed {
                error: format!("POST {}: {e}", opts.url),
                retry,
                retry_after: None,
            };
        }
    };
    let status = resp.status();
    if status.is_success() {
        return Attempt::Delivered(status.as_u16());
    }
    let retry_after =
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
        } else {
            None
        };
    let mut error = format!("HTTP {status}");
    if let Some(location) = resp.headers().get("location").and_then(|v| v.to_str().ok()) {
        error.push_str(&format!(" (redirect to {location}, not followed)"));
    }
    // The receiver's explanation, shortened: it is what the user needs to fix a refusal.
    if let Ok(text) = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .lossy_utf8(true)
        .read_to_string()
    {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            let short: String = text.chars().take(200).collect();
            let more = if short.len() < text.len() { "…" } else { "" };
            error.push_str(&format!(": {short}{more}"));
        }
    }
    let retry = status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    Attempt::Failed {
        error,
        retry,
        retry_after,
    }
}

/// Header values must be visible ASCII; alert keys carry account ids that may not be.
/// Anything else (and `%`, so distinct keys stay distinct) is percent-encoded.
fn header_safe(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The append-only record of delivered alerts, locked for as long as it is open.
struct StateFile {
    path: PathBuf,
    file: File,
    sent: HashSet<String>,
    /// The last line lacks its newline (killed mid-append after the JSON was written):
    /// start the next record on a line of its own.
    needs_newline: bool,
}

impl StateFile {
    fn open(path: &Path) -> Result<StateFile, WebhookError> {
        let io_err = |source| WebhookError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = dir {
            fs::create_dir_all(dir).map_err(|source| WebhookError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let existed = path.try_exists().map_err(io_err)?;
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_err)?;
        if !existed {
            // Make the new file's directory entry durable too, or a crash could forget the
            // whole file and with it every record written into it.
            #[cfg(unix)]
            if let Some(dir) = dir {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|source| WebhookError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?;
            }
        }
        file.lock().map_err(io_err)?;

        let mut bytes = Vec::new();
        (&file).read_to_end(&mut bytes).map_err(io_err)?;
        let needs_newline = !bytes.is_empty() && !bytes.ends_with(b"\n");
        let mut sent = HashSet::new();
        for (i, line) in BufReader::new(bytes.as_slice()).lines().enumerate() {
            let corrupt = |message: String| WebhookError::Corrupt {
                path: path.to_path_buf(),
                line: i + 1,
                message,
            };
            let line = line.map_err(|e| corrupt(e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            sent.insert(parse_record(&line).map_err(corrupt)?);
        }
        Ok(StateFile {
            path: path.to_path_buf(),
            file,
            sent,
            needs_newline,
        })
    }

    /// Appends one record and fsyncs it: once this returns, the alert is never sent again.
    fn record(&mut self, key: &str, status: u16) -> Result<(), WebhookError> {
        let record = serde_json::json!({
            "key": key,
            "sent_at": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            "status": status,
        });
        let mut line = if self.needs_newline { "\n" } else { "" }.to_string();
        line.push_str(&record.to_string());
        line.push('\n');
        // One write of the whole line, so a crash leaves at worst a torn last line, which
        // the next run reports instead of guessing.
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|source| WebhookError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.needs_newline = false;
        self.sent.insert(key.to_string());
        Ok(())
    }
}

/// The key of one state line; every field is checked so that a damaged line is reported
/// rather than half-trusted.
fn parse_record(line: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    let key = obj
        .get("key")
        .and_then(Value::as_str)
        .ok_or("`key` missing or not a string")?;
    let sent_at = obj
        .get("sent_at")
        .and_then(Value::as_str)
        .ok_or("`sent_at` missing or not a string")?;
    DateTime::parse_from_rfc3339(sent_at)
        .map_err(|e| format!("`sent_at` {sent_at:?} is not an RFC 3339 time: {e}"))?;
    obj.get("status")
        .and_then(Value::as_u64)
        .filter(|s| (100..=599).contains(s))
        .ok_or("`status` missing or not an HTTP status")?;
    Ok(key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_safe_keeps_ascii_and_encodes_the_rest() {
        assert_eq!(header_safe("surge:ACC-1:2026-W39"), "surge:ACC-1:2026-W39");
        assert_eq!(header_safe("surge:Café 1:W39"), "surge:Caf%C3%A9%201:W39");
        assert_eq!(header_safe("50%"), "50%25");
    }

    #[test]
    fn parse_record_checks_every_field() {
        let ok = r#"{"key":"a","sent_at":"2026-09-28T10:00:00.000Z","status":200}"#;
        assert_eq!(parse_record(ok).unwrap(), "a");
        let no_status = r#"{"key":"a","sent_at":"2026-09-28T10:00:00.000Z"}"#;
        assert!(parse_record(no_status).unwrap_err().contains("status"));
        let bad_time = r#"{"key":"a","sent_at":"yesterday","status":200}"#;
        assert!(parse_record(bad_time).unwrap_err().contains("yesterday"));
        assert!(parse_record("[1]").unwrap_err().contains("object"));
    }
}
