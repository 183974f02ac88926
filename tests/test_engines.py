"""The two engines: the same start, the same building blocks, the array engine's own parts.

Whether the engines produce the same *outcomes* is the docking test
(tests/test_docking.py); here: both start from the same market for a seed,
the array forms of shared helpers equal their scalar forms, the array
engine's batching keeps each dyad's events in order, its memory stays
within budget, and the engine is chosen from scenarios and the CLI.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from relsim import simulate
from relsim.cli import main
from relsim.market.draws import Draws, lognormal
from relsim.market.engines.arrays import rounds
from relsim.market.model import MarketModel
from relsim.market.network import build_network
from relsim.scenario.schema import NetworkSpec, ScenarioError
from tests.conftest import small

ENGINES = ("agents", "arrays")


def test_both_engines_start_from_the_same_market():
    """Same seed: same traits, awareness, initial customers and their history."""
    scenario = small(customers=800, weeks=4)
    agents = MarketModel(scenario, seed=11, engine="agents")
    arrays = MarketModel(scenario, seed=11, engine="arrays")
    arrays.population.begin_week()   # the first week: nothing has decayed yet
    for trait in ("segment_of", "need_rate", "direct", "aware"):
        np.testing.assert_array_equal(getattr(agents, trait), getattr(arrays, trait))
    np.testing.assert_array_equal(agents.network.indices, arrays.network.indices)
    for firm in range(len(scenario.firms)):
        members = agents.population.members_of(firm)
        np.testing.assert_array_equal(np.sort(members), arrays.population.members_of(firm))
        order = np.argsort(members)
        agent_state = agents.population.relationship_state(firm)
        array_state = arrays.population.relationship_state(firm)
        for name in ("trust", "commitment", "purchases", "last_purchase"):
            # the array engine holds its state in 32-bit floats
            np.testing.assert_allclose(agent_state[name][order], array_state[name], rtol=1e-6)


def test_rounds_keep_each_dyads_events_in_order():
    rng = np.random.default_rng(3)
    customers = rng.integers(0, 20, 500)
    firms = rng.integers(0, 3, 500)
    batches = rounds(customers, firms, 3)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(500))          # every event exactly once
    last_round = {}
    for number, batch in enumerate(batches):
        keys = customers[batch] * 3 + firms[batch]
        assert len(set(keys.tolist())) == keys.size            # a dyad at most once per round
        for event, key in zip(batch.tolist(), keys.tolist(), strict=True):
            # a dyad's k-th event is in round k, after its earlier events
            assert last_round.get(key, (-1, -1))[1] < event
            last_round[key] = (number, event)
    assert len(rounds(np.arange(5), 0, 2)) == 1                 # no repeats: one round
    assert rounds(np.zeros(0, dtype=int), 0, 2) == []


@pytest.mark.parametrize("kind", ["small_world", "fully_mixed"])
def test_listeners_picked_on_arrays_as_one_by_one(kind):
    network = build_network(NetworkSpec(kind=kind, mean_degree=6, rewiring=0.2), 300,
                            np.random.default_rng(1))
    talkers = np.random.default_rng(2).integers(0, 300, 1000)
    uniforms = np.random.default_rng(4).random(1000)

    class Replay(Draws):
        def __init__(self, values):
            self.values = list(values)

        def uniform(self):
            return self.values.pop(0)

    replay = Replay(uniforms)
    one_by_one = [network.pick_listener(int(t), replay) for t in talkers]
    np.testing.assert_array_equal(network.pick_listeners(talkers, uniforms), one_by_one)
    assert (network.pick_listeners(talkers, uniforms) != talkers).all()   # nobody talks to themself


def _state_after_word_of_mouth(kind: str, fused: bool):
    """A 300-customer market after four weeks, then every customer talks about firm 0 (a random
    half positive): by ``events.talk_and_hear`` (``fused``) or by ``events.talk``, the array
    engine's rounds and ``events.hear``; returns what the hearing changed and the talk counts."""
    from relsim.market import events
    from relsim.market.draws import BatchDraws
    model = MarketModel(small(customers=300, weeks=8, **{"market.network.kind": kind}), seed=5)
    for _ in range(4):
        model.step()
    state = model.population.state
    talkers = np.arange(300)
    positive = np.random.default_rng(6).random(300) < 0.5
    draws = BatchDraws({"events": np.random.default_rng(7), "operations": np.random.default_rng(8)})
    if fused:
        events.talk_and_hear(state, 0, talkers, positive, draws)
    else:
        listeners, heard = events.talk(state, 0, talkers, positive, draws)
        order = np.concatenate(rounds(listeners, 0, state.firm_count))
        assert order.size > np.unique(listeners).size   # some listener is reached twice: rounds matter
        events.hear(state, 0, listeners[order], heard[order], draws)
    return ([state.wom.copy(), state.referred.copy(), state.source.copy(), model.aware.copy(),
             model.extra_occasions.copy()], list(model.firms[0].wom_spoken))


