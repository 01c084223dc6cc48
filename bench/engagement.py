#!/usr/bin/env python3
"""Engagement benchmark: abmeter vs DuckDB on the same data (issue 4).

Usage:
  cargo build --release
  target/release/abmeter demo --accounts 2000 --contacts-per-account 50 --ip-ranges 50000 \
      --activities 5000000 --out bench/data --end 2026-09-30
  python3 bench/engagement.py bench/data        # needs `pip install duckdb`

Tasks, each timed RUNS times after a warm-up (median reported), as of AT (2026-09-30):
  cold cube   abmeter: the engagement cube rebuilt from every stored activity (resolution,
              minutes, weights, GROUP BY account × day × contact × type, Parquet written),
              the time `engagement` prints after the cube index is removed. DuckDB: the same
              cube built with SQL from its in-memory tables (resolution joins of
              bench/resolve.py, catalogue minutes with caps, seniority and tier weights).
  engagement  `abmeter engagement --period quarter --at AT` (whole process, warm cube) vs
              DuckDB's quarter-against-previous GROUP BY account over its cube.
  heatmap     `abmeter heatmap --account A --at AT` (90 days) vs DuckDB's GROUP BY
              department, seniority for that account.
  mqa         `abmeter mqa --at AT` vs DuckDB's two 90-day windows per account.
  alerts      `abmeter alerts --at AT-7` vs DuckDB's 9 weekly sums per account (the z-scores
              are cheap; DuckDB stops at the sums, so its side does less).
DuckDB's resolution is a simplification (see bench/resolve.py): seniority is the contact's
column as given (no title rules), and the IP rule covers IPv4 only. abmeter timings include
process start, opening the workspace and planning.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from resolve import DUCK_LOAD, DUCK_MAP, abmeter_bin, run  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))
AT = "2026-09-30"
ALERT_AT = "2026-09-23"

# SPEC §4 default catalogue: type → (minutes, cap or None when duration is not used).
CATALOGUE = {
    "page_view": (1, 30), "email_open": (1, None), "email_click": (2, None),
    "ad_click": (2, None), "ad_engagement": (1, None), "social_follow": (1, None),
    "social_like": (1, None), "form_submit": (5, None), "content_download": (10, None),
    "video_view": (3, 60), "webinar_registration": (2, None), "event_registration": (2, None),
    "webinar_attended": (30, 180), "event_attended": (60, 480), "dinner_attended": (120, 240),
    "social_share": (5, None), "social_comment": (3, None), "social_mention": (3, None),
    "review_posted": (10, None), "demo_request": (15, None), "trial_signup": (10, None),
    "product_usage": (0, 480), "campaign_responded": (5, None), "task_completed": (5, None),
    "call": (10, 120), "sales_email_reply": (5, None), "meeting_held": (30, 240),
}
WEIGHTS = {"c_level": 2.0, "vp": 1.5, "director": 1.25, "manager": 1.0, "individual": 0.8}


def minutes_sql():
    arms = []
    for t, (m, cap) in CATALOGUE.items():
        if cap is None:
            arms.append(f"WHEN '{t}' THEN {m}.0")
        else:
            arms.append(f"WHEN '{t}' THEN coalesce(least(a.duration_minutes, {cap}.0), {m}.0)")
    return "CASE a.type " + " ".join(arms) + " ELSE 0.0 END"


def weight_sql():
    arms = " ".join(f"WHEN '{s}' THEN {w}" for s, w in WEIGHTS.items())
    return f"CASE c.seniority {arms} ELSE 0.5 END"


DUCK_CUBE = f"""
CREATE OR REPLACE TABLE d_cube AS
SELECT account_id, day, contact_id, type, max(department) AS department,
       max(seniority) AS seniority, sum(minutes) AS minutes,
       sum(weighted_minutes) AS weighted_minutes, count(*) AS activities
FROM (
  SELECT coalesce(acc.id, mc.account_id, d.account_id, mi.account_id) AS account_id,
         CAST(a.timestamp AS DATE) AS day, c.id AS contact_id, a.type,
         coalesce(c.department, 'unknown') AS department,
         coalesce(c.seniority, 'unknown') AS seniority,
         {minutes_sql()} AS minutes,
         {minutes_sql()} * {weight_sql()} AS weighted_minutes
  FROM activities a
  LEFT JOIN accounts acc ON acc.id = a.account_id
  LEFT JOIN m_email me ON me.email = lower(a.email)
  LEFT JOIN m_visitor mv ON mv.anonymous_id = a.anonymous_id
  LEFT JOIN m_contact mc ON mc.contact_id = coalesce(a.contact_id, me.contact_id, mv.contact_id)
  LEFT JOIN contacts c ON c.id = mc.contact_id
  LEFT JOIN m_domain d ON d.domain = split_part(lower(a.email), '@', 2)
  LEFT JOIN m_ip mi ON mi.ip = a.ip
) r
WHERE account_id IS NOT NULL
GROUP BY account_id, day, contact_id, type
"""

DUCK_ENGAGEMENT = """
SELECT account_id,
  sum(CASE WHEN day >= DATE '2026-07-01' THEN minutes END) AS minutes,
  sum(CASE WHEN day >= DATE '2026-07-01' THEN weighted_minutes END) AS weighted_minutes,
  count(DISTINCT CASE WHEN day >= DATE '2026-07-01' AND minutes > 0 THEN contact_id END) AS engaged,
  sum(CASE WHEN day >= DATE '2026-07-01' THEN activities END) AS activities,
  sum(CASE WHEN day < DATE '2026-07-01' THEN weighted_minutes END) AS previous
