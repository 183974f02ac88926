"""CPU time of one week of a 1,500-customer market (the app's size) on each engine.

Ecommerce resized to 1,500 customers; three seeds; five weeks of warm-up, then
40 weeks timed with ``time.process_time`` (CPU, less sensitive to other load
than the wall clock, which is printed too).

    .venv/bin/python benchmarks/bench_week.py            # both engines
"""

from __future__ import annotations

import sys
import time

from relsim.market.model import MarketModel
from relsim.scenario.schema import load_scenario


def week_seconds(engine: str, seeds: int = 3, weeks: int = 40) -> list[tuple[float, float]]:
    """(CPU, wall) seconds a week, one pair per seed."""
    scenario = load_scenario("ecommerce", **{"market.customers": 1500, "market.weeks": weeks + 40})
    result = []
    for seed in range(seeds):
        model = MarketModel(scenario, seed=seed, engine=engine)
        for _ in range(5):
            model.step()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(weeks):
            model.step()
        result.append(((time.process_time() - cpu) / weeks, (time.perf_counter() - wall) / weeks))
    return result


if __name__ == "__main__":
    for engine in sys.argv[1:] or ["agents", "arrays"]:
        pairs = week_seconds(engine)
        print(f"{engine}: CPU a week {', '.join(f'{c:.4f}' for c, _ in pairs)} s; "
              f"wall {', '.join(f'{w:.4f}' for _, w in pairs)} s")
