"""Competitors answer a rival's list-price cut in part (``market.price_match``;
relsim.market.rules.price_reaction, relsim.market.competition.review).

Unit tests of the rule, then a small adaptive market stepped by hand: a firm's list price
is cut between two reviews and the competitors' list prices are read after the next one.
Inertia 1.0 keeps every competitor from imitating, so each answers the cut exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim.market import competition, rules
from relsim.market.model import MarketModel
from tests.conftest import small

MATCH = 0.15


# -- the rule ----------------------------------------------------------------------------------
def test_no_cut_leaves_the_price():
    assert rules.price_reaction(1.0, 0.0, MATCH, 0.75) == 1.0
    assert rules.price_reaction(1.0, -0.2, MATCH, 0.75) == 1.0   # a rise is not followed


def test_match_zero_leaves_the_price():
    assert rules.price_reaction(1.0, 0.3, 0.0, 0.75) == 1.0


def test_full_match_follows_the_cut():
    assert rules.price_reaction(1.0, 0.1, 1.0, 0.5) == pytest.approx(0.9)
    assert rules.price_reaction(1.0, 0.1, MATCH, 0.5) == pytest.approx(1.0 - MATCH * 0.1)


def test_the_floor_binds_and_no_price_is_raised():
    assert rules.price_reaction(0.8, 0.5, 1.0, 0.75) == 0.75   # down to zero gross margin, not below
    assert rules.price_reaction(0.7, 0.5, 1.0, 0.75) == 0.7    # already below the floor: kept, not raised


def test_the_rule_serves_scalars_and_arrays_alike():
    prices, cuts = np.array([1.0, 0.9, 0.76, 0.7]), np.array([0.1, 0.0, 0.5, 0.2])
    vector = rules.price_reaction(prices, cuts, 0.5, 0.75)
    scalar = [rules.price_reaction(float(p), float(c), 0.5, 0.75) for p, c in zip(prices, cuts, strict=True)]
    np.testing.assert_allclose(vector, scalar)


def test_list_price_cut_counts_rises_as_no_cut():
    assert competition.list_price_cut(1.0, 0.9) == pytest.approx(0.1)
    assert competition.list_price_cut(1.0, 1.1) == 0.0


# -- in a market -------------------------------------------------------------------------------
def market(competition_mode: str = "adaptive", **changes) -> MarketModel:
    """A small ecommerce market (400 customers, 60 weeks, reviews every 13 weeks) in which
    no competitor imitates (inertia 1.0), the focal firm on the relationship preset."""
    scenario = small(customers=400, weeks=60, engine="arrays",
                     **{"market.competition": competition_mode, "market.adaptation_inertia": 1.0,
                        "market.price_match": MATCH, **changes})
    return MarketModel(scenario.with_focal_strategy("relationship"), seed=3)


def step_to(model: MarketModel, weeks_done: int) -> None:
    while model.steps < weeks_done:
        model.step()


def set_list_price(firm, price: float) -> None:
    firm.strategy = firm.strategy.model_copy(update={"price": price})
    firm.price = firm.price_now()


def list_prices(model: MarketModel) -> list[float]:
    return [firm.strategy.price for firm in model.firms]


def test_competitors_answer_a_cut_at_the_next_review_once():
    """The focal firm cuts its list price 10 % in week 5; nothing moves before the review at
    the start of week 14 (13 weeks on the books); there every competitor's list price falls
    by price_match · 10 % (above its expected unit cost). At the next review (week 27) nothing
    moves: the focal cut is not answered again, and a reaction is not itself answered as a cut
    (no echo among the competitors, so the long-run match is price_match)."""
    model = market()
    step_to(model, 5)
    focal, rivals = model.firms[0], model.firms[1:]
    set_list_price(focal, 0.9 * focal.strategy.price)
    before = list_prices(model)
    step_to(model, 13)
    assert list_prices(model) == before                      # no review yet
    floors = [firm.supplier.expected_unit_cost(firm) for firm in rivals]   # what the review will read
    step_to(model, 14)
    after = list_prices(model)
    assert after[0] == before[0]
    for old, new, floor in zip(before[1:], after[1:], floors, strict=True):
        assert old * (1 - MATCH * 0.1) > floor
        assert new == pytest.approx(old * (1 - MATCH * 0.1), rel=1e-12)
    assert [firm.price for firm in rivals] == [firm.price_now() for firm in rivals]
    assert {name for _, name, _ in model.price_reactions} == {firm.name for firm in rivals}
    assert model.recorder.steps_table()["adaptation"].sum() == 0   # a new price costs no adaptation
    step_to(model, 27)
    assert list_prices(model) == after                       # answered once, never echoed


def test_the_focal_firm_never_reacts_and_the_cutter_does_not_answer_itself():
    """Competitor A cuts 20 %: B and C follow 3 %, the focal firm and A keep their prices."""
    model = market()
    step_to(model, 5)
    cutter = model.firms[1]
    set_list_price(cutter, 0.8 * cutter.strategy.price)
    before = list_prices(model)
    step_to(model, 14)
    after = list_prices(model)
    assert after[:2] == before[:2]
    assert after[2:] == pytest.approx([p * (1 - MATCH * 0.2) for p in before[2:]], rel=1e-12)


def assert_nobody_answers(model, factor: float) -> None:
    """The focal firm's list price times ``factor`` in week 5: no list price moves through two
    reviews and no reaction is recorded."""
    step_to(model, 5)
    set_list_price(model.firms[0], factor * model.firms[0].strategy.price)
    before = list_prices(model)
    step_to(model, 30)
    assert list_prices(model) == before and model.price_reactions == []


def test_rises_are_not_followed():
    assert_nobody_answers(market(), 1.1)


def test_the_floor_binds_in_a_market():
    """price_match 1 and a 50 % cut: each competitor falls to its unit cost (zero gross margin)."""
    model = market(**{"market.price_match": 1.0})
    step_to(model, 5)
    set_list_price(model.firms[0], 0.5 * model.firms[0].strategy.price)
    step_to(model, 13)
    floors = [firm.supplier.expected_unit_cost(firm) for firm in model.firms[1:]]
    step_to(model, 14)
    assert list_prices(model)[1:] == pytest.approx(floors, rel=1e-12)


def test_static_competitors_never_react():
    assert_nobody_answers(market("static"), 0.9)


def test_a_competitor_that_imitated_does_not_also_react():
    """With inertia 0 and step 1, a competitor that imitates at a review takes the best firm's
    strategy (its price included) and does not answer a cut on top of it."""
    model = market(**{"market.adaptation_inertia": 0.0, "market.adaptation_step": 1.0})
    step_to(model, 5)
    set_list_price(model.firms[0], 0.9 * model.firms[0].strategy.price)
    step_to(model, 14)
    moved = {name for week, name, _ in model.strategy_moves if week == 13}
    reacted = {name for week, name, _ in model.price_reactions if week == 13}
    assert moved and not moved & reacted


def test_price_match_zero_reproduces_the_run_without_reaction(monkeypatch):
    """price_match 0 gives the tables of a run whose review has no reaction at all (react a
    no-op, called at least once: the focal firm cuts 10 % in week 5, competitors imitate as
    usual): the reaction draws no random number and touches nothing else. Checked once by
    hand (2026-11-30, steps-table SHA-256): adaptive ecommerce runs (400 customers, 60 weeks;
    relationship focal firm seed 1, transactional seed 2) with price_match 0 equal main's
    code before the reaction existed (bb07c1d), to the bit."""
    from pandas.testing import assert_frame_equal

    def run(price_match: float) -> MarketModel:
        model = market(**{"market.adaptation_inertia": 0.5, "market.price_match": price_match})
        step_to(model, 5)
        set_list_price(model.firms[0], 0.9 * model.firms[0].strategy.price)
        model.run()
        return model

    zero = run(0.0)
    assert zero.strategy_moves and zero.price_reactions == []
    calls = []
    with monkeypatch.context() as patch:
        patch.setattr(competition, "react", lambda firm, cut: calls.append((firm.name, cut)))
        silent = run(MATCH)
    assert calls
    assert_frame_equal(zero.recorder.steps_table(), silent.recorder.steps_table())
    reacting = run(MATCH)
    assert reacting.price_reactions
    assert not reacting.recorder.steps_table().equals(zero.recorder.steps_table())
