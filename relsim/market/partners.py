"""The firms' partners: suppliers, distributors and alliance partners (Mesa agents).

Each partner has its own random stream and updates its dyad with each firm
it serves from what it delivered that week.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from relsim.market import rules
from relsim.market.draws import lognormal

if TYPE_CHECKING:
    from relsim.market.dyad import PartnerDyad
    from relsim.market.interfaces import Market
    from relsim.scenario.schema import AllianceSpec, DistributorSpec, SupplierSpec

#: a relsim.market.firms.Firm; not imported, so that firms and partners do not import each other
Firm = Any


class Supplier(mesa.Agent):
    """A supplier: cost of goods, lead times, defects, shortages.

    Firms on a long contract pay a stable price and, once committed, get
    priority in shortages; spot buyers pay a varying, on average lower, price
    and wait longer when supply is short.
    """

    def __init__(self, model: Market, spec: SupplierSpec, rng: np.random.Generator) -> None:
        super().__init__(model)
        self.generator = rng   # this partner's own random stream
        self.spec = spec
        self.name = spec.name
        self.spot_log_deviation = 0.0
        self.shortage_until = -1.0
        self.dyads: dict[int, PartnerDyad] = {}

    def step(self) -> None:
        """1. Partners deliver: shortages start and end, the spot price moves."""
        model = self.model
        spec = self.spec
        rng = self.generator
        if model.week >= self.shortage_until and rng.random() < rules.per_step(
                spec.shortage_probability, model.step_weeks):
            self.shortage_until = model.week + spec.shortage_weeks
        # mean-reverting log spot price: AR(1), D' = φ·D + v·Z (φ = spot_persistence, the share of the
        # deviation that survives a step; v = spot_volatility)
        self.spot_log_deviation = (spec.spot_persistence * self.spot_log_deviation
                                   + spec.spot_volatility * rng.standard_normal())

    @property
    def in_shortage(self) -> bool:
        """True while a shortage lasts."""
        return self.model.week < self.shortage_until

    def has_priority(self, firm: Firm) -> bool:
        """Committed contract partners are served first in a shortage: a long contract and a
        supplier dyad's commitment of at least ``suppliers[].priority_commitment``."""
        dyad = self.dyads[firm.index]
        return firm.strategy.supplier_contract == "long" and dyad.commitment >= self.spec.priority_commitment

    def unit_cost(self, firm: Firm) -> float:
        """Cost of goods per unit of basket value for ``firm`` this week.

        Long contract: ``c = unit_cost``. Spot:
        ``c = unit_cost · (1 − spot_discount) · κ · exp(D − v²/(2·(1 − φ²)))``, κ =
        ``shortage_markup`` in a shortage (1 otherwise), v = ``spot_volatility``, φ =
        ``spot_persistence``; v²/(1 − φ²) is the stationary variance of D, so the last factor
        keeps the mean of exp(·) at 1.
        """
        spec = self.spec
        if firm.strategy.supplier_contract == "long":
            return spec.unit_cost
        scarcity = spec.shortage_markup if self.in_shortage else 1.0
        persistence = spec.spot_persistence
        spread = spec.spot_volatility**2 / (2 * (1 - persistence**2))  # keep the spot mean at its target
        return (spec.unit_cost * (1 - spec.spot_discount) * scarcity
                * math.exp(self.spot_log_deviation - spread))

    def expected_unit_cost(self, firm: Firm) -> float:
        """The mean cost of goods per unit of basket value for ``firm`` outside a shortage:
        ``unit_cost`` on a long contract, ``unit_cost · (1 − spot_discount)`` on the spot market
        (the mean :meth:`unit_cost` keeps). A price floor read from it does not follow one
        week's spot noise."""
        spec = self.spec
        if firm.strategy.supplier_contract == "long":
            return spec.unit_cost
        return spec.unit_cost * (1 - spec.spot_discount)

    def lead_time(self, firm: Firm, normal):
        """Lead times (weeks): lognormal with the contract's variability, from
        standard normal draws ``normal`` (a float or an array); spot buyers
        without priority wait longer in a shortage (:meth:`lead_time_terms`)."""
        mean, cv, delay = self.lead_time_terms(firm)
        return lognormal(mean, cv, normal) + delay

    def lead_time_terms(self, firm: Firm) -> tuple[float, float, float]:
        """``(mean, cv, delay)`` of ``firm``'s lead times this week: the lognormal's mean and
        coefficient of variation (the contract's) and the weeks a spot buyer without priority
        waits longer in a shortage (0 otherwise)."""
        spec = self.spec
        cv = spec.lead_time_cv if firm.strategy.supplier_contract == "long" else spec.spot_lead_time_cv
        delay = spec.shortage_delay_weeks if self.in_shortage and not self.has_priority(firm) else 0.0
        return spec.lead_time_weeks, cv, delay

    def review(self, firm: Firm) -> None:
        """Update the firm–supplier dyad from this week's deliveries."""
        params = self.model.behaviour
        dyad = self.dyads[firm.index]
        if firm.deliveries:
            reliability = 1.0 - firm.failures / firm.deliveries
            dyad.trust = rules.clip(rules.update_trust(dyad.trust, reliability, params.trust_gain,
                                                       params.trust_loss), 0.0, 1.0)
        long_contract = firm.strategy.supplier_contract == "long"
        target = rules.commitment_target(dyad.trust, dyad.reciprocity, self.model.week,
                                         params.commitment_trust_weight,
                                         params.commitment_reciprocity_weight,
                                         params.commitment_tenure_weight, params.tenure_scale_weeks)
        dyad.commitment = rules.update_commitment(
            rules.decay(dyad.commitment, params.commitment_decay, self.model.step_weeks),
            target if long_contract else 0.0, params.supplier_review_intensity, params.commitment_rate)
        if self.in_shortage:
            served = self.has_priority(firm)
            dyad.responsiveness = rules.update_responsiveness(dyad.responsiveness, float(served),
                                                              params.responsiveness_rate)
            if served:
                dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity,
                                                            params.supplier_priority_goodwill)
        dyad.reciprocity = rules.decay(dyad.reciprocity, params.reciprocity_decay,
                                       self.model.step_weeks)


