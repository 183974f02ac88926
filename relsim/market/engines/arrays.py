"""The array engine: the customer population advanced in batches.

The customers' state is the shared :class:`relsim.market.state.CustomerState`
(a row per customer, a column per firm) and every event is the shared
function of :mod:`relsim.market.events`, as in the agent engine; this engine
only schedules them: each event function is called once for a whole batch,
in the same order within the week as the agent engine calls it for one
customer at a time:

* step 2: offers, retention offers, key accounts, pruning and awareness are
  applied to all customers a firm selects at once;
* step 3: purchase occasions are played in *rounds*: round ``k`` lets every
  customer with at least ``k`` occasions choose (multinomial logit over the
  firms it knows) and buy, so a second purchase sees the state the first
  one left, as in the agent engine;
* steps 4–6: deliveries due in the week are taken from a numpy calendar in
  time order; the tickets they raise are fed, with their arrival times, to
  the firms' desks — compiled (:class:`relsim.market.desk.CompiledDesks`, the
  SimPy desk's queue ticket by ticket) or SimPy's
  (:meth:`relsim.market.operations.Operations.open_tickets_at`) — which queue
  them; answers are applied after the week's run of the desks;
* steps 7–8: talk and churn per firm on arrays, word of mouth spread along
  the network's CSR arrays.

Where one dyad receives several events in a batch (two deliveries, two
conversations), the batch is split into rounds in which each dyad appears
once, in time order, so every rule sees the state the previous event left.
Decay is applied to all dyads at the start of each week
(``CustomerState.begin_week``, as in the agent engine).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from relsim.market import events
from relsim.market.draws import BatchDraws
from relsim.market.state import CustomerState

if TYPE_CHECKING:
    from relsim.market.desk import CompiledDesks
    from relsim.market.interfaces import Market


def rounds(customers: np.ndarray, firms: np.ndarray | int, firm_count: int,
           counts: np.ndarray | None = None) -> list[np.ndarray]:
    """Split a batch of events into rounds in which each dyad appears once.

    Parameters
    ----------
    customers, firms : arrays (or one firm)
        The dyad of each event, events in the order they happen.
    firm_count : int
    counts : int32 array, optional
        One cell per dyad of the population (flat), all zero: a large batch's events are then
        counted in it by compiled code (``kernels.dense_rounds``, which leaves it zero) instead
        of by numpy's sort.

    Returns
    -------
    list of index arrays
        Round ``k`` holds the ``k``-th event of every dyad with more than
        ``k`` events, so applying the rounds in turn keeps each dyad's order.
    """
    size = customers.size
    if size == 0:
        return []
    if size <= _SMALL_BATCH or counts is not None:
        # compiled, without a sort: one call instead of a dozen numpy passes
        one_firm = not isinstance(firms, np.ndarray)
        firm_array = (firms.astype(np.int64, copy=False) if isinstance(firms, np.ndarray)
                      else np.array([firms], dtype=np.int64))
        if size <= _SMALL_BATCH:
            order, starts = _kernels().dyad_rounds(customers.astype(np.int64, copy=False), firm_array,
                                                   firm_count, one_firm)
        else:
            order, starts = _kernels().dense_rounds(customers.astype(np.int64, copy=False), firm_array,
                                                    firm_count, one_firm, counts)
        if starts.size == 2:
            return [np.arange(size)]
        bounds = starts.tolist()
        return [order[start:end] for start, end in itertools.pairwise(bounds)]
    key = customers.astype(np.int64) * firm_count + firms
    order, ordered = _stable_order(key)
    if (ordered[1:] != ordered[:-1]).all():   # the common case: every dyad once
        return [np.arange(size)]
    starts = np.ones(size, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(size), 0))
    occurrence = np.empty(size, dtype=np.int64)
    occurrence[order] = np.arange(size) - first
    return [np.flatnonzero(occurrence == k) for k in range(int(occurrence.max()) + 1)]


#: Batches up to this size are split into rounds by compiled code (numpy's sort is faster above it).
_SMALL_BATCH = 1000


def _stable_order(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(key, kind="stable")`` and ``key`` in that order, by one sort of
    ``key * size + position`` (unique, so any sort gives the stable order; one sort of
    integers instead of a sort and a stable argsort). Keys too large for that sum
    in 64 bits take the stable argsort."""
    size = key.size
    if key.size and int(key.max()) >= np.iinfo(np.int64).max // size - 1:
        order = np.argsort(key, kind="stable")
        return order, key[order]
    combined = np.sort(key * size + np.arange(size))
    ordered = combined // size
    return combined - ordered * size, ordered


