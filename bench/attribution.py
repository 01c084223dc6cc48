#!/usr/bin/env python3
"""Attribution benchmark (issue 5): abmeter's models on a demo workspace, and its exact
Markov chain against ChannelAttribution's simulation on the same path table.

Usage:
  cargo build --release
  target/release/abmeter demo --accounts 40000 --activities 5000000 --out DATA --end 2026-09-30
  target/release/abmeter --workspace WS import DATA          # about 20,000 opportunities
  python3 bench/attribution.py WS [PERIOD]                   # default PERIOD 2026
  (needs `pip install channelattribution matplotlib pandas`)

Timed, median of RUNS after a warm-up, whole processes (open, resolve the activities in the
opportunities' touch windows, compute, print):
  - `attribution --model linear` (one rule-based model), `--model rules` (every rule-based
    model side by side), `--model all` (every model),
    `--model markov` at orders 1 and 3 (attribution.markov_order in WS/abmeter.toml).
Then the Markov path table abmeter used (`--journeys`) goes to ChannelAttribution's
markov_model (order 1, max_step = 10 × the longest journey, nsim_start 1e7, seed 0), and the
per-channel conversions are compared with abmeter's exact ones.
"""
import contextlib
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("RUNS", "3"))


def abmeter_bin():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
    path = os.path.join(target, "release", "abmeter")
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `cargo build --release` first")
    return path


def timed(cmd):
    def f():
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{cmd} failed:\n{out.stderr}")
        return time.perf_counter() - start
    f()  # warm-up (also refreshes the engagement cube once)
    return statistics.median(f() for _ in range(RUNS))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ws = sys.argv[1]
    period = sys.argv[2] if len(sys.argv) > 2 else "2026"
    ab = [abmeter_bin(), "--workspace", ws, "attribution", "--period", period, "--format", "csv"]
    toml = os.path.join(ws, "abmeter.toml")
    saved = open(toml).read() if os.path.exists(toml) else None
    results = {}
    try:
        results["linear"] = timed(ab + ["--model", "linear"])
        results["rule-based models"] = timed(ab + ["--model", "rules"])
        results["all models"] = timed(ab + ["--model", "all"])
        for order in (1, 3):
            with open(toml, "w") as f:
                f.write((saved or "") + f"\n[attribution]\nmarkov_order = {order}\n")
            results[f"markov order {order}"] = timed(ab + ["--model", "markov"])
        with open(toml, "w") as f:
            f.write((saved or "") + "\n[attribution]\nmarkov_order = 1\n")
        table = tempfile.mktemp(suffix=".csv")
        start = time.perf_counter()
        out = subprocess.run(ab + ["--model", "markov", "--journeys", table], capture_output=True,
                             text=True, check=True).stdout
        exact_time = time.perf_counter() - start
    finally:
        if saved is None:
            os.remove(toml)
        else:
            open(toml, "w").write(saved)
    exact = {}
    for line in out.splitlines()[1:]:
        cells = line.split(",")
        if cells[0] != "unattributed":
            exact[cells[0]] = float(cells[1])

    import pandas as pd
    with contextlib.redirect_stdout(io.StringIO()):
        from ChannelAttribution import markov_model
    df = pd.read_csv(table)
    longest = int(df["path"].str.count(">").max()) + 1
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        res = markov_model(df, "path", "conv", var_null="null", order=1, max_step=10 * longest,
                           nsim_start=1e7, seed=0, verbose=False)
    ca_time = time.perf_counter() - start
    ca = dict(zip(res["channel_name"], res["total_conversions"]))

    print(f"workspace {ws}, period {period}, {RUNS} runs after a warm-up, {os.cpu_count()} cores")
    print(f"{'task':20}{'abmeter s':>11}")
    for k, v in results.items():
        print(f"{k:20}{v:>11.2f}")
    print(f"\npath table: {len(df):,} distinct paths, {int(df['conv'].sum()):,} conversions, "
          f"{int(df['null'].sum()):,} non-converting journeys, longest {longest} touches")
    print(f"markov order 1: abmeter {exact_time:.2f} s (whole process, exact), "
          f"ChannelAttribution {ca_time:.2f} s (markov_model alone, simulated), "
          f"ratio {exact_time / ca_time:.2f}")
    worst = 0.0
    print(f"{'channel':22}{'abmeter':>12}{'CA':>12}{'rel diff':>10}")
    for ch in sorted(exact, key=lambda c: -exact[c]):
        c = ca.get(ch, 0.0)
        d = abs(exact[ch] - c) / exact[ch] if exact[ch] else 0.0
        worst = max(worst, d)
        print(f"{ch:22}{exact[ch]:>12.3f}{c:>12.3f}{100 * d:>9.2f}%")
    print(f"largest relative difference {100 * worst:.2f}%")


if __name__ == "__main__":
    main()
