"""Compare strategies of the focal firm over common random numbers.

Every strategy runs on the same seeds: a seed fixes the population, the
network and the weekly needs, so the difference between two strategies on one
seed is mostly the strategy's doing (common random numbers), and paired
differences have much tighter intervals than the two means apart.

>>> from relsim import load_scenario
>>> from relsim.studies.compare import compare
>>> comparison = compare(load_scenario("ecommerce"), ["transactional", "relationship"], seeds=20)  # doctest: +SKIP
>>> comparison.table()            # doctest: +SKIP
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from relsim.market.resources import estimate
from relsim.market.runner import RunResult
from relsim.scenario.schema import Scenario
from relsim.studies.batches import batch_size, batches, run_seeds
from relsim.studies.pool import process_pool
from relsim.util.progress import progress_bar

#: Headline metrics of the focal firm shown in comparison tables.
HEADLINES: dict[str, str] = {
    "annual_retention": "Annual retention (last year)",
    "cumulative_discounted_profit": "Cumulative discounted profit",
    "revenue": "Revenue (total)",
    "customers_end": "Customers at the end",
    "new_customers": "New customers (total)",
    "wom_share_of_new": "Share of new customers from word of mouth",
    "referral_share_of_orders": "Share of orders from customers won by word of mouth",
    "nps": "NPS (last year)",
    "mean_trust": "Mean trust (last year)",
    "mean_commitment": "Mean commitment (last year)",
    "market_share": "Market share (last year)",
}


def _runs(scenario_data: dict, strategy: str, seeds: list[int]) -> list[dict[str, pd.DataFrame]]:
    """Worker: run ``strategy`` on a batch of seeds (together on the array engine,
    :func:`relsim.studies.batches.run_seeds`) and return each run's tables, in the order of ``seeds``."""
    scenario = Scenario.model_validate(scenario_data).with_focal_strategy(strategy)
    return [_tagged(scenario, strategy, seed, result)
            for seed, result in zip(seeds, run_seeds(scenario, seeds), strict=True)]


def _tagged(scenario: Scenario, strategy: str, seed: int, result: RunResult) -> dict[str, pd.DataFrame]:
    """One run's tables tagged with its strategy and seed (no per-customer rows)."""
    tagged = {}
    for name, table in (("steps", result.steps), ("cohorts", result.cohorts),
                        ("summary", result.summary())):
        table = table.copy()
        table.insert(0, "seed", seed)
        table.insert(0, "run_strategy", strategy)
        tagged[name] = table
    customers = result.customers
    focal = customers[customers["firm"] == scenario.firms[0].name]
    ltv = (focal.assign(seed=seed, run_strategy=strategy)
           .groupby(["run_strategy", "seed", "source"], as_index=False)
           .agg(customers=("ltv", "size"), mean_ltv=("ltv", "mean")))
    tagged["ltv"] = ltv
    return tagged


