//! The alert webhook against a real HTTP server on 127.0.0.1: a tiny HTTP/1.1 responder
//! that records each request and answers from a script. Sleeps between retries are
//! recorded, not slept, so the tests take milliseconds.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abmeter_outputs::webhook::{
    Delivery, SendSummary, WebhookError, WebhookOptions, send_new, send_new_with,
};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Request {
    line: String,
    /// Names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn status(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: String::new(),
    }
}

fn retry_after(code: u16, secs: &str) -> Reply {
    Reply {
        headers: vec![("Retry-After", secs.to_string())],
        ..status(code)
    }
}

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// Answers each request with the next scripted reply, 200 once the script is used up.
/// Every answer closes the connection, so each attempt is a fresh connection.
fn serve(script: Vec<Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/abm", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&requests);
    let mut script = VecDeque::from(script);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(req) = read_request(&stream) else {
                continue;
            };
            // Recorded before answering, so a finished send has every request recorded.
            recorded.lock().unwrap().push(req);
            let reply = script.pop_front().unwrap_or_else(|| status(200));
            let mut head = format!(
                "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
                reply.status,
                reply.body.len()
            );
            for (name, value) in &reply.headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            head.push_str(&reply.body);
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.flush();
        }
    });
    Server { url, requests }
}

/// Accepts and reads requests but never answers them.
fn serve_silently() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let _ = read_request(&stream);
            held.push(stream);
        }
    });
    url
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        line: line.trim_end().to_string(),
        headers,
        body,
    })
}

fn opts(url: &str) -> WebhookOptions {
    WebhookOptions {
        url: url.to_string(),
        ..WebhookOptions::default()
    }
}

fn alert(key: &str, account: &str) -> Delivery {
    Delivery {
        key: key.to_string(),
        body: json!({"kind": "surge", "account_id": account, "week": "2026-W39", "z": 2.5}),
    }
}

/// Runs one send, returning the summary and the waits it asked for.
fn send(
    opts: &WebhookOptions,
    state: &Path,
    deliveries: &[Delivery],
) -> (SendSummary, Vec<Duration>) {
    let mut slept = Vec::new();
    let summary = send_new_with(opts, state, deliveries, &mut |d| slept.push(d)).unwrap();
    (summary, slept)
}

fn state_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("alerts").join("webhook-sent.jsonl")
}

/// The state file's records, as (key, status).
fn records(path: &Path) -> Vec<(String, u64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["key"].as_str().unwrap().to_string(),
                v["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn first_delivery_is_posted_with_headers_and_recorded_then_never_again() {
    let server = serve(vec![status(201)]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let a = alert("surge:ACC-1:2026-W39", "ACC-1");

    let (summary, slept) = send(&opts(&server.url), &state, std::slice::from_ref(&a));
    assert_eq!(
        summary,
        SendSummary {
            sent: keys(&["surge:ACC-1:2026-W39"]),
            already_sent: vec![],
            failed: vec![],
        }
    );
    assert!(slept.is_empty());

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.line, "POST /hooks/abm HTTP/1.1");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("idempotency-key"), Some("surge:ACC-1:2026-W39"));
    assert_eq!(
        r.header("user-agent"),
        Some(concat!("abmeter/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(r.json(), a.body);

    // The folder was created and the record holds the key, the status and when.
    let text = std::fs::read_to_string(&state).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.ends_with('\n'));
    let rec: Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(rec["key"], "surge:ACC-1:2026-W39");
    assert_eq!(rec["status"], 201);
    let sent_at = chrono::DateTime::parse_from_rfc3339(rec["sent_at"].as_str().unwrap()).unwrap();
    assert!(rec["sent_at"].as_str().unwrap().ends_with('Z'));
    let age = chrono::Utc::now().signed_duration_since(sent_at);
    assert!(age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::seconds(60));

    // A second call sends nothing and leaves the record as it was.
    let (summary, slept) = send(&opts(&server.url), &state, &[a]);
    assert_eq!(summary.already_sent, keys(&["surge:ACC-1:2026-W39"]));
    assert!(summary.sent.is_empty() && summary.failed.is_empty());
    assert!(slept.is_empty());
    assert_eq!(server.requests().len(), 1);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), text);
}

#[test]
fn retries_503_with_doubling_backoff_until_delivered() {
    let server = serve(vec![status(503), status(503), status(200)]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let a = alert("decline:ACC-2:2026-W39", "ACC-2");

    let (summary, slept) = send(&opts(&server.url), &state, std::slice::from_ref(&a));
    assert_eq!(summary.sent, keys(&["decline:ACC-2:2026-W39"]));
    assert!(summary.failed.is_empty());
    assert_eq!(slept, vec![ms(500), ms(1000)]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.header("idempotency-key"), Some("decline:ACC-2:2026-W39"));
        assert_eq!(r.json(), a.body);
    }
    assert_eq!(
        records(&state),
        vec![("decline:ACC-2:2026-W39".into(), 200)]
    );
}

