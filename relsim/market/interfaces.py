"""The two engines: how the customer population is held and advanced.

A run has one population of customers, held either

* as Mesa agents, one :class:`relsim.market.agents.Customer` per customer, advanced
  one at a time (``market.engine = "agents"``, :mod:`relsim.market.engines.agents`):
  the engine to read, step through and show in the app; or
* in batches (``market.engine = "arrays"``, :mod:`relsim.market.engines.arrays`):
  the engine for 10^5–10^6 customers and large sweeps.

Both hold the same state (:class:`relsim.market.state.CustomerState`, one row per
customer and one column per firm) and change it only through the event
functions of :mod:`relsim.market.events`; they differ only in scheduling.
Firms, suppliers, distributors and alliance partners are Mesa agents in both;
they act on customers only through the :class:`Population` interface below.
What customers, firms, partners and engines may read from the model is the
narrow :class:`Market` protocol; :class:`relsim.market.model.MarketModel`
implements both sides, and the type checker (mypy, ``scripts/test.sh``) checks
each engine against :class:`Population` and the model against :class:`Market`.
In lock step (keyed draws) both engines give identical states
(``tests/test_lockstep.py``); in ordinary runs their outputs have the same
distributions (``tests/test_docking.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from relsim.market.draws import Draws
    from relsim.market.network import SocialNetwork
    from relsim.market.operations import Operations
    from relsim.scenario.schema import BehaviourSpec, Scenario

ENGINES = ("agents", "arrays")


class Population(Protocol):
    """What firms, partners and the model may do to the customers."""

    size: int
    #: the customers' shared state (market/state.py CustomerState), read by tables and checks
    state: Any

    # -- who is whose customer ---------------------------------------------
    def count(self, firm: int) -> int:
        """Customers of ``firm`` now."""

    def members_of(self, firm: int) -> np.ndarray:
        """Indices of the customers of ``firm`` now."""

    def current_firm(self, customers: np.ndarray) -> np.ndarray:
        """Firm each of ``customers`` buys from now (-1: none)."""

    # -- set-up -------------------------------------------------------------
    def start_initial(self, firm: int, customers: np.ndarray, first_week: np.ndarray,
                      last_purchase: np.ndarray, purchases: np.ndarray,
                      commitment: np.ndarray) -> None:
        """Make ``customers`` initial customers of ``firm`` with the given history."""

    def lapse_for_good(self, customers: np.ndarray) -> None:
        """End the current spells of ``customers``; they never return."""

    # -- step 2: awareness, offers, accounts --------------------------------
    def learn_of(self, firm: int, customers: np.ndarray, source: str, channel_fee: float = 0.0) -> None:
        """``customers`` become aware of ``firm`` (no effect on those already aware)."""

    def recommend(self, firm: int, customers: np.ndarray) -> None:
        """An alliance partner refers ``customers`` to ``firm`` (aware, positive influence)."""

    def personalised_offers(self, firm: int, probability: float) -> int:
        """Send offers to a random share of ``firm``'s customers; return how many."""

    def retention_offers(self, firm: int, discount: float) -> int:
        """Give overdue customers of ``firm`` a win-back discount; return how many."""

    def review_key_accounts(self, firm: int, share: float) -> None:
        """Make the top ``share`` of ``firm``'s customers by trailing margin key accounts."""

    def serve_key_accounts(self, firm: int) -> int:
        """A week of key-account management; return the number of key accounts."""

    def prune(self, firm: int, threshold: float) -> None:
        """End the relationships of ``firm`` that earn less than ``threshold`` a year."""

    # -- steps 3 to 8 ------------------------------------------------------
    def begin_week(self) -> None:
        """Bring the relationship state to the new week (decay without contact)."""

    def shop(self, occasions: np.ndarray) -> None:
        """Step 3: each customer buys once per purchase occasion."""

    def run_operations(self, until: float) -> None:
        """Steps 4-6: fulfilment and support in continuous time up to ``until``."""

    def hear(self, firm: int, listeners: np.ndarray, positive: np.ndarray) -> None:
        """Word of mouth about ``firm`` reaches ``listeners`` (for or against)."""

    def word_of_mouth_and_churn(self, talk_draws: np.ndarray, churn_draws: np.ndarray) -> None:
        """Steps 7 and 8: customers talk, then may lapse."""

    # -- what the books record ----------------------------------------------
    def relationship_state(self, firm: int) -> dict[str, np.ndarray]:
        """End-of-week state (trust … purchases) of ``firm``'s customers, as arrays."""

    def customers_table(self) -> pd.DataFrame:
        """One row per customer and firm it ever bought from (``metrics.CUSTOMER_COLUMNS``)."""

    def closed_spells(self) -> pd.DataFrame:
        """Spells that ended: customer, firm, start, end, reason, source."""

    def open_spells(self) -> pd.DataFrame:
        """Spells still running: customer, firm, start, source."""


