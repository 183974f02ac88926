"""The agent engine: every customer a Mesa agent (:class:`relsim.market.agents.Customer`).

:class:`AgentPopulation` implements :class:`relsim.market.interfaces.Population` by
looping over Customer objects; what a customer does is written in the
Customer's methods, which call :mod:`relsim.market.rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from relsim.market import rules
from relsim.market.agents import Customer
from relsim.market.dyad import CustomerDyad, relationship_state
from relsim.market.metrics import CUSTOMER_COLUMNS
from relsim.market.terms import LEAVER_WARNING_WEEKS

if TYPE_CHECKING:
    from relsim.market.interfaces import Market


class AgentPopulation:
    """The customers as Mesa agents.

    Parameters
    ----------
    model : Market
        A model whose customer traits (``segment_of``, ``need_rate``,
        ``direct``, ``dropout``, ``spend_rate``) are drawn.
    """

    def __init__(self, model: Market) -> None:
        self.model = model
        segments = model.spec.segments
        self.size = len(model.need_rate)
        self.customers = [Customer(model, index, segments[model.segment_of[index]],
                                   float(model.need_rate[index]), bool(model.direct[index]))
                          for index in range(self.size)]
        for customer in self.customers:
            customer.dropout = float(model.dropout[customer.index])
            customer.spend_rate = float(model.spend_rate[customer.index])
            if customer.spend_rate > 0:
                customer.basket_mean = customer.segment.spend_shape / customer.spend_rate
        # the customers of each firm, in the order they joined (deterministic)
        self.members: list[dict[int, Customer]] = [{} for _ in model.firms]
        self.recent_leavers: list[tuple[Customer, int, float]] = []
        self.ended_spells: list[tuple] = []   # customer, firm, start, end, reason, source
        self.end_of_week_state: dict[int, dict[str, np.ndarray]] = {}

    # -- who is whose customer ----------------------------------------------
    def count(self, firm: int) -> int:
        return len(self.members[firm])

    def members_of(self, firm: int) -> np.ndarray:
        return np.fromiter(self.members[firm], dtype=np.int64, count=len(self.members[firm]))

    def current_firm(self, customers: np.ndarray) -> np.ndarray:
        return np.array([self.customers[int(i)].current for i in customers], dtype=np.int64)

    def dyads_of(self, firm: int) -> list[CustomerDyad]:
        """The dyads of ``firm``'s customers, in membership order."""
        return [customer.dyads[firm] for customer in self.members[firm].values()]

    # -- set-up ---------------------------------------------------------------
    def start_initial(self, firm, customers, first_week, last_purchase, purchases, commitment) -> None:
        params = self.model.behaviour
        for position, index in enumerate(customers.tolist()):
            customer = self.customers[index]
            dyad = customer.learn_of(firm, "initial")
            dyad.source = "initial"
            customer.join(firm)
            dyad.spell_start = dyad.first_week = float(first_week[position])
            dyad.last_purchase = float(last_purchase[position])
            dyad.purchases = int(purchases[position])
            # relationship state is not in a history: the same for any initial customer
            dyad.trust = min(1.0, params.initial_trust + 0.2)
            dyad.commitment = float(commitment[position])
            dyad.knowledge = rules.update_knowledge(0.0, dyad.purchases, params.knowledge_rate)

    def lapse_for_good(self, customers: np.ndarray) -> None:
        for index in customers.tolist():
            self.customers[index].leave("lapsed")
            self.model.dormant_until[index] = np.inf

    # -- step 2 ---------------------------------------------------------------
    def learn_of(self, firm: int, customers: np.ndarray, source: str, channel_fee: float = 0.0) -> None:
        aware = self.model.aware[:, firm]
        for index in customers.tolist():
            if not aware[index]:
                self.customers[index].learn_of(firm, source).channel_fee = channel_fee

    def recommend(self, firm: int, customers: np.ndarray) -> None:
        strength = self.model.spec.word_of_mouth.strength
        for index in customers.tolist():
            customer = self.customers[index]
            dyad = customer.learn_of(firm, "partner")
            customer.touch(dyad)
            dyad.wom = rules.update_wom_influence(dyad.wom, 1.0, strength, 0.0)

    def personalised_offers(self, firm: int, probability: float) -> int:
        members = list(self.members[firm].values())
        chosen = self.model.sample(np.arange(len(members)), probability)
        for position in chosen.tolist():
            members[position].receive_offer(members[position].dyads[firm])
        return len(chosen)

    def retention_offers(self, firm: int, discount: float) -> int:
        week = self.model.week
        offers = 0
        for customer in self.members[firm].values():
            dyad = customer.dyads[firm]
            overdue = (week - dyad.last_purchase) * customer.need_rate
            if overdue > 2.0 and dyad.retention_discount == 0.0:
                dyad.retention_discount = discount
                offers += 1
        return offers

    def review_key_accounts(self, firm: int, share: float) -> None:
        week = self.model.week
        ranked = sorted(self.members[firm].values(),
                        key=lambda c: (-c.dyads[firm].trailing_margin(week), c.index))
        count = round(share * len(ranked))
        for position, customer in enumerate(ranked):
            customer.dyads[firm].key_account = position < count

    def serve_key_accounts(self, firm: int) -> int:
        accounts = 0
        for customer in self.members[firm].values():
            dyad = customer.dyads[firm]
            if dyad.key_account:
                accounts += 1
                customer.manage_account(dyad)
        return accounts

    def prune(self, firm: int, threshold: float) -> None:
        week = self.model.week
        for customer in list(self.members[firm].values()):
            dyad = customer.dyads[firm]
            if dyad.tenure(week) >= 52 and dyad.trailing_margin(week) < threshold:
                customer.leave("pruned")

    # -- steps 3 to 8 -----------------------------------------------------------
    def begin_week(self) -> None:
        """Nothing to do: dyads decay lazily when touched (``Customer.touch``)."""

    def shop(self, occasions: np.ndarray) -> None:
        for index in np.flatnonzero(occasions).tolist():
            self.customers[index].shop(int(occasions[index]))

    def run_operations(self, until: float) -> None:
        """Run SimPy to ``until``: deliveries and answers call the customers back."""
        self.model.operations.advance_to(until)

    def hear(self, firm: int, listeners: np.ndarray, positive: np.ndarray) -> None:
        for index, good in zip(listeners.tolist(), positive.tolist(), strict=True):
            self.customers[index].hear(firm, good)

    def spell_ended(self, customer: Customer, dyad: CustomerDyad, reason: str) -> None:
        """Record a finished customer spell (for cohorts); leavers after a failure may warn others."""
        model = self.model
        self.ended_spells.append((customer.index, dyad.firm, dyad.spell_start, model.week, reason,
                                  dyad.source if dyad.spells == 1 else "returning"))
        if reason in ("failure", "pruned"):
            self.recent_leavers.append((customer, dyad.firm, model.week + LEAVER_WARNING_WEEKS))

    def word_of_mouth_and_churn(self, talk_draws: np.ndarray, churn_draws: np.ndarray) -> None:
        """For each firm the rules are applied to the relationship state of all its
        customers at once (``rules.talk_probability``, the model's hazard on
        arrays); the customers drawn to talk call ``Customer.talk`` and those
        drawn to lapse call ``Customer.leave``. A customer's talk never changes
        another customer's hazard, so this equals talking first and leaving after.
        """
        model = self.model
        self.end_of_week_state = {}
        wom = model.spec.word_of_mouth.enabled
        for firm in model.firms:
            members = list(self.members[firm.index].values())
            if not members:
                continue
            index = np.fromiter((c.index for c in members), dtype=np.int64, count=len(members))
            state = relationship_state([c.dyads[firm.index] for c in members], model.week,
                                       model.decay_rates)
            if wom:
                positive, negative = rules.talk_probability(state["satisfaction"], state["commitment"],
                                                            *model.talk_weights)
                draws = talk_draws[index]
                for position in np.flatnonzero(draws < positive + negative).tolist():
                    members[position].talk(firm.index, bool(draws[position] < positive[position]))
            leaving = churn_draws[index] < model.hazard(state, index)
            for position in np.flatnonzero(leaving).tolist():
                members[position].leave("lapsed")
            # the state of those who stay is the end-of-week state the books record
            self.end_of_week_state[firm.index] = {name: values[~leaving] for name, values in state.items()}
        if not wom:
            self.recent_leavers = []
            return
        # recent leavers (after a failure, or pruned) may still warn their contacts
        still = []
        for customer, firm_index, until in self.recent_leavers:
            if model.week < until and customer.current < 0:
                dyad = customer.dyads[firm_index]
                customer.touch(dyad)
                positive, negative = rules.talk_probability(dyad.satisfaction, dyad.commitment,
                                                            *model.talk_weights)
                draw = talk_draws[customer.index]
                if draw < positive + negative:
                    customer.talk(firm_index, bool(draw < positive))
                still.append((customer, firm_index, until))
        self.recent_leavers = still

    # -- what the books record ----------------------------------------------------
    def relationship_state(self, firm: int) -> dict[str, np.ndarray]:
        state = self.end_of_week_state.get(firm)
        if state is None or len(state["trust"]) != self.count(firm):
            state = relationship_state(self.dyads_of(firm), self.model.week, self.model.decay_rates)
        return state

    def customers_table(self) -> pd.DataFrame:
        model = self.model
        week_end = model.week + model.step_weeks
        params = model.behaviour
        records = []
        for customer in self.customers:
            for firm_index, dyad in customer.dyads.items():
                if dyad.purchases == 0:
                    continue
                # decayed values computed, not written back: observing must not change the run
                elapsed = model.week - dyad.as_of
                records.append((
                    customer.index, customer.segment.name, firm_index, dyad.source, dyad.referred,
                    dyad.active, dyad.first_week,
                    week_end - dyad.spell_start if dyad.active else 0.0,
                    dyad.spells, dyad.purchases, dyad.spend, dyad.margin, dyad.acquisition_margin,
                    dyad.ltv, dyad.trust, rules.decay(dyad.commitment, params.commitment_decay, elapsed),
                    dyad.satisfaction, rules.decay(dyad.reciprocity, params.reciprocity_decay, elapsed),
                    dyad.responsiveness, customer.need_rate))
        columns = [c for c in CUSTOMER_COLUMNS if c != "rung"]
        return pd.DataFrame.from_records(records, columns=columns)

    def closed_spells(self) -> pd.DataFrame:
        """Spells that ended: customer, firm, start, end, reason, source."""
        return pd.DataFrame(self.ended_spells, columns=["customer", "firm", "start", "end", "reason", "source"])

    def open_spells(self) -> pd.DataFrame:
        rows = [(customer.index, firm, customer.dyads[firm].spell_start,
                 customer.dyads[firm].source if customer.dyads[firm].spells == 1 else "returning")
                for firm, members in enumerate(self.members) for customer in members.values()]
        return pd.DataFrame(rows, columns=["customer", "firm", "start", "source"])
