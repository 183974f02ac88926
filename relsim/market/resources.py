"""Memory and time a run will need, estimated from its scenario before anything is allocated.

The constants were re-measured on 2026-11-29 with ``benchmarks/bench_estimate.py``
(x86_64, 2 cores shared with other work, load average about 8, Python 3.12;
figures and method in ``benchmarks/README.md``, "Estimates of memory and
time"): each run in a fresh process, peak resident memory growth per customer
and customer-steps per **CPU** second (the wall clock on a loaded machine is
several times slower). Measured peak growth per customer, 4 firms unless noted:

=======  =====================================  ================  ======================
engine   scenario, network                      measured growth   estimate (this module)
=======  =====================================  ================  ======================
arrays   ecommerce, small world, degree 10      956 B             1,190 B
arrays   ecommerce, small world, degree 40      1,801 B           2,240 B
arrays   b2b (3 firms), small world, degree 6   803 B             940 B
arrays   classroom (2 firms), degree 10         768 B             970 B
arrays   alliance (3 firms), scale free, 8      2,094 B           2,330 B
agents   ecommerce, small world, degree 10      1,768 B           2,150 B
agents   b2b (3 firms), small world, degree 6   1,194 B           1,710 B
agents   alliance (3 firms), scale free, 8      1,642 B           3,100 B
=======  =====================================  ================  ======================

Customer-steps per CPU second: arrays 467,000 (ecommerce, degree 10), 704,000
(b2b, 3 firms, degree 6), 610,000 (classroom, 2 firms: the firm count is not
what drives the cost, so the estimate lets only half of it grow with the
firms), 304,000 at degree 40 (word of mouth costs about 5e-8 s per contact
and step); agents 6,200 (ecommerce), 14,000 (b2b), 6,800 (alliance) — since
the engines share one implementation of each event the agent engine is about
100 times slower than the array engine. A small-world network costs about
25 B per contact at degree 10-40 and 32 B at degree 100-200 (20,000 customers,
7,208 B per customer at degree 200), and about 3e-7 s per contact to build; a
scale-free one about 170 B and 6e-6 s per contact. Estimated time over CPU time was 1.0-2.0
(agents) and 0.8-1.2 (arrays). The estimates are rough (within a factor of about 2, see
``tests/test_resources.py``) and err on the large side.

>>> from relsim.scenario.schema import load_scenario
>>> memory, seconds = estimate(load_scenario("ecommerce", **{"market.customers": 1_000_000,
...                                                         "market.engine": "arrays"}))
>>> 0.5e9 < memory < 3e9 and 30 < seconds < 1000
True
"""

from __future__ import annotations

from collections.abc import Sequence

from relsim.scenario.schema import Scenario
from relsim.util.resources import check_fits

#: Peak bytes per customer (base) and per customer-firm pair (dyad), by engine (measured, see above).
BYTES_PER_CUSTOMER = {"agents": 600.0, "arrays": 400.0}
BYTES_PER_DYAD = {"agents": 300.0, "arrays": 110.0}
#: Peak bytes per customer and contact while the network is built and held, by network kind.
BYTES_PER_CONTACT = {"small_world": 35.0, "scale_free": 200.0, "fully_mixed": 0.0}
#: Bytes per customer, firm and snapshot week of the per-customer snapshot tables.
BYTES_PER_SNAPSHOT_ROW = 120.0
#: Customer-steps per CPU second with 4 firms, without word of mouth, by engine (measured, rounded down).
CUSTOMER_STEPS_PER_SECOND = {"agents": 6_000.0, "arrays": 600_000.0}
#: Seconds per customer, contact and step (word of mouth along the network).
SECONDS_PER_CONTACT_STEP = 5e-8
#: Seconds per customer and contact to build the network, by network kind (scale-free: NetworkX).
NETWORK_SECONDS_PER_CONTACT = {"small_world": 3e-7, "scale_free": 6e-6, "fully_mixed": 0.0}


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
    # half of a customer-step's cost grows with the firms (4 in the measured scenario), half does not
    seconds = steps * (customers * (max(firms, 1) + 4) / 8 / CUSTOMER_STEPS_PER_SECOND[engine]
                       + contacts * SECONDS_PER_CONTACT_STEP)
    seconds += contacts * NETWORK_SECONDS_PER_CONTACT[network.kind]
    return memory, seconds


def check_runs(what: str, scenarios: Sequence[Scenario], runs_per_scenario: int = 1,
               workers: int = 1, yes: bool = False, runs_per_task: int = 1) -> None:
    """Refuse (``ResourceError``) or announce the runs of ``scenarios`` before any starts.

    ``workers`` tasks at a time each hold the memory of ``runs_per_task`` runs
    (a batch of replicates advanced together, :mod:`relsim.studies.batches`;
    1 = one run per task); the time is the total over all runs divided by the
    workers.
    """
    estimates = [estimate(scenario) for scenario in scenarios]
    if not estimates:
        return
    runs = len(estimates) * runs_per_scenario
    parallel = max(1, min(workers, runs))
    largest = sorted((memory for memory, _ in estimates), reverse=True)
    memory = sum(largest[:parallel]) if parallel <= len(largest) else largest[0] * parallel
    memory *= max(1, runs_per_task)
    seconds = sum(seconds for _, seconds in estimates) * runs_per_scenario / parallel
    check_fits(what, memory, seconds, yes=yes)