class Market(Protocol):
    """What customers, firms, partners and the engines may read from the model.

    A narrow view of :class:`relsim.market.model.MarketModel`: the clock, the
    scenario, the firms, the shared per-customer arrays (one row per customer)
    and the few services the model offers (draws, sampling, the churn hazard).
    Anything else on the model is its own business.
    """

    # -- the clock and the scenario ------------------------------------------
    week: float                      # time at the start of the current step, in weeks
    steps: int                       # steps taken so far (Mesa's counter)
    step_weeks: float                # length of one step in weeks
    spec: Scenario                   # the whole scenario
    behaviour: BehaviourSpec         # its behaviour parameters (``spec.behaviour``)
    choice_weights: tuple[float, ...]
    talk_weights: tuple[float, float, float, float, float, float]
    decay_rates: tuple[float, float, float]

    # -- who is in the market ------------------------------------------------
    firms: list[Any]   # relsim.market.firms.Firm (not imported here: the agents import this module)
    population: Population
    network: SocialNetwork
    operations: Operations

    # -- per-customer arrays (row = customer) ----------------------------------
    aware: np.ndarray                # (customers, firms) bool: knows the firm
    dormant_until: np.ndarray        # week until which a customer does not shop
    extra_occasions: np.ndarray      # referral trials next week
    need_rate: np.ndarray            # purchase occasions per week
    spend_rate: np.ndarray           # Gamma-Gamma spend scale
    dropout: np.ndarray              # BG/NBD dropout probability per purchase
    segment_of: np.ndarray           # segment number
    direct: np.ndarray               # buys direct (True) or through a distributor

    # -- per-segment tables (row = segment), read by the compiled choice (market/kernels.py) --
    segment_choice_weights: list[tuple[float, float, float, float, float, float, float]]
    habit_satisfaction: np.ndarray   # w_S of rules.habit_probability
    habit_commitment: np.ndarray     # w_C of rules.habit_probability

    # -- randomness and services ---------------------------------------------
    draws: Draws
    rng_events: np.random.Generator
    rng_ops: np.random.Generator
    rng_competition: np.random.Generator   # the competitors' reviews (relsim.market.competition)

    # -- what competition and metrics read and write --------------------------
    customer_value: np.ndarray       # expected spend per customer (co-creation by value)
    recorder: Any                    # relsim.market.metrics.Recorder (not imported: metrics imports this module)
    strategy_moves: list[tuple[float, str, str]]   # (week, firm, rival imitated)
    price_reactions: list[tuple[float, str, float]]   # (week, firm, new list price)

    def sample(self, candidates: np.ndarray, probability: float) -> np.ndarray:
        """Each candidate independently with ``probability``."""

    def hazard(self, state: dict[str, np.ndarray], index: np.ndarray) -> np.ndarray:
        """Churn probability this step of the customers ``index`` of one firm."""

    #: Keyed (counter-based) draws in a lock-step run (``MarketModel(..., lockstep=True)``), else None.
    keyed_draws: Any

    def choice_weights_for(self, segment: Any) -> tuple[Any, ...]:
        """The choice-utility weights for a segment number (floats) or an array of them (columns)."""

    def habit_probability(self, segment: Any, satisfaction: Any, commitment: Any) -> Any:
        """Chance that a purchase occasion is a habitual repeat with the current firm."""

    def dropout_probability(self, dropout: Any, segment: Any, satisfaction: Any, commitment: Any) -> Any:
        """BG/NBD dropout after a repeat purchase, moved by satisfaction and commitment."""
