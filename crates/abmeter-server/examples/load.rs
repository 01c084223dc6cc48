//! Load generator for `abmeter serve` (bench/ingest.py runs it against a release server).
//!
//! ```text
//! load batch  URL WRITE_KEY --threads 8 --batch 100 --secs 10
//! load single URL WRITE_KEY --rate 1000 --threads 8 --secs 10
//! ```
//! `batch`: each thread posts batches of unique calls back to back (closed loop).
//! `single`: `/v1/track` calls at a fixed total rate (open loop: a request's latency counts
//! from when it was due, so a stalled server cannot hide its queue).
//! Prints one JSON line: requests, events, events_per_sec, p50/p99/max latency in ms,
//! errors.

use std::time::{Duration, Instant};

use base64::Engine;

struct Args {
    mode: String,
    url: String,
    key: String,
    threads: usize,
    batch: usize,
    rate: f64,
    secs: f64,
}

fn args() -> Args {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str, default: &str| {
        a.iter()
            .position(|x| x == name)
            .map_or(default.to_string(), |i| a[i + 1].clone())
    };
    Args {
        mode: a[0].clone(),
        url: a[1].clone(),
        key: a[2].clone(),
        threads: opt("--threads", "8").parse().unwrap(),
        batch: opt("--batch", "100").parse().unwrap(),
        rate: opt("--rate", "1000").parse().unwrap(),
        secs: opt("--secs", "10").parse().unwrap(),
    }
}

fn call(id: &str, n: usize) -> String {
    format!(
        r#"{{"type":"track","messageId":"{id}","anonymousId":"v{v}","userId":"c{c}","event":"Email Opened","timestamp":"2026-11-30T10:00:00Z","properties":{{"campaign_id":"cmp-{k}","subject":"Q4 ABM newsletter"}},"context":{{"ip":"203.0.113.{ip}","groupId":"acc-{g}","library":{{"name":"abmeter-load"}}}}}}"#,
        v = n % 5000,
        c = n % 1000,
        k = n % 20,
        ip = n % 250,
        g = n % 2000
    )
}

fn main() {
    let args = args();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", args.key))
    );
    let run_id = std::process::id();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.secs);
    let per_thread_interval = Duration::from_secs_f64(args.threads as f64 / args.rate);
    let handles: Vec<_> = (0..args.threads)
        .map(|t| {
            let (url, auth, mode, batch) = (
                args.url.clone(),
                auth.clone(),
                args.mode.clone(),
                args.batch,
            );
            std::thread::spawn(move || {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .new_agent();
                let mut latencies = Vec::new();
                let (mut events, mut errors) = (0usize, 0usize);
                let mut due = Instant::now() + per_thread_interval.mul_f64(t as f64 / 8.0);
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let (path, body, count) = if mode == "batch" {
                        let items: Vec<String> = (0..batch)
                            .map(|i| call(&format!("r{run_id}-t{t}-{n}-{i}"), n * batch + i))
                            .collect();
                        let body = format!(
                            r#"{{"batch":[{}],"sentAt":"2026-11-30T10:00:01Z"}}"#,
                            items.join(",")
                        );
                        ("/v1/batch", body, batch)
                    } else {
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        ("/v1/track", call(&format!("r{run_id}-t{t}-{n}"), n), 1)
                    };
                    let from = if mode == "batch" { Instant::now() } else { due };
                    n += 1;
                    let ok = agent
                        .post(&format!("{url}{path}"))
                        .header("Authorization", &auth)
                        .header("Content-Type", "application/json")
                        .send(&body)
                        .is_ok_and(|r| r.status() == 200);
                    latencies.push(from.elapsed());
                    if ok {
                        events += count;
                    } else {
                        errors += 1;
                    }
                    due += per_thread_interval;
                }
                (latencies, events, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut events, mut errors) = (0, 0);
    for h in handles {
        let (l, e, x) = h.join().unwrap();
        latencies.extend(l);
        events += e;
        errors += x;
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{{\"mode\":\"{}\",\"requests\":{},\"events\":{events},\"secs\":{secs:.2},\"events_per_sec\":{:.0},\"requests_per_sec\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"errors\":{errors}}}",
        args.mode,
        latencies.len(),
        events as f64 / secs,
        latencies.len() as f64 / secs,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
