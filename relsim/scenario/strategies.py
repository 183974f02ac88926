"""Strategies as data.

A strategy is a set of levers a firm pulls every week. ``Strategy`` is the
schema (one field per lever, each with its meaning); ``PRESETS`` holds the
named strategies: ``transactional`` and ``relationship`` and one per Kotler
level (``basic`` … ``partnership``). A scenario picks a preset per firm and
may override any lever.

Money-scale levers are *relative* so presets fit any market: the acquisition
budget and the desk capacity are multiples of the market's reference values
(``market.reference_budget``, ``market.reference_desk_agents``); price is an
index on the market's reference price.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from relsim.scenario.fields import reject_coercion

#: Kotler's five levels of relationship, by number.
LEVELS: dict[int, str] = {
    1: "basic",
    2: "reactive",
    3: "accountable",
    4: "proactive",
    5: "partnership",
}


class Strategy(BaseModel):
    """The levers of one firm."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return reject_coercion(cls, value, info.field_name)

    level: int = Field(2, ge=1, le=5, description=(
        "Kotler level: 1 basic (sell only), 2 reactive (+ support desk answers), "
        "3 accountable (+ follow-up contact after every sale), 4 proactive "
        "(+ personalised offers), 5 partnership (+ key accounts, co-creation, alliances)."))
    acquisition_budget: float = Field(1.0, ge=0, le=10_000, description=(
        "Weekly acquisition spend as a multiple of market.reference_budget."))
    target_segments: tuple[str, ...] = Field((), description=(
        "Campaign management: segments the paid campaign targets (empty = all segments)."))
    price: float = Field(1.0, gt=0, le=5, description="List price index (1 = market reference).")
    promotion_discount: float = Field(0.0, ge=0, lt=1, description=(
        "Price cut during a promotion week, as a share of list price."))
    promotion_every_weeks: int = Field(0, ge=0, description=(
        "A one-week promotion every N weeks (0 = never)."))
    service_capacity: float = Field(1.0, ge=0, le=1_000, description=(
        "Support-desk agents as a multiple of market.reference_desk_agents (0 = no desk)."))
    reward_rate: float = Field(0.0, ge=0, le=0.5, description=(
        "Loyalty programme: share of spend returned as reward points (0 = no programme)."))
    join_alliances: bool = Field(False, description=(
        "Take part in the alliances the scenario lists this firm in (level 5 only)."))
    personalisation: float = Field(0.0, ge=0, le=1, description=(
        "Share of active customers sent a personalised offer each week (level >= 4)."))
    key_account_share: float = Field(0.0, ge=0, le=1, description=(
        "Top share of active customers by trailing-year margin given a key-account manager (level 5)."))
    pruning: bool = Field(False, description=(
        "End relationships whose trailing-year margin is below pruning_min_margin."))
    pruning_min_margin: float = Field(0.0, description=(
        "Trailing 52-week margin (currency) below which a pruned customer is let go."))
    supplier_contract: Literal["long", "spot"] = Field("spot", description=(
        "Long contract: stable cost, priority in shortages. Spot: cheaper on average, varies."))
    retention_offer: bool = Field(False, description=(
        "Win-back: a customer at risk (overdue) gets a personalised retention offer (level >= 4)."))


#: Named strategies. Values not given take the ``Strategy`` defaults.
PRESETS: dict[str, dict] = {
    "basic": dict(level=1, acquisition_budget=1.0, service_capacity=0.0),
    "reactive": dict(level=2, acquisition_budget=1.0, service_capacity=1.0),
    "accountable": dict(level=3, acquisition_budget=1.0, service_capacity=1.5),
    "proactive": dict(level=4, acquisition_budget=0.8, service_capacity=2.0,
                      personalisation=0.1, reward_rate=0.02, retention_offer=True),
    "partnership": dict(level=5, acquisition_budget=0.6, service_capacity=2.5,
                        personalisation=0.15, reward_rate=0.03, key_account_share=0.05,
                        join_alliances=True, supplier_contract="long", retention_offer=True),
    # Transactional marketing: win customers with price and promotion (4P),
    # keep service minimal, buy on the spot market.
    "transactional": dict(level=2, acquisition_budget=2.0, price=0.95,
                          promotion_discount=0.15, promotion_every_weeks=4,
                          service_capacity=0.5, supplier_contract="spot"),
    # Relationship marketing: spend on keeping and deepening customers.
    "relationship": dict(level=5, acquisition_budget=0.7, price=1.0,
                         service_capacity=2.5, reward_rate=0.03, join_alliances=True,
                         personalisation=0.15, key_account_share=0.05,
                         supplier_contract="long", retention_offer=True),
}


def preset(name: str, **overrides) -> Strategy:
    """Build a strategy from a preset name and optional lever overrides.

    Parameters
    ----------
    name : str
        One of ``PRESETS``.
    **overrides
        Lever values that replace the preset's.

    Returns
    -------
    Strategy
    """
    if name not in PRESETS:
        raise KeyError(f"unknown strategy {name!r}; presets are: {', '.join(PRESETS)}")
    return Strategy(**{**PRESETS[name], **overrides})
