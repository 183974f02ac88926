"""Speed-up of a sweep on 2 worker processes over 1, and the same sweep on a Dask LocalCluster.

    .venv/bin/python benchmarks/bench_sweep.py [--customers 10000] [--weeks 4] [--points 10]
                                               [--replicates 20] [--no-dask] [--keep DIR]
    .venv/bin/python benchmarks/bench_sweep.py --customers 5000 --weeks 260 --points 2 \
                                               --replicates 20 --pool-only   # runs/s of issue 13

The sweep: ecommerce, focal strategy (transactional, relationship) × focal
price (evenly spaced levels) × replicate seeds; by default 10 points × 20
seeds = 200 runs of 10,000 customers. It runs three times into three stores:
in this process (1 worker), on a local pool of 2 processes, and on a Dask
LocalCluster of 2 single-threaded worker processes; the three stores must hold
identical tables. Prints wall times, the speed-up and the machine as Markdown
for benchmarks/README.md.

``--pool-only`` runs only the pool of 2 workers and prints replicates per
second and what 1,000 runs would take at that rate (issue 13's target: 1,000
runs of ecommerce at 5,000 customers × 260 weeks in under 2 minutes with 2
workers).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from relsim.studies.experiment import load_experiment
from relsim.studies.store import Store
from relsim.studies.sweep import sweep

EXPERIMENT = """
name = "bench"
scenario = "ecommerce"
seed = 1
replicates = {replicates}

[overrides]
"market.customers" = {customers}
"market.weeks" = {weeks}

[[factors]]
path = "strategy"
levels = ["transactional", "relationship"]

[[factors]]
path = "firms.0.levers.price"
levels = {prices}

[outputs]
tables = ["summary", "steps"]
"""


def tables(root: Path) -> dict[str, pd.DataFrame]:
    """The store's tables in run order, without the provenance column ``code_version``
    (a commit made while the benchmark runs changes it, not the numbers)."""
    store = Store(root)
    return {name: store.table(name).sort_values(["run_id", "firm", *(["week"] if name == "steps" else [])])
            .drop(columns=["code_version"], errors="ignore").reset_index(drop=True)
            for name in ("summary", "steps")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--points", type=int, default=10, help="design points (an even number)")
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--pool-only", action="store_true", help="only the pool of 2 workers: runs per second")
    parser.add_argument("--keep", type=Path, default=None, help="keep the stores in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    folder.mkdir(parents=True, exist_ok=True)
    prices = [round(float(p), 3) for p in np.linspace(0.9, 1.1, args.points // 2)]
    path = folder / "bench.toml"
    path.write_text(EXPERIMENT.format(replicates=args.replicates, customers=args.customers, weeks=args.weeks,
                                      prices=prices))
    plan = load_experiment(path)
    runs = len(plan.runs)
    timings = {}
    passes = (("2 workers", {"workers": 2}),) if args.pool_only else (("1 worker", {"workers": 1}),
                                                                        ("2 workers", {"workers": 2}))
    for label, options in passes:
        store = folder / label.replace(" ", "-")
        shutil.rmtree(store, ignore_errors=True)
        started = time.perf_counter()
        outcome = sweep(plan, store, **options)
        timings[label] = time.perf_counter() - started
        assert outcome.done == runs and not outcome.failed, outcome
        print(f"{label}: {timings[label]:.1f} s", flush=True)
    if args.pool_only:
        seconds = timings["2 workers"]
        print(f"\n{runs} runs × {args.customers:,} customers × {args.weeks} weeks, 2 workers: {seconds:.1f} s, "
              f"{runs / seconds:.3f} runs/s, 1,000 runs ≈ {1000 * seconds / runs / 60:.1f} min; "
              f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load average after {os.getloadavg()[0]:.1f}")
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        return
    reference = tables(folder / "1-worker")
    same_pool = all(reference[n].equals(t) for n, t in tables(folder / "2-workers").items())
    same_dask = None
    if not args.no_dask:
        from distributed import LocalCluster
        store = folder / "dask"
        shutil.rmtree(store, ignore_errors=True)
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                          silence_logs=40) as cluster:
            started = time.perf_counter()
            outcome = sweep(plan, store, scheduler=cluster.scheduler_address)
            timings["Dask LocalCluster, 2 workers"] = time.perf_counter() - started
        assert outcome.done == runs and not outcome.failed, outcome
        same_dask = all(reference[n].equals(t) for n, t in tables(store).items())
        print(f"dask: {timings['Dask LocalCluster, 2 workers']:.1f} s", flush=True)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, load average before/after "
               f"{os.getloadavg()[0]:.1f}")
    speedup = timings["1 worker"] / timings["2 workers"]
    print(f"\n{runs} runs × {args.customers:,} customers × {args.weeks} weeks; {machine}")
    print("| how | wall time | runs/s | speed-up vs 1 worker |\n|---|---|---|---|")
    for label, seconds in timings.items():
        print(f"| {label} | {seconds:.1f} s | {runs / seconds:.2f} | {timings['1 worker'] / seconds:.2f} |")
    print(f"\nspeed-up 2 workers / 1 worker: {speedup:.2f}; pool store identical: {same_pool}; "
          f"Dask store identical: {same_dask}")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
