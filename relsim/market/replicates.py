"""Replicates of one design point advanced together (issue #13, "replicates in one pass").

:func:`simulate_replicates` builds one :class:`relsim.market.model.MarketModel` per seed
on the array engine, exactly as :func:`relsim.market.runner.simulate` would, then
*stacks* them (:func:`stack`): every customer-axis array of the models and of their
:class:`relsim.market.state.CustomerState` is copied into one array holding all
replicates' rows (replicate ``r`` owns rows ``r·N … (r+1)·N − 1``), and each model's
attribute is rebound to its contiguous row-slice, a *view* of the stacked array.
The run then advances all replicates week by week and phase by phase
(:attr:`MarketModel.PHASES`) in lock step.

Each replicate keeps its own ``SeedSequence`` tree, its firms, partners, desks and
network, and no phase is shared yet: every phase still runs once per replicate on
that replicate's rows, so the tables equal ``R`` separate runs bit for bit
(``tests/test_replicates.py``). The stacked arrays are what a shared phase will run
the customer-batch events of :mod:`relsim.market.events` over, once for all
replicates (docs/architecture.md, "Replicates in one pass").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from relsim.market.model import MarketModel, long_lived_objects_frozen
from relsim.market.runner import RunResult, result_of
from relsim.scenario.schema import Scenario

#: The model's customer-axis arrays (one row per customer), stacked across replicates.
MODEL_ARRAYS = ("aware", "dormant_until", "extra_occasions", "need_rate", "direct", "dropout", "spend_rate",
                "segment_of", "customer_value")

#: The customer-axis arrays of the array engine's ``CustomerState`` (per customer or per dyad);
#: ``fee_code`` is ``None`` in a market without distributor fees. ``quarter_margins`` (a dict of
#: arrays, one per firm that tracks margins) is stacked too.
STATE_ARRAYS = ("trust", "commitment", "reciprocity", "responsiveness", "satisfaction", "wom", "knowledge",
                "offer", "first_week", "last_purchase", "purchases", "spells", "spend", "margin", "ltv",
                "acquisition_margin", "source", "referred", "retention_offer", "fee_code", "current",
                "spell_start", "key_account", "competitor_advantage", "satisfaction_shortfall", "programmes",
                "segment")


@dataclass
class ReplicateStack:
    """Replicates of one scenario whose customer arrays are rows of shared stacked arrays.

    Attributes
    ----------
    models : list of MarketModel
        One per seed, in the order given; model ``r`` owns rows ``r·size … (r+1)·size − 1``.
    size : int
        Customers per replicate.
    arrays : dict
        The stacked arrays by where each model's view of it lives: ``"model.aware"``,
        ``"state.trust"``, ``"state.quarter_margins[2]"`` …
    """

    models: list[MarketModel]
    size: int
    arrays: dict[str, np.ndarray]

    def rows(self, replicate: int) -> slice:
        """The rows of ``replicate`` in every stacked array."""
        return slice(replicate * self.size, (replicate + 1) * self.size)

    def views(self, model: MarketModel) -> dict[str, np.ndarray]:
        """``model``'s customer arrays now, by name (aliases included: ``state.segment`` too)."""
        return customer_arrays(model)


def customer_arrays(model: MarketModel) -> dict[str, np.ndarray]:
    """Every customer-axis array of ``model`` and of its array engine's state, by name.

    Raises
    ------
    ValueError
        If the model does not run on the array engine, or if the model or its state holds a
        customer-axis array that is in neither :data:`MODEL_ARRAYS` nor :data:`STATE_ARRAYS`
        (a new field: it would not be stacked; add it to the list).
    """
    if model.engine != "arrays":
        raise ValueError(f"replicates are stacked on the array engine only, not on {model.engine!r} "
                         f"(scenario {model.spec.name!r})")
    state = model.population.state
    size = state.size
    found = {f"model.{name}": getattr(model, name) for name in MODEL_ARRAYS}
    found.update({f"state.{name}": getattr(state, name) for name in STATE_ARRAYS
                  if getattr(state, name) is not None})
    found.update({f"state.quarter_margins[{firm}]": values for firm, values in state.quarter_margins.items()})
    listed = {id(values) for values in found.values()}
    for owner, holder in (("model", model), ("state", state)):
        for name, value in vars(holder).items():
            if (isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == size
                    and id(value) not in listed):
                raise ValueError(f"{owner}.{name} is a customer-axis array (first dimension {size}) that "
                                 "relsim.market.replicates does not stack: add it to MODEL_ARRAYS or STATE_ARRAYS")
    return found


