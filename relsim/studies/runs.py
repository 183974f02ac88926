"""Many small runs of the focal firm, in parallel: the workhorse of the compare
report's parameter uncertainty and lever attribution.

``focal_outcomes(tasks)`` runs each (scenario, seed) task once and returns the
focal firm's end-of-run summary per task (one row each, in task order). A task
is a scenario dumped to JSON-able data, so it crosses process boundaries; the
run is fixed by the scenario and its integer seed (one ``SeedSequence`` tree
per run, docs/model.md), so the result does not depend on the worker count.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import as_completed

import numpy as np
import pandas as pd

from relsim.market.runner import simulate
from relsim.scenario.schema import Scenario
from relsim.studies.pool import process_pool
from relsim.util.progress import progress_bar


def _focal_outcome(payload: dict, seed: int) -> dict:
    """Worker: one run, the focal firm's summary row as a dict."""
    scenario = Scenario.model_validate(payload)
    result = simulate(scenario, seed=seed)
    summary = result.summary()
    return summary[summary["firm"] == scenario.firms[0].name].iloc[0].to_dict()


def focal_outcomes(tasks: Sequence[tuple[Scenario, int]], workers: int = 1, progress: bool = False,
                   label: str = "runs") -> pd.DataFrame:
    """The focal firm's summary of every (scenario, seed) run, one row per task, in task order."""
    payloads = [(scenario.model_dump(mode="json"), int(seed)) for scenario, seed in tasks]
    rows: dict[int, dict] = {}
    workers = max(1, min(workers, len(payloads)))
    with progress_bar(len(payloads), label, enabled=progress) as advance:
        if workers == 1:
            for i, (payload, seed) in enumerate(payloads):
                rows[i] = _focal_outcome(payload, seed)
                advance()
        else:
            with process_pool(workers) as pool:   # forkserver workers, relsim loaded (studies/pool.py)
                futures = {pool.submit(_focal_outcome, payload, seed): i
                           for i, (payload, seed) in enumerate(payloads)}
                for future in as_completed(futures):
                    rows[futures[future]] = future.result()
                    advance()
    return pd.DataFrame([rows[i] for i in range(len(payloads))])


def spawn_seeds(root: np.random.SeedSequence, count: int) -> list[int]:
    """``count`` integer run seeds from children of ``root`` (63 bits, like the experiments')."""
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in root.spawn(count)]
