"""Lever attribution: which of the levers that differ between two strategies made the difference?

Two strategies of the focal firm (say ``transactional`` and ``relationship``)
differ in many levers. The levers are grouped (``LEVER_GROUPS``: price and
promotions, acquisition spend, service desk, ...); a *coalition* is a set of
groups switched from the baseline's values to the strategy's, every other
lever staying at the baseline's. The outcome of a coalition is a run of the
focal firm with those levers, on the same seeds as every other coalition
(common random numbers). Two ways to split the total difference
``v(all groups) − v(no group)``:

* ``"oat"`` (one at a time, the default): each group switched alone from the
  baseline, ``v({g}) − v(∅)``, plus an *interaction* remainder so that the
  parts add up to the total. Cost: groups + 2 runs per seed.
* ``"shapley"``: the Shapley value of each group, the average of its marginal
  contribution over every order of switching; the parts add up to the total
  with no remainder. Exact over all 2^groups coalitions up to
  ``EXACT_MAX_GROUPS`` groups (each coalition run once per seed and reused);
  above that, ``permutations`` sampled orders (each order's contributions add
  up to the total too). Cost: up to 2^groups runs per seed.

The split is made seed by seed and averaged; the intervals are 95 %
Student-t intervals over seeds. The parts add up to the total on every seed,
so also on the mean.

>>> from relsim.studies.attribution import shapley_values
>>> value = {frozenset(): 0.0, frozenset({"a"}): 1.0, frozenset({"b"}): 0.0, frozenset({"a", "b"}): 3.0}
>>> shapley_values(["a", "b"], value.__getitem__)
{'a': 2.0, 'b': 1.0}
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from relsim.scenario.schema import Scenario
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.studies.compare import mean_interval
from relsim.studies.runs import focal_outcomes
from relsim.util.errors import RelsimError

#: Levers that act together, switched as one group (every lever of ``Strategy`` is in one group).
LEVER_GROUPS: dict[str, tuple[str, ...]] = {
    "Kotler level": ("level",),
    "price and promotions": ("price", "promotion_discount", "promotion_every_weeks"),
    "acquisition spend": ("acquisition_budget", "target_segments"),
    "service desk": ("service_capacity",),
    "loyalty programme": ("reward_rate",),
    "personalised and win-back offers": ("personalisation", "retention_offer"),
    "key accounts": ("key_account_share",),
    "alliances": ("join_alliances",),
    "supplier contract": ("supplier_contract",),
    "pruning": ("pruning", "pruning_min_margin"),
}
#: Outcomes attributed.
OUTCOMES: dict[str, str] = {"cumulative_discounted_profit": "profit", "annual_retention": "retention"}
#: Most groups for which exact Shapley values are computed (2^10 = 1,024 coalitions per seed).
EXACT_MAX_GROUPS = 10
INTERACTION = "interaction (remainder)"
Method = Literal["oat", "shapley"]
Coalition = frozenset[str]


class AttributionError(RelsimError):
    """An attribution that cannot run (one strategy, identical strategies, a bad method)."""


# -- the split, on any value function ------------------------------------------------------------
def shapley_values(groups: Sequence[str], value: Callable[[Coalition], float]) -> dict[str, float]:
    """Exact Shapley values of ``groups`` under ``value`` (called once per coalition, 2^n)."""
    n = len(groups)
    cache: dict[Coalition, float] = {}

    def v(coalition: Coalition) -> float:
        if coalition not in cache:
            cache[coalition] = float(value(coalition))
        return cache[coalition]

    result = {}
    for g in groups:
        others = [h for h in groups if h != g]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                coalition = frozenset(subset)
                total += weight * (v(coalition | {g}) - v(coalition))
        result[g] = total
    return result


def sampled_orders(groups: Sequence[str], permutations: int, rng: np.random.Generator) -> list[list[str]]:
    """``permutations`` random orders of ``groups`` (for sampled Shapley values)."""
    return [list(np.asarray(groups, dtype=object)[rng.permutation(len(groups))]) for _ in range(permutations)]


def sampled_shapley(orders: Sequence[Sequence[str]], value: Callable[[Coalition], float]) -> dict[str, float]:
    """Shapley values estimated over the given orders: each group's mean marginal contribution."""
    totals: dict[str, float] = {}
    for order in orders:
        coalition: Coalition = frozenset()
        for g in order:
            bigger = coalition | {g}
            totals[g] = totals.get(g, 0.0) + float(value(bigger)) - float(value(coalition))
            coalition = bigger
    return {g: total / len(orders) for g, total in totals.items()}