class Distributor(mesa.Agent):
    """A channel partner: reaches customers who prefer not to buy direct, for a fee."""

    def __init__(self, model: Market, spec: DistributorSpec, firms: list[Firm],
                 rng: np.random.Generator) -> None:
        super().__init__(model)
        self.generator = rng   # this partner's own random stream
        self.spec = spec
        self.name = spec.name
        self.firms = firms

    def step(self) -> None:
        """Make indirect-channel customers aware of one of the distributor's firms."""
        model = self.model
        if not self.firms:
            return
        indirect = np.flatnonzero(~model.direct)
        if indirect.size == 0:
            return
        reached = self.generator.poisson(self.spec.reach * model.step_weeks)
        expected = self.spec.reach * model.step_weeks
        chosen = self.generator.choice(indirect, size=min(reached, indirect.size), replace=False)
        firm_of = self.generator.integers(len(self.firms), size=chosen.size)
        for position, firm in enumerate(self.firms):
            model.population.learn_of(firm.index, chosen[firm_of == position], "partner",
                                      channel_fee=self.spec.fee)
        for firm in self.firms:
            _review_partner(model, firm.partner_dyads[self.name],
                            min(1.0, reached / expected) if expected > 0 else 1.0)


class AlliancePartner(mesa.Agent):
    """A non-competing alliance partner (e.g. an airline) that refers its customers."""

    def __init__(self, model: Market, name: str, alliance: AllianceSpec,
                 members: list[Firm], rng: np.random.Generator) -> None:
        super().__init__(model)
        self.generator = rng   # this partner's own random stream
        self.name = name
        self.alliance = alliance
        self.members = members

    def step(self) -> None:
        """Refer prospects to the alliance's member firms."""
        model = self.model
        members = [f for f in self.members if f.strategy.join_alliances and f.strategy.level >= 5]
        if not members:
            return
        expected = self.alliance.referrals_per_week * model.step_weeks
        referred = self.generator.poisson(expected)
        prospects = self.generator.integers(model.population.size, size=referred)
        firm_of = self.generator.integers(len(members), size=referred)
        for position, firm in enumerate(members):
            model.population.recommend(firm.index, prospects[firm_of == position])
        for firm in members:
            _review_partner(model, firm.partner_dyads[self.name],
                            min(1.0, referred / expected) if expected > 0 else 1.0)


def _review_partner(model: Market, dyad: PartnerDyad, performance: float) -> None:
    """Weekly update of a firm–partner dyad from the partner's delivered performance."""
    params = model.behaviour
    dyad.trust = rules.clip(rules.update_trust(dyad.trust, performance, params.trust_gain,
                                               params.trust_loss), 0.0, 1.0)
    target = rules.commitment_target(dyad.trust, dyad.reciprocity, model.week,
                                     params.commitment_trust_weight,
                                     params.commitment_reciprocity_weight,
                                     params.commitment_tenure_weight, params.tenure_scale_weeks)
    dyad.commitment = rules.update_commitment(dyad.commitment, target, params.partner_review_intensity,
                                              params.commitment_rate)
    dyad.responsiveness = rules.update_responsiveness(dyad.responsiveness, performance,
                                                      params.responsiveness_rate)
