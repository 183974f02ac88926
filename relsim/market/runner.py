"""Run one simulation and keep its tables.

>>> from relsim import load_scenario, simulate
>>> result = simulate(load_scenario("ecommerce", **{"market.customers": 300,
...                                                 "market.weeks": 8}), seed=1)
>>> sorted(result.steps["firm"].unique())[:1]
['Competitor A']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from relsim.market.finite import check_steps, check_summary
from relsim.market.metrics import summarize
from relsim.market.model import MarketModel
from relsim.scenario.schema import Scenario, load_scenario
from relsim.util.outputs import atomic_write_table


@dataclass
class RunResult:
    """The tables of one run.

    Attributes
    ----------
    scenario : Scenario
    seed : int
    steps : DataFrame
        Per week and firm.
    customers : DataFrame
        Per customer and firm at the end.
    cohorts : DataFrame
        Retention by 13-week acquisition cohort and age.
    snapshots : DataFrame
        Per-customer tables at ``market.snapshot_weeks`` (empty if none asked).
    """

    scenario: Scenario
    seed: int
    steps: pd.DataFrame
    customers: pd.DataFrame
    cohorts: pd.DataFrame
    snapshots: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: ``summarize(steps)`` as :func:`simulate` computed it for its finite check (else computed on demand)
    summarized: pd.DataFrame | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """End-of-run headline numbers per firm (see :func:`relsim.market.metrics.summarize`): a fresh
        copy each call, so a caller may add columns to it."""
        if self.summarized is None:
            self.summarized = summarize(self.steps)
        return self.summarized.copy()

    def save(self, directory: str | Path, formats: tuple[str, ...] = ("parquet", "csv")) -> list[Path]:
        """Write every table as Parquet and/or CSV into ``directory``.

        Each file is written under a temporary name and renamed into place,
        so an interrupted run never leaves a truncated table.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        tables = [("steps", self.steps), ("customers", self.customers), ("cohorts", self.cohorts)]
        if not self.snapshots.empty:
            tables.append(("snapshots", self.snapshots))
        for name, table in tables:
            for fmt in formats:
                target = directory / f"{name}.{fmt}"
                written.append(atomic_write_table(table, target, fmt))
        return written


def simulate(scenario: Scenario, seed: int = 0,
             progress: Callable[[], None] | None = None) -> RunResult:
    """Run ``scenario`` once with ``seed`` and return its tables.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`relsim.load_scenario`).
    seed : int
        Root of the run's random streams; same scenario and seed give
        identical tables in any process.
    progress : callable, optional
        Called once per simulated step.

    Returns
    -------
    RunResult
    """
    model = MarketModel(scenario, seed=seed)
    model.run(progress)
    return result_of(model)


def result_of(model: MarketModel) -> RunResult:
    """The tables of a model that has run to its end, checked for NaN and infinity."""
    scenario, seed = model.spec, model.seed
    recorder = model.recorder
    steps = recorder.steps_table()
    # no NaN or infinity leaves a run (issue 14): the week, firm and quantity are named
    check_steps(steps, f"the run of {scenario.name!r} (seed {seed})")
    summary = summarize(steps)
    check_summary(summary, f"the run of {scenario.name!r} (seed {seed})")
    return RunResult(scenario, seed, steps, recorder.customers_table(),
                     recorder.cohorts_table(), recorder.snapshots_table(), summary)


#: Scenarios whose small runs call every compiled kernel (``compile_kernels``).
WARM_SCENARIOS = ("ecommerce", "b2b", "services")


def compile_kernels(report: Callable[[str], None] | None = None) -> None:
    """Call every compiled kernel once, so that numba compiles it and keeps it in its cache.

    Numba compiles a kernel at its first call and caches the machine code on disk
    (``relsim.market.jit``); a fresh install therefore pays the compile time (tens of
    seconds of CPU, benchmarks/README.md) at the first step of its first run, and each
    worker process of a first sweep pays it again. ``scripts/setup.sh`` calls this once
    after installing (and again when the code has changed), so that no user waits for it
    later. A few small runs, on the array engine, of scenarios that between them reach
    every kernel (word of mouth, the compiled desk, churn after failure, contracts).
    """
    for name in WARM_SCENARIOS:
        if report is not None:
            report(name)
        simulate(load_scenario(name, **{"market.weeks": 12, "market.engine": "arrays"}).resized(400), seed=0)
