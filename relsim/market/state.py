"""The customers' state, shared by both engines: one row per customer, one
column per firm.

Every relationship parameter is one array with a row per customer and a
column per firm (the dyad ``(customer, firm)`` is cell ``[customer, firm]``),
in 32-bit floats; what matters only for the current spell (a customer buys
from one firm at a time) is held once per customer. Both engines hold one
:class:`CustomerState` and change it only through the event functions of
:mod:`relsim.market.events`; the agent engine's Mesa customers each read and
write their own row.

Decay is eager: :meth:`CustomerState.begin_week` decays commitment,
reciprocity, heard word of mouth and pending personalised offers of every dyad at the start of a step, so
every event reads the state as of the current week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from relsim.market import rules
from relsim.market.dyad import QUARTER_WEEKS, QUARTERS_KEPT
from relsim.market.metrics import CUSTOMER_COLUMNS
from relsim.market.terms import CHURN_REASONS, SOURCES, SPELL_SOURCES
from relsim.scenario.schema import ScenarioError

if TYPE_CHECKING:
    from relsim.market.interfaces import Market as MarketModel

#: Source codes: position in this tuple ("returning": a later spell).
SOURCE_NAMES = SPELL_SOURCES
SOURCE_CODE = {name: code for code, name in enumerate(SOURCE_NAMES)}
REASONS = CHURN_REASONS
FLOAT = np.float32   # relationship state; money totals are summed in float64
#: Step numbers a pending win-back discount's one-byte code distinguishes (``CustomerState.win_back_code``).
WIN_BACK_CYCLE = 255

#: The relationship state the books and the churn hazard read (``CustomerState.relationship_state``).
STATE_FIELDS = ("trust", "commitment", "satisfaction", "reciprocity", "responsiveness", "purchases",
                "last_purchase")


class Dyads:
    """A batch of dyads ``(customers, firms)`` of the state's (customer × firm) arrays,
    addressed by their flat positions (the arrays are C-ordered, so ``array.reshape(-1)``
    is a view): ``at.get(a)`` is ``a[customers, firms]``, ``at.set(a, v)`` is
    ``a[customers, firms] = v`` and ``at.add(a, v)`` is ``a[customers, firms] += v`` (for a
    batch with each dyad once, in compiled code: each cell read and written in one pass) —
    the same numbers, several times faster than numpy's indexing by two arrays.
    ``at[mask]`` is the sub-batch where ``mask`` holds."""

    __slots__ = ("cells",)

    def __init__(self, cells: np.ndarray) -> None:
        self.cells = cells

    def __getitem__(self, mask: np.ndarray) -> Dyads:
        return Dyads(self.cells[mask])

    def get(self, array: np.ndarray) -> np.ndarray:
        return array.reshape(-1).take(self.cells)

    def set(self, array: np.ndarray, values) -> None:
        array.reshape(-1)[self.cells] = values

    def add(self, array: np.ndarray, values: np.ndarray) -> None:
        from relsim.market import kernels  # building a market does not load numba
        kernels.add_at(array.reshape(-1), self.cells, values)


class CustomerState:
    """The state of every customer and of every customer–firm dyad, as arrays.

    Parameters
    ----------
    model : MarketModel
        A model whose customer traits are drawn and whose firms exist.
    """

    def __init__(self, model: MarketModel) -> None:
        self.model = model
        spec = model.spec
        params = model.behaviour
        size, firms = len(model.need_rate), len(model.firms)
        self.size, self.firm_count = size, firms
        shape = (size, firms)
        # -- the four parameters of relationship marketing, and what goes with them
        self.trust = np.full(shape, params.initial_trust, dtype=FLOAT)
        self.commitment = np.zeros(shape, dtype=FLOAT)
        self.reciprocity = np.zeros(shape, dtype=FLOAT)
        self.responsiveness = np.full(shape, params.initial_responsiveness, dtype=FLOAT)
        self.satisfaction = np.zeros(shape, dtype=FLOAT)
        self.wom = np.zeros(shape, dtype=FLOAT)            # word-of-mouth influence heard
        self.knowledge = np.zeros(shape, dtype=FLOAT)      # the firm's CRM knowledge
        self.offer = np.zeros(shape, dtype=FLOAT)          # pending personalised offer's discount
        # -- the firm's CRM record
        self.first_week = np.full(shape, -1.0, dtype=FLOAT)
        self.last_purchase = np.full(shape, -1.0, dtype=FLOAT)
        self.purchases = np.zeros(shape, dtype=np.int32)
        self.spells = np.zeros(shape, dtype=np.int16)
        self.spend = np.zeros(shape, dtype=FLOAT)
        self.margin = np.zeros(shape, dtype=FLOAT)
        self.ltv = np.zeros(shape, dtype=FLOAT)
        self.acquisition_margin = np.zeros(shape, dtype=FLOAT)
        self.source = np.zeros(shape, dtype=np.int8)
        self.referred = np.zeros(shape, dtype=bool)
        # a win-back discount pending: 0 none, else the step it was sent in (win_back_code), which
        # begin_week reads to expire it; its size is one value (costs.retention_offer_discount)
        self.retention_offer = np.zeros(shape, dtype=np.uint8)
        self.retention_discount = 0.0
        # distributor fee shares, stored as a code into this table
        self.fees = np.array(sorted({0.0, *(d.fee for d in spec.distributors)}))
        self.fee_code = (np.zeros(shape, dtype=np.uint8 if self.fees.size <= 256 else np.uint16)
                         if self.fees.size > 1 else None)
        # -- per customer
        # A customer buys from one firm at a time, so what only matters for the
        # current spell is held once per customer, not once per dyad (memory).
        self.current = np.full(size, -1, dtype=np.int8 if firms <= 127 else np.int16)   # -1: none
        self.spell_start = np.full(size, -1.0, dtype=FLOAT)  # start of the current spell
        self.key_account = np.zeros(size, dtype=bool)        # the current firm manages the account
        self.competitor_advantage = np.zeros(size, dtype=FLOAT)  # best alternative at the last choice
        # the satisfaction the latest failure of the current firm still costs (rules.satisfaction_shortfall):
        # the most a service recovery gives back
        self.satisfaction_shortfall = np.zeros(size, dtype=FLOAT)
        self.counts = np.zeros(firms, dtype=np.int64)
        names = sorted({f.programme for f in model.firms if f.programme})
        if len(names) > 64:
            raise ScenarioError(f"{spec.name}: at most 64 loyalty programmes can be held "
                                f"(firms with levers.reward_rate > 0), this scenario has {len(names)}")
        bits = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if len(names) <= np.iinfo(t).bits)
        self.programme_names = names
        self.programme_bit = np.array([1 << names.index(f.programme) if f.programme else 0
                                       for f in model.firms], dtype=bits)
        self.programmes = np.zeros(size, dtype=bits)   # programmes enrolled in (one bit each)
        # trailing margins by quarter, only for firms whose strategy reads them
        self.quarter_margins = {f.index: np.zeros((size, QUARTERS_KEPT), dtype=FLOAT)
                                for f in model.firms if f.tracks_margins}
        # -- segment traits, per customer through the segment number
        segments = spec.segments
        self.segment = np.asarray(model.segment_of, dtype=np.int8)
        self.price_sensitivity = np.array([s.price_sensitivity for s in segments])
        self.service_sensitivity = np.array([s.service_sensitivity for s in segments])
        self.expectation = np.array([s.expectation for s in segments])
        self.basket_cv = np.array([s.basket_cv for s in segments])
        self.spend_shape = np.array([s.spend_shape for s in segments])
        self.basket_mean = np.array([s.basket_mean for s in segments])
        # the choice weights of each segment (model.segment_choice_weights), as the choice kernel takes them
        self.choice_weights = np.array(model.segment_choice_weights, dtype=np.float64)
        # -- recent leavers (after a failure, or pruned) who may still warn their contacts:
        # customer, firm, until, and when they left (they talk in the order they left)
        self.recent_leavers = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        self.end_of_week_state: dict[int, dict[str, np.ndarray]] = {}
        self.as_of = 0.0     # week the relationship state was last decayed to
        self.quarter = 0     # quarter of the trailing-margin buckets now
        # ended spells (for cohort tables), as compact arrays: customer, firm, start, end, reason, source
        self.ended_spells: list[tuple] = []
        # the firms' and segments' terms (events.Terms) an engine keeps for a phase in which they
        # cannot change; None: every event works out its own
        self.terms: Any = None

    # ------------------------------------------------------------------
    # who is whose customer
    # ------------------------------------------------------------------
    def count(self, firm: int) -> int:
        return int(self.counts[firm])

    def members_of(self, firm: int) -> np.ndarray:
        """The customers of ``firm`` now, in index order."""
        return np.flatnonzero(self.current == firm)

    def dyads(self, customers: np.ndarray, firms) -> Dyads:
        """The dyads ``(customers, firms)`` (``firms``: an array, or one firm for all; never -1)."""
        return Dyads(np.asarray(customers, dtype=np.int64) * self.firm_count + firms)

    def current_firm(self, customers: np.ndarray) -> np.ndarray:
        return self.current[customers].astype(np.int64)

    def trailing_margin(self, customers: np.ndarray, firm: int) -> np.ndarray:
        """Margin of the current 13-week quarter so far and the three before it
        (the trailing year that pruning and key accounts are judged on)."""
        buckets = self.quarter_margins.get(firm)
        if buckets is None:
            return np.zeros(len(customers))
        return buckets[customers].sum(axis=1, dtype=float)

    def tenure(self, customers: np.ndarray, firms) -> np.ndarray:
        """Weeks in the current spell with ``firms`` (0 where not a customer of it)."""
        return np.where(self.current[customers] == firms, self.model.week - self.spell_start[customers], 0.0)

    # ------------------------------------------------------------------
    # the start of a step
    # ------------------------------------------------------------------
    def begin_week(self) -> None:
        """Decay commitment, reciprocity, heard word of mouth and pending offers to this week;
        expire the win-back discounts past their validity (``rules.win_back_expired``); each new
        quarter's margin bucket forgets the quarter a year before it."""
        model = self.model
        params, wom = model.behaviour, model.spec.word_of_mouth
        elapsed = model.week - self.as_of
        if elapsed > 0:
            for values, rate in ((self.commitment, params.commitment_decay),
                                 (self.reciprocity, params.reciprocity_decay), (self.wom, wom.decay),
                                 (self.offer, params.offer_decay)):
                # in place: the rule is linear in the value, so its factor is the rule at 1, and numpy
                # multiplies the stored values by it in their own type as values * factor does
                np.multiply(values, rules.decay(1.0, rate, elapsed), out=values)
            self.as_of = model.week
        if self.retention_discount > 0:   # some win-back offer was ever sent
            self.expire_win_back()
        quarter = int(model.week // QUARTER_WEEKS)
        for passed in range(max(self.quarter + 1, quarter - QUARTERS_KEPT + 1), quarter + 1):
            for buckets in self.quarter_margins.values():
                buckets[:, passed % QUARTERS_KEPT] = 0.0
        self.quarter = max(self.quarter, quarter)

    # ------------------------------------------------------------------
    # win-back discounts: the step each was sent in, modulo WIN_BACK_CYCLE
    # ------------------------------------------------------------------
    def win_back_code(self) -> int:
        """What a dyad holds for a win-back discount sent now: 1 + (step number mod
        ``WIN_BACK_CYCLE``), so that 0 means none (one byte per dyad, docs/model.md §10.3)."""
        return 1 + self._step() % WIN_BACK_CYCLE

    def _step(self) -> int:
        model = self.model
        return round(model.week / model.step_weeks)

    def expire_win_back(self) -> None:
        """Withdraw every pending win-back discount sent ``costs.retention_offer_weeks`` or more
        weeks ago (``rules.win_back_expired``). Each is withdrawn at the first step it has
        expired in, before its step number's code comes round again: the scenario's validity is
        at most 250 steps (``Scenario`` refuses more), fewer than ``WIN_BACK_CYCLE``."""
        model = self.model
        from relsim.market import kernels  # building a market does not load numba
        # one compiled pass over the codes (rules.win_back_expired on each pending one's age in weeks)
        codes = self.retention_offer.reshape(-1)
        kernels.expire_win_back(codes, codes[:codes.size - codes.size % 8].view(np.uint64), self._step(),
                                WIN_BACK_CYCLE, float(model.step_weeks),
                                float(model.spec.costs.retention_offer_weeks))

    # ------------------------------------------------------------------
    # what the books record
    # ------------------------------------------------------------------
    def state_of(self, customers: np.ndarray, firm: int) -> dict[str, np.ndarray]:
        """The relationship state of ``customers`` with ``firm`` (32-bit, as held)."""
        cells = customers * self.firm_count + firm   # flat positions: one gather per array
        state = {name: getattr(self, name).ravel().take(cells) for name in STATE_FIELDS}
        state["competitor_advantage"] = self.competitor_advantage[customers]
        return state

    def states_by_firm(self) -> tuple[list[int], np.ndarray, dict[str, np.ndarray]]:
        """Every firm's customers and their relationship state, gathered in one compiled pass
        over the customers: ``(starts, members, state)``, where ``members[starts[f]:starts[f + 1]]``
        is ``members_of(f)`` and the same part of each array of ``state`` is
        ``state_of(members_of(f), f)`` (the same numbers as firm by firm)."""
        from relsim.market import kernels  # building a market does not load numba
        starts, members, *values = kernels.states_by_firm(
            self.current, self.firm_count, self.trust, self.commitment, self.satisfaction, self.reciprocity,
            self.responsiveness, self.purchases, self.last_purchase, self.competitor_advantage)
        names = (*STATE_FIELDS, "competitor_advantage")
        return starts.tolist(), members, dict(zip(names, values, strict=True))

    def relationship_state(self, firm: int) -> dict[str, np.ndarray]:
        """End-of-week state of ``firm``'s customers (computed in the churn pass if it ran)."""
        state = self.end_of_week_state.get(firm)
        if state is None or len(state["trust"]) != self.count(firm):
            state = self.state_of(self.members_of(firm), firm)
        return state

    def customers_table(self) -> pd.DataFrame:
        model = self.model
        customers, firms = np.nonzero(self.purchases > 0)
        active = self.current[customers] == firms
        spells = self.spells[customers, firms]
        table = {
            "customer": customers,
            "segment": np.array([s.name for s in model.spec.segments], dtype=object)[self.segment[customers]],
            "firm": firms,
            "source": np.array(SOURCES, dtype=object)[self.source[customers, firms]],
            "referred": self.referred[customers, firms], "active": active,
            "first_week": self.first_week[customers, firms].astype(float),
            "tenure_weeks": np.where(active, model.week + model.step_weeks
                                     - self.spell_start[customers].astype(float), 0.0),
            "spells": spells.astype(np.int64), "purchases": self.purchases[customers, firms].astype(np.int64)}
        for name in ("spend", "margin", "acquisition_margin", "ltv", "trust", "commitment", "satisfaction",
                     "reciprocity", "responsiveness"):
            table[name] = getattr(self, name)[customers, firms].astype(float)
        table["need_rate"] = model.need_rate[customers].astype(float)
        return pd.DataFrame(table, columns=[c for c in CUSTOMER_COLUMNS if c != "rung"])

    def closed_spells(self) -> pd.DataFrame:
        """Spells that ended: customer, firm, start, end, reason, source."""
        if not self.ended_spells:
            return pd.DataFrame(columns=["customer", "firm", "start", "end", "reason", "source"])
        customers, firms, starts, ends, reasons, sources = zip(*self.ended_spells, strict=True)
        lengths = [c.size for c in customers]
        return pd.DataFrame({
            "customer": np.concatenate(customers).astype(np.int64),
            "firm": np.concatenate(firms).astype(np.int64),
            "start": np.concatenate(starts).astype(float), "end": np.concatenate(ends).astype(float),
            "reason": pd.Categorical.from_codes(np.repeat(reasons, lengths), REASONS),
            "source": pd.Categorical.from_codes(np.concatenate(sources), SOURCE_NAMES)})

    def open_spells(self) -> pd.DataFrame:
        customers = np.flatnonzero(self.current >= 0)
        firms = self.current[customers].astype(np.int64)
        source = np.where(self.spells[customers, firms] == 1, self.source[customers, firms],
                          SOURCE_CODE["returning"])
        return pd.DataFrame({"customer": customers, "firm": firms,
                             "start": self.spell_start[customers].astype(float),
                             "source": np.array(SOURCE_NAMES, dtype=object)[source]})

    def state_bytes(self) -> int:
        """Bytes of customer state held in arrays (memory per customer × size)."""
        model = self.model
        arrays = [value for value in vars(self).values() if isinstance(value, np.ndarray)]
        arrays += list(self.quarter_margins.values())
        arrays += [model.aware, model.dormant_until, model.need_rate, model.direct, model.dropout,
                   model.spend_rate, model.extra_occasions, model.segment_of]
        unique = {id(a): a for a in arrays if a.size >= self.size}   # shared arrays count once
        return int(sum(a.nbytes for a in unique.values()))
