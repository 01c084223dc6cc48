#!/usr/bin/env python3
"""Import benchmark: abmeter vs DuckDB on the same activities CSV (issue 2).

Usage:
  cargo build --release
  target/release/abmeter demo --accounts 2000 --activities 5000000 --out bench/data
  python3 bench/import.py bench/data            # needs `pip install duckdb`

For each tool: one warm-up, then RUNS timed runs; prints the median seconds, rows/s, the
ratio, and abmeter's peak memory (from /usr/bin/time -v). abmeter imports into a fresh
workspace each run: parse, validate, dedupe, write Parquet, fsync, commit the manifest.
DuckDB runs `CREATE TABLE activities AS SELECT * FROM read_csv(...)` in memory.
"""
import os
import re
import shutil
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
        sys.exit(f"{path} not found: run `cargo build --release` first (or set CARGO_TARGET_DIR)")
    return path


def run_abmeter(binary, csv_path):
    ws = tempfile.mkdtemp(prefix="abmeter-bench-")
    try:
        start = time.perf_counter()
        out = subprocess.run(
            ["/usr/bin/time", "-v", binary, "--workspace", ws, "import", "--kind", "activities", csv_path],
            capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(f"abmeter import failed:\n{out.stderr}")
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
        return elapsed, rss_kb
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def run_duckdb(csv_path):
    import duckdb
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"CREATE TABLE activities AS SELECT * FROM read_csv('{csv_path}')")
    elapsed = time.perf_counter() - start
    rows = con.execute("SELECT count(*) FROM activities").fetchone()[0]
    con.close()
    return elapsed, rows


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    csv_path = os.path.abspath(os.path.join(sys.argv[1], "activities.csv"))
    size_mb = os.path.getsize(csv_path) / 1e6
    binary = abmeter_bin()

    run_abmeter(binary, csv_path)  # warm-up (page cache)
    ab = [run_abmeter(binary, csv_path) for _ in range(RUNS)]
    run_duckdb(csv_path)
    dd = [run_duckdb(csv_path) for _ in range(RUNS)]
    rows = dd[0][1]

    ab_med = statistics.median(t for t, _ in ab)
    dd_med = statistics.median(t for t, _ in dd)
    peak_mb = max(r for _, r in ab) / 1024
    print(f"file: {csv_path} ({size_mb:.0f} MB, {rows:,} rows), {RUNS} runs after a warm-up, {os.cpu_count()} cores")
    print(f"{'task':<28}{'abmeter s':>11}{'duckdb s':>11}{'ratio':>8}{'abmeter rows/s':>16}{'duckdb rows/s':>15}")
    print(f"{'import activities CSV':<28}{ab_med:>11.2f}{dd_med:>11.2f}{ab_med / dd_med:>8.2f}"
          f"{rows / ab_med:>16,.0f}{rows / dd_med:>15,.0f}")
    print(f"abmeter peak memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
