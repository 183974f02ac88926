"""Compiled forms of the behaviour rules (market/jit.py) equal their Python forms."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from relsim.market import rules
from relsim.market.jit import compiled_rule

#: the rules compiled kernels may call (scalar arguments)
COMPILED = ["update_trust", "failure_severity", "update_satisfaction", "commitment_target", "update_commitment",
            "update_reciprocity", "response_quality", "answer_responsiveness", "update_responsiveness",
            "service_recovery", "recovery_goodwill", "satisfaction_shortfall", "update_knowledge",
            "complaint_probability", "failure_exit_probability", "update_wom_influence", "talk_probability",
            "churn_hazard", "choice_utility", "order_discount", "discount_factor", "habit_probability",
            "relationship_dropout", "per_step", "clip", "minimum", "exp", "sigmoid"]


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_rule_equals_python_rule(name):
    rule = getattr(rules, name)
    compiled = compiled_rule(rule)
    arity = sum(p.default is inspect.Parameter.empty for p in inspect.signature(rule).parameters.values())
    rng = np.random.default_rng(1)
    for _ in range(50):
        args = (rng.uniform(-1.5, 1.5, arity) if name in ("sigmoid", "clip", "exp")
                else rng.uniform(0.05, 0.95, arity)).tolist()
        if name == "clip":
            args = [args[0], -0.5, 0.5]
        assert compiled(*args) == rule(*args), (name, args)


def test_compiled_logit_probabilities_equal_the_python_form():
    """The choice kernel's logit (written into a buffer) gives the list form's numbers, to the bit."""
    compiled = compiled_rule(rules.logit_probabilities_into)
    rng = np.random.default_rng(2)
    for _ in range(200):
        utilities = rng.normal(0.0, 3.0, int(rng.integers(1, 7)))
        utilities[rng.random(utilities.size) < 0.3] = -np.inf   # firms the buyer does not know
        if np.isinf(utilities).all():
            utilities[0] = 0.5
        out = np.empty(utilities.size)
        compiled(utilities, out)
        assert out.tolist() == rules.logit_probabilities(utilities.tolist())


def test_rungs_by_firm_equal_the_numpy_rule_at_the_thresholds():
    """The record's compiled ladder pass (``kernels.rungs_by_firm``) gives numpy's rungs and NPS counts
    on 32-bit state, values exactly at the 32-bit thresholds included (a threshold such as 0.7 is not a
    32-bit number: numpy compares in 32 bits, a kernel given the 64-bit constant would not)."""
    from relsim.market import kernels
    rng = np.random.default_rng(3)
    thresholds = {"supporter_commitment": 0.3, "supporter_trust": 0.5, "advocate_commitment": 0.7,
                  "partner_commitment": 0.9, "promoter_threshold": 0.7}
    detractor = -0.3
    sizes = [400, 0, 700, 300]
    count = sum(sizes)
    on_threshold = np.float32([*thresholds.values(), detractor])

    def state(low):
        values = rng.uniform(low, 1.0, count).astype(np.float32)
        at = rng.random(count) < 0.3   # a third exactly on a threshold
        values[at] = rng.choice(on_threshold, int(at.sum()))
        return values

    trust, commitment, satisfaction = state(0.0), state(0.0), state(-1.0)
    purchases = rng.integers(0, 4, count).astype(np.int32)
    co_creation = np.array([1.0, 0.0, 1.0, 0.0])
    firm_of = np.repeat(np.arange(4), sizes)
    rung, rungs, promoters, detractors = kernels.rungs_by_firm(
        np.concatenate([[0], np.cumsum(sizes)]), purchases, trust, commitment, satisfaction, co_creation,
        np.array([*thresholds.values(), detractor], dtype=np.float32), len(rules.RUNGS))
    expected = rules.loyalty_rung(np.ones(count), purchases, trust, commitment, satisfaction, **thresholds,
                                  co_creation=co_creation[firm_of])
    assert np.array_equal(rung, expected.astype(int))
    assert (expected == rules.PARTNER).any() and (expected == rules.PARTNER - 1).any()
    assert np.array_equal(rungs, np.bincount(firm_of * len(rules.RUNGS) + rung,
                                             minlength=4 * len(rules.RUNGS)).reshape(4, -1))
    assert promoters.tolist() == np.bincount(firm_of[satisfaction >= 0.7], minlength=4).tolist()
    assert detractors.tolist() == np.bincount(firm_of[satisfaction <= detractor], minlength=4).tolist()


def test_week_passes_equal_numpy():
    """The compiled passes of branch s14-large give numpy's answers: the customers unaware of a
    firm (``kernels.unaware_of``, ``np.flatnonzero(~aware[:, f])``), the talk verdicts read
    through the customers' index (``kernels.talkers``, the draws gathered first) and the
    expired win-back codes (``kernels.expire_win_back``, numpy's find-gather-scatter of main,
    over a length that is not a multiple of the eight codes read at once)."""
    from relsim.market import kernels
    rng = np.random.default_rng(5)
    aware = rng.random((1_003, 4)) < 0.3
    for firm in range(4):
        assert np.array_equal(kernels.unaware_of(aware, firm), np.flatnonzero(~aware[:, firm]))
    draws = rng.random(1_003)
    customers = np.sort(rng.choice(1_003, 400, replace=False))
    satisfaction = rng.uniform(-1, 1, 400).astype(np.float32)
    commitment = rng.random(400).astype(np.float32)
    weights = np.array([0.05, 0.2, 0.1, 0.5, -0.2, 0.3])
    talking, positive = kernels.talkers(satisfaction, commitment, draws, customers, weights)
    promote, detract = rules.talk_probability(satisfaction.astype(float), commitment.astype(float), *weights)
    assert np.array_equal(talking, draws[customers] < promote + detract)
    assert np.array_equal(positive, draws[customers] < promote)
    assert talking.any() and positive.any() and (talking & ~positive).any()
    codes = np.where(rng.random(1_003) < 0.2, rng.integers(1, 256, 1_003), 0).astype(np.uint8)
    codes[-3:] = 1   # sent at step 0: expired at step 300, among the codes read one by one
    expected, sent = codes.copy(), codes.copy()
    pending = np.flatnonzero(expected)
    age_steps = (300 - (expected[pending].astype(np.int64) - 1)) % 255
    expected[pending[rules.win_back_expired(age_steps * 1.0, 8.0)]] = 0
    kernels.expire_win_back(codes, codes[:1_000].view(np.uint64), 300, 255, 1.0, 8.0)
    assert np.array_equal(codes, expected) and codes.any() and np.count_nonzero(codes) < np.count_nonzero(sent)


def test_weekly_needs_equal_the_numpy_week():
    """``kernels.weekly_needs`` (``MarketModel._needs`` in one pass) gives ``draws.poisson``'s
    counts on the same uniforms, plus the referral trials (then cleared), 0 for the dormant."""
    from relsim.market import kernels
    from relsim.market.draws import poisson
    rates = np.random.default_rng(1).gamma(0.5, 2.0, 5_000).clip(0.0, 25.0)
    extra = np.random.default_rng(2).integers(0, 3, 5_000).astype(np.int16)
    dormant_until = np.where(np.random.default_rng(3).random(5_000) < 0.2, np.float32(12.0), -np.inf).astype(np.float32)
    week = 10.0
    expected = (poisson(np.random.default_rng(4), rates, np.exp(-rates)) + extra) * (dormant_until <= week)
    occasions = kernels.weekly_needs(np.random.default_rng(4).random(5_000), np.exp(-rates), rates, extra,
                                     dormant_until, np.float32(week))
    assert np.array_equal(occasions, expected) and occasions.max() > 5 and not extra.any()


def test_stayers_equal_numpy_masks():
    """``kernels.stayers`` gives each array's ``values[staying]`` (the end-of-week state of those
    who stay, ``ArrayPopulation.word_of_mouth_and_churn``), in each array's type."""
    from relsim.market import kernels
    rng = np.random.default_rng(3)
    arrays = [rng.random(2_001).astype(np.float32) for _ in range(5)] + [rng.integers(0, 9, 2_001).astype(np.int32)]
    arrays += [rng.random(2_001).astype(np.float32) for _ in range(2)]
    staying = rng.random(2_001) > 0.1
    staying[-1] = False   # the last customer leaves: its values are written past the stayers, never kept
    kept = kernels.stayers(staying, *arrays)
    assert all(np.array_equal(k, a[staying]) and k.dtype == a.dtype for k, a in zip(kept, arrays, strict=True))