@dataclass
class Comparison:
    """Results of running several strategies of the focal firm over the same seeds.

    Attributes
    ----------
    scenario : Scenario
    strategies : list of str
    seeds : list of int
    steps, cohorts, summaries, ltv : DataFrame
        Concatenated over runs, with ``run_strategy`` and ``seed`` columns.
    batch : int
        Seeds of one strategy run together per worker task (1: one run at a time).
    """

    scenario: Scenario
    strategies: list[str]
    seeds: list[int]
    steps: pd.DataFrame
    cohorts: pd.DataFrame
    summaries: pd.DataFrame
    ltv: pd.DataFrame
    batch: int = 1
    focal: str = field(init=False)

    def __post_init__(self) -> None:
        self.focal = self.scenario.firms[0].name

    def focal_summaries(self) -> pd.DataFrame:
        """End-of-run summary of the focal firm, one row per run."""
        return self.summaries[self.summaries["firm"] == self.focal]

    def table(self, metrics: Sequence[str] = tuple(HEADLINES)) -> pd.DataFrame:
        """Mean and 95 % t-interval of each metric per strategy (focal firm)."""
        rows = []
        focal = self.focal_summaries()
        for strategy in self.strategies:
            runs = focal[focal["run_strategy"] == strategy]
            for metric in metrics:
                mean, low, high = mean_interval(runs[metric].to_numpy(dtype=float))
                rows.append({"strategy": strategy, "metric": metric, "mean": mean,
                             "ci_low": low, "ci_high": high, "runs": len(runs)})
        return pd.DataFrame(rows)

    def differences(self, baseline: str | None = None,
                    metrics: Sequence[str] = tuple(HEADLINES)) -> pd.DataFrame:
        """Paired differences (strategy − baseline) per seed: mean and 95 % interval."""
        baseline = baseline or self.strategies[0]
        focal = self.focal_summaries().set_index(["run_strategy", "seed"])
        rows = []
        for strategy in self.strategies:
            if strategy == baseline:
                continue
            for metric in metrics:
                paired = (focal.loc[strategy, metric] - focal.loc[baseline, metric]).to_numpy(dtype=float)
                mean, low, high = mean_interval(paired)
                rows.append({"strategy": strategy, "baseline": baseline, "metric": metric,
                             "difference": mean, "ci_low": low, "ci_high": high,
                             "significant": bool(low > 0 or high < 0)})
        return pd.DataFrame(rows)

    def profit_bridge(self, baseline: str | None = None) -> pd.DataFrame:
        """Mean paired difference of revenue and of each cost line (strategy − baseline)."""
        from relsim.market.metrics import COST_LINES
        return self.differences(baseline, metrics=("revenue", *COST_LINES, "profit"))


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval of ``values`` (NaN dropped)."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(values.mean())
    if values.size < 2:
        return (mean, np.nan, np.nan)
    half = _t_quantile(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return (mean, mean - half, mean + half)


@functools.lru_cache(maxsize=256)
def _t_quantile(probability: float, df: int) -> float:
    """Student's t quantile, worked out once per (probability, df): a report asks for the same few
    hundreds of times. SciPy is imported here, not with the module, so that the studies' workers
    (which import this module to run) do not load ``scipy.stats`` (≈ 0.5 s of their start)."""
    from scipy import stats

    return float(stats.t.ppf(probability, df))


def compare(scenario: Scenario, strategies: Sequence[str], seeds: int | Sequence[int] = 20,
            workers: int | None = None, progress: bool = False, batch: int | None = None) -> Comparison:
    """Run every strategy of the focal firm on the same seeds.

    Parameters
    ----------
    scenario : Scenario
    strategies : sequence of str
        Preset names, or ``"current"`` for the scenario's own strategy.
    seeds : int or sequence of int
        Number of seeds (``0 … n−1``) or the seeds themselves.
    workers : int, optional
        Worker processes; default all cores. 1 runs in this process.
    progress : bool
        Show a progress bar (runs done, time left).
    batch : int, optional
        Seeds of one strategy per worker task, run together on the array engine
        (:mod:`relsim.studies.batches`); default automatic, 1 = one run per task. The
        tables are the same whatever the batch.

    Returns
    -------
    Comparison
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    strategies = list(strategies)
    for strategy in strategies:           # fail fast on a bad name, before any run
        scenario.with_focal_strategy(strategy)
    tasks = [(strategy, seed) for seed in seed_list for strategy in strategies]
    workers = workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(tasks)))
    size = batch_size(len(tasks), workers, scenario.market.engine, estimate(scenario)[0], batch, len(seed_list))
    work = [(strategy, seeds) for seeds in batches(seed_list, size) for strategy in strategies]
    payload = scenario.model_dump(mode="json")
    outputs: dict[tuple[str, int], dict[str, pd.DataFrame]] = {}
    with progress_bar(len(tasks), f"{len(strategies)} strategies × {len(seed_list)} seeds",
                      enabled=progress) as advance:
        def collect(strategy: str, seeds: list[int], tables: list[dict[str, pd.DataFrame]]) -> None:
            for seed, tagged in zip(seeds, tables, strict=True):
                outputs[(strategy, seed)] = tagged
                advance()

        if workers == 1:
            for strategy, seeds in work:
                collect(strategy, seeds, _runs(payload, strategy, seeds))
        else:
            with process_pool(workers) as pool:   # forkserver workers, relsim loaded (studies/pool.py)
                futures = {pool.submit(_runs, payload, strategy, seeds): (strategy, seeds)
                           for strategy, seeds in work}
                for future in as_completed(futures):
                    collect(*futures[future], future.result())
    ordered = [outputs[task] for task in tasks]   # completion order never matters
    tables = {name: pd.concat([o[name] for o in ordered], ignore_index=True)
              for name in ("steps", "cohorts", "summary", "ltv")}
    return Comparison(scenario, strategies, seed_list, tables["steps"], tables["cohorts"],
                      tables["summary"], tables["ltv"], batch=size)
