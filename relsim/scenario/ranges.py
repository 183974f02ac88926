"""Plausible ranges of relsim's constants, machine-readable (docs/evidence.md).

docs/evidence.md, "Every constant and cost default", gives each behavioural
constant and cost default its source and the range used for uncertainty
analysis. ``PLAUSIBLE`` holds the same ranges as data, so that the compare
report's parameter uncertainty (``relsim compare --uncertainty N``) samples
exactly what the evidence page states; ``tests/test_uncertainty.py`` checks
that the two agree row by row (a range changed in one place fails the test).

Each row has:

* ``low``, ``high``: the plausible range (ecommerce's value ×0.5 and ×1.5 unless
  a source gives a range);
* ``reference``: the ecommerce value the range was built around;
* ``basis``: ``"sourced"`` (a published figure), ``"size assumed"`` (the
  direction is sourced, the size is not), ``"assumption"`` (no source) or
  ``"scenario fact"`` (a property of the market the scenario states);
* ``kind``: ``"constant"`` (a behavioural constant nobody measured for this
  market: behaviour, churn and word-of-mouth sections) or ``"scenario"`` (a cost
  or an operations time the scenario states for its own market). Only
  constants are sampled by default: costs are the user's own books.

>>> from relsim.scenario.ranges import PLAUSIBLE, ranges_for
>>> from relsim.scenario.schema import load_scenario
>>> row = next(r for r in ranges_for(load_scenario("ecommerce")) if r.path == "churn.base_hazard")
>>> row.low, row.high, row.value, row.status
(0.005, 0.015, 0.01, 'inside')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from relsim.scenario.schema import Scenario, from_dict, set_dotted

Basis = Literal["sourced", "size assumed", "assumption", "scenario fact"]
Kind = Literal["constant", "scenario"]


@dataclass(frozen=True)
class Plausible:
    """One row of docs/evidence.md's table: a field and its plausible range."""

    path: str
    low: float
    high: float
    reference: float
    basis: Basis
    kind: Kind


