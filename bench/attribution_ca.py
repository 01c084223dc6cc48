#!/usr/bin/env python3
"""abmeter's exact Markov attribution against ChannelAttribution's simulation (SPEC §7).

1. Generates random journeys deterministically (seeded: 8 channels, paths of 1-6 touches
   with revisits and some consecutive repeats) and writes them as CSV
   (path "a > b > c", conv, null, value).
2. Runs ChannelAttribution's markov_model (PyPI `channelattribution`, GPL-3, a test-time
   oracle only) for each order, with max_step=1000 so its estimator is not truncated
   (SPEC §7), and nsim_start=1e7: its result is one fold of nsim_start/10 simulated paths,
   so a channel's removal effect RE carries a relative sampling error of about
   sqrt((1-RE)/(RE * conversions in the fold)); at 1e6 the low-credit channels of this data
   (RE about 0.1) miss by 2-3%, at 1e7 every channel is within 1%.
3. Runs abmeter's exact model on the same CSV through
   `cargo run -q -p abmeter-metrics --example markov_csv -- FILE ORDER`.
4. Compares conversions per channel: every relative difference <= --tolerance (1%) exits
   0; otherwise prints the table and exits 1. Timings of both are printed.

Value credit is not compared: ChannelAttribution draws values from the empirical value
distribution of the last channel, abmeter shares total value by removal effect (SPEC §11).

Consecutive repeats: abmeter merges them before building any chain (SPEC §7). At order 1
ChannelAttribution collapses repeated states itself, so it is given the raw paths. At
order k >= 2 it only collapses repeated k-grams (a > a > b gives the 2-grams "a a" and
"a b"), so it is given the paths with repeats merged, which is what abmeter models.

Requires: pip install channelattribution matplotlib pandas   (and cargo on PATH)
Usage:    python3 bench/attribution_ca.py [--rows 3000] [--orders 1,2,3] [--release]
"""

import argparse
import contextlib
import io
import os
import random
import subprocess
import sys
import tempfile
import time

import pandas as pd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def journeys(rows, channels, seed):
    """Deterministic journeys: (raw path list, conv, null, value)."""
    rng = random.Random(seed)
    names = [f"ch{i}" for i in range(channels)]
    # Unequal channel popularity and conversion lift, so the credits differ.
    popularity = [1.0 / (i + 1) for i in range(channels)]
    lift = [0.5 + rng.random() for _ in range(channels)]
    out = []
    for _ in range(rows):
        length = rng.randint(1, 6)
        path = []
        for _ in range(length):
            if path and rng.random() < 0.15:
                path.append(path[-1])  # a consecutive repeat (merged by both models)
            elif len(path) >= 2 and rng.random() < 0.2:
                path.append(rng.choice(path))  # a revisit
            else:
                path.append(rng.choices(names, weights=popularity)[0])
        rate = min(0.9, 0.08 * sum(lift[names.index(c)] for c in set(path)))
        total = rng.randint(1, 5)
        conv = sum(rng.random() < rate for _ in range(total))
        value = round(conv * rng.uniform(1000, 50000), 2)
        out.append((path, conv, total - conv, value))
    return out


def merged(path):
    return [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]


def run_ca(rows, order, nsim, merge):
    from ChannelAttribution import markov_model

    df = pd.DataFrame(
        {
            "path": [" > ".join(merged(p) if merge else p) for p, _, _, _ in rows],
            "conv": [c for _, c, _, _ in rows],
            "null": [n for _, _, n, _ in rows],
        }
    )
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        res = markov_model(
            df,
            "path",
            "conv",
            var_null="null",
            order=order,
            max_step=1000,
            nsim_start=nsim,
            seed=0,
            verbose=False,
            flg_pro=False,
        )
    elapsed = time.perf_counter() - started
    return dict(zip(res["channel_name"], res["total_conversions"])), elapsed


