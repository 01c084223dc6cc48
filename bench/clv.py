#!/usr/bin/env python3
"""abmeter's BG/NBD and Gamma-Gamma fits against the Python package `lifetimes`, on
synthetic account histories.

1. Draws purchase histories for --accounts accounts (100,000) from the BG/NBD generative
   process, deterministically (numpy, --seed): purchase rate λ ~ Gamma(r, α) per month,
   dropout probability p ~ Beta(a, b) after each repeat purchase, a first purchase at a
   random moment of month 0 and observation to the end of month T, T uniform on 1..60.
   Purchases are then summarised in whole months the way
   `lifetimes.utils.summary_data_from_transaction_data(freq="M")` does: frequency = months
   with a purchase after the first month, recency = the last such month, T in months.
   Spend follows Gamma-Gamma: the mean of x repeat purchases is Gamma(p·x, ν)/x with
   ν ~ Gamma(q, v) per account (0 when x = 0).
2. Writes account_id,frequency,recency,T,monetary_value to a CSV (--csv, else a temp file).
3. Times lifetimes' BetaGeoFitter and GammaGammaFitter (.fit, in this process) on it: once
   on the 100,000 rows as a user calls them, and once with identical rows pooled through
   their `weights=` argument, which is what the Rust side does internally.
4. Runs the Rust fit, `$ABMETER_CLV_FIT FILE` (the example binary
   crates/abmeter-metrics/examples/clv_fit.rs; build it with --release for timing), which
   prints one JSON line with its parameters, log-likelihoods and seconds per fit.
5. Prints the side-by-side table. Exits 1 if a parameter differs from lifetimes by more than
   --tolerance (relative, 1e-3) or the Rust BG/NBD fit takes over --max-seconds (2).

Log-likelihoods are totals in months (lifetimes' `_negative_log_likelihood_` is a mean, and
for BG/NBD in its rescaled time, so lifetimes' is re-evaluated here unscaled).

Requires: pip install lifetimes   (numpy, pandas, scipy come with it)
Usage:    cargo build --release -p abmeter-metrics --example clv_fit
          ABMETER_CLV_FIT=target/release/examples/clv_fit python3 bench/clv.py
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

TRUE_BGNBD = {"r": 1.2, "alpha": 6.0, "a": 0.8, "b": 4.0}
TRUE_GG = {"p": 4.0, "q": 3.5, "v": 6000.0}


def simulate(accounts, max_months, seed):
    """Summaries (frequency, recency, T, monetary_value) in whole months, vectorised."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = (TRUE_BGNBD[k] for k in ("r", "alpha", "a", "b"))
    T = rng.integers(1, max_months + 1, size=accounts)
    first = rng.random(accounts)  # moment of the first purchase within month 0
    end = T + 1.0  # observation runs to the end of month T
    lam = rng.gamma(r, 1.0 / alpha, size=accounts)
    drop = rng.beta(a, b, size=accounts)
    # Repeat purchases until dropout: dropout follows the K-th one, K >= 1 geometric.
    until_dropout = rng.geometric(drop)
    # Given their count, a Poisson process's events are uniform on the window; the account
    # makes the first min(count, K) of them.
    count = rng.poisson(lam * (end - first))
    kept = np.minimum(count, until_dropout)
    owner = np.repeat(np.arange(accounts), count)
    times = first[owner] + rng.random(owner.size) * (end - first)[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    rank = np.arange(owner.size) - start[owner]
    keep = rank < kept[owner]
    owner, month = owner[keep], np.floor(times[keep]).astype(np.int64)
    # A month counts once, and month 0 is the first purchase's: a repeat purchase month is
    # one different from the previous purchase's month of the same account (times sorted).
    previous = np.concatenate(([0], month[:-1]))
    new_account = np.concatenate(([True], owner[1:] != owner[:-1]))
    previous[new_account] = 0
    new_month = month != previous
    frequency = np.bincount(owner[new_month], minlength=accounts)
    recency = np.zeros(accounts, dtype=np.int64)
    np.maximum.at(recency, owner, month)
    recency[frequency == 0] = 0
    # Gamma-Gamma spend: the mean of x Gamma(p, ν) purchases is Gamma(p·x, ν)/x.
    p, q, v = TRUE_GG["p"], TRUE_GG["q"], TRUE_GG["v"]
    nu = rng.gamma(q, 1.0 / v, size=accounts)
    shape = np.where(frequency > 0, p * frequency, 1.0)
    monetary = np.where(frequency > 0, rng.gamma(shape, 1.0 / nu) / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "account_id": np.arange(1, accounts + 1),
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "monetary_value": np.round(monetary, 4),
        }
    )


