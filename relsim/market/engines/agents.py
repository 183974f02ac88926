"""The agent engine: every customer a Mesa agent (:class:`relsim.market.agents.Customer`).

:class:`AgentPopulation` implements :class:`relsim.market.interfaces.Population`
by calling the customers one at a time; each Customer applies the shared
event functions of :mod:`relsim.market.events` to its own row of the shared
:class:`relsim.market.state.CustomerState`. Orders are SimPy events; tickets
queue at the SimPy desks when they are raised; their answers are collected
during the week's SimPy run and applied afterwards, in the order they came.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from relsim.market import events
from relsim.market.agents import Customer
from relsim.market.draws import ScalarDraws
from relsim.market.state import CustomerState

if TYPE_CHECKING:
    from relsim.market.interfaces import Market


class AgentPopulation:
    """The customers as Mesa agents, advanced one at a time.

    Parameters
    ----------
    model : Market
        A model whose customer traits (``segment_of``, ``need_rate``,
        ``direct``, ``dropout``, ``spend_rate``) are drawn.
    """

    def __init__(self, model: Market) -> None:
        self.model = model
        self.state = CustomerState(model)
        segments = model.spec.segments
        self.size = self.state.size
        self.customers = [Customer(model, index, segments[model.segment_of[index]],
                                   float(model.need_rate[index]), bool(model.direct[index]))
                          for index in range(self.size)]
        # one number at a time from the run's streams (or the lock-step run's keyed draws)
        self.draws = model.keyed_draws or ScalarDraws({"events": model.draws,
                                                       "operations": model.operations.draws})
        self.answers: list[tuple[Customer, int, bool, float, bool, float]] = []

    # -- who is whose customer ----------------------------------------------
    def count(self, firm: int) -> int:
        return self.state.count(firm)

    def members_of(self, firm: int) -> np.ndarray:
        return self.state.members_of(firm)

    def current_firm(self, customers: np.ndarray) -> np.ndarray:
        return self.state.current_firm(customers)

    def _each(self, customers: np.ndarray) -> list[Customer]:
        return [self.customers[index] for index in customers.tolist()]

    # -- set-up ---------------------------------------------------------------
    def start_initial(self, firm, customers, first_week, last_purchase, purchases, commitment) -> None:
        for position, customer in enumerate(self._each(customers)):
            row = slice(position, position + 1)
            events.start_initial(self.state, firm, customer.me, first_week[row], last_purchase[row],
                                 purchases[row], commitment[row])

    def lapse_for_good(self, customers: np.ndarray) -> None:
        for customer in self._each(customers):
            customer.leave("lapsed")
            self.model.dormant_until[customer.index] = np.inf

    # -- step 2 ---------------------------------------------------------------
    def learn_of(self, firm: int, customers: np.ndarray, source: str, channel_fee: float = 0.0) -> None:
        for customer in self._each(customers[~self.model.aware[customers, firm]]):
            customer.learn_of(firm, source, channel_fee)

    def recommend(self, firm: int, customers: np.ndarray) -> None:
        for customer in self._each(customers):
            customer.referred_by_partner(firm)

    def personalised_offers(self, firm: int, probability: float) -> int:
        chosen = self.model.sample(self.members_of(firm), probability)
        for customer in self._each(chosen):
            customer.receive_offer(firm)
        return int(chosen.size)

    def retention_offers(self, firm: int, discount: float) -> int:
        offers = 0
        for customer in self._each(self.members_of(firm)):
            if customer.overdue(firm):
                customer.receive_retention_offer(firm, discount)
                offers += 1
        return offers

    def review_key_accounts(self, firm: int, share: float) -> None:
        events.review_key_accounts(self.state, firm, share)   # the firm ranks all its customers at once

    def serve_key_accounts(self, firm: int) -> int:
        accounts = 0
        for customer in self._each(self.members_of(firm)):
            if self.state.key_account[customer.index]:
                customer.manage_account(firm)
                accounts += 1
        return accounts

    def prune(self, firm: int, threshold: float) -> None:
        for customer in self._each(self.members_of(firm)):
            if customer.prunable(firm, threshold):
                customer.leave("pruned")

    # -- steps 3 to 8 -----------------------------------------------------------
    def begin_week(self) -> None:
        self.state.begin_week()

    def shop(self, occasions: np.ndarray) -> None:
        for index in np.flatnonzero(occasions).tolist():
            self.customers[index].shop(int(occasions[index]))

    def run_operations(self, until: float) -> None:
        """Run SimPy to ``until`` (deliveries call the customers back), then apply the answers."""
        self.model.operations.advance_to(until)
        answers, self.answers = self.answers, []
        for customer, firm, complaint, response_time, resolved, time in answers:
            customer.on_answer(firm, complaint, response_time, resolved, time)

    def answered(self, customer: Customer, firm: int, complaint: bool, response_time: float,
                 resolved: bool) -> None:
        """A desk answered (or abandoned) a ticket: its effect comes after the week's SimPy run."""
        self.answers.append((customer, firm, complaint, response_time, resolved,
                             self.model.operations.env.now))

    def hear(self, firm: int, listeners: np.ndarray, positive: np.ndarray) -> None:
        for customer, good in zip(self._each(listeners), positive.tolist(), strict=True):
            customer.hear(firm, good)

    def word_of_mouth_and_churn(self, talk_draws: np.ndarray, churn_draws: np.ndarray) -> None:
        """For each firm the rules are applied to the relationship state of all its
        customers at once (``events.talkers_and_leavers``); the customers drawn to
        talk call ``Customer.talk`` and those drawn to lapse call ``Customer.leave``.
        A customer's talk never changes another customer's hazard, so this equals
        talking first and leaving after."""
        state = self.state
        state.end_of_week_state = {}
        for firm in range(len(self.model.firms)):
            members = self.members_of(firm)
            if members.size == 0:
                continue
            talking, positive, leaving, relationship = events.talkers_and_leavers(
                state, firm, members, talk_draws, churn_draws)
            if talking is not None:
                for customer, good in zip(self._each(members[talking]), positive[talking].tolist(), strict=True):
                    customer.talk(firm, good)
            for customer in self._each(members[leaving]):
                customer.leave("lapsed")
            # the state of those who stay is the end-of-week state the books record
            state.end_of_week_state[firm] = {name: values[~leaving] for name, values in relationship.items()}
        if not self.model.spec.word_of_mouth.enabled:
            state.recent_leavers = tuple(values[:0] for values in state.recent_leavers)
            return
        # recent leavers (after a failure, or pruned) may still warn their contacts
        leavers, firms, positive = events.warning_leavers(state, talk_draws)
        for customer, firm, good in zip(self._each(leavers), firms.tolist(), positive.tolist(), strict=True):
            customer.talk(firm, good)

    # -- what the books record ----------------------------------------------------
    def relationship_state(self, firm: int) -> dict[str, np.ndarray]:
        return self.state.relationship_state(firm)

    def customers_table(self) -> pd.DataFrame:
        return self.state.customers_table()

    def closed_spells(self) -> pd.DataFrame:
        return self.state.closed_spells()

    def open_spells(self) -> pd.DataFrame:
        return self.state.open_spells()
