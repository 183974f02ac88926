"""The array engine: the customer population as numpy arrays.

Every relationship parameter is one array with a row per customer and a
column per firm (the dyad ``(customer, firm)`` is cell ``[customer, firm]``),
stored in 32-bit floats; a customer's firm is one small integer. A week is a
handful of vectorised passes that apply the *same* rules from
:mod:`relsim.market.rules` as the agent engine's :class:`relsim.market.agents.Customer`,
in the same order within the week:

* step 2: offers, retention offers, key accounts, pruning and awareness are
  applied to all customers a firm selects at once;
* step 3: purchase occasions are played in *rounds*: round ``k`` lets every
  customer with at least ``k`` occasions choose (multinomial logit over the
  firms it knows) and buy, so a second purchase sees the state the first
  one left, as in the agent engine;
* steps 4–6: deliveries due in the week are taken from a numpy calendar in
  time order; the tickets they raise are fed, with their arrival times, to
  the firms' SimPy desks (:meth:`relsim.market.operations.Operations.open_tickets_at`),
  which queue them; answers are applied after the week's SimPy run;
* steps 7–8: talk and churn per firm on arrays, word of mouth spread along
  the network's CSR arrays.

Where one dyad receives several events in a batch (two deliveries, two
conversations), the batch is split into rounds in which each dyad appears
once, in time order, so every rule sees the state the previous event left.
Decay is applied to all dyads at the start of each week (the agent engine
applies the same decay lazily, which is exactly the same).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from relsim.market import rules
from relsim.market.draws import lognormal
from relsim.market.dyad import QUARTER_WEEKS, QUARTERS_KEPT
from relsim.market.metrics import CUSTOMER_COLUMNS
from relsim.market.terms import CHURN_REASONS, LEAVER_WARNING_WEEKS, SOURCES, SPELL_SOURCES
from relsim.scenario.schema import ScenarioError

if TYPE_CHECKING:
    from relsim.market.interfaces import Market

#: Source codes: position in this tuple ("returning": a later spell).
SOURCE_NAMES = SPELL_SOURCES
SOURCE_CODE = {name: code for code, name in enumerate(SOURCE_NAMES)}
REASONS = CHURN_REASONS
FLOAT = np.float32   # relationship state; money totals are summed in float64


def rounds(customers: np.ndarray, firms: np.ndarray | int, firm_count: int) -> list[np.ndarray]:
    """Split a batch of events into rounds in which each dyad appears once.

    Parameters
    ----------
    customers, firms : arrays (or one firm)
        The dyad of each event, events in the order they happen.
    firm_count : int

    Returns
    -------
    list of index arrays
        Round ``k`` holds the ``k``-th event of every dyad with more than
        ``k`` events, so applying the rounds in turn keeps each dyad's order.
    """
    size = customers.size
    if size == 0:
        return []
    key = customers.astype(np.int64) * firm_count + firms
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.ones(size, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    if starts.all():
        return [np.arange(size)]
    first = np.maximum.accumulate(np.where(starts, np.arange(size), 0))
    occurrence = np.empty(size, dtype=np.int64)
    occurrence[order] = np.arange(size) - first
    return [np.flatnonzero(occurrence == k) for k in range(int(occurrence.max()) + 1)]


class ArrayPopulation:
    """The customers as arrays (one row per customer, one column per firm).

    Parameters
    ----------
    model : Market
        A model whose customer traits are drawn and whose firms exist.
    """

    def __init__(self, model: Market) -> None:
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
        self.offer = np.zeros(shape, dtype=FLOAT)          # pending personalised offer
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
        self.retention_offer = np.zeros(shape, dtype=bool)   # win-back discount pending
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
        self.counts = np.zeros(firms, dtype=np.int64)
        names = sorted({f.programme for f in model.firms if f.programme})
        if len(names) > 64:
            raise ScenarioError(f"{spec.name}: market.engine = 'arrays' holds at most 64 loyalty programmes "
                                f"(firms with levers.reward_rate > 0), this scenario has {len(names)}; "
                                "use market.engine = 'agents'")
        bits = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if len(names) <= np.iinfo(t).bits)
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
        # -- events in flight
        self.recent_leavers = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        self.deliveries = {"customer": np.zeros(0, np.int64), "firm": np.zeros(0, np.int64),
                           "due": np.zeros(0), "late": np.zeros(0, bool), "defective": np.zeros(0, bool)}
        self.tickets: dict[int, tuple[int, int, bool]] = {}
        self.answers: list[tuple[int, float, bool]] = []
        self.next_ticket = 0
        self.end_of_week_state: dict[int, dict[str, np.ndarray]] = {}
        self.as_of = 0.0     # week the relationship state was last decayed to
        self.quarter = 0     # quarter of the trailing-margin buckets now
        # ended spells (for cohort tables), as compact arrays: customer, firm, start, end, reason, source
        self.ended_spells: list[tuple] = []

    # ------------------------------------------------------------------
    # who is whose customer
    # ------------------------------------------------------------------
    def count(self, firm: int) -> int:
        return int(self.counts[firm])

    def members_of(self, firm: int) -> np.ndarray:
        return np.flatnonzero(self.current == firm)

    def current_firm(self, customers: np.ndarray) -> np.ndarray:
        return self.current[customers].astype(np.int64)

    def _join(self, customers: np.ndarray, firm: int) -> None:
        """Start spells of ``customers`` (not customers of anyone now) with ``firm``."""
        if customers.size == 0:
            return
        spells = self.spells[customers, firm]
        source = np.where(spells == 0, self.source[customers, firm], SOURCE_CODE["returning"])
        for code, count in enumerate(np.bincount(source, minlength=len(SOURCE_NAMES)).tolist()):
            if count:
                self.model.firms[firm].welcome(SOURCE_NAMES[code], count)
        self.spells[customers, firm] = spells + 1
        self.spell_start[customers] = self.model.week
        self.current[customers] = firm
        self.counts[firm] += customers.size

    def _leave(self, customers: np.ndarray, reason: str) -> None:
        """End the current spells of ``customers`` (each once; all customers of some firm)."""
        if customers.size == 0:
            return
        model = self.model
        week = model.week
        firms = self.current[customers].astype(np.int64)
        for firm, count in enumerate(np.bincount(firms, minlength=self.firm_count).tolist()):
            if count:
                model.firms[firm].farewell(reason, count)
                self.counts[firm] -= count
        self.key_account[customers] = False
        spells = self.spells[customers, firms]
        source = np.where(spells == 1, self.source[customers, firms], SOURCE_CODE["returning"])
        self.ended_spells.append((customers.astype(np.int32), firms.astype(self.current.dtype),
                                  self.spell_start[customers], np.full(customers.size, week, dtype=FLOAT),
                                  REASONS.index(reason), source.astype(np.int8)))
        if reason in ("failure", "pruned"):
            leavers, leaver_firms, until = self.recent_leavers
            self.recent_leavers = (np.concatenate([leavers, customers]),
                                   np.concatenate([leaver_firms, firms]),
                                   np.concatenate([until, np.full(customers.size, week + LEAVER_WARNING_WEEKS)]))
        self.current[customers] = -1
        if reason != "switched":
            churn = model.spec.churn
            returns = churn.lapsed_return and churn.model != "bgnbd"   # BG/NBD dropout is for good
            model.dormant_until[customers] = week + churn.dormancy_weeks if returns else np.inf

    # ------------------------------------------------------------------
    # set-up
    # ------------------------------------------------------------------
    def start_initial(self, firm, customers, first_week, last_purchase, purchases, commitment) -> None:
        params = self.model.behaviour
        self.model.aware[customers, firm] = True
        self.source[customers, firm] = SOURCE_CODE["initial"]
        self._join(customers, firm)
        self.spell_start[customers] = first_week
        self.first_week[customers, firm] = first_week
        self.last_purchase[customers, firm] = last_purchase
        self.purchases[customers, firm] = purchases
        # relationship state is not in a history: the same for any initial customer
        self.trust[customers, firm] = min(1.0, params.initial_trust + 0.2)
        self.commitment[customers, firm] = commitment
        self.knowledge[customers, firm] = rules.update_knowledge(0.0, purchases, params.knowledge_rate)

    def lapse_for_good(self, customers: np.ndarray) -> None:
        self._leave(customers, "lapsed")
        self.model.dormant_until[customers] = np.inf

    # ------------------------------------------------------------------
    # step 2: awareness, offers, key accounts, pruning
    # ------------------------------------------------------------------
    def learn_of(self, firm: int, customers: np.ndarray, source: str, channel_fee: float = 0.0) -> None:
        aware = self.model.aware
        new = customers[~aware[customers, firm]]
        aware[new, firm] = True
        self.source[new, firm] = SOURCE_CODE[source]
        if channel_fee and self.fee_code is not None:
            self.fee_code[new, firm] = np.searchsorted(self.fees, channel_fee)

    def recommend(self, firm: int, customers: np.ndarray) -> None:
        self.learn_of(firm, customers, "partner")
        strength = self.model.spec.word_of_mouth.strength
        for batch in rounds(customers, firm, self.firm_count):
            referred = customers[batch]
            self.wom[referred, firm] = rules.update_wom_influence(self.wom[referred, firm], 1.0, strength, 0.0)

    def _contact(self, customers: np.ndarray, firm, intensity, knowledge: bool = True) -> None:
        """Contacts with the firm: commitment grows toward its target (see Customer.contact)."""
        params = self.model.behaviour
        tenure = np.where(self.current[customers] == firm,
                          self.model.week - self.spell_start[customers], 0.0)
        target = rules.commitment_target(
            self.trust[customers, firm], self.reciprocity[customers, firm], tenure,
            params.commitment_trust_weight, params.commitment_reciprocity_weight,
            params.commitment_tenure_weight, params.tenure_scale_weeks)
        self.commitment[customers, firm] = rules.update_commitment(
            self.commitment[customers, firm], target, intensity, params.commitment_rate)
        if knowledge:
            self.knowledge[customers, firm] = rules.update_knowledge(
                self.knowledge[customers, firm], 1, params.knowledge_rate)

    def personalised_offers(self, firm: int, probability: float) -> int:
        params = self.model.behaviour
        chosen = self.model.sample(self.members_of(firm), probability)
        self.offer[chosen, firm] = params.offer_value * self.knowledge[chosen, firm]
        self.reciprocity[chosen, firm] = rules.update_reciprocity(self.reciprocity[chosen, firm],
                                                                  params.offer_goodwill)
        self._contact(chosen, firm, params.offer_intensity, knowledge=False)
        return int(chosen.size)

    def retention_offers(self, firm: int, discount: float) -> int:
        members = self.members_of(firm)
        overdue = (self.model.week - self.last_purchase[members, firm]) * self.model.need_rate[members]
        chosen = members[(overdue > 2.0) & ~self.retention_offer[members, firm]]
        self.retention_offer[chosen, firm] = True
        self.retention_discount = discount
        return int(chosen.size)

    def _trailing_margin(self, customers: np.ndarray, firm: int) -> np.ndarray:
        """Margin of the current quarter so far and the three before it (see CustomerDyad)."""
        buckets = self.quarter_margins.get(firm)
        if buckets is None:
            return np.zeros(customers.size)
        return buckets[customers].sum(axis=1, dtype=float)

    def review_key_accounts(self, firm: int, share: float) -> None:
        members = self.members_of(firm)
        ranked = members[np.lexsort((members, -self._trailing_margin(members, firm)))]
        self.key_account[members] = False
        self.key_account[ranked[:round(share * members.size)]] = True

    def serve_key_accounts(self, firm: int) -> int:
        params = self.model.behaviour
        members = self.members_of(firm)
        accounts = members[self.key_account[members]]
        self.reciprocity[accounts, firm] = rules.update_reciprocity(self.reciprocity[accounts, firm],
                                                                    params.key_account_goodwill)
        self._contact(accounts, firm, params.key_account_intensity)
        return int(accounts.size)

    def prune(self, firm: int, threshold: float) -> None:
        members = self.members_of(firm)
        tenure = self.model.week - self.spell_start[members]
        self._leave(members[(tenure >= 52) & (self._trailing_margin(members, firm) < threshold)], "pruned")

    # ------------------------------------------------------------------
    # step 3: needs, choice and purchase
    # ------------------------------------------------------------------
    def begin_week(self) -> None:
        model = self.model
        params, wom = model.behaviour, model.spec.word_of_mouth
        elapsed = model.week - self.as_of
        if elapsed > 0:
            for values, rate in ((self.commitment, params.commitment_decay),
                                 (self.reciprocity, params.reciprocity_decay), (self.wom, wom.decay)):
                values[...] = rules.decay(values, rate, elapsed)
            self.as_of = model.week
        quarter = int(model.week // QUARTER_WEEKS)
        # each new quarter's bucket forgets the quarter a year before it
        for passed in range(max(self.quarter + 1, quarter - QUARTERS_KEPT + 1), quarter + 1):
            for buckets in self.quarter_margins.values():
                buckets[:, passed % QUARTERS_KEPT] = 0.0
        self.quarter = max(self.quarter, quarter)

    def shop(self, occasions: np.ndarray) -> None:
        """Round ``k`` plays the ``k``-th purchase occasion of every customer who has one."""
        model = self.model
        buyers = np.flatnonzero(occasions)
        buyers = buyers[model.aware[buyers].any(axis=1)]
        occasion = 1
        while buyers.size:
            firms = self._choose(buyers)
            self._buy(buyers, firms)
            occasion += 1
            # those who dropped out at this purchase (BG/NBD) buy no more this week
            buyers = buyers[(occasions[buyers] >= occasion) & (model.dormant_until[buyers] <= model.week)]

    def _choose(self, buyers: np.ndarray) -> np.ndarray:
        """Multinomial logit over the firms each buyer knows; remembers the best alternative."""
        model = self.model
        firms = model.firms
        known = model.aware[buyers]
        segment = self.segment[buyers]
        discount = self.retention_offer[buyers] * self.retention_discount
        price = np.array([f.price for f in firms]) * (1.0 - discount)
        enrolled = (self.programmes[buyers, None] & self.programme_bit[None, :]) != 0
        reward = np.column_stack([f.reward_value(enrolled[:, f.index]) for f in firms])
        is_current = self.current[buyers, None] == np.arange(self.firm_count)[None, :]
        utility = rules.choice_utility(
            np.array([f.quality for f in firms]), price, self.price_sensitivity[segment, None],
            self.trust[buyers], self.commitment[buyers], self.reciprocity[buyers],
            self.responsiveness[buyers] * self.service_sensitivity[segment, None], reward,
            self.wom[buyers], self.offer[buyers], is_current, *model.choice_weights_for(segment))
        utility = np.where(known, utility, -np.inf)
        probabilities = rules.logit_probabilities(utility)
        draw = model.rng_events.random(buyers.size)
        pick = (np.cumsum(probabilities, axis=1) <= draw[:, None]).sum(axis=1)
        # rounding can leave the draw above the last cumulative value: take the last known firm
        last_known = self.firm_count - 1 - np.argmax(known[:, ::-1], axis=1)
        pick = np.minimum(pick, last_known)
        rows = np.arange(buyers.size)
        chosen = utility[rows, pick]
        utility[rows, pick] = -np.inf
        advantage = utility.max(axis=1) - chosen
        # habit: a repeat with the current firm without weighing the alternatives
        current = self.current[buyers].astype(np.int64)
        habit = (current >= 0) & (known.sum(axis=1) > 1) & (
            model.rng_events.random(buyers.size)
            < model.habit_probability(segment, self.satisfaction[buyers, current], self.commitment[buyers, current]))
        self.competitor_advantage[buyers] = np.where(habit, self.competitor_advantage[buyers],
                                                     np.where(known.sum(axis=1) > 1, advantage, 0.0))
        return np.where(habit, current, pick)

    def _baskets(self, buyers: np.ndarray) -> np.ndarray:
        """Order values at reference price (see MarketModel.draw_basket)."""
        model = self.model
        rng = model.rng_events
        segment = self.segment[buyers]
        spend_rate = model.spend_rate[buyers]
        gamma = spend_rate > 0
        baskets = np.empty(buyers.size)
        if gamma.any():
            baskets[gamma] = rng.gamma(self.spend_shape[segment[gamma]], 1.0 / spend_rate[gamma])
        lognormal_buyers = ~gamma
        if lognormal_buyers.any():
            baskets[lognormal_buyers] = lognormal(self.basket_mean[segment[lognormal_buyers]],
                                                  self.basket_cv[segment[lognormal_buyers]],
                                                  rng.standard_normal(int(lognormal_buyers.sum())))
        return baskets

    def _buy(self, buyers: np.ndarray, chosen: np.ndarray) -> None:
        """One order per buyer with its chosen firm (see Customer.buy)."""
        model = self.model
        params, spec = model.behaviour, model.spec
        week = model.week
        switching = self.current[buyers] != chosen
        self._leave(buyers[switching & (self.current[buyers] >= 0)], "switched")
        for firm in model.firms:
            self._join(buyers[switching & (chosen == firm.index)], firm.index)
        baskets = self._baskets(buyers)
        margins = np.empty(buyers.size)
        for firm in model.firms:
            mine = chosen == firm.index
            if not mine.any():
                continue
            customers = buyers[mine]
            f = firm.index
            margins[mine] = firm.sell(baskets[mine], self.retention_offer[customers, f] * self.retention_discount,
                                      0.0 if self.fee_code is None else self.fees[self.fee_code[customers, f]],
                                      self.source[customers, f] == SOURCE_CODE["wom"])
            if firm.strategy.reward_rate > 0.0:
                self.programmes[customers] |= self.programme_bit[f]
        # CRM record (RFM) and realised lifetime value
        new = self.purchases[buyers, chosen] == 0
        self.first_week[buyers[new], chosen[new]] = week
        self.purchases[buyers, chosen] += 1
        self.last_purchase[buyers, chosen] = week
        self.spend[buyers, chosen] += baskets
        self.margin[buyers, chosen] += margins
        for firm_index, buckets in self.quarter_margins.items():
            mine = chosen == firm_index
            buckets[buyers[mine], int(week // QUARTER_WEEKS) % QUARTERS_KEPT] += margins[mine]
        first = self.first_week[buyers, chosen]
        acquisition = first == week
        self.acquisition_margin[buyers[acquisition], chosen[acquisition]] += margins[acquisition]
        later = ~acquisition
        self.ltv[buyers[later], chosen[later]] += margins[later] * rules.discount_factor(
            week - first[later], spec.market.discount_rate)
        self.offer[buyers, chosen] = 0.0
        self.retention_offer[buyers, chosen] = False
        self._contact(buyers, chosen, params.purchase_intensity)
        rewarding = np.array([f.strategy.reward_rate > 0.0 for f in model.firms])[chosen]
        self.reciprocity[buyers[rewarding], chosen[rewarding]] = rules.update_reciprocity(
            self.reciprocity[buyers[rewarding], chosen[rewarding]],
            np.array([f.reward_goodwill for f in model.firms])[chosen[rewarding]])
        if not spec.operations.enabled:
            self._deliver(buyers, chosen, np.zeros(buyers.size, bool), np.zeros(buyers.size, bool),
                          np.full(buyers.size, week))
        else:
            self._place_orders(buyers, chosen)
        # BG/NBD: after a repeat purchase the customer may drop out for good
        if spec.churn.model == "bgnbd":
            repeat = (self.purchases[buyers, chosen] >= 2) & (self.current[buyers] == chosen)
            dropping = repeat & (model.rng_events.random(buyers.size) < model.dropout_probability(
                model.dropout[buyers], self.segment[buyers], self.satisfaction[buyers, chosen],
                self.commitment[buyers, chosen]))
            self._leave(buyers[dropping], "lapsed")

    # ------------------------------------------------------------------
    # steps 4-6: operations
    # ------------------------------------------------------------------
    def _place_orders(self, buyers: np.ndarray, chosen: np.ndarray) -> None:
        """Orders into the delivery calendar: when placed, supplier lead time, defects."""
        model = self.model
        operations = model.operations
        delay = operations.rng.random(buyers.size) * model.step_weeks
        normal = operations.rng.standard_normal(buyers.size)
        lead = np.empty(buyers.size)
        defective = np.empty(buyers.size, dtype=bool)
        late = np.empty(buyers.size, dtype=bool)
        for firm in model.firms:
            mine = chosen == firm.index
            if mine.any():
                lead[mine] = firm.supplier.lead_time(firm, normal[mine])
                late[mine], defective[mine] = operations.delivery_outcomes(lead[mine],
                                                                           firm.supplier.spec.defect_rate)
        calendar = self.deliveries
        for name, values in (("customer", buyers), ("firm", chosen), ("due", model.week + delay + lead),
                             ("late", late), ("defective", defective)):
            calendar[name] = np.concatenate([calendar[name], values])

    def run_operations(self, until: float) -> None:
        """Deliveries due before ``until`` in time order, then the SimPy desks to ``until``."""
        calendar = self.deliveries
        due = calendar["due"] < until
        if due.any():
            order = np.flatnonzero(due)[np.argsort(calendar["due"][due], kind="stable")]
            delivered = {name: values[order] for name, values in calendar.items()}
            self.deliveries = {name: values[~due] for name, values in calendar.items()}
            for batch in rounds(delivered["customer"], delivered["firm"], self.firm_count):
                self._deliver(delivered["customer"][batch], delivered["firm"][batch],
                              delivered["late"][batch], delivered["defective"][batch],
                              delivered["due"][batch])
        self.model.operations.advance_to(until)
        if self.answers:
            answers, self.answers = self.answers, []
            number = np.array([a[0] for a in answers], dtype=np.int64)
            tickets = [self.tickets.pop(k) for k in number.tolist()]
            customers = np.array([t[0] for t in tickets], dtype=np.int64)
            firms = np.array([t[1] for t in tickets], dtype=np.int64)
            complaint = np.array([t[2] for t in tickets], dtype=bool)
            response_time = np.array([a[1] for a in answers])
            resolved = np.array([a[2] for a in answers], dtype=bool)
            for batch in rounds(customers, firms, self.firm_count):
                self._answer(customers[batch], firms[batch], complaint[batch], response_time[batch],
                             resolved[batch])

    def _deliver(self, customers, firms, late, defective, times) -> None:
        """Orders arrived (each dyad once): experience, satisfaction, trust; voice or exit
        after a failure (see Customer.on_delivery)."""
        model = self.model
        params, spec = model.behaviour, model.spec
        rng = model.operations.rng
        if spec.operations.enabled:
            asks = rng.random(customers.size) < spec.operations.question_rate
            self._open_tickets(customers[asks], firms[asks], np.zeros(int(asks.sum()), bool), times[asks])
        failure = late | defective
        quality = np.array([f.quality for f in model.firms])
        level = np.array([f.strategy.level for f in model.firms])
        list_price = np.array([f.strategy.price for f in model.firms])
        for firm, count, failed in zip(model.firms, np.bincount(firms, minlength=self.firm_count).tolist(),
                                       np.bincount(firms, weights=failure, minlength=self.firm_count).tolist(),
                                       strict=True):
            firm.deliveries += count
            firm.failures += int(failed)
        experience = np.where(defective, params.defect_experience,
                              np.where(late, params.late_experience, np.minimum(1.0, quality[firms])))
        segment = self.segment[customers]
        expectation = self.expectation[segment] + params.expectation_price_weight * (list_price[firms] - 1.0)
        self.satisfaction[customers, firms] = rules.update_satisfaction(
            self.satisfaction[customers, firms], experience, expectation, params.satisfaction_rate)
        severity = self.service_sensitivity[segment] * rules.failure_severity(
            self.commitment[customers, firms], (late & ~defective).astype(float), params.forgiveness)
        self.trust[customers, firms] = rules.clip(rules.update_trust(
            self.trust[customers, firms], (~failure).astype(float), params.trust_gain, params.trust_loss,
            severity), 0.0, 1.0)
        follow_up = level[firms] >= 3
        if follow_up.any():
            # the accountable firm calls after the sale and asks for feedback
            for firm, count in enumerate(np.bincount(firms[follow_up], minlength=self.firm_count).tolist()):
                model.firms[firm].books["relationship"] += count * spec.costs.follow_up
            called, called_firms = customers[follow_up], firms[follow_up]
            self._contact(called, called_firms, params.follow_up_intensity)
            self.responsiveness[called, called_firms] = rules.update_responsiveness(
                self.responsiveness[called, called_firms], 1.0,
                params.responsiveness_rate * params.follow_up_intensity)
        failed = failure & (self.current[customers] == firms)
        if not failed.any():
            return
        voice = rng.random(customers.size) < rules.complaint_probability(
            self.commitment[customers, firms], params.voice_base, params.voice_commitment)
        complain = failed & (voice | follow_up)
        self._open_tickets(customers[complain], firms[complain], np.ones(int(complain.sum()), bool),
                           times[complain])
        if spec.churn.model == "behavioural":
            silent = failed & ~complain
            exits = silent & (rng.random(customers.size) < rules.failure_exit_probability(
                self.commitment[customers, firms], params.exit_after_failure, params.forgiveness))
            self._leave(customers[exits], "failure")

    def _open_tickets(self, customers, firms, complaint, times) -> None:
        """Questions and complaints, fed to the SimPy desks at their arrival times."""
        if customers.size == 0:
            return
        for firm, count in enumerate(np.bincount(firms[complaint], minlength=self.firm_count).tolist()):
            self.model.firms[firm].complaints += count
        numbers = np.arange(self.next_ticket, self.next_ticket + customers.size)
        self.next_ticket += customers.size
        self.tickets.update(zip(numbers.tolist(), zip(customers.tolist(), firms.tolist(), complaint.tolist(),
                                                      strict=True), strict=True))
        key_account = self.key_account[customers] & (self.current[customers] == firms)
        priority = np.where(key_account, 0, 1)   # key accounts first
        self.model.operations.open_tickets_at(times, firms, priority, numbers, self._answered)

    def _answered(self, ticket: int, response_time: float, resolved: bool) -> None:
        self.answers.append((ticket, response_time, resolved))

    def _answer(self, customers, firms, complaint, response_time, resolved) -> None:
        """Tickets answered or abandoned (each dyad once; see Customer.on_answer)."""
        model = self.model
        params = model.behaviour
        observed = rules.response_quality(response_time, model.spec.operations.response_target_weeks)
        self.responsiveness[customers, firms] = rules.update_responsiveness(
            self.responsiveness[customers, firms], observed, params.responsiveness_rate)
        if not complaint.any():
            return
        customers, firms = customers[complaint], firms[complaint]
        observed, resolved = observed[complaint], resolved[complaint]
        self.satisfaction[customers, firms] = rules.service_recovery(
            self.satisfaction[customers, firms], observed, resolved.astype(float), params.recovery_bonus)
        fixed, fixed_firms = customers[resolved], firms[resolved]
        self.reciprocity[fixed, fixed_firms] = rules.update_reciprocity(
            self.reciprocity[fixed, fixed_firms], params.recovery_goodwill * observed[resolved])
        self.trust[fixed, fixed_firms] = rules.update_trust(
            self.trust[fixed, fixed_firms], 1.0, params.trust_gain * observed[resolved], params.trust_loss)
        if model.spec.churn.model == "behavioural":
            unresolved = ~resolved & (self.current[customers] == firms)
            exits = unresolved & (model.rng_events.random(customers.size) < rules.failure_exit_probability(
                self.commitment[customers, firms], params.exit_after_failure, params.forgiveness))
            self._leave(customers[exits], "failure")

    # ------------------------------------------------------------------
    # steps 7-8: word of mouth and churn
    # ------------------------------------------------------------------
    def hear(self, firm: int, listeners: np.ndarray, positive: np.ndarray) -> None:
        model = self.model
        wom = model.spec.word_of_mouth
        self.learn_of(firm, listeners, "wom")
        for batch in rounds(listeners, firm, self.firm_count):
            heard, good = listeners[batch], positive[batch]
            self.wom[heard, firm] = rules.update_wom_influence(self.wom[heard, firm], good.astype(float),
                                                               wom.strength, wom.negativity_weight)
            prospects = heard[good & (self.current[heard] != firm)]
            self.referred[prospects, firm] = True
            trying = prospects[model.rng_events.random(prospects.size) < wom.referral_trial]
            model.extra_occasions[trying] += 1   # an extra purchase occasion next week

    def _talk(self, firm: int, talkers: np.ndarray, positive: np.ndarray) -> None:
        """Each talker tells one random network contact about ``firm``."""
        model = self.model
        listeners = model.network.pick_listeners(talkers, model.rng_events.random(talkers.size))
        reached = listeners >= 0
        spoken = model.firms[firm].wom_spoken
        spoken[1] += int(np.count_nonzero(positive[reached]))
        spoken[0] += int(np.count_nonzero(~positive[reached]))
        self.hear(firm, listeners[reached], positive[reached])

    def word_of_mouth_and_churn(self, talk_draws: np.ndarray, churn_draws: np.ndarray) -> None:
        model = self.model
        wom = model.spec.word_of_mouth.enabled
        self.end_of_week_state = {}
        for firm in range(self.firm_count):
            members = self.members_of(firm)
            if members.size == 0:
                continue
            state = self._state(members, firm)
            if wom:
                positive, negative = rules.talk_probability(state["satisfaction"], state["commitment"],
                                                            *model.talk_weights)
                draws = talk_draws[members]
                talking = draws < positive + negative
                self._talk(firm, members[talking], (draws < positive)[talking])
            leaving = churn_draws[members] < model.hazard(state, members)
            self._leave(members[leaving], "lapsed")
            self.end_of_week_state[firm] = {name: values[~leaving] for name, values in state.items()}
        if not wom:
            self.recent_leavers = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
            return
        # recent leavers (after a failure, or pruned) may still warn their contacts
        leavers, firms, until = self.recent_leavers
        keep = (model.week < until) & (self.current[leavers] < 0)
        leavers, firms, until = leavers[keep], firms[keep], until[keep]
        self.recent_leavers = (leavers, firms, until)
        positive, negative = rules.talk_probability(self.satisfaction[leavers, firms],
                                                    self.commitment[leavers, firms], *model.talk_weights)
        draws = talk_draws[leavers]
        talking = draws < positive + negative
        for firm in range(self.firm_count):
            mine = talking & (firms == firm)
            if mine.any():
                self._talk(firm, leavers[mine], (draws < positive)[mine])

    # ------------------------------------------------------------------
    # what the books record
    # ------------------------------------------------------------------
    def _state(self, customers: np.ndarray, firm: int) -> dict[str, np.ndarray]:
        # 32-bit, as held: the rules and the weekly means need no more
        cells = customers * self.firm_count + firm   # flat positions: one gather per array
        state = {name: getattr(self, name).ravel().take(cells)
                 for name in ("trust", "commitment", "satisfaction", "reciprocity", "responsiveness",
                              "purchases", "last_purchase")}
        state["competitor_advantage"] = self.competitor_advantage[customers]
        return state

    def relationship_state(self, firm: int) -> dict[str, np.ndarray]:
        state = self.end_of_week_state.get(firm)
        if state is None or len(state["trust"]) != self.count(firm):
            state = self._state(self.members_of(firm), firm)
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
        """Bytes of customer state held in arrays (the engine's memory per customer × size)."""
        model = self.model
        arrays = [value for value in vars(self).values() if isinstance(value, np.ndarray)]
        arrays += list(self.quarter_margins.values())
        arrays += [model.aware, model.dormant_until, model.need_rate, model.direct, model.dropout,
                   model.spend_rate, model.extra_occasions, model.segment_of]
        unique = {id(a): a for a in arrays if a.size >= self.size}   # shared arrays count once
        return int(sum(a.nbytes for a in unique.values()))
