#!/usr/bin/env python3
"""HTTP ingestion benchmark (issue 9): sustained /v1/batch throughput and latency, and
single-call /v1/track latency at a fixed rate, against a release `abmeter serve` on loopback.

There is no peer to run side by side (bench/README: report events/s and p99 from a load
generator on loopback). The load generator is crates/abmeter-server/examples/load.rs, a
second process.

    cargo build --release -p abmeter -p abmeter-server --example load
    python3 bench/ingest.py [--secs 15] [--threads 8]

Environment: CARGO_TARGET_DIR (default ~/.cache/abmeter-target).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request

KEY = "wk_bench"


def metrics(url):
    text = urllib.request.urlopen(f"{url}/metrics").read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(abmeter_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def load(target, mode, url, extra):
    out = subprocess.run([os.path.join(target, "release/examples/load"), mode, url, KEY, *extra],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", default="15")
    ap.add_argument("--threads", default="8")
    args = ap.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/abmeter-target"))
    ws = tempfile.mkdtemp(prefix="abmeter-ingest-")
    with open(os.path.join(ws, "abmeter.toml"), "w") as f:
        f.write(f'[server]\nwrite_keys = ["{KEY}"]\nflush_interval_secs = 5\n')
    server = subprocess.Popen([os.path.join(target, "release/abmeter"), "--workspace", ws,
                               "serve", "--bind", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    while True:
        line = server.stderr.readline()
        if not line:
            raise SystemExit("abmeter serve exited before listening")
        if line.startswith("abmeter serving on "):
            url = re.search(r"http://\S+", line).group(0)
            break
    try:
        before = metrics(url)
        batch = load(target, "batch", url, ["--threads", args.threads, "--batch", "100", "--secs", args.secs])
        after = metrics(url)
        fsyncs = after["abmeter_wal_fsyncs_total"] - before["abmeter_wal_fsyncs_total"]
        commits = after["abmeter_wal_commits_total"] - before["abmeter_wal_commits_total"]
        single = load(target, "single", url, ["--rate", "1000", "--threads", "16", "--secs", args.secs])
        m = metrics(url)
    finally:
        t0 = time.time()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        shutdown = time.time() - t0
    print(f"workspace {ws}")
    print(f"{'test':40} {'events/s':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for name, r in [("batch of 100, %s threads, closed loop" % args.threads, batch),
                    ("single track at 1000 req/s, open loop", single)]:
        print(f"{name:40} {r['events_per_sec']:>10.0f} {r['requests_per_sec']:>8.0f} {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {r['max_ms']:>8.2f} {r['errors']:>7}")
    secs = batch["secs"]
    print(f"WAL during the batch run: {fsyncs:.0f} fsyncs ({fsyncs / secs:.0f}/s), {commits:.0f} group commits, "
          f"{batch['events'] / max(commits, 1):.0f} events per commit")
    print(f"flushes {m.get('abmeter_flushes_total', 0):.0f}, events flushed {m.get('abmeter_events_flushed_total', 0):.0f}; "
          f"shutdown (final flush) {shutdown:.2f} s")


if __name__ == "__main__":
    main()
