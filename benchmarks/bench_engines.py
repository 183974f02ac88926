"""Customer-steps per second and memory per customer, both engines, by population size.

    .venv/bin/python benchmarks/bench_engines.py [--sizes 10000 100000 1000000] [--weeks 52]
                                                 [--agents-up-to 100000] [--out benchmarks/engines-latest.md]

Every run is the ecommerce scenario resized to the population
(``Scenario.resized``): 4 firms, word of mouth and operations (SimPy desks)
on, seed 1. Each run happens in a fresh subprocess so that its peak memory is
its own. The agent engine runs only up to ``--agents-up-to`` customers (at
10^6 it would need hours and gigabytes). For the array engine the child also
times the weekly phases, to show where the time goes.

Columns: wall time of ``model.run()`` (set-up excluded, reported apart),
customer-steps per second (customers × weeks / wall time), the array
engine's state in bytes per customer (``CustomerState.state_bytes``:
every per-customer array, network excluded), the network's CSR arrays per
customer, and the growth of the process's peak resident memory during
set-up and run, per customer. The ratio column is arrays over agents at the
same size, measured in this run of the script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from collections import defaultdict
import relsim
from relsim.market.model import MarketModel
engine, customers, weeks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scenario = relsim.load_scenario("ecommerce", **{"market.weeks": weeks,
                                                 "market.engine": engine}).resized(customers)
started = time.perf_counter()
model = MarketModel(scenario, seed=1)
setup = time.perf_counter() - started
phases = defaultdict(float)

def timed(owner, name, phase):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            phases[phase] += time.perf_counter() - begun
    setattr(owner, name, wrapper)

if engine == "arrays":
    population = model.population
    # SimPy's share is timed inside the operations phase
    timed(model.operations, "advance_to", "SimPy desks")
    for name, phase in (("begin_week", "decay"), ("shop", "choice and purchase"),
                        ("run_operations", "operations (deliveries + SimPy + answers)"),
                        ("word_of_mouth_and_churn", "word of mouth and churn")):
        timed(population, name, phase)
    timed(model, "_needs", "needs (incl. choice and purchase)")
    for firm in model.firms:
        timed(firm, "act", "firms act")
    timed(model.recorder, "record_week", "weekly record")
started = time.perf_counter()
model.run()
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
steps = model.recorder.steps_table()
figures = {"elapsed": elapsed, "setup": setup, "peak_kib": peak, "base_kib": before,
           "orders": int(steps["orders"].sum()), "tickets": int(steps["tickets"].sum()),
           "network_bytes": int(model.network.indptr.nbytes + model.network.indices.nbytes),
           "phases": dict(phases)}
if engine == "arrays":
    figures["state_bytes"] = model.population.state_bytes()
print(json.dumps(figures))
"""


def measure(engine: str, size: int, weeks: int) -> dict:
    """One run in a fresh interpreter; its figures."""
    done = subprocess.run([sys.executable, "-c", CHILD, engine, str(size), str(weeks)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{engine} run at {size:,} customers failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--agents-up-to", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("engines-latest.md"))
    args = parser.parse_args()
    rows = ["| engine | customers | weeks | set-up | run | customer-steps/s | arrays ÷ agents | "
            "state per customer | network per customer | peak memory growth per customer |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    profiles = []
    for size in args.sizes:
        rates = {}
        for engine in ("agents", "arrays"):
            if engine == "agents" and size > args.agents_up_to:
                continue
            figures = measure(engine, size, args.weeks)
            rate = size * args.weeks / figures["elapsed"]
            rates[engine] = rate
            ratio = f"{rate / rates['agents']:.1f}×" if engine == "arrays" and "agents" in rates else ""
            state = f"{figures['state_bytes'] / size:.0f} B" if "state_bytes" in figures else ""
            growth = (figures["peak_kib"] - figures["base_kib"]) * 1024 / size
            rows.append(f"| {engine} | {size:,} | {args.weeks} | {figures['setup']:.1f} s | "
                        f"{figures['elapsed']:.1f} s | {rate:,.0f} | {ratio} | {state} | "
                        f"{figures['network_bytes'] / size:.0f} B | {growth:,.0f} B |")
            print(rows[-1], flush=True)
            if figures["phases"]:
                total = figures["elapsed"]
                shares = ", ".join(f"{phase} {seconds / total:.0%}"
                                   for phase, seconds in sorted(figures["phases"].items(),
                                                                key=lambda item: -item[1]))
                profiles.append(f"- arrays, {size:,} customers ({figures['orders'] / args.weeks:,.0f} orders "
                                f"and {figures['tickets'] / args.weeks:,.0f} tickets a week): {shares}")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{time.strftime('%Y-%m-%d')}, load average at the end {os.getloadavg()[0]:.1f}")
    text = "\n".join([*rows, "", f"Machine: {machine}.", "",
                      "Where the array engine's time goes (share of the run; phases nest: "
                      "'needs' contains 'choice and purchase', 'operations' contains 'SimPy desks'):",
                      "", *profiles]) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
