#!/usr/bin/env python3
"""HTTP ingestion benchmark (issue 9): sustained /v1/batch throughput and latency, and
single-call /v1/track latency at a fixed rate, against a release `abmeter serve` on loopback.

There is no peer to run side by side (bench/README: report events/s and p99 from a load
generator on loopback). The load generator, crates/abmeter-server/examples/load.rs, is a
second process on the same 2 cores. Each run gets a fresh server on an empty workspace
(flush every 5 s, the default); the median of RUNS runs is printed.

    cargo build --release -p abmeter && cargo build --release -p abmeter-server --example load
    python3 bench/ingest.py [--secs 15] [--runs 3]

Environment: CARGO_TARGET_DIR (default ~/.cache/abmeter-target).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request

import serving

KEY = "wk_bench"


def metrics(url):
    text = urllib.request.urlopen(f"{url}/metrics").read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(abmeter_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def run(target, mode, extra):
    """One run on a fresh server: the load generator's figures plus the server's WAL counts."""
    ws = tempfile.mkdtemp(prefix="abmeter-ingest-")
    with open(os.path.join(ws, "abmeter.toml"), "w") as f:
        f.write(f'[server]\nwrite_keys = ["{KEY}"]\n')
    server, url = serving.start(target, ws)
    try:
        out = subprocess.run([os.path.join(target, "release/examples/load"), mode, url, KEY, *extra],
                             check=True, capture_output=True, text=True)
        r = json.loads(out.stdout)
        m = metrics(url)
        r["fsyncs_per_sec"] = m["abmeter_wal_fsyncs_total"] / r["secs"]
        r["events_per_commit"] = r["events"] / max(m["abmeter_wal_commits_total"], 1)
    finally:
        t0 = time.time()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=300)
        r["shutdown_secs"] = time.time() - t0
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", default="15")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/abmeter-target"))
    tests = [
        ("batch of 100, 8 threads, closed loop", "batch",
         ["--threads", "8", "--batch", "100", "--secs", args.secs]),
        ("single track at 1000 req/s, open loop", "single",
         ["--rate", "1000", "--threads", "16", "--secs", args.secs]),
    ]
    cols = ["events_per_sec", "requests_per_sec", "p50_ms", "p99_ms", "max_ms", "fsyncs_per_sec",
            "events_per_commit", "errors"]
    print(f"{'test (median of %d runs)' % args.runs:42}" + "".join(f"{c:>18}" for c in cols))
    for name, mode, extra in tests:
        runs = [run(target, mode, extra) for _ in range(args.runs)]
        for r in runs:
            print(f"  run: {json.dumps({c: round(r[c], 2) for c in cols})}")
        med = {c: statistics.median(r[c] for r in runs) for c in cols}
        print(f"{name:42}" + "".join(f"{med[c]:>18.2f}" for c in cols))


if __name__ == "__main__":
    main()
