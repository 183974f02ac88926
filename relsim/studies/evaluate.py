"""``evaluate(policy, scenario, seeds)``: the outcomes of one policy of the focal firm, per seed.

Everything that searches, compares or explores policies is built on this one
pure function: same policy, scenario and seeds, same table, in any process
(it is picklable, and so are its arguments).

A *policy* is a mapping of the focal firm's levers (the fields of
:class:`relsim.Strategy`: ``price``, ``acquisition_budget``, ``reward_rate``,
``service_capacity``, ``personalisation``, ``level``, ...). The levers are
laid over the focal firm's strategy in the scenario; the key ``"strategy"``
names a preset to start from instead (``{"strategy": "relationship",
"price": 1.1}``; ``{"strategy": "relationship"}`` alone is the preset).

The *outcomes* are one row per seed, the focal firm's end-of-run numbers
(:data:`OUTCOMES`): ``profit`` (cumulative discounted profit over the
horizon), ``retention`` (annual retention over the last year), ``share``
(market share of revenue over the last year), and more. Every policy
evaluated on the same seeds meets the same customers, network and needs
(common random numbers), so differences between policies are paired.

>>> from relsim import evaluate, load_scenario
>>> scenario = load_scenario("ecommerce", **{"market.weeks": 26}).resized(300)
>>> outcomes = evaluate({"price": 1.1, "reward_rate": 0.02}, scenario, seeds=[0, 1])   # doctest: +SKIP
>>> list(outcomes.columns[:4])                                                          # doctest: +SKIP
['seed', 'profit', 'retention', 'share']

Adapters
--------
*Optuna*: :func:`relsim.studies.optimize.optuna_objective` turns a lever
space and seeds into an objective ``trial -> float`` (or a tuple for several
objectives); ``relsim optimize`` runs it with a resumable SQLite study.

*EMA workbench*: :func:`ema_model` returns an ``ema_workbench.Model`` whose
levers are the lever space's and whose outcomes are the means over seeds::

    from ema_workbench import SequentialEvaluator
    from relsim.studies.evaluate import ema_model
    from relsim.studies.optimize import parse_levers
    model = ema_model(scenario, parse_levers(["price=0.8:1.4", "reward_rate=0:0.1"]), seeds=[0, 1, 2],
                      uncertainties={"segments.0.price_sensitivity": (4.0, 8.0)})
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=4, policies=8)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.scenario.errors import ScenarioError
from relsim.scenario.schema import Scenario, _describe, from_dict, load_scenario
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.studies.pool import process_pool
from relsim.util.errors import RelsimError

#: Outcomes of :func:`evaluate` (short name -> column of the focal firm's run summary), all "more is better"
#: except where :data:`LOWER_IS_BETTER` says otherwise.
OUTCOMES: dict[str, str] = {
    "profit": "cumulative_discounted_profit",
    "retention": "annual_retention",
    "share": "market_share",
    "revenue": "revenue",
    "customers": "customers_end",
    "new_customers": "new_customers",
    "nps": "nps",
    "trust": "mean_trust",
    "commitment": "mean_commitment",
    "wom_share": "wom_share_of_new",
}
#: What each outcome means (reports and ``--help``).
OUTCOME_MEANINGS: dict[str, str] = {
    "profit": "cumulative discounted profit of the focal firm over the horizon (currency)",
    "retention": "annual retention of the focal firm's customers over the last year (0-1)",
    "share": "market share of revenue over the last year (0-1)",
    "revenue": "total revenue over the horizon (currency)",
    "customers": "customers of the focal firm at the end",
    "new_customers": "customers won over the horizon",
    "nps": "net promoter score over the last year (-1 to 1)",
    "trust": "mean trust of the focal firm's customers over the last year (0-1)",
    "commitment": "mean commitment of the focal firm's customers over the last year (0-1)",
    "wom_share": "share of new customers won by word of mouth (0-1)",
}
LOWER_IS_BETTER: frozenset[str] = frozenset()
#: Outcomes that are shares (0-1), shown in % by reports.
SHARE_OUTCOMES = ("retention", "share", "wom_share")


class PolicyError(RelsimError):
    """A policy names an unknown lever, preset, or a value the lever does not allow."""


def check_policy(policy: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The policy as a plain dict, checked against :class:`Strategy` (laid over ``base`` levers).

    >>> check_policy({"price": 1.1})
    {'price': 1.1}
    >>> check_policy({"prise": 1.1})
    Traceback (most recent call last):
    ...
    relsim.studies.evaluate.PolicyError: policy: unknown lever 'prise'; levers: level, acquisition_budget, ...
    """
    policy = dict(policy)
    levers = list(Strategy.model_fields)
    for name in policy:
        if name != "strategy" and name not in levers:
            raise PolicyError(f"policy: unknown lever {name!r}; levers: {', '.join(levers)}, "
                              "and 'strategy' (a preset to start from)")
    strategy = policy.get("strategy")
    if strategy is not None and strategy not in PRESETS:
        raise PolicyError(f"policy: strategy = {strategy!r}: unknown preset; allowed: {', '.join(PRESETS)}")
    start = dict(PRESETS[strategy]) if strategy is not None else dict(base or {})
    try:
        Strategy(**{**start, **{k: v for k, v in policy.items() if k != "strategy"}})
    except Exception as error:   # pydantic's ValidationError
        errors = getattr(error, "errors", None)
        lines = [_describe(e) for e in errors()] if callable(errors) else [str(error)]
        raise PolicyError("policy: " + "; ".join(lines)) from None
    return policy


