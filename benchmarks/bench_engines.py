"""Customer-steps per second and memory per customer, by population size.

    .venv/bin/python benchmarks/bench_engines.py [--sizes 10000 100000] [--weeks 52]

Each size runs in a fresh subprocess (so peak memory is that run's own):
ecommerce scenario resized to the population (Scenario.resized), 4 firms,
word of mouth and operations on. Prints one Markdown row per size. Only the
agent engine exists so far; the vectorised engine of issue #3 will add a
column here, measured in the same run of this script.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys

CHILD = """
import json, resource, sys, time
import relsim
customers, weeks = int(sys.argv[1]), int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scenario = relsim.load_scenario("ecommerce", **{"market.weeks": weeks}).resized(customers)
started = time.perf_counter()
result = relsim.simulate(scenario, seed=1)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"elapsed": elapsed, "peak_kib": peak, "base_kib": before,
                  "orders": int(result.steps["orders"].sum())}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    print("| engine | customers | weeks | wall time | customer-steps/s | peak memory per customer |")
    print("|---|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        done = subprocess.run([sys.executable, "-c", CHILD, str(size), str(args.weeks)],
                              capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        per_customer = (figures["peak_kib"] - figures["base_kib"]) * 1024 / size
        print(f"| agents | {size:,} | {args.weeks} | {figures['elapsed']:.1f} s | "
              f"{size * args.weeks / figures['elapsed']:,.0f} | {per_customer:,.0f} B |", flush=True)
    print(f"\nmachine: {platform.machine()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
