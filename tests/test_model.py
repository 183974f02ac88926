"""The market model as a whole: accounting identities, switches, and the
direction of the main effects on small scenarios with fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim import simulate
from relsim.market.metrics import COST_LINES
from relsim.market.model import MarketModel
from relsim.studies.compare import compare
from tests.conftest import small

ENGINES = ("agents", "arrays")


@pytest.fixture(scope="module", params=ENGINES)
def ecommerce_run(request):
    return simulate(small(customers=600, weeks=40, engine=request.param), seed=3)


def test_books_add_up(ecommerce_run):
    steps = ecommerce_run.steps
    costs = steps[list(COST_LINES)].sum(axis=1)
    assert np.allclose(steps["profit"], steps["revenue"] - costs)
    for _, frame in steps.groupby("firm"):
        assert np.allclose(frame["cumulative_discounted_profit"], frame["discounted_profit"].cumsum())
        assert (frame["discounted_profit"].abs() <= frame["profit"].abs() + 1e-9).all()


def test_customer_counts_are_continuous(ecommerce_run):
    for _, frame in ecommerce_run.steps.groupby("firm"):
        previous = frame["customers"].shift(1)
        change = frame["new_customers"] - frame["churned"]
        assert np.array_equal((previous + change).iloc[1:].to_numpy(), frame["customers"].iloc[1:].to_numpy())
        sources = frame[[c for c in frame if c.startswith("new_") and c != "new_customers"]].sum(axis=1)
        assert np.array_equal(sources, frame["new_customers"])


def test_rungs_and_shares_are_shares(ecommerce_run):
    steps = ecommerce_run.steps
    rungs = steps[[c for c in steps if c.startswith("rung_")]]
    assert np.allclose(rungs.sum(axis=1), 1.0)
    assert np.allclose(steps.groupby("week")["market_share"].sum(), 1.0)
    for column in ("mean_trust", "mean_commitment", "mean_reciprocity", "mean_responsiveness"):
        assert steps[column].between(0, 1).all()


def test_customer_table_matches_the_books(ecommerce_run):
    customers, steps = ecommerce_run.customers, ecommerce_run.steps
    assert customers["purchases"].sum() >= steps["orders"].sum()   # initial customers bought before week 0
    # every active dyad is counted as a customer of its firm at the end
    active = customers[customers["active"]].groupby("firm").size()
    last = steps[steps["week"] == steps["week"].max()].set_index("firm")["customers"]
    assert active.sort_index().to_dict() == last.sort_index().to_dict()


@pytest.mark.parametrize("engine", ENGINES)
def test_word_of_mouth_switch(engine):
    steps = simulate(small(engine=engine, customers=400, weeks=30, **{"word_of_mouth.enabled": False}), seed=1).steps
    assert steps["new_wom"].sum() == 0 and steps["wom_positive"].sum() == 0
    steps = simulate(small(engine=engine, customers=400, weeks=30), seed=1).steps
    assert steps["wom_positive"].sum() > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_churn_switches(engine):
    off = simulate(small(engine=engine, customers=300, weeks=30, **{"churn.model": "off"}), seed=1).steps
    assert off[["churned_lapsed", "churned_failure"]].to_numpy().sum() == 0
    assert off["churned_switched"].sum() > 0      # switching is a choice, not churn hazard


@pytest.mark.parametrize("engine", ENGINES)
def test_more_desk_capacity_shortens_measured_response_times(engine):
    """Same seed, the focal firm's desk with 1 agent vs 6: the measured mean
    response time must fall (the desk is a real SimPy queue). With 6 agents a ticket
    waits only its handling time (≈ 0.02 weeks); with 1 it also queues, by how much
    depends on the seed's bursts: the ratio 6-agent / 1-agent, arrays engine, seeds 0-7,
    measured 2026-11-30: 0.46, 0.41, 0.62, 0.52, 0.54, 0.64, 0.63, 0.28 (the earlier
    bound 0.5 passed on seed 4 by luck: 0.50 before and 0.54 after the service-recovery
    cap). Asserted: below 0.75, a margin over the largest; a desk whose size does not
    matter gives 1."""
    times = []
    for capacity in (0.5, 3.0):
        scenario = small(engine=engine, customers=1500, weeks=26, **{"operations.question_rate": 0.4,
                                                      "firms.0.levers": {"service_capacity": capacity}})
        steps = simulate(scenario, seed=4).steps
        focal = steps[steps["firm"] == "Focal"]
        assert focal["desk_agents"].iloc[0] == round(capacity * 2)
        times.append(np.average(focal["mean_response_time"].fillna(0), weights=focal["tickets"]))
    assert times[1] < 0.75 * times[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_failures_lower_trust(engine):
    """All deliveries defective: trust of the focal firm's customers collapses."""
    good = simulate(small(engine=engine, customers=400, weeks=20, **{"suppliers.0.defect_rate": 0.0}), seed=2).steps
    bad = simulate(small(engine=engine, customers=400, weeks=20, **{"suppliers.0.defect_rate": 1.0}), seed=2).steps
    mean = lambda steps: steps.loc[steps["week"] >= 10, "mean_trust"].mean()  # noqa: E731
    assert mean(bad) < mean(good) - 0.1
    assert bad["complaints"].sum() > good["complaints"].sum()


