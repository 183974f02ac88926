"""Replicates in one pass for the studies: runs of one scenario on several seeds, as one worker task.

``relsim compare``, the compare report's attribution runs and ``relsim sweep``
hand a worker a *batch* of seeds of one scenario instead of one seed; on the
array engine the worker runs them with
:func:`relsim.market.replicates.simulate_replicates` (all seeds advanced week
by week together), whose tables equal separate ``simulate`` runs bit for bit,
so every table the studies write is unchanged (issue #13, docs/architecture.md
"Replicates in one pass"). The agent engine keeps one run per task.

The batch size (:func:`batch_size`) keeps every worker busy to the end and the
progress bar moving: about a quarter of a worker's share of the runs
(``ceil(runs / (4 · workers))``), at most :data:`MAX_BATCH`, and no larger
than :data:`BATCH_MEMORY` allows (a batch holds all its models at once).

>>> batch_size(40, workers=2, engine="arrays")
5
>>> batch_size(40, workers=2, engine="agents")
1
>>> batch_size(40, workers=2, engine="arrays", seeds=3)     # no batch holds more seeds than there are
3
>>> batches([0, 1, 2, 3, 4], 2)
[[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the runners load the model; the size rules here are imported by the CLI's checks
    from relsim.market.runner import RunResult
    from relsim.scenario.schema import Scenario

#: Largest batch of seeds one worker task runs together. Beyond about 8 the lock step gains
#: nothing more (benchmarks/README.md, #13) and a killed sweep loses more runs in flight.
MAX_BATCH = 8

#: Estimated peak memory (bytes, :func:`relsim.market.resources.estimate`) a batch may hold:
#: a batch keeps all its models in memory at once, so large markets run one seed per task.
#: The memory checks made before the runs count a batch's runs per worker
#: (``check_runs(..., runs_per_task=)``, :func:`relsim.studies.sweep.check_cluster_memory`).
BATCH_MEMORY = 256 * 2 ** 20

def batch_size(runs: int, workers: int, engine: str, memory: float = 0.0, requested: int | None = None,
               seeds: int | None = None) -> int:
    """Seeds per worker task for ``runs`` runs over ``workers`` processes.

    Parameters
    ----------
    runs : int
        Runs to share out.
    workers : int
        Processes (or Dask threads) running them at once.
    engine : str
        ``market.engine`` of the scenarios; only ``"arrays"`` batches.
    memory : float
        Estimated peak bytes of one run (0: not checked).
    requested : int, optional
        ``--batch N``: this size instead of the automatic one (1 = one run per task); still
        1 on the agent engine, and still no more than :data:`BATCH_MEMORY` allows.
    seeds : int, optional
        Seeds one scenario runs on: no batch holds more (so the size is also the largest batch
        that runs, as the report and the memory checks state it).

    Returns
    -------
    int
        At least 1.
    """
    if engine != "arrays":
        return 1
    if requested is not None:
        size = int(requested)
    else:
        size = min(MAX_BATCH, math.ceil(runs / (4 * max(1, workers))))
    if memory > 0:
        size = min(size, int(BATCH_MEMORY // memory))
    if seeds is not None:
        size = min(size, seeds)
    return max(1, size)


def batches[T](items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of ``size`` (the last may be shorter)."""
    size = max(1, size)
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def run_seeds(scenario: Scenario, seeds: Sequence[int]) -> list[RunResult]:
    """``scenario`` run once per seed, in the order of ``seeds``: one ``simulate`` for a single seed
    or the agent engine, else :func:`simulate_replicates` (the same tables). A seed given twice is
    run once and its result given twice."""
    from relsim.market.replicates import simulate_replicates
    from relsim.market.runner import simulate
    distinct = list(dict.fromkeys(int(seed) for seed in seeds))
    if len(distinct) == 1 or scenario.market.engine != "arrays":
        results = [simulate(scenario, seed=seed) for seed in distinct]
    else:
        results = simulate_replicates(scenario, distinct)
    by_seed = dict(zip(distinct, results, strict=True))
    return [by_seed[int(seed)] for seed in seeds]
