"""Scenario files: the schema, loading from TOML and validation.

A scenario is everything a run needs except the seed: the market, the
customer segments, the behaviour parameters of the rules, the firms with their
strategies, and their partners. Every mechanism of the model is switchable
here. Files are TOML, read with :mod:`tomllib` (no code is ever evaluated);
the schema rejects unknown keys, so a typo is an error, not a silent default.

Errors name the file, the field, the bad value and what is allowed::

    scenarios/bad.toml: firms[0].strategy = 'relation': unknown strategy;
    allowed: basic, reactive, accountable, proactive, partnership, ...
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from relsim.scenario.errors import ScenarioError
from relsim.scenario.fields import reject_coercion
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.util import inputs
from relsim.util.errors import RelsimError
from relsim.util.shipped import shipped_path

#: Most firms, and most items of the other lists (segments, suppliers, ...), of a scenario.
MAX_FIRMS = 1000
MAX_LIST = 1000
#: Most snapshot weeks.
MAX_SNAPSHOTS = 1000
#: Most steps of a run (market.weeks / market.step_weeks).
MAX_STEPS = 52_000
#: ``behaviour.advertising_weight`` calibrated to the published mean long-term advertising elasticity
#: (0.24, Sethuraman, Tellis & Briesch 2011) in a mature market (fitted at ``advertising_decay`` 0.068:
#: 0.250; at the default decay 1 it gives 0.279, and the short-term 0.067 against the published 0.12, both
#: within a factor of two): the value users set to switch advertising goodwill on (the default is 0, off;
#: docs/evidence.md, "Advertising elasticity"; a calibration, not a validation).
CALIBRATED_ADVERTISING_WEIGHT = 2.2


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return reject_coercion(cls, value, info.field_name)


class NetworkSpec(_Section):
    """The social network word of mouth travels on."""

    kind: Literal["small_world", "scale_free", "fully_mixed"] = Field(
        "small_world", description="Watts-Strogatz small world, Barabasi-Albert scale free, "
        "or fully mixed (anyone can talk to anyone).")
    mean_degree: int = Field(10, ge=2, le=200, description="Average number of contacts.")
    rewiring: float = Field(0.1, ge=0, le=1, description="Small-world rewiring probability.")


class MarketSpec(_Section):
    """Size, time and money scale of the market."""

    customers: int = Field(5000, ge=1, le=10_000_000, description="Population, prospects included.")
    weeks: int = Field(260, ge=1, le=5200, description="Simulated weeks.")
    step_weeks: float = Field(1.0, gt=0, le=4, description="Length of one step in weeks.")
    discount_rate: float = Field(0.10, ge=0, le=1, description="Annual discount rate for profit.")
    engine: Literal["agents", "arrays"] = Field("arrays", description=(
        "Simulation engine, the same events in two schedules: 'arrays' (default; customers "
        "advanced in batches, 10-20x faster) or 'agents' (a Mesa agent per customer, one at a "
        "time; to read and step through). In lock step both give identical states."))
    network: NetworkSpec = NetworkSpec()
    snapshot_weeks: list[int] = Field(default_factory=list, max_length=MAX_SNAPSHOTS, description=(
        "Weeks at whose end the per-customer table is also taken (it is always taken at the end)."))
    reference_budget: float = Field(1000.0, ge=0, description=(
        "Weekly acquisition spend that strategies' acquisition_budget = 1 means."))
    reference_desk_agents: float = Field(2.0, ge=0, description=(
        "Desk agents that strategies' service_capacity = 1 means."))
    max_reach_share: float = Field(0.05, ge=0, le=1, description=(
        "Share of unaware customers a saturated campaign reaches per week."))
    half_saturation: float = Field(1000.0, gt=0, description=(
        "Weekly spend that reaches half of the saturated reach."))
    organic_awareness: float = Field(0.002, ge=0, le=1, description=(
        "Weekly chance an unaware customer learns of a firm by itself."))
    competition: Literal["static", "adaptive"] = Field("static", description=(
        "static: competitors keep their strategies; adaptive: every review_weeks each competitor "
        "that trails the most profitable firm or loses customers moves its levers toward that "
        "firm's (relsim.market.competition)."))
    review_weeks: float = Field(13.0, gt=0, description="Weeks between competitors' strategy reviews.")
    adaptation_step: float = Field(0.5, gt=0, le=1, description=(
        "Share of the gap to the imitated rival's levers closed in one move."))
    adaptation_inertia: float = Field(0.5, ge=0, le=1, description=(
        "Chance a competitor that should move does not move at a review (organisational inertia)."))
    adaptation_threshold: float = Field(0.1, ge=0, description=(
        "Profit gap to the best firm, as a share of the best firm's review-period profit, that "
        "makes a competitor move (it also moves when it lost more customers than it won)."))
    adaptation_cost: float = Field(2.0, ge=0, description=(
        "One-off cost of a strategy move, in weeks of reference_budget."))
    price_match: float = Field(0.15, ge=0, le=1, description=(
        "Adaptive competition: share of a rival's list-price cut (the largest since the last review) "
        "a competitor matches at its review, down to its unit cost; rises and promotions are not "
        "answered (Pauwels 2007: 15 % in the long run)."))
    initial_tenure_max_weeks: float = Field(104.0, ge=0, le=1040, description=(
        "Firms' initial customers have bought from them for U(0, this) weeks before week 0 "
        "(their seeded history: spell start, purchases); range 0-1040."))


class SegmentSpec(_Section):
    """A customer segment: static traits drawn at start."""

    name: str
    share: float = Field(gt=0, le=1, description="Share of the population.")
    need_rate: float = Field(0.15, gt=0, le=50, description="Mean purchase occasions per week.")
    need_shape: float = Field(1.0, gt=0, description=(
        "Gamma shape of need-rate heterogeneity across customers (large = homogeneous)."))
    basket_mean: float = Field(50.0, gt=0, description="Mean order value at reference price.")
    basket_cv: float = Field(0.5, ge=0, le=5, description="Coefficient of variation of order value.")
    price_sensitivity: float = Field(3.0, ge=0, description="Weight of price in utility.")
    service_sensitivity: float = Field(1.0, ge=0, le=3, description=(
        "Multiplies the trust lost on a failure and the weight of responsiveness."))
    expectation: float = Field(0.6, ge=0, le=1, description="Experience a customer expects.")
    dropout_a: float = Field(0.0, ge=0, description=(
        "Beta(a, b) of the dropout probability: per repeat purchase (churn.model = 'bgnbd') "
        "or per period (churn.model = 'beta_geometric'); 0 = none."))
    dropout_b: float = Field(1.0, gt=0, description="Beta(a, b) second parameter (see dropout_a).")
    spend_shape: float = Field(0.0, ge=0, description=(
        "Gamma-Gamma spend: shape p of an order's value (0 = lognormal basket_mean/basket_cv)."))
    spend_scale_shape: float = Field(1.0, gt=0, description="Gamma-Gamma spend: shape q of the rate nu.")
    spend_scale_rate: float = Field(1.0, gt=0, description="Gamma-Gamma spend: rate gamma of the rate nu.")
    direct_channel: float = Field(1.0, ge=0, le=1, description=(
        "Share preferring the firm's own channel; the rest are reached through distributors."))
    relational: float = Field(0.5, ge=0, le=1, description=(
        "Relational orientation (Garbarino & Johnson 1999): 0 = transactional customers whose "
        "satisfaction drives repeat and churn, 1 = relational customers whose trust and commitment "
        "do. Weights trust/commitment/reciprocity terms by 2·o and satisfaction terms by 2·(1 − o); "
        "0.5 = the unweighted rules."))


class BehaviourSpec(_Section):
    """Parameters of the relationship rules (see relsim.market.rules)."""

    initial_trust: float = Field(0.5, ge=0, le=1)
    initial_responsiveness: float = Field(0.5, ge=0, le=1)
    initial_customer_trust_bonus: float = Field(0.2, ge=0, le=1, description=(
        "Trust a firm's initial customers hold above initial_trust (capped at 1); range 0-1."))
    initial_customer_commitment_max: float = Field(0.4, ge=0, le=1, description=(
        "A firm's initial customers start with commitment U(0, this) (also those of a population "
        "file); range 0-1."))
    trust_gain: float = Field(0.05, ge=0, le=1, description="Trust gained per kept promise.")
    trust_loss: float = Field(0.25, ge=0, le=1, description="Trust lost per failure (negativity bias).")
    forgiveness: float = Field(0.7, ge=0, le=1, description="How much commitment softens minor failures.")
    satisfaction_rate: float = Field(0.3, gt=0, le=1)
    commitment_rate: float = Field(0.15, ge=0, le=1)
    commitment_decay: float = Field(0.01, ge=0, le=1, description="Weekly decay without contact.")
    commitment_trust_weight: float = Field(0.5, ge=0, le=2)   # docs/evidence.md (Gustafsson et al. 2005)
    commitment_reciprocity_weight: float = Field(0.3, ge=0, le=2)
    commitment_tenure_weight: float = Field(0.4, ge=0, le=2)  # calculative bond with time (docs/evidence.md)
    tenure_scale_weeks: float = Field(52.0, gt=0)
    reciprocity_decay: float = Field(0.03, ge=0, le=1)
    responsiveness_rate: float = Field(0.3, ge=0, le=1)
    unresolved_response_weight: float = Field(0.3, ge=0, le=1, description=(
        "Share of a resolved answer's responsiveness signal an unresolved answer of the same "
        "speed earns (rules.answer_responsiveness: ρ·(r + (1 − r)·this)); 1 = resolution does "
        "not matter; range 0.05-0.6."))
    knowledge_rate: float = Field(0.1, ge=0, le=1, description="CRM knowledge gained per interaction.")
    # firm rules read on the customers' state
    win_back_overdue_cycles: float = Field(2.0, gt=0, le=52, description=(
        "A customer is overdue for a win-back offer after this many of its own purchase cycles "
        "(1 / need rate) without a purchase; range 0.5-10."))
    pruning_min_tenure_weeks: float = Field(52.0, ge=0, le=520, description=(
        "Pruning ends only relationships at least this many weeks old; range 13-104."))
    # choice
    w_trust: float = 1.0
    w_commitment: float = 1.0
    w_reciprocity: float = 0.5
    w_responsiveness: float = 0.5
    w_wom: float = 1.0
    inertia: float = 2.0
    inertia_commitment: float = 3.0
    offer_discount: float = Field(0.15, ge=0, le=1, description=(
        "Share of the list price a personalised offer built on full CRM knowledge gives off the next "
        "order (rules.offer_discount: offer_discount·K); the firm's revenue loses it when the offer "
        "is used; range 0.075-0.225 (docs/evidence.md)."))
    offer_decay: float = Field(0.2, ge=0, le=1, description=(
        "Weekly decay of an unused personalised offer's discount (it expires; cleared when used or "
        "when the customer leaves the firm); range 0.1-0.3."))
    reward_value_multiplier: float = Field(1.0, ge=0, le=3, description=(
        "How customers value a unit of loyalty rewards against a unit of money "
        "(rules.reward_cashback: reward_rate·reward_redemption·this, a cut of the price); "
        "1 = as the cash they return; range 0.5-1.5."))
    # contact intensities for commitment growth
    purchase_intensity: float = Field(1.0, ge=0)
    follow_up_intensity: float = Field(0.5, ge=0)
    follow_up_responsiveness: float = Field(1.0, ge=0, le=1, description=(
        "Response quality a follow-up call counts as in perceived responsiveness "
        "(Q' = Q + rate·intensity·(this − Q)); 1 = an immediate answer; range 0-1."))
    offer_intensity: float = Field(0.3, ge=0)
    key_account_intensity: float = Field(1.0, ge=0)
    partner_review_intensity: float = Field(0.5, ge=0, le=5, description=(
        "Contact intensity of a distributor's or alliance partner's weekly review (commitment growth "
        "of the firm–partner dyad, partners._review_partner); range 0-5."))
    supplier_review_intensity: float = Field(1.0, ge=0, le=5, description=(
        "Contact intensity of a firm's weekly review of its supplier on a long contract (commitment "
        "growth of the firm–supplier dyad, which decides priority in a shortage; partners.Supplier.review); "
        "1 = a purchase's contact; range 0-5."))
    # goodwill sizes for reciprocity
    reward_goodwill: float = Field(0.06, ge=0, le=1, description=(
        "Ceiling of the goodwill one purchase adds under a loyalty programme "
        "(rules.reward_goodwill: g_max·(1 − e^{−rate/scale}); zero programme, zero goodwill)."))
    reward_goodwill_scale: float = Field(0.02, gt=0, le=0.5, description=(
        "Reward rate (share of spend returned) at which goodwill reaches 63 % of its ceiling."))
    unenrolled_reward_share: float = Field(0.5, ge=0, le=1, description=(
        "Share of a loyalty programme's value (the reward rate) a customer not yet enrolled "
        "sees in its choice (rules.reward_value); range 0-1."))
    recovery_goodwill_per_satisfaction: float = Field(0.4, ge=0, le=5, description=(
        "Goodwill a resolved complaint adds per unit of satisfaction the recovery restored "
        "(rules.recovery_goodwill: clip(this·ΔS, 0, 1)); range 0.2-0.6."))
    supplier_priority_goodwill: float = Field(0.2, ge=0, le=1, description=(
        "Goodwill a firm's supplier dyad gains in a shortage week in which the firm is served "
        "first (partners.Supplier.review); range 0.1-0.3."))
    offer_goodwill_per_discount: float = Field(0.3, ge=0, le=5, description=(
        "Goodwill a personalised offer adds per unit of the price share it gives off "
        "(rules.offer_goodwill: clip(this·discount, 0, 1)); range 0.15-0.45."))
    key_account_goodwill_per_value: float = Field(0.2, ge=0, le=5, description=(
        "Goodwill a key-account week adds per unit of the manager's weekly cost per account "
        "relative to the customer's expected weekly spend (rules.key_account_goodwill: "
        "clip(this·cost/spend, 0, 1)); range 0.1-0.3."))
    # voice and exit
    voice_base: float = Field(0.2, ge=0, le=1)
    voice_commitment: float = Field(0.6, ge=0, le=1)
    exit_after_failure: float = Field(1 / 3, ge=0, le=1)
    unresolved_complaint_magnitude: float = Field(1.0, ge=0, le=1, description=(
        "Failure magnitude of an unresolved complaint in the exit probability "
        "(rules.failure_exit_probability): 1 = a full failure like a defective product, "
        "1 - late_experience = a late delivery's; range 0-1."))
    recovery_bonus: float = Field(0.5, ge=0, le=2)
    # experience
    expectation_price_weight: float = Field(0.5, ge=0, le=5, description=(
        "A price above the reference raises what customers expect."))
    late_experience: float = Field(0.3, ge=0, le=1, description="Experience of a late delivery.")
    defect_experience: float = Field(0.0, ge=0, le=1, description="Experience of a defective product.")
    # ladder thresholds
    supporter_commitment: float = Field(0.4, ge=0, le=1)
    supporter_trust: float = Field(0.5, ge=0, le=1, description=(
        "Trust a customer needs, beside supporter_commitment, to be a supporter on the loyalty "
        "ladder (rules.loyalty_rung); range 0-1."))
    advocate_commitment: float = Field(0.6, ge=0, le=1)
    partner_commitment: float = Field(0.8, ge=0, le=1)
    co_creation_rate: float = Field(0.005, ge=0, le=0.5, description=(
        "Weekly share of the gap to max_quality that co-creation closes when all the firm's "
        "customer value is on the partner rung (rules.co_creation_quality)."))
    co_creation_half_share: float = Field(0.25, gt=0, le=10, description=(
        "Partner-rung share of customer value at which co-creation works at half strength "
        "(diminishing returns)."))
    co_creation_decay: float = Field(0.02, ge=0, le=1, description=(
        "Weekly decay of quality toward the firm's own base quality without co-creation."))
    max_quality: float = Field(1.5, gt=0)
    # choice state dependence (habit, inattention, switching costs)
    habit_base: float = Field(0.5, ge=0, le=1, description=(
        "Chance a customer repeats with its current firm without weighing alternatives, at S=C=0."))
    habit_satisfaction: float = Field(1.0, ge=0, le=5, description="Habit gained per unit of satisfaction.")
    habit_commitment: float = Field(0.5, ge=0, le=5, description="Habit gained per unit of commitment.")
    habit_max: float = Field(0.9, ge=0, lt=1, description=(
        "Ceiling of the habit probability: at least 1 − habit_max of occasions are real choices."))
    # tenure and the size of orders (Reichheld's profit ladder; off by default)
    basket_growth: float = Field(0.0, ge=0, le=5, description=(
        "Relative growth of a customer's orders with tenure in its spell, approached with time "
        "(rules.tenure_basket_growth: 1 + g·(1 − e^{−tenure/basket_growth_weeks})); 0 = none "
        "(noncontractual retail, Reinartz & Kumar 2000); range 0-1 (docs/evidence.md)."))
    basket_growth_weeks: float = Field(104.0, gt=0, le=1040, description=(
        "Tenure (weeks) at which a customer's orders reach 63 % of basket_growth."))
    # advertising goodwill (Nerlove-Arrow stock; off by default)
    advertising_weight: float = Field(0.0, ge=0, le=5, description=(
        "Utility a firm's advertising goodwill adds for every customer who knows it, at most "
        "(rules.advertising_appeal: w·G/(G + 1/advertising_decay), w/2 for a firm spending the "
        "reference budget for good); 0 = off (advertising only makes customers aware); calibrated "
        f"to the published long-term advertising elasticity: {CALIBRATED_ADVERTISING_WEIGHT:g} "
        "(docs/evidence.md, 'Advertising elasticity'); range 0-5."))
    advertising_decay: float = Field(1.0, gt=0, le=1, description=(
        "Share of a firm's advertising goodwill stock lost each week (rules.advertising_goodwill: "
        "G' = (1 − δ)·G + budget); 1 (the default) = no stock, the appeal follows the current budget "
        "and the customers' own habit, commitment and inertia carry the effect over: both published "
        "elasticity means within a factor of two, and closer to Leone's (1995) carry-over than a "
        "stock that lasts (0.068 = 90 % gone after 33 weeks, Leone's 6-9 months, counts the customers' "
        "carry-over twice; docs/evidence.md); range (0, 1]."))


class WordOfMouthSpec(_Section):
    """Word of mouth on the social network."""

    enabled: bool = True
    talk_base: float = Field(0.02, ge=0, le=1)
    talk_satisfaction: float = Field(0.2, ge=0, le=5)
    talk_commitment: float = Field(0.1, ge=0, le=5)
    talk_negative: float = Field(0.5, ge=0, le=5)
    promoter_threshold: float = Field(0.15, ge=-1, le=1, description="Satisfaction of a promoter.")
    detractor_threshold: float = Field(-0.15, ge=-1, le=1, description="Satisfaction of a detractor.")
    strength: float = Field(0.5, ge=0, le=5, description="Utility a recommendation adds.")
    negativity_weight: float = Field(2.0, ge=0, le=10, description="Negative WOM weighs this many times more.")
    decay: float = Field(0.05, ge=0, le=1, description="Weekly decay of heard influence.")
    max_influence: float = Field(1.0, gt=0, le=10, description=(
        "Largest word-of-mouth influence a customer can hold about a firm, either way (|W| <= this): "
        "the utility it adds is at most behaviour.w_wom times this; range (0, 10]."))
    listening: bool = Field(False, description=(
        "false: each customer who talks tells one random contact (conversations); true: each customer "
        "listens to one random contact and hears what that contact says (linear in the adopter share: "
        "the Bass special case, docs/validation.md)."))
    leaver_warning_weeks: float = Field(8.0, ge=0, le=520, description=(
        "Weeks during which a customer who left its firm after a failure (or was pruned) may still "
        "warn its contacts about that firm (0 = never); range 0-520."))
    referral_trial: float = Field(0.3, ge=0, le=1, description=(
        "Chance a recommended prospect gets an extra purchase occasion next week "
        "(referred buyers convert faster)."))
    # Seeding: a one-off campaign at week 0 that gets some customers to recommend the
    # focal firm (experiments/wom_seeding); "none" leaves every run exactly as before.
    seeding: Literal["none", "advocates", "random"] = Field("none", description=(
        "Word-of-mouth seeding by the focal firm at the start: 'advocates' = its most committed "
        "initial customers, 'random' = customers drawn at random from the whole population."))
    seeding_share: float = Field(0.0, ge=0, le=1, description=(
        "Seeds as a share of the population (advocates: capped by the focal firm's customers)."))
    seeding_contacts: int = Field(3, ge=0, le=100, description=(
        "Network contacts each seed recommends the focal firm to."))


class ChurnSpec(_Section):
    """How customers lapse."""

    model: Literal["behavioural", "constant", "bgnbd", "beta_geometric", "off"] = Field(
        "behavioural", description=(
        "behavioural: weekly hazard from satisfaction, commitment, recency, competition; "
        "constant: weekly retention constant_retention; bgnbd: after each repeat purchase the "
        "customer leaves for good with its own probability ~ Beta(dropout_a, dropout_b) "
        "(Fader, Hardie & Lee 2005); beta_geometric: each customer churns with its own constant "
        "probability per period of period_weeks ~ Beta(dropout_a, dropout_b) (Fader & Hardie 2007); "
        "off: no churn."))
    base_hazard: float = Field(0.01, gt=0, lt=1, description="Weekly hazard at S=C=0, on time.")
    w_satisfaction: float = 2.0
    w_commitment: float = 1.0   # affective commitment adds little beside satisfaction (docs/evidence.md)
    w_recency: float = 0.3
    w_competitor: float = 0.5
    reference_satisfaction: float = Field(0.0, ge=-1, le=1, description=(
        "bgnbd: satisfaction at which a customer's dropout is its fitted value (relsim calibrate "
        "sets it to what the firm's customers reach under its calibrated strategy)."))
    reference_commitment: float = Field(0.0, ge=0, le=1, description=(
        "bgnbd: commitment at which a customer's dropout is its fitted value (see reference_satisfaction)."))
    constant_retention: float = Field(0.98, ge=0, le=1, description=(
        "Weekly retention when model = 'constant'."))
    period_weeks: float = Field(52.0, gt=0, description=(
        "Length of the period of a beta_geometric churn probability (52: a year)."))
    lapsed_return: bool = Field(True, description=(
        "Lapsed customers come back to the market after dormancy_weeks; false: they leave for good."))
    dormancy_weeks: int = Field(26, ge=0, description="Weeks a lapsed customer has no needs.")


class OperationsSpec(_Section):
    """SimPy operations: fulfilment and the support desk."""

    enabled: bool = Field(True, description=(
        "false: every order arrives on time and intact and no tickets are raised."))
    promise_weeks: float = Field(0.5, gt=0, description="Promised delivery time.")
    service_time_weeks: float = Field(0.02, gt=0, description="Mean desk handling time of a ticket.")
    question_rate: float = Field(0.05, ge=0, le=1, description="Chance an order raises a question ticket.")
    resolution_probability: float = Field(0.8, ge=0, le=1)
    response_target_weeks: float = Field(0.1, gt=0, description="Response time customers find reasonable.")
    patience_weeks: float = Field(1.0, gt=0, description="A ticket not answered in this time is abandoned.")
    desk: Literal["compiled", "simpy"] = Field("compiled", description=(
        "The array engine's support desks: 'compiled' (numba; the SimPy desk's queue, the same "
        "answers ticket by ticket, much faster) or 'simpy' (the reference). The agent engine "
        "always queues on SimPy."))


class CostSpec(_Section):
    """Unit costs of relationship activities."""

    desk_agent_per_week: float = Field(800.0, ge=0)
    follow_up: float = Field(0.5, ge=0, description="Cost of one follow-up contact.")
    offer: float = Field(0.5, ge=0, description="Cost of one personalised offer.")
    programme_per_customer_week: float = Field(0.05, ge=0, description=(
        "CRM and programme overhead per active customer and week, at level >= 3."))
    manager_per_week: float = Field(1500.0, ge=0, description="A key-account manager's weekly cost.")
    accounts_per_manager: int = Field(25, ge=1)
    co_creation_per_partner_week: float = Field(0.2, ge=0, description=(
        "Cost of co-creation per partner-rung customer and week (panels, community, incentives)."))
    reward_redemption: float = Field(0.7, ge=0, le=1, description="Share of reward points redeemed.")
    retention_offer_discount: float = Field(0.1, ge=0, le=1, description=(
        "Discount a retention offer gives on the next order."))
    retention_offer_weeks: float = Field(8.0, gt=0, le=104, description=(
        "Weeks a win-back discount stays valid after it is sent (rules.win_back_expired); "
        "unused, it expires, also after the customer's spell has ended; range 4-13."))
    acquisition_per_customer: float = Field(0.0, ge=0, description=(
        "Cost of opening an account, booked on acquisition for every customer a firm wins during "
        "the run (new, switched in or returning; rules.acquisition_cost), on top of the campaign "
        "budget; 0 = none (default)."))
    serve_cost_saving: float = Field(0.0, ge=0, lt=1, description=(
        "Share of the unit cost of an order a long-standing customer no longer costs, approached "
        "with tenure (rules.tenure_cost_factor: 1 − s·(1 − e^{−tenure/serve_cost_saving_weeks})); "
        "0 = none (default)."))
    serve_cost_saving_weeks: float = Field(52.0, gt=0, le=1040, description=(
        "Tenure (weeks) at which 63 % of serve_cost_saving is reached."))


class SupplierSpec(_Section):
    """A supplier: cost, quality and reliability of supply."""

    name: str
    unit_cost: float = Field(0.7, gt=0, description="Cost of goods per unit of basket value (contract).")
    spot_discount: float = Field(0.05, ge=0, lt=1, description="Spot price is this much cheaper on average.")
    spot_volatility: float = Field(0.1, ge=0, le=2, description="Week-to-week log sd of the spot price.")
    defect_rate: float = Field(0.02, ge=0, le=1)
    lead_time_weeks: float = Field(0.3, gt=0)
    lead_time_cv: float = Field(0.5, ge=0, le=5)
    spot_lead_time_cv: float = Field(0.9, ge=0, le=5, description="Spot deliveries are less predictable.")
    shortage_probability: float = Field(0.01, ge=0, le=1, description="Weekly chance a shortage starts.")
    shortage_weeks: int = Field(3, ge=1)
    shortage_delay_weeks: float = Field(0.5, ge=0, description=(
        "Extra lead time in a shortage for firms without priority (priority: long contract "
        "and supplier commitment >= priority_commitment)."))
    spot_persistence: float = Field(0.5, ge=0, lt=1, description=(
        "AR(1) coefficient phi of the weekly log spot price: the share of its deviation that "
        "survives a week (D' = phi*D + spot_volatility*Z; 0 = independent weeks); range 0-1 "
        "(1 excluded: the price must revert to its mean)."))
    shortage_markup: float = Field(1.3, ge=1, le=5, description=(
        "Factor on the spot price while the supplier is in a shortage (1 = none); range 1-5."))
    priority_commitment: float = Field(0.5, ge=0, le=1, description=(
        "Supplier commitment a long-contract firm needs for priority in a shortage (no extra "
        "delay); range 0-1."))


class DistributorSpec(_Section):
    """A distributor or channel partner."""

    name: str
    firms: list[str]
    reach: float = Field(50.0, ge=0, description=(
        "Indirect-channel customers contacted per week (those unaware of the firm learn of it)."))
    fee: float = Field(0.1, ge=0, le=1, description="Share of revenue on sales through the channel.")


class AllianceSpec(_Section):
    """A coalition loyalty programme (it may include competitors)."""

    name: str
    members: list[str] = Field(description="Firm names in the programme.")
    partners: list[str] = Field(default_factory=list, max_length=MAX_LIST, description=(
        "Non-competing partners (e.g. an airline) that refer their customers."))
    referrals_per_week: float = Field(20.0, ge=0, description=(
        "Customers each partner contacts per week on behalf of a member firm."))
    fee_per_week: float = Field(200.0, ge=0, description="Membership fee per member firm per week.")


class PopulationSpec(_Section):
    """A per-customer population table instead of random draws (see relsim.scenario.population)."""

    file: str = Field(description=(
        "CSV or Parquet file, one row per customer (need_rate, dropout, spend_rate, purchases, "
        "first_week, last_purchase_week, alive, segment); relative to the scenario file."))


class FirmSpec(_Section):
    """A firm: the focal one (first listed) or a competitor."""

    name: str
    strategy: str = "reactive"
    levers: dict[str, Any] = Field(default_factory=dict, description="Overrides of the preset's levers.")
    quality: float = Field(0.8, ge=0, le=2, description="Product quality in utility and experience.")
    supplier: str
    initial_share: float = Field(0.0, ge=0, le=1, description="Share of the population that starts as customers.")
    initial_awareness: float = Field(0.3, ge=0, le=1, description="Share of the population aware at start.")

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, strategy: str) -> str:
        if strategy not in PRESETS:
            raise ValueError(f"unknown strategy; allowed: {', '.join(PRESETS)}")
        return strategy

    @field_validator("levers")
    @classmethod
    def _valid_levers(cls, levers: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        preset = PRESETS.get(info.data.get("strategy", ""), {})
        try:
            Strategy(**{**preset, **levers})
        except ValidationError as error:
            raise ValueError("; ".join(_describe(e, prefix="levers") for e in error.errors())) from None
        return levers

    def build_strategy(self) -> Strategy:
        """The firm's strategy: its preset with its lever overrides."""
        return Strategy(**{**PRESETS[self.strategy], **self.levers})


