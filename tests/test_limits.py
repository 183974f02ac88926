"""The two analytical limits MODEL.md asks the model to reproduce.

Both tests compare a Monte-Carlo mean with a closed form and use a tolerance of
four standard errors of that mean (estimated from the simulated sample
itself), plus, for Bass, a deterministic allowance of 1/N for the mean-field
approximation. A correct model fails such a check with probability below
1e-4 per compared point; a wrong mechanism (for example word of mouth twice as
strong, or retention off by one point) fails it by many standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim import simulate
from relsim.market import rules
from relsim.scenario.schema import from_dict


def _one_firm(customers: int, weeks: int, **sections) -> dict:
    """One firm, one homogeneous segment, no operations, nothing else switched on."""
    data = {
        "name": "limit",
        "market": {"customers": customers, "weeks": weeks, "organic_awareness": 0.0,
                   "network": {"kind": "fully_mixed"}},
        "segments": [{"name": "all", "share": 1.0, "need_shape": 1e6, "basket_cv": 0.0,
                      "expectation": 0.5}],
        "operations": {"enabled": False},
        "suppliers": [{"name": "S", "unit_cost": 0.6}],
        "firms": [{"name": "Firm", "strategy": "basic", "supplier": "S", "initial_share": 0.0,
                   "initial_awareness": 0.0}],
    }
    for section, values in sections.items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return data


def bass_recursion(size: int, weeks: int, p: float, q: float, need_probability: float) -> np.ndarray:
    """Expected cumulative adopters (share) of the model's own week, in mean field.

    Each week: advertising makes each unaware customer aware with probability
    p; aware customers buy when a need arrives (probability π a week);
    afterwards every adopter talks with probability q to one other customer
    drawn uniformly, and an unaware listener becomes aware. With π = 1 and
    small p, q this is the discrete-time Bass (1969) model
    ΔA = (p + q A/N)(N − A).
    """
    unaware, aware, adopters = float(size), 0.0, 0.0
    curve = []
    for _ in range(weeks):
        reached = unaware * p
        unaware -= reached
        aware += reached
        buyers = aware * need_probability
        aware -= buyers
        adopters += buyers
        heard = unaware * (1.0 - (1.0 - q / (size - 1)) ** adopters)
        unaware -= heard
        aware += heard
        curve.append(adopters / size)
    return np.array(curve)


@pytest.mark.slow
def test_adoption_follows_the_bass_curve():
    size, weeks, seeds = 1500, 40, 16
    need_rate, talk = 1.0, 0.15
    data = _one_firm(
        size, weeks,
        market={"customers": size, "weeks": weeks, "organic_awareness": 0.0,
                "network": {"kind": "fully_mixed"}, "reference_budget": 1000.0,
                "half_saturation": 1000.0, "max_reach_share": 0.02},
        segments=[{"name": "all", "share": 1.0, "need_rate": need_rate, "need_shape": 1e6,
                   "basket_cv": 0.0, "expectation": 0.5}],
        churn={"model": "off"},
        word_of_mouth={"talk_base": talk, "talk_satisfaction": 0.0, "talk_commitment": 0.0,
                       "promoter_threshold": -0.99, "detractor_threshold": -1.0,
                       "referral_trial": 0.0},
    )
    scenario = from_dict(data)
    p = rules.paid_reach(1000.0, 0.02, 1000.0)           # = 0.01 a week
    curves = []
    for seed in range(seeds):
        steps = simulate(scenario, seed=seed).steps
        curves.append(steps["new_customers"].cumsum().to_numpy() / size)
    curves = np.array(curves)
    mean = curves.mean(axis=0)
    standard_error = curves.std(axis=0, ddof=1) / math.sqrt(seeds)
    expected = bass_recursion(size, weeks, p, talk, 1.0 - math.exp(-need_rate))
    tolerance = 4.0 * standard_error + 1.0 / size
    assert np.all(np.abs(mean - expected) <= tolerance), (
        f"max gap {np.max(np.abs(mean - expected)):.4f} at week "
        f"{int(np.argmax(np.abs(mean - expected)))}")
    # The check has power: the curve for word of mouth 30 % stronger lies outside.
    stronger = bass_recursion(size, weeks, p, talk * 1.3, 1.0 - math.exp(-need_rate))
    assert np.any(np.abs(mean - stronger) > tolerance)


@pytest.mark.parametrize("retention", [0.8, 0.93])
def test_lifetime_value_matches_closed_form(retention):
    size, weeks, basket, unit_cost, need_rate, annual = 3000, 200, 20.0, 0.6, 0.5, 0.5
    data = _one_firm(
        size, weeks,
        market={"customers": size, "weeks": weeks, "organic_awareness": 0.0,
                "network": {"kind": "fully_mixed"}, "discount_rate": annual,
                "reference_budget": 0.0},
        segments=[{"name": "all", "share": 1.0, "need_rate": need_rate, "need_shape": 1e6,
                   "basket_mean": basket, "basket_cv": 0.5, "expectation": 0.5}],
        churn={"model": "constant", "constant_retention": retention, "lapsed_return": False},
        word_of_mouth={"enabled": False},
        suppliers=[{"name": "S", "unit_cost": unit_cost}],
        firms=[{"name": "Firm", "strategy": "basic", "supplier": "S", "initial_share": 0.0,
                "initial_awareness": 1.0,
                "levers": {"supplier_contract": "long", "acquisition_budget": 0.0}}],
    )
    customers = simulate(from_dict(data), seed=7).customers
    # only customers whose remaining horizon makes truncation negligible (r^k < 1e-4)
    horizon = math.ceil(math.log(1e-4) / math.log(retention))
    observed = customers.loc[customers["first_week"] <= weeks - horizon, "ltv"].to_numpy()
    assert observed.size > 0.9 * size
    margin_per_week = need_rate * basket * (1.0 - unit_cost)
    expected = rules.lifetime_value_closed_form(margin_per_week, retention, rules.weekly_rate(annual))
    standard_error = observed.std(ddof=1) / math.sqrt(observed.size)
    assert abs(observed.mean() - expected) <= 4.0 * standard_error, (
        f"mean {observed.mean():.3f} vs closed form {expected:.3f} (SE {standard_error:.3f})")
    # power: three points less retention gives a closed form well outside the band
    assert abs(rules.lifetime_value_closed_form(margin_per_week, retention - 0.03,
                                                rules.weekly_rate(annual))
               - observed.mean()) > 4.0 * standard_error
