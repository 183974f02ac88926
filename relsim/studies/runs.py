"""Many small runs of the focal firm, in parallel: the workhorse of the compare
report's parameter uncertainty and lever attribution.

``focal_outcomes(tasks)`` runs each (scenario, seed) task once and returns the
focal firm's end-of-run summary per task (one row each, in task order). A task
is a scenario dumped to JSON-able data, so it crosses process boundaries; the
run is fixed by the scenario and its integer seed (one ``SeedSequence`` tree
per run, docs/model.md), so the result does not depend on the worker count.

Tasks that repeat one scenario over several seeds (the attribution's lever
mixes, each on the same seeds) go to a worker as batches of seeds, run together
on the array engine (:mod:`relsim.studies.batches`; the same rows). The
parameter-uncertainty runs never batch: each task has its own parameter set
and strategy, so no scenario repeats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed

import numpy as np
import pandas as pd

from relsim.market.resources import estimate
from relsim.scenario.schema import Scenario
from relsim.studies.batches import batch_size, batches, run_seeds
from relsim.studies.pool import process_pool
from relsim.util.progress import progress_bar


def _focal_outcomes(payload: dict, seeds: list[int]) -> list[dict]:
    """Worker: ``payload`` run on each of ``seeds`` (together on the array engine), the focal firm's
    summary row of each as a dict, in the order of ``seeds``."""
    scenario = Scenario.model_validate(payload)
    rows = []
    for result in run_seeds(scenario, seeds):
        summary = result.summary()
        rows.append(summary[summary["firm"] == scenario.firms[0].name].iloc[0].to_dict())
    return rows


def focal_outcomes(tasks: Sequence[tuple[Scenario, int]], workers: int = 1, progress: bool = False,
                   label: str = "runs", batch: int | None = None,
                   meanwhile: Callable[[], None] | None = None) -> pd.DataFrame:
    """The focal firm's summary of every (scenario, seed) run, one row per task, in task order.

    Tasks with identical scenarios are run in batches of seeds (``batch``: seeds per worker task,
    default automatic, 1 = one run per task; :func:`relsim.studies.batches.batch_size`).
    ``meanwhile()`` is called once in this process while the workers run (before the runs with one
    worker): ``relsim compare`` draws its report's figures then, on the core the runs leave."""
    payloads = [(scenario.model_dump(mode="json"), int(seed)) for scenario, seed in tasks]
    workers = max(1, min(workers, len(payloads)))
    groups: dict[str, list[int]] = {}
    for i, (payload, _) in enumerate(payloads):
        groups.setdefault(json.dumps(payload, sort_keys=True), []).append(i)
    work: list[tuple[dict, list[int], list[int]]] = []   # (scenario, seeds, task numbers)
    for numbers in groups.values():
        scenario = tasks[numbers[0]][0]
        size = batch_size(len(payloads), workers, scenario.market.engine, estimate(scenario)[0], batch, len(numbers))
        for part in batches(numbers, size):
            work.append((payloads[part[0]][0], [payloads[i][1] for i in part], part))
    work.sort(key=lambda item: item[2][0])
    rows: dict[int, dict] = {}
    with progress_bar(len(payloads), label, enabled=progress) as advance:
        def collect(numbers: list[int], answers: list[dict]) -> None:
            for i, row in zip(numbers, answers, strict=True):
                rows[i] = row
                advance()

        if workers == 1:
            if meanwhile is not None:
                meanwhile()
            for payload, seeds, numbers in work:
                collect(numbers, _focal_outcomes(payload, seeds))
        else:
            with process_pool(workers) as pool:   # forkserver workers, relsim loaded (studies/pool.py)
                futures = {pool.submit(_focal_outcomes, payload, seeds): numbers
                           for payload, seeds, numbers in work}
                if meanwhile is not None:
                    meanwhile()
                for future in as_completed(futures):
                    collect(futures[future], future.result())
    return pd.DataFrame([rows[i] for i in range(len(payloads))])


def spawn_seeds(root: np.random.SeedSequence, count: int) -> list[int]:
    """``count`` integer run seeds from children of ``root`` (63 bits, like the experiments')."""
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in root.spawn(count)]
