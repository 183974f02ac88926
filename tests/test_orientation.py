"""Customers differ in what they want from a firm (issue 11; Garbarino & Johnson 1999).

``segments[].relational`` (o) weights the relational terms of choice, habit and
churn (trust, commitment, reciprocity) by 2·o and the transactional ones
(satisfaction) by 2·(1 − o); 0.5 leaves the rules unweighted.
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim.market.model import MarketModel
from relsim.market.runner import simulate
from tests.conftest import small


def model_with(orientations):
    changes = {f"segments.{k}.relational": o for k, o in enumerate(orientations)}
    return MarketModel(small(customers=60, weeks=1, **changes), seed=0)


def test_neutral_orientation_leaves_the_rules_unweighted():
    model = model_with([0.5, 0.5, 0.5])
    b = model.behaviour
    assert model.choice_weights_for(0) == pytest.approx(model.choice_weights)
    assert model.habit_probability(1, 0.2, 0.4) == pytest.approx(
        b.habit_base + b.habit_satisfaction * 0.2 + b.habit_commitment * 0.4)


def test_transactional_customers_ignore_trust_relational_ones_satisfaction():
    model = model_with([0.0, 0.5, 1.0])
    trust, commitment, reciprocity, *_ , inertia_commitment = model.choice_weights_for(0)
    assert trust == commitment == reciprocity == inertia_commitment == 0.0
    assert model.choice_weights_for(2)[0] == pytest.approx(2 * model.behaviour.w_trust)
    # churn: the hazard of a relational customer does not depend on satisfaction,
    # that of a transactional one not on commitment
    members = {seg: np.flatnonzero(model.segment_of == seg)[:1] for seg in (0, 2)}
    def hazard(seg, satisfaction, commitment):
        state = {"satisfaction": np.array([satisfaction]), "commitment": np.array([commitment]),
                 "last_purchase": np.array([0.0]), "competitor_advantage": np.array([0.0])}
        return float(model.hazard(state, members[seg])[0])
    assert hazard(2, -0.8, 0.5) == pytest.approx(hazard(2, 0.8, 0.5))
    assert hazard(2, 0.0, 0.9) < hazard(2, 0.0, 0.1)
    assert hazard(0, 0.0, 0.1) == pytest.approx(hazard(0, 0.0, 0.9))
    assert hazard(0, 0.5, 0.5) < hazard(0, -0.5, 0.5)
    # array form agrees with the scalar form
    weights = model.choice_weights_for(np.array([0, 2, 1]))
    assert weights[0][:, 0] == pytest.approx([model.choice_weights_for(s)[0] for s in (0, 2, 1)])


@pytest.mark.slow
def test_relationship_pays_more_where_customers_are_relational():
    """Relationship marketing cuts annual churn (1 − retention) relative to
    transactional marketing by more in a market of relational customers (o = 0.9)
    than in one of transactional customers (o = 0.1). A churn ratio, not a
    retention gap, because retention near its ceiling compresses gaps.
    3 seeds × 500 customers × 2 years; one seed's ratio varies by about ±0.05,
    the difference asserted is 0.1."""
    ratios = {}
    for o in (0.1, 0.9):
        changes = {f"segments.{k}.relational": o for k in range(3)}
        churn = {"transactional": [], "relationship": []}
        for seed in range(3):
            for strategy in churn:
                steps = simulate(small(customers=500, weeks=104, engine="arrays", **changes)
                                 .with_focal_strategy(strategy), seed=seed).steps
                focal = steps[(steps["firm"] == "Focal") & (steps["week"] >= 52)]
                churn[strategy].append(1.0 - focal["retention_rate"].mean() ** 52)
        ratios[o] = float(np.mean(churn["relationship"]) / np.mean(churn["transactional"]))
    assert ratios[0.9] < ratios[0.1] - 0.1, ratios
