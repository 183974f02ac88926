"""The compiled passes of a purchase round (``kernels`` section s15-shop) give the numbers of the
numpy operations and kernel calls they replaced, to the bit (``events.purchase``, ``events.order``,
``events.baskets``, ``ArrayPopulation.shop``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from relsim import load_scenario
from relsim.market.draws import lognormal_from, lognormal_shape
from relsim.market.model import MarketModel


@pytest.fixture(scope="module")
def market():
    """A small e-commerce market after a few weeks (its state arrays in the types a run holds)."""
    model = MarketModel(load_scenario("ecommerce", **{"market.engine": "arrays", "market.weeks": 8}).resized(400),
                        seed=3)
    model.run()
    return model


def test_next_shoppers_equal_the_masks():
    from relsim.market import kernels
    rng = np.random.default_rng(5)
    occasions = rng.integers(0, 4, 1000)
    dormant = np.where(rng.random(1000) < 0.2, np.inf, rng.integers(0, 20, 1000)).astype(np.float32)
    buyers = np.flatnonzero(occasions)
    for occasion, week in ((2, 10.0), (3, 0.0), (4, 19.0)):
        expected = buyers[(occasions[buyers] >= occasion) & (dormant[buyers] <= week)]
        found = kernels.next_shoppers(buyers, occasions, occasion, dormant, dormant.dtype.type(week))
        assert np.array_equal(found, expected) and found.dtype == expected.dtype


def test_switches_equal_the_masks():
    from relsim.market import kernels
    rng = np.random.default_rng(6)
    current = rng.integers(-1, 4, 800).astype(np.int8)
    buyers = np.sort(rng.choice(800, 300, replace=False)).astype(np.int64)
    chosen = rng.integers(0, 4, 300)
    leaving, joining, joined = kernels.switches(buyers, chosen, current)
    now = current[buyers]
    switching = now != chosen
    assert np.array_equal(leaving, buyers[switching & (now >= 0)])
    assert np.array_equal(joining, buyers[switching])
    assert np.array_equal(joined, chosen[switching]) and joined.dtype == chosen.dtype
    assert 0 < leaving.size < joining.size < buyers.size   # every case occurs


def test_gathered_lognormals_equal_lognormal_from(market):
    """A basket's and a lead time's lognormal with its shape gathered in compiled code and numpy's
    exp between: the numbers of ``lognormal_from`` on numpy's gathers, for 8-bit segment codes."""
    from relsim.market import kernels
    state = market.population.state
    rng = np.random.default_rng(7)
    buyers = rng.choice(state.size, 250, replace=False)
    normal = rng.standard_normal(250)
    sigma, half_variance = lognormal_shape(np.array([0.3, 0.7, 1.1, 0.5])[:state.basket_cv.size])
    mean = np.array([40.0, 55.5, 70.25, 33.0])[:sigma.size]
    segment = state.segment[buyers]
    expected = lognormal_from(mean.take(segment), sigma.take(segment), half_variance.take(segment), normal)
    found = kernels.gathered_products(buyers, state.segment, mean,
                                      np.exp(kernels.gathered_exponents(buyers, state.segment, sigma, half_variance,
                                                                        normal)))
    assert np.array_equal(found, expected)
    firms = rng.integers(0, 4, 250)
    sigma, half_variance = lognormal_shape(np.array([0.2, 0.4, 0.9, 0.35]))
    assert np.array_equal(np.exp(kernels.gathered_exponents(None, firms, sigma, half_variance, normal)),
                          np.exp(sigma.take(firms) * normal - half_variance.take(firms)))
    spend_rate = np.where(rng.random(state.size) < 0.01, 0.5, 0.0).astype(np.float32)
    assert kernels.any_positive_at(spend_rate, buyers) == bool((spend_rate[buyers] > 0).any())
    assert not kernels.any_positive_at(np.zeros(state.size, np.float32), buyers)


@pytest.mark.parametrize("week", [0.0, 17.0, 155.0])
def test_order_arrivals_equal_the_numpy_order(week):
    """Due time, lateness and defects of a round's orders as ``events.order`` worked them out in numpy."""
    from relsim.market import kernels
    rng = np.random.default_rng(8)
    chosen = rng.integers(0, 4, 300)
    placed, normal, defect_draws = rng.random(300), rng.standard_normal(300), rng.random(300)
    mean, cv, extra = np.array([1.5, 2.0, 0.7, 3.1]), np.array([0.3, 0.5, 0.2, 0.4]), np.array([0.0, 0.4, 0.0, 1.2])
    sigma, half_variance = lognormal_shape(cv)
    defect_rate = np.array([0.02, 0.1, 0.05, 0.3])
    step_weeks, promise = 1.0, 2.5
    by_firm = kernels.by_firm(chosen, 4)
    lead = (lognormal_from(mean.take(chosen), sigma.take(chosen), half_variance.take(chosen), normal)
            + extra.take(chosen))
    defect = np.empty(300)
    defect[by_firm] = defect_draws
    growth = np.exp(kernels.gathered_exponents(None, chosen, sigma, half_variance, normal))
    due, late, defective = kernels.order_arrivals(chosen, week, placed, step_weeks, growth, mean, extra, promise,
                                                  by_firm, defect_draws, defect_rate)
    assert np.array_equal(due, week + placed * step_weeks + lead)
    assert np.array_equal(late, lead > promise) and late.any() and not late.all()
    assert np.array_equal(defective, defect < defect_rate.take(chosen)) and defective.any()


