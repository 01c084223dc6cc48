//! `abmeter serve` as a user runs it: the official Segment and RudderStack SDKs (Python and
//! Node) deliver events that show up in reports and in the read API, whose JSON is the
//! CLI's; and a server killed with SIGKILL at random moments loses nothing it acknowledged.
//!
//! Needs `pip install segment-analytics-python rudder-sdk-python` and `npm ci` in
//! `crates/abmeter/tests/sdk` (`.ci/run` does both).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::{ok, sql_json};

const WRITE_KEY: &str = "wk_sdk_test";
const READ_TOKEN: &str = "rt_sdk_test";

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Server {
    /// Starts `abmeter serve` on a free port and waits until it listens.
    pub(crate) fn start(ws: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_abmeter"))
            .arg("--workspace")
            .arg(ws)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("ABMETER_WORKSPACE")
            .env("ABMETER_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("abmeter serve starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("abmeter serving on ") {
                    let url = url.split_whitespace().next().unwrap().to_string();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url);
                    }
                } else if line.contains("ERROR") || line.contains("panicked") {
                    eprintln!("server: {line}");
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens");
        Server { child, url }
    }

    /// SIGTERM: the server stops accepting, flushes and exits 0.
    pub(crate) fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exited with {status}");
    }

    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn workspace(dir: &Path) {
    std::fs::write(
        dir.join("abmeter.toml"),
        format!(
            "[server]\nwrite_keys = [\"{WRITE_KEY}\"]\nread_tokens = [\"{READ_TOKEN}\"]\n\
             flush_interval_secs = 1\n"
        ),
    )
    .unwrap();
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

fn get(url: &str) -> (u16, String) {
    let mut res = agent()
        .get(url)
        .header("Authorization", &format!("Bearer {READ_TOKEN}"))
        .call()
        .unwrap();
    (
        res.status().as_u16(),
        res.body_mut().read_to_string().unwrap(),
    )
}

fn api_sql(server: &Server, q: &str) -> Vec<Value> {
    let url = format!("{}/api/v1/sql?q={}", server.url, encode(q));
    let (status, body) = get(&url);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["rows"]
        .as_array()
        .unwrap()
        .clone()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Waits until the server has flushed everything it holds.
fn wait_flushed(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = get(&format!("{}/healthz", server.url));
        let health: Value = serde_json::from_str(&body).unwrap();
        if health["pending_events"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "no flush: {health}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sdk_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

fn run_sdk(program: &str, script: &str, server: &Server) {
    let out = Command::new(program)
        .arg(sdk_dir().join(script))
        .args([&server.url, WRITE_KEY])
        .current_dir(sdk_dir())
        .output()
        .unwrap_or_else(|e| panic!("{program} {script}: {e}"));
    assert!(
        out.status.success(),
        "{program} {script} failed (install the SDKs: see this file's header):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_official_sdks_deliver_events_that_show_up_in_reports() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    workspace(ws);
    let server = Server::start(ws);
    run_sdk("python3", "send.py", &server);
    run_sdk("node", "send.js", &server);

    const SDKS: [&str; 4] = [
        "segment-python",
        "rudder-python",
        "segment-node",
        "rudder-node",
    ];
    // At once, through the read API: every call of every SDK.
    let rows = api_sql(
        &server,
        "SELECT split_part(contact_id, '-user', 1) AS sdk, type, count(*) AS n FROM activities \
         WHERE contact_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
    );
    for sdk in SDKS {
        let types: BTreeMap<&str, i64> = rows
            .iter()
            .filter(|r| r["sdk"] == sdk)
            .map(|r| (r["type"].as_str().unwrap(), r["n"].as_i64().unwrap()))
            .collect();
        let want_track = if sdk.ends_with("node") {
            "webinar_attended"
        } else {
            "demo_request"
        };
        assert_eq!(
            types,
            BTreeMap::from([("group", 1), ("identify", 1), (want_track, 1)]),
            "{sdk}: {rows:?}"
        );
    }
    let pages = api_sql(
        &server,
        "SELECT anonymous_id, url FROM activities WHERE type = 'page_view' ORDER BY 1",
    );
    assert_eq!(pages.len(), 4, "{pages:?}");
    for p in &pages {
        let sdk = p["anonymous_id"]
            .as_str()
            .unwrap()
            .trim_end_matches("-visitor");
        assert_eq!(
            p["url"],
            format!("https://www.example.com/pricing?from={sdk}")
        );
    }

    // After the flush: identify and group made contacts and accounts, and the events resolve.
    wait_flushed(&server);
    let contacts = sql_json(
        ws,
        "SELECT id, email, title, account_id FROM contacts ORDER BY id",
    );
    assert_eq!(contacts["rows"].as_array().unwrap().len(), 4, "{contacts}");
    for c in contacts["rows"].as_array().unwrap() {
        let sdk = c["id"].as_str().unwrap().trim_end_matches("-user");
        assert_eq!(c["email"], format!("{sdk}@{sdk}.example.com"));
        assert_eq!(c["account_id"], format!("{sdk}-account"));
    }
    let accounts = sql_json(
        ws,
        "SELECT id, name, domain, industry FROM accounts ORDER BY id",
    );
    let names: BTreeSet<String> = accounts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} {} {}", a["id"], a["domain"], a["industry"]))
        .collect();
    assert_eq!(names.len(), 4, "{accounts}");
    for sdk in SDKS {
        let want = format!(r#""{sdk}-account" "{sdk}-corp.com" "Software""#);
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    // The page views are anonymous: they reach their account through the identify stitch.
    let resolved = sql_json(
        ws,
        "SELECT resolved_account_id AS account, count(*) AS n, sum(minutes) AS minutes \
         FROM resolved_activities GROUP BY 1 ORDER BY 1",
    );
    let resolved: BTreeMap<String, (i64, f64)> = resolved["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["account"].as_str().unwrap_or("(none)").to_string(),
                (r["n"].as_i64().unwrap(), r["minutes"].as_f64().unwrap()),
            )
        })
        .collect();
    assert_eq!(resolved["segment-node-account"], (2, 40.0 + 1.0));
    assert_eq!(resolved["segment-python-account"], (2, 15.0 + 1.0));
    assert_eq!(resolved["rudder-python-account"], (2, 15.0 + 1.0));

    // A report through the read API is the CLI's JSON.
    let today = chrono::Utc::now().date_naive().to_string();
    let (status, api) = get(&format!(
        "{}/api/v1/engagement?period=week&at={today}",
        server.url
    ));
    assert_eq!(status, 200, "{api}");
    let cli = ok(
        ws,
        &[
            "engagement",
            "--period",
            "week",
            "--at",
            &today,
            "--format",
            "json",
        ],
    );
    assert_eq!(api, cli);
    let api: Value = serde_json::from_str(&api).unwrap();
    assert!(api["rows"].as_array().unwrap().len() >= 4, "{api}");
    // Bad parameters are the caller's: 400 with the reason.
    let (status, body) = get(&format!(
        "{}/api/v1/engagement?period=fortnight",
        server.url
    ));
    assert_eq!(status, 400, "{body}");
    let (status, _) = get(&format!("{}/api/v1/import", server.url));
    assert_eq!(status, 404);
    server.stop();
}

#[test]
fn a_server_killed_at_random_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    workspace(ws);
    let url = Arc::new(RwLock::new(Server::start(ws)));
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let sent: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{WRITE_KEY}:"))
    );
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let (url, acked, sent, done, auth) = (
                url.clone(),
                acked.clone(),
                sent.clone(),
                done.clone(),
                auth.clone(),
            );
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .new_agent();
                let mut n = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let ids: Vec<String> = (0..50).map(|i| format!("t{t}-b{n}-{i}")).collect();
                    n += 1;
                    let batch: Vec<Value> = ids
                        .iter()
                        .map(|id| {
                            json!({"type": "track", "messageId": id, "anonymousId": format!("v{t}"),
                                          "event": "Email Opened", "properties": {"n": n}})
                        })
                        .collect();
                    let body = json!({"batch": batch}).to_string();
                    sent.lock().unwrap().extend(ids.iter().cloned());
                    // Like an SDK: retry the same batch until it is acknowledged.
                    loop {
                        let target = format!("{}/v1/batch", url.read().unwrap().url);
                        let ok = agent
                            .post(&target)
                            .header("Authorization", &auth)
                            .header("Content-Type", "application/json")
                            .send(&body)
                            .is_ok_and(|r| r.status() == 200);
                        if ok {
                            acked.lock().unwrap().extend(ids.iter().cloned());
                            break;
                        }
                        if done.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(rng.random_range(300..1500)));
        let mut guard = url.write().unwrap();
        let old = std::mem::replace(&mut *guard, Server::start_placeholder());
        old.kill9();
        *guard = Server::start(ws);
        drop(guard);
    }
    std::thread::sleep(Duration::from_millis(500));
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let server = std::mem::replace(&mut *url.write().unwrap(), Server::start_placeholder());
    server.stop();

    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(
        acked.len() >= 1000,
        "the load reached the server: {} acked",
        acked.len()
    );
    let rows = sql_json(ws, "SELECT id, count(*) AS n FROM activities GROUP BY id");
    let stored: BTreeMap<String, i64> = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "stored more than once: {:?}",
        &twice[..twice.len().min(5)]
    );
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    // Nothing appears that was never sent.
    assert!(stored.keys().all(|id| sent.contains(id)));
}

