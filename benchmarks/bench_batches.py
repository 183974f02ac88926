"""The studies with replicates in one pass (``--batch``) against one run per task, CPU seconds.

    .venv/bin/python benchmarks/bench_batches.py [--pairs P] [--batch B] [--seeds S] [--replicates R]
                                                 [--customers N] [--weeks W] [--out DIR]

Alternates, ``P`` pairs (order swapped every pair), in this process
(``workers=1``, so the CPU seconds are a worker's own: runs, tables, and for the
sweep the store's files):

* ``compare``: ecommerce, transactional vs relationship on ``S`` seeds (the main
  job, ``scripts/compare.sh``, is ``S`` = 20: 40 runs), ``batch=1`` against
  ``batch=B`` (B = 5 is what 2 workers use for 40 runs);
* ``sweep``: a 40-run experiment (strategy × 2 prices × ``R`` = 10 replicates of
  ecommerce) into a fresh store under ``DIR``, ``batch=1`` against ``batch=B``.

Prints one JSON line per measurement (CPU s, wall s, load before) for
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import relsim
from relsim.studies.compare import compare
from relsim.studies.experiment import load_experiment
from relsim.studies.sweep import sweep

EXPERIMENT = """
name = "bench_batches"
description = "a 40-run sweep for replicates in one pass (issue #13)"
scenario = "ecommerce"
seed = 3
replicates = {replicates}

[overrides]
"market.customers" = {customers}
"market.weeks" = {weeks}

[[factors]]
path = "strategy"
levels = ["transactional", "relationship"]

[[factors]]
path = "firms.0.levers.price"
levels = [0.95, 1.05]

[outputs]
tables = ["summary", "steps", "cohorts"]
metrics = ["cumulative_discounted_profit"]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the sweeps' stores (default: a temporary one)")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-batches-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "experiment.toml").write_text(EXPERIMENT.format(replicates=args.replicates, customers=args.customers,
                                                           weeks=args.weeks))
    plan = load_experiment(work / "experiment.toml")
    scenario = relsim.load_scenario("ecommerce", **{"market.customers": args.customers, "market.weeks": args.weeks})
    relsim.simulate(scenario.resized(400), seed=0)   # numba's cache loaded, imports done
    for pair in range(args.pairs):
        for kind in ("compare", "sweep"):
            for batch in (1, args.batch) if pair % 2 == 0 else (args.batch, 1):
                load = os.getloadavg()[0]
                cpu, wall = time.process_time(), time.perf_counter()
                if kind == "compare":
                    compare(scenario, ["transactional", "relationship"], args.seeds, workers=1, batch=batch)
                else:
                    outcome = sweep(plan, work / f"store-{pair}-{batch}", workers=1, batch=batch)
                    assert not outcome.failed
                print(json.dumps({"pair": pair, "kind": kind, "batch": batch,
                                  "cpu": round(time.process_time() - cpu, 2),
                                  "wall": round(time.perf_counter() - wall, 2), "load": round(load, 1)}),
                      flush=True)


if __name__ == "__main__":
    main()
