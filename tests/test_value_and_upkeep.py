"""MODEL.md's "no free lunch" and step 5, where the code departed from them until 2026-11-30
(docs/model.md §8 item 22):

* resolution shapes perceived responsiveness (``rules.answer_responsiveness``, in both engines);
* a resolved complaint's goodwill is in proportion to the satisfaction the recovery restored
  (``rules.recovery_goodwill``), a key-account week's to the manager's cost per account relative
  to the customer's weekly spend (``rules.key_account_goodwill``);
* a pending win-back discount expires after ``costs.retention_offer_weeks``, also after the spell
  has ended (``rules.win_back_expired``, ``CustomerState.expire_win_back``).

Each expectation is the rule's equation evaluated by hand; the state is stored in 32-bit floats,
so values are compared to a relative 1e-6. Mutations checked (each makes a test here fail): the
answers kernel updating Q with ρ instead of ``answer_responsiveness`` (u = 0 and 0.3 fail, both
engines); recovery goodwill back to ``0.2 · ρ``; key-account goodwill back to a flat 0.05;
``begin_week`` not expiring win-back discounts (both engines); ``events.leave`` clearing them; the
age without the modulo (the week-300 case); the order taking ``code · d`` off instead of ``d``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim.market import events, rules
from relsim.market.model import MarketModel
from relsim.scenario.schema import ScenarioError
from tests.conftest import small


def _model(engine: str = "arrays", customers: int = 200, **changes) -> MarketModel:
    """A small ecommerce market, built and not run (its initial customers are in place)."""
    return MarketModel(small(customers=customers, weeks=2, engine=engine, **changes), seed=0)


def _customers(model: MarketModel, firm: int, count: int) -> np.ndarray:
    members = model.population.state.members_of(firm)
    assert members.size >= count
    return members[:count]


# --------------------------------------------------------------------------
# 1. resolution shapes perceived responsiveness
# --------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["arrays", "agents"])
@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_an_unresolved_answer_counts_its_weight_of_a_resolved_one(engine, weight):
    """Two questions answered equally fast, one resolved: Q' = Q + α·(ρ − Q) and
    Q' = Q + α·(u·ρ − Q) (the agent engine through ``Customer.on_answer``)."""
    model = _model(engine, **{"behaviour.unresolved_response_weight": weight})
    state, params = model.population.state, model.behaviour
    target = model.spec.operations.response_target_weeks
    resolved_one, unresolved_one = _customers(model, 0, 2)
    state.responsiveness[[resolved_one, unresolved_one], 0] = 0.5
    time = 0.5 * target
    for customer, resolved in ((resolved_one, True), (unresolved_one, False)):
        if engine == "agents":
            model.population.customers[customer].on_answer(0, False, time, resolved, float(model.week))
        else:
            events.answer(state, np.array([customer]), np.array([0]), np.array([False]), np.array([time]),
                          np.array([resolved]), np.array([float(model.week)]), model.population.draws)
    rho = math.exp(-0.5)
    alpha = params.responsiveness_rate
    assert float(state.responsiveness[resolved_one, 0]) == pytest.approx(0.5 + alpha * (rho - 0.5), rel=1e-6)
    assert float(state.responsiveness[unresolved_one, 0]) == pytest.approx(0.5 + alpha * (weight * rho - 0.5),
                                                                           rel=1e-6)


def test_answer_responsiveness_is_bounded_by_the_response_quality():
    rho = np.linspace(0, 1, 11)
    for weight in (0.0, 0.3, 1.0):
        for resolved in (0.0, 1.0):
            signal = rules.answer_responsiveness(rho, resolved, weight)
            assert np.all((signal >= 0) & (signal <= rho))
    assert np.array_equal(rules.answer_responsiveness(rho, 1.0, 0.3), rho)


