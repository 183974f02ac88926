"""Compiled forms of the behaviour rules (market/jit.py) equal their Python forms."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from relsim.market import rules
from relsim.market.jit import compiled_rule

#: the rules compiled kernels may call (scalar arguments)
COMPILED = ["update_trust", "failure_severity", "update_satisfaction", "commitment_target", "update_commitment",
            "update_reciprocity", "response_quality", "update_responsiveness", "service_recovery",
            "update_knowledge", "complaint_probability", "failure_exit_probability", "update_wom_influence",
            "discount_factor", "habit_probability", "relationship_dropout", "per_step", "clip", "exp", "sigmoid"]


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