def apply_policy(scenario: Scenario, policy: Mapping[str, Any]) -> Scenario:
    """``scenario`` with the focal (first) firm's levers set by ``policy`` (validated again)."""
    focal = scenario.firms[0]
    policy = check_policy(policy, {**PRESETS[focal.strategy], **focal.levers})
    data = scenario.model_dump()
    firm = data["firms"][0]
    levers = {k: v for k, v in policy.items() if k != "strategy"}
    if "strategy" in policy:
        firm["strategy"], firm["levers"] = policy["strategy"], levers
    else:
        firm["levers"] = {**firm["levers"], **levers}
    try:
        return from_dict(data, source=f"{scenario.name} with policy {policy}")
    except ScenarioError as error:
        raise PolicyError(str(error)) from None


def resolve(scenario: Scenario | str | Path) -> Scenario:
    """A scenario object, or a scenario file or shipped name loaded."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise PolicyError("seeds: give at least one seed")
    return seed_list


def outcome_row(scenario: Scenario, seed: int) -> dict[str, Any]:
    """Worker: run ``scenario`` once with ``seed``; the focal firm's outcomes and the seconds taken."""
    from relsim.market.runner import simulate
    started = time.perf_counter()
    summary = simulate(scenario, seed=seed).summary()
    focal = summary[summary["firm"] == scenario.firms[0].name].iloc[0]
    row: dict[str, Any] = {"seed": seed}
    for name, column in OUTCOMES.items():
        row[name] = float(focal[column])
    row["seconds"] = time.perf_counter() - started
    return row


def evaluate(policy: Mapping[str, Any] | None, scenario: Scenario | str | Path,
             seeds: int | Sequence[int] = 5, *, workers: int | None = 1,
             executor: Executor | None = None) -> pd.DataFrame:
    """Outcomes of ``policy`` for the focal firm of ``scenario``, one row per seed.

    Parameters
    ----------
    policy : mapping or None
        Focal-firm levers (fields of :class:`relsim.Strategy`), optionally with
        ``"strategy"``: a preset to start from. None or ``{}``: the scenario as it is.
    scenario : Scenario, or str or Path
        A scenario, a scenario file or the name of a shipped one.
    seeds : int or sequence of int
        Number of seeds (``0 … n−1``) or the seeds themselves. The same seeds for
        two policies give paired (common random numbers) outcomes.
    workers : int, optional
        Processes to run the seeds in (1, the default: this process).
    executor : concurrent.futures.Executor, optional
        A pool to run the seeds in (shared by many calls); overrides ``workers``.

    Returns
    -------
    DataFrame
        Columns ``seed``, then :data:`OUTCOMES` (``profit``, ``retention``, ``share``,
        ...), then ``seconds`` (wall time of the run).

    Raises
    ------
    PolicyError
        An unknown lever or preset, or a value a lever does not allow.
    """
    chosen = apply_policy(resolve(scenario), policy or {})
    seed_list = _seed_list(seeds)
    if executor is not None:
        rows = list(executor.map(outcome_row, [chosen] * len(seed_list), seed_list))
    elif (workers or 1) > 1 and len(seed_list) > 1:
        with process_pool(min(int(workers or 1), len(seed_list))) as pool:
            rows = list(pool.map(outcome_row, [chosen] * len(seed_list), seed_list))
    else:
        rows = [outcome_row(chosen, seed) for seed in seed_list]
    return pd.DataFrame(rows, columns=["seed", *OUTCOMES, "seconds"])