class Scenario(_Section):
    """A whole scenario (see ``scenarios/*.toml`` for examples)."""

    name: str = "scenario"
    description: str = ""
    market: MarketSpec = MarketSpec()
    segments: list[SegmentSpec] = Field(min_length=1, max_length=MAX_LIST)
    behaviour: BehaviourSpec = BehaviourSpec()
    word_of_mouth: WordOfMouthSpec = WordOfMouthSpec()
    churn: ChurnSpec = ChurnSpec()
    operations: OperationsSpec = OperationsSpec()
    costs: CostSpec = CostSpec()
    suppliers: list[SupplierSpec] = Field(min_length=1, max_length=MAX_LIST)
    distributors: list[DistributorSpec] = Field(default_factory=list, max_length=MAX_LIST)
    alliances: list[AllianceSpec] = Field(default_factory=list, max_length=MAX_LIST)
    firms: list[FirmSpec] = Field(min_length=1, max_length=MAX_FIRMS)
    population: PopulationSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        shares = sum(s.share for s in self.segments)
        if abs(shares - 1.0) > 1e-6:
            raise ValueError(f"segment shares must sum to 1, they sum to {shares:g}")
        firm_names = [f.name for f in self.firms]
        _unique(firm_names, "firms")
        _unique([s.name for s in self.segments], "segments")
        supplier_names = [s.name for s in self.suppliers]
        _unique(supplier_names, "suppliers")
        for i, firm in enumerate(self.firms):
            if firm.supplier not in supplier_names:
                raise ValueError(f"firms[{i}].supplier = {firm.supplier!r} is not a listed "
                                 f"supplier; allowed: {', '.join(supplier_names)}")
        for kind, items, key in (("distributors", self.distributors, "firms"),
                                 ("alliances", self.alliances, "members")):
            for i, item in enumerate(items):
                for name in getattr(item, key):
                    if name not in firm_names:
                        raise ValueError(f"{kind}[{i}].{key} names {name!r}, which is not a "
                                         f"firm; firms: {', '.join(firm_names)}")
        segment_names = [s.name for s in self.segments]
        for i, firm in enumerate(self.firms):
            for name in firm.build_strategy().target_segments:
                if name not in segment_names:
                    raise ValueError(f"firms[{i}].levers.target_segments names {name!r}, which is not a "
                                     f"segment; segments: {', '.join(segment_names)}")
        total_initial = sum(f.initial_share for f in self.firms)
        if total_initial > 1.0 + 1e-9:
            raise ValueError(f"firms' initial_share values sum to {total_initial:g}, more than 1")
        if self.word_of_mouth.detractor_threshold >= self.word_of_mouth.promoter_threshold:
            raise ValueError("word_of_mouth.detractor_threshold must be below promoter_threshold")
        if self.costs.retention_offer_weeks / self.market.step_weeks > 250:
            # a pending win-back discount is held as its step number modulo 255 (state.WIN_BACK_CYCLE)
            raise ValueError(f"costs.retention_offer_weeks = {self.costs.retention_offer_weeks:g}: a win-back "
                             f"discount may stay valid for at most 250 steps, here "
                             f"{self.costs.retention_offer_weeks / self.market.step_weeks:.4g} steps of "
                             f"market.step_weeks = {self.market.step_weeks:g}")
        return self

    @model_validator(mode="after")
    def _snapshots_within_horizon(self) -> Scenario:
        weeks = self.market.weeks
        if weeks / self.market.step_weeks > MAX_STEPS:
            raise ValueError(f"market.step_weeks = {self.market.step_weeks:g}: market.weeks = {weeks} would take "
                             f"{weeks / self.market.step_weeks:.3g} steps; at most {MAX_STEPS:,}")
        for i, week in enumerate(self.market.snapshot_weeks):
            if not 1 <= week <= weeks:
                raise ValueError(f"market.snapshot_weeks[{i}] = {week}: must be a week of the run, "
                                 f"between 1 and market.weeks = {weeks}")
        return self

    # ------------------------------------------------------------------
    def with_focal_strategy(self, strategy: str) -> Scenario:
        """A copy whose focal (first) firm runs preset ``strategy``.

        ``"current"`` returns the scenario unchanged.
        """
        if strategy == "current":
            return self
        if strategy not in PRESETS:
            raise ScenarioError(f"unknown strategy {strategy!r}; allowed: current, "
                                f"{', '.join(PRESETS)}")
        firms = list(self.firms)
        firms[0] = firms[0].model_copy(update={"strategy": strategy, "levers": {}})
        return self.model_copy(update={"firms": firms})

    def resized(self, customers: int) -> Scenario:
        """The same market with ``customers`` customers and the money scale to match.

        Counts and spends that are per market rather than per customer — the
        reference acquisition budget and its half-saturation spend, the
        reference desk size, distributors' reach, alliance partners' referrals
        and fees — scale by ``customers / market.customers``, so that money
        per customer, and with it the sign of profit, stays the scenario's.
        """
        if self.population is not None and customers != self.market.customers:
            raise ScenarioError(
                f"{self.name}: cannot resize to {customers} customers: its customers come from the "
                f"population file {self.population.file} ({self.market.customers} customers); "
                f"drop --customers (or market.customers), or calibrate a population of that size")
        ratio = customers / self.market.customers
        market = self.market.model_copy(update={
            "customers": int(customers),
            "reference_budget": self.market.reference_budget * ratio,
            "half_saturation": self.market.half_saturation * ratio,
            "reference_desk_agents": self.market.reference_desk_agents * ratio})
        distributors = [d.model_copy(update={"reach": d.reach * ratio}) for d in self.distributors]
        alliances = [a.model_copy(update={"fee_per_week": a.fee_per_week * ratio,
                                          "referrals_per_week": a.referrals_per_week * ratio})
                     for a in self.alliances]
        data = self.model_copy(update={"market": market, "distributors": distributors,
                                       "alliances": alliances}).model_dump()
        return from_dict(data, source=f"{self.name} resized to {customers} customers")

    def digest(self) -> str:
        """A short hash of the scenario's content (for manifests and reports)."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


def _unique(names: list[str], kind: str) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{kind}: name {name!r} appears twice")
        seen.add(name)


#: Fields that existed once, by dotted path (list items written ``segments[].x``), and what
#: replaced them: an old scenario file that sets one is told so instead of a bare "unknown field".
RETIRED_FIELDS: dict[str, str] = {
    "behaviour.w_reward": (
        "removed on 2026-11-30: a loyalty programme is now valued as the money it gives back, "
        "a cut of the price in each segment's own price sensitivity (reward_rate · "
        "costs.reward_redemption · behaviour.reward_value_multiplier, default 1); drop the key, or set "
        "behaviour.reward_value_multiplier"),
    "behaviour.offer_value": (
        "replaced on 2026-11-30 by behaviour.offer_discount, a share of the list price (0-1) that the "
        "firm's revenue loses when the offer is used; the old utility converts as "
        "offer_value / price_sensitivity (0.5 / 3 = 0.167)"),
    "behaviour.recovery_goodwill": (
        "replaced on 2026-11-30: a resolved complaint's goodwill is now "
        "behaviour.recovery_goodwill_per_satisfaction, goodwill per unit of satisfaction the recovery "
        "restored (the old 0.2 per unit of response quality = 0.4 · recovery_bonus 0.5); the supplier "
        "dyad's goodwill in a shortage is behaviour.supplier_priority_goodwill"),
    "behaviour.key_account_goodwill": (
        "replaced on 2026-11-30 by behaviour.key_account_goodwill_per_value: goodwill per unit of the "
        "manager's weekly cost per account relative to the customer's weekly spend (the old flat 0.05 "
        "= 0.2 · a manager worth a quarter of the spend, ecommerce's median key account)"),
    "behaviour.offer_goodwill": (
        "replaced on 2026-11-30 by behaviour.offer_goodwill_per_discount: goodwill per unit of price "
        "share given (the old flat 0.05 ≈ 0.3 · the default offer of 0.15)"),
}


def _describe(error: Mapping[str, Any], prefix: str = "") -> str:
    location = prefix
    for part in error["loc"]:
        location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        retired = RETIRED_FIELDS.get(re.sub(r"\[\d+\]", "[]", location))
        if retired is not None:
            return f"{location}: unknown field: {retired}"
        return f"{location}: unknown field (check the spelling)"
    if error["type"] == "missing":
        return f"{location}: required field is missing"
    value = error.get("input")
    if isinstance(value, (dict, list)) or location == "":
        return f"{location or 'scenario'}: {message}"
    return f"{location} = {value!r}: {message}"


def from_dict(data: dict, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict.

    Raises
    ------
    ScenarioError
        With one line per problem, each naming the field and the bad value.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        lines = [_describe(e) for e in error.errors()]
        raise ScenarioError(f"{source}: invalid scenario\n  " + "\n  ".join(lines)) from None


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Read and validate a TOML scenario file.

    Parameters
    ----------
    path : str or Path
        The file. A bare name such as ``"ecommerce"`` is looked up among the
        scenarios shipped with relsim.
    **overrides
        Dotted-path overrides, e.g. ``{"market.customers": 500}``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the file is missing, is not TOML, or does not fit the schema.

    Examples
    --------
    >>> scenario = load_scenario("ecommerce", **{"market.customers": 500})
    >>> scenario.name, scenario.market.customers
    ('ecommerce', 500)
    >>> load_scenario("ecommerce", **{"market.weeks": -1})
    Traceback (most recent call last):
    ...
    relsim.scenario.errors.ScenarioError: ...market.weeks...
    """
    path = resolve_scenario_path(path)
    check_named(path, "scenario", ScenarioError)
    data, _ = read_toml(path, "scenario", ScenarioError)
    for dotted, value in overrides.items():
        set_dotted(data, dotted, value)
    population = data.get("population")
    if isinstance(population, dict) and isinstance(population.get("file"), str):
        # a population file is named relative to the scenario file, wherever relsim runs
        population["file"] = str((path.parent / population["file"]).resolve())
    scenario = from_dict(data, source=str(path))
    if scenario.population is not None:
        from relsim.scenario.population import load_population
        load_population(scenario)   # fail now, with the file's problems, not mid-run
    return scenario