#: The rows of docs/evidence.md "Every constant and cost default" that have a numeric range.
PLAUSIBLE: tuple[Plausible, ...] = (
    Plausible("behaviour.initial_trust", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.initial_responsiveness", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.trust_gain", 0.025, 0.075, 0.05, "size assumed", "constant"),
    Plausible("behaviour.trust_loss", 0.125, 0.375, 0.25, "size assumed", "constant"),
    Plausible("behaviour.forgiveness", 0.35, 1.0, 0.7, "size assumed", "constant"),
    Plausible("behaviour.satisfaction_rate", 0.15, 0.45, 0.3, "size assumed", "constant"),
    Plausible("behaviour.commitment_rate", 0.075, 0.225, 0.15, "assumption", "constant"),
    Plausible("behaviour.commitment_decay", 0.005, 0.015, 0.01, "assumption", "constant"),
    Plausible("behaviour.commitment_trust_weight", 0.35, 1.05, 0.5, "size assumed", "constant"),
    Plausible("behaviour.commitment_reciprocity_weight", 0.15, 0.45, 0.3, "size assumed", "constant"),
    Plausible("behaviour.commitment_tenure_weight", 0.2, 0.6, 0.4, "size assumed", "constant"),
    Plausible("behaviour.tenure_scale_weeks", 26.0, 78.0, 52.0, "assumption", "constant"),
    Plausible("behaviour.reciprocity_decay", 0.015, 0.045, 0.03, "assumption", "constant"),
    Plausible("behaviour.responsiveness_rate", 0.15, 0.45, 0.3, "assumption", "constant"),
    Plausible("behaviour.knowledge_rate", 0.05, 0.15, 0.1, "assumption", "constant"),
    Plausible("behaviour.w_trust", 0.5, 1.5, 1.0, "size assumed", "constant"),
    Plausible("behaviour.w_commitment", 0.5, 1.5, 1.0, "size assumed", "constant"),
    Plausible("behaviour.w_reciprocity", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("behaviour.w_responsiveness", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.w_reward", 5.0, 15.0, 10.0, "size assumed", "constant"),
    Plausible("behaviour.w_wom", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.inertia", 1.0, 3.0, 2.0, "size assumed", "constant"),
    Plausible("behaviour.inertia_commitment", 1.5, 4.5, 3.0, "size assumed", "constant"),
    Plausible("behaviour.offer_value", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.purchase_intensity", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.follow_up_intensity", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.offer_intensity", 0.15, 0.45, 0.3, "assumption", "constant"),
    Plausible("behaviour.key_account_intensity", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.reward_goodwill", 0.03, 0.09, 0.06, "size assumed", "constant"),
    Plausible("behaviour.reward_goodwill_scale", 0.01, 0.03, 0.02, "size assumed", "constant"),
    Plausible("behaviour.recovery_goodwill", 0.1, 0.3, 0.2, "size assumed", "constant"),
    Plausible("behaviour.offer_goodwill", 0.025, 0.075, 0.05, "assumption", "constant"),
    Plausible("behaviour.key_account_goodwill", 0.025, 0.075, 0.05, "assumption", "constant"),
    Plausible("behaviour.voice_base", 0.1, 0.3, 0.2, "sourced", "constant"),
    Plausible("behaviour.voice_commitment", 0.3, 0.9, 0.6, "size assumed", "constant"),
    Plausible("behaviour.exit_after_failure", 0.17, 0.49, 0.333, "sourced", "constant"),
    Plausible("behaviour.recovery_bonus", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("behaviour.expectation_price_weight", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("behaviour.late_experience", 0.15, 0.45, 0.3, "assumption", "constant"),
    Plausible("behaviour.defect_experience", 0.0, 0.2, 0.0, "assumption", "constant"),
    Plausible("behaviour.supporter_commitment", 0.2, 0.6, 0.4, "size assumed", "constant"),
    Plausible("behaviour.advocate_commitment", 0.3, 0.9, 0.6, "size assumed", "constant"),
    Plausible("behaviour.partner_commitment", 0.4, 1.0, 0.8, "size assumed", "constant"),
    Plausible("behaviour.co_creation_rate", 0.0025, 0.0075, 0.005, "size assumed", "constant"),
    Plausible("behaviour.co_creation_half_share", 0.125, 0.375, 0.25, "assumption", "constant"),
    Plausible("behaviour.co_creation_decay", 0.01, 0.03, 0.02, "assumption", "constant"),
    Plausible("behaviour.max_quality", 0.75, 2.25, 1.5, "assumption", "constant"),
    Plausible("behaviour.habit_base", 0.3, 0.7, 0.5, "sourced", "constant"),
    Plausible("behaviour.habit_satisfaction", 0.5, 1.5, 1.0, "size assumed", "constant"),
    Plausible("behaviour.habit_commitment", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("behaviour.habit_max", 0.8, 0.97, 0.9, "sourced", "constant"),
    Plausible("churn.base_hazard", 0.005, 0.015, 0.01, "sourced", "constant"),
    Plausible("churn.w_satisfaction", 1.0, 3.0, 2.0, "size assumed", "constant"),
    Plausible("churn.w_commitment", 0.0, 2.0, 1.0, "size assumed", "constant"),
    Plausible("churn.w_recency", 0.15, 0.45, 0.3, "size assumed", "constant"),
    Plausible("churn.w_competitor", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("churn.dormancy_weeks", 13.0, 52.0, 26.0, "assumption", "constant"),
    Plausible("word_of_mouth.talk_base", 0.01, 0.03, 0.02, "assumption", "constant"),
    Plausible("word_of_mouth.talk_satisfaction", 0.1, 0.3, 0.2, "assumption", "constant"),
    Plausible("word_of_mouth.talk_commitment", 0.05, 0.15, 0.1, "assumption", "constant"),
    Plausible("word_of_mouth.talk_negative", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("word_of_mouth.promoter_threshold", 0.075, 0.225, 0.15, "size assumed", "constant"),
    Plausible("word_of_mouth.detractor_threshold", -0.225, -0.075, -0.15, "size assumed", "constant"),
    Plausible("word_of_mouth.strength", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("word_of_mouth.negativity_weight", 1.0, 3.0, 2.0, "sourced", "constant"),
    Plausible("word_of_mouth.decay", 0.025, 0.075, 0.05, "size assumed", "constant"),
    Plausible("word_of_mouth.referral_trial", 0.15, 0.45, 0.3, "size assumed", "constant"),
    Plausible("costs.desk_agent_per_week", 100.0, 300.0, 200.0, "sourced", "scenario"),
    Plausible("costs.follow_up", 0.05, 0.15, 0.1, "size assumed", "scenario"),
    Plausible("costs.offer", 0.05, 0.15, 0.1, "size assumed", "scenario"),
    Plausible("costs.programme_per_customer_week", 0.01, 0.03, 0.02, "assumption", "scenario"),
    Plausible("costs.manager_per_week", 75.0, 225.0, 150.0, "sourced", "scenario"),
    Plausible("costs.accounts_per_manager", 10.0, 50.0, 25.0, "assumption", "scenario"),
    Plausible("costs.co_creation_per_partner_week", 0.1, 0.3, 0.2, "assumption", "scenario"),
    Plausible("costs.reward_redemption", 0.5, 0.9, 0.7, "size assumed", "scenario"),
    Plausible("costs.retention_offer_discount", 0.05, 0.15, 0.1, "assumption", "scenario"),
    Plausible("operations.promise_weeks", 0.3, 0.9, 0.6, "scenario fact", "scenario"),
    Plausible("operations.service_time_weeks", 0.01, 0.04, 0.02, "sourced", "scenario"),
    Plausible("operations.question_rate", 0.025, 0.075, 0.05, "assumption", "scenario"),
    Plausible("operations.resolution_probability", 0.4, 1.0, 0.8, "assumption", "scenario"),
    Plausible("operations.response_target_weeks", 0.1, 0.3, 0.2, "assumption", "scenario"),
    Plausible("operations.patience_weeks", 0.5, 1.5, 1.0, "assumption", "scenario"),
    Plausible("behaviour.initial_customer_trust_bonus", 0.0, 0.4, 0.2, "assumption", "constant"),
    Plausible("behaviour.win_back_overdue_cycles", 0.5, 10.0, 2.0, "assumption", "constant"),
    Plausible("behaviour.pruning_min_tenure_weeks", 13.0, 104.0, 52.0, "assumption", "constant"),
    Plausible("churn.period_weeks", 4.0, 52.0, 52.0, "sourced", "scenario"),
    Plausible("costs.acquisition_per_customer", 0.0, 100.0, 0.0, "sourced", "scenario"),
    Plausible("behaviour.basket_growth", 0.0, 1.0, 0.0, "size assumed", "scenario"),
    Plausible("behaviour.basket_growth_weeks", 52.0, 208.0, 104.0, "size assumed", "scenario"),
    Plausible("costs.serve_cost_saving", 0.0, 0.2, 0.0, "assumption", "scenario"),
    Plausible("costs.serve_cost_saving_weeks", 26.0, 104.0, 52.0, "assumption", "scenario"),
)


@dataclass(frozen=True)
class Range:
    """The range one constant is sampled over for one scenario.

    ``status`` says where the scenario's own value sits: ``"inside"`` the
    evidence range, at its ``"edge"`` (within 5 % of its width of an end), or
    ``"moved"``: outside it, so the range was moved with the value (scaled by
    value / reference, as the evidence ranges are ×0.5–×1.5 of a reference).
    """

    path: str
    low: float
    high: float
    value: float
    basis: Basis
    kind: Kind
    status: Literal["inside", "edge", "moved"]
    integer: bool


def _field(scenario: Scenario, path: str) -> tuple[Any, Any]:
    """The value of a dotted section field and its pydantic field info."""
    section, name = path.split(".")
    model = getattr(scenario, section)
    return getattr(model, name), type(model).model_fields[name]


def _bounds(info: Any) -> tuple[float, float]:
    low, high = -float("inf"), float("inf")
    for meta in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(meta, attr, None) is not None:
                low = max(low, float(getattr(meta, attr)) + (1e-9 if attr == "gt" else 0.0))
        for attr in ("le", "lt"):
            if getattr(meta, attr, None) is not None:
                high = min(high, float(getattr(meta, attr)) - (1e-9 if attr == "lt" else 0.0))
    return low, high


def ranges_for(scenario: Scenario, kinds: tuple[Kind, ...] = ("constant",)) -> list[Range]:
    """The plausible range of every constant of ``kinds`` for ``scenario``.

    A scenario value outside the evidence range moves the range with it (×
    value / reference); ranges stay inside the schema's bounds.
    """
    ranges = []
    for row in PLAUSIBLE:
        if row.kind not in kinds:
            continue
        value, info = _field(scenario, row.path)
        value = float(value)
        low, high, status = row.low, row.high, "inside"
        if not low <= value <= high:
            if row.reference != 0 and value != 0 and (value > 0) == (row.reference > 0):
                scale = value / row.reference
                low, high = sorted((row.low * scale, row.high * scale))
            else:
                low, high = min(low, value), max(high, value)
            status = "moved"
        elif min(value - low, high - value) <= 0.05 * (high - low):
            status = "edge"
        schema_low, schema_high = _bounds(info)
        low, high = max(low, schema_low), min(high, schema_high)
        ranges.append(Range(row.path, low, high, value, row.basis, row.kind, status,  # type: ignore[arg-type]
                            info.annotation is int))
    return ranges


def with_values(scenario: Scenario, values: dict[str, float], source: str = "uncertainty") -> Scenario:
    """A copy of ``scenario`` with dotted section fields set to ``values`` (validated;
    integer fields rounded)."""
    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        _, info = _field(scenario, path)
        set_dotted(data, path, round(float(value)) if info.annotation is int else float(value))
    return from_dict(data, source=f"{scenario.name} ({source})")
