"""Personalised offers and loyalty rewards are money (audit items 2 and 3, 2026-11-30).

An offer is a discount on the customer's next order: it lowers the price in the choice
(``rules.choice_utility``) and the revenue the firm books when it is used (``events.purchase``:
``kernels.sell_and_record`` takes ``rules.order_discount`` of the pending offers off the revenue
in ``kernels.sell``, the path of the win-back discount); it decays unused, and is withdrawn when
the customer leaves. The rules' own tests (the programme is worth the price cut of the same money
for every β) are in tests/test_rules.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim import simulate
from relsim.market import events
from relsim.market.draws import BatchDraws
from relsim.market.model import MarketModel
from relsim.scenario.schema import ScenarioError
from tests.conftest import small

ENGINES = ["arrays", "agents"]


def _noop(*args, **kwargs) -> None:
    return None


def _buy(offer: float, engine: str):
    """Every current customer of the focal firm orders there once, holding a pending offer of
    ``offer``; the same draws with and without. Returns the model, the buyers and the focal books."""
    model = MarketModel(small(customers=300, weeks=4, engine=engine, **{"operations.enabled": True}), seed=5)
    state = model.population.state
    buyers = np.flatnonzero(state.current == 0)
    state.offer[buyers, 0] = offer
    draws = BatchDraws({"events": np.random.default_rng(11), "operations": np.random.default_rng(12)})
    before = dict(model.firms[0].books)
    events.purchase(state, buyers, np.zeros(buyers.size, dtype=np.int64), draws, _noop, _noop)
    books = {line: model.firms[0].books[line] - before[line] for line in before}
    return model, buyers, books


@pytest.mark.parametrize("engine", ENGINES)
def test_a_used_offer_comes_off_the_revenue_and_is_used_up(engine):
    """The same orders with and without a pending 12 % offer: the firm books 88 % of the revenue
    (and of the rewards it pays on it), and the offers are used up. Mutation: events.purchase
    without the offer in the discount (only the win-back discount, as before 2026-11-30) books the
    full revenue and fails here. Deterministic: the same draws both times; tolerance: the offer is
    held in 32 bits (0.12 to 3e-9)."""
    _, _, full = _buy(0.0, engine)
    model, buyers, discounted = _buy(0.12, engine)
    assert buyers.size > 20 and full["revenue"] > 0
    assert discounted["revenue"] == pytest.approx(0.88 * full["revenue"], rel=1e-7)
    assert discounted["rewards"] == pytest.approx(0.88 * full["rewards"], rel=1e-7)
    assert discounted["cogs"] == pytest.approx(full["cogs"], rel=1e-12)   # the goods cost the same
    assert np.all(model.population.state.offer[buyers, 0] == 0.0)


def test_offers_in_a_run_reach_the_books(monkeypatch):
    """A proactive focal firm sending personalised offers to 30 % of its customers a week: orders
    at the focal firm carry discounts (its offers), the rivals that send none carry none (Competitor
    C is proactive, and sends offers and win-back discounts); the revenue booked is each
    order's basket at the price paid after the discount. The books of a purchase round are written by
    ``kernels.sell_and_record`` (the discount by ``kernels.order_terms`` inside it, then ``kernels.sell``):
    the round's discounts are worked out again, from the same arrays, just before it runs, and the
    revenue it books for each firm is checked against them. Mutation: offers not taken off revenue
    (sell_and_record passing order_terms the win-back discount only) leaves no discounted order's
    revenue right and fails."""
    from relsim.market import kernels
    scenario = small(customers=400, weeks=12, **{
        "firms.0.strategy": "proactive", "firms.0.levers": {"personalisation": 0.3, "retention_offer": False},
        "market.competition": "static"})
    sold = []
    original = kernels.sell_and_record

    def recording(buyers, chosen, basket, firm_count, retention_offer, retention_discount, offer, source, wom_code,
                  price, *rest):
        discount, _ = kernels.order_terms(buyers * firm_count + chosen, retention_offer.reshape(-1),
                                          retention_discount, offer.reshape(-1), source.reshape(-1), wom_code)
        sums, *others = original(buyers, chosen, basket, firm_count, retention_offer, retention_discount, offer,
                                 source, wom_code, price, *rest)
        for f in range(firm_count):
            mine = chosen == f
            expected = float(np.sum(basket[mine] * price[f] * (1.0 - discount[mine])))
            assert sums[f, 0] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        sold.append((chosen.copy(), np.asarray(discount, dtype=float).copy()))
        return (sums, *others)

    monkeypatch.setattr(kernels, "sell_and_record", recording)
    simulate(scenario, seed=2)
    chosen = np.concatenate([c for c, _ in sold])
    discount = np.concatenate([d for _, d in sold])
    focal = chosen == 0
    assert np.count_nonzero(discount[focal] > 0) >= 20
    sending = [f for f, firm in enumerate(scenario.firms)
               if f == 0 or firm.build_strategy().level >= 4]
    assert sending == [0, 3]
    assert np.all(discount[~np.isin(chosen, sending)] == 0.0)
    # at most the two discounts a customer can hold at once (rules.order_discount)
    most = 1 - (1 - scenario.behaviour.offer_discount) * (1 - scenario.costs.retention_offer_discount)
    assert np.all((discount >= 0) & (discount <= most + 1e-7))
    assert np.all(discount[focal] <= scenario.behaviour.offer_discount + 1e-7)   # no win-back at the focal firm


def test_an_unused_offer_decays_and_is_withdrawn_when_the_customer_leaves():
    """begin_week decays a pending offer at behaviour.offer_decay a week (an offer expires without
    upkeep, MODEL.md); a customer who leaves the firm loses its offer. Mutations: offer not in the
    decay list, or not cleared on leaving, fail here."""
    model = MarketModel(small(customers=200, weeks=10), seed=1)
    state = model.population.state
    members = np.flatnonzero(state.current == 0)
    state.offer[members, 0] = 0.15
    model.week = state.as_of + 3.0
    state.begin_week()
    rate = model.behaviour.offer_decay
    np.testing.assert_allclose(state.offer[members, 0], 0.15 * (1 - rate) ** 3, rtol=1e-6)
    leaving = members[:5]
    events.leave(state, leaving, "lapsed")
    assert np.all(state.offer[leaving, 0] == 0.0)
    assert np.all(state.offer[members[5:], 0] > 0.0)


@pytest.mark.parametrize(("key", "says"), [("behaviour.w_reward", "reward_value_multiplier"),
                                           ("behaviour.offer_value", "offer_discount"),
                                           ("behaviour.offer_goodwill", "offer_goodwill_per_discount")])
def test_a_retired_field_names_its_replacement(key, says):
    """An old scenario that sets a removed field is told what replaced it (not a bare 'unknown')."""
    with pytest.raises(ScenarioError) as raised:
        small(customers=100, weeks=1, **{key: 0.5})
    message = str(raised.value)
    assert key in message and says in message and "Traceback" not in message