def fit_lifetimes(df, pooled):
    """lifetimes' fits, timed; with `pooled`, identical rows go in once with a weight."""
    rfm = df[["frequency", "recency", "T"]]
    spend = df[df.frequency > 0][["frequency", "monetary_value"]]
    if pooled:
        rfm = rfm.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
        spend = spend.groupby(["frequency", "monetary_value"]).size().rename("weights").reset_index()
    rfm_w = rfm["weights"] if pooled else None
    spend_w = spend["weights"] if pooled else None

    started = time.perf_counter()
    bgf = BetaGeoFitter().fit(rfm["frequency"], rfm["recency"], rfm["T"], weights=rfm_w)
    bg_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ggf = GammaGammaFitter().fit(spend["frequency"], spend["monetary_value"], weights=spend_w)
    gg_seconds = time.perf_counter() - started

    # Total log-likelihoods in months, at lifetimes' parameters, over every account.
    all_rfm = df[["frequency", "recency", "T"]]
    bg_ll = -len(df) * BetaGeoFitter._negative_log_likelihood(
        np.log(bgf.params_[["r", "alpha", "a", "b"]].values),
        all_rfm["frequency"].values,
        all_rfm["recency"].values.astype(float),
        all_rfm["T"].values.astype(float),
        np.ones(len(df)),
        0.0,
    )
    repeat = df[df.frequency > 0]
    gg_ll = -len(repeat) * GammaGammaFitter._negative_log_likelihood(
        np.log(ggf.params_[["p", "q", "v"]].values),
        repeat["frequency"].values.astype(float),
        repeat["monetary_value"].values,
        np.ones(len(repeat)),
        0.0,
    )
    return {
        "bgnbd": {**bgf.params_.to_dict(), "log_likelihood": bg_ll, "seconds": bg_seconds},
        "gamma_gamma": {**ggf.params_.to_dict(), "log_likelihood": gg_ll, "seconds": gg_seconds},
        "rows": (len(rfm), len(spend)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=60, help="largest T")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--csv", help="where to write the summaries (default: a temp file)")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--max-seconds", type=float, default=2.0)
    args = parser.parse_args()

    binary = os.environ.get("ABMETER_CLV_FIT")
    if not binary or not os.path.exists(binary):
        sys.exit(
            "set ABMETER_CLV_FIT to the clv_fit example binary, e.g.\n"
            "  cargo build --release -p abmeter-metrics --example clv_fit\n"
            "  ABMETER_CLV_FIT=$CARGO_TARGET_DIR/release/examples/clv_fit python3 bench/clv.py"
        )

    started = time.perf_counter()
    df = simulate(args.accounts, args.months, args.seed)
    print(
        f"simulated {len(df):,} accounts in {time.perf_counter() - started:.2f}s: "
        f"{(df.frequency > 0).sum():,} with repeat purchases, mean frequency "
        f"{df.frequency.mean():.2f}, "
        f"{len(df.groupby(['frequency', 'recency', 'T'])):,} distinct (x, t_x, T)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = args.csv or os.path.join(tmp, "clv.csv")
        df.to_csv(path, index=False)

        lifetimes_rows = fit_lifetimes(df, pooled=False)
        lifetimes_pooled = fit_lifetimes(df, pooled=True)

        run = subprocess.run([binary, path], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{binary} failed:\n{run.stderr}")
        rust = json.loads(run.stdout.strip().splitlines()[-1])

    failures = []
    header = f"{'':<16}{'truth':>12}{'lifetimes':>16}{'abmeter':>16}{'rel diff':>11}"
    print(
        "\n'truth' generated the purchases; summarised in whole months (purchases in one month"
        "\ncount once) the data are not exactly BG/NBD, so both fits miss it alike.\n"
    )
    print(header)
    print("-" * len(header))
    for model, names, truth in (
        ("bgnbd", ["r", "alpha", "a", "b"], TRUE_BGNBD),
        ("gamma_gamma", ["p", "q", "v"], TRUE_GG),
    ):
        for name in names + ["log_likelihood"]:
            ours, theirs = rust[model][name], lifetimes_rows[model][name]
            diff = abs(ours - theirs) / abs(theirs)
            truth_text = f"{truth[name]:>12.4g}" if name in truth else f"{'':>12}"
            label = f"{model}.{name}" if name != "log_likelihood" else f"{model} ll"
            print(f"{label:<16}{truth_text}{theirs:>16.6f}{ours:>16.6f}{diff:>11.1e}")
            if name != "log_likelihood" and diff > args.tolerance:
                failures.append(f"{model}.{name} differs by {diff:.1e}")

    print()
    header = f"{'fit seconds':<46}{'lifetimes':>12}{'abmeter':>12}{'ratio':>10}"
    print(header)
    print("-" * len(header))
    for model, label in (("bgnbd", "BG/NBD"), ("gamma_gamma", "Gamma-Gamma")):
        ours = rust[model]["seconds"]
        for run_label, res in (("", lifetimes_rows), (", lifetimes pooled", lifetimes_pooled)):
            rows = res["rows"][0 if model == "bgnbd" else 1]
            theirs = res[model]["seconds"]
            name = f"{label} ({rows:,} rows{run_label})"
            print(f"{name:<46}{theirs:>12.3f}{ours:>12.3f}{theirs / ours:>9.1f}x")
    if rust["bgnbd"]["seconds"] > args.max_seconds:
        failures.append(
            f"the Rust BG/NBD fit took {rust['bgnbd']['seconds']:.2f}s > {args.max_seconds}s"
        )

    if failures:
        print("\nFAILED: " + "; ".join(failures))
        sys.exit(1)
    print(f"\nOK: parameters within {args.tolerance:g} of lifetimes")


if __name__ == "__main__":
    main()