def stack(models: Sequence[MarketModel]) -> ReplicateStack:
    """Stack the customer arrays of ``models`` (built, not yet run; one scenario) and rebind
    each model's arrays to its rows of the stacked arrays (views: no values change).

    Arrays one model holds under two names (the state's ``segment`` is the model's
    ``segment_of``) stay one array.

    Raises
    ------
    ValueError
        If there are no models, if they differ in customers or in their arrays' shapes or
        types, or if one has already run a step.
    """
    if not models:
        raise ValueError("stack needs at least one model")
    per_model = [customer_arrays(model) for model in models]
    size = models[0].population.state.size
    for model, arrays in zip(models, per_model, strict=True):
        if model.steps:
            raise ValueError(f"the model of seed {model.seed} has run {model.steps} steps: stack models "
                             "before their first step")
        if model.population.state.size != size or arrays.keys() != per_model[0].keys():
            raise ValueError(f"the model of seed {model.seed} differs from that of seed {models[0].seed} "
                             f"in its customers or arrays: replicates stack one scenario")
        if _aliases(arrays) != _aliases(per_model[0]):
            raise ValueError(f"the model of seed {model.seed} shares arrays between its fields unlike that of "
                             f"seed {models[0].seed}: replicates stack one scenario")
        for where, values in arrays.items():
            first = per_model[0][where]
            if values.shape != first.shape or values.dtype != first.dtype:
                raise ValueError(f"{where} of seed {model.seed} is {values.dtype}{values.shape}, of seed "
                                 f"{models[0].seed} {first.dtype}{first.shape}: replicates stack one scenario")
    aliases = _aliases(per_model[0])
    stacked = {where: np.concatenate([arrays[where] for arrays in per_model])
               for where in per_model[0] if aliases[where] == where}   # an alias once, under its first name
    result = ReplicateStack(list(models), size, stacked)
    for replicate, model in enumerate(models):
        rows = result.rows(replicate)
        own = {where: values[rows] for where, values in stacked.items()}   # one view per stacked array
        _rebind(model, {where: own[first] for where, first in aliases.items()})
    return result


def _aliases(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """Each name of ``arrays`` → the first name under which the same array object appears."""
    first: dict[int, str] = {}
    return {where: first.setdefault(id(values), where) for where, values in arrays.items()}


def _field(where: str) -> tuple[str, str, int | None]:
    """``"state.quarter_margins[2]"`` → ``("state", "quarter_margins", 2)``; ``"model.aware"`` →
    ``("model", "aware", None)``."""
    owner, _, name = where.partition(".")
    if name.endswith("]"):
        name, _, firm = name[:-1].partition("[")
        return owner, name, int(firm)
    return owner, name, None


def _rebind(model: MarketModel, views: dict[str, np.ndarray]) -> None:
    """Point ``model``'s (and its state's) arrays at ``views``, named as by :func:`customer_arrays`."""
    state = model.population.state
    for where, view in views.items():
        owner, name, firm = _field(where)
        if firm is None:
            setattr(model if owner == "model" else state, name, view)
        else:
            getattr(state, name)[firm] = view


def advance(replicates: ReplicateStack, progress: Callable[[], None] | None = None,
            phase_seconds: dict[str, float] | None = None) -> None:
    """Run every replicate to ``market.weeks``, week by week, each phase of the week for every
    replicate in turn before the next phase; ``progress()`` is called once per week. With
    ``phase_seconds``, the CPU seconds of each phase (all replicates) are added to it by name
    (``benchmarks/bench_replicates.py``)."""
    models = replicates.models
    clock = time.process_time
    with long_lived_objects_frozen():
        while models[0].running:
            for model in models:
                model.start_step_clock()
            for phase in MarketModel.PHASES:
                started = clock() if phase_seconds is not None else 0.0
                for model in models:
                    getattr(model, phase)()
                if phase_seconds is not None:
                    phase_seconds[phase] = phase_seconds.get(phase, 0.0) + clock() - started
            if any(model.running != models[0].running for model in models):
                raise RuntimeError("replicates of one scenario stopped at different weeks")
            if progress is not None:
                progress()


def simulate_replicates(scenario: Scenario, seeds: Sequence[int], progress: Callable[[], None] | None = None,
                        phase_seconds: dict[str, float] | None = None) -> list[RunResult]:
    """Run ``scenario`` once per seed, all seeds together on the array engine, and return
    their tables in the order of ``seeds``: the same tables as
    ``[simulate(scenario, seed) for seed in seeds]``, bit for bit.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario whose ``market.engine`` is ``"arrays"`` (else ``ValueError``).
    seeds : sequence of int
        One replicate per seed (distinct seeds: a repeated seed is refused).
    progress : callable, optional
        Called once per simulated week (for all replicates).
    phase_seconds : dict, optional
        Receives the CPU seconds of each phase (see :func:`advance`).
    """
    if scenario.market.engine != "arrays":
        raise ValueError(f"replicates run on the array engine only: scenario {scenario.name!r} has "
                         f"market.engine = {scenario.market.engine!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must differ, got {list(seeds)}")
    models = [MarketModel(scenario, seed=seed) for seed in seeds]
    replicates = stack(models)
    advance(replicates, progress, phase_seconds)
    return [result_of(model) for model in replicates.models]
