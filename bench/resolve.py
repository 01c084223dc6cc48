#!/usr/bin/env python3
"""Identity-resolution benchmark: abmeter vs DuckDB on the same data (issue 3).

Usage:
  cargo build --release
  target/release/abmeter demo --accounts 2000 --contacts-per-account 50 --ip-ranges 50000 \
      --activities 5000000 --out bench/data --end 2026-09-30
  python3 bench/resolve.py bench/data            # needs `pip install duckdb`

Two tasks, each timed RUNS times after a warm-up (median reported):
  1. identity map: `abmeter resolve` rebuilds it from every stored table, activities read
     afresh (the time it prints); DuckDB builds the same lookup tables with SQL: contacts by
     id and email, account domains, stitched visitors (latest identification), and the
     distinct activity IPs joined to their smallest containing range.
  2. full scan: `abmeter sql "SELECT resolved_account_id, count(*) … FROM resolved_activities
     GROUP BY 1"` (a whole process: open, plan, resolve 5M rows, group); DuckDB runs the same
     GROUP BY over activities joined to its lookup tables with the rules' COALESCE.
DuckDB's version is a simplification (IPv4 ranges only, the email's domain taken as written,
no fuzzy company names, no free-mail list): it does less work than abmeter, so the ratio is
conservative. Both tools run with the data already loaded (abmeter: imported Parquet; DuckDB:
tables in memory, loading not timed).
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
DUCK_RUNS = int(os.environ.get("DUCK_RUNS", str(RUNS)))
SCAN_SQL = (
    "SELECT resolved_account_id, count(*) AS activities, sum(weighted_minutes) AS wm "
    "FROM resolved_activities GROUP BY 1"
)


def abmeter_bin():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "target"))
    path = os.path.join(target, "release", "abmeter")
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `cargo build --release` first (or set CARGO_TARGET_DIR)")
    return path


def run(cmd):
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{cmd} failed:\n{out.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return elapsed, rss, out


def median_of(f, runs=RUNS, warm_up=True):
    if warm_up:
        f()
    return statistics.median(f() for _ in range(runs))


DUCK_LOAD = """
CREATE TABLE accounts AS SELECT * FROM read_csv('{d}/accounts.csv', all_varchar=true);
CREATE TABLE contacts AS SELECT * FROM read_csv('{d}/contacts.csv', all_varchar=true);
CREATE TABLE ip_ranges AS SELECT * FROM read_csv('{d}/ip_ranges.csv', all_varchar=true);
CREATE TABLE activities AS SELECT * FROM read_csv('{d}/activities.csv',
  types={{'id':'VARCHAR','contact_id':'VARCHAR','email':'VARCHAR','anonymous_id':'VARCHAR',
          'account_id':'VARCHAR','ip':'VARCHAR'}});
"""

# The identity map as DuckDB tables.
DUCK_MAP = """
CREATE OR REPLACE MACRO ip4(s) AS
  CAST(split_part(s,'.',1) AS BIGINT)*16777216 + CAST(split_part(s,'.',2) AS BIGINT)*65536
  + CAST(split_part(s,'.',3) AS BIGINT)*256 + CAST(split_part(s,'.',4) AS BIGINT);
CREATE OR REPLACE TABLE m_domain AS
  SELECT domain, min(account_id) AS account_id FROM (
    SELECT unnest(string_split(lower(domain), ';')) AS domain, id AS account_id
    FROM accounts WHERE domain IS NOT NULL)
  GROUP BY domain HAVING count(*) = 1;
CREATE OR REPLACE TABLE m_email AS
  SELECT lower(email) AS email, min(id) AS contact_id FROM contacts
  WHERE email IS NOT NULL GROUP BY 1 HAVING count(*) = 1;
CREATE OR REPLACE TABLE m_contact AS
  SELECT c.id AS contact_id,
         coalesce(a.id, d.account_id) AS account_id,
         CASE WHEN a.id IS NOT NULL THEN 2 WHEN d.account_id IS NOT NULL THEN 3 END AS rule
  FROM contacts c
  LEFT JOIN accounts a ON a.id = c.account_id
  LEFT JOIN m_domain d ON d.domain = split_part(lower(c.email), '@', 2);
CREATE OR REPLACE TABLE m_visitor AS
  SELECT x.anonymous_id, arg_max(x.contact_id, (x.timestamp, x.id)) AS contact_id
  FROM (SELECT a.anonymous_id, a.timestamp, a.id,
               coalesce(mc.contact_id, me.contact_id) AS contact_id
        FROM activities a
        LEFT JOIN m_contact mc ON mc.contact_id = a.contact_id
        LEFT JOIN m_email me ON me.email = lower(a.email)
        WHERE a.anonymous_id IS NOT NULL AND (a.contact_id IS NOT NULL OR a.email IS NOT NULL)) x
  WHERE x.contact_id IS NOT NULL
  GROUP BY x.anonymous_id;
