"""The market model: one Mesa ``Model`` whose weekly step follows MODEL.md.

A step is one week (``market.step_weeks``):

0. the customers' state is brought to the new week (decay) and the firms'
   weekly counters are reset; with adaptive competition, after each review
   period the competitors review their strategies (``competition.review``);
1. partners deliver (shortages, spot prices);
2. firms act (promotions, campaigns, relationship activities, pruning);
   distributors and alliance partners bring prospects; some customers learn
   of firms by themselves;
3. needs arrive and customers choose and buy;
4.–5. the SimPy environment runs to the end of the week: deliveries,
   questions, complaints and their answers update the dyads (6.); then each
   firm reviews its supplier dyad;
7. word of mouth (with ``word_of_mouth.listening``: after churn);
8. churn;
9. co-creation moves each firm's quality, then the books and the week's record.

Random numbers come from one ``numpy.random.SeedSequence`` per run, spawned
into one stream per purpose, so that two strategies run on the same seed share
the population, the network and the weekly needs (common random numbers).
"""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING, Any, cast

import mesa
import numpy as np

from relsim.market import competition, rules
from relsim.market.draws import INVERSION_MAX_RATE, Draws, KeyedDraws, poisson
from relsim.market.dyad import PartnerDyad
from relsim.market.firms import Firm
from relsim.market.interfaces import ENGINES, Market, Population
from relsim.market.metrics import Recorder
from relsim.market.network import build_network
from relsim.market.operations import Operations
from relsim.market.partners import AlliancePartner, Distributor, Supplier
from relsim.scenario.population import load_population
from relsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from relsim.market.engines.agents import AgentPopulation

#: Named random streams, spawned in this order from the run's SeedSequence.
STREAMS = ("population", "network", "needs", "churn", "talk", "events", "operations", "partners",
           "competition")


