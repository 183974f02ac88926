"""The firm agent: the focal firm or a competitor (same class, different strategy).

A firm decides and pays; what happens to its customers is done by the
model's population (:mod:`relsim.market.interfaces`), the same for both engines.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from relsim.market import rules
from relsim.market.dyad import QUARTER_WEEKS, PartnerDyad
from relsim.market.operations import SupportDesk
from relsim.market.terms import BOOK_LINES, CHURN_REASONS, SPELL_SOURCES

if TYPE_CHECKING:
    from relsim.market.interfaces import Market
    from relsim.market.partners import Supplier
    from relsim.scenario.schema import AllianceSpec, FirmSpec
    from relsim.scenario.strategies import Strategy

# ==========================================================================
# Firm
# ==========================================================================
class Firm(mesa.Agent):
    """A firm: the focal one or a competitor. Same class, different strategy.

    Parameters
    ----------
    model : Market
    index : int
        Position in ``model.firms`` (0 is the focal firm).
    spec : FirmSpec
    strategy : Strategy
    supplier : Supplier
    """

    def __init__(self, model: Market, index: int, spec: FirmSpec, strategy: Strategy,
                 supplier: Supplier) -> None:
        super().__init__(model)
        self.index = index
        self.name = spec.name
        self.spec = spec
        self.strategy = strategy
        self.quality = spec.quality
        self.supplier = supplier
        self.alliances: list[AllianceSpec] = []
        # an adaptive competitor may start a programme later: its name exists from the start
        adaptive = model.spec.market.competition == "adaptive"
        self.programme = spec.name if strategy.reward_rate > 0 or adaptive else ""
        self.partner_dyads: dict[str, PartnerDyad] = {}
        desk_agents = 0
        if strategy.level >= 2 and strategy.service_capacity > 0:
            desk_agents = max(1, round(strategy.service_capacity
                                       * model.spec.market.reference_desk_agents))
        self.desk: SupportDesk = model.operations.add_desk(index, desk_agents)
        self.key_accounts = 0
        # trailing margins are kept only where a rule reads them (memory)
        self.tracks_margins = strategy.pruning or (strategy.level >= 5 and strategy.key_account_share > 0)
        self.promotion = False
        self.price = strategy.price
        #: list price the competitors' last review saw, before its moves (adaptive competition: a cut since is answered)
        self.reviewed_price = strategy.price
        self.customers_at_start = 0
        self.reward_goodwill = 0.0
        # advertising goodwill (rules.advertising_goodwill; off with behaviour.advertising_weight 0): a firm
        # that advertised before the run starts at the steady stock of its starting budget, b/δ
        params = model.behaviour
        self.advertising_stock = (strategy.acquisition_budget / params.advertising_decay
                                  if params.advertising_weight > 0 else 0.0)
        #: the utility the stock adds for every customer who knows the firm (rules.advertising_appeal)
        self.advertising_appeal = self._appeal()
        self._strategy_changed()
        self._clear_counters()

    def _strategy_changed(self) -> None:
        """Derived values that follow from the strategy (also after an adaptive move)."""
        params = self.model.behaviour
        # goodwill per purchase grows with the reward's value relative to spend (concave)
        self.reward_goodwill = float(rules.reward_goodwill(self.strategy.reward_rate, params.reward_goodwill,
                                                           params.reward_goodwill_scale))

    # -- bookkeeping -------------------------------------------------------
    def reset_week(self) -> None:
        """Clear the week's counters; called at the start of every step."""
        self._clear_counters()
        self.customers_at_start = self.model.population.count(self.index)

    def _clear_counters(self) -> None:
        self.books = dict.fromkeys(BOOK_LINES, 0.0)
        self.new_by_source = dict.fromkeys(SPELL_SOURCES, 0)
        self.churned_by_reason = dict.fromkeys(CHURN_REASONS, 0)
        self.orders = 0
        self.referral_orders = 0
        self.complaints = 0
        self.deliveries = 0
        self.failures = 0
        self.wom_spoken = [0, 0]   # [negative, positive]
        self.desk.reset_week()

    def welcome(self, source: str, count: int = 1) -> None:
        """``count`` customer spells start (``source``: how they came)."""
        self.new_by_source[source] += count

    def farewell(self, reason: str, count: int = 1) -> None:
        """``count`` customer spells end (``reason``: lapsed, switched, failure, pruned)."""
        self.churned_by_reason[reason] += count

    # -- prices, programmes ------------------------------------------------
    def price_now(self) -> float:
        """Price index paid this week, promotion included (also kept in ``self.price``)."""
        if self.promotion:
            return self.strategy.price * (1.0 - self.strategy.promotion_discount)
        return self.strategy.price

    def reward_value(self, enrolled):
        """Value of the loyalty programme to a customer (``rules.reward_value``): the reward
        rate, times ``behaviour.unenrolled_reward_share`` for a customer not (yet) enrolled in
        the firm's programme or alliance. ``enrolled`` is a bool or a boolean array (one per
        customer)."""
        return rules.reward_value(self.strategy.reward_rate, enrolled,
                                  self.model.behaviour.unenrolled_reward_share)

    def cashback(self, enrolled):
        """The share of the price the loyalty programme gives back as the customer values it
        (``rules.reward_cashback`` of :meth:`reward_value`, with ``costs.reward_redemption`` and
        ``behaviour.reward_value_multiplier``): a cut of the price in the choice."""
        return rules.reward_cashback(self.reward_value(enrolled), self.model.spec.costs.reward_redemption,
                                     self.model.behaviour.reward_value_multiplier)

    @staticmethod
    def sale_terms(firms: list[Firm]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`sell` reads of each firm, by firm index: the price paid this week, the unit
        cost of goods (``Supplier.unit_cost``) and the share of revenue the programme pays back
        (the redeemed reward, ``rules.reward_cashback`` at its cash value)."""
        price = np.array([firm.price for firm in firms], dtype=np.float64)
        unit_cost = np.array([firm.supplier.unit_cost(firm) for firm in firms], dtype=np.float64)
        redemption = firms[0].model.spec.costs.reward_redemption if firms else 0.0
        reward_share = np.array([rules.reward_cashback(firm.strategy.reward_rate, redemption, 1.0) for firm in firms],
                                dtype=np.float64)
        return price, unit_cost, reward_share

    @staticmethod
    def sell(firms: list[Firm], chosen: np.ndarray, basket: np.ndarray, discount: np.ndarray,
             channel_fee, referred: np.ndarray, cost_factor: np.ndarray | None = None,
             terms: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Book a batch of orders at their firms; return their margins (revenue − COGS − fees − rewards).

        One entry per order: ``chosen`` the index of the firm in ``firms`` (the model's firms) the order
        goes to, ``basket`` its value at reference price, ``discount`` the discount the
        customer holds on it (win-back and personalised offers, ``rules.order_discount``),
        ``channel_fee`` the distributor's share (an array, or one share for all), ``referred`` whether
        the customer came by word of mouth, ``cost_factor`` the share of the unit cost the customer
        still costs to serve at its tenure (``rules.tenure_cost_factor``; None = the full unit cost),
        ``terms`` the firms' :meth:`sale_terms` if the caller has them (None: worked out here).
        Each firm's book lines are the sums of its own orders in the batch's order (the same sums as
        booking every firm's orders apart).
        """
        price, unit_cost, reward_share = Firm.sale_terms(firms) if terms is None else terms
        # order by order in one compiled pass (numpy's operations in numpy's order): revenue, cost of goods,
        # the distributor's fee and the rewards the firm pays (the redeemed share of the revenue:
        # rules.reward_cashback at its cash value); each firm's book lines the sums of its own orders in
        # batch order (numpy's pairwise sums, to the bit). Imported here: building a market does not
        # load numba
        from relsim.market import kernels
        fee_shares = (np.ascontiguousarray(channel_fee, dtype=np.float64) if isinstance(channel_fee, np.ndarray)
                      else None)
        sums, counts, referrals, margins = kernels.sell(
            chosen.astype(np.int64, copy=False), np.ascontiguousarray(basket, dtype=np.float64),
            np.ascontiguousarray(discount, dtype=np.float64), price, unit_cost, reward_share, fee_shares,
            0.0 if fee_shares is not None else float(channel_fee),
            None if cost_factor is None else np.ascontiguousarray(cost_factor, dtype=np.float64),
            np.ascontiguousarray(referred, dtype=np.bool_), len(firms))
        Firm.book_sales(firms, sums, counts, referrals)
        return margins

    @staticmethod
    def book_sales(firms: list[Firm], sums: np.ndarray, counts: np.ndarray, referrals: np.ndarray) -> None:
        """Add a batch's sales to the books of ``firms`` (the model's firms): ``sums[f]`` firm f's
        revenue, cost of goods, fee and reward sums, ``counts[f]`` its orders, ``referrals[f]`` its
        referred orders (what ``kernels.sell`` returns)."""
        for firm, count, referral_count, (revenue_sum, cogs_sum, fee_sum, reward_sum) in zip(
                firms, counts.tolist(), referrals.tolist(), sums.tolist(), strict=True):
            if count == 0:
                continue
            books = firm.books
            books["revenue"] += revenue_sum
            books["cogs"] += cogs_sum
            books["partner_fees"] += fee_sum
            books["rewards"] += reward_sum
            firm.orders += count
            firm.referral_orders += referral_count

    # -- 2. the firm acts ----------------------------------------------------
    def act(self) -> None:
        """The firm's weekly moves: promotion, campaign, relationship activities.

        What happens to the customers is done by the model's population
        (:mod:`relsim.market.interfaces`), the same for both engines; the firm decides and pays.
        """
        model = self.model
        strategy = self.strategy
        population = model.population
        week_number = model.steps - 1
        self.promotion = (strategy.promotion_every_weeks > 0
                          and week_number % strategy.promotion_every_weeks == 0)
        self.price = self.price_now()
        self._campaign()
        self.books["service_desk"] += (self.desk.agents * model.spec.costs.desk_agent_per_week
                                       * model.step_weeks)
        if strategy.level >= 3:
            self.books["relationship"] += (population.count(self.index) * model.step_weeks
                                           * model.spec.costs.programme_per_customer_week)
        if strategy.level >= 4:
            self._personalised_offers()
        quarter_end = week_number % QUARTER_WEEKS == QUARTER_WEEKS - 1
        if strategy.level >= 5:
            self._key_accounts(quarter_end)
        if strategy.pruning and quarter_end:
            population.prune(self.index, strategy.pruning_min_margin)

    def _appeal(self) -> float:
        """The appeal of the firm's goodwill stock now (rules.advertising_appeal)."""
        params = self.model.behaviour
        return float(rules.advertising_appeal(self.advertising_stock, params.advertising_weight,
                                              params.advertising_decay))

    def _campaign(self) -> None:
        """Paid acquisition: each unaware direct-channel customer is reached with the
        campaign's reach probability (rules.paid_reach); with ``behaviour.advertising_weight``
        above 0 the budget also builds the firm's goodwill stock (rules.advertising_goodwill),
        which decays when nothing is spent, and its appeal in the choice (rules.advertising_appeal)."""
        model = self.model
        market = model.spec.market
        params = model.behaviour
        if params.advertising_weight > 0:
            self.advertising_stock = float(rules.advertising_goodwill(
                self.advertising_stock, self.strategy.acquisition_budget, params.advertising_decay,
                model.step_weeks))
            self.advertising_appeal = self._appeal()
        budget = self.strategy.acquisition_budget * market.reference_budget * model.step_weeks
        if budget <= 0:
            return
        self.books["acquisition"] += budget
        reach = rules.per_step(rules.paid_reach(budget / model.step_weeks,
                                                market.max_reach_share,
                                                market.half_saturation), model.step_weeks)
        reachable = ~model.aware[:, self.index] & model.direct
        if self.strategy.target_segments:
            names = [segment.name for segment in model.spec.segments]
            targeted = [names.index(name) for name in self.strategy.target_segments]
            reachable &= np.isin(model.segment_of, targeted)
        model.population.learn_of(self.index, model.sample(np.flatnonzero(reachable), reach), "paid")

    def _personalised_offers(self) -> None:
        """Proactive level: offers built on CRM knowledge, and win-back offers."""
        costs = self.model.spec.costs
        population = self.model.population
        offers = population.personalised_offers(self.index, self.strategy.personalisation)
        if self.strategy.retention_offer and costs.retention_offer_discount > 0:   # no discount, no offer
            offers += population.retention_offers(self.index, costs.retention_offer_discount)
        self.books["relationship"] += offers * costs.offer

    def _key_accounts(self, review: bool) -> None:
        """Partnership level: managers for the top customers by trailing margin,
        chosen at the quarterly account review."""
        model = self.model
        share = self.strategy.key_account_share
        if share <= 0:
            return
        if review:
            model.population.review_key_accounts(self.index, share)
        self.key_accounts = model.population.serve_key_accounts(self.index)
        managers = math.ceil(self.key_accounts / model.spec.costs.accounts_per_manager)
        self.books["relationship"] += managers * model.spec.costs.manager_per_week * model.step_weeks

    def co_create(self, partners: int, value_share: float) -> None:
        """Partnership level: feedback from partner-rung customers improves quality,
        with diminishing returns, at a cost, and decaying toward the firm's own
        quality without upkeep (rules.co_creation_quality, rules.co_creation_cost).

        ``value_share`` is the share of the firm's customer value (expected spend)
        held by its partner-rung customers. A firm that does not co-create (level
        below 5) still decays toward its base quality.
        """
        params = self.model.behaviour
        co_creating = self.strategy.level >= 5
        share = value_share if co_creating else 0.0
        self.quality = min(params.max_quality, rules.co_creation_quality(
            self.quality, self.spec.quality, share, params.co_creation_rate, params.co_creation_half_share,
            params.co_creation_decay, params.max_quality, self.model.step_weeks))
        if co_creating and partners:
            self.books["relationship"] += rules.co_creation_cost(
                partners, self.model.spec.costs.co_creation_per_partner_week, self.model.step_weeks)