@pytest.mark.parametrize("fees", [False, True])
def test_sell_and_record_equal_the_three_calls(market, fees):
    """``sell_and_record`` against ``order_terms``, ``sell`` and ``record_purchases`` called in turn on a
    copy of the same state: every output and every array of the state equal, to the bit."""
    from relsim.market import events, kernels
    state = market.population.state
    terms = events.Terms(state)
    rng = np.random.default_rng(9)
    buyers = np.sort(rng.choice(state.size, 120, replace=False)).astype(np.int64)
    chosen = rng.integers(0, state.firm_count, 120)
    values = rng.gamma(2.0, 20.0, 120)
    fee_shares = rng.uniform(0.0, 0.2, 120) if fees else None
    names = ("retention_offer", "offer", "source", "first_week", "purchases", "last_purchase", "spend", "margin",
             "current", "spell_start", "trust", "reciprocity", "commitment", "knowledge")
    mine = {name: copy.deepcopy(getattr(state, name)) for name in names}
    theirs = {name: copy.deepcopy(getattr(state, name)) for name in names}
    price, unit_cost, reward_share = terms.sale
    common = (float(market.week), )
    cells = buyers * state.firm_count + chosen
    discount, referred = kernels.order_terms(cells, theirs["retention_offer"].reshape(-1), 0.2,
                                             theirs["offer"].reshape(-1), theirs["source"].reshape(-1), 3)
    sums, counts, referrals, margins = kernels.sell(chosen, values, discount, price, unit_cost, reward_share,
                                                    fee_shares, 0.0, None, referred, state.firm_count)
    record = [theirs[name] for name in ("first_week", "purchases", "last_purchase", "spend", "margin", "offer",
                                        "retention_offer")]
    relation = [theirs[name] for name in ("current", "spell_start", "trust", "reciprocity", "commitment",
                                          "knowledge")]
    first = kernels.record_purchases(buyers, chosen, values, margins, *common, *record, 0.4, terms.rewarding,
                                     terms.reward_goodwill, *relation, terms.contact)
    found = kernels.sell_and_record(
        buyers, chosen, values, state.firm_count, mine["retention_offer"], 0.2, mine["offer"], mine["source"], 3,
        price, unit_cost, reward_share, fee_shares, None, *common, mine["first_week"], mine["purchases"],
        mine["last_purchase"], mine["spend"], mine["margin"], 0.4, terms.rewarding, terms.reward_goodwill,
        mine["current"], mine["spell_start"], mine["trust"], mine["reciprocity"], mine["commitment"],
        mine["knowledge"], terms.contact)
    for a, b in zip(found, (sums, counts, referrals, margins, first), strict=True):
        assert np.array_equal(a, b) and a.dtype == b.dtype
    for name in names:
        assert np.array_equal(mine[name], theirs[name]), name
    assert not np.array_equal(mine["purchases"], state.purchases)   # the record was written




def test_join_spells_equal_the_numpy_join():
    """``events.join`` of a purchase round (firms as an array: ``kernels.join_spells``) against its numpy
    path (one firm for all) on two identical markets: the same state, welcomes and books."""
    from relsim.market import events
    scenario = load_scenario("ecommerce", **{"market.engine": "arrays", "market.weeks": 30}).resized(400)
    markets = [MarketModel(scenario, seed=4) for _ in range(2)]
    for model in markets:
        model.run()
    states = [model.population.state for model in markets]
    nobody = np.flatnonzero(states[0].current < 0)
    firm = 1
    assert (states[0].spells[nobody, firm] > 0).any() and (states[0].spells[nobody, firm] == 0).any()
    events.join(states[0], nobody, firm)
    events.join(states[1], nobody, np.full(nobody.size, firm))
    for name in ("spells", "source", "satisfaction_shortfall", "spell_start", "current", "counts"):
        mine, theirs = getattr(states[1], name), getattr(states[0], name)
        assert np.array_equal(mine, theirs) and mine.dtype == theirs.dtype, name
    for mine, theirs in zip(markets[1].firms, markets[0].firms, strict=True):
        assert mine.new_by_source == theirs.new_by_source and mine.books == theirs.books
    assert markets[1].firms[firm].new_by_source["returning"] > 0