# --------------------------------------------------------------------------
# 2b. a resolved complaint's goodwill: in proportion to the satisfaction restored
# --------------------------------------------------------------------------
def test_recovery_goodwill_is_in_proportion_to_the_satisfaction_restored():
    """Three resolved complaints to firm 0 (R = 0, S = 0 before): a current customer whose failure
    cost D = 0.05 and who is answered at once (restored 0.05 < b·ρ = 0.5: the cap binds), one whose
    failure cost D = 0.3 answered at t = t* (restored b·ρ = 0.5·e⁻¹, the old goodwill 0.2·ρ), and a
    former customer (nothing restored, no goodwill; the old rule gave 0.2)."""
    model = _model()
    state, params = model.population.state, model.behaviour
    capped, slow = _customers(model, 0, 2)
    former = _customers(model, 1, 1)[0]
    target = model.spec.operations.response_target_weeks
    who = np.array([capped, slow, former])
    state.reciprocity[who, 0] = 0.0
    state.satisfaction[who, 0] = 0.0
    state.satisfaction_shortfall[[capped, slow]] = [0.05, 0.3]
    events.answer(state, who, np.zeros(3, dtype=np.int64), np.ones(3, bool), np.array([0.0, target, 0.0]),
                  np.ones(3, bool), np.full(3, float(model.week)), model.population.draws)
    gamma = params.recovery_goodwill_per_satisfaction
    restored_slow = params.recovery_bonus * math.exp(-1.0)
    assert float(state.satisfaction[capped, 0]) == pytest.approx(0.05, rel=1e-6)
    assert float(state.reciprocity[capped, 0]) == pytest.approx(gamma * 0.05, rel=1e-6)
    assert float(state.reciprocity[slow, 0]) == pytest.approx(gamma * restored_slow, rel=1e-6)
    assert float(state.reciprocity[slow, 0]) == pytest.approx(0.2 * math.exp(-1.0), rel=1e-6)   # as before
    assert float(state.reciprocity[former, 0]) == 0.0


# --------------------------------------------------------------------------
# 2a. a key-account week's goodwill: the manager's cost per account over the weekly spend
# --------------------------------------------------------------------------
@pytest.mark.parametrize("manager", [0.0, 150.0, 600.0])
def test_key_account_goodwill_is_the_managers_cost_over_the_customers_spend(manager):
    model = _model(**{"costs.manager_per_week": manager})
    state, params, costs = model.population.state, model.behaviour, model.spec.costs
    accounts = _customers(model, 0, 3)
    assert np.all(model.spend_rate[accounts] == 0)   # ecommerce: lognormal baskets, segment means
    model.need_rate[accounts] = [0.1, 0.2, 0.8]
    model.customer_value = model._expected_spend()   # the traits' expected spend, as at set-up
    state.reciprocity[accounts, 0] = 0.0
    events.manage_account(state, accounts, 0)
    spend = model.need_rate[accounts] * state.basket_mean[state.segment[accounts]]
    expected = np.clip(params.key_account_goodwill_per_value * manager / costs.accounts_per_manager / spend, 0, 1)
    assert np.allclose(state.reciprocity[accounts, 0], expected, rtol=1e-6, atol=0)
    if manager == 0.0:
        assert np.all(state.reciprocity[accounts, 0] == 0)
    else:   # a larger account gets less goodwill from the same manager
        assert np.all(np.diff(state.reciprocity[accounts, 0]) < 0)


def test_the_default_reproduces_the_old_flat_goodwill_at_ecommerces_median_key_account():
    """docs/evidence.md: 0.2 · 6 / 24 = 0.05, the flat key_account_goodwill of before."""
    assert rules.key_account_goodwill(150.0 / 25, 24.0, 0.2) == pytest.approx(0.05, rel=1e-12)


# --------------------------------------------------------------------------
# 3. a win-back discount expires, also after the spell
# --------------------------------------------------------------------------
def _at_week(model: MarketModel, week: float) -> None:
    model.week = week
    model.population.begin_week()


@pytest.mark.parametrize("engine", ["arrays", "agents"])
@pytest.mark.parametrize("sent", [0.0, 300.0])   # 300: the one-byte code has wrapped round
def test_a_win_back_discount_expires_after_its_validity(sent, engine):
    model = _model(engine, **{"costs.retention_offer_weeks": 8.0})
    state = model.population.state
    _at_week(model, sent)
    customers = _customers(model, 0, 4)
    if engine == "agents":
        for customer in customers:
            model.population.customers[customer].receive_retention_offer(0, 0.1)
    else:
        events.retention_offer(state, customers, 0, 0.1)
    assert np.all(state.retention_offer[customers, 0] != 0)
    for week in range(1, 8):
        _at_week(model, sent + week)
        assert np.all(state.retention_offer[customers, 0] != 0), week
    _at_week(model, sent + 8)
    assert np.all(state.retention_offer[customers, 0] == 0)


