"""The customer agent: a buyer with a relationship (dyad) per firm it knows.

A Mesa ``Agent`` that acts one customer at a time. Its state is its row of
the shared :class:`relsim.market.state.CustomerState` (one column per firm:
trust, commitment, satisfaction, ...), and what happens to it at each event
is written once, for both engines, in :mod:`relsim.market.events` (which
applies the rules of :mod:`relsim.market.rules`): each method below is that
event for this one customer.

Read a customer's week top to bottom: the firms' offers and account
management (step 2), :meth:`Customer.shop` (choose, buy), the operations'
answers (:meth:`Customer.on_delivery`, :meth:`Customer.on_answer`), then
:meth:`Customer.talk`, :meth:`Customer.hear` and :meth:`Customer.leave` (the
model decides who talks and who lapses with the rules applied to all
customers of a firm at once).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import mesa
import numpy as np

from relsim.market import events

if TYPE_CHECKING:
    from relsim.market.interfaces import Market as MarketModel
    from relsim.market.state import CustomerState
    from relsim.scenario.schema import SegmentSpec

#: What :meth:`Customer.relationship` reports of a dyad.
RELATIONSHIP_FIELDS = ("trust", "commitment", "reciprocity", "responsiveness", "satisfaction", "wom",
                       "knowledge", "offer", "purchases", "last_purchase", "first_week", "spells", "referred")


# ==========================================================================
# Customer
# ==========================================================================
class Customer(mesa.Agent):
    """A buyer in the market, with a relationship (dyad) per firm it knows.

    Parameters
    ----------
    model : MarketModel
    index : int
        Position in the population (its row of the state, its node in the social network).
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
        self.me = np.array([index])   # this customer, as an index into the shared state

    # -- what the customer holds ---------------------------------------------
    @property
    def state(self) -> CustomerState:
        return self.model.population.state

    @property
    def current(self) -> int:
        """The firm the customer buys from now (-1: none)."""
        return int(self.state.current[self.index])

    def knows(self) -> list[int]:
        """The firms the customer is aware of."""
        return np.flatnonzero(self.model.aware[self.index]).tolist()

    def relationship(self, firm: int) -> dict[str, float]:
        """This customer's side of the dyad with ``firm`` (and the firm's CRM record)."""
        return {name: getattr(self.state, name)[self.index, firm].item() for name in RELATIONSHIP_FIELDS}

    # -- awareness --------------------------------------------------------
    def learn_of(self, firm: int, source: str, channel_fee: float = 0.0) -> None:
        """Become aware of ``firm`` (no effect if already aware)."""
        events.learn_of(self.state, firm, self.me, source, channel_fee)

    def referred_by_partner(self, firm: int) -> None:
        """An alliance partner recommends ``firm``."""
        events.recommend(self.state, firm, self.me)

    # -- 2. what firms do for their customers ---------------------------------
    def receive_offer(self, firm: int) -> None:
        """A personalised offer from ``firm``, built on what its CRM knows."""
        events.personalised_offer(self.state, self.me, firm)

    def overdue(self, firm: int) -> bool:
        """Overdue for a win-back offer from ``firm``."""
        return bool(events.overdue(self.state, self.me, firm)[0])

    def receive_retention_offer(self, firm: int, discount: float) -> None:
        """A win-back discount on the next order from ``firm``."""
        events.retention_offer(self.state, self.me, firm, discount)

    def manage_account(self, firm: int) -> None:
        """A week of key-account management by ``firm``."""
        events.manage_account(self.state, self.me, firm)

    def prunable(self, firm: int, threshold: float) -> bool:
        """Earns ``firm`` too little to keep (``events.prunable``)."""
        return bool(events.prunable(self.state, self.me, firm, threshold)[0])

    # -- 3. needs, choice and purchase -------------------------------------
    def shop(self, occasions: int) -> None:
        """Buy once per purchase occasion from a firm chosen by multinomial logit."""
        model = self.model
        if not model.aware[self.index].any():
            return
        for _ in range(occasions):
            self.buy(self.choose())
            if model.dormant_until[self.index] > model.week:
                break   # dropped out at this purchase (BG/NBD): no more buying, not even this week

    def choose(self) -> int:
        """Pick a known firm by multinomial logit; remember the best alternative."""
        return int(events.choose(self.state, self.me, self.model.population.draws)[0])

    def buy(self, firm: int) -> None:
        """Place one order with ``firm``: books, CRM record, commitment, fulfilment."""
        events.purchase(self.state, self.me, np.array([firm]), self.model.population.draws,
                        self._place_order, self._open_tickets)

    def _place_order(self, _customers, firms, due, late, defective) -> None:
        """The order is delivered at ``due`` (a SimPy event)."""
        self.model.operations.deliver_at(float(due[0]), partial(
            self.on_delivery, int(firms[0]), bool(late[0]), bool(defective[0]), float(due[0])))

    def _open_tickets(self, _customers, firms, complaint, _times, priority, handling, resolved) -> None:
        """A question or complaint reaches the firm's desk now (a SimPy request)."""
        self.model.operations.queue_ticket(int(firms[0]), int(priority[0]), float(handling[0]),
                                           bool(resolved[0]), partial(self.model.population.answered, self,
                                                                      int(firms[0]), bool(complaint[0])))

    # -- 4./5. operations' answers -----------------------------------------
    def on_delivery(self, firm: int, late: bool, defective: bool, time: float) -> None:
        """An order arrived: experience, satisfaction, trust; after a failure voice or exit."""
        events.delivery(self.state, self.me, np.array([firm]), np.array([late]), np.array([defective]),
                        np.array([time]), self.model.population.draws, self._open_tickets)

    def on_answer(self, firm: int, complaint: bool, response_time: float, resolved: bool,
                  time: float) -> None:
        """A ticket was answered (or abandoned): responsiveness, recovery, reciprocity."""
        events.answer(self.state, self.me, np.array([firm]), np.array([complaint]), np.array([response_time]),
                      np.array([resolved]), np.array([time]), self.model.population.draws)

    # -- 7. word of mouth --------------------------------------------------
    def talk(self, firm: int, positive: bool) -> None:
        """Tell one random network contact about ``firm``, for or against it.

        Whether a customer talks this week follows rules.talk_probability; the
        model evaluates it for all customers of a firm at once
        (``events.talkers_and_leavers``).
        """
        population = self.model.population
        listeners, heard = events.talk(self.state, firm, self.me, np.array([positive]), population.draws)
        for listener, good in zip(listeners.tolist(), heard.tolist(), strict=True):
            population.customers[listener].hear(firm, good)

    def hear(self, firm: int, positive: bool) -> None:
        """Word of mouth about ``firm`` reaches this customer."""
        events.hear(self.state, firm, self.me, np.array([positive]), self.model.population.draws)

    # -- 8. churn ----------------------------------------------------------
    def leave(self, reason: str) -> None:
        """End the current spell (``reason``: lapsed, failure, pruned; a switch ends it inside ``buy``)."""
        events.leave(self.state, self.me, reason)