@pytest.mark.parametrize("retention_discount", [0.0, 0.15, 0.3])
def test_order_terms_equal_the_numpy_rule(retention_discount):
    """``kernels.order_terms`` (a purchase's discount and word-of-mouth flag, dyad by dyad) against
    ``rules.order_discount`` on whole arrays as ``events.purchase`` applied it before: the same
    bits, for 32-bit offers and pending or no win-back discounts."""
    from relsim.market import kernels
    rng = np.random.default_rng(17)
    shape = (500, 4)
    retention_offer = (rng.random(shape) < 0.3).astype(np.uint8) * rng.integers(1, 200, shape).astype(np.uint8)
    offer = (rng.random(shape) * (rng.random(shape) < 0.4) * 0.25).astype(np.float32)
    source = rng.integers(0, 5, shape).astype(np.int8)
    cells = rng.choice(offer.size, 700, replace=True).astype(np.int64)
    discount, referred = kernels.order_terms(cells, retention_offer.reshape(-1), retention_discount,
                                             offer.reshape(-1), source.reshape(-1), 3)
    expected = rules.order_discount((retention_offer.reshape(-1)[cells] != 0) * retention_discount,
                                    offer.reshape(-1)[cells].astype(np.float64))
    assert np.array_equal(discount, expected)
    assert discount.dtype == expected.dtype
    assert np.array_equal(referred, source.reshape(-1)[cells] == 3)
