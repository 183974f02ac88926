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
