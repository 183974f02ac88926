"""``Firm.sell`` books a batch of orders at several firms in one call: each firm's book lines
must be the very sums (to the bit) of booking that firm's orders on their own, in batch order."""

from __future__ import annotations

import numpy as np
import pytest

from relsim import load_scenario
from relsim.market.firms import Firm
from relsim.market.model import MarketModel


def _books(firms):
    return [(dict(firm.books), firm.orders, firm.referral_orders) for firm in firms]


def _reset(firms, saved):
    for firm, (books, orders, referrals) in zip(firms, saved, strict=True):
        firm.books, firm.orders, firm.referral_orders = dict(books), orders, referrals


@pytest.mark.parametrize("size", [1, 7, 8, 9, 64, 1000, 5000])
def test_a_batch_at_several_firms_books_what_each_firm_alone_would(size):
    model = MarketModel(load_scenario("ecommerce", **{"market.engine": "arrays"}).resized(200), seed=0)
    firms = model.firms
    rng = np.random.default_rng(size)
    for firm in firms:   # the lines start from unround totals, as in a run
        for line in firm.books:
            firm.books[line] = float(rng.lognormal(8, 1))
    chosen = rng.integers(0, len(firms), size)
    basket = rng.lognormal(3, 1, size)
    discount = (rng.random(size) < 0.2) * 0.15
    fee = rng.choice([0.0, 0.1, 0.25], size)
    referred = rng.random(size) < 0.3
    cost_factor = rng.uniform(0.5, 1.0, size)
    start = _books(firms)
    margins = Firm.sell(firms, chosen, basket, discount, fee, referred, cost_factor)
    together = _books(firms)
    _reset(firms, start)
    alone = np.empty(size)
    for f in range(len(firms)):
        mine = chosen == f
        if mine.any():
            alone[mine] = Firm.sell(firms, chosen[mine], basket[mine], discount[mine], fee[mine], referred[mine],
                                    cost_factor[mine])
    assert _books(firms) == together   # float equality: the same bits
    assert np.array_equal(margins, alone)


def test_the_compiled_sums_by_firm_are_numpys_sums_to_the_bit():
    """``kernels.sums_by_firm`` (the pairwise summation numpy uses) against ``np.add.reduce`` of
    each firm's entries, for every size up to 600 and larger ones (both sides of the 8-entry and
    128-entry blocks and their halving), values of both signs, zeros and a firm without entries."""
    from relsim.market import kernels
    rng = np.random.default_rng(13)
    for size in [*range(1, 600), 1000, 1023, 1024, 1025, 4099, 20000]:
        firm_count = int(rng.integers(1, 6))
        firms = rng.integers(0, firm_count, size)
        lines = np.array([rng.lognormal(4, 2, size), rng.normal(0, 1e3, size), np.zeros(size),
                          rng.normal(0, 1, size) * (rng.random(size) < 0.5)])
        sums, counts = kernels.sums_by_firm(lines, firms, firm_count + 1)
        assert counts.tolist() == np.bincount(firms, minlength=firm_count + 1).tolist()
        for f in range(firm_count + 1):
            expected = [float(np.add.reduce(row[firms == f])) for row in lines]
            assert sums[f].tolist() == expected, (size, f)


@pytest.mark.parametrize("fee_kind", ["array", "scalar"])
@pytest.mark.parametrize("cost_kind", ["none", "float64", "float32"])
def test_the_compiled_sale_is_numpys_arithmetic_to_the_bit(fee_kind, cost_kind):
    """``Firm.sell`` works out each order's lines in one compiled pass: revenue, cost of goods,
    fee, rewards and margin must be the numbers numpy's whole-array operations give (the same
    operations in the same order), and each firm's book lines numpy's sums of its orders."""
    model = MarketModel(load_scenario("ecommerce", **{"market.engine": "arrays"}).resized(200), seed=0)
    firms = model.firms
    rng = np.random.default_rng(29)
    size = 3001
    chosen = rng.integers(0, len(firms), size)
    basket = rng.lognormal(3, 1, size)
    discount = (rng.random(size) < 0.2) * 0.15 + (rng.random(size) < 0.1) * 0.0731
    fee = rng.choice([0.0, 0.1, 0.25, 0.137], size) if fee_kind == "array" else 0.137
    referred = rng.random(size) < 0.3
    cost_factor = (None if cost_kind == "none"
                   else rng.uniform(0.5, 1.0, size).astype(np.float32 if cost_kind == "float32" else np.float64))
    price, unit_cost, reward_share = Firm.sale_terms(firms)
    price, unit_cost, reward_share = price * 1.013, unit_cost * 0.977, reward_share + 0.011
    for firm in firms:
        firm.books = dict.fromkeys(firm.books, 0.0)
    margins = Firm.sell(firms, chosen, basket, discount, fee, referred, cost_factor,
                        terms=(price, unit_cost, reward_share))
    revenue = basket * (price[chosen] * (1.0 - discount))
    cogs = basket * unit_cost[chosen]
    if cost_factor is not None:
        cogs = cogs * cost_factor
    fee_line = revenue * fee
    reward = revenue * reward_share[chosen]
    assert np.array_equal(margins, revenue - cogs - fee_line - reward)
    for f, firm in enumerate(firms):
        mine = chosen == f
        assert firm.books["revenue"] == 0.0 + float(np.add.reduce(revenue[mine]))
        assert firm.books["cogs"] == 0.0 + float(np.add.reduce(cogs[mine]))
        assert firm.books["partner_fees"] == 0.0 + float(np.add.reduce(fee_line[mine]))
        assert firm.books["rewards"] == 0.0 + float(np.add.reduce(reward[mine]))
        assert firm.orders == int(mine.sum())
        assert firm.referral_orders == int((mine & referred).sum())
