"""The support desks at array scale: SimPy's desk discipline, compiled (numba).

The array engine raises thousands of tickets a week; on the SimPy desks
(:mod:`relsim.market.operations`) each costs three or four SimPy events in
Python. :class:`CompiledDesks` queues the same tickets in a compiled
discrete-event loop with the **same discipline**, so that on the same
arrivals, priorities, handling times and resolutions it gives the same
answers, at the same times, in the same order, ticket by ticket
(``tests/test_desk.py``):

* one desk per firm with ``agents`` servers; a firm without agents answers
  nothing (each ticket is abandoned on arrival, response time ∞);
* a ticket arriving at time ``t`` (scheduled at ``now + max(0, t − now)``,
  as ``Operations.open_tickets_at``) queues by (priority, arrival, first come
  first served): key accounts (priority 0) before the others (1);
* a free server takes the head of the queue; an answer comes ``handling``
  weeks after the ticket is taken; the server is freed at the answer and
  takes the next ticket at the same instant;
* a ticket not taken within ``patience`` weeks is abandoned (∞).

SimPy's order of events at equal times is kept too: every event the SimPy
desk would schedule (arrival, request granted, answer, release, patience end)
is scheduled here in the same order, and events are processed by (time,
scheduling order), as in SimPy's event queue; ``advance_to(until)`` processes
the events *before* ``until`` (SimPy's ``run(until)`` stops before the
events at ``until``). The desk draws no random numbers (handling times and
resolutions come with the tickets), so choosing it changes no stream.

SimPy stays the agent engine's desk and the reference; the array engine uses
this one unless ``operations.desk = "simpy"``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from relsim.market.jit import jit, jit_typed

if TYPE_CHECKING:
    from relsim.market.operations import Operations

# event kinds
ARRIVAL, TAKEN, ANSWER, RELEASE, PATIENCE = 0, 1, 2, 3, 4
# ticket states
FREE, COMING, QUEUED, SERVED = 0, 1, 2, 3
# integer columns of a ticket
T_DESK, T_PRIORITY, T_RESOLVED, T_STATE, T_SERIAL, T_CUSTOMER, T_COMPLAINT, T_PREV, T_NEXT = range(9)
# float columns of a ticket
T_HANDLING, T_OPENED = range(2)
# integer columns of an event
E_EID, E_KIND, E_ARG, E_SERIAL = range(4)
# desk columns
D_CAPACITY, D_USERS, D_WAITING, D_OPENED, D_ANSWERED, D_ABANDONED = range(6)
# counters
M_HEAP, M_EID, M_SERIAL, M_FREE = range(4)


@jit_typed("void(float64[::1], int64[:, ::1], int64[::1], float64, int64, int64, int64)")
def _push(ev_t, ev_i, meta, time, kind, arg, serial):
    """Schedule an event at ``time`` (a binary heap by time, then scheduling order)."""
    eid = meta[M_EID]
    meta[M_EID] = eid + 1
    i = meta[M_HEAP]
    meta[M_HEAP] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if ev_t[parent] < time or (ev_t[parent] == time and ev_i[parent, E_EID] < eid):
            break
        ev_t[i] = ev_t[parent]
        ev_i[i, :] = ev_i[parent, :]
        i = parent
    ev_t[i] = time
    ev_i[i, E_EID] = eid
    ev_i[i, E_KIND] = kind
    ev_i[i, E_ARG] = arg
    ev_i[i, E_SERIAL] = serial


@jit_typed("void(float64[::1], int64[:, ::1], int64[::1])")
def _pop(ev_t, ev_i, meta):
    """Remove the first event (the caller has read it)."""
    size = meta[M_HEAP] - 1
    meta[M_HEAP] = size
    if size == 0:
        return
    time = ev_t[size]
    eid = ev_i[size, E_EID]
    kind, arg, serial = ev_i[size, E_KIND], ev_i[size, E_ARG], ev_i[size, E_SERIAL]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and (ev_t[child + 1] < ev_t[child] or (
                ev_t[child + 1] == ev_t[child] and ev_i[child + 1, E_EID] < ev_i[child, E_EID])):
            child += 1
        if time < ev_t[child] or (time == ev_t[child] and eid < ev_i[child, E_EID]):
            break
        ev_t[i] = ev_t[child]
        ev_i[i, :] = ev_i[child, :]
        i = child
    ev_t[i] = time
    ev_i[i, E_EID] = eid
    ev_i[i, E_KIND] = kind
    ev_i[i, E_ARG] = arg
    ev_i[i, E_SERIAL] = serial


@jit_typed("void(int64[:, ::1], int64[::1], int64[::1], int64)")
def _release_slot(tk_i, free, meta, ticket):
    tk_i[ticket, T_STATE] = FREE
    free[meta[M_FREE]] = ticket
    meta[M_FREE] += 1


@jit_typed("void(int64, float64, float64[::1], int64[:, ::1], int64[:, ::1], int64[:, ::1], int64[:, ::1], "
           "int64[:, ::1], int64[::1])")
def _trigger_put(desk, now, ev_t, ev_i, tk_i, dk, heads, tails, meta):
    """A free server takes the head of the queue (SimPy's ``_trigger_put`` looks at the head only)."""
    if dk[desk, D_USERS] >= dk[desk, D_CAPACITY]:
        return
    for priority in range(heads.shape[1]):
        ticket = heads[desk, priority]
        if ticket < 0:
            continue
        following = tk_i[ticket, T_NEXT]
        heads[desk, priority] = following
        if following < 0:
            tails[desk, priority] = -1
        else:
            tk_i[following, T_PREV] = -1
        tk_i[ticket, T_STATE] = SERVED
        dk[desk, D_WAITING] -= 1
        dk[desk, D_USERS] += 1
        _push(ev_t, ev_i, meta, now, TAKEN, ticket, tk_i[ticket, T_SERIAL])
        return


@jit
def _open(now, times, desks, priorities, handling, resolved, customers, complaint,
          ev_t, ev_i, tk_f, tk_i, meta, free):
    """Schedule the arrivals of a batch of tickets (``Operations.open_tickets_at``)."""
    for k in range(times.size):
        meta[M_FREE] -= 1
        ticket = free[meta[M_FREE]]
        serial = meta[M_SERIAL]
        meta[M_SERIAL] = serial + 1
        tk_i[ticket, T_DESK] = desks[k]
        tk_i[ticket, T_PRIORITY] = priorities[k]
        tk_i[ticket, T_RESOLVED] = resolved[k]
        tk_i[ticket, T_STATE] = COMING
        tk_i[ticket, T_SERIAL] = serial
        tk_i[ticket, T_CUSTOMER] = customers[k]
        tk_i[ticket, T_COMPLAINT] = complaint[k]
        tk_f[ticket, T_HANDLING] = handling[k]
        _push(ev_t, ev_i, meta, now + max(0.0, times[k] - now), ARRIVAL, ticket, serial)


@jit
def _advance(until, patience, ev_t, ev_i, tk_f, tk_i, dk, heads, tails, meta, free, out_i, out_f):
    """Process the events before ``until``; the answers and abandonments, in the order
    they come, go to ``out_i`` (customer, desk, complaint, resolved) and ``out_f``
    (response time, time). Returns their number."""
    answers = 0
    while meta[M_HEAP] > 0 and ev_t[0] < until:
        now = ev_t[0]
        kind, ticket, serial = ev_i[0, E_KIND], ev_i[0, E_ARG], ev_i[0, E_SERIAL]
        _pop(ev_t, ev_i, meta)
        if kind == RELEASE:
            _trigger_put(ticket, now, ev_t, ev_i, tk_i, dk, heads, tails, meta)
            continue
        if tk_i[ticket, T_SERIAL] != serial or tk_i[ticket, T_STATE] == FREE:
            continue   # a patience end of a ticket taken (and answered) before
        desk = tk_i[ticket, T_DESK]
        if kind == ARRIVAL:
            dk[desk, D_OPENED] += 1
            if dk[desk, D_CAPACITY] == 0:   # no desk: unanswered
                dk[desk, D_ABANDONED] += 1
                out_i[answers, 0] = tk_i[ticket, T_CUSTOMER]
                out_i[answers, 1] = desk
                out_i[answers, 2] = tk_i[ticket, T_COMPLAINT]
                out_i[answers, 3] = 0
                out_f[answers, 0] = math.inf
                out_f[answers, 1] = now
                answers += 1
                _release_slot(tk_i, free, meta, ticket)
                continue
            tk_f[ticket, T_OPENED] = now
            tk_i[ticket, T_STATE] = QUEUED
            priority = tk_i[ticket, T_PRIORITY]
            last = tails[desk, priority]
            tk_i[ticket, T_PREV] = last
            tk_i[ticket, T_NEXT] = -1
            if last < 0:
                heads[desk, priority] = ticket
            else:
                tk_i[last, T_NEXT] = ticket
            tails[desk, priority] = ticket
            dk[desk, D_WAITING] += 1
            _trigger_put(desk, now, ev_t, ev_i, tk_i, dk, heads, tails, meta)
            if tk_i[ticket, T_STATE] == QUEUED:   # no agent free: the customer waits, not for ever
                _push(ev_t, ev_i, meta, now + patience, PATIENCE, ticket, serial)
        elif kind == TAKEN:
            _push(ev_t, ev_i, meta, now + tk_f[ticket, T_HANDLING], ANSWER, ticket, serial)
        elif kind == ANSWER:
            dk[desk, D_USERS] -= 1
            _push(ev_t, ev_i, meta, now, RELEASE, desk, 0)
            dk[desk, D_ANSWERED] += 1
            out_i[answers, 0] = tk_i[ticket, T_CUSTOMER]
            out_i[answers, 1] = desk
            out_i[answers, 2] = tk_i[ticket, T_COMPLAINT]
            out_i[answers, 3] = tk_i[ticket, T_RESOLVED]
            out_f[answers, 0] = now - tk_f[ticket, T_OPENED]
            out_f[answers, 1] = now
            answers += 1
            _release_slot(tk_i, free, meta, ticket)
        elif kind == PATIENCE and tk_i[ticket, T_STATE] == QUEUED:
            before, after = tk_i[ticket, T_PREV], tk_i[ticket, T_NEXT]
            priority = tk_i[ticket, T_PRIORITY]
            if before < 0:
                heads[desk, priority] = after
            else:
                tk_i[before, T_NEXT] = after
            if after < 0:
                tails[desk, priority] = before
            else:
                tk_i[after, T_PREV] = before
            dk[desk, D_WAITING] -= 1
            dk[desk, D_ABANDONED] += 1
            out_i[answers, 0] = tk_i[ticket, T_CUSTOMER]
            out_i[answers, 1] = desk
            out_i[answers, 2] = tk_i[ticket, T_COMPLAINT]
            out_i[answers, 3] = 0
            out_f[answers, 0] = math.inf
            out_f[answers, 1] = now
            answers += 1
            _release_slot(tk_i, free, meta, ticket)
    return answers


class CompiledDesks:
    """Every firm's support desk as one compiled queueing simulation.

    Parameters
    ----------
    operations : Operations
        The run's operations: the desks' sizes (``operations.desks``), the
        patience, and the SimPy clock the tickets' arrival times are read
        against. The firms' :class:`relsim.market.operations.SupportDesk`
        objects keep their weekly statistics (opened, answered, abandoned,
        response times, queue length), filled from here after each advance.
    priorities : int
        Number of priority levels (priorities are 0 … ``priorities − 1``).

    The desks' sizes are read here and again before each advance, so a desk
    resized by an adaptive competitor (``SupportDesk.agents``) is followed; a
    desk replaced later with ``Operations.add_desk`` would not be seen.
    """

    def __init__(self, operations: Operations, priorities: int = 2) -> None:
        self.operations = operations
        self.patience = float(operations.spec.patience_weeks)
        #: the time up to which the desks have run (the last ``advance_to``): a resize between two
        #: advances happened then (an adaptive competitor's review at the start of a week)
        self.clock = float(operations.env.now)
        self.firm_desks = [operations.desks[f] for f in sorted(operations.desks)]
        count = len(self.firm_desks)
        self.dk = np.zeros((count, 6), dtype=np.int64)
        self.dk[:, D_CAPACITY] = [desk.agents for desk in self.firm_desks]
        self.servers = int(self.dk[:, D_CAPACITY].sum())   # all desks' agents (kept with the sizes)
        self.heads = np.full((count, priorities), -1, dtype=np.int64)
        self.tails = np.full((count, priorities), -1, dtype=np.int64)
        self.meta = np.zeros(4, dtype=np.int64)
        self.tk_f = np.zeros((0, 2))
        self.tk_i = np.zeros((0, 9), dtype=np.int64)
        self.free = np.zeros(0, dtype=np.int64)
        self.ev_t = np.zeros(0)
        self.ev_i = np.zeros((0, 4), dtype=np.int64)

    def _room_for(self, new: int) -> None:
        """Ticket slots for ``new`` more tickets, and an event heap that cannot overflow
        (each live ticket holds at most two pending events, each server one release)."""
        slots = self.tk_i.shape[0]
        if int(self.meta[M_FREE]) < new:
            grown = max(2 * slots, slots + new - int(self.meta[M_FREE]), 1024)
            self.tk_f = np.concatenate([self.tk_f, np.zeros((grown - slots, 2))])
            self.tk_i = np.concatenate([self.tk_i, np.zeros((grown - slots, 9), dtype=np.int64)])
            free = np.zeros(grown, dtype=np.int64)
            top = int(self.meta[M_FREE])
            free[:top] = self.free[:top]
            free[top:top + grown - slots] = np.arange(grown - 1, slots - 1, -1)
            self.free = free
            self.meta[M_FREE] = top + grown - slots
            slots = grown
        needed = int(self.meta[M_HEAP]) + 2 * slots + self.servers + 8
        if self.ev_t.size < needed:
            size = max(needed, 2 * self.ev_t.size)
            self.ev_t = np.concatenate([self.ev_t, np.zeros(size - self.ev_t.size)])
            self.ev_i = np.concatenate([self.ev_i, np.zeros((size - self.ev_i.shape[0], 4), dtype=np.int64)])

    def open(self, times: np.ndarray, firms: np.ndarray, priorities: np.ndarray, handling: np.ndarray,
             resolved: np.ndarray, customers: np.ndarray, complaint: np.ndarray) -> None:
        """A batch of tickets reaches the desks from ``times`` on (in batch order at equal times)."""
        if times.size == 0:
            return
        self._room_for(times.size)
        ints = [np.ascontiguousarray(values, dtype=np.int64) for values in (firms, priorities, resolved, customers)]
        flags = np.ascontiguousarray(complaint, dtype=np.int64)
        if flags.shape != times.shape:   # one flag for all (numpy's broadcast_to costs more than the copy)
            flags = np.ascontiguousarray(np.broadcast_to(flags, times.shape))
        _open(float(self.operations.env.now), np.ascontiguousarray(times, dtype=np.float64), ints[0], ints[1],
              np.ascontiguousarray(handling, dtype=np.float64), ints[2], ints[3], flags,
              self.ev_t, self.ev_i, self.tk_f, self.tk_i, self.meta, self.free)

    def _follow_resizes(self) -> None:
        """Take up desks resized since the last advance (an adaptive competitor's review,
        :func:`relsim.market.competition.resize_desk`): the new number of servers from now
        on; each added server takes the head of its queue at once, as SimPy's
        ``_trigger_put`` does there; a cut lets busy servers finish their tickets.
        The resize happened when the desks stopped last (:attr:`clock`), not at the
        SimPy clock, which the operations may already have run to the end of the week."""
        now = self.clock
        for index, desk in enumerate(self.firm_desks):
            before, after = int(self.dk[index, D_CAPACITY]), int(desk.agents)
            if after == before:
                continue
            self.dk[index, D_CAPACITY] = after
            self.servers = int(self.dk[:, D_CAPACITY].sum())
            self._room_for(0)
            for _ in range(max(0, after - before)):
                _push(self.ev_t, self.ev_i, self.meta, now, RELEASE, index, 0)

    def advance_to(self, until: float):
        """Queue and serve up to ``until``; returns the answers and abandonments in the
        order they came: ``(customers, firms, complaint, response_time, resolved, times)``."""
        self._follow_resizes()
        self._room_for(0)
        live = self.tk_i.shape[0] - int(self.meta[M_FREE])
        out_i = np.empty((live, 4), dtype=np.int64)
        out_f = np.empty((live, 2))
        self.dk[:, D_OPENED:] = 0
        count = _advance(float(until), self.patience, self.ev_t, self.ev_i, self.tk_f, self.tk_i, self.dk,
                         self.heads, self.tails, self.meta, self.free, out_i, out_f)
        self.clock = float(until)
        out_i, out_f = out_i[:count], out_f[:count]
        firms = out_i[:, 1]
        response = out_f[:, 0]
        times: list[float] = []
        starts: list[int] = []
        if count:   # the answered tickets' response times, desk by desk in the order they came
            from relsim.market import kernels  # loaded by now (the week's kernels)
            grouped, bounds = kernels.finite_by_desk(firms, response, len(self.firm_desks))
            times, starts = grouped.tolist(), bounds.tolist()
        for index, (desk, (waiting, opened, answered, abandoned)) in enumerate(zip(
                self.firm_desks, self.dk[:, D_WAITING:].tolist(), strict=True)):
            desk.opened += opened
            desk.answered += answered
            desk.abandoned += abandoned
            desk.waiting = waiting
            if answered:
                desk.response_times.extend(times[starts[index]:starts[index + 1]])
        return out_i[:, 0], firms, out_i[:, 2].astype(bool), response, out_i[:, 3].astype(bool), out_f[:, 1]
