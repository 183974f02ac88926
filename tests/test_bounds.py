"""Every positive feedback loop is bounded and paid for (issue 11, MODEL.md "No free lunch").

Each loop has a *check*: a function that drives the loop to its extreme and
asserts the bound stated in docs/model.md. ``test_*_bounded`` runs the check on
the real rules; ``test_mutation_*`` replaces one rule by a mutated copy (cost
removed, decay removed, goodwill independent of the reward's size) and asserts
that the same check then fails. A check that a mutation cannot break would be
no check at all.

Loops:

* co-creation (``rules.co_creation_quality``, ``rules.co_creation_cost``,
  ``Firm.co_create``): quality rises with the *value share* of partner-rung
  customers, with diminishing returns, decays toward the base, and costs
  ``costs.co_creation_per_partner_week`` per partner;
* reward goodwill (``rules.reward_goodwill``, ``Firm.reward_goodwill``): zero
  programme, zero goodwill; concave in the reward rate; bounded;
* habit (``rules.habit_probability``): a repeat without choice is at most
  ``behaviour.habit_max`` likely, so some occasions are always real choices.
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim.market import rules
from relsim.market.model import MarketModel
from relsim.scenario.schema import BehaviourSpec, CostSpec
from tests.conftest import small

B = BehaviourSpec()
COSTS = CostSpec()


# --------------------------------------------------------------------------
# Co-creation
# --------------------------------------------------------------------------
def cocreation_bound(base: float, rate: float, decay: float, max_quality: float) -> float:
    """Upper bound of the steady state for any partner value share (docs/model.md §3.13)."""
    return base + (max_quality - base) * rate / (rate + decay)


def check_cocreation_bounded(rate: float = 0.05, decay: float = B.co_creation_decay) -> None:
    """All customer value on the partner rung for 40 years: quality stays below the
    steady-state bound; a year and a half after co-creation stops it is back
    near its base."""
    base, top = 0.8, B.max_quality
    quality = base
    path = []
    for _ in range(52 * 40):
        quality = min(top, rules.co_creation_quality(quality, base, 1.0, rate, B.co_creation_half_share,
                                                     decay, top, 1.0))
        path.append(quality)
    bound = cocreation_bound(base, rate, decay, top)
    assert max(path) <= bound + 1e-9, f"quality {max(path):.3f} above the bound {bound:.3f}"
    steady = base + (top - base) * rate * (1 / (1 + B.co_creation_half_share)) / (
        rate * (1 / (1 + B.co_creation_half_share)) + decay)
    assert path[-1] == pytest.approx(steady, abs=1e-3)
    gains = np.diff([base, *path[:52]])
    assert np.all(np.diff(gains) <= 1e-12), "no diminishing returns"
    for _ in range(78):   # co-creation stops
        quality = rules.co_creation_quality(quality, base, 0.0, rate, B.co_creation_half_share, decay, top, 1.0)
    assert quality - base < 0.25 * (path[-1] - base), "quality does not decay without upkeep"


def check_cocreation_by_value_and_paid(partners: int = 40) -> None:
    """A firm's co-creation gain depends on the partners' value share, not their
    head count, and each partner costs ``co_creation_per_partner_week``."""
    model = MarketModel(small(customers=200, weeks=2).with_focal_strategy("relationship"), seed=1)
    firm = model.firms[0]
    gains = []
    for count in (partners, 10 * partners):   # the same value share, ten times the head count
        firm.quality = firm.spec.quality
        firm.books["relationship"] = 0.0
        firm.co_create(count, 0.3)
        gains.append(firm.quality - firm.spec.quality)
        cost = firm.books["relationship"]
        assert cost >= count * COSTS.co_creation_per_partner_week * model.step_weeks - 1e-9, \
            f"co-creation with {count} partners cost {cost:g}: it is not paid for"
    assert gains[0] > 0
    assert gains[1] == pytest.approx(gains[0]), "the gain grows with the head count of partners"


def test_cocreation_bounded():
    check_cocreation_bounded()


def test_cocreation_by_value_and_paid():
    check_cocreation_by_value_and_paid()


def test_cocreation_bounded_in_a_run():
    """Extreme co-creation in a whole run (rate 10 times the default, easy partner rung): the focal
    firm's quality never exceeds the steady-state bound."""
    rate = 0.05
    scenario = small(customers=500, weeks=104, engine="arrays", **{
        "behaviour.co_creation_rate": rate, "behaviour.co_creation_half_share": 0.01,
        "behaviour.partner_commitment": 0.45, "behaviour.advocate_commitment": 0.4,
        "behaviour.supporter_commitment": 0.3}).with_focal_strategy("relationship")
    from relsim.market.runner import simulate
    steps = simulate(scenario, seed=3).steps
    focal = steps[steps["firm"] == scenario.firms[0].name]
    base = scenario.firms[0].quality
    assert focal["rung_partner"].max() > 0, "the test never reached the partner rung"
    assert focal["quality"].max() <= cocreation_bound(base, rate, B.co_creation_decay, B.max_quality) + 1e-9
    assert focal["quality"].max() < B.max_quality - 0.05


