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
In lock step (keyed draws) both engines give identical states
(``tests/test_lockstep.py``); in ordinary runs their outputs have the same
distributions (``tests/test_docking.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass

ENGINES = ("agents", "arrays")


class Population(Protocol):
    """What firms, partners and the model may do to the customers."""

    size: int

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