#[test]
fn the_server_sends_alerts_of_the_last_complete_week_on_schedule() {
    use chrono::Datelike;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // ACC: 10 minutes (a content download) in each of the 8 weeks before the last complete
    // week, then 50 (a 50-minute webinar) in it: mean 10, sd 0, z = 40, ratio 5 → a surge.
    let last_week = chrono::Utc::now().date_naive() - chrono::Days::new(7);
    let monday = last_week - chrono::Days::new(last_week.weekday().num_days_from_monday().into());
    let mut activities = String::from("id,timestamp,type,account_id,duration_minutes\n");
    for k in 1..=8u64 {
        let day = monday - chrono::Days::new(7 * k) + chrono::Days::new(1);
        activities.push_str(&format!("b{k},{day}T10:00:00Z,content_download,ACC,\n"));
    }
    activities.push_str(&format!("now,{monday}T10:00:00Z,webinar_attended,ACC,50\n"));
    std::fs::write(data.join("accounts.csv"), "id,name\nACC,Surge One\n").unwrap();
    std::fs::write(data.join("activities.csv"), activities).unwrap();
    ok(&ws, &["import", data.to_str().unwrap()]);
    let (hook, log) = super::engagement_outcomes::receiver("200 OK");
    std::fs::write(
        ws.join("abmeter.toml"),
        // Anonymous account activity weighs 1 here (the default for unknown seniority is 0.5).
        format!(
            "[seniority_weights]\nunknown = 1.0\n\
             [alerts]\nwebhook_url = \"{hook}\"\ncheck_interval_secs = 3600\n"
        ),
    )
    .unwrap();
    // The first check runs at start.
    let server = Server::start(&ws);
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = super::engagement_outcomes::taken(&log);
        if !got.is_empty() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    server.stop();
    assert_eq!(got.len(), 1, "one alert delivered");
    let body = got[0].json();
    let week = format!(
        "{}-W{:02}",
        monday.iso_week().year(),
        monday.iso_week().week()
    );
    assert_eq!(body["alert"], "surge", "{body}");
    assert_eq!(body["account_id"], "ACC");
    assert_eq!(body["week"], week);
    assert_eq!(body["current"], 50.0);
    assert_eq!(
        got[0].header("idempotency-key"),
        Some(format!("surge:ACC:{week}").as_str())
    );
}

impl Drop for Server {
    // A failed test leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A stand-in while the real server restarts: its URL refuses connections.
    fn start_placeholder() -> Server {
        let child = Command::new("sleep").arg("60").spawn().unwrap();
        Server {
            child,
            url: "http://127.0.0.1:9".to_string(),
        }
    }
}
