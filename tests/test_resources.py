"""The memory and time estimates before work (issue 14): the estimate against a measured run,
and the memory check of a sweep on a Dask cluster (per worker: its memory limit and threads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relsim.cli import main
from relsim.market.resources import estimate
from relsim.scenario.schema import load_scenario
from relsim.studies.experiment import load_experiment
from relsim.studies.sweep import check_cluster_memory
from relsim.util.resources import ResourceError

ROOT = Path(__file__).resolve().parent.parent

#: The estimate of a run's peak memory is within this factor of the measured growth, either way.
FACTOR = 2.0

CHILD = r"""
import json, re, resource, sys
import relsim

def status(key):
    with open("/proc/self/status") as stream:
        return int(re.search(rf"^{key}:\s+(\d+) kB", stream.read(), re.M).group(1)) * 1024

engine, customers, weeks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def scenario(size):
    return relsim.load_scenario("ecommerce", **{"market.weeks": weeks, "market.engine": engine}).resized(size)
relsim.simulate(scenario(200), seed=1)      # imports and first allocations are not the run's
run = scenario(customers)
try:       # Linux: reset the peak to the memory in use now (VmHWM := VmRSS)
    with open("/proc/self/clear_refs", "w") as stream:
        stream.write("5")
    before = status("VmRSS")
except OSError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
relsim.simulate(run, seed=1)
try:
    peak = status("VmHWM")
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"growth": peak - before}))
"""


@pytest.mark.parametrize(("engine", "customers", "weeks"), [("arrays", 30_000, 2), ("agents", 3_000, 2)])
def test_memory_estimate_within_a_factor_of_the_measured_peak(engine, customers, weeks):
    """Peak resident memory of a run in a fresh process over the memory in use before it (as
    benchmarks/bench_estimate.py measures it) against :func:`relsim.market.resources.estimate`."""
    done = subprocess.run([sys.executable, "-c", CHILD, engine, str(customers), str(weeks)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=600)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])["growth"]
    scenario = load_scenario("ecommerce", **{"market.weeks": weeks, "market.engine": engine}).resized(customers)
    estimated, _ = estimate(scenario)
    assert measured > 0
    assert 1 / FACTOR <= estimated / measured <= FACTOR, (
        f"{engine}: estimate {estimated / customers:.0f} B per customer, measured {measured / customers:.0f} B")


def test_estimate_grows_with_network_weeks_and_engine():
    base = load_scenario("ecommerce", **{"market.engine": "arrays"}).resized(10_000)
    memory, seconds = estimate(base)
    denser = estimate(load_scenario("ecommerce", **{"market.engine": "arrays",
                                                    "market.network.mean_degree": 40}).resized(10_000))
    agents = estimate(load_scenario("ecommerce", **{"market.engine": "agents"}).resized(10_000))
    assert denser[0] > memory and denser[1] > seconds
    assert agents[1] > 10 * seconds


# ----------------------------------------------------------------------- Dask workers
@pytest.fixture(scope="module")
def plan():
    return load_experiment("strategies_by_scenario")


def test_cluster_worker_too_small_is_refused(plan):
    largest = max(estimate(s)[0] for s in plan.scenarios)
    workers = {"tcp://a:1": {"nthreads": 1, "memory_limit": int(10 * largest)},
               "tcp://b:1": {"nthreads": 4, "memory_limit": int(3 * largest)}}    # 4 runs need 4×
    with pytest.raises(ResourceError) as refused:
        check_cluster_memory(plan, workers)
    message = str(refused.value)
    assert "tcp://b:1" in message and "4 threads" in message and "memory limit" in message
    assert "--yes" in message
    check_cluster_memory(plan, workers, yes=True)                   # --yes: tried anyway
    check_cluster_memory(plan, {"tcp://b:1": {"nthreads": 2, "memory_limit": int(3 * largest)}}, batch=1)


def test_a_dask_thread_holding_a_batch_of_replicates_is_counted_so(plan):
    """A thread advances a batch of replicates together and holds all of them (automatic batch 8
    here: 180 runs over 2 threads): 2 threads need 16 runs' memory, not 2 (MEMORY_SHARE 0.8)."""
    largest = max(estimate(s)[0] for s in plan.scenarios)
    with pytest.raises(ResourceError, match="a batch of 8 runs on each"):
        check_cluster_memory(plan, {"tcp://b:1": {"nthreads": 2, "memory_limit": int(3 * largest)}})
    check_cluster_memory(plan, {"tcp://b:1": {"nthreads": 2, "memory_limit": int(16 / 0.8 * largest) + 16}})
    with pytest.raises(ResourceError, match="a batch of 8 runs on each"):
        check_cluster_memory(plan, {"tcp://b:1": {"nthreads": 2, "memory_limit": int(16 / 0.8 * largest) - 16}})


def test_cluster_without_limits_or_workers_is_not_refused(plan, capsys):
    check_cluster_memory(plan, {"tcp://a:1": {"nthreads": 64, "memory_limit": 0}})
    check_cluster_memory(plan, {})
    assert "no workers yet" in capsys.readouterr().err


def test_sweep_on_a_small_dask_cluster_exits_2_before_any_run(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    experiment = tmp_path / "big.toml"
    experiment.write_text('name = "big"\nscenario = "ecommerce"\nreplicates = 2\n'
                          '[overrides]\n"market.customers" = 200000\n"market.weeks" = 2\n'
                          '[[factors]]\npath = "strategy"\nlevels = ["transactional", "relationship"]\n')
    store = tmp_path / "store"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, memory_limit="100MB",
                                  dashboard_address=None) as cluster:
        code = main(["sweep", str(experiment), "--out", str(store), "--scheduler", cluster.scheduler_address])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "Dask worker" in err and "2 threads" in err and "memory limit" in err
    assert not store.exists()
