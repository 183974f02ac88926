"""Replicates of one design point together (relsim.market.replicates) against separate runs.

    .venv/bin/python benchmarks/bench_replicates.py [--replicates R] [--customers N] [--weeks W] [--pairs P]

Runs ``R`` seeds of ecommerce (array engine) ``P`` times each way, alternating
(separate ``simulate`` runs, then ``simulate_replicates``, then again), in this
process with a warm numba cache, and prints the CPU seconds of each, the load
before and after, the per-phase CPU seconds of the batched run (all replicates)
and whether the tables are equal, for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import pandas as pd

import relsim
from relsim.market.replicates import simulate_replicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    scenario = relsim.load_scenario("ecommerce", **{"market.customers": args.customers,
                                                    "market.weeks": args.weeks, "market.engine": "arrays"})
    seeds = list(range(args.replicates))
    relsim.simulate(scenario.resized(400), seed=0)   # numba's cache loaded, imports done
    print(f"load before: {os.getloadavg()[0]:.1f}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    separate_cpu, batched_cpu = [], []
    phases: dict[str, float] = {}
    for pair in range(args.pairs):
        started = time.process_time()
        alone = [relsim.simulate(scenario, seed) for seed in seeds]
        separate_cpu.append(time.process_time() - started)
        seconds: dict[str, float] = {}
        started = time.process_time()
        together = simulate_replicates(scenario, seeds, phase_seconds=seconds)
        batched_cpu.append(time.process_time() - started)
        if pair == 0:
            phases = seconds
            for a, b in zip(alone, together, strict=True):
                for name in ("steps", "customers", "cohorts"):
                    pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
        print(f"pair {pair + 1}: separate {separate_cpu[-1]:.1f} s CPU, together {batched_cpu[-1]:.1f} s CPU, "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"median: separate {statistics.median(separate_cpu):.1f} s, together {statistics.median(batched_cpu):.1f} s"
          f" ({statistics.median(separate_cpu) / statistics.median(batched_cpu):.2f}×); tables equal")
    total = sum(phases.values())
    print("phases of the batched run (CPU s, share of the phases' total):")
    for name, value in phases.items():
        print(f"  {name}: {value:.2f} s ({100 * value / total:.0f} %)")


if __name__ == "__main__":
    main()
