"""The customer agent: a buyer with a relationship (dyad) per firm it knows.

A Mesa ``Agent``. It holds state and decides; *how* a relationship parameter
moves is never written here but in :mod:`relsim.market.rules`, which it calls.
Read a customer's week top to bottom: :meth:`Customer.shop`, then the
operations' answers (:meth:`Customer.on_delivery`, :meth:`Customer.on_answer`),
then :meth:`Customer.talk` and :meth:`Customer.leave` (the model decides who
talks and who lapses with the rules applied to all customers of a firm at once).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

import mesa

from relsim.market import rules
from relsim.market.dyad import CustomerDyad

if TYPE_CHECKING:
    from relsim.market.interfaces import Market
    from relsim.scenario.schema import SegmentSpec

# ==========================================================================
# Customer
# ==========================================================================
class Customer(mesa.Agent):
    """A buyer in the market, with a relationship (dyad) per firm it knows.

    Parameters
    ----------
    model : Market
    index : int
        Position in the population (and in the social network).
    segment : SegmentSpec
        Static traits of the customer's segment.
    need_rate : float
        Purchase occasions per week (Poisson rate).
    direct : bool
        Prefers the firms' own channel (False: reached through distributors).
    """

    def __init__(self, model: Market, index: int, segment: SegmentSpec,
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
            float(dyad.firm == self.current), *self.model.choice_weights_for(self.model.segment_of[self.index]))

    def choose(self) -> int:
        """Pick a known firm by multinomial logit; remember the best alternative."""
        dyads = list(self.dyads.values())
        for dyad in dyads:
            self.touch(dyad)
        if len(dyads) == 1:
            dyads[0].competitor_advantage = 0.0
            return dyads[0].firm
        if self.current >= 0:   # habit: a repeat without weighing the alternatives
            mine = self.dyads[self.current]
            if self.model.draws.uniform() < self.model.habit_probability(
                    self.model.segment_of[self.index], mine.satisfaction, mine.commitment):
                return self.current
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
            dyad.reciprocity = rules.update_reciprocity(dyad.reciprocity, firm.reward_goodwill)
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
                and model.draws.uniform() < model.dropout_probability(
                    self.dropout, model.segment_of[self.index], dyad.satisfaction, dyad.commitment)):
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
        Population.word_of_mouth_and_churn in relsim.market.interfaces).
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


