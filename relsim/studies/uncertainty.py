"""Parameter uncertainty of a comparison: does the verdict survive the constants nobody measured?

A comparison's intervals cover seed noise only. ``parameter_uncertainty``
draws ``sets`` parameter sets by Latin hypercube over the plausible range of
every behavioural and market-response constant (:mod:`relsim.scenario.ranges`, the ranges of
docs/evidence.md), runs every strategy on each set with common random numbers
(the same seed for every strategy within a set, a fresh seed per set), and
summarises, per non-baseline strategy and headline outcome:

* **wins**: in how many sets the strategy beats the baseline, with a 95 %
  Clopper–Pearson interval for the share of plausible worlds in which it wins;
* **distribution** of the paired difference over the sets (mean, quantiles);
* **drivers**: which constants the difference depends on most — Spearman rank
  correlation of each constant with the difference, with a Holm-adjusted
  p-value over all constants (with few sets and many constants, only strong
  dependencies stand out from chance; the report says so).

Randomness: one root ``SeedSequence(seed)`` spawns two children, one for the
Latin hypercube (a ``numpy`` Generator) and one whose children give each set's
run seed; each run then builds its own Generator tree from that seed. Same
``seed``, ``sets`` and scenario give the same sets, runs and tables whatever
the worker count.

>>> from relsim import load_scenario
>>> from relsim.studies.uncertainty import parameter_uncertainty
>>> u = parameter_uncertainty(load_scenario("ecommerce").resized(300), ["transactional", "relationship"],
...                           sets=8)   # doctest: +SKIP
>>> u.wins()                            # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from relsim.scenario.ranges import Kind, Range, ranges_for, with_values
from relsim.scenario.schema import Scenario
from relsim.studies.runs import focal_outcomes, spawn_seeds
from relsim.util.errors import RelsimError

#: Outcomes judged: the two verdicts of the report.
OUTCOMES: dict[str, str] = {"cumulative_discounted_profit": "profit", "annual_retention": "retention"}
#: Most parameter sets (each is one run per strategy).
MAX_SETS = 10_000


class UncertaintyError(RelsimError):
    """A parameter-uncertainty request that cannot run (too many sets, no constants)."""


def latin_hypercube(ranges: Sequence[Range], sets: int, rng: np.random.Generator) -> pd.DataFrame:
    """``sets`` points of a Latin hypercube over ``ranges`` (one column per constant)."""
    unit = qmc.LatinHypercube(d=len(ranges), rng=rng).random(sets)
    columns = {}
    for j, row in enumerate(ranges):
        values = row.low + unit[:, j] * (row.high - row.low)
        columns[row.path] = np.round(values) if row.integer else values
    return pd.DataFrame(columns)


@dataclass
class Uncertainty:
    """Every strategy run on Latin-hypercube parameter sets (see the module text).

    Attributes
    ----------
    scenario : Scenario
    strategies : list of str
        The first is the baseline.
    ranges : list of Range
        The constants varied and their ranges.
    sets : DataFrame
        One row per set: ``set``, ``seed`` and one column per constant.
    runs : DataFrame
        The focal firm's summary per (set, strategy): ``set``, ``seed``, ``run_strategy``, outcomes.
    seed : int
        Root of the SeedSequence.
    """

    scenario: Scenario
    strategies: list[str]
    ranges: list[Range]
    sets: pd.DataFrame
    runs: pd.DataFrame
    seed: int

    @property
    def baseline(self) -> str:
        return self.strategies[0]

    def differences(self) -> pd.DataFrame:
        """Paired difference (strategy − baseline) per set and outcome, with the set's constants."""
        runs = self.runs.set_index(["run_strategy", "set"])
        frames = []
        for strategy in self.strategies[1:]:
            frame = self.sets.copy()
            frame.insert(0, "strategy", strategy)
            for metric in OUTCOMES:
                frame[metric] = (runs.loc[strategy, metric] - runs.loc[self.baseline, metric]).to_numpy(dtype=float)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def wins(self, level: float = 0.95) -> pd.DataFrame:
        """Sets won by each strategy over the baseline per outcome, with a Clopper–Pearson interval."""
        rows = []
        for (strategy, metric), values in self._by_outcome():
            values = values[~np.isnan(values)]
            n, won, lost = int(values.size), int((values > 0).sum()), int((values < 0).sum())
            if n:
                interval = stats.binomtest(won, n).proportion_ci(confidence_level=level, method="exact")
                low, high = float(interval.low), float(interval.high)
            else:
                low = high = np.nan
            rows.append({"strategy": strategy, "baseline": self.baseline, "metric": metric, "sets": n,
                         "wins": won, "losses": lost, "ties": n - won - lost,
                         "win_share": won / n if n else np.nan, "ci_low": low, "ci_high": high})
        return pd.DataFrame(rows)

    def distribution(self) -> pd.DataFrame:
        """The difference over the sets: mean, standard deviation and quantiles per outcome."""
        rows = []
        for (strategy, metric), values in self._by_outcome():
            values = values[~np.isnan(values)]
            quantiles = np.quantile(values, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]) if values.size else [np.nan] * 7
            mean = float(np.mean(values)) if values.size else np.nan
            rows.append({"strategy": strategy, "metric": metric, "mean": mean,
                         "sd": float(np.std(values, ddof=1)) if values.size > 1 else np.nan,
                         **dict(zip(("min", "p05", "p25", "median", "p75", "p95", "max"),
                                    map(float, quantiles), strict=True))})
        return pd.DataFrame(rows)

    def drivers(self) -> pd.DataFrame:
        """Spearman rank correlation of every constant with each difference, strongest first.

        ``p_holm`` is the Holm-adjusted p-value over all constants of one
        (strategy, outcome); ``decides`` marks the constants below 0.05.
        """
        differences = self.differences()
        rows = []
        for strategy in self.strategies[1:]:
            mine = differences[differences["strategy"] == strategy]
            for metric in OUTCOMES:
                target = mine[metric].to_numpy(dtype=float)
                part = []
                for row in self.ranges:
                    x = mine[row.path].to_numpy(dtype=float)
                    keep = ~np.isnan(target)
                    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(target[keep]) == 0:
                        rho, p = np.nan, np.nan
                    else:
                        rho, p = stats.spearmanr(x[keep], target[keep])
                        # the t-approximation gives p = 0 for a perfect ρ; no ranking of n sets is
                        # rarer than 2/n! (the exact two-sided permutation bound)
                        p = max(float(p), 2.0 / math.factorial(int(keep.sum())))
                    part.append({"strategy": strategy, "metric": metric, "constant": row.path,
                                 "basis": row.basis, "low": row.low, "high": row.high,
                                 "rho": float(rho), "p": float(p)})
                frame = pd.DataFrame(part)
                frame["p_holm"] = _holm(frame["p"].to_numpy(dtype=float))
                frame["decides"] = frame["p_holm"] < 0.05
                rows.append(frame.reindex(frame["rho"].abs().sort_values(ascending=False).index))
        return pd.concat(rows, ignore_index=True)

    def chance_rho(self) -> float:
        """|ρ| a single constant exceeds by chance with probability 5 % at this many sets."""
        n = len(self.sets)
        if n < 4:
            return np.nan
        t = stats.t.ppf(0.975, n - 2)
        return float(t / np.sqrt(n - 2 + t * t))

    def _by_outcome(self):
        differences = self.differences()
        for strategy in self.strategies[1:]:
            mine = differences[differences["strategy"] == strategy]
            for metric in OUTCOMES:
                yield (strategy, metric), mine[metric].to_numpy(dtype=float)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (NaN stays NaN, counts only the finite ones)."""
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    order = finite[np.argsort(p[finite])]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return out


def parameter_uncertainty(scenario: Scenario, strategies: Sequence[str], sets: int, seed: int = 0,
                          workers: int = 1, progress: bool = False,
                          kinds: tuple[Kind, ...] = ("constant",),
                          meanwhile: Callable[[], None] | None = None) -> Uncertainty:
    """Run every strategy on ``sets`` Latin-hypercube parameter sets (see the module text).

    Parameters
    ----------
    scenario : Scenario
    strategies : sequence of str
        Preset names or ``"current"``; the first is the baseline (at least two).
    sets : int
        Parameter sets (each costs one run per strategy).
    seed : int
        Root of the SeedSequence of the sample and of the runs.
    workers : int
        Processes (1: in this process).
    kinds : tuple
        Which rows of :data:`relsim.scenario.ranges.PLAUSIBLE` vary: behavioural
        ``"constant"`` (default) and/or ``"scenario"`` (costs, operations).
    meanwhile : callable, optional
        Called once in this process while the workers run
        (:func:`relsim.studies.runs.focal_outcomes`).

    Raises
    ------
    UncertaintyError
        Fewer than two strategies, fewer than 2 or more than MAX_SETS sets.
    """
    strategies = list(strategies)
    if len(strategies) < 2:
        raise UncertaintyError("parameter uncertainty needs two strategies or more (a baseline and another)")
    if not 2 <= sets <= MAX_SETS:
        raise UncertaintyError(f"parameter uncertainty needs 2 to {MAX_SETS:,} parameter sets, got {sets}")
    for strategy in strategies:          # fail fast on a bad name, before any run
        scenario.with_focal_strategy(strategy)
    ranges = [r for r in ranges_for(scenario, kinds) if r.high > r.low]
    if not ranges:
        raise UncertaintyError("no constant with a plausible range to vary")
    design_root, runs_root = np.random.SeedSequence(seed).spawn(2)
    draws = latin_hypercube(ranges, sets, np.random.default_rng(design_root))
    draws.insert(0, "seed", spawn_seeds(runs_root, sets))
    draws.insert(0, "set", np.arange(sets))
    tasks, keys = [], []
    for record in draws.to_dict("records"):
        number, run_seed = int(record["set"]), int(record["seed"])
        varied = with_values(scenario, {r.path: record[r.path] for r in ranges},
                             source=f"parameter set {number}")
        for strategy in strategies:
            tasks.append((varied.with_focal_strategy(strategy), run_seed))
            keys.append((number, run_seed, strategy))
    outcomes = focal_outcomes(tasks, workers=workers, progress=progress,
                              label=f"uncertainty: {sets} parameter sets × {len(strategies)} strategies",
                              meanwhile=meanwhile)
    outcomes.insert(0, "run_strategy", [k[2] for k in keys])
    outcomes.insert(0, "seed", [k[1] for k in keys])
    outcomes.insert(0, "set", [k[0] for k in keys])
    return Uncertainty(scenario, strategies, ranges, draws, outcomes, seed)
