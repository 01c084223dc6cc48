#!/usr/bin/env python3
"""Dashboard and review benchmark (issue 10): server time of the account page and the accounts
list, on their first view (nothing kept: N different accounts, or different dates for the
list) and on repeat views (the server keeps a page's reports while the data is unchanged),
the other pages once, and `abmeter report`, on a demo workspace of the size the issue names.
Release build only.

There is no peer to run side by side: the target is absolute (pages under 100 ms p95 on the
5,000,000-activity demo workspace, the report file under 5 s).

    cargo build --release -p abmeter
    abmeter demo --accounts 2000 --activities 5000000 --no-serve --workspace /tmp/d5m
    python3 bench/dashboard.py /tmp/d5m [--requests 100]

Times are taken by the client on loopback, so they include the HTTP round trip (well
under a millisecond here). The page reports run concurrently on the server's blocking
threads, so the machine's 2 cores bound them. Environment: CARGO_TARGET_DIR (default
~/.cache/abmeter-target).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request

import serving


def token_of(ws):
    text = open(os.path.join(ws, "abmeter.toml")).read()
    m = re.search(r'read_tokens = \["([^"]+)"', text)
    if not m:
        raise SystemExit(f"{ws}/abmeter.toml has no read token (make the workspace with abmeter demo)")
    return m.group(1)


def timed_get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        body = r.read()
        status = r.status
    ms = (time.perf_counter() - t) * 1000
    if status != 200 or b'role="alert"' in body:
        raise SystemExit(f"{url}: status {status} or a section failed")
    return ms


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace")
    ap.add_argument("--requests", type=int, default=100)
    args = ap.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/abmeter-target"))
    exe = os.path.join(target, "release/abmeter")
    ws = args.workspace
    token = token_of(ws)
    acts = json.loads(subprocess.run([exe, "--workspace", ws, "sql", "SELECT count(*) AS n FROM activities",
                                      "--format", "json"], check=True, capture_output=True, text=True).stdout)
    print(f"workspace {ws}: {acts['rows'][0]['n']:,} activities")

    # The review file, three times (the first warms the derived tables and the page cache).
    out = os.path.join(tempfile.mkdtemp(), "review.html")
    review = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([exe, "--workspace", ws, "report", "--period", "quarter", "-o", out],
                       check=True, capture_output=True)
        review.append(time.perf_counter() - t)
    print(f"abmeter report --period quarter: {', '.join(f'{s:.2f}' for s in review)} s "
          f"(median {statistics.median(review):.2f} s), {os.path.getsize(out):,} bytes")

    server, url = serving.start(target, ws)
    try:
        # The busiest account of the quarter: the longest timeline.
        top = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{url}/api/v1/engagement?period=quarter", headers={"Authorization": f"Bearer {token}"})).read())
        account = top["rows"][0]["account_id"]
        print(f"account page: {account} ({top['rows'][0]['activities']:,} activities this quarter)")
        print("other pages: first view, then repeat view")
        for path in ["/", "/mqa", "/channels", "/web", "/funnel", "/pipeline", "/attribution",
                     "/customers", "/roi"]:
            first = timed_get(url + path, token)
            print(f"  {path:<14} {first:7.1f} ms  {timed_get(url + path, token):6.1f} ms")
        def line(name, ms, what):
            print(f"{name:<28} p50 {pct(ms, 50):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  "
                  f"max {max(ms):7.1f} ms  ({len(ms)} {what})")

        # First views: a different account each time, so no report of the page is kept yet
        # (the server keeps reports while the data is unchanged).
        accounts = [r["account_id"] for r in top["rows"][1:args.requests + 1]]
        line("account page, first view", [timed_get(f"{url}/accounts/{a}", token) for a in accounts],
             "different accounts")
        # Repeat views of one account: the page's reports are kept.
        path = f"/accounts/{account}"
        timed_get(url + path, token)
        line("account page, repeat view", [timed_get(url + path, token) for _ in range(args.requests)],
             "warm requests")
        # The list: its first view after a change of data (a new date each time makes new
        # report options, as a new day or a flush would), then repeats.
        import datetime
        today = datetime.date.today()
        firsts = [timed_get(f"{url}/accounts?at={today - datetime.timedelta(days=d + 1)}", token)
                  for d in range(min(10, args.requests))]
        line("accounts list, first view", firsts, "different dates")
        timed_get(url + "/accounts", token)
        line("accounts list, repeat view", [timed_get(url + "/accounts", token) for _ in range(args.requests)],
             "warm requests")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
