#!/usr/bin/env python3
"""Pipeline and velocity benchmark (issue 6): `abmeter pipeline` and `abmeter velocity` on a
workspace of about 200,000 opportunities and 1,000,000 stage rows, against DuckDB computing
the same headline figures from the same stored Parquet files (a second, independent check of
the numbers as well as a time to compare with).

Usage:
  cargo build --release
  target/release/abmeter demo --accounts 450000 --contacts-per-account 2 \\
      --activities 5000000 --end 2026-11-23 --out DATA     # 221,912 opportunities, 1,003,319 stages
  target/release/abmeter --workspace WS import DATA
  python3 bench/pipeline.py WS [PERIOD] [AT]                 # default 2026-Q3 2026-08-15
  (needs `pip install duckdb`)

Timed, median of RUNS after a warm-up (which also builds the derived tables once), whole
processes: `pipeline --period P --at D`, `pipeline … --by industry`, `velocity --period P`,
`sources --period P`.
DuckDB, connected once, reads `WS/sourcing/*.parquet` (the stored sourced_opportunities) and
`WS/tables/opportunity_stages/*.parquet` and computes pipeline, marketing-sourced pipeline,
revenue, win rate, ACV and open pipeline for P, and the median days per stage of the stage
visits that ended in P; the figures must match abmeter's.
"""
import glob
import json
import os
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("RUNS", "5"))


def abmeter_bin():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
    path = os.path.join(target, "release", "abmeter")
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `cargo build --release` first")
    return path


def timed(cmd):
    def run():
        start = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{cmd} failed:\n{out.stderr}")
        return time.perf_counter() - start, out.stdout
    run()  # warm-up: builds the derived tables once
    times, text = [], ""
    for _ in range(RUNS):
        t, text = run()
        times.append(t)
    peak = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    return statistics.median(times), json.loads(text), int(peak.stderr.strip().splitlines()[-1]) / 1024