def _first_buyers(occasions: np.ndarray, aware: np.ndarray) -> np.ndarray:
    """The customers with an occasion who know a firm: ``np.flatnonzero(occasions)`` then
    ``aware[buyers].any(axis=1)``. With 1, 2, 4 or 8 firms a customer's row of (0 or 1) bytes
    reads as one unsigned integer, nonzero when any byte is, and both steps take one compiled
    pass (``kernels.first_buyers``: 4 against 15 µs for 5,000 customers of four firms; numpy's
    ``any`` along a short row is a slow reduction)."""
    width = aware.shape[1]
    if width in (1, 2, 4, 8) and aware.dtype == np.bool_ and aware.flags.c_contiguous:
        return _kernels().first_buyers(occasions, aware.view(f"u{width}").reshape(-1))
    buyers = np.flatnonzero(occasions)
    return buyers[aware[buyers].any(axis=1)]


def _time_order(times: np.ndarray) -> np.ndarray:
    """``np.argsort(times, kind="stable")``: above ``_RADIX_BATCH`` times by compiled radix sort
    (``kernels.stable_time_order``: 7 against 1.5 ms for 130,000 deliveries), else by numpy's
    faster unstable sort when no two times are equal (then every sort gives the one order:
    continuous delivery times), else the stable sort."""
    if times.size > _RADIX_BATCH:
        order = _kernels().stable_time_order(np.ascontiguousarray(times, dtype=np.float64))
        if order.size == times.size:
            return order
        return np.argsort(times, kind="stable")   # negative times
    order = np.argsort(times)
    ordered = times[order]
    if (ordered[1:] == ordered[:-1]).any():
        order = np.argsort(times, kind="stable")
    return order


#: ``kernels.due_in_rounds``' count cells when the calendar is too small to need them.
_NO_CELLS = np.zeros(0, dtype=np.int32)

#: Batches of times above this size are put in order by compiled radix sort (``_time_order``).
_RADIX_BATCH = 4096


def _kernels():
    """:mod:`relsim.market.kernels`, imported at the first use (building a market does not load numba)."""
    from relsim.market import kernels
    return kernels