@pytest.mark.parametrize("engine", ENGINES)
def test_pruning_lets_customers_go(engine):
    scenario = small(engine=engine, customers=600, weeks=80, **{"firms.0.levers": {"pruning": True,
                                                                    "pruning_min_margin": 1e9}})
    steps = simulate(scenario, seed=1).steps
    assert steps.loc[steps["firm"] == "Focal", "churned_pruned"].sum() > 0
    assert steps.loc[steps["firm"] != "Focal", "churned_pruned"].sum() == 0


def test_alliance_members_share_enrolment():
    scenario = small("alliance", customers=300, weeks=4, **{"market.competition": "static"})
    model = MarketModel(scenario, seed=0)
    focal, partner_firm, outsider = model.firms
    assert focal.programme == partner_firm.programme == "SkyPoints"
    state = model.population.state
    enrolled = (state.programmes & state.programme_bit[focal.index]) != 0
    before = focal.reward_value(enrolled[0])
    state.programmes[0] |= state.programme_bit[partner_firm.index]   # enrolled by buying at the competitor
    enrolled = (state.programmes & state.programme_bit[focal.index]) != 0
    assert focal.reward_value(enrolled[0]) == pytest.approx(2 * before)
    assert outsider.programme == ""


def test_committed_contract_partner_has_priority_in_a_shortage():
    scenario = small(customers=200, weeks=2, **{"firms.0.levers": {"supplier_contract": "long"}})
    model = MarketModel(scenario, seed=0)
    supplier = model.firms[0].supplier
    supplier.shortage_until = math.inf
    supplier.dyads[0].commitment = 0.9
    delay = supplier.spec.shortage_delay_weeks
    assert supplier.lead_time(model.firms[0], 0.0) < supplier.lead_time(model.firms[1], 0.0) - 0.9 * delay


@pytest.mark.slow
def test_relationship_retains_more_than_transactional():
    """The paired 95 % interval of the retention difference lies above zero."""
    comparison = compare(small(customers=800, weeks=78), ["transactional", "relationship"],
                         seeds=6, workers=2)
    retention = comparison.differences().set_index("metric").loc["annual_retention"]
    assert retention["ci_low"] > 0, retention


@pytest.mark.parametrize("engine", ENGINES)
def test_campaigns_reach_only_targeted_segments(engine):
    scenario = small(engine=engine, customers=800, weeks=12, **{
        "firms.0.initial_awareness": 0.0, "firms.0.initial_share": 0.0, "market.organic_awareness": 0.0,
        "word_of_mouth.enabled": False, "firms.0.levers": {"target_segments": ["loyalists"]}})
    model = MarketModel(scenario, seed=2)
    model.run()
    aware = np.flatnonzero(model.aware[:, 0])
    assert aware.size > 10   # enough reached to test targeting (the count depends on the draws)
    names = [segment.name for segment in scenario.segments]
    assert {names[model.segment_of[i]] for i in aware} == {"loyalists"}


@pytest.mark.parametrize("engine", ENGINES)
def test_customer_snapshots_only_when_asked(engine):
    plain = simulate(small(engine=engine, customers=300, weeks=12), seed=1)
    assert plain.snapshots.empty
    snap = simulate(small(engine=engine, customers=300, weeks=12, **{"market.snapshot_weeks": [3, 7]}), seed=1)
    assert sorted(snap.snapshots["snapshot_week"].unique()) == [3.0, 7.0]
    early = snap.snapshots[snap.snapshots["snapshot_week"] == 3.0]
    assert early["purchases"].sum() <= snap.customers["purchases"].sum()
    assert plain.steps.equals(snap.steps)          # observing does not change the run


