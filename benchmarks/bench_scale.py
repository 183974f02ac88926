"""A million customers for ten years, checked against 10^5-customer runs scaled.

    .venv/bin/python benchmarks/bench_scale.py [--large 1000000] [--small 100000] [--seeds 5] [--weeks 520]

Runs the ecommerce scenario on the array engine once with ``--large``
customers and ``--seeds`` times with ``--small`` customers (each resized with
its money scale, ``Scenario.resized``), for ``--weeks`` weeks, then compares
the per-step tables per customer: if nothing drifts with size (float error
in the 32-bit state, integer overflow in counters), every per-customer
figure of the large run lies within the spread of the small runs.

For each firm and figure the statistic is the mean over the last year. The
small runs give its mean ``m`` and standard deviation ``s`` across seeds.
Most of ``s`` is *market-level* variation — the supplier's shortages and
spot prices, and the path competition takes from them — which a larger
market does not average away (at 10^5 customers the seed-to-seed spread of a
firm's customer count is about ten times its binomial noise). So the large
run is one more market path, and the check is the prediction interval of one
new run:

    z = (x − m) / (s · √(1 + 1/seeds)),   |z| ≤ 4

Drift from 32-bit state or an overflowing counter would move figures by far
more than that. The large run uses the first small run's seed, so the two
share the supplier's shortages and spot prices (the partners' random streams
do not depend on the number of customers): the column "same seed" is the
large run minus that small run, in units of ``s``, which shows how much of
``z`` is the market path rather than the size. The customer-level part of the noise shrinks with size; that
part is checked by the docking and limit tests at small sizes.

It also checks the books: the margins accumulated per dyad in 32-bit floats
must add up to the 64-bit books of the per-step table.

Writes ``benchmarks/scale-latest.md`` (and prints it).
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from relsim import load_scenario
from relsim.market.model import MarketModel

PER_CUSTOMER = ("customers", "new_customers", "churned", "orders", "revenue", "profit", "wom_positive",
                "wom_negative", "complaints", "tickets", "aware")
SHARES = ("mean_trust", "mean_commitment", "mean_satisfaction", "retention_rate", "rung_customer",
          "rung_client", "rung_supporter", "rung_advocate", "market_share", "nps")


def one_run(customers: int, weeks: int, seed: int) -> tuple[pd.DataFrame, float, float]:
    """Steps table, wall time and the margin check (relative gap) of one run."""
    scenario = load_scenario("ecommerce", **{"market.engine": "arrays",
                                             "market.weeks": weeks}).resized(customers)
    model = MarketModel(scenario, seed=seed)
    started = time.perf_counter()
    model.run()
    elapsed = time.perf_counter() - started
    steps = model.recorder.steps_table()
    booked = float((steps["revenue"] - steps["cogs"] - steps["partner_fees"] - steps["rewards"]).sum())
    accumulated = float(model.population.state.margin.sum(dtype=np.float64))
    return steps, elapsed, abs(accumulated - booked) / abs(booked)


def last_year(steps: pd.DataFrame, customers: int) -> pd.DataFrame:
    """Per firm: per-customer counts and money, and shares, averaged over the last 52 weeks."""
    tail = steps[steps["week"] > steps["week"].max() - 52]
    means = tail.groupby("firm", sort=False)[list(PER_CUSTOMER) + list(SHARES)].mean()
    means[list(PER_CUSTOMER)] = means[list(PER_CUSTOMER)] / customers
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=520)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("scale-latest.md"))
    args = parser.parse_args()

    small_runs = []
    small_seconds = []
    for seed in range(1, args.seeds + 1):
        steps, elapsed, gap = one_run(args.small, args.weeks, seed=seed)
        small_runs.append(last_year(steps, args.small))
        small_seconds.append(elapsed)
        print(f"small run {seed}/{args.seeds}: {elapsed:.0f} s, margin gap {gap:.1e}", flush=True)
    large_steps, large_seconds, large_gap = one_run(args.large, args.weeks, seed=1)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"large run: {large_seconds:.0f} s, margin gap {large_gap:.1e}, peak RSS {peak_gib:.1f} GiB", flush=True)
    large = last_year(large_steps, args.large)

    stacked = pd.concat(small_runs, keys=range(1, args.seeds + 1), names=["seed", "firm"])
    mean = stacked.groupby("firm", sort=False).mean()
    spread = stacked.groupby("firm", sort=False).std(ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (large - mean) / (spread * np.sqrt(1 + 1 / args.seeds))
    # a figure with no spread across seeds (e.g. everybody aware) must simply be equal
    z = z.where(spread > 0, np.where(np.isclose(large, mean), 0.0, np.inf))
    within = z.abs() <= 4
    with np.errstate(divide="ignore", invalid="ignore"):
        same_seed = ((large - small_runs[0]) / spread).where(spread > 0, 0.0)
    lines = [
        f"# Scale check: {args.large:,} vs {args.seeds} × {args.small:,} customers, {args.weeks} weeks",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}. Large run {large_seconds:.0f} s "
        f"({args.large * args.weeks / large_seconds:,.0f} customer-steps/s), peak RSS {peak_gib:.1f} GiB; "
        f"small runs {np.mean(small_seconds):.0f} s each.",
        f"Per-dyad margins (float32) vs books (float64), relative gap: large run {large_gap:.1e}.",
        "",
        f"**{int(within.to_numpy().sum())} of {within.size} figures within |z| ≤ 4**, largest |z| "
        f"{float(z.abs().to_numpy().max()):.1f} (z = (x − m)/(s·√(1 + 1/seeds)); last-year means; "
        "counts and money per customer).",
        "",
        "| firm | figure | large run | small runs (mean ± sd) | z | same seed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for firm in mean.index:
        for figure in mean.columns:
            lines.append(f"| {firm} | {figure} | {large.loc[firm, figure]:.5g} | {mean.loc[firm, figure]:.5g} ± "
                         f"{spread.loc[firm, figure]:.2g} | {z.loc[firm, figure]:+.1f}"
                         f"{'' if within.loc[firm, figure] else ' **outside**'} | "
                         f"{same_seed.loc[firm, figure]:+.1f} |")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