def one_at_a_time(groups: Sequence[str], value: Callable[[Coalition], float]) -> dict[str, float]:
    """Each group switched alone, plus the interaction remainder (the parts add up to the total)."""
    empty = float(value(frozenset()))
    parts = {g: float(value(frozenset({g}))) - empty for g in groups}
    parts[INTERACTION] = float(value(frozenset(groups))) - empty - sum(parts.values())
    return parts


def coalitions(groups: Sequence[str], method: Method, orders: Sequence[Sequence[str]] | None = None) -> list[Coalition]:
    """Every coalition a method evaluates (each is one run per seed)."""
    if method == "oat":
        found = [frozenset(), *(frozenset({g}) for g in groups), frozenset(groups)]
    elif orders is None:
        found = [frozenset(c) for size in range(len(groups) + 1) for c in itertools.combinations(groups, size)]
    else:
        found = [frozenset()]
        for order in orders:
            found += [frozenset(order[:k + 1]) for k in range(len(order))]
    return list(dict.fromkeys(found))


# -- levers of two strategies --------------------------------------------------------------------
def strategy_levers(scenario: Scenario, strategy: str) -> Strategy:
    """The focal firm's levers under ``strategy`` (a preset, or ``"current"``)."""
    return scenario.with_focal_strategy(strategy).firms[0].build_strategy()


def differing_groups(baseline: Strategy, other: Strategy) -> list[str]:
    """The lever groups in which two strategies differ, in ``LEVER_GROUPS`` order."""
    return [name for name, levers in LEVER_GROUPS.items()
            if any(getattr(baseline, lever) != getattr(other, lever) for lever in levers)]


def mixed(scenario: Scenario, baseline: Strategy, other: Strategy, coalition: Coalition) -> Scenario:
    """``scenario`` whose focal firm has the baseline's levers, with ``coalition``'s groups from ``other``."""
    levers: dict[str, Any] = baseline.model_dump()
    for name in coalition:
        for lever in LEVER_GROUPS[name]:
            levers[lever] = getattr(other, lever)
    levers["target_segments"] = list(levers["target_segments"])
    firms = list(scenario.firms)
    preset = firms[0].strategy if firms[0].strategy in PRESETS else "reactive"
    firms[0] = firms[0].model_copy(update={"strategy": preset, "levers": levers})
    candidate = scenario.model_copy(update={"firms": firms})
    return Scenario.model_validate(candidate.model_dump(mode="json"))


# -- the attribution -----------------------------------------------------------------------------
@dataclass
class Attribution:
    """The difference between two strategies split into lever groups.

    Attributes
    ----------
    strategy, baseline : str
    method : str
        ``"oat"`` or ``"shapley"`` (``exact`` says whether all coalitions were run).
    groups : list of str
        The lever groups that differ.
    seeds : list of int
    runs : DataFrame
        The focal firm's outcomes per (coalition, seed): ``coalition`` (groups joined by "+"),
        ``seed`` and the outcomes.
    per_seed : DataFrame
        ``metric``, ``seed``, ``part``, ``value``: the split on every seed.
    """

    strategy: str
    baseline: str
    method: Method
    exact: bool
    groups: list[str]
    seeds: list[int]
    runs: pd.DataFrame
    per_seed: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """Mean and 95 % interval over seeds of each part and of the total, per outcome."""
        rows = []
        for (metric, part), frame in self.per_seed.groupby(["metric", "part"], sort=False):
            mean, low, high = mean_interval(frame["value"].to_numpy(dtype=float))
            rows.append({"metric": metric, "part": part, "mean": mean, "ci_low": low, "ci_high": high})
        return pd.DataFrame(rows)

    def check_additivity(self, tolerance: float = 1e-6) -> float:
        """Largest |sum of parts − total| over seeds and outcomes (0 up to rounding)."""
        worst = 0.0
        for _, frame in self.per_seed.groupby(["metric", "seed"]):
            total = frame.loc[frame["part"] == "total", "value"].iloc[0]
            parts = frame.loc[frame["part"] != "total", "value"].sum()
            worst = max(worst, abs(parts - total) / max(1.0, abs(total)))
        return worst

    @property
    def runs_per_seed(self) -> int:
        return int(self.runs["coalition"].nunique())