def duck_timed(con, sql):
    con.execute(sql).fetchall()
    times, rows = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ws = sys.argv[1]
    period = sys.argv[2] if len(sys.argv) > 2 else "2026-Q3"
    at = sys.argv[3] if len(sys.argv) > 3 else "2026-08-15"
    ab = [abmeter_bin(), "--workspace", ws]
    results = {}
    results["pipeline"] = timed(ab + ["pipeline", "--period", period, "--at", at, "--format", "json"])
    results["pipeline --by industry"] = timed(
        ab + ["pipeline", "--period", period, "--at", at, "--by", "industry", "--format", "json"])
    results["velocity"] = timed(ab + ["velocity", "--period", period, "--at", at, "--format", "json"])
    results["sources"] = timed(ab + ["sources", "--period", period, "--format", "json"])

    import duckdb
    p = results["pipeline"][1]["params"]
    start, end = p["start"], p["end"]
    con = duckdb.connect()
    sourced = glob.glob(os.path.join(ws, "sourcing", "*.parquet"))
    stages = glob.glob(os.path.join(ws, "tables", "opportunity_stages", "*.parquet"))
    con.execute(f"CREATE VIEW o AS SELECT * FROM read_parquet({sourced!r})")
    con.execute(f"CREATE VIEW s AS SELECT * FROM read_parquet({stages!r})")
    closed = "(coalesce(is_closed, false) OR coalesce(is_won, false))"
    figures_sql = f"""
SELECT
  sum(amount) FILTER (WHERE created_at >= TIMESTAMPTZ '{start}' AND created_at < TIMESTAMPTZ '{end}'),
  sum(amount) FILTER (WHERE source = 'marketing' AND created_at >= TIMESTAMPTZ '{start}' AND created_at < TIMESTAMPTZ '{end}'),
  sum(amount) FILTER (WHERE is_won AND close_date >= DATE '{start}' AND close_date < DATE '{end}'),
  count(*) FILTER (WHERE is_won AND close_date >= DATE '{start}' AND close_date < DATE '{end}')::DOUBLE
    / count(*) FILTER (WHERE {closed} AND close_date >= DATE '{start}' AND close_date < DATE '{end}'),
  avg(CASE WHEN contract_months > 0 THEN amount * 12 / contract_months ELSE amount END)
    FILTER (WHERE is_won AND close_date >= DATE '{start}' AND close_date < DATE '{end}'),
  sum(amount) FILTER (WHERE created_at < DATE '{at}' + INTERVAL 1 DAY
                        AND NOT ({closed} AND (close_date IS NULL OR close_date <= DATE '{at}'))
                        AND close_date >= DATE '{start}' AND close_date < DATE '{end}')
FROM o"""
    duck_fig_t, duck_fig = duck_timed(con, figures_sql)
    stage_sql = f"""
WITH v AS (
  SELECT s.opportunity_id, s.stage, s.entered_at,
         lead(s.entered_at) OVER (PARTITION BY s.opportunity_id ORDER BY s.entered_at) AS next_at,
         o.close_date, {closed} AS closed
  FROM s JOIN o ON o.id = s.opportunity_id
), visits AS (
  SELECT opportunity_id, stage,
         coalesce(next_at, CASE WHEN closed AND close_date::TIMESTAMPTZ > entered_at
                                THEN close_date::TIMESTAMPTZ END) AS ended, entered_at
  FROM v
), per_deal AS (
  SELECT opportunity_id, stage,
         sum(greatest(epoch(ended) - epoch(entered_at), 0)) / 86400 AS days, max(ended) AS last_end
  FROM visits WHERE ended IS NOT NULL GROUP BY opportunity_id, stage
)
SELECT stage, count(*), median(days) FROM per_deal
WHERE last_end >= TIMESTAMPTZ '{start}' AND last_end < TIMESTAMPTZ '{end}'
GROUP BY stage ORDER BY stage"""
    duck_stage_t, duck_stages = duck_timed(con, stage_sql)

    # The same figures from abmeter's output.
    row = results["pipeline"][1]["rows"][0]
    mine = [row["pipeline"], row["marketing_sourced_pipeline"], row["revenue"], row["win_rate"],
            row["acv"], row["open_pipeline"]]
    names = ["pipeline", "marketing_sourced_pipeline", "revenue", "win_rate", "acv", "open_pipeline"]
    ok = True
    for name, a, d in zip(names, mine, duck_fig[0]):
        same = (a is None and d is None) or (a is not None and d is not None and abs(a - d) <= 1e-6 * max(1, abs(d)))
        ok &= same
        print(f"  {name:28} abmeter {a!s:>22}  duckdb {d!s:>22}  {'ok' if same else 'DIFFERENT'}")
    label = results["velocity"][1]["params"]["period"]
    vel = {s["stage"]: (s["deals"], s["median_days"]) for s in results["velocity"][1]["stages"]
           if s["period"] == label and s["source"] == "all"}
    for stage, n, med in duck_stages:
        a = vel.get(stage)
        same = a is not None and a[0] == n and abs(a[1] - med) < 1e-6
        ok &= same
        print(f"  stage {stage:22} abmeter {a!s:>28}  duckdb {(n, med)!s:>28}  {'ok' if same else 'DIFFERENT'}")

    print(f"\nworkspace {ws}, period {period}, at {at}; runs {RUNS} (median)")
    print(f"{'task':26}{'abmeter s':>11}{'abmeter MB':>12}")
    for task, (t, _, mb) in results.items():
        print(f"{task:26}{t:>11.3f}{mb:>12.0f}")
    print(f"duckdb pipeline figures  {duck_fig_t:.3f} s (abmeter pipeline / duckdb = "
          f"{results['pipeline'][0] / duck_fig_t:.1f}); duckdb stage medians {duck_stage_t:.3f} s "
          f"(abmeter velocity / duckdb = {results['velocity'][0] / duck_stage_t:.1f})")
    if not ok:
        sys.exit("abmeter and duckdb disagree")


if __name__ == "__main__":
    main()
