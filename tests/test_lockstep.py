"""Lock-step docking: both engines, the same draws, the same customers to the bit.

Both engines apply the same event functions (``relsim.market.events``) to the
same state (``relsim.market.state``); they differ only in scheduling (the
array engine in batches, the agent engine one customer at a time). In a
lock-step run (``MarketModel(..., lockstep=True)``) every random draw of an
event is keyed by what it is for (purpose, step, customer, firm, occurrence),
not by when it is asked for, so the two schedules get the same numbers and
must leave every customer in exactly the same state. A slip in one engine's
path (a constant changed in one place, an event applied in another order)
shows here as a difference, where the statistical docking
(``tests/test_docking.py``) could miss it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relsim import load_scenario
from relsim.market.agents import Customer
from relsim.market.model import MarketModel

CUSTOMERS = 300
WEEKS = 14          # past the first quarter's end (week 13): key-account review, pruning

#: Per-dyad and per-customer state compared exactly.
FIELDS = ("trust", "commitment", "reciprocity", "responsiveness", "satisfaction", "wom", "knowledge",
          "offer", "purchases", "spells", "first_week", "last_purchase", "spend", "margin", "ltv",
          "acquisition_margin", "source", "referred", "retention_offer", "current", "spell_start",
          "key_account", "competitor_advantage", "programmes")
MODEL_FIELDS = ("aware", "dormant_until", "extra_occasions")

CASES = {
    "ecommerce": ("ecommerce", {}),
    "b2b": ("b2b", {}),
    "alliance": ("alliance", {}),
    "classroom": ("classroom", {}),
    "services": ("services", {}),   # acquisition cost per customer and the tenure effects (Reichheld)
    "operations off": ("ecommerce", {"operations.enabled": False}),
    "bgnbd churn": ("ecommerce", {"churn.model": "bgnbd"}),
    "word of mouth off": ("ecommerce", {"word_of_mouth.enabled": False}),
    # advertising goodwill (off by default): the stock in Firm._campaign, the appeal in the choice of both engines
    "advertising goodwill": ("ecommerce", {"behaviour.advertising_weight": 2.2}),
    "key accounts and pruning": ("ecommerce", {
        "firms.0.strategy": "partnership",
        "firms.0.levers": {"key_account_share": 0.2, "pruning": True, "pruning_min_margin": 50.0}}),
}


def lockstep_run(scenario: str, engine: str, seed: int = 5, **overrides) -> MarketModel:
    spec = load_scenario(scenario, **{"market.weeks": WEEKS, **overrides}).resized(CUSTOMERS)
    if spec.churn.model == "bgnbd":   # give every segment a dropout so that the BG/NBD path runs
        spec = spec.model_copy(update={"segments": [s.model_copy(update={"dropout_a": 1.0, "dropout_b": 3.0})
                                                    for s in spec.segments]})
    model = MarketModel(spec, seed=seed, engine=engine, lockstep=True)
    model.run()
    return model


def differences(agents: MarketModel, arrays: MarketModel) -> dict[str, int]:
    """Number of cells that differ, per compared field (only fields that differ)."""
    found = {}
    for owner, names in ((lambda m: m.population.state, FIELDS), (lambda m: m, MODEL_FIELDS)):
        for name in names:
            left, right = getattr(owner(agents), name), getattr(owner(arrays), name)
            differ = int(np.count_nonzero(~((left == right) | ((left != left) & (right != right)))))
            if differ:
                found[name] = differ
    for table in ("closed_spells", "open_spells"):
        left, right = (getattr(m.population, table)() for m in (agents, arrays))
        if not _same_rows(left, right):
            found[table] = abs(len(left) - len(right)) or 1
    return found


def _same_rows(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    if len(left) != len(right):
        return False
    order = list(left.columns)
    left = left.astype({c: str for c in ("reason", "source") if c in left}).sort_values(order)
    right = right.astype({c: str for c in ("reason", "source") if c in right}).sort_values(order)
    return bool((left.to_numpy() == right.to_numpy()).all())


@pytest.mark.parametrize("case", list(CASES))
def test_engines_agree_exactly_in_lockstep(case):
    scenario, overrides = CASES[case]
    agents = lockstep_run(scenario, "agents", **overrides)
    arrays = lockstep_run(scenario, "arrays", **overrides)
    steps = arrays.recorder.steps_table()
    assert steps["orders"].sum() > 0 and agents.recorder.steps_table()["orders"].sum() == steps["orders"].sum()
    assert differences(agents, arrays) == {}
    for column in ("orders", "complaints", "deliveries", "failures", "customers", "acquisition"):
        if column in steps:
            np.testing.assert_array_equal(agents.recorder.steps_table()[column], steps[column])


def test_lockstep_covers_the_mechanisms():
    """The small lock-step market exercises what it must: failures, complaints,
    exits after a failure, switches, word of mouth, key accounts, pruning."""
    model = lockstep_run("ecommerce", "arrays", **CASES["key accounts and pruning"][1])
    steps = model.recorder.steps_table()
    spells = model.population.closed_spells()
    assert steps["failures"].sum() > 0 and steps["complaints"].sum() > 0
    assert {"failure", "switched", "pruned", "lapsed"} <= set(spells["reason"].astype(str))
    assert model.population.state.key_account.any() and model.population.state.wom.any()


def test_lockstep_catches_a_slip_in_one_engine(monkeypatch):
    """Mutation: the trust gain of a kept promise 0.05 -> 0.06 in the agent engine's path only."""
    original = Customer.on_delivery

    def slipped(self, *args):
        behaviour = self.model.behaviour
        self.model.behaviour = behaviour.model_copy(update={"trust_gain": behaviour.trust_gain + 0.01})
        try:
            original(self, *args)
        finally:
            self.model.behaviour = behaviour

    monkeypatch.setattr(Customer, "on_delivery", slipped)
    found = differences(lockstep_run("ecommerce", "agents"), lockstep_run("ecommerce", "arrays"))
    assert found.get("trust", 0) > 0, found