def _orders(win_back: bool):
    """Every current customer of firm 0 orders there once in week 5, holding a win-back discount
    sent that week (its code is 6, not 1) or none; the same draws both times. Returns the model, the
    buyers and the revenue booked."""
    from relsim.market.draws import BatchDraws
    model = _model(customers=300)
    state = model.population.state
    _at_week(model, 5.0)
    buyers = state.members_of(0)
    if win_back:
        events.retention_offer(state, buyers, 0, 0.1)
        assert np.all(state.retention_offer[buyers, 0] == 6)
    draws = BatchDraws({"events": np.random.default_rng(11), "operations": np.random.default_rng(12)})
    before = model.firms[0].books["revenue"]
    events.purchase(state, buyers, np.zeros(buyers.size, dtype=np.int64), draws, _noop, _noop)
    return model, buyers, model.firms[0].books["revenue"] - before


def _noop(*args, **kwargs) -> None:
    return None


def test_a_pending_win_back_discount_comes_off_the_revenue_whatever_week_it_was_sent():
    """The dyad holds the step the offer was sent in; the order takes off the discount (0.1), not
    the code times it (the mutation ``code · d`` books 40 % of the revenue here and fails)."""
    _, _, full = _orders(False)
    model, buyers, discounted = _orders(True)
    assert buyers.size > 20 and full > 0
    assert discounted == pytest.approx(0.9 * full, rel=1e-12)
    assert np.all(model.population.state.retention_offer[buyers, 0] == 0)   # used up


def test_a_win_back_discount_outlives_the_spell_but_not_its_validity():
    """Win-back offers are for customers drifting away: a customer who lapses keeps it (until it
    expires), unlike a personalised offer, which leaving withdraws."""
    model = _model(**{"costs.retention_offer_weeks": 4.0})
    state = model.population.state
    customers = _customers(model, 0, 3)
    events.retention_offer(state, customers, 0, 0.1)
    state.offer[customers, 0] = 0.1
    events.leave(state, customers, "lapsed")
    assert np.all(state.current[customers] != 0)
    assert np.all(state.retention_offer[customers, 0] != 0)
    assert np.all(state.offer[customers, 0] == 0)
    _at_week(model, 3.0)
    assert np.all(state.retention_offer[customers, 0] != 0)
    _at_week(model, 4.0)
    assert np.all(state.retention_offer[customers, 0] == 0)


def test_an_expired_win_back_discount_can_be_sent_again():
    """Upkeep: once expired, an overdue customer is due a new offer (which the firm pays for)."""
    model = _model(**{"costs.retention_offer_weeks": 4.0})
    state = model.population.state
    customer = _customers(model, 0, 1)
    state.last_purchase[customer, 0] = -100.0      # long overdue
    assert events.overdue(state, customer, 0)[0]
    events.retention_offer(state, customer, 0, 0.1)
    assert not events.overdue(state, customer, 0)[0]
    _at_week(model, 4.0)
    assert events.overdue(state, customer, 0)[0]


def test_a_win_back_validity_longer_than_the_code_holds_is_refused():
    with pytest.raises(ScenarioError, match=r"costs.retention_offer_weeks = 104: .*at most 250 steps"):
        small(**{"costs.retention_offer_weeks": 104.0, "market.step_weeks": 0.25})
    small(**{"costs.retention_offer_weeks": 104.0})   # 104 steps of a week: fine


# --------------------------------------------------------------------------
# renamed fields
# --------------------------------------------------------------------------
@pytest.mark.parametrize(("old", "new"), [("recovery_goodwill", "recovery_goodwill_per_satisfaction"),
                                          ("key_account_goodwill", "key_account_goodwill_per_value")])
def test_an_old_goodwill_key_is_told_what_replaced_it(old, new):
    with pytest.raises(ScenarioError, match=rf"behaviour\.{old}: unknown field: replaced on 2026-11-30.*{new}"):
        small(**{f"behaviour.{old}": 0.1})