def test_mutation_cocreation_without_decay(monkeypatch):
    """Mutation: co-creation never decays -> quality runs to the cap, the bound check fails."""
    real = rules.co_creation_quality
    monkeypatch.setattr(rules, "co_creation_quality",
                        lambda q, q0, v, rate, half, decay, top, weeks=1.0: real(q, q0, v, rate, half, 0.0, top, weeks))
    with pytest.raises(AssertionError):
        check_cocreation_bounded()


def test_mutation_cocreation_without_cost(monkeypatch):
    """Mutation: co-creation is free -> the paid-for check fails."""
    monkeypatch.setattr(rules, "co_creation_cost", lambda partners, cost, weeks=1.0: 0.0 * partners)
    with pytest.raises(AssertionError, match="not paid for"):
        check_cocreation_by_value_and_paid()


def test_mutation_cocreation_by_head_count(monkeypatch):
    """Mutation: the gain counts partners (the old rule) -> the value check fails."""
    real = rules.co_creation_quality
    state = {"partners": 0}
    original = type(MarketModel(small(customers=50, weeks=1), seed=0).firms[0]).co_create

    def co_create(self, partners, value_share):
        state["partners"] = partners
        return original(self, partners, value_share)

    from relsim.market.firms import Firm
    monkeypatch.setattr(Firm, "co_create", co_create)
    monkeypatch.setattr(rules, "co_creation_quality",
                        lambda q, q0, v, *a: real(q, q0, min(1.0, v * state["partners"] / 40), *a))
    with pytest.raises(AssertionError, match="head count"):
        check_cocreation_by_value_and_paid()


# --------------------------------------------------------------------------
# Reward goodwill
# --------------------------------------------------------------------------
def check_goodwill_scales_with_reward() -> None:
    """Zero programme, zero goodwill; a token programme (0.01 % of spend) buys
    almost none; doubling the rate does not double goodwill; the ceiling holds;
    and the firm's per-purchase goodwill follows its programme."""
    ceiling, scale = B.reward_goodwill, B.reward_goodwill_scale
    assert rules.reward_goodwill(0.0, ceiling, scale) == 0.0
    assert rules.reward_goodwill(0.0001, ceiling, scale) < 0.01 * ceiling, "a token programme buys goodwill"
    rates = np.array([0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.5])
    goodwill = rules.reward_goodwill(rates, ceiling, scale)
    assert np.all(np.diff(goodwill) > 0)
    assert np.all(rules.reward_goodwill(2 * rates, ceiling, scale) < 2 * goodwill), "not concave"
    assert np.all(goodwill <= ceiling)
    model = MarketModel(small(customers=50, weeks=1, **{"firms.0.levers": {"reward_rate": 0.0001}}), seed=0)
    assert model.firms[0].reward_goodwill < 0.01 * ceiling, "a token programme buys goodwill"


def test_goodwill_scales_with_reward():
    check_goodwill_scales_with_reward()


def test_mutation_goodwill_independent_of_reward(monkeypatch):
    """Mutation: any programme buys the full goodwill (the old rule) -> the check fails."""
    monkeypatch.setattr(rules, "reward_goodwill",
                        lambda rate, ceiling, scale: ceiling * (np.asarray(rate) > 0) if isinstance(rate, np.ndarray)
                        else ceiling * (rate > 0))
    with pytest.raises(AssertionError):
        check_goodwill_scales_with_reward()


# --------------------------------------------------------------------------
# Habit (state dependence of choice)
# --------------------------------------------------------------------------
def check_habit_bounded() -> None:
    """The most satisfied, most committed customer still chooses on at least
    1 − habit_max of its occasions; a dissatisfied one shops around more."""
    grid = np.linspace(-1, 1, 41)
    s, c = np.meshgrid(grid, np.linspace(0, 1, 21))
    p = rules.habit_probability(s, c, B.habit_base, B.habit_satisfaction, B.habit_commitment, B.habit_max)
    assert p.max() <= B.habit_max < 1.0
    assert p.min() >= 0.0
    assert rules.habit_probability(-0.5, 0.0, B.habit_base, B.habit_satisfaction, B.habit_commitment,
                                   B.habit_max) < B.habit_base


def test_habit_bounded():
    check_habit_bounded()


def test_habit_keeps_customers_in_a_run():
    """With habit off (base, weights 0) more purchases are switches than with it on."""
    from relsim.market.runner import simulate
    switched = []
    for base in (0.0, B.habit_base):
        extra = {} if base else {"behaviour.habit_satisfaction": 0.0, "behaviour.habit_commitment": 0.0}
        steps = simulate(small(customers=500, weeks=52, engine="arrays", **{"behaviour.habit_base": base},
                               **extra), seed=2).steps
        switched.append(steps["churned_switched"].sum() / steps["orders"].sum())
    assert switched[1] < 0.8 * switched[0]