def test_annual_retention_accounts_for_the_step_length():
    """One firm (no switching), constant weekly retention 0.99: annual retention 0.99^52 ≈ 0.593
    whether a step is one week or two. The estimate pools about customers × 52 exposures; with
    ~1,000 customers its standard error is below 0.02, so 0.06 is three standard errors."""
    from relsim.market.metrics import summarize
    from relsim.scenario.schema import from_dict, set_dotted
    from tests.conftest import scenario_dict
    for step in (1.0, 2.0):
        data = scenario_dict("ecommerce")
        data["firms"] = data["firms"][:1]
        for dotted, value in {"market.customers": 2000, "market.weeks": 104, "market.step_weeks": step,
                              "firms.0.initial_share": 0.5, "churn.model": "constant",
                              "churn.constant_retention": 0.99, "churn.lapsed_return": False}.items():
            set_dotted(data, dotted, value)
        summary = summarize(simulate(from_dict(data), seed=1).steps).set_index("firm")
        assert abs(summary.loc["Focal", "annual_retention"] - 0.99 ** 52) < 0.06, (step, summary)


def _services(engine: str, **changes):
    """The services scenario, small, static competition (so that money moves no rival's strategy)."""
    return small("services", customers=300, weeks=20, engine=engine, **{"market.competition": "static", **changes})


@pytest.mark.parametrize("engine", ENGINES)
def test_acquisition_cost_is_booked_once_per_customer_won(engine):
    """``costs.acquisition_per_customer`` (``rules.acquisition_cost``): every spell a firm starts
    during the run costs A on its acquisition line, the initial base nothing; the cost moves no
    behaviour (same orders, same customers)."""
    free = simulate(_services(engine, **{"costs.acquisition_per_customer": 0.0}), seed=2).steps
    paid = simulate(_services(engine), seed=2).steps
    assert paid["new_customers"].sum() > 0
    assert (paid["orders"] == free["orders"]).all() and (paid["customers"] == free["customers"]).all()
    np.testing.assert_allclose(paid["acquisition"] - free["acquisition"], 51.0 * paid["new_customers"])


@pytest.mark.parametrize("engine", ENGINES)
def test_tenure_effects_grow_bills_and_cut_the_cost_of_serving_them(engine):
    """``behaviour.basket_growth`` raises revenue and ``costs.serve_cost_saving`` lowers the cost
    of goods, within their bounds, without changing who buys what (same orders and customers)."""
    off = simulate(_services(engine, **{"behaviour.basket_growth": 0.0, "costs.serve_cost_saving": 0.0}),
                   seed=2).steps
    grow = simulate(_services(engine, **{"costs.serve_cost_saving": 0.0}), seed=2).steps
    save = simulate(_services(engine, **{"behaviour.basket_growth": 0.0}), seed=2).steps
    for steps in (grow, save):
        assert (steps["orders"] == off["orders"]).all() and (steps["customers"] == off["customers"]).all()
    assert (grow["revenue"] >= off["revenue"]).all() and grow["revenue"].sum() > off["revenue"].sum()
    assert (grow["revenue"] <= 1.5 * off["revenue"] + 1e-9).all()          # 1 + g_b, g_b = 0.5
    np.testing.assert_allclose(save["revenue"], off["revenue"])
    assert (save["cogs"] <= off["cogs"] + 1e-9).all() and save["cogs"].sum() < off["cogs"].sum()
    assert (save["cogs"] >= 0.9 * off["cogs"] - 1e-9).all()                 # 1 − s, s = 0.1


class _Allocator:
    """Records glibc's mallopt and malloc_trim calls (``relsim.market.model.freed_memory_kept``)."""

    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


def test_a_run_keeps_freed_memory_and_gives_it_back_afterwards(monkeypatch):
    """During a run glibc serves blocks up to 32 MiB from the heap and keeps what is freed (no
    fresh pages each week at 10^6 customers: benchmarks/README.md, session 14); afterwards, also
    after an error, the trim threshold is glibc's default again and the heap is trimmed."""
    from relsim.market import model as market_model
    allocator = _Allocator()
    monkeypatch.setattr(market_model, "_glibc", lambda: allocator)
    with pytest.raises(RuntimeError), market_model.freed_memory_kept():
        assert allocator.calls == [("mallopt", -3, 32 * 1024 * 1024), ("mallopt", -1, 1 << 30)]
        raise RuntimeError("a run that fails")
    assert allocator.calls[2:] == [("mallopt", -1, 128 * 1024), ("malloc_trim", 0)]
    # off glibc nothing is called
    monkeypatch.setattr(market_model, "_glibc", lambda: None)
    with market_model.freed_memory_kept():
        pass
    assert len(allocator.calls) == 4
