"""Operations in continuous time, on a SimPy environment.

Two kinds of process run inside each week:

* **fulfilment** — an order waits for the supplier's lead time, then is
  delivered (:meth:`Operations.deliver_at`; whether it is late or defective is
  drawn when it is placed, ``relsim.market.events.order``);
* **support tickets** — questions and complaints queue at the firm's support
  desk, a ``simpy.PriorityResource`` with as many servers as the desk agents
  the firm pays for (key accounts jump the queue). A ticket not taken up
  within the customer's patience is abandoned. The response time is
  *measured* as the time from opening the ticket to its answer.

The Mesa model is the master clock: each weekly step calls
:meth:`Operations.advance_to` which runs the environment to the end of the
week; outcomes are handed back to the agents through callbacks.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import simpy

from relsim.market.draws import Draws

if TYPE_CHECKING:
    from relsim.scenario.schema import OperationsSpec

#: Callback ``(response_time_weeks, resolved)`` for an answered or abandoned ticket.
TicketCallback = Callable[[float, bool], None]


class _PriorityQueue(simpy.resources.resource.SortedQueue):
    """SimPy's priority queue with the same order (priority, then arrival, first
    come first served within both), kept by inserting each request in place
    rather than re-sorting the whole queue at every arrival, which made a busy
    desk cost quadratic time in its queue length."""

    _key = operator.attrgetter("key")

    def append(self, item) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        bisect.insort_right(self, item, key=self._key)


class _DeskResource(simpy.PriorityResource):
    PutQueue = _PriorityQueue


class SupportDesk:
    """A firm's support desk: ``agents`` servers and a priority queue.

    Parameters
    ----------
    env : simpy.Environment
    agents : int
        Desk agents (servers). 0 means the firm has no desk: tickets go
        unanswered (their response time is infinite).
    """

    def __init__(self, env: simpy.Environment, agents: int) -> None:
        self.env = env
        self.agents = agents
        self.resource = _DeskResource(env, capacity=agents) if agents > 0 else None
        self.opened = 0
        self.answered = 0
        self.abandoned = 0
        self.response_times: list[float] = []
        #: tickets waiting, when the queue is the array engine's compiled desk (``market.desk``)
        self.waiting: int | None = None

    def reset_week(self) -> None:
        """Start the week's statistics afresh (the queue itself carries over)."""
        self.opened = 0
        self.answered = 0
        self.abandoned = 0
        self.response_times = []

    @property
    def queue_length(self) -> int:
        """Tickets waiting for an agent now."""
        if self.waiting is not None:
            return self.waiting
        return len(self.resource.queue) if self.resource is not None else 0