def read_toml(path: Path, what: str, error: type[RelsimError]) -> tuple[dict, str]:
    """Read a TOML file (data and text); a missing file, a device or pipe, a file over
    10 MB, bad UTF-8, bad TOML or nesting over 32 deep raises ``error`` with a message
    naming the file (one reader for every file: :func:`relsim.util.inputs.read_toml`)."""
    return inputs.read_toml(path, what, error)


def check_named(path: Path, kind: Literal["scenario", "experiment"], error: type[RelsimError]) -> None:
    """Refuse a bare name (no suffix) that is neither a file nor a shipped ``kind``, naming the shipped ones:
    ``ecomerce: no such file, and no shipped scenario of that name; shipped: b2b, ..., ecommerce, ...``."""
    import os

    from relsim.util.shipped import shipped_names
    if not path.suffix and not os.path.lexists(path):
        raise error(f"{path}: cannot read {kind} (no such file, and no shipped {kind} of that name; shipped: "
                    f"{', '.join(shipped_names(kind))}; or give a TOML file)")


def resolve_scenario_path(path: str | Path) -> Path:
    """Return ``path`` or, for a bare shipped name, the packaged scenario file."""
    candidate = Path(path)
    if candidate.exists() or candidate.suffix:
        return candidate
    return shipped_path("scenario", str(path)) or candidate


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"]`` for ``dotted = "a.b"``; list items as ``firms.0.quality``.

    Raises
    ------
    ScenarioError
        If the path does not lead to a field (a list index out of range, a
        name where a number is needed, a key below a plain value).
    """
    parts = dotted.split(".")
    if any(part.startswith("-") for part in parts):
        raise ScenarioError(f"cannot set {dotted!r}: list positions are 0, 1, 2, … (no negative positions)")
    node: Any = data
    depth = 0                              # parts[depth] is the part being followed
    try:
        while depth < len(parts) - 1:
            part = parts[depth]
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
            depth += 1
        if isinstance(node, list):
            node[int(parts[-1])] = value
        elif isinstance(node, dict):
            node[parts[-1]] = value
        else:
            raise TypeError
    except IndexError:
        where = ".".join(parts[:depth]) or "the scenario"
        raise ScenarioError(f"cannot set {dotted!r}: {where} has {len(node)} item{'s' if len(node) != 1 else ''}, "
                            f"so its positions are 0 to {len(node) - 1}; {parts[depth]} is beyond them"
                            if node else f"cannot set {dotted!r}: {where} is an empty list") from None
    except (ValueError, TypeError, AttributeError):
        raise ScenarioError(f"cannot set {dotted!r}: the path does not lead to a scenario field "
                            "(use names for tables and 0-based numbers for lists, e.g. firms.0.quality)") from None
