"""What happens to customers: every customer event, written once for both engines.

Each function is one event of MODEL.md's week, applied to the customers
``customers`` (an index array into :class:`relsim.market.state.CustomerState`)
and, where the event concerns a relationship, their firms ``firms`` (an
array, or one firm for all). The array engine calls a function once for a
whole batch (each dyad at most once per call: see ``engines.arrays.rounds``);
the agent engine's Mesa :class:`relsim.market.agents.Customer` calls it for
itself, with a one-element index. *How* a relationship parameter moves is not
written here but in :mod:`relsim.market.rules`; an event says which rules
apply, in which order, to which dyads, and what the firms book.

Random numbers. An event takes its draws from ``draws`` (one of the sources in
:mod:`relsim.market.draws`), naming the purpose of each draw
(``draws.PURPOSES``) and, with ``need``, the entries that use it. The order
of the draws within each function is part of its contract: the array engine's
ordinary runs draw whole batches in that order, and lock-step runs key each
draw by (purpose, step, customer, firm, occurrence), so that both engines get
the same numbers for the same events (``tests/test_lockstep.py``).

Scheduling is the engines' part: where an event starts another one later
(an order that is delivered, a ticket that is answered) it is handed to a
callback the engine passes in (``fulfil``, ``open_tickets``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from relsim.market import rules
from relsim.market.draws import lognormal_from, lognormal_shape
from relsim.market.dyad import QUARTER_WEEKS, QUARTERS_KEPT
from relsim.market.firms import Firm
from relsim.market.state import FLOAT, REASONS, SOURCE_CODE, SOURCE_NAMES, CustomerState
from relsim.market.terms import (
    FOLLOW_UP_LEVEL,
    KEY_ACCOUNT_PRIORITY,
    STANDARD_PRIORITY,
    WARNING_REASONS,
)

if TYPE_CHECKING:
    from relsim.market.draws import BatchDraws

#: ``fulfil(customers, firms, due, late, defective)``: the engine delivers these orders at ``due``.
Fulfil = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
#: ``open_tickets(customers, firms, complaint, times, priority, handling, resolved)``:
#: the engine queues these tickets at the firms' desks from ``times``.
OpenTickets = Callable[..., None]


def firms_in(firms: np.ndarray, firm_count: int) -> list[int]:
    """The firms that occur in ``firms``, in firm order (``np.unique(firms).tolist()``,
    by counting: a batch's firms are few and known)."""
    return np.flatnonzero(np.bincount(firms, minlength=firm_count)).tolist()


class Terms:
    """The firms' and segments' terms the events of a batch read (each firm's quality, price,
    programme, supplier terms …, as arrays by firm index; the behaviour parameters as the kernels
    take them), each worked out at its first use and kept by this object.

    An event builds a fresh one unless ``CustomerState.terms`` holds one: the array engine keeps
    one for the span of a phase in which none of them can change — the week's shopping
    (``ArrayPopulation.shop``: the firms act and the suppliers deliver before it, reviews and
    co-creation come after) and the deliveries and answers of the operations
    (``ArrayPopulation.run_operations``: the suppliers' reviews come after) — instead of each
    batch of the phase building the same arrays again."""

    def __init__(self, state: CustomerState) -> None:
        self.state = state
        self.model = state.model

    @cached_property
    def quality(self) -> np.ndarray:
        return np.array([f.quality for f in self.model.firms], dtype=np.float64)

    @cached_property
    def price(self) -> np.ndarray:
        """The price paid this week (promotion included: ``Firm.price``)."""
        return np.array([f.price for f in self.model.firms], dtype=np.float64)

    @cached_property
    def list_price(self) -> np.ndarray:
        return np.array([f.strategy.price for f in self.model.firms], dtype=np.float64)

    @cached_property
    def level(self) -> np.ndarray:
        return np.array([f.strategy.level for f in self.model.firms], dtype=np.int64)

    @cached_property
    def cashback(self) -> np.ndarray:
        """``Firm.cashback`` of a customer not enrolled and enrolled, ``(firm, 2)``."""
        return np.array([[f.cashback(False), f.cashback(True)] for f in self.model.firms], dtype=np.float64)

    @cached_property
    def appeal(self) -> np.ndarray:
        """Each firm's advertising appeal this week (``Firm.advertising_appeal``: set by its campaign,
        before the week's shopping; 0 with ``behaviour.advertising_weight`` 0)."""
        return np.array([f.advertising_appeal for f in self.model.firms], dtype=np.float64)

    @cached_property
    def rewarding(self) -> np.ndarray:
        return np.array([f.strategy.reward_rate > 0.0 for f in self.model.firms])

    @cached_property
    def reward_goodwill(self) -> np.ndarray:
        return np.array([f.reward_goodwill for f in self.model.firms], dtype=np.float64)

    @cached_property
    def sale(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``Firm.sale_terms``: price, unit cost and reward share by firm."""
        return Firm.sale_terms(self.model.firms)

    @cached_property
    def lead_time(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each firm's lead times this week (``Supplier.lead_time_terms``) as ``draws.lognormal_from``
        takes them: mean, σ and σ²/2 of the lognormal, and the extra delay."""
        mean, cv, extra = np.array([firm.supplier.lead_time_terms(firm) for firm in self.model.firms]).T
        sigma, half_variance = lognormal_shape(cv)
        return mean, sigma, half_variance, extra

    @cached_property
    def defect_rate(self) -> np.ndarray:
        return np.array([firm.supplier.spec.defect_rate for firm in self.model.firms])

    @cached_property
    def basket(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each segment's lognormal basket (``draws.lognormal_from``): mean, σ and σ²/2."""
        sigma, half_variance = lognormal_shape(self.state.basket_cv)
        return self.state.basket_mean, sigma, half_variance

    @cached_property
    def contact(self) -> np.ndarray:
        return _contact_terms(self.model)

    @cached_property
    def delivery(self) -> np.ndarray:
        return _delivery_terms(self.model)

    @cached_property
    def answer(self) -> np.ndarray:
        """The behaviour parameters of an answer, as ``kernels.answer`` takes them."""
        model = self.model
        params = model.behaviour
        return np.array([model.spec.operations.response_target_weeks, params.responsiveness_rate,
                         params.recovery_bonus, params.recovery_goodwill_per_satisfaction, params.trust_gain,
                         params.trust_loss, params.exit_after_failure, params.forgiveness,
                         params.unresolved_complaint_magnitude, params.unresolved_response_weight], dtype=np.float64)


_kernel_module = None


def _kernels():
    """:mod:`relsim.market.kernels`, imported at the first use (building a market does not load numba),
    then kept here (an import statement in every event call costs more than the kernel's dispatch)."""
    global _kernel_module
    if _kernel_module is None:
        from relsim.market import kernels
        _kernel_module = kernels
    return _kernel_module


def _terms(state: CustomerState) -> Terms:
    """The terms the engine keeps for the phase (``CustomerState.terms``), else new ones."""
    terms = state.terms
    return Terms(state) if terms is None else terms


# ==========================================================================
# Awareness and spells
# ==========================================================================
def learn_of(state: CustomerState, firm: int, customers: np.ndarray, source: str,
             channel_fee: float = 0.0) -> None:
    """``customers`` become aware of ``firm`` through ``source`` (no effect on those already aware)."""
    if len(customers) == 0:   # nobody (half the weeks' campaigns and chance reach no one)
        return
    # the dyads by flat position (``CustomerState.dyads``; the model's awareness has the same shape)
    cells = state.dyads(customers, firm).cells
    aware = state.model.aware.reshape(-1)
    new = cells[~aware[cells]]
    aware[new] = True
    state.source.reshape(-1)[new] = SOURCE_CODE[source]
    if channel_fee and state.fee_code is not None:
        state.fee_code.reshape(-1)[new] = np.searchsorted(state.fees, channel_fee)


def recommend(state: CustomerState, firm: int, customers: np.ndarray) -> None:
    """An alliance partner refers ``customers`` to ``firm``: aware, and a positive word (each dyad once)."""
    learn_of(state, firm, customers, "partner")
    wom = state.model.spec.word_of_mouth
    state.wom[customers, firm] = rules.update_wom_influence(state.wom[customers, firm], 1.0, wom.strength, 0.0,
                                                            wom.max_influence)


def join(state: CustomerState, customers: np.ndarray, firms: np.ndarray | int) -> None:
    """Start spells of ``customers`` (customers of nobody now) with ``firms`` (an array,
    or one firm for all); the firms welcome them in firm order, by source."""
    if customers.size == 0:
        return
    if isinstance(firms, np.ndarray):
        # a purchase round's joiners: the spells in one compiled pass, then the welcome and the cost
        # (firm by firm, source by source, as below); one firm for all (the initial customers, while a
        # market is built) takes the numpy path: building a market does not load numba
        joined = _kernels().join_spells(
            customers.astype(np.int64, copy=False), firms.astype(np.int64, copy=False), state.spells, state.source,
            SOURCE_CODE["returning"], len(SOURCE_NAMES), state.satisfaction_shortfall, state.spell_start,
            state.spell_start.dtype.type(state.model.week), state.current, state.counts)
        _welcome(state, joined)
        return
    firm_count = state.firm_count
    at = state.dyads(customers, firms)
    spells = at.get(state.spells)
    source = np.where(spells == 0, at.get(state.source), SOURCE_CODE["returning"])
    joined = np.bincount(source + len(SOURCE_NAMES) * np.asarray(firms, dtype=np.int64),
                         minlength=firm_count * len(SOURCE_NAMES)).reshape(firm_count, len(SOURCE_NAMES))
    _welcome(state, joined)
    at.set(state.spells, spells + 1)
    state.satisfaction_shortfall[customers] = 0.0   # a new spell: no failure of it yet
    state.spell_start[customers] = state.model.week
    state.current[customers] = firms
    state.counts += joined.sum(axis=1)


def _welcome(state: CustomerState, joined: np.ndarray) -> None:
    """The firms welcome the customers who joined them (``joined``: counts by firm and source), in
    firm order, by source, and book the cost of opening their accounts."""
    for firm, code in zip(*np.nonzero(joined), strict=True):
        state.model.firms[firm].welcome(SOURCE_NAMES[code], int(joined[firm, code]))
    cost = state.model.spec.costs.acquisition_per_customer
    if cost:
        # opening an account: booked when the customer is won (the initial base was won before the run)
        won = joined.sum(axis=1) - joined[:, SOURCE_CODE["initial"]]
        for firm in np.flatnonzero(won).tolist():
            state.model.firms[firm].books["acquisition"] += rules.acquisition_cost(float(won[firm]), cost)


def leave(state: CustomerState, customers: np.ndarray, reason: str, when: np.ndarray | None = None) -> None:
    """End the current spells of ``customers`` (each customer once) for ``reason``.

    ``when``: the time of each departure (default: the start of the week);
    those who leave after a failure or are pruned may warn their contacts for
    ``word_of_mouth.leaver_warning_weeks``, in the order they left.
    """
    if customers.size == 0:
        return
    model = state.model
    week = model.week
    churn = model.spec.churn
    returns = churn.lapsed_return and churn.model != "bgnbd"   # BG/NBD dropout is for good
    # customer by customer in compiled code: no firm, no key account, the firm's count, the source; the
    # spells' record; unless they switched, dormant until they may return (or for good)
    ids, small_firms, starts, ends, firms, source, left = _kernels().end_spells(
        customers.astype(np.int64, copy=False), state.current, state.counts, state.key_account, state.spells,
        state.source, SOURCE_CODE["returning"], state.offer, state.spell_start, FLOAT(week), model.dormant_until,
        model.dormant_until.dtype.type(week + churn.dormancy_weeks if returns else np.inf), reason != "switched")
    for firm, count in enumerate(left.tolist()):
        if count:
            model.firms[firm].farewell(reason, count)
    state.ended_spells.append((ids, small_firms, starts, ends, REASONS.index(reason), source))
    if reason in WARNING_REASONS:
        leavers, leaver_firms, until, left_at = state.recent_leavers
        state.recent_leavers = (
            np.concatenate([leavers, customers]), np.concatenate([leaver_firms, firms]),
            np.concatenate([until, np.full(customers.size,
                                           week + model.spec.word_of_mouth.leaver_warning_weeks)]),
            np.concatenate([left_at, np.full(customers.size, week) if when is None else when]))


def start_initial(state: CustomerState, firm: int, customers: np.ndarray, first_week: np.ndarray,
                  last_purchase: np.ndarray, purchases: np.ndarray, commitment: np.ndarray) -> None:
    """Make ``customers`` initial customers of ``firm`` with the given purchase history."""
    params = state.model.behaviour
    state.model.aware[customers, firm] = True
    state.source[customers, firm] = SOURCE_CODE["initial"]
    join(state, customers, firm)
    state.spell_start[customers] = first_week
    state.first_week[customers, firm] = first_week
    state.last_purchase[customers, firm] = last_purchase
    state.purchases[customers, firm] = purchases
    # relationship state is not in a history: the same for any initial customer
    state.trust[customers, firm] = min(1.0, params.initial_trust + params.initial_customer_trust_bonus)
    state.commitment[customers, firm] = commitment
    state.knowledge[customers, firm] = rules.update_knowledge(0.0, purchases, params.knowledge_rate)


# ==========================================================================
# Step 2: what firms do for their customers
# ==========================================================================
def contact(state: CustomerState, customers: np.ndarray, firms, intensity, knowledge: bool = True) -> None:
    """Contacts with the firm: commitment grows toward its target; the CRM learns (``knowledge``)."""
    if customers.size == 0:
        return
    # dyad by dyad in compiled code that calls the rules (market/kernels.py)
    kernels = _kernels()
    model = state.model
    kernels.contact(customers.astype(np.int64, copy=False),
                    np.broadcast_to(np.asarray(firms, dtype=np.int64), customers.shape), float(intensity),
                    knowledge, float(model.week), state.current, state.spell_start, state.trust, state.reciprocity,
                    state.commitment, state.knowledge, _contact_terms(model))


def personalised_offer(state: CustomerState, customers: np.ndarray, firm: int) -> None:
    """A personalised offer from ``firm``: a discount on the next order there, worth what its CRM
    knows (``rules.offer_discount``; a new offer replaces a pending one); goodwill in proportion to
    it (``rules.offer_goodwill``); a contact."""
    params = state.model.behaviour
    at = state.dyads(customers, firm)   # by flat position (CustomerState.dyads)
    discount = rules.offer_discount(params.offer_discount, at.get(state.knowledge))
    at.set(state.offer, discount)
    at.set(state.reciprocity, rules.update_reciprocity(
        at.get(state.reciprocity), rules.offer_goodwill(discount, params.offer_goodwill_per_discount)))
    contact(state, customers, firm, params.offer_intensity, knowledge=False)


def overdue(state: CustomerState, customers: np.ndarray, firm: int) -> np.ndarray:
    """Which of ``customers`` are overdue for a win-back offer from ``firm`` (none pending)."""
    model = state.model
    at = state.dyads(customers, firm)
    cycles = (model.week - at.get(state.last_purchase)) * model.need_rate[customers]
    return (cycles > model.behaviour.win_back_overdue_cycles) & (at.get(state.retention_offer) == 0)


def retention_offer(state: CustomerState, customers: np.ndarray, firm: int, discount: float) -> None:
    """A win-back discount of ``discount`` on the next order from ``firm``, valid for
    ``costs.retention_offer_weeks`` (the dyad holds the step it was sent in,
    ``CustomerState.win_back_code``; ``CustomerState.begin_week`` expires it)."""
    state.retention_offer[customers, firm] = state.win_back_code()
    state.retention_discount = discount


def review_key_accounts(state: CustomerState, firm: int, share: float) -> None:
    """The quarterly account review: the top ``share`` of ``firm``'s customers by trailing margin
    (ties: lower index first) become its key accounts, the others stop being."""
    members = state.members_of(firm)
    ranked = members[np.lexsort((members, -state.trailing_margin(members, firm)))]
    state.key_account[members] = False
    state.key_account[ranked[:round(share * members.size)]] = True


def manage_account(state: CustomerState, customers: np.ndarray, firm: int) -> None:
    """A week of key-account management by ``firm``: goodwill worth the manager's time per account
    relative to the customer's expected weekly spend (``model.customer_value``, need rate × mean
    order value; ``rules.key_account_goodwill``) and a contact."""
    model = state.model
    params, costs = model.behaviour, model.spec.costs
    goodwill = rules.key_account_goodwill(costs.manager_per_week / costs.accounts_per_manager,
                                          model.customer_value[customers],
                                          params.key_account_goodwill_per_value)
    state.reciprocity[customers, firm] = rules.update_reciprocity(state.reciprocity[customers, firm], goodwill)
    contact(state, customers, firm, params.key_account_intensity)


def prunable(state: CustomerState, customers: np.ndarray, firm: int, threshold: float) -> np.ndarray:
    """Which of ``firm``'s customers ``customers`` earn it less than ``threshold`` over the
    trailing year, among those in a spell of at least ``behaviour.pruning_min_tenure_weeks``."""
    old_enough = state.tenure(customers, firm) >= state.model.behaviour.pruning_min_tenure_weeks
    return old_enough & (state.trailing_margin(customers, firm) < threshold)


# ==========================================================================
# Step 3: choice and purchase
# ==========================================================================
def choose(state: CustomerState, buyers: np.ndarray, draws: BatchDraws) -> np.ndarray:
    """Each buyer picks one of the firms it knows by multinomial logit (one "choice"
    draw per buyer who knows more than one); remembers its best alternative."""
    model = state.model
    # habit: a repeat with the current firm without weighing the alternatives
    # (rules.habit_probability; one "habit" draw per buyer who has a current firm and a choice)
    if draws.by_entry:
        several = np.count_nonzero(model.aware[buyers], axis=1) > 1
        draw = draws.uniform("choice", buyers, 0, need=several)
        current = state.current[buyers].astype(np.int64)
        habit_draw = draws.uniform("habit", buyers, np.maximum(current, 0), need=(current >= 0) & several)
    else:   # a whole batch of each (the kernel reads only the draws it needs)
        draw = draws.uniform("choice", buyers)
        habit_draw = draws.uniform("habit", buyers)
    params = model.behaviour
    terms = _terms(state)
    # the choice itself, buyer by buyer, in compiled code that calls the rules (market/kernels.py);
    # imported at the first use, not at the top, so that building a market does not load numba (the app's
    # first picture needs a market, not its first step)
    return _kernels().choose(
        np.ascontiguousarray(buyers, dtype=np.int64), model.aware, state.trust, state.commitment,
        state.reciprocity, state.responsiveness, state.wom, state.offer, state.satisfaction,
        state.retention_offer, float(state.retention_discount), state.programmes, state.programme_bit,
        state.current, state.segment, terms.quality, terms.price, terms.cashback, terms.appeal,
        state.price_sensitivity,
        state.service_sensitivity, state.choice_weights,
        float(params.habit_base), model.habit_satisfaction, model.habit_commitment, float(params.habit_max),
        draw, habit_draw, state.competitor_advantage)


def baskets(state: CustomerState, buyers: np.ndarray, firms: np.ndarray, draws: BatchDraws) -> np.ndarray:
    """Order values at reference price: Gamma(p, rate ν) with the buyer's own ν
    (Gamma-Gamma spend model), else lognormal with the segment's mean and CV."""
    model = state.model
    mean, sigma, half_variance = _terms(state).basket   # each segment's lognormal (draws.lognormal_shape)
    kernels = _kernels()
    if not kernels.any_positive_at(model.spend_rate, buyers):
        # every buyer's basket lognormal (the same numbers as by the masks below): draws.lognormal_from
        # with each buyer's segment's shape gathered in compiled code, numpy's exp between
        exponents = kernels.gathered_exponents(buyers, state.segment, sigma, half_variance,
                                               draws.normal("basket", buyers, firms))
        return kernels.gathered_products(buyers, state.segment, mean, np.exp(exponents))
    segment = state.segment[buyers]
    spend_rate = model.spend_rate[buyers]
    gamma = spend_rate > 0
    values = np.empty(buyers.size)
    values[gamma] = draws.gamma("basket_gamma", buyers[gamma], firms[gamma],
                                state.spend_shape[segment[gamma]], 1.0 / spend_rate[gamma])
    others = ~gamma
    if others.any():
        of = segment[others]
        values[others] = lognormal_from(mean[of], sigma[of], half_variance[of],
                                        draws.normal("basket", buyers[others], firms[others]))
    return values


def purchase(state: CustomerState, buyers: np.ndarray, chosen: np.ndarray, draws: BatchDraws,
             fulfil: Fulfil, open_tickets: OpenTickets) -> None:
    """One order per buyer with its chosen firm (each buyer once): a switch ends the
    old spell; books, loyalty programme, CRM record (RFM, lifetime value), a
    contact, reward goodwill; the order goes to fulfilment (``fulfil``, or is
    delivered at once without operations); BG/NBD dropout after a repeat purchase."""
    model = state.model
    params, spec = model.behaviour, model.spec
    week = model.week
    kernels = _kernels()
    # who switches (to the chosen firm from another, or from none), in one compiled pass
    leaving, joining, joined = kernels.switches(buyers, chosen, state.current)
    leave(state, leaving, "switched")
    join(state, joining, joined)
    values = baskets(state, buyers, chosen, draws)
    # Reichheld's profit ladder (off by default): orders grow and cost less to serve with tenure
    costs = spec.costs
    if params.basket_growth or costs.serve_cost_saving:
        tenure = state.tenure(buyers, chosen)
        if params.basket_growth:
            values = values * rules.tenure_basket_growth(tenure, params.basket_growth, params.basket_growth_weeks)
        cost_factor = (rules.tenure_cost_factor(tenure, costs.serve_cost_saving, costs.serve_cost_saving_weeks)
                       if costs.serve_cost_saving else None)
    else:
        cost_factor = None
    # the books of every firm's orders (Firm.sell) and the CRM record, in one compiled call: the discount
    # the buyer holds (win-back and personalised offers: rules.order_discount) comes off the revenue, as it
    # came off the price in the choice, with whether the buyer came by word of mouth (kernels.order_terms);
    # each order's revenue, cost of goods, fee and rewards (kernels.sell); then order by order the CRM record
    # (RFM: first week, count, last purchase, spend, margin; the pending offer and win-back discount are
    # used up), the purchase as a contact, reward goodwill (kernels.record_purchases)
    firm_list = model.firms
    buyers64, chosen64 = buyers.astype(np.int64, copy=False), chosen.astype(np.int64, copy=False)
    terms = _terms(state)
    price, unit_cost, reward_share = terms.sale
    rewarding = terms.rewarding
    sums, counts, referrals, margins, first = kernels.sell_and_record(
        buyers64, chosen64, np.ascontiguousarray(values, dtype=np.float64), state.firm_count,
        state.retention_offer, float(state.retention_discount), state.offer, state.source, SOURCE_CODE["wom"],
        price, unit_cost, reward_share,
        None if state.fee_code is None else np.ascontiguousarray(
            state.fees[state.dyads(buyers, chosen).get(state.fee_code)], dtype=np.float64),
        None if cost_factor is None else np.ascontiguousarray(cost_factor, dtype=np.float64),
        float(week), state.first_week, state.purchases, state.last_purchase, state.spend, state.margin,
        float(params.purchase_intensity), rewarding, terms.reward_goodwill, state.current, state.spell_start,
        state.trust, state.reciprocity, state.commitment, state.knowledge, terms.contact)
    Firm.book_sales(firm_list, sums, counts, referrals)
    # realised lifetime value: an acquisition's margin, or a later purchase's discounted margin (the
    # discount factors in numpy: `relsim validate` checks them by replacing rules.discount_factor); a
    # purchase from a firm with a loyalty programme enrols the buyer in it; one compiled pass
    acquisition = first == week
    factor = np.asarray(rules.discount_factor(week - first, spec.market.discount_rate), dtype=np.float64)
    if factor.shape != first.shape:
        factor = np.full(first.shape, factor)
    kernels.book_purchases(buyers64, chosen64, margins, acquisition, factor, state.acquisition_margin, state.ltv,
                           state.programmes, state.programme_bit, rewarding)
    # the trailing margins by quarter of the firms that keep them
    for firm_index, buckets in state.quarter_margins.items():
        kernels.add_for_firm(buckets, int(week // QUARTER_WEEKS) % QUARTERS_KEPT, buyers64, chosen64, firm_index,
                             margins)
    if not spec.operations.enabled:
        delivery(state, buyers, chosen, np.zeros(buyers.size, bool), np.zeros(buyers.size, bool),
                 np.full(buyers.size, week), draws, open_tickets)
    else:
        fulfil(buyers, chosen, *order(state, buyers, chosen, draws))
    # BG/NBD: after a repeat purchase the customer may drop out for good
    if spec.churn.model == "bgnbd":
        repeat = (state.purchases[buyers, chosen] >= 2) & (state.current[buyers] == chosen)
        dropping = repeat & (draws.uniform("dropout", buyers, chosen, need=repeat) < model.dropout_probability(
            model.dropout[buyers], state.segment[buyers], state.satisfaction[buyers, chosen],
            state.commitment[buyers, chosen]))
        leave(state, buyers[dropping], "lapsed")


def order(state: CustomerState, buyers: np.ndarray, chosen: np.ndarray, draws: BatchDraws):
    """When the orders arrive and how: placed at a uniform time in the week, the
    supplier's lead time, late beyond the promise, defective with the supplier's
    defect rate. Returns ``(due, late, defective)``."""
    model = state.model
    operations = model.operations
    placed = draws.uniform("order_time", buyers, chosen)
    normal = draws.normal("lead_time", buyers, chosen)
    # each firm's supplier's terms (draws.lognormal_shape of its lead times), then every order at once
    # (the same numbers as firm by firm): draws.lognormal_from's exponents gathered in compiled code,
    # numpy's exp
    terms = _terms(state)
    mean, sigma, half_variance, extra = terms.lead_time
    kernels = _kernels()
    chosen64 = chosen.astype(np.int64, copy=False)
    growth = np.exp(kernels.gathered_exponents(None, chosen64, sigma, half_variance, normal))
    # the defect draws firm by firm (firm order, then order of the batch), in one call
    by_firm = kernels.by_firm(chosen64, state.firm_count)
    defect = draws.uniform("defect", buyers[by_firm], chosen[by_firm])
    # the lead time (the lognormal plus the extra delay), due time, lateness and defects order by order
    return kernels.order_arrivals(chosen64, float(model.week), placed, float(model.step_weeks), growth, mean, extra,
                                  float(operations.spec.promise_weeks), by_firm, defect, terms.defect_rate)


# ==========================================================================
# Steps 4-6: deliveries and the support desk
# ==========================================================================
def delivery(state: CustomerState, customers: np.ndarray, firms: np.ndarray, late: np.ndarray,
             defective: np.ndarray, times: np.ndarray, draws: BatchDraws, open_tickets: OpenTickets) -> None:
    """Orders arrive (each dyad once), at ``times``: maybe a question to the desk;
    experience and satisfaction; failure severity and trust; the accountable
    firm's follow-up call; after a failure, voice (a complaint) or, silent,
    maybe exit."""
    model = state.model
    spec = model.spec
    kernels = _kernels()
    terms = _terms(state)
    customers, firms = customers.astype(np.int64, copy=False), firms.astype(np.int64, copy=False)
    # the relationship updates, order by order in compiled code that calls the rules (market/kernels.py):
    # satisfaction, the failure's severity and trust, the follow-up call; the books' counts per firm
    updates = (customers, firms, late.astype(bool, copy=False), defective.astype(bool, copy=False),
               float(model.week), state.firm_count, state.segment, state.current, state.spell_start,
               state.satisfaction, state.commitment, state.trust, state.reciprocity, state.knowledge,
               state.responsiveness, state.satisfaction_shortfall, terms.quality, terms.level, terms.list_price,
               state.expectation, state.service_sensitivity, terms.delivery, terms.contact, FOLLOW_UP_LEVEL)
    if spec.operations.enabled:
        # who asks the desk a question (one "question" draw per order; key accounts first), worked out
        # before the updates, in the same compiled call (kernels.ask_and_deliver); then its tickets
        (ask_customers, ask_firms, ask_times, priority, follow_up, failed, voice_probability, exit_probability,
         delivered, failures, calls) = kernels.ask_and_deliver(
            draws.uniform("question", customers, firms), float(spec.operations.question_rate), times,
            state.key_account, KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY, *updates)
        if ask_customers.size:
            _raise_tickets(state, ask_customers, ask_firms, False, ask_times, priority, draws, open_tickets)
    else:
        follow_up, failed, voice_probability, exit_probability, delivered, failures, calls = kernels.deliver(
            *updates)
    firm_list = model.firms
    for firm, count, failures_of_firm in zip(firm_list, delivered.tolist(), failures.tolist(), strict=True):
        firm.deliveries += count
        firm.failures += failures_of_firm
    if calls.any():
        # the accountable firm called after the sale and asked for feedback
        for firm, count in enumerate(calls.tolist()):
            firm_list[firm].books["relationship"] += count * spec.costs.follow_up
    if not failed.any():
        return
    # voice: a complaint (one "voice" draw per order; called back, the customer complains)
    complaining, complaint_firms, complaint_times, priority, by_firm, silent = kernels.complaints(
        failed, draws.uniform("voice", customers, firms, need=failed), voice_probability, follow_up, customers,
        firms, times, state.key_account, state.current, KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY, state.firm_count)
    if complaining.size:
        _raise_tickets(state, complaining, complaint_firms, True, complaint_times, priority, draws, open_tickets,
                       by_firm)
    if spec.churn.model == "behavioural":
        # silent customers weigh exit; that is part of the behavioural churn model
        exits, exit_times = kernels.chosen_where(silent, draws.uniform("exit", customers, firms, need=silent),
                                                 exit_probability, customers, times)
        if exits.size:
            leave(state, exits, "failure", exit_times)


def _contact_terms(model) -> np.ndarray:
    """The behaviour parameters of a contact, as ``kernels.contact`` takes them."""
    params = model.behaviour
    return np.array([params.commitment_trust_weight, params.commitment_reciprocity_weight,
                     params.commitment_tenure_weight, params.tenure_scale_weeks, params.commitment_rate,
                     params.knowledge_rate], dtype=np.float64)


def _delivery_terms(model) -> np.ndarray:
    """The behaviour parameters of a delivery, as ``kernels.deliver`` takes them."""
    params = model.behaviour
    return np.array([params.defect_experience, params.late_experience, params.expectation_price_weight,
                     params.satisfaction_rate, params.forgiveness, params.trust_gain, params.trust_loss,
                     params.responsiveness_rate, params.follow_up_intensity, params.voice_base,
                     params.voice_commitment, params.exit_after_failure, params.follow_up_responsiveness],
                    dtype=np.float64)


def tickets(state: CustomerState, customers: np.ndarray, firms: np.ndarray, complaint: bool,
            times: np.ndarray, draws: BatchDraws, open_tickets: OpenTickets) -> None:
    """Questions (``complaint`` False) or complaints to the firms' desks: counted,
    prioritised (key accounts first), their handling time and resolution drawn;
    the engine queues them (``open_tickets``)."""
    if customers.size == 0:
        return
    # key accounts of the ticket's firm first (one compiled pass for the two masks and the choice)
    priority = _kernels().ticket_priority(customers.astype(np.int64, copy=False), firms.astype(np.int64, copy=False),
                                          state.key_account, state.current, KEY_ACCOUNT_PRIORITY, STANDARD_PRIORITY)
    _raise_tickets(state, customers, firms, complaint, times, priority, draws, open_tickets)


def _raise_tickets(state: CustomerState, customers: np.ndarray, firms: np.ndarray, complaint: bool,
                   times: np.ndarray, priority: np.ndarray, draws: BatchDraws, open_tickets: OpenTickets,
                   by_firm: np.ndarray | None = None) -> None:
    """:func:`tickets` once their priorities are known (``by_firm``: the complaints per firm, if
    counted already): counted, their handling time and resolution drawn, queued."""
    model = state.model
    operations = model.spec.operations
    flags = np.ones(customers.size, dtype=bool) if complaint else np.zeros(customers.size, dtype=bool)
    if complaint:
        if by_firm is None:
            by_firm = np.bincount(firms, minlength=state.firm_count)
        for firm, count in enumerate(by_firm.tolist()):
            model.firms[firm].complaints += count
    handling = draws.exponential("handling", customers, firms, operations.service_time_weeks)
    resolved = draws.uniform("resolution", customers, firms) < operations.resolution_probability
    open_tickets(customers, firms, flags, times, priority, handling, resolved)


def answer(state: CustomerState, customers: np.ndarray, firms: np.ndarray, complaint: np.ndarray,
           response_time: np.ndarray, resolved: np.ndarray, times: np.ndarray, draws: BatchDraws) -> None:
    """Tickets answered or abandoned (each dyad once), at ``times``: perceived
    responsiveness (speed and resolution); for a complaint, service recovery, and goodwill
    (as much as was restored) and trust if resolved, or, unresolved, maybe exit."""
    model = state.model
    kernels = _kernels()
    # ticket by ticket in compiled code that calls the rules (market/kernels.py), then the complaints
    customers, firms, times, unresolved, exit_probability = kernels.answer_complaints(
        customers.astype(np.int64, copy=False), firms.astype(np.int64, copy=False),
        complaint.astype(bool, copy=False), response_time.astype(np.float64, copy=False),
        resolved.astype(bool, copy=False), times.astype(np.float64, copy=False), state.current, state.satisfaction,
        state.commitment, state.trust, state.reciprocity, state.responsiveness, state.satisfaction_shortfall,
        _terms(state).answer)
    if model.spec.churn.model == "behavioural" and customers.size:
        # an unresolved complaint of a customer still with the firm: maybe exit (one draw per complaint)
        exits, exit_times = kernels.chosen_where(
            unresolved, draws.uniform("answer_exit", customers, firms, need=unresolved), exit_probability, customers,
            times)
        if exits.size:
            leave(state, exits, "failure", exit_times)


# ==========================================================================
# Steps 7-8: word of mouth and churn
# ==========================================================================
def talkers_and_leavers(state: CustomerState, firm: int, members: np.ndarray, talk_draws: np.ndarray,
                        churn_draws: np.ndarray, relationship: dict[str, np.ndarray] | None = None, *,
                        computed: tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray] | None = None):
    """From the relationship state of ``firm``'s customers ``members``: who talks
    this week (``rules.talk_probability``), for or against the firm, and who
    lapses (the model's hazard). Returns ``(talking, positive, leaving, state)``
    (masks over ``members``; ``talking`` is None without word of mouth).
    ``relationship``: their state if gathered already (``CustomerState.state_of``);
    ``computed``: :func:`talk_and_hazard` of these customers if computed already
    (the array engine computes it for every firm's customers at once)."""
    if relationship is None:
        relationship = state.state_of(members, firm)
    if computed is None:
        computed = talk_and_hazard(state, members, relationship, talk_draws)
    talk, hazard = computed
    talking, positive = (None, None) if talk is None else talk
    return talking, positive, lapsing(churn_draws, members, hazard), relationship


def lapsing(churn_draws: np.ndarray, customers: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """Who of ``customers`` lapses this week: their churn draw (``churn_draws[customers]``) below
    their hazard ``hazard`` (a mask over ``customers``)."""
    return churn_draws[customers] < hazard


#: Customers per block of the churn hazard over every firm's customers (:func:`hazard_in_blocks`):
#: the hazard's numpy temporaries of a block stay in the processor's cache.
HAZARD_BLOCK = 32_768


def hazard_in_blocks(state: CustomerState, customers: np.ndarray, relationship: dict[str, np.ndarray]) -> np.ndarray:
    """The model's churn hazard of ``customers`` (``MarketModel.hazard``) from their
    ``relationship`` state, worked out block by block of :data:`HAZARD_BLOCK` customers: each
    customer's hazard is its own (element by element), so the numbers are those of one call
    over all of them."""
    model = state.model
    if customers.size <= HAZARD_BLOCK:
        return model.hazard(relationship, customers)
    hazard = np.empty(customers.size)
    for start in range(0, customers.size, HAZARD_BLOCK):
        part = slice(start, start + HAZARD_BLOCK)
        hazard[part] = model.hazard({name: values[part] for name, values in relationship.items()}, customers[part])
    return hazard


def talk_and_hazard(state: CustomerState, customers: np.ndarray, relationship: dict[str, np.ndarray],
                    talk_draws: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray]:
    """Who of ``customers`` talks and who of them speaks well (``(talking, positive)``,
    None without word of mouth), and their churn hazard this week (the model's hazard),
    from their relationship state with their current firm ``relationship``. Customer
    by customer, so the customers may be of several firms."""
    model = state.model
    talk = None
    # customer by customer in compiled code that calls the rule (market/kernels.py)
    kernels = _kernels()
    if model.spec.word_of_mouth.enabled:
        talk = kernels.talkers(relationship["satisfaction"], relationship["commitment"], talk_draws,
                               customers.astype(np.int64, copy=False), np.array(model.talk_weights, dtype=np.float64))
    return talk, hazard_in_blocks(state, customers, relationship)


def warning_leavers(state: CustomerState, talk_draws: np.ndarray):
    """Recent leavers (after a failure, or pruned) still within their warning
    weeks and customers of nobody: who of them talks about the firm they left
    this week. Returns ``(leavers, firms, positive)`` of the talkers, in the
    order they left."""
    model = state.model
    # leaver by leaver in compiled code that calls the rule (market/kernels.py): who still warns,
    # kept in order, and who of them talks (rules.talk_probability on its state with the firm it left)
    *kept, talkers, firms, positive = _kernels().warning_talkers(
        *state.recent_leavers, float(model.week), state.current, state.satisfaction, state.commitment, talk_draws,
        np.array(model.talk_weights, dtype=np.float64))
    state.recent_leavers = tuple(kept)
    return talkers, firms, positive


def talk(state: CustomerState, firm: int, talkers: np.ndarray, positive: np.ndarray, draws: BatchDraws):
    """Each talker tells one random network contact (one "listener" draw each)
    about ``firm``. Returns the listeners reached and what they hear."""
    model = state.model
    listeners = model.network.pick_listeners(talkers, draws.uniform("listener", talkers, firm))
    reached = listeners >= 0
    heard = positive[reached]
    _spoken(model.firms[firm], int(np.count_nonzero(heard)), heard.size)
    return listeners[reached], heard


def _spoken(firm: Firm, praise: int, held: int) -> None:
    """A firm's word-of-mouth count: ``held`` conversations about it, ``praise`` of them for it."""
    firm.wom_spoken[1] += praise
    firm.wom_spoken[0] += held - praise


def hear(state: CustomerState, firm: int, listeners: np.ndarray, positive: np.ndarray,
         draws: BatchDraws) -> None:
    """Word of mouth about ``firm`` reaches ``listeners``, in turn (a listener may
    appear more than once: it hears each time, in the order given): they learn of
    the firm; its influence moves; a recommended prospect is marked referred and
    may try the firm next week (one "referral" draw each, in the same order)."""
    if listeners.size == 0:
        return
    model = state.model
    wom = model.spec.word_of_mouth
    # listener by listener, in compiled code that calls the rule (market/kernels.py); a
    # recommendation heard before the first purchase is the acquisition's source, however the
    # prospect first heard of the firm (docs/model.md §3.14)
    kernels = _kernels()
    prospects = kernels.hear(
        listeners.astype(np.int64, copy=False), positive.astype(bool, copy=False), firm, model.aware,
        state.source, state.wom, state.current, state.referred, state.spells, float(wom.strength),
        float(wom.negativity_weight), float(wom.max_influence), SOURCE_CODE["wom"])
    _referral_trials(state, firm, prospects, draws)


def _referral_trials(state: CustomerState, firm: int, prospects: np.ndarray, draws: BatchDraws) -> None:
    """Each recommended prospect may try ``firm`` next week (one "referral" draw each, in order)."""
    model = state.model
    # an extra purchase occasion next week (each time), in compiled code
    _kernels().referral_trials(prospects, draws.uniform("referral", prospects, firm),
                               float(model.spec.word_of_mouth.referral_trial), model.extra_occasions)


def talk_and_hear(state: CustomerState, firm: int, talkers: np.ndarray, positive: np.ndarray,
                  draws: BatchDraws) -> None:
    """:func:`talk`, then :func:`hear` of what the listeners reached hear, for a batch in which
    a listener may be reached more than once: its conversations are heard in rounds (every
    listener's first, then every second one …, each round in talker order, as the array engine
    splits a batch: ``engines.arrays.rounds``). The same draws in the same order as the two
    events (one "listener" draw per talker, one "referral" draw per prospect), the talk and the
    hearing in one compiled call (``kernels.talk_and_hear``, which calls ``pick_listeners``,
    ``dyad_rounds`` and ``hear``)."""
    if talkers.size == 0:
        return
    model = state.model
    network = model.network
    wom = model.spec.word_of_mouth
    talkers = talkers.astype(np.int64, copy=False)
    uniforms = draws.uniform("listener", talkers, firm)
    # the fully mixed network's picks (numpy); on a CSR network the kernel picks
    picked = network.pick_listeners(talkers, uniforms) if network.fully_mixed else talkers
    prospects, praise, held = _kernels().talk_and_hear(
        talkers, uniforms, positive.astype(bool, copy=False), picked, network.fully_mixed, network.indptr,
        network.indices, firm, state.firm_count, model.aware, state.source, state.wom, state.current, state.referred,
        state.spells, float(wom.strength), float(wom.negativity_weight), float(wom.max_influence), SOURCE_CODE["wom"])
    _spoken(model.firms[firm], praise, held)
    if prospects.size:
        _referral_trials(state, firm, prospects, draws)