class EmaFunction:
    """The picklable function an EMA workbench model calls: levers (and uncertain scenario fields) in,
    mean outcomes over the seeds out."""

    def __init__(self, scenario: Scenario, seeds: Sequence[int], outcomes: Sequence[str],
                 base: Mapping[str, Any] | None = None, uncertain: Mapping[str, str] | None = None) -> None:
        self.scenario, self.seeds, self.outcomes = scenario, list(seeds), list(outcomes)
        self.base = dict(base or {})
        self.uncertain = dict(uncertain or {})    # EMA parameter name -> dotted scenario path

    def __call__(self, **values: Any) -> dict[str, float]:
        scenario = self.scenario
        changes = {self.uncertain[k]: _plain(v) for k, v in values.items() if k in self.uncertain}
        if changes:
            from relsim.scenario.schema import set_dotted
            data = scenario.model_dump()
            for path, value in changes.items():
                set_dotted(data, path, value)
            scenario = from_dict(data, source=f"{scenario.name} with {changes}")
        policy = {**self.base, **{k: _plain(v) for k, v in values.items() if k not in self.uncertain}}
        table = evaluate(policy, scenario, self.seeds)
        return {name: float(table[name].mean()) for name in self.outcomes}


def _plain(value: Any) -> Any:
    """numpy scalars (what samplers hand out) as Python numbers."""
    return value.item() if hasattr(value, "item") else value


def ema_model(scenario: Scenario | str | Path, space: Any,   # a relsim.studies.optimize.LeverSpace
              seeds: int | Sequence[int] = 5,
              outcomes: Sequence[str] = ("profit", "retention"), name: str = "relsim",
              base: Mapping[str, Any] | None = None,
              uncertainties: Mapping[str, tuple[float, float]] | None = None):
    """An ``ema_workbench.Model`` of ``scenario``: the space's levers, the mean outcomes over ``seeds``.

    ``uncertainties`` maps dotted scenario paths to ranges (e.g.
    ``{"segments.0.price_sensitivity": (4.0, 8.0)}``); EMA samples them as
    scenarios (its parameter names are the paths with ``.`` as ``__``).
    Needs the ``ema`` extra (``pip install ema-workbench``); ema-workbench
    3.0.0 fails in its progress callback on a model without uncertainties,
    so give at least one. Every policy EMA samples runs on the same seeds
    (common random numbers).
    """
    try:
        from ema_workbench import (
            CategoricalParameter,
            IntegerParameter,
            Model,
            RealParameter,
            ScalarOutcome,
        )
    except ImportError:
        raise PolicyError("the EMA workbench adapter needs ema-workbench: pip install ema-workbench") from None
    unknown = [o for o in outcomes if o not in OUTCOMES]
    if unknown:
        raise PolicyError(f"outcome {unknown[0]!r} is unknown; allowed: {', '.join(OUTCOMES)}")
    chosen = resolve(scenario)
    uncertain = {path.replace(".", "__"): path for path in (uncertainties or {})}
    model = Model(name, function=EmaFunction(chosen, _seed_list(seeds), outcomes, base, uncertain))
    model.uncertainties = [RealParameter(key, float(low), float(high))
                           for key, (low, high) in zip(uncertain, (uncertainties or {}).values(), strict=True)]
    levers = []
    for lever in space.levers:
        if lever.choices is not None:
            levers.append(CategoricalParameter(lever.name, list(lever.choices)))
        elif lever.integer:
            levers.append(IntegerParameter(lever.name, int(lever.low or 0), int(lever.high or 0)))
        else:
            levers.append(RealParameter(lever.name, float(lever.low or 0), float(lever.high or 0)))
    model.levers = levers
    model.outcomes = [ScalarOutcome(o, kind=ScalarOutcome.MAXIMIZE) for o in outcomes]
    return model