@pytest.mark.parametrize("engine", ["arrays", "agents"])
def test_the_tables_equal_pandas_tables_of_the_rows(engine):
    """``Recorder.steps_table`` built column by column is pandas' table of the week's rows, and the
    customer table is in (customer, firm) order whether or not the engine's table came sorted."""
    import pandas as pd
    model = MarketModel(load_scenario("ecommerce", **{"market.engine": engine, "market.weeks": 12}).resized(150),
                        seed=2)
    model.run()
    recorder = model.recorder
    pd.testing.assert_frame_equal(recorder.steps_table(), pd.DataFrame(recorder.rows), check_exact=True)
    # a row with the same columns in another order is still read by name (pandas' table of the rows)
    recorder.rows.append(dict(reversed(list(recorder.rows[-1].items()))))
    pd.testing.assert_frame_equal(recorder.steps_table(), pd.DataFrame(recorder.rows), check_exact=True)
    recorder.rows.pop()
    table = recorder.customers_table()
    expected = model.population.customers_table().sort_values(["customer", "firm"], kind="stable",
                                                               ignore_index=True)
    assert len(table) > 20
    assert table["customer"].tolist() == expected["customer"].tolist()
    assert table["firm"].tolist() == [model.firms[f].name for f in expected["firm"]]
    assert table.index.equals(pd.RangeIndex(len(table)))
    # an engine's table out of that order is sorted
    shuffled = expected.sample(frac=1.0, random_state=1, ignore_index=True)
    model.population.customers_table = lambda: shuffled
    pd.testing.assert_frame_equal(recorder.customers_table(), table, check_exact=True)


def test_the_weekly_row_puts_each_count_and_mean_under_its_own_name(market):
    """``Recorder.record_week``'s column names (worked out once, s15-shop2): the last week's row of
    every firm holds the mean of each relationship parameter over the firm's customers (as
    ``metrics._mean`` takes it), its new customers by source, its churn by reason and the share of
    prospects, each under its own name."""
    from relsim.market import metrics, rules
    size = market.population.size
    for firm in market.firms:
        row = [row for row in market.recorder.rows if row["firm"] == firm.name][-1]
        state = market.population.relationship_state(firm.index)
        assert row["customers"] == len(state["trust"]) > 0
        for name in metrics.RELATIONSHIP:
            assert row[f"mean_{name}"] == metrics._mean(np.asarray(state[name]))
        for source, count in firm.new_by_source.items():
            assert row[f"new_{source}"] == count
        for reason, count in firm.churned_by_reason.items():
            assert row[f"churned_{reason}"] == count
        assert row[f"rung_{rules.RUNGS[rules.PROSPECT]}"] == (size - row["customers"]) / size
        assert sum(row[f"rung_{name}"] for name in rules.RUNGS) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_firm_means_equal_numpy_means_of_the_block(dtype):
    """``kernels.firm_means`` (s15-shop2) gives ``record_week``'s numpy means to the bit: each
    firm's part of each row summed by ``np.add.reduce`` (pairwise, in the block's type), divided
    by the count as an ``intp``, cast back; firms of 0, under 8, up to 128 and thousands of
    customers (each branch of the pairwise sum), values of mixed sign and magnitude."""
    from relsim.market import kernels
    rng = np.random.default_rng(9)
    for trial in range(60):
        sizes = rng.choice([0, 1, 5, 7, 8, 9, 100, 128, 129, 300, 1000, 4099], size=rng.integers(1, 6))
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        block = ((rng.random((5, starts[-1])) - 0.3) * 10.0 ** rng.integers(-3, 4, (5, starts[-1]))).astype(dtype)
        means = kernels.firm_means(block, starts, block.dtype.type(0))
        assert means.dtype == block.dtype
        for f, size in enumerate(sizes):
            if size:
                expected = (np.add.reduce(block[:, starts[f]:starts[f + 1]], axis=1) / np.intp(size)).astype(dtype)
                assert means[f].tolist() == expected.tolist(), (trial, f, size)


def test_the_weekly_means_are_the_same_by_numpy_above_the_compiled_size(monkeypatch):
    """Above ``metrics._COMPILED_MEANS_UP_TO`` customers ``record_week`` takes the means firm by firm in
    numpy: the same row, to the bit, as the compiled means of the market's last week."""
    from relsim.market import metrics
    model = MarketModel(load_scenario("ecommerce", **{"market.engine": "arrays", "market.weeks": 4}).resized(300),
                        seed=2)
    model.run()
    compiled = model.recorder.rows[-len(model.firms):]
    monkeypatch.setattr(metrics, "_COMPILED_MEANS_UP_TO", 0)
    model.recorder.record_week()
    by_numpy = model.recorder.rows[-len(model.firms):]
    for name in metrics.RELATIONSHIP:
        assert [row[f"mean_{name}"] for row in by_numpy] == [row[f"mean_{name}"] for row in compiled]