class Operations:
    """The SimPy side of the model: one environment, one desk per firm.

    Parameters
    ----------
    spec : OperationsSpec
        Promise, desk handling time, patience.
    rng : numpy.random.Generator
        The run's operations stream (lead times, defects, handling times).
    """

    def __init__(self, spec: OperationsSpec, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng
        self.draws = Draws(rng)
        self.env = simpy.Environment()
        self.desks: dict[int, SupportDesk] = {}

    def add_desk(self, firm: int, agents: int) -> SupportDesk:
        """Create (or replace) the desk of ``firm`` with ``agents`` servers."""
        desk = SupportDesk(self.env, agents)
        self.desks[firm] = desk
        return desk

    def advance_to(self, week: float) -> None:
        """Run every process up to the end of ``week`` (the master clock's step)."""
        self.env.run(until=week)

    # ------------------------------------------------------------------
    def open_ticket(self, firm: int, priority: int, on_answer: TicketCallback) -> None:
        """Queue a ticket at ``firm``'s desk; ``on_answer(response_time, resolved)`` follows.

        ``priority`` 0 is served first (key accounts), 1 otherwise.
        """
        staffed = self.desks[firm].agents > 0   # nothing to draw for a firm without a desk (or cut to none)
        handling = self.draws.exponential(self.spec.service_time_weeks) if staffed else 0.0
        resolved = staffed and self.draws.uniform() < self.spec.resolution_probability
        self._arrive(firm, priority, handling, resolved, on_answer)

    def open_tickets_at(self, times: np.ndarray, firms: np.ndarray, priorities: np.ndarray,
                        handling: np.ndarray, resolved: np.ndarray, tickets: np.ndarray,
                        on_answer: Callable[[int, float, bool], None]) -> None:
        """Feed a batch of tickets to the desks as timed arrivals.

        The array engine raises a week's tickets in batches; each still queues
        at its firm's SimPy desk from its own arrival time, with the handling
        time and resolution drawn for it (``relsim.market.events.tickets``).
        ``on_answer(ticket, response_time, resolved)`` is called with the
        ticket's number from ``tickets``.
        """
        now = self.env.now
        for number, time, firm, priority, handle, fixed in zip(
                tickets.tolist(), times.tolist(), firms.tolist(), priorities.tolist(), handling.tolist(),
                resolved.tolist(), strict=True):
            arrival = self.env.timeout(max(0.0, time - now))
            arrival.callbacks.append(partial(self._arrive, firm, priority, handle, fixed,
                                             partial(on_answer, number)))

    def deliver_at(self, time: float, on_delivery: Callable[[], None]) -> None:
        """Call ``on_delivery()`` at ``time`` (the agent engine's orders)."""
        self.env.timeout(max(0.0, time - self.env.now)).callbacks.append(lambda _event: on_delivery())

    def queue_ticket(self, firm: int, priority: int, handling: float, resolved: bool,
                     on_answer: TicketCallback) -> None:
        """A ticket with its drawn handling time and resolution reaches ``firm``'s desk now."""
        self._arrive(firm, priority, handling, resolved, on_answer)

    def _arrive(self, firm: int, priority: int, handling: float, resolved: bool,
                on_answer: TicketCallback, _event=None) -> None:
        """A ticket reaches its desk now: it queues, or it goes unanswered if the firm has no desk."""
        desk = self.desks[firm]
        desk.opened += 1
        if desk.agents == 0 or desk.resource is None:
            desk.abandoned += 1
            on_answer(math.inf, False)
            return
        _Ticket(self.env, desk, priority, self.spec.patience_weeks, handling, resolved, on_answer)


class _Ticket:
    """One question or complaint at a desk, as SimPy events and their callbacks.

    The ticket requests a desk agent (``PriorityResource.request``); if no
    agent takes it within the customer's patience, the request is withdrawn
    and the ticket abandoned; once taken, it is answered ``handling`` weeks
    later and the agent is released. Written with callbacks rather than as a
    process function because a busy desk sees thousands of tickets a week and
    a process (with its ``request | timeout`` condition) costs twice the events.
    """

    __slots__ = ("desk", "env", "handling", "on_answer", "opened", "request", "resolved")

    def __init__(self, env: simpy.Environment, desk: SupportDesk, priority: int, patience: float,
                 handling: float, resolved: bool, on_answer: TicketCallback) -> None:
        self.env, self.desk = env, desk
        self.handling, self.resolved, self.on_answer = handling, resolved, on_answer
        self.opened = env.now
        resource = desk.resource
        assert resource is not None, "tickets go only to a desk with agents"
        self.request = resource.request(priority=priority)
        self.request.callbacks.append(self._taken)
        if not self.request.triggered:   # no agent free: the customer waits, but not for ever
            env.timeout(patience).callbacks.append(self._patience_ends)

    def _patience_ends(self, _event) -> None:
        if not self.request.triggered:
            self.request.cancel()
            self.desk.abandoned += 1
            self.on_answer(math.inf, False)

    def _taken(self, _event) -> None:
        self.env.timeout(self.handling).callbacks.append(self._answered)

    def _answered(self, _event) -> None:
        self.request.resource.release(self.request)   # the desk's queue (kept through a cut to no agents)
        response_time = self.env.now - self.opened
        desk = self.desk
        desk.answered += 1
        desk.response_times.append(response_time)
        self.on_answer(response_time, self.resolved)
