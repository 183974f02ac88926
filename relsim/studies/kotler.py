"""Kotler's matrix: which relationship level pays, by number of customers and margin.

Kotler (Marketing Management, "levels of relationship marketing"; Kotler &
Keller 2016, ch. 5) recommends a level of relationship investment from two
things: how many customers a firm has and how much margin each sale leaves.

====================  ===========  =============  =================
                      high margin  medium margin  low margin
====================  ===========  =============  =================
many customers        accountable  reactive       basic or reactive
medium number         proactive    accountable    reactive
few customers         partnership  proactive      accountable
====================  ===========  =============  =================

The market's **total revenue is held fixed**: the base scenario's customers
are replaced by ``n`` customers whose baskets are ``N₀ / n`` times larger (a few
large customers or many small ones), and the market's money scale (reference
acquisition budget, desk, half-saturation) stays the base scenario's, since
the market is the same size in currency. Gross margin ``m`` is set through the
supplier's unit cost (``1 − m`` at list price).

With ``market.competition = "static"`` the unit cost of goods moves no
behaviour (prices, choices and rivals do not depend on it), so one run per
(level, customers, seed) gives the focal firm's discounted profit at every
margin exactly: ``Π_m = Π + Σ_w cogs_w · (1 − c_m / c) · d_w`` with ``d_w`` the
week's discount factor (checked against a direct run in
``tests/test_stylized.py``).

    python -m relsim.studies.kotler --customers 200 2000 20000 --seeds 4 --weeks 156
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from relsim.market import rules
from relsim.market.runner import simulate
from relsim.scenario.schema import Scenario, load_scenario

#: The five level presets, in order (1 basic … 5 partnership).
LEVELS = ("basic", "reactive", "accountable", "proactive", "partnership")
#: Gross margins of the matrix: low, medium, high.
MARGINS = (0.15, 0.35, 0.55)
#: Kotler's recommended level(s) per (number of customers: "many", "medium",
#: "few"; margin: "low", "medium", "high").
KOTLER = {
    ("many", "low"): (1, 2), ("many", "medium"): (2,), ("many", "high"): (3,),
    ("medium", "low"): (2,), ("medium", "medium"): (3,), ("medium", "high"): (4,),
    ("few", "low"): (3,), ("few", "medium"): (4,), ("few", "high"): (5,),
}
MARGIN_NAMES = dict(zip(MARGINS, ("low", "medium", "high"), strict=True))


def matrix_scenario(base: Scenario, customers: int, weeks: int, engine: str = "arrays") -> Scenario:
    """``base`` with ``customers`` customers sharing its total revenue (baskets ×
    ``N₀ / customers``), static competition, ``weeks`` weeks; money scale unchanged."""
    factor = base.market.customers / customers
    overrides: dict[str, object] = {"market.customers": customers, "market.weeks": weeks,
                                    "market.competition": "static", "market.engine": engine}
    for k, segment in enumerate(base.segments):
        overrides[f"segments.{k}.basket_mean"] = segment.basket_mean * factor
    return load_scenario(base.name, **overrides)


def profit_at_margins(steps: pd.DataFrame, firm: str, unit_cost: float, discount_rate: float,
                      margins=MARGINS) -> dict[float, float]:
    """Cumulative discounted profit of ``firm`` at each gross margin, from one run at
    supplier ``unit_cost`` (cost of goods scales with the unit cost; nothing else moves)."""
    frame = steps[steps["firm"] == firm]
    base = float(frame["cumulative_discounted_profit"].iloc[-1])
    discounted_cogs = float((frame["cogs"] * rules.discount_factor(frame["week"].to_numpy(float),
                                                                   discount_rate)).sum())
    return {m: base + discounted_cogs * (1.0 - (1.0 - m) / unit_cost) for m in margins}


def run_matrix(customers=(200, 2000, 20000), seeds: int = 4, weeks: int = 156, scenario: str = "ecommerce",
               engine: str = "arrays", progress: bool = False) -> pd.DataFrame:
    """Focal firm's discounted profit per (customers, margin, level, seed): one row each."""
    base = load_scenario(scenario)
    rows = []
    for n in customers:
        market = matrix_scenario(base, n, weeks, engine)
        unit_cost = market.suppliers[0].unit_cost
        focal = market.firms[0].name
        for level in LEVELS:
            for seed in range(seeds):
                started = time.perf_counter()
                steps = simulate(market.with_focal_strategy(level), seed=seed).steps
                for margin, profit in profit_at_margins(steps, focal, unit_cost,
                                                        market.market.discount_rate).items():
                    rows.append({"customers": n, "margin": margin, "level": level,
                                 "level_number": LEVELS.index(level) + 1, "seed": seed, "profit": profit})
                if progress:
                    print(f"  {n} customers, {level}, seed {seed}: {time.perf_counter() - started:.1f} s",
                          flush=True)
    return pd.DataFrame(rows)