#[test]
fn retry_after_seconds_replaces_the_backoff_on_429_and_503_capped() {
    // 429 asks for 3 s; 503 asks for 120 s, capped at max_backoff (8 s); a 500's
    // Retry-After is not honoured, so the doubled backoff (third retry: 2 s) applies.
    let server = serve(vec![
        retry_after(429, "3"),
        retry_after(503, "120"),
        retry_after(500, "7"),
        status(204),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);

    let (summary, slept) = send(&opts(&server.url), &state, &[alert("k1", "ACC-1")]);
    assert_eq!(summary.sent, keys(&["k1"]));
    assert_eq!(slept, vec![ms(3000), ms(8000), ms(2000)]);
    assert_eq!(server.requests().len(), 4);
    assert_eq!(records(&state), vec![("k1".into(), 204)]);
}

#[test]
fn permanent_4xx_fails_at_once_is_not_recorded_and_is_sent_next_call() {
    let server = serve(vec![
        Reply {
            body: "missing field\n account_id".into(),
            ..status(400)
        },
        status(200),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let deliveries = [alert("a", "ACC-1"), alert("b", "ACC-2")];

    // The refused alert does not hold back the next one.
    let (summary, slept) = send(&opts(&server.url), &state, &deliveries);
    assert_eq!(summary.sent, keys(&["b"]));
    assert_eq!(summary.failed.len(), 1);
    let (key, err) = &summary.failed[0];
    assert_eq!(key, "a");
    assert!(
        err.contains("400") && err.contains("missing field account_id"),
        "{err}"
    );
    assert!(slept.is_empty(), "no retry on a 400: {slept:?}");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(records(&state), vec![("b".into(), 200)]);

    let (summary, slept) = send(&opts(&server.url), &state, &deliveries);
    assert_eq!(summary.sent, keys(&["a"]));
    assert_eq!(summary.already_sent, keys(&["b"]));
    assert!(summary.failed.is_empty() && slept.is_empty());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].json()["account_id"], "ACC-1");
    assert_eq!(records(&state), vec![("b".into(), 200), ("a".into(), 200)]);
}

#[test]
fn exhausted_attempts_fail_with_capped_backoff_and_are_retried_next_call() {
    // Every retryable kind: 408, 429 (no Retry-After) and 5xx; the 7 attempts use them all.
    let server = serve(vec![
        status(408),
        status(500),
        status(502),
        status(429),
        status(504),
        status(500),
        status(503),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let o = WebhookOptions {
        attempts: 7,
        ..opts(&server.url)
    };

    let (summary, slept) = send(&o, &state, &[alert("k", "ACC-1")]);
    assert!(summary.sent.is_empty());
    assert_eq!(summary.failed.len(), 1);
    let (key, err) = &summary.failed[0];
    assert_eq!(key, "k");
    assert!(
        err.contains("503") && err.contains("after 7 attempts"),
        "{err}"
    );
    assert_eq!(
        slept,
        vec![ms(500), ms(1000), ms(2000), ms(4000), ms(8000), ms(8000)]
    );
    assert_eq!(server.requests().len(), 7);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "");

    // Next call: the server answers 200 now, and the alert goes out.
    let (summary, slept) = send(&o, &state, &[alert("k", "ACC-1")]);
    assert_eq!(summary.sent, keys(&["k"]));
    assert!(slept.is_empty());
    assert_eq!(server.requests().len(), 8);
    assert_eq!(records(&state), vec![("k".into(), 200)]);
}

#[test]
fn server_down_fails_everything_records_nothing_and_backs_off_once() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let o = WebhookOptions {
        attempts: 3,
        ..opts(&format!("http://127.0.0.1:{port}/hook"))
    };

    let (summary, slept) = send(&o, &state, &[alert("a", "ACC-1"), alert("b", "ACC-2")]);
    assert!(summary.sent.is_empty());
    assert_eq!(
        summary
            .failed
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert!(
        summary.failed[0].1.contains(&format!("127.0.0.1:{port}"))
            && summary.failed[0].1.contains("after 3 attempts"),
        "{:?}",
        summary.failed
    );
    // The first alert used its 3 attempts; with the receiver down the second got one.
    assert!(
        summary.failed[1].1.contains("after 1 attempt)"),
        "{:?}",
        summary.failed
    );
    assert_eq!(slept, vec![ms(500), ms(1000)]);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "");
}

#[test]
fn after_a_give_up_one_attempt_each_until_a_success_restores_full_retries() {
    let server = serve(vec![
        status(503),
        status(503), // a: gives up after 2 attempts
        status(503), // b: one attempt only
        status(200), // c: one attempt, delivered
        status(503),
        status(200), // d: full retries again
    ]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let o = WebhookOptions {
        attempts: 2,
        ..opts(&server.url)
    };
    let deliveries = ["a", "b", "c", "d"].map(|k| alert(k, "ACC-1"));

    let (summary, slept) = send(&o, &state, &deliveries);
    assert_eq!(summary.sent, keys(&["c", "d"]));
    assert_eq!(
        summary
            .failed
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(slept, vec![ms(500), ms(500)]);
    assert_eq!(server.requests().len(), 6);
    assert_eq!(records(&state), vec![("c".into(), 200), ("d".into(), 200)]);
}

#[test]
fn a_request_timeout_is_retried_then_fails() {
    let url = serve_silently();
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let o = WebhookOptions {
        attempts: 2,
        timeout: ms(300),
        ..opts(&url)
    };

    let started = std::time::Instant::now();
    let (summary, slept) = send(&o, &state, &[alert("k", "ACC-1")]);
    assert!(summary.sent.is_empty());
    assert_eq!(summary.failed.len(), 1);
    assert!(
        summary.failed[0].1.contains("timeout"),
        "{:?}",
        summary.failed
    );
    assert_eq!(slept, vec![ms(500)]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "");
}

#[test]
fn a_corrupt_state_line_is_an_error_naming_file_and_line_and_nothing_is_sent() {
    let server = serve(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(
        &state,
        "{\"key\":\"a\",\"sent_at\":\"2026-09-28T10:00:00.000Z\",\"status\":200}\n{\"key\":\"b\",\"sent_\n",
    )
    .unwrap();

    let err = send_new_with(
        &opts(&server.url),
        &state,
        &[alert("c", "ACC-3")],
        &mut |_| {},
    )
    .unwrap_err();
    match &err {
        WebhookError::Corrupt { path, line, .. } => {
            assert_eq!(path, &state);
            assert_eq!(*line, 2);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}:2: corrupt webhook state line",
            state.display()
        )),
        "{msg}"
    );
    assert!(server.requests().is_empty());
}

#[test]
fn a_state_file_from_a_previous_run_is_honoured() {
    // As a previous process left it, killed right after its last append: no final newline.
    let server = serve(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(
        &state,
        "{\"key\":\"surge:ACC-1:2026-W38\",\"sent_at\":\"2026-09-21T08:00:00.000Z\",\"status\":200}\n\
         {\"key\":\"surge:ACC-1:2026-W39\",\"sent_at\":\"2026-09-28T08:00:00.000Z\",\"status\":202}",
    )
    .unwrap();
    let deliveries = [
        alert("surge:ACC-1:2026-W38", "ACC-1"),
        alert("surge:ACC-1:2026-W39", "ACC-1"),
        alert("surge:ACC-9:2026-W39", "ACC-9"),
    ];

    // send_new itself, sleeping for real: nothing here needs a retry.
    let summary = send_new(&opts(&server.url), &state, &deliveries).unwrap();
    assert_eq!(
        summary.already_sent,
        keys(&["surge:ACC-1:2026-W38", "surge:ACC-1:2026-W39"])
    );
    assert_eq!(summary.sent, keys(&["surge:ACC-9:2026-W39"]));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].json()["account_id"], "ACC-9");
    assert_eq!(
        records(&state),
        vec![
            ("surge:ACC-1:2026-W38".into(), 200),
            ("surge:ACC-1:2026-W39".into(), 202),
            ("surge:ACC-9:2026-W39".into(), 200),
        ]
    );
}

#[test]
fn a_key_given_twice_is_sent_once() {
    let server = serve(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);

    let (summary, _) = send(
        &opts(&server.url),
        &state,
        &[alert("k", "ACC-1"), alert("k", "ACC-1")],
    );
    assert_eq!(summary.sent, keys(&["k"]));
    assert!(summary.already_sent.is_empty());
    assert_eq!(server.requests().len(), 1);
    assert_eq!(records(&state), vec![("k".into(), 200)]);
}

#[test]
fn no_url_is_an_error_before_anything_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let state = state_path(&dir);
    let err = send_new(&WebhookOptions::default(), &state, &[alert("k", "ACC-1")]).unwrap_err();
    assert!(matches!(err, WebhookError::NoUrl), "{err:?}");
    assert!(!state.exists());
}

#[test]
fn defaults_match_the_spec() {
    let o = WebhookOptions::default();
    assert_eq!(o.url, "");
    assert_eq!(o.attempts, 5);
    assert_eq!(o.initial_backoff, ms(500));
    assert_eq!(o.max_backoff, ms(8000));
    assert_eq!(o.timeout, ms(10_000));
}