CREATE OR REPLACE TABLE m_range AS
  SELECT CASE WHEN contains(network, '/') THEN ip4(split_part(network, '/', 1))
              ELSE ip4(split_part(network, '-', 1)) END AS lo,
         CASE WHEN contains(network, '/') THEN ip4(split_part(network, '/', 1))
                   + CAST(pow(2, 32 - CAST(split_part(network, '/', 2) AS INT)) AS BIGINT) - 1
              ELSE ip4(split_part(network, '-', 2)) END AS hi,
         coalesce(a.id, d.account_id) AS account_id,
         coalesce(r.type, 'business') AS type
  FROM ip_ranges r
  LEFT JOIN accounts a ON a.id = r.account_id
  LEFT JOIN m_domain d ON d.domain = lower(r.domain)
  WHERE NOT contains(network, ':');
-- Each range listed under every /16 block it touches, so the IP join is an equality join
-- on the block plus a range check (a plain BETWEEN join over 50,000 ranges is a nested loop
-- in DuckDB 2.0: 837 s).
CREATE OR REPLACE TABLE m_range_block AS
  SELECT *, unnest(range(lo // 65536, hi // 65536 + 1)) AS block FROM m_range;
CREATE OR REPLACE TABLE m_ip AS
  SELECT ip, arg_min(CASE WHEN type IN ('isp', 'hosting') THEN NULL ELSE account_id END,
                     hi - lo) AS account_id
  FROM (SELECT ip, ip4(ip) AS n FROM (SELECT DISTINCT ip FROM activities
        WHERE ip IS NOT NULL AND NOT contains(ip, ':'))) i
  JOIN m_range_block r ON r.block = i.n // 65536 AND i.n BETWEEN r.lo AND r.hi
  GROUP BY ip;
"""

DUCK_SCAN = """
SELECT coalesce(acc.id, mc.account_id, d.account_id, mi.account_id) AS account_id,
       count(*) AS activities
FROM activities a
LEFT JOIN accounts acc ON acc.id = a.account_id
LEFT JOIN m_email me ON me.email = lower(a.email)
LEFT JOIN m_visitor mv ON mv.anonymous_id = a.anonymous_id
LEFT JOIN m_contact mc ON mc.contact_id = coalesce(a.contact_id, me.contact_id, mv.contact_id)
LEFT JOIN m_domain d ON d.domain = split_part(lower(a.email), '@', 2)
LEFT JOIN m_ip mi ON mi.ip = a.ip
GROUP BY 1
"""


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = os.path.abspath(sys.argv[1])
    binary = abmeter_bin()
    ws = tempfile.mkdtemp(prefix="abmeter-bench-resolve-")
    try:
        t, _, _ = run([binary, "--workspace", ws, "import", data])
        print(f"import of {data} (all tables, not part of the comparison): {t:.2f} s")

        def identity():
            _, rss, out = run([binary, "--workspace", ws, "resolve"])
            identity.rss = max(getattr(identity, "rss", 0), rss)
            return float(re.search(r"rebuilt from every stored activity in ([0-9.]+) s", out.stderr).group(1))

        def scan():
            t, rss, _ = run([binary, "--workspace", ws, "sql", SCAN_SQL, "--format", "csv"])
            scan.rss = max(getattr(scan, "rss", 0), rss)
            return t

        a_identity = median_of(identity)
        a_scan = median_of(scan)
        rows = subprocess.run([binary, "--workspace", ws, "sql",
                               "SELECT count(*) AS n FROM activities", "--format", "csv"],
                              capture_output=True, text=True).stdout.split()[-1]
    finally:
        shutil.rmtree(ws, ignore_errors=True)

    import duckdb
    con = duckdb.connect()
    con.execute(DUCK_LOAD.format(d=data))

    def duck_identity():
        start = time.perf_counter()
        con.execute(DUCK_MAP)
        return time.perf_counter() - start

    def duck_scan():
        start = time.perf_counter()
        con.execute(DUCK_SCAN).fetchall()
        return time.perf_counter() - start

    # The first build is the warm-up's work too: the scan needs the map tables.
    d_identity = median_of(duck_identity, DUCK_RUNS, warm_up=False)
    d_scan = median_of(duck_scan, DUCK_RUNS)
    print(f"data: {data} ({int(rows):,} activities), {RUNS} runs after a warm-up "
          f"(DuckDB {DUCK_RUNS}), "
          f"{os.cpu_count()} cores")
    print(f"{'task':38}{'abmeter s':>11}{'duckdb s':>10}{'ratio':>8}")
    print(f"{'identity map build':38}{a_identity:>11.2f}{d_identity:>10.2f}{a_identity / d_identity:>8.2f}")
    print(f"{'full scan GROUP BY account':38}{a_scan:>11.2f}{d_scan:>10.2f}{a_scan / d_scan:>8.2f}")
    print(f"abmeter peak memory: resolve {identity.rss / 1024:.0f} MB, scan {scan.rss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