def run_abmeter(csv_path, order, release):
    # CI passes the example `cargo test --workspace` already built (ABMETER_MARKOV_CSV):
    # `cargo run -p abmeter-metrics` alone would resolve features for that one package and
    # rebuild DataFusion.
    prebuilt = os.environ.get("ABMETER_MARKOV_CSV")
    if prebuilt and not release:
        cmd = [prebuilt, csv_path, str(order)]
    else:
        cmd = ["cargo", "run", "-q", "-p", "abmeter-metrics", "--example", "markov_csv"]
        if release:
            cmd.insert(2, "--release")
        cmd += ["--", csv_path, str(order)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"abmeter failed:\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "channel,conversions,value,removal_effect", lines[0]
    credit = {}
    for line in lines[1:]:
        channel, conv, _value, _re = line.split(",")
        credit[channel] = float(conv)
    info = dict(kv.split("=", 1) for kv in done.stderr.strip().splitlines()[-1].split())
    return credit, float(info["seconds"]), float(info["p_conversion"]), wall


def heuristic_check(csv_path, release):
    """First touch, last touch and linear against ChannelAttribution's heuristic_models on
    the same raw paths: both are exact, so they must agree to rounding."""
    with contextlib.redirect_stdout(io.StringIO()):
        from ChannelAttribution import heuristic_models
    df = pd.read_csv(csv_path)
    df = df[df["conv"] > 0]
    with contextlib.redirect_stdout(io.StringIO()):
        ca = heuristic_models(df, "path", "conv", sep=">")
    prebuilt = os.environ.get("ABMETER_MARKOV_CSV")
    if prebuilt and not release:
        cmd = [prebuilt, csv_path, "heuristic"]
    else:
        cmd = ["cargo", "run", "-q", "-p", "abmeter-metrics", "--example", "markov_csv",
               "--", csv_path, "heuristic"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"abmeter failed:\n{done.stderr}")
    ours = {}
    for line in done.stdout.strip().splitlines()[1:]:
        channel, first, last, linear = line.split(",")
        ours[channel] = (float(first), float(last), float(linear))
    worst = 0.0
    print("\nrule-based models vs ChannelAttribution heuristic_models (exact on both sides)")
    for _, r in ca.iterrows():
        mine = ours.get(r["channel_name"].strip(), (0.0, 0.0, 0.0))
        for got, want in zip(mine, (r["first_touch"], r["last_touch"], r["linear_touch"])):
            worst = max(worst, abs(got - want) / max(abs(want), 1e-12))
    print(f"channels {len(ca)}, largest relative difference {worst:.2e}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--orders", default="1,2,3")
    ap.add_argument("--nsim", type=float, default=1e7)
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--release", action="store_true", help="build the example in release")
    ap.add_argument("--csv", help="keep the journeys CSV at this path")
    args = ap.parse_args()

    rows = journeys(args.rows, args.channels, args.seed)
    with tempfile.TemporaryDirectory(prefix="abmeter-ca-") as tmp:
        csv_path = args.csv or os.path.join(tmp, "journeys.csv")
        worst = compare(args, rows, csv_path)
        heuristic = heuristic_check(csv_path, args.release)
    print(f"\nmax relative difference {worst:.3%} (tolerance {args.tolerance:.1%})")
    sys.exit(0 if worst <= args.tolerance and heuristic <= 1e-9 else 1)


def compare(args, rows, csv_path):
    """Writes the CSV, runs both models per order, prints the tables; the worst difference."""
    with open(csv_path, "w") as f:
        f.write("path,conv,null,value\n")
        for path, conv, null, value in rows:
            f.write(f"{' > '.join(path)},{conv},{null},{value}\n")
    print(
        f"{len(rows)} journey rows, {sum(c for _, c, _, _ in rows)} conversions, "
        f"{sum(n for _, _, n, _ in rows)} nulls; CSV: {csv_path}"
    )

    worst = 0.0
    for order in [int(o) for o in args.orders.split(",")]:
        ca, ca_time = run_ca(rows, order, args.nsim, merge=order > 1)
        ab, ab_time, p_conv, ab_wall = run_abmeter(csv_path, order, args.release)
        print(
            f"\norder {order}: P(conversion) {p_conv:.6f}; abmeter {ab_time:.4f} s "
            f"(exact; cargo run {ab_wall:.2f} s), ChannelAttribution {ca_time:.2f} s "
            f"(simulated, nsim_start={args.nsim:g})"
        )
        print(f"{'channel':<10}{'abmeter':>14}{'CA':>14}{'rel diff':>11}")
        if set(ca) != set(ab):
            sys.exit(f"channel sets differ: abmeter {sorted(ab)}, CA {sorted(ca)}")
        for channel in sorted(ab):
            rel = abs(ca[channel] - ab[channel]) / abs(ab[channel])
            worst = max(worst, rel)
            flag = "" if rel <= args.tolerance else "  <-- over tolerance"
            print(f"{channel:<10}{ab[channel]:>14.4f}{ca[channel]:>14.4f}{rel:>10.3%}{flag}")
        print(f"sum       {sum(ab.values()):>14.4f}{sum(ca.values()):>14.4f}")
    return worst


if __name__ == "__main__":
    main()
