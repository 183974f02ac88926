"""Customer-steps per second and memory per customer, both engines, by population size.

    .venv/bin/python benchmarks/bench_engines.py [--sizes 10000 100000 1000000] [--weeks 52]
                                                 [--agents-up-to 100000] [--simpy-desk-up-to 1000000]
                                                 [--out benchmarks/engines-latest.md]

Every run is the ecommerce scenario resized to the population
(``Scenario.resized``): 4 firms, word of mouth and operations on, seed 1.
Each run happens in a fresh subprocess so that its peak memory is its own.
Three engines: the agent engine (SimPy desks), the array engine with its
compiled desk (the default, ``operations.desk = "compiled"``) and the array
engine on the SimPy desks (``"simpy"``, the reference; the same tables). The
agent engine runs only up to ``--agents-up-to`` customers (at 10^6 it would
need hours and gigabytes). For the array engine the child also times the
weekly phases, to show where the time goes. Before the runs, the cost of
compiling the numba kernels is measured: one small run in a fresh process
with an empty numba cache, then the same run with the cache filled.

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
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from collections import defaultdict
import relsim
from relsim.market.model import MarketModel
engine, customers, weeks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
desk = "simpy" if engine == "arrays-simpy" else "compiled"
engine = engine.removesuffix("-simpy")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scenario = relsim.load_scenario("ecommerce", **{"market.weeks": weeks, "market.engine": engine,
                                                 "operations.desk": desk}).resized(customers)
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
    if population.desks is not None:
        timed(population.desks, "advance_to", "compiled desks")
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


COMPILE = r"""
import json, time
started = time.perf_counter(), time.process_time()
import relsim
from relsim.market.model import MarketModel
scenario = relsim.load_scenario("ecommerce", **{"market.weeks": 4}).resized(2000)
model = MarketModel(scenario, seed=1)
model.run()
print(json.dumps({"wall": time.perf_counter() - started[0], "cpu": time.process_time() - started[1]}))
"""


def compile_cost() -> tuple[dict, dict]:
    """A small array-engine run in a fresh process, with an empty numba cache and then a filled one."""
    with tempfile.TemporaryDirectory() as cache:
        figures = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", COMPILE], capture_output=True, text=True,
                                  env={**os.environ, "NUMBA_CACHE_DIR": cache})
            if done.returncode != 0:
                raise SystemExit(f"compile-cost run failed:\n{done.stderr}")
            figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return figures[0], figures[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--agents-up-to", type=int, default=100_000)
    parser.add_argument("--simpy-desk-up-to", type=int, default=1_000_000,
                        help="run the array engine on the SimPy desks too, up to this size")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("engines-latest.md"))
    args = parser.parse_args()
    rows = ["| engine | customers | weeks | set-up | run | customer-steps/s | arrays ÷ agents | "
            "state per customer | network per customer | peak memory growth per customer |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    profiles = []
    cold, warm = compile_cost()
    compiled = (f"Compiling the numba kernels: a run of 2,000 customers × 4 weeks in a fresh process (imports "
                f"included) took {cold['wall']:.1f} s ({cold['cpu']:.1f} s CPU) with an empty numba cache and "
                f"{warm['wall']:.1f} s ({warm['cpu']:.1f} s CPU) with the cache filled: the first call costs "
                f"{cold['cpu'] - warm['cpu']:.1f} s CPU once per cache.")
    print(compiled, flush=True)
    for size in args.sizes:
        rates = {}
        for engine in ("agents", "arrays", "arrays-simpy"):
            if engine == "agents" and size > args.agents_up_to:
                continue
            if engine == "arrays-simpy" and size > args.simpy_desk_up_to:
                continue
            figures = measure(engine, size, args.weeks)
            rate = size * args.weeks / figures["elapsed"]
            rates[engine] = rate
            ratio = f"{rate / rates['agents']:.1f}×" if engine != "agents" and "agents" in rates else ""
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
                profiles.append(f"- {engine}, {size:,} customers ({figures['orders'] / args.weeks:,.0f} orders "
                                f"and {figures['tickets'] / args.weeks:,.0f} tickets a week): {shares}")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{time.strftime('%Y-%m-%d')}, load average at the end {os.getloadavg()[0]:.1f}")
    text = "\n".join([*rows, "", f"Machine: {machine}.", "", compiled, "",
                      "Where the array engine's time goes (share of the run; phases nest: "
                      "'needs' contains 'choice and purchase', 'operations' contains the desks):",
                      "", *profiles]) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
