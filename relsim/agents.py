"""The agents of the market: customers, firms and their partners.

Each agent is a Mesa ``Agent``. Agents hold state and decide; *how* a
relationship parameter moves is never written here but in
:mod:`relsim.rules`, which agents call. Read a customer's week top to
bottom: :meth:`Customer.shop`, then the operations' answers
(:meth:`Customer.on_delivery`, :meth:`Customer.on_answer`), then
:meth:`Customer.talk` and :meth:`Customer.leave` (the model decides who talks
and who lapses with the rules applied to all customers of a firm at once).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

import mesa
import numpy as np

from relsim import rules
from relsim.draws import lognormal
from relsim.dyad import QUARTER_WEEKS, CustomerDyad, PartnerDyad
from relsim.operations import SupportDesk

if TYPE_CHECKING:
    from relsim.model import MarketModel
    from relsim.scenario import AllianceSpec, DistributorSpec, FirmSpec, SegmentSpec, SupplierSpec
    from relsim.strategies import Strategy

#: How a customer first learned of a firm; also the acquisition source.
SOURCES = ("paid", "wom", "organic", "partner", "initial")


# ==========================================================================
# Customer
# ==========================================================================
class Customer(mesa.Agent):
    """A buyer in the market, with a relationship (dyad) per firm it knows.

    Parameters
    ----------
    model : MarketModel
    index : int
        Position in the population (and in the social network).
    segment : SegmentSpec
        Static traits of the customer's segment.
    need_rate : float
        Purchase occasions per week (Poisson rate).
    direct : bool
        Prefers the firms' own channel (False: reached through distributors).
    """

    def __init__(self, model: MarketModel, index: int, segment: SegmentSpec,
                 need_rate: float, direct: bool) -> None:
        super().__init__(model)
        self.index = index
        self.segment = segment
        self.need_rate = need_rate
        self.direct = direct
        self.basket_mean = segment.basket_mean
        self.dyads: dict[int, CustomerDyad] = {}
        self.current = -1                 # firm the customer buys from now (-1: none)
        self.programmes: set[str] = set()  # loyalty programmes enrolled in
        self.dropout = 0.0                # BG/NBD: chance of leaving after a repeat purchase
        self.spend_rate = 0.0             # Gamma-Gamma: rate nu of order values (0: lognormal)

    # -- awareness --------------------------------------------------------
    def learn_of(self, firm: int, source: str) -> CustomerDyad:
        """Become aware of ``firm`` (no effect if already aware)."""
        dyad = self.dyads.get(firm)
        if dyad is None:
            params = self.model.behaviour
            dyad = CustomerDyad(firm, source, self.model.week, params.initial_trust,
                                params.initial_responsiveness)
            self.dyads[firm] = dyad
            self.model.aware[self.index, firm] = True
        return dyad

    def touch(self, dyad: CustomerDyad) -> None:
        """Bring ``dyad`` up to this week (lazy decay)."""
        dyad.catch_up(self.model.week, *self.model.decay_rates)

    # -- 3. needs and choice -----------------------------------------------
    def shop(self, occasions: int) -> None:
        """Buy once per purchase occasion from a firm chosen by multinomial logit."""
        if not self.dyads:
            return
        for _ in range(occasions):
            firm = self.choose()
            self.buy(firm)
            if self.model.dormant_until[self.index] > self.model.week:
                break   # dropped out at this purchase (BG/NBD): no more buying, not even this week

    def utility(self, dyad: CustomerDyad) -> float:
        """Utility of buying from the firm of ``dyad`` now (see rules.choice_utility)."""
        firm = self.model.firms[dyad.firm]
        segment = self.segment
        return rules.choice_utility(
            firm.quality, firm.price * (1.0 - dyad.retention_discount), segment.price_sensitivity,
            dyad.trust, dyad.commitment, dyad.reciprocity,
            dyad.responsiveness * segment.service_sensitivity,
            firm.reward_value(firm.programme in self.programmes), dyad.wom, dyad.offer,
            float(dyad.firm == self.current), *self.model.choice_weights)

    def choose(self) -> int:
        """Pick a known firm by multinomial logit; remember the best alternative."""
        dyads = list(self.dyads.values())
        for dyad in dyads:
            self.touch(dyad)
        if len(dyads) == 1:
            dyads[0].competitor_advantage = 0.0
            return dyads[0].firm
        utilities = [self.utility(d) for d in dyads]
        probabilities = rules.logit_probabilities(utilities)
        draw = self.model.draws.uniform()
        pick = len(dyads) - 1
        for position, probability in enumerate(probabilities):
            draw -= probability
            if draw < 0.0:
                pick = position
                break
        chosen = utilities[pick]
        utilities[pick] = -math.inf
        dyads[pick].competitor_advantage = max(utilities) - chosen
        return dyads[pick].firm

    def buy(self, firm_index: int) -> None:
        """Place one order with ``firm_index``: books, CRM record, commitment, fulfilment."""
        model = self.model
        week = model.week
        firm = model.firms[firm_index]
        dyad = self.dyads[firm_index]
        if self.current != firm_index:
            if self.current >= 0:
                self.leave("switched")
            self.join(firm_index)
        basket = model.draw_basket(self)
        margin = firm.sell(basket, dyad.retention_discount, dyad.channel_fee, dyad.source == "wom")
        if firm.strategy.reward_rate > 0.0:
            self.programmes.add(firm.programme)
        # CRM record (RFM) and realised lifetime value
        if dyad.purchases == 0:
            dyad.first_week = week
        dyad.purchases += 1
        dyad.last_purchase = week
        dyad.spend += basket
        dyad.margin += margin
        if firm.tracks_margins:
            dyad.book_quarter_margin(week, margin)
        if week == dyad.first_week:
            dyad.acquisition_margin += margin
        else:
            dyad.ltv += margin * rules.discount_factor(week - dyad.first_week,
                                                       model.spec.market.discount_rate)
        dyad.offer = 0.0
        dyad.retention_discount = 0.0
        self.contact(dyad, model.behaviour.purchase_intensity)
        if firm.strategy.reward_rate > 0.0:
            dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity,
                                                        model.behaviour.reward_goodwill)
        if not model.spec.operations.enabled:
            self.on_delivery(dyad, late=False, defective=False)
        else:
            draws = model.operations.draws
            model.operations.place_order(
                delay=draws.uniform() * model.step_weeks,
                lead_time=firm.supplier.lead_time(firm, draws.normal()),
                defect_rate=firm.supplier.spec.defect_rate,
                on_delivery=partial(self.on_delivery, dyad))
        # BG/NBD: after a repeat purchase the customer may drop out for good
        if (model.spec.churn.model == "bgnbd" and dyad.purchases >= 2 and self.current == firm_index
                and model.draws.uniform() < self.dropout):
            self.leave("lapsed")

    def join(self, firm_index: int) -> None:
        """Start a customer spell with ``firm_index``."""
        dyad = self.dyads[firm_index]
        source = dyad.source if dyad.spells == 0 else "returning"
        dyad.spells += 1
        dyad.active = True
        dyad.spell_start = self.model.week
        self.current = firm_index
        self.model.population.members[firm_index][self.index] = self
        self.model.firms[firm_index].welcome(source)

    def leave(self, reason: str) -> None:
        """End the current spell (``reason``: lapsed, switched, failure, pruned)."""
        firm = self.model.firms[self.current]
        dyad = self.dyads[self.current]
        dyad.active = False
        dyad.key_account = False
        del self.model.population.members[self.current][self.index]
        firm.farewell(reason)
        self.model.population.spell_ended(self, dyad, reason)
        self.current = -1
        if reason != "switched":
            churn = self.model.spec.churn
            returns = churn.lapsed_return and churn.model != "bgnbd"   # BG/NBD dropout is for good
            self.model.dormant_until[self.index] = (self.model.week + churn.dormancy_weeks
                                                    if returns else math.inf)

    def contact(self, dyad: CustomerDyad, intensity: float, knowledge: bool = True) -> None:
        """A contact with the firm: commitment grows toward its target."""
        params = self.model.behaviour
        self.touch(dyad)
        target = rules.commitment_target(
            dyad.trust, dyad.reciprocity, dyad.tenure(self.model.week),
            params.commitment_trust_weight, params.commitment_reciprocity_weight,
            params.commitment_tenure_weight, params.tenure_scale_weeks)
        dyad.commitment = rules.update_commitment(dyad.commitment, target, intensity,
                                                  params.commitment_rate)
        if knowledge:
            dyad.knowledge = rules.update_knowledge(dyad.knowledge, 1, params.knowledge_rate)

    # -- 2. what firms do for their customers ---------------------------------
    def receive_offer(self, dyad: CustomerDyad) -> None:
        """A personalised offer from the firm of ``dyad``, built on what its CRM knows."""
        params = self.model.behaviour
        self.touch(dyad)
        dyad.offer = params.offer_value * dyad.knowledge
        dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity, params.offer_goodwill)
        self.contact(dyad, params.offer_intensity, knowledge=False)

    def manage_account(self, dyad: CustomerDyad) -> None:
        """A week of key-account management by the firm of ``dyad``."""
        params = self.model.behaviour
        self.touch(dyad)
        dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity, params.key_account_goodwill)
        self.contact(dyad, params.key_account_intensity)

    # -- 4./5. operations' answers -----------------------------------------
    def on_delivery(self, dyad: CustomerDyad, late: bool, defective: bool) -> None:
        """An order arrived: experience, satisfaction, trust; after a failure voice or exit."""
        model = self.model
        params = model.behaviour
        firm = model.firms[dyad.firm]
        self.touch(dyad)
        failure = late or defective
        if model.spec.operations.enabled and model.operations.draws.uniform() < model.spec.operations.question_rate:
            firm.open_ticket(self, dyad, complaint=False)   # a question about the order
        firm.deliveries += 1
        firm.failures += failure
        if failure:
            experience = params.defect_experience if defective else params.late_experience
        else:
            experience = min(1.0, firm.quality)
        expectation = self.segment.expectation + params.expectation_price_weight * (
            firm.strategy.price - 1.0)
        dyad.satisfaction = rules.update_satisfaction(dyad.satisfaction, experience, expectation,
                                                      params.satisfaction_rate)
        severity = self.segment.service_sensitivity * rules.failure_severity(
            dyad.commitment, float(late and not defective), params.forgiveness)
        dyad.trust = rules.clip(rules.update_trust(dyad.trust, float(not failure), params.trust_gain,
                                                   params.trust_loss, severity), 0.0, 1.0)
        follow_up = firm.strategy.level >= 3
        if follow_up:
            # The accountable firm calls after the sale and asks for feedback.
            firm.books["relationship"] += model.spec.costs.follow_up
            self.contact(dyad, params.follow_up_intensity)
            dyad.responsiveness = rules.update_responsiveness(
                dyad.responsiveness, 1.0, params.responsiveness_rate * params.follow_up_intensity)
        if not failure or not dyad.active:
            return
        # Silent customers weigh exit; that is part of the behavioural churn model.
        may_exit = model.spec.churn.model == "behavioural"
        voice = model.draws.uniform() < rules.complaint_probability(
            dyad.commitment, params.voice_base, params.voice_commitment)
        if voice or follow_up:
            firm.open_ticket(self, dyad, complaint=True)
        elif may_exit and model.draws.uniform() < rules.failure_exit_probability(
                dyad.commitment, params.exit_after_failure, params.forgiveness):
            self.leave("failure")

    def on_answer(self, dyad: CustomerDyad, complaint: bool, response_time: float,
                  resolved: bool) -> None:
        """A ticket was answered (or abandoned): responsiveness, recovery, reciprocity."""
        model = self.model
        params = model.behaviour
        self.touch(dyad)
        observed = rules.response_quality(response_time, model.spec.operations.response_target_weeks)
        dyad.responsiveness = rules.update_responsiveness(dyad.responsiveness, observed,
                                                          params.responsiveness_rate)
        if not complaint:
            return
        dyad.satisfaction = rules.service_recovery(dyad.satisfaction, observed, float(resolved),
                                                   params.recovery_bonus)
        if resolved:
            dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity,
                                                        params.recovery_goodwill * observed)
            dyad.trust = rules.update_trust(dyad.trust, 1.0, params.trust_gain * observed,
                                            params.trust_loss)
        elif (dyad.active and model.spec.churn.model == "behavioural"
              and model.draws.uniform() < rules.failure_exit_probability(
                dyad.commitment, params.exit_after_failure, params.forgiveness)):
            self.leave("failure")

    # -- 7. word of mouth --------------------------------------------------
    def talk(self, firm_index: int, positive: bool) -> None:
        """Tell one random network contact about ``firm_index``, for or against it.

        Whether a customer talks this week follows rules.talk_probability; the
        model evaluates it for all customers of a firm at once (see
        Population.word_of_mouth_and_churn in relsim.engine).
        """
        model = self.model
        listener = model.network.pick_listener(self.index, model.draws)
        if listener < 0:
            return
        model.firms[firm_index].wom_spoken[positive] += 1
        model.population.customers[listener].hear(firm_index, positive)

    def hear(self, firm_index: int, positive: bool) -> None:
        """Word of mouth about ``firm_index`` reaches this customer."""
        model = self.model
        wom = model.spec.word_of_mouth
        dyad = self.learn_of(firm_index, "wom")
        self.touch(dyad)
        dyad.wom = rules.update_wom_influence(dyad.wom, float(positive), wom.strength,
                                              wom.negativity_weight)
        if positive and not dyad.active:
            dyad.referred = True
            if model.draws.uniform() < wom.referral_trial:
                model.extra_occasions[self.index] += 1  # an extra purchase occasion next week

    # 8. churn: the weekly hazard (rules.churn_hazard) is evaluated by the model for
    # all customers of a firm at once; a customer who lapses calls leave("lapsed").


# ==========================================================================
# Firm
# ==========================================================================
BOOK_LINES = ("revenue", "cogs", "acquisition", "relationship", "service_desk",
              "partner_fees", "rewards")


class Firm(mesa.Agent):
    """A firm: the focal one or a competitor. Same class, different strategy.

    Parameters
    ----------
    model : MarketModel
    index : int
        Position in ``model.firms`` (0 is the focal firm).
    spec : FirmSpec
    strategy : Strategy
    supplier : Supplier
    """

    def __init__(self, model: MarketModel, index: int, spec: FirmSpec, strategy: Strategy,
                 supplier: Supplier) -> None:
        super().__init__(model)
        self.index = index
        self.name = spec.name
        self.spec = spec
        self.strategy = strategy
        self.quality = spec.quality
        self.supplier = supplier
        self.alliances: list[AllianceSpec] = []
        self.programme = spec.name if strategy.reward_rate > 0 else ""
        self.partner_dyads: dict[str, PartnerDyad] = {}
        desk_agents = 0
        if strategy.level >= 2 and strategy.service_capacity > 0:
            desk_agents = max(1, round(strategy.service_capacity
                                       * model.spec.market.reference_desk_agents))
        self.desk: SupportDesk = model.operations.add_desk(index, desk_agents)
        self.key_accounts = 0
        # trailing margins are kept only where a rule reads them (memory)
        self.tracks_margins = strategy.pruning or (strategy.level >= 5 and strategy.key_account_share > 0)
        self.promotion = False
        self.price = strategy.price
        self.customers_at_start = 0
        self._clear_counters()

    # -- bookkeeping -------------------------------------------------------
    def reset_week(self) -> None:
        """Clear the week's counters; called at the start of every step."""
        self._clear_counters()
        self.customers_at_start = self.model.population.count(self.index)

    def _clear_counters(self) -> None:
        self.books = dict.fromkeys(BOOK_LINES, 0.0)
        self.new_by_source = dict.fromkeys((*SOURCES, "returning"), 0)
        self.churned_by_reason = dict.fromkeys(("lapsed", "switched", "failure", "pruned"), 0)
        self.orders = 0
        self.referral_orders = 0
        self.complaints = 0
        self.deliveries = 0
        self.failures = 0
        self.wom_spoken = [0, 0]   # [negative, positive]
        self.desk.reset_week()

    def welcome(self, source: str, count: int = 1) -> None:
        """``count`` customer spells start (``source``: how they came)."""
        self.new_by_source[source] += count

    def farewell(self, reason: str, count: int = 1) -> None:
        """``count`` customer spells end (``reason``: lapsed, switched, failure, pruned)."""
        self.churned_by_reason[reason] += count

    # -- prices, programmes ------------------------------------------------
    def price_now(self) -> float:
        """Price index paid this week, promotion included (also kept in ``self.price``)."""
        if self.promotion:
            return self.strategy.price * (1.0 - self.strategy.promotion_discount)
        return self.strategy.price

    def reward_value(self, enrolled):
        """Value of the loyalty programme to a customer: the reward rate, halved
        for a customer not (yet) enrolled in the firm's programme or alliance.
        ``enrolled`` is a bool or a boolean array (one per customer)."""
        rate = self.strategy.reward_rate
        if rate == 0.0:
            return 0.0 * enrolled
        return rate * (0.5 + 0.5 * enrolled)

    def sell(self, basket, retention_discount, channel_fee, referred):
        """Book orders; return their margins (revenue − COGS − fees − rewards).

        Works for one order (floats) and for a batch (arrays, one entry per
        order): ``retention_discount`` is the win-back discount on the order,
        ``channel_fee`` the distributor's share, ``referred`` whether the
        customer came by word of mouth.
        """
        revenue = basket * (self.price * (1.0 - retention_discount))
        cogs = basket * self.supplier.unit_cost(self)
        fee = revenue * channel_fee
        reward = revenue * (self.strategy.reward_rate * self.model.spec.costs.reward_redemption)
        books = self.books
        if isinstance(basket, np.ndarray):
            books["revenue"] += float(revenue.sum())
            books["cogs"] += float(cogs.sum())
            books["partner_fees"] += float(fee.sum())
            books["rewards"] += float(reward.sum())
            self.orders += basket.size
            self.referral_orders += int(np.count_nonzero(referred))
        else:
            books["revenue"] += revenue
            books["cogs"] += cogs
            books["partner_fees"] += fee
            books["rewards"] += reward
            self.orders += 1
            self.referral_orders += referred
        return revenue - cogs - fee - reward

    def open_ticket(self, customer: Customer, dyad: CustomerDyad, complaint: bool) -> None:
        """Send a question or complaint to the desk (key accounts first)."""
        self.complaints += complaint
        self.model.operations.open_ticket(
            self.index, 0 if dyad.key_account else 1,
            partial(customer.on_answer, dyad, complaint))

    # -- 2. the firm acts ----------------------------------------------------
    def act(self) -> None:
        """The firm's weekly moves: promotion, campaign, relationship activities.

        What happens to the customers is done by the model's population
        (:mod:`relsim.engine`), the same for both engines; the firm decides and pays.
        """
        model = self.model
        strategy = self.strategy
        population = model.population
        week_number = model.steps - 1
        self.promotion = (strategy.promotion_every_weeks > 0
                          and week_number % strategy.promotion_every_weeks == 0)
        self.price = self.price_now()
        self._campaign()
        self.books["service_desk"] += (self.desk.agents * model.spec.costs.desk_agent_per_week
                                       * model.step_weeks)
        if strategy.level >= 3:
            self.books["relationship"] += (population.count(self.index) * model.step_weeks
                                           * model.spec.costs.programme_per_customer_week)
        if strategy.level >= 4:
            self._personalised_offers()
        quarter_end = week_number % QUARTER_WEEKS == QUARTER_WEEKS - 1
        if strategy.level >= 5:
            self._key_accounts(quarter_end)
        if strategy.pruning and quarter_end:
            population.prune(self.index, strategy.pruning_min_margin)

    def _campaign(self) -> None:
        """Paid acquisition: each unaware direct-channel customer is reached with the
        campaign's reach probability (rules.paid_reach)."""
        model = self.model
        market = model.spec.market
        budget = self.strategy.acquisition_budget * market.reference_budget * model.step_weeks
        if budget <= 0:
            return
        self.books["acquisition"] += budget
        reach = rules.per_step(rules.paid_reach(budget / model.step_weeks,
                                                market.max_reach_share,
                                                market.half_saturation), model.step_weeks)
        reachable = ~model.aware[:, self.index] & model.direct
        if self.strategy.target_segments:
            names = [segment.name for segment in model.spec.segments]
            targeted = [names.index(name) for name in self.strategy.target_segments]
            reachable &= np.isin(model.segment_of, targeted)
        model.population.learn_of(self.index, model.sample(np.flatnonzero(reachable), reach), "paid")

    def _personalised_offers(self) -> None:
        """Proactive level: offers built on CRM knowledge, and win-back offers."""
        costs = self.model.spec.costs
        population = self.model.population
        offers = population.personalised_offers(self.index, self.strategy.personalisation)
        if self.strategy.retention_offer and costs.retention_offer_discount > 0:   # no discount, no offer
            offers += population.retention_offers(self.index, costs.retention_offer_discount)
        self.books["relationship"] += offers * costs.offer

    def _key_accounts(self, review: bool) -> None:
        """Partnership level: managers for the top customers by trailing margin,
        chosen at the quarterly account review."""
        model = self.model
        share = self.strategy.key_account_share
        if share <= 0:
            return
        if review:
            model.population.review_key_accounts(self.index, share)
        self.key_accounts = model.population.serve_key_accounts(self.index)
        managers = math.ceil(self.key_accounts / model.spec.costs.accounts_per_manager)
        self.books["relationship"] += managers * model.spec.costs.manager_per_week * model.step_weeks

    def co_create(self, partners: int) -> None:
        """Partnership level: feedback from partner-rung customers improves quality."""
        if self.strategy.level >= 5 and partners:
            params = self.model.behaviour
            self.quality = min(params.max_quality,
                               self.quality + params.co_creation_quality * partners
                               * self.model.step_weeks)


