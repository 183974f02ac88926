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
* ``kind``: ``"constant"`` (a constant nobody measured for this market: the
  behaviour, churn and word-of-mouth sections, the market's and the
  competitors' response, the segments' sensitivities, the supply market's
  behaviour) or ``"scenario"`` (a cost, an operations time, a supply term or
  the discount rate that the scenario states for its own market). Only
  constants are sampled by default: costs are the user's own books.

A list field (``segments[].price_sensitivity``) is one row: its value is the
mean over the scenario's items, and a draw scales every item by the same
factor. Every other schema field is in ``NOT_VARIED`` with the reason it has
no range (a switch, a run setting or a scenario fact); ``tests/test_uncertainty.py``
fails when a schema field is in neither.

>>> from relsim.scenario.ranges import PLAUSIBLE, ranges_for
>>> from relsim.scenario.schema import load_scenario
>>> row = next(r for r in ranges_for(load_scenario("ecommerce")) if r.path == "churn.base_hazard")
>>> row.low, row.high, row.value, row.status
(0.005, 0.015, 0.01, 'inside')
"""

from __future__ import annotations

from collections.abc import Callable
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
    Plausible("behaviour.unresolved_response_weight", 0.05, 0.6, 0.3, "size assumed", "constant"),
    Plausible("behaviour.knowledge_rate", 0.05, 0.15, 0.1, "assumption", "constant"),
    Plausible("behaviour.w_trust", 0.5, 1.5, 1.0, "size assumed", "constant"),
    Plausible("behaviour.w_commitment", 0.5, 1.5, 1.0, "size assumed", "constant"),
    Plausible("behaviour.w_reciprocity", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("behaviour.w_responsiveness", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.reward_value_multiplier", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.w_wom", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.inertia", 1.0, 3.0, 2.0, "size assumed", "constant"),
    Plausible("behaviour.inertia_commitment", 1.5, 4.5, 3.0, "size assumed", "constant"),
    Plausible("behaviour.offer_discount", 0.075, 0.225, 0.15, "assumption", "constant"),
    Plausible("behaviour.offer_decay", 0.1, 0.3, 0.2, "assumption", "constant"),
    Plausible("behaviour.purchase_intensity", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.follow_up_intensity", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.offer_intensity", 0.15, 0.45, 0.3, "assumption", "constant"),
    Plausible("behaviour.key_account_intensity", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.reward_goodwill", 0.03, 0.09, 0.06, "size assumed", "constant"),
    Plausible("behaviour.reward_goodwill_scale", 0.01, 0.03, 0.02, "size assumed", "constant"),
    Plausible("behaviour.recovery_goodwill_per_satisfaction", 0.2, 0.6, 0.4, "size assumed", "constant"),
    Plausible("behaviour.supplier_priority_goodwill", 0.1, 0.3, 0.2, "assumption", "constant"),
    Plausible("behaviour.offer_goodwill_per_discount", 0.15, 0.45, 0.3, "assumption", "constant"),
    Plausible("behaviour.key_account_goodwill_per_value", 0.1, 0.3, 0.2, "size assumed", "constant"),
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
    Plausible("costs.retention_offer_weeks", 4.0, 13.0, 8.0, "size assumed", "scenario"),
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
    # constants named in session 9 (values fixed in code before they became fields)
    Plausible("behaviour.supporter_trust", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("behaviour.unenrolled_reward_share", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.partner_review_intensity", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("behaviour.initial_customer_commitment_max", 0.2, 0.6, 0.4, "assumption", "constant"),
    Plausible("word_of_mouth.leaver_warning_weeks", 4.0, 12.0, 8.0, "assumption", "constant"),
    Plausible("market.initial_tenure_max_weeks", 52.0, 156.0, 104.0, "assumption", "constant"),
    # session 12: the bound on word-of-mouth influence (audit item 7) and literals named (items 5, 10)
    Plausible("word_of_mouth.max_influence", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("behaviour.follow_up_responsiveness", 0.5, 1.0, 1.0, "assumption", "constant"),
    Plausible("behaviour.unresolved_complaint_magnitude", 0.7, 1.0, 1.0, "assumption", "constant"),
    Plausible("behaviour.supplier_review_intensity", 0.5, 1.5, 1.0, "assumption", "constant"),
    # market response: paid and organic awareness, the network word of mouth travels on
    Plausible("market.max_reach_share", 0.02, 0.06, 0.04, "assumption", "constant"),
    Plausible("market.half_saturation", 300.0, 900.0, 600.0, "size assumed", "constant"),
    Plausible("market.organic_awareness", 0.001, 0.003, 0.002, "assumption", "constant"),
    Plausible("market.network.mean_degree", 5.0, 15.0, 10.0, "assumption", "constant"),
    Plausible("market.network.rewiring", 0.05, 0.15, 0.1, "size assumed", "constant"),
    # competitors' response (adaptive competition: imitation with inertia); the ranges bracket the
    # published long-run price match (Pauwels 2007: 15 %; tests/test_competitive_reaction.py)
    Plausible("market.review_weeks", 6.5, 26.0, 13.0, "assumption", "constant"),
    Plausible("market.adaptation_step", 0.25, 0.75, 0.5, "assumption", "constant"),
    Plausible("market.adaptation_inertia", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("market.adaptation_threshold", 0.05, 0.15, 0.1, "assumption", "constant"),
    Plausible("market.adaptation_cost", 1.0, 3.0, 2.0, "assumption", "constant"),
    # the share of a rival's list-price cut matched: Pauwels' 15 % (the value) and his "very wide"
    # range across cases (0 to three times the mean: the width is assumed)
    Plausible("market.price_match", 0.0, 0.45, 0.15, "sourced", "constant"),
    # segment sensitivities: one factor on every segment (the mean over segments is the value)
    Plausible("segments[].price_sensitivity", 1.75, 5.25, 3.5, "size assumed", "constant"),
    Plausible("segments[].service_sensitivity", 0.5, 1.5, 1.0, "assumption", "constant"),
    Plausible("segments[].expectation", 0.45, 0.75, 0.6, "size assumed", "constant"),
    Plausible("segments[].relational", 0.233, 0.7, 0.467, "assumption", "constant"),
    # suppliers: the supply market's behaviour (constants) and the supply terms (scenario)
    Plausible("suppliers[].spot_persistence", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("suppliers[].shortage_markup", 1.1, 1.6, 1.3, "assumption", "constant"),
    Plausible("suppliers[].priority_commitment", 0.25, 0.75, 0.5, "size assumed", "constant"),
    Plausible("suppliers[].spot_discount", 0.025, 0.075, 0.05, "assumption", "scenario"),
    Plausible("suppliers[].spot_volatility", 0.05, 0.15, 0.1, "assumption", "scenario"),
    Plausible("suppliers[].defect_rate", 0.01, 0.03, 0.02, "assumption", "scenario"),
    Plausible("suppliers[].lead_time_weeks", 0.125, 0.375, 0.25, "assumption", "scenario"),
    Plausible("suppliers[].lead_time_cv", 0.25, 0.75, 0.5, "assumption", "scenario"),
    Plausible("suppliers[].spot_lead_time_cv", 0.45, 1.35, 0.9, "assumption", "scenario"),
    Plausible("suppliers[].shortage_probability", 0.01, 0.03, 0.02, "assumption", "scenario"),
    Plausible("suppliers[].shortage_weeks", 1.5, 4.5, 3.0, "assumption", "scenario"),
    Plausible("suppliers[].shortage_delay_weeks", 0.25, 0.75, 0.5, "assumption", "scenario"),
    # money
    Plausible("market.discount_rate", 0.05, 0.15, 0.1, "assumption", "scenario"),
    # session 16: advertising goodwill (off by default, so not drawn unless asked for, like Reichheld's ladder):
    # the weight from off to twice the value calibrated to the published long-term elasticity; the decay from
    # a stock lasting about two months (0.25) to none (1), the values that keep both published elasticity means
    # near their bands (docs/evidence.md, "Carry-over")
    Plausible("behaviour.advertising_weight", 0.0, 4.4, 0.0, "sourced", "scenario"),
    Plausible("behaviour.advertising_decay", 0.25, 1.0, 1.0, "sourced", "scenario"),
)

_SETTING = "run setting: how long, how fine and how the run is computed, not a property of the market"
_SWITCH = "switch: chooses a mechanism or an experiment, not a constant"
_MARKET = "scenario fact: the market the scenario describes (its size, customers, money scale)"
_CALIBRATED = "scenario fact: fitted from the user's transaction log by relsim calibrate, not assumed"
_TEXT = "a name or text, not a number"

#: Every other field of the scenario schema, with why it has no plausible range: run settings,
#: switches, scenario facts (the market the user describes, or values fitted from its data) and
#: the strategies compared. ``tests/test_uncertainty.py`` fails when a schema field is neither
#: here nor in :data:`PLAUSIBLE` (or is in both), so a new field has to be classified.
NOT_VARIED: dict[str, str] = {
    "name": _TEXT,
    "description": _TEXT,
    "market.customers": _MARKET + "; --customers resizes it with its money scale",
    "market.weeks": _SETTING,
    "market.step_weeks": _SETTING,
    "market.engine": _SETTING + " (both engines run the same events)",
    "market.snapshot_weeks": _SETTING + " (an output)",
    "market.network.kind": _SWITCH + " (the network generator)",
    "market.reference_budget": _MARKET + ": the spend acquisition_budget = 1 means, a unit",
    "market.reference_desk_agents": _MARKET + ": the desk size service_capacity = 1 means, a unit",
    "market.competition": _SWITCH + " (static or adaptive rivals; its constants have ranges)",
    "segments[].name": _TEXT,
    "segments[].share": _MARKET + " (shares sum to 1)",
    "segments[].need_rate": _CALIBRATED + " (BG/NBD)",
    "segments[].need_shape": _CALIBRATED + " (BG/NBD r)",
    "segments[].basket_mean": _MARKET + " (the order value; Gamma-Gamma when calibrated)",
    "segments[].basket_cv": _MARKET + " (the spread of order values)",
    "segments[].dropout_a": _CALIBRATED + " (BG/NBD, beta-geometric churn)",
    "segments[].dropout_b": _CALIBRATED + " (BG/NBD, beta-geometric churn)",
    "segments[].spend_shape": _CALIBRATED + " (Gamma-Gamma p)",
    "segments[].spend_scale_shape": _CALIBRATED + " (Gamma-Gamma q)",
    "segments[].spend_scale_rate": _CALIBRATED + " (Gamma-Gamma gamma)",
    "segments[].direct_channel": _MARKET + " (how customers are reached: the firm's channels)",
    "word_of_mouth.enabled": _SWITCH,
    "word_of_mouth.listening": _SWITCH + " (the Bass special case)",
    "word_of_mouth.seeding": _SWITCH + " (an experiment's seeding campaign)",
    "word_of_mouth.seeding_share": _SWITCH + " (an experiment's seeding campaign)",
    "word_of_mouth.seeding_contacts": _SWITCH + " (an experiment's seeding campaign)",
    "churn.model": _SWITCH,
    "churn.reference_satisfaction": _CALIBRATED + " (the state at which the fitted dropout holds)",
    "churn.reference_commitment": _CALIBRATED + " (the state at which the fitted dropout holds)",
    "churn.constant_retention": _SWITCH + " (the constant churn model of the validation tests)",
    "churn.lapsed_return": _SWITCH,
    "operations.enabled": _SWITCH,
    "operations.desk": _SETTING + " (compiled or SimPy desks, the same answers)",
    "suppliers[].name": _TEXT,
    "suppliers[].unit_cost": _MARKET + ": the margin the comparison is about (docs/evidence.md, "
                             "'The profit verdict depends on margin')",
    "distributors[].name": _TEXT,
    "distributors[].firms": _MARKET + " (which firms a distributor sells for)",
    "distributors[].reach": "scenario fact: a channel contract the firm signs, not a market response",
    "distributors[].fee": "scenario fact: a channel contract the firm signs, not a market response",
    "alliances[].name": _TEXT,
    "alliances[].members": _MARKET + " (who is in the coalition)",
    "alliances[].partners": _MARKET + " (who is in the coalition)",
    "alliances[].referrals_per_week": "scenario fact: a coalition contract, not a market response",
    "alliances[].fee_per_week": "scenario fact: a coalition contract, not a market response",
    "firms[].name": _TEXT,
    "firms[].strategy": "the strategies compared: the question, not an uncertain constant",
    "firms[].levers": "the strategies compared: the question, not an uncertain constant",
    "firms[].supplier": _MARKET + " (which supplier a firm buys from)",
    "firms[].quality": _MARKET + " (each firm's product, as the user describes it)",
    "firms[].initial_share": _MARKET + " (where the market starts)",
    "firms[].initial_awareness": _MARKET + " (where the market starts)",
    "population.file": _CALIBRATED + " (a per-customer table instead of random draws)",
}


#: Rows a scenario's switches make idle: drawn, they would move nothing (a rival that never
#: reviews its strategy has no use for an adaptation step). Each entry: the switch as the report
#: names it, whether ``scenario`` has it set, and the path prefixes of the rows it idles.
IDLE_WHEN: tuple[tuple[str, Callable[[Scenario], bool], tuple[str, ...]], ...] = (
    ("market.competition = 'static'", lambda scenario: scenario.market.competition == "static",
     ("market.review_weeks", "market.adaptation_", "market.price_match")),
    ("word_of_mouth.enabled = false", lambda scenario: not scenario.word_of_mouth.enabled, ("word_of_mouth.",)),
    ("operations.enabled = false", lambda scenario: not scenario.operations.enabled, ("operations.",)),
)


def idle_rows(scenario: Scenario) -> dict[str, str]:
    """The :data:`PLAUSIBLE` rows whose mechanism ``scenario`` switches off, with the switch.

    >>> from relsim.scenario.schema import load_scenario
    >>> sorted(idle_rows(load_scenario("classroom")))[:2]
    ['market.adaptation_cost', 'market.adaptation_inertia']
    >>> idle_rows(load_scenario("ecommerce"))
    {}
    """
    idle: dict[str, str] = {}
    for switch, is_set, prefixes in IDLE_WHEN:
        if is_set(scenario):
            idle.update({row.path: switch for row in PLAUSIBLE if row.path.startswith(prefixes)})
    return idle


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


def _field(scenario: Scenario, path: str) -> tuple[list[Any], Any, bool]:
    """The values a dotted field path holds, its pydantic field info and whether it is a list field.

    ``market.network.mean_degree`` is one value; ``segments[].price_sensitivity`` is
    every segment's value, in order.
    """
    *sections, name = path.split(".")
    models: list[Any] = [scenario]
    is_list = False
    for section in sections:
        if section.endswith("[]"):
            is_list = True
            models = [item for model in models for item in getattr(model, section[:-2])]
        else:
            models = [getattr(model, section) for model in models]
    owner = type(models[0]) if models else _item_type(scenario, sections)
    return [getattr(model, name) for model in models], owner.model_fields[name], is_list


def _item_type(scenario: Scenario, sections: list[str]) -> Any:
    """The model class at ``sections`` when a list on the way is empty."""
    import typing
    model: Any = type(scenario)
    for section in sections:
        annotation = model.model_fields[section.removesuffix("[]")].annotation
        model = typing.get_args(annotation)[0] if section.endswith("[]") else annotation
    return model


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
    value / reference); ranges stay inside the schema's bounds. A list field
    (``segments[].price_sensitivity``) is one constant: its value is the mean
    over the list's items, and :func:`with_values` scales every item by the
    same factor (the scenario's differences between items are kept); a list
    with no items has nothing to vary and is left out, as are the rows of a
    mechanism the scenario switches off (:func:`idle_rows`).
    """
    ranges = []
    idle = idle_rows(scenario)
    for row in PLAUSIBLE:
        if row.kind not in kinds or row.path in idle:
            continue
        values, info, is_list = _field(scenario, row.path)
        if not values:
            continue
        value = sum(float(v) for v in values) / len(values)
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
                            info.annotation is int and not is_list))
    return ranges


def with_values(scenario: Scenario, values: dict[str, float], source: str = "uncertainty") -> Scenario:
    """A copy of ``scenario`` with dotted fields set to ``values`` (validated; integer
    fields rounded).

    A list field's value is the mean of its items (see :func:`ranges_for`):
    every item is multiplied by ``value / mean`` (shifted by ``value − mean``
    when the mean is 0), kept within the schema's bounds and rounded if the
    field is an integer.
    """
    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        items, info, is_list = _field(scenario, path)
        integer = info.annotation is int
        if not is_list:
            set_dotted(data, path, round(float(value)) if integer else float(value))
            continue
        lowest, highest = _bounds(info)
        mean = sum(float(v) for v in items) / len(items) if items else 0.0
        section, name = path.split("[].")
        for i, item in enumerate(items):
            new = float(item) * float(value) / mean if mean != 0 else float(item) + float(value) - mean
            new = min(max(new, lowest), highest)
            set_dotted(data, f"{section}.{i}.{name}", round(new) if integer else new)
    return from_dict(data, source=f"{scenario.name} ({source})")
