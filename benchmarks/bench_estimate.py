"""Measured memory and time of one run against relsim's estimate (relsim.market.resources).

    .venv/bin/python benchmarks/bench_estimate.py [--runs agents:ecommerce:5000 arrays:ecommerce:50000 ...]
                                                  [--weeks 8]

Each run happens in a fresh interpreter (its peak memory is its own): the
scenario resized to the population, run once with ``relsim.simulate``. The
child runs 200 customers first (imports and code are not counted), resets its
peak resident memory to the memory in use (Linux ``/proc/self/clear_refs``)
and reports the peak during the run over the memory in use before it, the
CPU time and the wall time of the run. The table gives memory per customer
and time as customer-steps per second, with the estimate beside them and
their ratio.
CPU time, not wall time, is the rate to compare on a shared machine: the wall
time grows with the other processes' load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, re, resource, sys, time
import relsim
from relsim.market.resources import estimate
engine, name, customers, weeks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
extra = json.loads(sys.argv[5])
def scenario(size):
    return relsim.load_scenario(name, **{"market.weeks": weeks, "market.engine": engine,
                                         **extra}).resized(size)
def status(key):
    with open("/proc/self/status") as stream:
        return int(re.search(rf"^{key}:\s+(\d+) kB", stream.read(), re.M).group(1)) * 1024
relsim.simulate(scenario(200), seed=1)           # imports, caches, first allocations
run = scenario(customers)
memory, seconds = estimate(run)
try:       # Linux: reset the peak to the memory in use now (VmHWM := VmRSS)
    with open("/proc/self/clear_refs", "w") as stream:
        stream.write("5")
    before = status("VmRSS")
except OSError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
wall, cpu = time.perf_counter(), time.process_time()
relsim.simulate(run, seed=1)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
try:
    peak = status("VmHWM")
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
steps = -(-run.market.weeks // run.market.step_weeks)
print(json.dumps({"growth": peak - before, "estimate_bytes": memory, "estimate_seconds": seconds,
                  "wall": wall, "cpu": cpu, "firms": len(run.firms), "steps": steps,
                  "degree": run.market.network.mean_degree, "kind": run.market.network.kind}))
"""


def measure(engine: str, scenario: str, customers: int, weeks: int, extra: dict | None = None) -> dict:
    """One run in a fresh interpreter: measured and estimated memory and time."""
    done = subprocess.run([sys.executable, "-c", CHILD, engine, scenario, str(customers), str(weeks),
                           json.dumps(extra or {})], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} {scenario} at {customers:,} customers failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=["agents:ecommerce:5000", "agents:b2b:5000",
                                                      "arrays:ecommerce:50000", "arrays:b2b:50000",
                                                      "arrays:ecommerce:50000:40"],
                        help="ENGINE:SCENARIO:CUSTOMERS[:MEAN_DEGREE]")
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    print("| engine | scenario | customers | firms | network | memory growth per customer | estimate | "
          "measured ÷ estimate | customer-steps per CPU second | per wall second | "
          "estimated time ÷ CPU time |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for spec in args.runs:
        engine, scenario, customers, *degree = spec.split(":")
        extra = {"market.network.mean_degree": float(degree[0])} if degree else {}
        size = int(customers)
        figures = measure(engine, scenario, size, args.weeks, extra)
        work = size * figures["steps"]
        print(f"| {engine} | {scenario} | {size:,} | {figures['firms']} | {figures['kind']}, degree "
              f"{figures['degree']:g} | {figures['growth'] / size:,.0f} B | {figures['estimate_bytes'] / size:,.0f} B"
              f" | {figures['growth'] / figures['estimate_bytes']:.2f} | {work / figures['cpu']:,.0f} | "
              f"{work / figures['wall']:,.0f} | {figures['estimate_seconds'] / figures['cpu']:.2f} |", flush=True)
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average at the end {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
