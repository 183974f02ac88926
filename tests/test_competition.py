"""Competitors that answer back (issue 11; relsim.market.competition)."""

from __future__ import annotations

import pytest

from relsim.market import competition
from relsim.market.model import MarketModel
from relsim.market.runner import simulate
from relsim.scenario.strategies import preset
from tests.conftest import small


def test_imitation_moves_part_of_the_way():
    own, rival = preset("transactional"), preset("relationship")
    moved = competition.imitate(own, rival, 0.5)
    assert moved.acquisition_budget == pytest.approx((own.acquisition_budget + rival.acquisition_budget) / 2)
    assert moved.reward_rate == pytest.approx(rival.reward_rate / 2)
    assert moved.level == own.level + 1                      # one level per review at most
    assert moved.service_capacity == pytest.approx((own.service_capacity + rival.service_capacity) / 2)
    assert moved.promotion_discount == pytest.approx(own.promotion_discount / 2)
    again = competition.imitate(moved, rival, 0.5)
    assert abs(again.price - rival.price) < abs(moved.price - rival.price) or again.price == rival.price
    assert competition.imitate(rival, rival, 0.5) == rival


def adaptive(**changes):
    return small(customers=400, weeks=60, engine="arrays", **{"market.competition": "adaptive", **changes})


def test_static_competitors_never_move():
    model = MarketModel(small(customers=400, weeks=60, engine="arrays", **{"market.competition": "static"})
                        .with_focal_strategy("relationship"), seed=1)
    model.run()
    assert model.strategy_moves == []
    assert model.recorder.steps_table()["adaptation"].sum() == 0


def test_adaptive_competitors_move_and_pay():
    model = MarketModel(adaptive().with_focal_strategy("relationship"), seed=1)
    model.run()
    steps = model.recorder.steps_table()
    assert model.strategy_moves, "no competitor moved in 60 weeks"
    assert all(firm != "Focal" for _, firm, _ in model.strategy_moves)   # the studied firm keeps its strategy
    market = model.spec.market
    cost = market.adaptation_cost * market.reference_budget
    assert steps["adaptation"].sum() == pytest.approx(cost * len(model.strategy_moves))
    moved = {firm for _, firm, _ in model.strategy_moves}
    assert any(steps.loc[steps["firm"] == firm, "level"].nunique() > 1
               or steps.loc[steps["firm"] == firm, "price_index"].nunique() > 1 for firm in moved)


def test_the_desk_is_resized_with_the_strategy():
    """A competitor that adopts a strategy with a larger (smaller, no) desk hires
    (lets go of) agents at once: the desk's servers, its weekly cost and the
    formula a firm uses at the start agree; queued tickets are served by new agents."""
    import simpy

    model = MarketModel(adaptive().with_focal_strategy("relationship"), seed=1)
    reference = model.spec.market.reference_desk_agents
    for firm in model.firms:   # the start and the adaptive rule staff a desk the same way
        assert firm.desk.agents == competition.desk_agents(firm.strategy, reference)
    rival = model.firms[1]
    bigger = rival.strategy.model_copy(update={"level": 4, "service_capacity": 3.0})
    competition.adopt(rival, bigger)
    assert rival.desk.agents == competition.desk_agents(bigger, reference) == round(3.0 * reference)
    assert rival.desk.resource.capacity == rival.desk.agents
    competition.adopt(rival, bigger.model_copy(update={"level": 1}))   # level 1: no desk
    assert rival.desk.agents == 0 and rival.desk.resource.capacity == 0   # no agents; the queue kept
    competition.adopt(rival, bigger)                                   # a desk again
    assert rival.desk.resource.capacity == rival.desk.agents > 0
    # a queue waiting for one agent is taken up by the new agents at once
    env = simpy.Environment()
    from relsim.market.operations import SupportDesk
    desk = SupportDesk(env, 1)
    requests = [desk.resource.request(priority=1) for _ in range(3)]
    env.run(until=0.1)
    assert [r.triggered for r in requests] == [True, False, False]
    competition.resize_desk(desk, 3)
    env.run(until=0.2)
    assert all(r.triggered for r in requests)


def test_adaptive_desks_follow_the_moved_strategy_in_a_run():
    """After a run with moves, every competitor's desk (and its booked cost in the
    last week) matches the desk its current strategy staffs."""
    model = MarketModel(adaptive(**{"market.adaptation_step": 1.0}).with_focal_strategy("relationship"), seed=1)
    model.run()
    assert model.strategy_moves
    steps = model.recorder.steps_table()
    last = steps[steps["week"] == steps["week"].max()].set_index("firm")
    costs, reference = model.spec.costs, model.spec.market.reference_desk_agents
    for firm in model.firms:
        agents = competition.desk_agents(firm.strategy, reference)
        assert firm.desk.agents == agents
        assert last.loc[firm.name, "service_desk"] >= agents * costs.desk_agent_per_week * model.step_weeks - 1e-9
    moved = {name for _, name, _ in model.strategy_moves}
    start = MarketModel(adaptive().with_focal_strategy("relationship"), seed=1)
    assert any(start.firms[k].desk.agents != model.firms[k].desk.agents
               for k in range(len(model.firms)) if model.firms[k].name in moved)


def test_full_inertia_means_no_moves():
    model = MarketModel(adaptive(**{"market.adaptation_inertia": 1.0}), seed=1)
    model.run()
    assert model.strategy_moves == []


@pytest.mark.parametrize("engine", ["agents", "arrays"])
def test_both_engines_run_adaptive_competition(engine):
    steps = simulate(small(customers=300, weeks=30, engine=engine, **{"market.competition": "adaptive"})
                     .with_focal_strategy("relationship"), seed=0).steps
    assert steps["orders"].sum() > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ecommerce", "b2b", "alliance", "services"])
def test_no_firm_runs_away_with_the_market(name):
    """Stylized fact: with adaptive competition no firm holds more than 60 % of the
    market (revenue share over the fifth year) in a shipped scenario, whichever
    preset the focal firm runs. 1,000 customers (resized), 2 seeds; the largest
    share seen is about 0.5, well clear of 0.6."""
    from relsim import load_scenario
    base = load_scenario(name, **{"market.competition": "adaptive", "market.engine": "arrays"})
    scenario = base.resized(min(1000, base.market.customers))
    for strategy in ("relationship", "transactional"):
        for seed in range(2):
            steps = simulate(scenario.with_focal_strategy(strategy), seed=seed).steps
            last = steps[steps["week"] > steps["week"].max() - 52]
            shares = last.groupby("firm")["revenue"].sum() / last["revenue"].sum()
            assert shares.max() <= 0.6, (name, strategy, seed, shares.round(3).to_dict())