# ==========================================================================
# Partners
# ==========================================================================
class Supplier(mesa.Agent):
    """A supplier: cost of goods, lead times, defects, shortages.

    Firms on a long contract pay a stable price and, once committed, get
    priority in shortages; spot buyers pay a varying, on average lower, price
    and wait longer when supply is short.
    """

    def __init__(self, model: MarketModel, spec: SupplierSpec, rng: np.random.Generator) -> None:
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
        # mean-reverting log spot price (AR(1), half of the deviation survives a week)
        self.spot_log_deviation = (0.5 * self.spot_log_deviation
                                   + spec.spot_volatility * rng.standard_normal())

    @property
    def in_shortage(self) -> bool:
        """True while a shortage lasts."""
        return self.model.week < self.shortage_until

    def has_priority(self, firm: Firm) -> bool:
        """Committed contract partners are served first in a shortage."""
        dyad = self.dyads[firm.index]
        return firm.strategy.supplier_contract == "long" and dyad.commitment >= 0.5

    def unit_cost(self, firm: Firm) -> float:
        """Cost of goods per unit of basket value for ``firm`` this week."""
        spec = self.spec
        if firm.strategy.supplier_contract == "long":
            return spec.unit_cost
        scarcity = 1.3 if self.in_shortage else 1.0
        spread = spec.spot_volatility**2 / (2 * (1 - 0.25))  # keep the spot mean at its target
        return (spec.unit_cost * (1 - spec.spot_discount) * scarcity
                * math.exp(self.spot_log_deviation - spread))

    def lead_time(self, firm: Firm, normal):
        """Lead times (weeks): lognormal with the contract's variability, from
        standard normal draws ``normal`` (a float or an array); spot buyers
        without priority wait longer in a shortage."""
        spec = self.spec
        cv = spec.lead_time_cv if firm.strategy.supplier_contract == "long" else spec.spot_lead_time_cv
        lead = lognormal(spec.lead_time_weeks, cv, normal)
        if self.in_shortage and not self.has_priority(firm):
            lead += spec.shortage_delay_weeks
        return lead

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
            target if long_contract else 0.0, 1.0, params.commitment_rate)
        if self.in_shortage:
            served = self.has_priority(firm)
            dyad.responsiveness = rules.update_responsiveness(dyad.responsiveness, float(served),
                                                              params.responsiveness_rate)
            if served:
                dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity,
                                                            params.recovery_goodwill)
        dyad.reciprocity = rules.decay(dyad.reciprocity, params.reciprocity_decay,
                                       self.model.step_weeks)


class Distributor(mesa.Agent):
    """A channel partner: reaches customers who prefer not to buy direct, for a fee."""

    def __init__(self, model: MarketModel, spec: DistributorSpec, firms: list[Firm],
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

    def __init__(self, model: MarketModel, name: str, alliance: AllianceSpec,
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


def _review_partner(model: MarketModel, dyad: PartnerDyad, performance: float) -> None:
    """Weekly update of a firm–partner dyad from the partner's delivered performance."""
    params = model.behaviour
    dyad.trust = rules.clip(rules.update_trust(dyad.trust, performance, params.trust_gain,
                                               params.trust_loss), 0.0, 1.0)
    target = rules.commitment_target(dyad.trust, dyad.reciprocity, model.week,
                                     params.commitment_trust_weight,
                                     params.commitment_reciprocity_weight,
                                     params.commitment_tenure_weight, params.tenure_scale_weeks)
    dyad.commitment = rules.update_commitment(dyad.commitment, target, 0.5, params.commitment_rate)
    dyad.responsiveness = rules.update_responsiveness(dyad.responsiveness, performance,
                                                      params.responsiveness_rate)