class MarketModel(mesa.Model):
    """A market of customers, firms, suppliers, distributors and alliance partners.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    seed : int
        Root seed of the run.
    engine : str, optional
        ``"agents"`` or ``"arrays"`` (default: the scenario's ``market.engine``).
    lockstep : bool, optional
        For testing the engines against each other (``tests/test_lockstep.py``):
        every random draw of a customer event and of :meth:`sample` is keyed
        by what it is for (:class:`relsim.market.draws.KeyedDraws`) instead of
        being taken from the run's streams in turn, so that both engines make
        the same draws for the same events whatever order they schedule them in.
    """

    def __init__(self, scenario: Scenario, seed: int = 0, engine: str | None = None,
                 lockstep: bool = False) -> None:
        streams = dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS)),
                           strict=True))
        super().__init__(rng=np.random.default_rng(streams["events"].spawn(1)[0]))
        self.seed = seed
        self.spec = scenario
        self.engine = engine or scenario.market.engine
        self.behaviour = scenario.behaviour
        self.step_weeks = scenario.market.step_weeks
        # Rule parameters in the order the rules take them (positional calls are
        # markedly faster than keyword calls in the agents' hot loops).
        params, wom, churn = scenario.behaviour, scenario.word_of_mouth, scenario.churn
        self.choice_weights = (params.w_trust, params.w_commitment, params.w_reciprocity,
                               params.w_responsiveness, params.w_wom, params.inertia, params.inertia_commitment)
        self.hazard_weights = (churn.base_hazard, churn.w_satisfaction, churn.w_commitment,
                               churn.w_recency, churn.w_competitor)
        self.talk_weights = (wom.talk_base, wom.talk_satisfaction, wom.talk_commitment,
                             wom.promoter_threshold, wom.detractor_threshold, wom.talk_negative)
        # relational orientation per segment (Garbarino & Johnson 1999): relational customers
        # weigh trust and commitment, transactional ones satisfaction (2·o and 2·(1 − o))
        orientation = np.array([segment.relational for segment in scenario.segments])
        self.relational_weight = 2.0 * orientation
        self.transactional_weight = 2.0 * (1.0 - orientation)
        self.segment_choice_weights = [
            (params.w_trust * r, params.w_commitment * r, params.w_reciprocity * r, params.w_responsiveness,
             params.w_wom, params.inertia, params.inertia_commitment * r)
            for r in self.relational_weight.tolist()]
        self.habit_satisfaction = params.habit_satisfaction * self.transactional_weight
        self.habit_commitment = params.habit_commitment * self.relational_weight
        self.decay_rates = (params.commitment_decay, params.reciprocity_decay, wom.decay)
        self.week = 0.0
        rng_population = np.random.default_rng(streams["population"])
        self.rng_needs = np.random.default_rng(streams["needs"])
        self.rng_churn = np.random.default_rng(streams["churn"])
        self.rng_talk = np.random.default_rng(streams["talk"])
        self.rng_events = np.random.default_rng(streams["events"])
        self.rng_ops = np.random.default_rng(streams["operations"])
        self.rng_competition = np.random.default_rng(streams["competition"])
        self.strategy_moves: list[tuple[float, str, str]] = []   # (week, firm, rival imitated)
        self.price_reactions: list[tuple[float, str, float]] = []   # (week, firm, new list price)
        # one stream per partner agent, so that one partner's draws never shift another's
        partner_streams = iter(streams["partners"].spawn(
            len(scenario.suppliers) + len(scenario.distributors)
            + sum(len(a.partners) for a in scenario.alliances)))
        self.draws = Draws(self.rng_events)

        size = scenario.market.customers
        self.network = build_network(scenario.market.network, size,
                                     np.random.default_rng(streams["network"]))
        self.operations = Operations(scenario.operations, self.rng_ops)

        suppliers = {spec.name: Supplier(self, spec, np.random.default_rng(next(partner_streams)))
                     for spec in scenario.suppliers}
        self.firms: list[Firm] = [
            Firm(self, index, spec, spec.build_strategy(), suppliers[spec.supplier])
            for index, spec in enumerate(scenario.firms)]
        for firm in self.firms:
            firm.supplier.dyads[firm.index] = PartnerDyad(firm.supplier.name)
            firm.partner_dyads[firm.supplier.name] = firm.supplier.dyads[firm.index]
        self.keyed_draws = KeyedDraws(seed, lambda: self.steps, len(self.firms)) if lockstep else None
        by_name = {firm.name: firm for firm in self.firms}
        self.distributors = [Distributor(self, spec, [by_name[n] for n in spec.firms],
                                         np.random.default_rng(next(partner_streams)))
                             for spec in scenario.distributors]
        for distributor in self.distributors:
            for firm in distributor.firms:
                firm.partner_dyads[distributor.name] = PartnerDyad(distributor.name)
        self.alliance_partners: list[AlliancePartner] = []
        for alliance in scenario.alliances:
            members = [by_name[n] for n in alliance.members]
            for firm in members:
                if firm.strategy.join_alliances and firm.strategy.level >= 5:
                    firm.alliances.append(alliance)
                    if firm.strategy.reward_rate > 0:
                        firm.programme = alliance.name
            for partner in alliance.partners:
                self.alliance_partners.append(AlliancePartner(
                    self, partner, alliance, members, np.random.default_rng(next(partner_streams))))
                for firm in members:
                    firm.partner_dyads[partner] = PartnerDyad(partner)

        # a scenario may name a per-customer population table (e.g. calibrated from a log)
        self.population_table = load_population(scenario) if scenario.population else None
        self._draw_traits(size, rng_population)
        self.customer_value = self._expected_spend()
        self.aware = np.zeros((size, len(self.firms)), dtype=bool)
        self.dormant_until = np.full(size, -np.inf, dtype=np.float32)
        self.extra_occasions = np.zeros(size, dtype=np.int16)   # referral trials, next week
        # (need rates, their Poisson rates a step, P(no need)): made at the first week (_step_need_rates)
        self._need_rates: tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None = None
        self.population = build_population(self, self.engine)
        if self.engine == "agents":
            self.customers = cast("AgentPopulation", self.population).customers
        self.recorder = Recorder(self)
        self._seed_initial_state(rng_population)
        if scenario.word_of_mouth.seeding != "none":
            # a child of the talk stream: runs without seeding draw exactly as before
            self._seed_word_of_mouth(np.random.default_rng(streams["talk"].spawn(1)[0]))
        for firm in self.firms:
            firm.reset_week()
        self.running = True

    # ------------------------------------------------------------------
    def _draw_traits(self, size: int, rng: np.random.Generator) -> None:
        """Each customer's segment, need rate (gamma heterogeneity), channel,
        BG/NBD dropout probability and Gamma-Gamma spend rate, as arrays."""
        segments = self.spec.segments
        shares = np.array([s.share for s in segments])
        table = self.population_table
        which = (rng.choice(len(segments), size=size, p=shares / shares.sum()) if table is None
                 else table["segment_index"].to_numpy())
        self.segment_of = which.astype(np.int8)   # segment number of each customer (campaign targeting)
        self.need_rate = np.empty(size, dtype=np.float32)
        self.direct = np.empty(size, dtype=bool)
        for number, segment in enumerate(segments):
            members = which == number
            count = int(members.sum())
            self.need_rate[members] = rng.gamma(segment.need_shape,
                                                segment.need_rate / segment.need_shape, count)
            self.direct[members] = rng.random(count) < segment.direct_channel
        self.dropout = np.zeros(size, dtype=np.float32)
        self.spend_rate = np.zeros(size, dtype=np.float32)
        for number, segment in enumerate(segments):
            members = which == number
            count = int(members.sum())
            if segment.dropout_a > 0:
                self.dropout[members] = rng.beta(segment.dropout_a, segment.dropout_b, count)
            if segment.spend_shape > 0:
                self.spend_rate[members] = rng.gamma(segment.spend_scale_shape,
                                                     1.0 / segment.spend_scale_rate, count)
        if table is not None:
            self.need_rate[:] = table["need_rate"].to_numpy()
            self.dropout[:] = table["dropout"].to_numpy()
            self.spend_rate[:] = table["spend_rate"].to_numpy()

    def _expected_spend(self) -> np.ndarray:
        """Each customer's expected weekly spend at reference price (need rate × mean
        order value): the value co-creation weighs its partners by."""
        segments = self.spec.segments
        basket = np.array([s.basket_mean for s in segments])[self.segment_of]
        shape = np.array([s.spend_shape for s in segments])[self.segment_of]
        gamma = self.spend_rate > 0
        basket = np.where(gamma, shape / np.where(gamma, self.spend_rate, 1.0), basket)
        return (self.need_rate * basket).astype(float)

    def choice_weights_for(self, segment):
        """The weights of ``rules.choice_utility`` (after ``is_current``) for a
        segment number, or, for an array of segment numbers, as columns (one row per
        customer) that broadcast over the firms: trust, commitment, reciprocity and
        commitment's inertia are weighted by the segment's relational orientation."""
        if isinstance(segment, np.ndarray):
            table = np.array(self.segment_choice_weights)[segment]
            return tuple(table[:, k, None] for k in range(table.shape[1]))
        return self.segment_choice_weights[int(segment)]

    def dropout_probability(self, dropout, segment, satisfaction, commitment):
        """BG/NBD dropout after a repeat purchase, moved by satisfaction and commitment
        from the scenario's reference state (``rules.relationship_dropout``), with the
        churn weights weighted by the segment's relational orientation."""
        churn = self.spec.churn
        w_satisfaction = churn.w_satisfaction * self.transactional_weight[segment]
        w_commitment = churn.w_commitment * self.relational_weight[segment]
        if not isinstance(segment, np.ndarray):
            w_satisfaction, w_commitment, dropout = float(w_satisfaction), float(w_commitment), float(dropout)
        return rules.relationship_dropout(dropout, satisfaction - churn.reference_satisfaction,
                                          commitment - churn.reference_commitment, w_satisfaction, w_commitment)

    def habit_probability(self, segment, satisfaction, commitment):
        """Chance that a purchase occasion is a habitual repeat with the current firm
        (``rules.habit_probability``); ``segment`` is a segment number or an array of them."""
        params = self.behaviour
        if isinstance(segment, np.ndarray):
            return rules.habit_probability(satisfaction, commitment, params.habit_base,
                                           self.habit_satisfaction[segment], self.habit_commitment[segment],
                                           params.habit_max)
        segment = int(segment)
        return rules.habit_probability(satisfaction, commitment, params.habit_base,
                                       float(self.habit_satisfaction[segment]),
                                       float(self.habit_commitment[segment]), params.habit_max)

    def _seed_initial_state(self, rng: np.random.Generator) -> None:
        """Initial awareness and each firm's initial customer base (the same draws
        for both engines, so that they start from the same market): tenure
        U(0, ``market.initial_tenure_max_weeks``), commitment
        U(0, ``behaviour.initial_customer_commitment_max``) (docs/model.md §1.8)."""
        size = self.population.size
        for firm in self.firms:
            aware = np.flatnonzero(rng.random(size) < firm.spec.initial_awareness)
            self.population.learn_of(firm.index, aware, "organic")
        if self.population_table is not None:
            self._seed_from_table(rng)
            return
        order = rng.permutation(size)
        start = 0
        for firm in self.firms:
            count = round(firm.spec.initial_share * size)
            members = np.sort(order[start:start + count])
            need = self.need_rate[members]
            tenure = rng.uniform(0, self.spec.market.initial_tenure_max_weeks, count)
            last_purchase = -rng.exponential(1.0 / need)
            purchases = 1 + rng.poisson(need * tenure)
            commitment = rng.uniform(0.0, self.behaviour.initial_customer_commitment_max, count)
            self.population.start_initial(firm.index, members, -tenure, last_purchase, purchases,
                                          commitment)
            start += count

    def _seed_word_of_mouth(self, rng: np.random.Generator) -> None:
        """Word-of-mouth seeding (``word_of_mouth.seeding``): seeds recommend the focal firm.

        Advocates are the focal firm's initial customers with the highest
        commitment; random seeds are drawn from the whole population. Each seed
        tells ``seeding_contacts`` random network contacts, as a positive talk.
        """
        wom = self.spec.word_of_mouth
        population = self.population
        count = round(wom.seeding_share * population.size)
        focal = self.firms[0].index
        if wom.seeding == "advocates":
            members = population.members_of(focal)
            commitment = population.relationship_state(focal)["commitment"]
            seeds = members[np.argsort(-commitment, kind="stable")[:count]]
        else:
            seeds = rng.choice(population.size, size=min(count, population.size), replace=False)
        talkers = np.repeat(seeds, wom.seeding_contacts)
        listeners = self.network.pick_listeners(talkers, rng.random(talkers.size))
        listeners = listeners[listeners >= 0]
        population.hear(focal, listeners, np.ones(listeners.size, dtype=bool))

    def _seed_from_table(self, rng: np.random.Generator) -> None:
        """Customers with purchases in the population table start with the focal firm,
        with their own history; those not alive have left it for good before week 0."""
        table = self.population_table
        assert table is not None, "called only for a scenario with a population file"
        focal = self.firms[0].index
        members = np.flatnonzero(table["purchases"].to_numpy() > 0)
        self.population.start_initial(
            focal, members, table["first_week"].to_numpy()[members].astype(float),
            table["last_purchase_week"].to_numpy()[members].astype(float),
            table["purchases"].to_numpy()[members],
            rng.uniform(0.0, self.behaviour.initial_customer_commitment_max, members.size))
        self.population.lapse_for_good(members[~table["alive"].to_numpy()[members].astype(bool)])

    # ------------------------------------------------------------------
    def sample(self, candidates: np.ndarray, probability: float) -> np.ndarray:
        """Each candidate independently with ``probability`` (binomial count, then a draw;
        in a lock-step run one keyed uniform per candidate)."""
        if candidates.size == 0 or probability <= 0:
            return candidates[:0]
        if self.keyed_draws is not None:
            return candidates[self.keyed_draws.uniform("sample", candidates) < probability]
        count = int(self.rng_events.binomial(candidates.size, min(1.0, probability)))
        if count == 0:   # numpy's choice of none draws nothing: the same stream without the call
            return candidates[:0]
        return self.rng_events.choice(candidates, size=count, replace=False)

    # ------------------------------------------------------------------
    #: The phases of a step, in order (``step`` runs them; ``relsim.market.replicates`` runs each
    #: phase for every replicate of a batch before the next phase).
    PHASES = ("begin_step", "partners_deliver", "firms_act", "needs_and_purchases", "operate",
              "word_of_mouth_and_churn", "close_books")

    def step(self) -> None:
        """Advance the market by one step (one week by default): the :attr:`PHASES` in order."""
        self.begin_step()
        self.partners_deliver()
        self.firms_act()
        self.needs_and_purchases()
        self.operate()
        self.word_of_mouth_and_churn()
        self.close_books()

    def begin_step(self) -> None:
        """0. The week's clock, decay and the firms' weekly counters; with adaptive
        competition, the competitors review their strategies."""
        self.week = (self.steps - 1) * self.step_weeks
        self.population.begin_week()
        for firm in self.firms:
            firm.reset_week()
        if self.spec.market.competition == "adaptive":   # competitors review their strategies
            competition.review(self)

    def partners_deliver(self) -> None:
        """1. Suppliers deliver (shortages, spot prices)."""
        self.agents_by_type[Supplier].do("step")

    def firms_act(self) -> None:
        """2. Firms act; distributors, alliance partners and chance bring prospects."""
        for firm in self.firms:
            firm.act()
            for alliance in firm.alliances:
                firm.books["partner_fees"] += alliance.fee_per_week * self.step_weeks
        for distributor in self.distributors:
            distributor.step()
        for partner in self.alliance_partners:
            partner.step()
        self._organic_awareness()

    def needs_and_purchases(self) -> None:
        """3. Needs arrive; customers choose and buy."""
        self._needs()

    def operate(self) -> None:
        """4.-6. Fulfilment and support run in continuous time to the end of the week; the
        firms review their suppliers."""
        self.population.run_operations(self.week + self.step_weeks)
        for firm in self.firms:
            firm.supplier.review(firm)

    def word_of_mouth_and_churn(self) -> None:
        """7. Word of mouth, 8. churn: every customer of every firm may talk, then may leave."""
        size = self.population.size
        if self.spec.word_of_mouth.enabled and self.spec.word_of_mouth.listening:
            # listening formulation: nobody talks in the population's pass (draws of 1 never
            # talk); the model holds the conversations after churn (MarketModel._listen)
            talk_draws = self.rng_talk.random(size)
            self.population.word_of_mouth_and_churn(np.ones(size), self.rng_churn.random(size))
            self._listen(talk_draws)
        else:
            self.population.word_of_mouth_and_churn(self.rng_talk.random(size), self.rng_churn.random(size))

    def close_books(self) -> None:
        """9. The week's books and record; the run stops after ``market.weeks``."""
        self.recorder.record_week()
        if self.steps * self.step_weeks >= self.spec.market.weeks:
            self.running = False

    def start_step_clock(self) -> None:
        """Mesa's bookkeeping of a step (``steps`` + 1, its clock and scheduled events)
        without the step's phases, for a caller that runs :meth:`phases` itself
        (``relsim.market.replicates``): Mesa's wrapped ``step`` is called with the
        model's own step swapped out for a no-op."""
        user_step = self.__dict__.get("_user_step")
        if user_step is None:
            raise RuntimeError("mesa.Model no longer keeps the model's own step as '_user_step' "
                               f"(mesa {mesa.__version__}): relsim.market.model.start_step_clock needs mending")
        self._user_step = _no_step
        try:
            self.step()
        finally:
            self._user_step = user_step

    def _listen(self, draws: np.ndarray) -> None:
        """Word of mouth by listening (``word_of_mouth.listening``), after churn.

        Every customer attends to one random contact (the *speaker*, one
        uniform each from the ``talk`` stream); a speaker who is a customer of
        firm f speaks for f with its probability p⁺ and against f with p⁻
        (``rules.talk_probability`` on its end-of-week state), and the listener
        hears it (``rules.listen``, one uniform each). The chance a listener
        hears of f is then the mean talk probability of its contacts about f:
        in a fully mixed market ``(talk_base)·A_f/(N − 1)`` when all
        customers of f are promoters — linear in the adopter share, as in the
        Bass (1969) model (docs/validation.md). Recent leavers do not speak.
        """
        size = self.population.size
        listeners = np.arange(size)
        speakers = self.network.pick_listeners(listeners, self.rng_talk.random(size))
        has_speaker = speakers >= 0
        listeners, speakers, draws = listeners[has_speaker], speakers[has_speaker], draws[has_speaker]
        for firm in self.firms:
            members = self.population.members_of(firm.index)
            if members.size == 0:
                continue
            state = self.population.relationship_state(firm.index)
            positive, negative = rules.talk_probability(state["satisfaction"], state["commitment"],
                                                        *self.talk_weights)
            for_firm = np.zeros(size)
            against_firm = np.zeros(size)
            for_firm[members] = positive
            against_firm[members] = negative
            heard, good = rules.listen(for_firm[speakers], against_firm[speakers], draws)
            heard = np.asarray(heard, dtype=bool)
            good = np.asarray(good, dtype=bool)[heard]
            firm.wom_spoken[1] += int(np.count_nonzero(good))
            firm.wom_spoken[0] += int(np.count_nonzero(~good))
            self.population.hear(firm.index, listeners[heard], good)

    def _organic_awareness(self) -> None:
        rate = rules.per_step(self.spec.market.organic_awareness, self.step_weeks)
        if rate <= 0:   # nobody is sampled (MarketModel.sample)
            return
        from relsim.market import kernels  # building a market does not load numba
        for firm in self.firms:
            # those not aware of the firm: np.flatnonzero(~aware[:, firm]) in one compiled pass
            self.population.learn_of(firm.index, self.sample(kernels.unaware_of(self.aware, firm.index), rate),
                                     "organic")

    def _needs(self) -> None:
        """Purchase occasions of the week: Poisson(need rate), plus referral trials."""
        rates, first_terms = self._step_need_rates()
        if self._need_rates is not None and not self._need_rates[3]:   # every rate walks the CDF
            # draws.poisson's uniforms and walk, the referral trials and the dormant in one compiled pass
            from relsim.market import kernels  # building a market does not load numba
            occasions = kernels.weekly_needs(self.rng_needs.random(rates.size), first_terms, rates,
                                             self.extra_occasions, self.dormant_until,
                                             self.dormant_until.dtype.type(self.week))
        else:
            available = self.dormant_until <= self.week
            occasions = (poisson(self.rng_needs, rates, first_terms) + self.extra_occasions) * available
            self.extra_occasions[:] = 0
        self.population.shop(occasions)

    def _step_need_rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Each customer's Poisson rate of needs a step and its chance of none (``e^-rate``), as
        ``draws.poisson`` takes them: worked out once, since the need rates do not change in a run
        (again if the array is replaced: a replicate batch rebinds it to its rows of the stack)."""
        if self._need_rates is None or self._need_rates[0] is not self.need_rate:
            rates = np.asarray(self.need_rate * self.step_weeks, dtype=float)
            self._need_rates = (self.need_rate, rates, np.exp(-rates), bool((rates > INVERSION_MAX_RATE).any()))
        return self._need_rates[1], self._need_rates[2]

    def hazard(self, state: dict[str, np.ndarray], index: np.ndarray) -> np.ndarray:
        """Churn probability this step of the customers ``index`` of one firm, from
        their relationship ``state`` (``rules.churn_hazard``, or the scenario's
        constant, BG/NBD or beta-geometric churn)."""
        churn = self.spec.churn
        if churn.model in ("off", "bgnbd"):   # bgnbd: dropout happens at purchases
            return np.zeros(index.size)
        if churn.model == "constant":
            return np.full(index.size, rules.per_step(1.0 - churn.constant_retention, self.step_weeks))
        if churn.model == "beta_geometric":   # own churn probability per period ~ Beta (Fader & Hardie 2007)
            return rules.per_step(self.dropout[index].astype(float), self.step_weeks / churn.period_weeks)
        recency = (self.week - state["last_purchase"]) * self.need_rate[index]
        base, w_satisfaction, w_commitment, w_recency, w_competitor = self.hazard_weights
        segment = self.segment_of[index]
        return rules.per_step(rules.churn_hazard(
            state["satisfaction"], state["commitment"], recency, state["competitor_advantage"], base,
            # each segment's weight, then each customer's (the same products as customer by customer)
            (w_satisfaction * self.transactional_weight)[segment], (w_commitment * self.relational_weight)[segment],
            w_recency, w_competitor), self.step_weeks)

    def run(self, progress=None) -> None:
        """Step until ``market.weeks`` are simulated; ``progress()`` is called per step."""
        with long_lived_objects_frozen(), freed_memory_kept():
            while self.running:
                self.step()
                if progress is not None:
                    progress()


def _no_step() -> None:
    """Nothing: the model's own step while :meth:`MarketModel.start_step_clock` runs Mesa's."""


#: Set by :func:`freeze_process_baseline`: what this process held then is frozen for its lifetime.
_baseline_frozen = False


def freeze_process_baseline() -> None:
    """Freeze, for the rest of this process, every object alive now (imports, numba's loaded kernels).

    For worker processes that relsim owns (the studies' warm forkserver,
    :mod:`relsim.studies._warm_worker`, calls it after its warm-up run, and
    every worker forked from it inherits the frozen state). Python's cyclic
    collector then never scans those objects again: each run's collection of
    the garbage earlier runs left (:func:`long_lived_objects_frozen`) costs
    what that garbage holds, not what the process holds — about 0.09 s of a
    0.9 s run of the main job before (benchmarks/README.md, session 13). Not
    for a user's own process: objects frozen are never collected as cycles.
    """
    global _baseline_frozen
    gc.collect()
    gc.freeze()
    _baseline_frozen = True


@contextlib.contextmanager
def long_lived_objects_frozen():
    """Keep Python's cyclic garbage collector off the agents during a run.

    A run holds millions of long-lived objects (agents, dyads) and creates
    many short-lived ones (orders, events); with the default settings the
    collector scans the long-lived ones again and again, which cost a third
    of the run time. Freezing them and collecting less often keeps memory
    bounded and the run fast; the previous settings are restored afterwards.

    In a process whose baseline is frozen (:func:`freeze_process_baseline`)
    the run's objects are not frozen (unfreezing them would unfreeze the
    baseline too): the rare collections of the raised thresholds scan each of
    them about twice, and the collection at the start frees what earlier runs
    left.
    """
    thresholds = gc.get_threshold()
    # Garbage earlier runs in this process left behind (agents and the model
    # refer to each other, so only the cyclic collector frees them) would
    # otherwise be frozen with this run's objects and never freed: a process
    # looping over runs (a sweep worker, a test module) would keep growing.
    gc.collect()
    if not _baseline_frozen:
        gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not _baseline_frozen:
            gc.unfreeze()


def build_population(model: MarketModel, engine: str) -> Population:
    """The population of ``model`` for ``engine`` (``"agents"`` or ``"arrays"``).

    Each engine's population is bound to a variable typed :class:`Population`,
    so the type checker (mypy, run by scripts/test.sh) checks both engines
    against the protocol: a missing method or a changed signature fails it.
    """
    market: Market = model   # the model offers what agents and engines may read
    population: Population
    if engine == "agents":
        from relsim.market.engines.agents import AgentPopulation
        population = AgentPopulation(market)
    elif engine == "arrays":
        from relsim.market.engines.arrays import ArrayPopulation
        population = ArrayPopulation(market)
    else:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    return population


#: glibc's ``mallopt`` parameters (malloc.h) and values while a run lasts: blocks up to 32 MiB
#: (glibc's largest mmap threshold on 64 bits; a (customer x firm) array of 10^6 x 4 floats is
#: 16 MB) come from the heap, and freed heap memory is kept for the next allocation.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_RUN_MMAP_THRESHOLD = 32 * 1024 * 1024
_RUN_TRIM_THRESHOLD = 1 << 30
_DEFAULT_TRIM_THRESHOLD = 128 * 1024


def _glibc() -> Any:
    """The C library if it is glibc (``mallopt``, ``malloc_trim``), else None."""
    import platform
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    import ctypes
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


@contextlib.contextmanager
def freed_memory_kept():
    """Let glibc's allocator keep freed memory for reuse while a run lasts.

    A week at 10^6 customers allocates and frees many arrays of 1-16 MB
    (numpy's temporaries, the compiled kernels' results). glibc serves a
    block that large with a fresh ``mmap`` and returns it to the system when
    it is freed, so each week the kernel maps and zeroes ≈ 14,000 new pages
    (≈ 55 MB; ≈ 0.03 s of system time in a week of ≈ 0.23 s, and the
    first touch of each page besides: benchmarks/README.md, session 14).
    During the run such blocks come from the heap and freed memory stays
    there for the next week's arrays; afterwards the trim threshold is set
    back to glibc's default and the heap trimmed (``malloc_trim``), so the
    process gives back what it no longer uses. The mmap threshold stays at
    32 MiB (glibc has no call to restore its adaptive default). Changes no
    number; does nothing off glibc.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _RUN_MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, _RUN_TRIM_THRESHOLD)
    try:
        yield
    finally:
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)