FROM d_cube WHERE day >= DATE '2026-04-01' AND day < DATE '2026-10-01'
GROUP BY account_id ORDER BY weighted_minutes DESC
"""

DUCK_HEATMAP = """
SELECT department, seniority, sum(minutes),
       count(DISTINCT CASE WHEN minutes > 0 THEN contact_id END)
FROM d_cube WHERE account_id = '{account}' AND day >= DATE '2026-07-03' AND day < DATE '2026-10-01'
GROUP BY 1, 2
"""

DUCK_MQA = """
SELECT * FROM (
  SELECT account_id,
    sum(CASE WHEN day >= DATE '2026-07-03' THEN weighted_minutes END) AS wm,
    count(DISTINCT CASE WHEN day >= DATE '2026-07-03' AND minutes > 0 THEN contact_id END) AS c,
    sum(CASE WHEN day < DATE '2026-09-24' THEN weighted_minutes END) AS wm0,
    count(DISTINCT CASE WHEN day < DATE '2026-09-24' AND minutes > 0 THEN contact_id END) AS c0
  FROM d_cube WHERE day >= DATE '2026-06-26' AND day < DATE '2026-10-01' GROUP BY account_id)
WHERE wm >= 120 AND c >= 2 ORDER BY wm DESC
"""

DUCK_ALERTS = """
SELECT account_id, date_trunc('week', day) AS week, sum(weighted_minutes)
FROM d_cube WHERE day >= DATE '2026-07-20' AND day < DATE '2026-09-28'
GROUP BY 1, 2
"""


def median_of(f):
    f()  # warm-up
    return statistics.median(f() for _ in range(RUNS))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = os.path.abspath(sys.argv[1])
    binary = abmeter_bin()
    ws = tempfile.mkdtemp(prefix="abmeter-bench-engagement-")
    results = {}
    try:
        t, _, _ = run([binary, "--workspace", ws, "import", data])
        print(f"import of {data} (not part of the comparison): {t:.2f} s")

        def cold():
            os.remove(os.path.join(ws, "cube", "index.json"))
            _, rss, out = run([binary, "--workspace", ws, "engagement", "--period", "quarter",
                               "--at", AT, "--format", "csv"])
            cold.rss = max(getattr(cold, "rss", 0), rss)
            return float(re.search(r"rebuilt \(\d+ rows\) in ([0-9.]+) s", out.stderr).group(1))

        def command(args):
            def f():
                t, rss, _ = run([binary, "--workspace", ws] + args + ["--format", "csv"])
                f.rss = max(getattr(f, "rss", 0), rss)
                return t
            return f

        # The cube exists after the first report.
        run([binary, "--workspace", ws, "engagement", "--at", AT, "--format", "csv"])
        results["cold cube"] = median_of(cold)
        top = subprocess.run([binary, "--workspace", ws, "engagement", "--at", AT, "--format", "csv"],
                             capture_output=True, text=True).stdout.splitlines()[1].split(",")[0]
        tasks = {
            "engagement": ["engagement", "--period", "quarter", "--at", AT],
            "heatmap": ["heatmap", "--account", top, "--at", AT],
            "mqa": ["mqa", "--at", AT],
            "alerts": ["alerts", "--at", ALERT_AT],
        }
        rss = {"cold cube": cold.rss}
        for name, args in tasks.items():
            f = command(args)
            results[name] = median_of(f)
            rss[name] = f.rss
        rows = subprocess.run([binary, "--workspace", ws, "sql",
                               "SELECT count(*) AS n FROM engagement_cube", "--format", "csv"],
                              capture_output=True, text=True).stdout.split()[-1]
    finally:
        shutil.rmtree(ws, ignore_errors=True)

    import duckdb
    con = duckdb.connect()
    con.execute(DUCK_LOAD.format(d=data))
    con.execute(DUCK_MAP)

    def timed(sql):
        def f():
            start = time.perf_counter()
            con.execute(sql).fetchall()
            return time.perf_counter() - start
        return f

    duck = {"cold cube": median_of(timed(DUCK_CUBE))}
    duck["engagement"] = median_of(timed(DUCK_ENGAGEMENT))
    duck["heatmap"] = median_of(timed(DUCK_HEATMAP.format(account=top)))
    duck["mqa"] = median_of(timed(DUCK_MQA))
    duck["alerts"] = median_of(timed(DUCK_ALERTS))
    d_rows = con.execute("SELECT count(*) FROM d_cube").fetchone()[0]

    print(f"data: {data}; cube rows abmeter {int(rows):,}, duckdb {d_rows:,}; "
          f"{RUNS} runs after a warm-up, {os.cpu_count()} cores")
    print(f"{'task':14}{'abmeter s':>11}{'duckdb s':>10}{'ratio':>8}{'abmeter MB':>12}")
    for name in duck:
        a, d = results[name], duck[name]
        print(f"{name:14}{a:>11.3f}{d:>10.3f}{a / d:>8.2f}{rss[name] / 1024:>12.0f}")


if __name__ == "__main__":
    main()
