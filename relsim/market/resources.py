"""Memory and time a run will need, estimated from its scenario before anything is allocated.

The constants come from ``benchmarks/README.md`` (AMD EPYC, 2 cores, Python
3.12): peak memory growth of 3,424 B per customer for the agent engine and
about 700 B for the array engine, both with 4 firms; 48 B per customer for a
small-world network of mean degree 10 once built (its construction holds
about 40 B per customer and contact); about 10^5 customer-steps a second for
the agent engine and 10^6 for the array engine, with 4 firms. They are rough
(within a factor of about 2) and err on the large side.

>>> from relsim.scenario.schema import load_scenario
>>> memory, seconds = estimate(load_scenario("ecommerce", **{"market.customers": 1_000_000,
...                                                         "market.engine": "arrays"}))
>>> 0.5e9 < memory < 3e9 and 100 < seconds < 1000
True
"""

from __future__ import annotations

from collections.abc import Sequence

from relsim.scenario.schema import Scenario
from relsim.util.resources import check_fits

#: Peak bytes per customer (base) and per customer-firm pair (dyad), by engine.
BYTES_PER_CUSTOMER = {"agents": 600.0, "arrays": 200.0}
BYTES_PER_DYAD = {"agents": 700.0, "arrays": 125.0}
#: Peak bytes per customer and contact while the network is built, by network kind.
BYTES_PER_CONTACT = {"small_world": 40.0, "scale_free": 400.0, "fully_mixed": 0.0}
#: Bytes per customer, firm and snapshot week of the per-customer snapshot tables.
BYTES_PER_SNAPSHOT_ROW = 120.0
#: Customer-steps a second with 4 firms, by engine (benchmarks/README.md, rounded down).
CUSTOMER_STEPS_PER_SECOND = {"agents": 90_000.0, "arrays": 900_000.0}
#: Seconds per customer and contact to build a scale-free network (networkx).
SCALE_FREE_SECONDS_PER_CONTACT = 2e-6


def estimate(scenario: Scenario) -> tuple[float, float]:
    """Peak memory (bytes) and wall time (seconds) of one run of ``scenario``."""
    market = scenario.market
    engine = market.engine
    customers = float(market.customers)
    firms = len(scenario.firms)
    network = market.network
    contacts = 0.0 if network.kind == "fully_mixed" else customers * min(network.mean_degree, customers)
    memory = (customers * (BYTES_PER_CUSTOMER[engine] + BYTES_PER_DYAD[engine] * firms)
              + contacts * BYTES_PER_CONTACT[network.kind]
              + customers * firms * len(market.snapshot_weeks) * BYTES_PER_SNAPSHOT_ROW)
    steps = -(-market.weeks // market.step_weeks)
    seconds = customers * steps * max(firms, 1) / 4 / CUSTOMER_STEPS_PER_SECOND[engine]
    if network.kind == "scale_free":
        seconds += contacts * SCALE_FREE_SECONDS_PER_CONTACT
    return memory, seconds


def check_runs(what: str, scenarios: Sequence[Scenario], runs_per_scenario: int = 1,
               workers: int = 1, yes: bool = False) -> None:
    """Refuse (``ResourceError``) or announce the runs of ``scenarios`` before any starts.

    ``workers`` runs at a time each hold their own run's memory; the time is
    the total over all runs divided by the workers.
    """
    estimates = [estimate(scenario) for scenario in scenarios]
    if not estimates:
        return
    runs = len(estimates) * runs_per_scenario
    parallel = max(1, min(workers, runs))
    largest = sorted((memory for memory, _ in estimates), reverse=True)
    memory = sum(largest[:parallel]) if parallel <= len(largest) else largest[0] * parallel
    seconds = sum(seconds for _, seconds in estimates) * runs_per_scenario / parallel
    check_fits(what, memory, seconds, yes=yes)