def best_levels(results: pd.DataFrame) -> pd.DataFrame:
    """Per (customers, margin): the level with the highest mean profit (paired over
    seeds), its number, Kotler's recommendation and whether they are within one level."""
    means = results.groupby(["customers", "margin", "level_number"])["profit"].mean().reset_index()
    sizes = sorted(results["customers"].unique())
    names = dict(zip(sizes, ("few", "medium", "many"), strict=True))
    rows = []
    for (n, margin), group in means.groupby(["customers", "margin"]):
        best = int(group.loc[group["profit"].idxmax(), "level_number"])
        kotler = KOTLER[(names[n], MARGIN_NAMES[margin])]
        rows.append({"customers": int(n), "margin": float(margin), "best_level": best,
                     "best": LEVELS[best - 1], "kotler": "/".join(LEVELS[k - 1] for k in kotler),
                     "within_one": min(abs(best - k) for k in kotler) <= 1,
                     "best_profit": float(group["profit"].max())})
    return pd.DataFrame(rows)


def monotone(best: pd.DataFrame) -> tuple[bool, bool]:
    """(the best level never rises as customers become more numerous at a fixed margin,
    never falls as the margin rises at a fixed number of customers), on point estimates."""
    table = best.pivot(index="customers", columns="margin", values="best_level").sort_index()
    by_customers = bool((np.diff(table.to_numpy(), axis=0) <= 0).all())
    by_margin = bool((np.diff(table.to_numpy(), axis=1) >= 0).all())
    return by_customers, by_margin


def tied_levels(results: pd.DataFrame, z: float = 2.0) -> dict[tuple[int, float], set[int]]:
    """Per (customers, margin): the levels not clearly worse than the best, i.e. whose
    paired (same seed) shortfall from the best level's profit is within ``z`` standard
    errors of the mean over seeds (the Monte-Carlo error of the comparison)."""
    tied = {}
    for (n, margin), group in results.groupby(["customers", "margin"]):
        table = group.pivot(index="seed", columns="level_number", values="profit")
        best = int(table.mean().idxmax())
        shortfall = table[best].to_numpy()[:, None] - table.to_numpy()
        error = shortfall.std(axis=0, ddof=1) / np.sqrt(len(table)) if len(table) > 1 else np.zeros(table.shape[1])
        tied[(int(n), float(margin))] = {int(level) for level, gap, err in
                                          zip(table.columns, shortfall.mean(axis=0), error, strict=True)
                                          if gap <= z * err}
    return tied


def monotone_within_error(results: pd.DataFrame, z: float = 2.0) -> tuple[bool, bool]:
    """:func:`monotone` up to the Monte-Carlo error: between neighbouring cells the best
    level may seem to move the wrong way only among levels tied with the best
    (:func:`tied_levels`): with more customers, the lowest tied level is no higher
    than the highest tied level with fewer; with a higher margin, the highest tied
    level is no lower than the lowest tied level at the lower margin."""
    tied = tied_levels(results, z)
    sizes = sorted({n for n, _ in tied})
    margins = sorted({m for _, m in tied})
    by_customers = all(min(tied[(more, m)]) <= max(tied[(fewer, m)])
                       for m in margins for fewer, more in itertools.pairwise(sizes))
    by_margin = all(max(tied[(n, higher)]) >= min(tied[(n, lower)])
                    for n in sizes for lower, higher in itertools.pairwise(margins))
    return by_customers, by_margin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--out", default=None, help="write the per-run profits to this CSV")
    parser.add_argument("--from-csv", default=None, help="analyse a CSV written by --out instead of running")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.from_csv:
        results = pd.read_csv(args.from_csv)
    else:
        results = run_matrix(args.customers, args.seeds, args.weeks, progress=True)
    if args.out:
        results.to_csv(args.out, index=False)
    best = best_levels(results)
    print(best.to_string(index=False))
    by_customers, by_margin = monotone(best)
    tied_customers, tied_margin = monotone_within_error(results)
    tied = tied_levels(results)
    print("\nlevels tied with the best (within 2 standard errors):")
    for (n, margin), levels in sorted(tied.items()):
        print(f"  {n} customers, margin {margin:.2f}: {', '.join(LEVELS[k - 1] for k in sorted(levels))}")
    print(f"\nbest level never rises with customers: {by_customers} (within Monte-Carlo error: {tied_customers}); "
          f"never falls with margin: {by_margin} (within error: {tied_margin}); "
          f"within one level of Kotler: {int(best['within_one'].sum())} of {len(best)}; "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
