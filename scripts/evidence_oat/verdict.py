"""Does the ecommerce profit verdict depend on margin, customer value and competition?

Relationship − transactional cumulative discounted profit and annual retention of
the focal firm (paired over seeds, common random numbers) on ecommerce resized to
``--customers``, varying one thing at a time: gross margin (supplier unit cost),
customer value (basket sizes ×0.5 / ×2) and competition (static / adaptive).

    python scripts/evidence_oat/verdict.py --customers 1000 --seeds 3
"""

from __future__ import annotations

import argparse

import numpy as np

from relsim import load_scenario
from relsim.market.metrics import summarize
from relsim.market.runner import simulate

CASES = {
    "shipped (25 % margin, adaptive)": {},
    "margin 15 %": {"suppliers.0.unit_cost": 0.85},
    "margin 45 %": {"suppliers.0.unit_cost": 0.55},
    "customer value ×0.5": "baskets×0.5",
    "customer value ×2": "baskets×2",
    "competition static": {"market.competition": "static"},
}


def scenario_for(case, customers):
    overrides = {"market.engine": "arrays"}
    if isinstance(case, dict):
        overrides.update(case)
    else:
        factor = 0.5 if case.endswith("0.5") else 2.0
        base = load_scenario("ecommerce")
        for k, segment in enumerate(base.segments):
            overrides[f"segments.{k}.basket_mean"] = segment.basket_mean * factor
    return load_scenario("ecommerce", **overrides).resized(customers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print("| case | retention gap (points) | profit gap (relationship − transactional) | 95 % interval |")
    print("|---|---|---|---|")
    for label, case in CASES.items():
        scenario = scenario_for(case, args.customers)
        gaps, profits = [], []
        for seed in range(args.seeds):
            focal = {strategy: summarize(simulate(scenario.with_focal_strategy(strategy), seed=seed).steps).iloc[0]
                     for strategy in ("transactional", "relationship")}
            gaps.append(100 * (focal["relationship"]["annual_retention"] - focal["transactional"]["annual_retention"]))
            profits.append(focal["relationship"]["cumulative_discounted_profit"]
                           - focal["transactional"]["cumulative_discounted_profit"])
        profits = np.array(profits)
        half = 4.303 * profits.std(ddof=1) / np.sqrt(profits.size) if profits.size == 3 else \
            2 * profits.std(ddof=1) / np.sqrt(profits.size)
        print(f"| {label} | {np.mean(gaps):+.1f} | {profits.mean():+,.0f} | "
              f"{profits.mean() - half:+,.0f} to {profits.mean() + half:+,.0f} |", flush=True)


if __name__ == "__main__":
    main()