def attribute(scenario: Scenario, baseline: str, strategy: str, seeds: Sequence[int], method: Method = "oat",
              permutations: int = 64, workers: int = 1, progress: bool = False,
              batch: int | None = None) -> Attribution:
    """Split the difference ``strategy − baseline`` into the lever groups that differ (module text).

    Each lever mix runs on all ``seeds``; ``batch`` seeds of a mix go to a worker together
    (:func:`relsim.studies.runs.focal_outcomes`; default automatic, 1 = one run per task).

    Raises
    ------
    AttributionError
        If the two strategies have the same levers, the method is unknown, or there are no seeds.
    """
    if method not in ("oat", "shapley"):
        raise AttributionError(f"unknown attribution method {method!r}; allowed: oat, shapley")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise AttributionError("attribution needs at least one seed")
    base_levers, other_levers = strategy_levers(scenario, baseline), strategy_levers(scenario, strategy)
    groups = differing_groups(base_levers, other_levers)
    if not groups:
        raise AttributionError(f"{strategy!r} and {baseline!r} have the same levers: nothing to attribute")
    exact = method == "oat" or len(groups) <= EXACT_MAX_GROUPS
    orders = None
    if method == "shapley" and not exact:
        orders = sampled_orders(groups, permutations, np.random.default_rng(np.random.SeedSequence(seeds[0])))
    needed = coalitions(groups, method, orders)
    tasks = [(mixed(scenario, base_levers, other_levers, c), seed) for c in needed for seed in seeds]
    outcomes = focal_outcomes(tasks, workers=workers, progress=progress, batch=batch,
                              label=f"attribution ({method}): {len(needed)} lever mixes × {len(seeds)} seeds")
    names = ["+".join(g for g in groups if g in c) or "(baseline)" for c in needed]
    outcomes.insert(0, "seed", [seed for _ in needed for seed in seeds])
    outcomes.insert(0, "coalition", [name for name in names for _ in seeds])
    index = {(c, seed): i for i, (c, seed) in enumerate((c, seed) for c in needed for seed in seeds)}
    rows = []
    for metric in OUTCOMES:
        values = outcomes[metric].to_numpy(dtype=float)
        for seed in seeds:
            def value(coalition: Coalition, seed: int = seed, values: np.ndarray = values) -> float:
                return float(values[index[(coalition, seed)]])
            if method == "oat":
                parts = one_at_a_time(groups, value)
            elif orders is None:
                parts = shapley_values(groups, value)
            else:
                parts = sampled_shapley(orders, value)
            total = value(frozenset(groups)) - value(frozenset())
            rows += [{"metric": metric, "seed": seed, "part": part, "value": v} for part, v in parts.items()]
            rows.append({"metric": metric, "seed": seed, "part": "total", "value": total})
    return Attribution(strategy, baseline, method, exact, groups, seeds, outcomes, pd.DataFrame(rows))


def runs_needed(scenario: Scenario, baseline: str, strategy: str, method: Method) -> int:
    """Runs per seed an attribution will make (for the cost announced before it starts)."""
    groups = differing_groups(strategy_levers(scenario, baseline), strategy_levers(scenario, strategy))
    if method == "oat":
        return len(groups) + 2 if groups else 0
    return 2 ** len(groups) if len(groups) <= EXACT_MAX_GROUPS else 64 * len(groups) + 1