class ArrayPopulation:
    """The customers advanced in batches (each event function once per batch).

    Parameters
    ----------
    model : Market
        A model whose customer traits are drawn and whose firms exist.
    """

    def __init__(self, model: Market) -> None:
        self.model = model
        self.state = CustomerState(model)
        self.size, self.firm_count = self.state.size, self.state.firm_count
        # whole batches from the run's streams (or the lock-step run's keyed draws)
        self.draws = model.keyed_draws or BatchDraws({"events": model.rng_events, "operations": model.rng_ops})
        # -- events in flight
        self.deliveries = {"customer": np.zeros(0, np.int64), "firm": np.zeros(0, np.int64),
                           "due": np.zeros(0), "late": np.zeros(0, bool), "defective": np.zeros(0, bool)}
        self.placed: list[tuple[np.ndarray, ...]] = []   # orders placed since the calendar was read
        # the support desks: compiled (market/desk.py) unless the scenario asks for SimPy's; made at
        # their first use (``desks``), so that building a market does not load numba
        self._compiled_desk = model.spec.operations.desk == "compiled"
        self._desks: CompiledDesks | None = None
        self.tickets: dict[int, tuple[int, int, bool]] = {}
        # tickets raised since the compiled desks last ran, queued there in one batch before they run
        # (``_open_pending``)
        self.pending_tickets: list[tuple[np.ndarray, ...]] = []
        self.answers: list[tuple[int, float, bool, float]] = []
        self.next_ticket = 0
        # one zero int32 cell per dyad, for splitting large batches into rounds (``_rounds``), made at
        # the first large batch
        self._dyad_counts: np.ndarray | None = None

    @property
    def desks(self) -> CompiledDesks | None:
        """The compiled desks (``None`` on SimPy's desks), made at the first ticket or week's end: the
        desks' sizes are read from ``model.operations`` then, as they would have been at the start
        (nothing resizes a desk before the first week runs)."""
        if self._compiled_desk and self._desks is None:
            from relsim.market.desk import CompiledDesks
            self._desks = CompiledDesks(self.model.operations)
        return self._desks

    def _rounds(self, customers: np.ndarray, firms: np.ndarray | int) -> list[np.ndarray]:
        """``rounds`` of a batch; a large one counted in the population's dyad cells."""
        if customers.size <= _SMALL_BATCH:
            return rounds(customers, firms, self.firm_count)
        return rounds(customers, firms, self.firm_count, self._dyad_cells())

    def _dyad_cells(self) -> np.ndarray:
        """The population's zero int32 cell per dyad (``rounds``' ``counts``), made at its first use."""
        if self._dyad_counts is None:
            self._dyad_counts = np.zeros(self.size * self.firm_count, dtype=np.int32)
        return self._dyad_counts

    # ------------------------------------------------------------------
    # who is whose customer
    # ------------------------------------------------------------------
    def count(self, firm: int) -> int:
        return self.state.count(firm)

    def members_of(self, firm: int) -> np.ndarray:
        return self.state.members_of(firm)

    def current_firm(self, customers: np.ndarray) -> np.ndarray:
        return self.state.current_firm(customers)

    # ------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------
    def start_initial(self, firm, customers, first_week, last_purchase, purchases, commitment) -> None:
        events.start_initial(self.state, firm, customers, first_week, last_purchase, purchases, commitment)

    def lapse_for_good(self, customers: np.ndarray) -> None:
        events.leave(self.state, customers, "lapsed")
        self.model.dormant_until[customers] = np.inf

    # ------------------------------------------------------------------
    # step 2: awareness, offers, key accounts, pruning
    # ------------------------------------------------------------------
    def learn_of(self, firm: int, customers: np.ndarray, source: str, channel_fee: float = 0.0) -> None:
        events.learn_of(self.state, firm, customers, source, channel_fee)

    def recommend(self, firm: int, customers: np.ndarray) -> None:
        for batch in self._rounds(customers, firm):
            events.recommend(self.state, firm, customers[batch])

    def personalised_offers(self, firm: int, probability: float) -> int:
        chosen = self.model.sample(self.members_of(firm), probability)
        events.personalised_offer(self.state, chosen, firm)
        return int(chosen.size)

    def retention_offers(self, firm: int, discount: float) -> int:
        members = self.members_of(firm)
        chosen = members[events.overdue(self.state, members, firm)]
        events.retention_offer(self.state, chosen, firm, discount)
        return int(chosen.size)

    def review_key_accounts(self, firm: int, share: float) -> None:
        events.review_key_accounts(self.state, firm, share)

    def serve_key_accounts(self, firm: int) -> int:
        members = self.members_of(firm)
        accounts = members[self.state.key_account[members]]
        events.manage_account(self.state, accounts, firm)
        return int(accounts.size)

    def prune(self, firm: int, threshold: float) -> None:
        members = self.members_of(firm)
        events.leave(self.state, members[events.prunable(self.state, members, firm, threshold)], "pruned")

    # ------------------------------------------------------------------
    # step 3: needs, choice and purchase
    # ------------------------------------------------------------------
    def begin_week(self) -> None:
        self.state.begin_week()

    def shop(self, occasions: np.ndarray) -> None:
        """Round ``k`` plays the ``k``-th purchase occasion of every customer who has one."""
        model = self.model
        buyers = _first_buyers(occasions, model.aware)
        occasion = 1
        # the firms' terms cannot change while the customers shop: every round reads one set
        self.state.terms = events.Terms(self.state)
        try:
            while buyers.size:
                firms = events.choose(self.state, buyers, self.draws)
                events.purchase(self.state, buyers, firms, self.draws, self._place_orders, self._open_tickets)
                occasion += 1
                # those who dropped out at this purchase (BG/NBD) buy no more this week
                buyers = _kernels().next_shoppers(buyers, occasions, occasion, model.dormant_until,
                                                  model.dormant_until.dtype.type(model.week))
        finally:
            self.state.terms = None

    # ------------------------------------------------------------------
    # steps 4-6: operations
    # ------------------------------------------------------------------
    def _place_orders(self, buyers, chosen, due, late, defective) -> None:
        """Orders into the delivery calendar (kept aside, joined to it once, in the order placed,
        when the week's deliveries are taken: ``_calendar``)."""
        self.placed.append((buyers, chosen, due, late, defective))

    def _calendar(self) -> dict[str, np.ndarray]:
        """The delivery calendar, with the orders placed since it was last read at its end."""
        calendar = self.deliveries
        if self.placed:
            calendar = self.deliveries = {
                name: np.concatenate([calendar[name], *(orders[k] for orders in self.placed)])
                for k, name in enumerate(("customer", "firm", "due", "late", "defective"))}
            self.placed = []
        return calendar

    def run_operations(self, until: float) -> None:
        """Deliveries due before ``until`` in time order, then the SimPy desks to ``until``,
        then the answers in the order they came."""
        state = self.state
        # the firms' terms cannot change in the operations (the suppliers' reviews follow them)
        state.terms = events.Terms(state)
        try:
            self._deliver_and_answer(until)
        finally:
            state.terms = None

    def _deliver_and_answer(self, until: float) -> None:
        state = self.state
        calendar = self._calendar()
        taken = self._take_due(calendar, until)
        if taken is not None:
            (customers, firms, due, late, defective), bounds = taken
            mark = state.recent_leavers[0].size
            for start, end in itertools.pairwise(bounds):   # round by round (each dyad once in each)
                events.delivery(state, customers[start:end], firms[start:end], late[start:end],
                                defective[start:end], due[start:end], self.draws, self._open_tickets)
            self._in_time_order(mark)
        self._open_pending()
        self.model.operations.advance_to(until)
        if self.desks is not None:
            customers, firms, complaint, response_time, resolved, times = self.desks.advance_to(until)
            self._apply_answers(customers, firms, complaint, response_time, resolved, times)
        elif self.answers:
            answers, self.answers = self.answers, []
            number = np.array([a[0] for a in answers], dtype=np.int64)
            tickets = [self.tickets.pop(k) for k in number.tolist()]
            customers = np.array([t[0] for t in tickets], dtype=np.int64)
            firms = np.array([t[1] for t in tickets], dtype=np.int64)
            complaint = np.array([t[2] for t in tickets], dtype=bool)
            response_time = np.array([a[1] for a in answers])
            resolved = np.array([a[2] for a in answers], dtype=bool)
            times = np.array([a[3] for a in answers])
            self._apply_answers(customers, firms, complaint, response_time, resolved, times)

    def _take_due(self, calendar: dict[str, np.ndarray],
                  until: float) -> tuple[tuple[np.ndarray, ...], list[int]] | None:
        """The orders of the calendar due before ``until`` (``None`` if none), in rounds (``rounds``:
        round ``r`` is ``[bounds[r]:bounds[r + 1]]`` of each of the five arrays — customer, firm,
        due, late, defective — each round in time order), and the rest kept in the calendar: in one
        compiled call (``kernels.due_in_rounds``: ``take_due``, then the rounds), else (a negative
        due time in a large calendar) by numpy."""
        names = ("customer", "firm", "due", "late", "defective")
        size = calendar["due"].size
        if size:
            counts = self._dyad_cells() if size > _SMALL_BATCH else _NO_CELLS
            status, *taken, starts = _kernels().due_in_rounds(*(calendar[name] for name in names), float(until),
                                                              self.firm_count, counts, _SMALL_BATCH)
            if status == 0:
                return None
            if status == 1:
                self.deliveries = dict(zip(names, taken[5:], strict=True))
                return tuple(taken[:5]), starts.tolist()
        due = calendar["due"] < until
        if not due.any():
            return None
        order = np.flatnonzero(due)[_time_order(calendar["due"][due])]
        kept = ~due
        self.deliveries = {name: values[kept] for name, values in calendar.items()}
        delivered = [calendar[name][order] for name in names]
        batches = self._rounds(delivered[0], delivered[1])
        bounds = [0, *itertools.accumulate(batch.size for batch in batches)]
        if len(batches) > 1:
            delivered = [values[np.concatenate(batches)] for values in delivered]
        return tuple(delivered), bounds

    def _apply_answers(self, customers, firms, complaint, response_time, resolved, times) -> None:
        """The desks' answers and abandonments, in the order they came, in rounds."""
        if customers.size == 0:
            return
        state = self.state
        mark = state.recent_leavers[0].size
        batches = self._rounds(customers, firms)
        if len(batches) == 1:   # every dyad once (the common case): the answers as they are
            events.answer(state, customers, firms, complaint, response_time, resolved, times, self.draws)
        else:
            for batch in batches:
                events.answer(state, customers[batch], firms[batch], complaint[batch], response_time[batch],
                              resolved[batch], times[batch], self.draws)
        self._in_time_order(mark)

    def _in_time_order(self, mark: int) -> None:
        """Recent leavers added from ``mark`` on, in the order they left (rounds add them by round)."""
        leavers = self.state.recent_leavers
        added = leavers[3][mark:]
        # (already in order, as a single round adds them: the stable sort would keep them so)
        if added.size > 1 and not (added[1:] >= added[:-1]).all():
            order = np.concatenate([np.arange(mark), mark + np.argsort(leavers[3][mark:], kind="stable")])
            self.state.recent_leavers = tuple(values[order] for values in leavers)

    def _open_tickets(self, customers, firms, complaint, times, priority, handling, resolved) -> None:
        """Questions and complaints, fed to the desks at their arrival times: the compiled desks
        take the week's tickets in one batch, in the order raised, before they run
        (``_open_pending``)."""
        if self.desks is not None:
            self.pending_tickets.append((times, firms, priority, handling, resolved, customers, complaint))
            return
        numbers = np.arange(self.next_ticket, self.next_ticket + customers.size)
        self.next_ticket += customers.size
        self.tickets.update(zip(numbers.tolist(), zip(customers.tolist(), firms.tolist(), complaint.tolist(),
                                                      strict=True), strict=True))
        self.model.operations.open_tickets_at(times, firms, priority, handling, resolved, numbers,
                                              self._answered)

    def _open_pending(self) -> None:
        """The tickets raised since the compiled desks last ran, to the desks in one batch in the
        order raised: the same arrivals in the same order as batch by batch (the desks number
        the tickets in the order they are opened and run nothing in between; their clock, which
        an arrival time is read against, stays at the week's start until they run)."""
        pending = self.pending_tickets
        if not pending:
            return
        self.pending_tickets = []
        desks = self.desks
        assert desks is not None, "tickets are kept aside only for the compiled desks"
        if len(pending) == 1:
            desks.open(*pending[0])
        else:
            desks.open(*(np.concatenate(parts) for parts in zip(*pending, strict=True)))

    def _answered(self, ticket: int, response_time: float, resolved: bool) -> None:
        self.answers.append((ticket, response_time, resolved, self.model.operations.env.now))

    # ------------------------------------------------------------------
    # steps 7-8: word of mouth and churn
    # ------------------------------------------------------------------
    def hear(self, firm: int, listeners: np.ndarray, positive: np.ndarray) -> None:
        batches = self._rounds(listeners, firm)
        if len(batches) > 1:   # a listener's second conversation after everyone's first, and so on
            order = np.concatenate(batches)
            listeners, positive = listeners[order], positive[order]
        events.hear(self.state, firm, listeners, positive, self.draws)

    def _talk(self, firm: int, talkers: np.ndarray, positive: np.ndarray) -> None:
        """``talkers`` tell one contact each about ``firm``, who hear it (``events.talk_and_hear``:
        ``events.talk``, then ``hear`` of the listeners reached, in rounds, in one compiled call)."""
        events.talk_and_hear(self.state, firm, talkers, positive, self.draws)

    def word_of_mouth_and_churn(self, talk_draws: np.ndarray, churn_draws: np.ndarray) -> None:
        state = self.state
        state.end_of_week_state = {}
        # every firm's customers and their state at once: a firm's talk and churn change neither
        # another firm's customers nor the state gathered (docs/model.md §10)
        starts, everyone, gathered_all = state.states_by_firm()
        # who talks and the churn hazard, customer by customer: for every firm's customers at once
        talk_all, hazard_all = events.talk_and_hazard(state, everyone, gathered_all, talk_draws)
        leaving = np.zeros(everyone.size, dtype=bool)
        for firm in range(self.firm_count):
            start, end = starts[firm], starts[firm + 1]
            if start == end:
                continue
            members = everyone[start:end]
            # firm by firm through the event (its rules, and a place where a study may change them)
            talking, positive, leaves, _ = events.talkers_and_leavers(
                state, firm, members, talk_draws, churn_draws,
                {name: values[start:end] for name, values in gathered_all.items()},
                computed=(None if talk_all is None else (talk_all[0][start:end], talk_all[1][start:end]),
                          hazard_all[start:end]))
            leaving[start:end] = leaves
            if talking is not None:   # the talkers tell their contacts (in index order, as members_of)
                self._talk(firm, members[talking], positive[talking])
        # then those who lapse leave, every firm's at once, in firm order: a firm's talk reads no
        # state a lapse of another firm's customer changes (a listener is a prospect of the firm
        # whether it is another firm's customer or nobody's), so this equals leaving firm by firm
        events.leave(state, everyone[leaving], "lapsed")
        # the state of those who stay is the end-of-week state the books record (gathered for all at once)
        *kept_values, kept_starts = _kernels().stayers_by_firm(leaving, np.array(starts), *gathered_all.values())
        kept = dict(zip(gathered_all, kept_values, strict=True))
        kept_before = kept_starts.tolist()   # the stayers before each firm's part
        for firm in range(self.firm_count):
            start, end = starts[firm], starts[firm + 1]
            if start < end:
                first, last = kept_before[firm], kept_before[firm + 1]
                state.end_of_week_state[firm] = {name: values[first:last] for name, values in kept.items()}
        if not self.model.spec.word_of_mouth.enabled:
            state.recent_leavers = tuple(values[:0] for values in state.recent_leavers)
            return
        # recent leavers (after a failure, or pruned) may still warn their contacts
        leavers, firms, positive = events.warning_leavers(state, talk_draws)
        if leavers.size:
            for firm in events.firms_in(firms, self.firm_count):
                mine = firms == firm
                self._talk(firm, leavers[mine], positive[mine])

    # ------------------------------------------------------------------
    # what the books record
    # ------------------------------------------------------------------
    def relationship_state(self, firm: int) -> dict[str, np.ndarray]:
        return self.state.relationship_state(firm)

    def customers_table(self) -> pd.DataFrame:
        return self.state.customers_table()

    def closed_spells(self) -> pd.DataFrame:
        return self.state.closed_spells()

    def open_spells(self) -> pd.DataFrame:
        return self.state.open_spells()

    def state_bytes(self) -> int:
        """Bytes of customer state held in arrays (the engine's memory per customer × size)."""
        return self.state.state_bytes()
