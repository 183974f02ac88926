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