@pytest.mark.parametrize("kind", ["small_world", "fully_mixed"])
def test_talk_and_hear_in_one_call_as_talk_then_hear_in_rounds(kind):
    """The array engine's word of mouth in one compiled call per firm (``events.talk_and_hear``)
    changes the state as ``events.talk``, the rounds of its listeners and ``events.hear`` did,
    bit for bit, on the same draws (a listener reached twice hears in the second round)."""
    fused, fused_spoken = _state_after_word_of_mouth(kind, fused=True)
    apart, apart_spoken = _state_after_word_of_mouth(kind, fused=False)
    assert fused_spoken == apart_spoken and sum(fused_spoken) > 0
    for one, other in zip(fused, apart, strict=True):
        np.testing.assert_array_equal(one, other)
    assert fused[4].sum() > 0   # some prospect tries the firm (the referral draws matter)


def test_lognormal_on_arrays_as_on_floats():
    normals = np.random.default_rng(5).standard_normal(50)
    means, cvs = np.full(50, 40.0), np.linspace(0, 1.2, 50)
    np.testing.assert_allclose(lognormal(means, cvs, normals),
                               [lognormal(40.0, cv, z) for cv, z in zip(cvs, normals, strict=True)])


@pytest.mark.parametrize("engine", ENGINES)
def test_trailing_margin_is_the_current_quarter_and_three_before(engine):
    scenario = small(customers=50, weeks=4, engine=engine, **{"firms.0.levers": {"pruning": True}})
    model = MarketModel(scenario, seed=1)
    state = model.population.state
    state.quarter_margins[0][:] = 0.0
    customer = np.array([7])

    def at(week, margin=0.0):
        model.week = week
        state.begin_week()
        state.quarter_margins[0][7, int(week // 13) % 4] += margin
        return float(state.trailing_margin(customer, 0)[0])

    for week, margin in ((1, 1.0), (14, 10.0), (30, 100.0), (45, 1000.0)):
        at(week, margin)
    assert at(45) == 1111.0        # quarters 0-3
    assert at(52) == 1110.0        # quarter 4 begins: quarter 0 drops out
    assert at(80) == 1000.0        # quarter 6: quarters 3-6
    assert at(95, 5.0) == 5.0      # quarter 7: quarters 4-6 had nothing
    assert at(200) == 0.0


def test_array_margin_buckets_forget_quarters_a_year_old():
    scenario = small(customers=200, weeks=4, engine="arrays",
                     **{"market.step_weeks": 2.0, "firms.0.levers": {"pruning": True}})
    model = MarketModel(scenario, seed=1)
    buckets = model.population.state.quarter_margins[0]
    buckets[:] = 1.0
    model.week = 13 * 5 + 1          # quarter 5 (steps of two weeks skip week 65)
    model.population.begin_week()
    assert (buckets == 0).all()      # quarters 2-5 started since quarter 0: every bucket is new
    buckets[:] = 1.0
    model.week = 13 * 6 + 3          # quarter 6: only its bucket starts afresh
    model.population.begin_week()
    assert (buckets[:, 6 % 4] == 0).all() and (np.delete(buckets, 6 % 4, axis=1) == 1).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_key_accounts_are_the_top_share_by_trailing_margin(engine):
    scenario = small(customers=600, weeks=26, engine=engine, **{
        "firms.0.strategy": "partnership", "firms.0.levers": {"key_account_share": 0.1}})
    model = MarketModel(scenario, seed=3)
    model.run()
    population = model.population
    members = population.members_of(0)
    population.review_key_accounts(0, 0.1)
    margins = population.state.trailing_margin(members, 0)
    key = population.state.key_account[members]
    assert key.sum() == round(0.1 * members.size) > 0
    assert margins[key].min() >= margins[~key].max()
    assert population.serve_key_accounts(0) == key.sum()


@pytest.mark.parametrize("engine", ENGINES)
def test_distributor_customers_pay_the_channel_fee(engine):
    steps = simulate(small("b2b", customers=400, weeks=104, engine=engine), seed=2).steps
    assert steps["new_partner"].sum() > 0 and steps["partner_fees"].sum() > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_runs_without_operations(engine):
    steps = simulate(small(customers=400, weeks=20, engine=engine, **{"operations.enabled": False}),
                     seed=1).steps
    assert steps["tickets"].sum() == 0 and steps["failures"].sum() == 0 and steps["orders"].sum() > 0


def test_array_engine_same_seed_same_tables():
    scenario = small("alliance", customers=500, weeks=30, engine="arrays")
    first, second = simulate(scenario, seed=5), simulate(scenario, seed=5)
    for table in ("steps", "customers", "cohorts"):
        pdt.assert_frame_equal(getattr(first, table), getattr(second, table))
    assert not first.steps.equals(simulate(scenario, seed=6).steps)


def test_array_engine_tables_have_the_agent_engines_columns():
    for table in ("steps", "customers", "cohorts"):
        agents = getattr(simulate(small(customers=300, weeks=14), seed=1), table)
        arrays = getattr(simulate(small(customers=300, weeks=14, engine="arrays"), seed=1), table)
        assert list(agents.columns) == list(arrays.columns), table
        assert len(arrays) > 0
        pd.testing.assert_series_equal(agents.dtypes, arrays.dtypes, check_names=False)


def test_array_state_stays_within_300_bytes_per_customer():
    """The issue's memory budget (network excluded), for the 4-firm ecommerce scenario."""
    scenario = small(customers=20_000, weeks=1, engine="arrays")
    model = MarketModel(scenario, seed=1)
    assert model.population.state_bytes() / 20_000 <= 300


def test_unknown_engine_is_refused_with_the_allowed_values():
    with pytest.raises(ScenarioError, match=r"market\.engine.*agents.*arrays"):
        small(engine="numba")


def test_cli_engine_flag(tmp_path, capsys):
    assert main(["run", "b2b", "--engine", "arrays", "--weeks", "6", "--customers", "300",
                 "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "steps.parquet").exists()
    with pytest.raises(SystemExit) as stop:
        main(["run", "b2b", "--engine", "array", "--out", str(tmp_path / "bad")])
    assert stop.value.code == 2
    assert "invalid choice: 'array'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("rate", [0.15, 2.5, 45.0])
def test_poisson_by_inversion_has_poisson_moments(rate):
    """Mean, variance and P(0) of 200,000 draws against λ, λ and e^−λ. Standard errors:
    mean √(λ/n); variance ≈ λ·√(2/n) (plus λ^{1/2}/√n for the fourth cumulant);
    P(0) √(p(1−p)/n). Tolerances are 5 of them."""
    from relsim.market.draws import poisson
    n = 200_000
    counts = poisson(np.random.default_rng(9), np.full(n, rate))
    assert abs(counts.mean() - rate) < 5 * np.sqrt(rate / n)
    assert abs(counts.var() - rate) < 5 * (rate * np.sqrt(2 / n) + np.sqrt(rate / n))
    p0 = np.exp(-rate)
    assert abs((counts == 0).mean() - p0) < 5 * np.sqrt(p0 * (1 - p0) / n) + 1e-12
    assert counts.dtype.kind == "i" and counts.min() >= 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_win_back_offer_without_discount_is_no_offer(engine):
    """With costs.retention_offer_discount = 0 nobody is offered anything (and nothing is paid)."""
    levers = {"retention_offer": True, "personalisation": 0.0}
    with_offers = small(customers=300, weeks=20, engine=engine, **{
        "firms.0.strategy": "proactive", "firms.0.levers": levers, "costs.retention_offer_discount": 0.0})
    without = small(customers=300, weeks=20, engine=engine, **{
        "firms.0.strategy": "proactive", "firms.0.levers": {**levers, "retention_offer": False},
        "costs.retention_offer_discount": 0.0})
    pdt.assert_frame_equal(simulate(with_offers, seed=3).steps, simulate(without, seed=3).steps)


def test_array_engine_with_many_firms_and_programmes():
    """130 firms (beyond an 8-bit firm number), 20 loyalty programmes (beyond 16 bits)."""
    from relsim.scenario.schema import from_dict
    from tests.conftest import scenario_dict
    data = scenario_dict("ecommerce")
    template = data["firms"][0]
    data["firms"] = [{**template, "name": f"Firm {k}", "initial_share": 0.002, "initial_awareness": 0.05,
                      "levers": {"reward_rate": 0.02} if k < 20 else {}} for k in range(130)]
    data["market"].update(customers=400, weeks=3, engine="arrays", competition="static")
    steps = simulate(from_dict(data), seed=1).steps
    assert steps["firm"].nunique() == 130 and steps["orders"].sum() > 0
    late_firms = steps["firm"].isin(["Firm 128", "Firm 129"])   # numbers an int8 cannot hold
    assert steps.loc[late_firms, "customers"].sum() > 0


def test_too_many_programmes_for_the_array_engine_is_a_clear_error(tmp_path, capsys):
    """65 loyalty programmes do not fit the array engine's bits: exit 2, a message, nothing written."""
    import tomli_w

    from tests.conftest import scenario_dict
    data = scenario_dict("ecommerce")
    template = data["firms"][0]
    data["firms"] = [{**template, "name": f"Firm {k}", "initial_share": 0.01, "levers": {"reward_rate": 0.02}}
                     for k in range(65)]
    data["market"].update(customers=200, weeks=2)
    path = tmp_path / "many.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    status = main(["run", str(path), "--engine", "arrays", "--out", str(tmp_path / "out")])
    stderr = capsys.readouterr().err
    assert status == 2
    assert "at most 64 loyalty programmes" in stderr and "65" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("size", [1, 2, 7, 300, 1000, 1001, 5000])
@pytest.mark.parametrize("one_firm", [False, True])
def test_rounds_are_the_occurrences_of_each_dyad(size, one_firm):
    """Round k holds, in batch order, exactly the events that are the k-th of their dyad: the
    compiled small-batch split (a hash table of dyads) and numpy's sort for large batches
    against a count event by event; few customers, so dyads repeat up to many times."""
    rng = np.random.default_rng(size)
    customers = rng.integers(0, max(2, size // 5), size)
    firms = 2 if one_firm else rng.integers(0, 4, size)
    keys = customers * 4 + firms
    seen: dict[int, int] = {}
    occurrence = []
    for key in np.broadcast_to(keys, customers.shape).tolist():
        occurrence.append(seen.get(key, 0))
        seen[key] = occurrence[-1] + 1
    occurrence_array = np.array(occurrence)
    expected = [np.flatnonzero(occurrence_array == k).tolist() for k in range(occurrence_array.max() + 1)]
    assert [batch.tolist() for batch in rounds(customers, firms, 4)] == expected
    distinct = rng.permutation(size)   # every dyad once: one round
    assert [batch.tolist() for batch in rounds(distinct, firms, 4)] == [list(range(size))]
    # large batches counted in the population's dyad cells (kernels.dense_rounds), left zero
    counts = np.zeros(4 * size, dtype=np.int32)
    assert [batch.tolist() for batch in rounds(customers, firms, 4, counts)] == expected
    assert [batch.tolist() for batch in rounds(distinct, firms, 4, counts)] == [list(range(size))]
    assert not counts.any()


@pytest.mark.parametrize("size", [2, 5000, 70000])
def test_time_order_is_numpys_stable_argsort(size):
    """The deliveries' time order (``engines.arrays._time_order``; above 4,096 times the compiled
    radix sort ``kernels.stable_time_order``) is ``np.argsort(kind="stable")``: continuous times,
    times with many ties (kept in batch order), and ties of 0.0 with -0.0, infinities and NaNs
    (last, in batch order); negative times go to numpy's sort."""
    from relsim.market import kernels
    from relsim.market.engines.arrays import _time_order

    rng = np.random.default_rng(size)
    continuous = 100.0 + rng.random(size)
    tied = np.round(continuous, 2)
    odd = tied.copy()
    odd[::7], odd[::11], odd[::13], odd[::17] = np.nan, -0.0, 0.0, np.inf
    for times in (continuous, tied, odd, 1e6 * rng.random(size)):
        assert _time_order(times).tolist() == np.argsort(times, kind="stable").tolist()
        assert kernels.stable_time_order(times).tolist() == np.argsort(times, kind="stable").tolist()
    negative = continuous - 100.5
    assert kernels.stable_time_order(negative).size == 0
    assert _time_order(negative).tolist() == np.argsort(negative, kind="stable").tolist()


def test_calendar_kernels_equal_numpy():
    """``kernels.take_due`` (the week's deliveries of a large calendar) is the numpy it replaces:
    the orders due before ``until`` in stable time order (ties of due times in the calendar's
    order) and the rest in calendar order, for a large calendar (radix sort) and a week's few
    orders (merge sort); status 0 when none is due, 2 for a negative due time among many.
    ``kernels.first_buyers`` is ``np.flatnonzero`` of the occasions among those who know a firm."""
    from relsim.market import kernels

    rng = np.random.default_rng(5)
    # a large calendar (radix sort) and a week's few orders (merge sort, with ties of 0.0 and -0.0)
    for size in (20000, 300):
        customer, firm = rng.integers(0, 10**6, size), rng.integers(0, 4, size)
        due = 100.0 + 2.0 * rng.random(size)
        due[::5] = np.round(due[::5], 1)   # ties
        late, defective = rng.random(size) < 0.1, rng.random(size) < 0.05
        cases = [(101.0, due), (1.0, np.where(np.arange(size) % 3 == 0, -0.0, 0.0))]
        if size < 4096:   # negative times too (the radix sort leaves them to numpy: status 2)
            cases.append((0.5, due - 101.0))
        for until, times in cases:
            status, *taken = kernels.take_due(customer, firm, times, late, defective, until)
            now = times < until
            order = np.flatnonzero(now)[np.argsort(times[now], kind="stable")]
            assert status == 1
            for k, values in enumerate((customer, firm, times, late, defective)):
                assert taken[k].tolist() == values[order].tolist()
                assert taken[5 + k].tolist() == values[~now].tolist()
        assert kernels.take_due(customer, firm, due, late, defective, 50.0)[0] == 0
        if size > 4096:
            assert kernels.take_due(customer, firm, due - 101.0, late, defective, 0.5)[0] == 2
    due[7] = np.nan   # never due (as numpy's ``due < until``): kept in the calendar
    status, *taken = kernels.take_due(customer, firm, due, late, defective, 101.0)
    assert status == 1 and np.isnan(taken[7]).sum() == 1 and not np.isnan(taken[2]).any()
    occasions = rng.integers(0, 3, size) * (rng.random(size) < 0.3)
    aware = rng.random((size, 4)) < 0.3
    buyers = np.flatnonzero(occasions)
    assert (kernels.first_buyers(occasions, aware.view("u4").reshape(-1)).tolist()
            == buyers[aware[buyers].any(axis=1)].tolist())


def test_ticket_priority_kernel_equals_numpy():
    """``kernels.ticket_priority`` (``events.tickets``) is the numpy it replaced: key-account
    priority only for a key account of the ticket's own firm (a customer asking another firm,
    or nobody's customer, waits as anyone)."""
    from relsim.market import kernels
    from relsim.market.terms import KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY

    rng = np.random.default_rng(9)
    key_account = rng.random(500) < 0.4
    current = rng.integers(-1, 3, 500).astype(np.int8)
    customers, firms = rng.integers(0, 500, 2000), rng.integers(0, 3, 2000)
    expected = np.where(key_account[customers] & (current[customers] == firms), KEY_ACCOUNT_PRIORITY,
                        STANDARD_PRIORITY)
    priority = kernels.ticket_priority(customers, firms, key_account, current, KEY_ACCOUNT_PRIORITY,
                                       STANDARD_PRIORITY)
    assert priority.tolist() == expected.tolist()
    assert len(set(priority.tolist())) == 2


def test_warning_talkers_kernel_equals_numpy_and_talkers():
    """``kernels.warning_talkers`` (``events.warning_leavers``) is what it replaced: the recent
    leavers within their warning weeks and customers of nobody kept in order (numpy's masks),
    and who of them talks, for or against, as ``kernels.talkers`` on their gathered state."""
    from relsim.market import kernels

    rng = np.random.default_rng(12)
    size, firms_count = 400, 3
    leavers = rng.integers(0, size, 300)
    firms = rng.integers(0, firms_count, 300)
    until, left = rng.uniform(8.0, 14.0, 300), rng.uniform(0.0, 10.0, 300)
    current = rng.integers(-1, firms_count, size).astype(np.int8)
    satisfaction = rng.uniform(-1.0, 1.0, (size, firms_count)).astype(np.float32)
    commitment = rng.uniform(0.0, 1.0, (size, firms_count)).astype(np.float32)
    draws = rng.random(size)
    weights = np.array([0.02, 0.1, 0.1, 0.3, -0.3, 0.2])
    *kept, talkers, talker_firms, positive = kernels.warning_talkers(
        leavers, firms, until, left, 10.0, current, satisfaction, commitment, draws, weights)
    keep = (10.0 < until) & (current[leavers] < 0)
    for got, values in zip(kept, (leavers, firms, until, left), strict=True):
        assert got.tolist() == values[keep].tolist()
    leavers, firms = leavers[keep], firms[keep]
    talking, good = kernels.talkers(satisfaction[leavers, firms], commitment[leavers, firms], draws, leavers, weights)
    assert talkers.tolist() == leavers[talking].tolist() and talker_firms.tolist() == firms[talking].tolist()
    assert positive.tolist() == good[talking].tolist()
    assert 0 < talkers.size < leavers.size and 0 < positive.sum() < positive.size


def test_delivery_kernels_equal_the_numpy_they_replaced():
    """``events.delivery``'s kernels are the numpy and ``kernels.deliver`` they replaced:
    ``ask_and_deliver`` takes the questions (draw below the rate; key accounts of the ticket's
    firm first) and then updates the state as ``deliver`` does; ``complaints`` splits the failed
    orders into complaints (voice draw below its probability, or called back) and the silent;
    ``chosen_where`` keeps the silent whose exit draw is below its probability."""
    from relsim.market import events, kernels
    from relsim.market.terms import FOLLOW_UP_LEVEL, KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY

    model = MarketModel(small(customers=400, weeks=8), seed=3)
    for _ in range(4):
        model.step()
    state = model.population.state
    state.key_account[::3] = True
    rng = np.random.default_rng(13)
    size = 600
    customers, firms = rng.integers(0, 400, size), rng.integers(0, state.firm_count, size)
    late, defective, times = rng.random(size) < 0.3, rng.random(size) < 0.2, 4.0 + rng.random(size)
    terms = events.Terms(state)
    names = ("satisfaction", "commitment", "trust", "reciprocity", "knowledge", "responsiveness",
             "satisfaction_shortfall")

    def updates(arrays):
        return (customers, firms, late, defective, 4.0, state.firm_count, state.segment, state.current,
                state.spell_start, arrays["satisfaction"], arrays["commitment"], arrays["trust"],
                arrays["reciprocity"], arrays["knowledge"], arrays["responsiveness"], arrays["satisfaction_shortfall"],
                terms.quality, terms.level, terms.list_price, state.expectation, state.service_sensitivity,
                terms.delivery, terms.contact, FOLLOW_UP_LEVEL)

    apart = {name: getattr(state, name).copy() for name in names}
    fused = {name: values.copy() for name, values in apart.items()}
    questions = rng.random(size)
    expected = kernels.deliver(*updates(apart))
    *asked, priority = kernels.ask_and_deliver(questions, 0.3, times, state.key_account, KEY_ACCOUNT_PRIORITY,
                                              STANDARD_PRIORITY, *updates(fused))[:4]
    fresh = {name: getattr(state, name).copy() for name in names}
    got = kernels.ask_and_deliver(questions, 0.3, times, state.key_account, KEY_ACCOUNT_PRIORITY,
                                  STANDARD_PRIORITY, *updates(fresh))[4:]
    asks = questions < 0.3
    for values, whole in zip(asked, (customers, firms, times), strict=True):
        assert values.tolist() == whole[asks].tolist()
    key = state.key_account[customers[asks]] & (state.current[customers[asks]] == firms[asks])
    assert priority.tolist() == np.where(key, KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY).tolist()
    assert 0 < key.sum() < key.size
    for name in names:
        np.testing.assert_array_equal(fused[name], apart[name])
    assert not np.array_equal(fused["trust"], state.trust)   # the updates were made
    follow_up, failed, voice_probability, exit_probability = expected[:4]
    assert failed.any()
    voice, exit_draws = rng.random(size), rng.random(size)
    *complained, by_firm, silent = kernels.complaints(
        failed, voice, voice_probability, follow_up, customers, firms, times, state.key_account, state.current,
        KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY, state.firm_count)
    complain = failed & ((voice < voice_probability) | follow_up)
    for values, whole in zip(complained[:3], (customers, firms, times), strict=True):
        assert values.tolist() == whole[complain].tolist()
    key = state.key_account[customers[complain]] & (state.current[customers[complain]] == firms[complain])
    assert complained[3].tolist() == np.where(key, KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY).tolist()
    assert by_firm.tolist() == np.bincount(firms[complain], minlength=state.firm_count).tolist()
    assert silent.tolist() == (failed & ~complain).tolist() and 0 < silent.sum() < failed.sum()
    exits = silent & (exit_draws < exit_probability)
    leaving, leaving_times = kernels.chosen_where(silent, exit_draws, exit_probability, customers, times)
    assert leaving.tolist() == customers[exits].tolist() and leaving_times.tolist() == times[exits].tolist()
    for one, other in zip(got, expected, strict=True):
        np.testing.assert_array_equal(one, other)


def test_referral_trials_kernel_equals_numpy_add_at():
    """``kernels.referral_trials`` (``events.hear``) is numpy's
    ``np.add.at(extra, prospects[draws < trial], 1)``: a prospect drawn twice gets two occasions."""
    from relsim.market import kernels

    rng = np.random.default_rng(14)
    prospects, draws = rng.integers(0, 50, 300), rng.random(300)
    extra = rng.integers(0, 3, 50).astype(np.int16)
    expected = extra.copy()
    np.add.at(expected, prospects[draws < 0.4], 1)
    kernels.referral_trials(prospects, draws, 0.4, extra)
    assert extra.tolist() == expected.tolist() and (expected - extra.min()).max() >= 2


def test_end_spells_kernel_records_what_leave_recorded():
    """``kernels.end_spells`` (``events.leave``) is ``kernels.leave`` and the numpy that followed
    it: the customers as int32, their firms in ``current``'s type, the spells' starts gathered,
    the ends at the week in 32 bits, and ``dormant_until`` set (cast to its type) only when asked."""
    from relsim.market import kernels

    rng = np.random.default_rng(15)
    size, firm_count = 300, 3

    def fresh():
        current = rng.integers(0, firm_count, size).astype(np.int8)
        return [current, np.bincount(current, minlength=firm_count).astype(np.int64), rng.random(size) < 0.3,
                rng.integers(1, 3, (size, firm_count)).astype(np.int16),
                rng.integers(0, 5, (size, firm_count)).astype(np.int8), 5,
                rng.random((size, firm_count)).astype(np.float32)]

    customers = rng.permutation(size)[:120]
    spell_start = rng.uniform(0, 40, size).astype(np.float32)
    for set_dormant in (True, False):
        state = fresh()
        copy = [value.copy() if isinstance(value, np.ndarray) else value for value in state]
        dormant_until = np.full(size, -np.inf, dtype=np.float32)
        ids, small, starts, ends, *left = kernels.end_spells(customers, *state, spell_start, np.float32(52.3),
                                                             dormant_until, np.float32(60.7), set_dormant)
        expected = kernels.leave(customers, *copy)
        for one, other in zip(left, expected, strict=True):
            assert one.tolist() == other.tolist()
        assert ids.dtype == np.int32 and ids.tolist() == customers.tolist()
        assert small.dtype == np.int8 and small.tolist() == expected[0].tolist()
        assert starts.tolist() == spell_start[customers].tolist()
        assert ends.dtype == np.float32 and (ends == np.float32(52.3)).all()
        assert (dormant_until[customers] == (np.float32(60.7) if set_dormant else -np.inf)).all()
        assert np.isinf(np.delete(dormant_until, customers)).all()


@pytest.mark.parametrize("size", [300, 5000])
def test_due_in_rounds_is_take_due_then_rounds(size):
    """``kernels.due_in_rounds`` (``ArrayPopulation._take_due``) is ``kernels.take_due`` and then
    ``rounds`` of the deliveries taken: the delivered arrays in round order (round ``r`` the
    ``r``-th delivery of every dyad with more than ``r``, in time order), the kept ones as
    ``take_due`` keeps them; a few by ``dyad_rounds``, many by ``dense_rounds``."""
    from relsim.market import kernels

    rng = np.random.default_rng(size)
    customer, firm = rng.integers(0, size // 10, size), rng.integers(0, 3, size)   # many repeated dyads
    due = 100.0 + 2.0 * rng.random(size)
    late, defective = rng.random(size) < 0.1, rng.random(size) < 0.05
    counts = np.zeros((size // 10) * 3, dtype=np.int32)
    status, *taken, starts = kernels.due_in_rounds(customer, firm, due, late, defective, 101.5, 3, counts, 1000)
    expected_status, *expected = kernels.take_due(customer, firm, due, late, defective, 101.5)
    assert status == expected_status == 1
    batches = rounds(expected[0], expected[1], 3)
    assert len(batches) > 2 and starts.tolist() == [0, *np.cumsum([b.size for b in batches]).tolist()]
    order = np.concatenate(batches)
    for k in range(5):
        assert taken[k].tolist() == expected[k][order].tolist()
        assert taken[5 + k].tolist() == expected[5 + k].tolist()
    assert not counts.any()   # dense_rounds leaves its counts at zero


def test_stayers_by_firm_keeps_each_firms_stayers_and_where_they_start():
    """``kernels.stayers_by_firm`` (``ArrayPopulation.word_of_mouth_and_churn``) is ``stayers`` of
    ``~leaving`` and each firm's count of stayers before it (``np.count_nonzero`` by firm)."""
    from relsim.market import kernels

    rng = np.random.default_rng(16)
    starts = np.array([0, 700, 700, 1500, 2001])   # firm 1 has no customers
    arrays = [rng.random(2_001).astype(np.float32) for _ in range(5)] + [rng.integers(0, 9, 2_001).astype(np.int32)]
    arrays += [rng.random(2_001).astype(np.float32) for _ in range(2)]
    leaving = rng.random(2_001) < 0.1
    *kept, kept_starts = kernels.stayers_by_firm(leaving, starts, *arrays)
    assert all(np.array_equal(k, a[~leaving]) for k, a in zip(kept, arrays, strict=True))
    staying = [int(np.count_nonzero(~leaving[a:b])) for a, b in itertools.pairwise(starts.tolist())]
    assert kept_starts.tolist() == [0, *np.cumsum(staying).tolist()]


def test_answer_complaints_is_answer_then_its_complaints():
    """``kernels.answer_complaints`` (``events.answer``) updates the state as ``kernels.answer``
    and returns, for the complaints only (numpy's ``[complaint]``), customers, firms, times,
    unresolved and the probability of exit."""
    from relsim.market import events, kernels

    model = MarketModel(small(customers=400, weeks=8), seed=4)
    for _ in range(4):
        model.step()
    state = model.population.state
    rng = np.random.default_rng(17)
    size = 500
    customers, firms = rng.integers(0, 400, size), rng.integers(0, state.firm_count, size)
    complaint, resolved = rng.random(size) < 0.5, rng.random(size) < 0.5
    response, times = rng.exponential(0.3, size), 4.0 + rng.random(size)
    names = ("satisfaction", "commitment", "trust", "reciprocity", "responsiveness", "satisfaction_shortfall")
    apart = {name: getattr(state, name).copy() for name in names}
    fused = {name: values.copy() for name, values in apart.items()}
    terms = events.Terms(state).answer
    unresolved, exit_probability = kernels.answer(customers, firms, complaint, response, resolved, state.current,
                                                  *apart.values(), terms)
    got = kernels.answer_complaints(customers, firms, complaint, response, resolved, times, state.current,
                                    *fused.values(), terms)
    for one, other in zip(got, (customers, firms, times, unresolved, exit_probability), strict=True):
        assert one.tolist() == other[complaint].tolist()
    for name in names:
        np.testing.assert_array_equal(fused[name], apart[name])
    assert 0 < got[3].sum() < got[3].size
