"""The studies' process pools (``relsim.studies.pool``): workers forked warm."""

from __future__ import annotations

import ast
import subprocess
import sys


def _in_a_fresh_process(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new Python process (its own forkserver), output captured."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def _loaded_in_a_worker(*modules: str) -> dict[str, bool]:
    """Which of ``modules`` a worker of a new process's first pool holds before its first task."""
    code = ("from relsim.studies.pool import loaded, process_pool\n"
            "with process_pool(1) as pool:\n"
            f"    print([pool.submit(loaded, m).result() for m in {modules!r}])\n")
    out = _in_a_fresh_process(code)
    assert out.returncode == 0, out.stdout + out.stderr
    return dict(zip(modules, ast.literal_eval(out.stdout.strip().splitlines()[-1]), strict=True))


def test_a_pools_workers_start_with_relsim_and_the_kernels_loaded():
    """A worker of ``process_pool`` has the studies' run functions, Mesa and numba loaded before its first
    task, inherited from the forkserver (``_warm_worker``); fails if the preload is dropped. In a fresh
    process: a forkserver already running keeps the preload it started with."""
    loaded = _loaded_in_a_worker("relsim.studies.compare", "mesa", "numba", "relsim.market.kernels")
    assert loaded == {"relsim.studies.compare": True, "mesa": True, "numba": True, "relsim.market.kernels": True}


def test_a_pools_workers_do_not_load_what_only_the_parent_needs():
    """Runs need neither ``scipy.stats`` (the parent's intervals and sensitivity) nor matplotlib (its
    figures): the warm forkserver does not load them (``scipy.stats`` cost ≈ 0.5 s of its start,
    benchmarks/README.md, session 14). Fails if ``relsim.studies.compare`` imports SciPy's statistics
    at module level again (checked)."""
    loaded = _loaded_in_a_worker("relsim.studies.compare", "scipy.stats", "matplotlib")
    assert loaded == {"relsim.studies.compare": True, "scipy.stats": False, "matplotlib": False}


def test_a_server_started_early_is_the_one_the_pools_fork_from():
    """``start_server`` (called by ``relsim compare`` and ``relsim sweep`` before their own imports) starts
    the warm forkserver; a pool made afterwards forks its workers from that same server (a worker's parent
    is its pid), with relsim loaded. Fails if ``start_server`` starts a server without the preload, or if pools start
    their own. (The server's pid is read from multiprocessing's private ``_forkserver``.)"""
    code = ("import os\n"
            "from multiprocessing import forkserver\n"
            "from relsim.studies.pool import loaded, process_pool, start_server\n"
            "start_server()\n"
            "server = forkserver._forkserver._forkserver_pid\n"
            "start_server()\n"
            "with process_pool(1) as pool:\n"
            "    print(server is not None, forkserver._forkserver._forkserver_pid == server,\n"
            "          pool.submit(os.getppid).result() == server,\n"
            "          pool.submit(loaded, 'relsim.market.kernels').result())\n")
    out = _in_a_fresh_process(code)
    assert out.stdout.strip() == "True True True True", out.stdout + out.stderr


def test_ctrl_c_while_the_forkserver_warms_up_stops_it_without_a_traceback():
    """Ctrl-C in a terminal reaches the whole process group, the forkserver too while it imports
    ``_warm_worker`` (the first seconds of every ``relsim compare``): it must stop quietly, exit 130, and
    leave the message to the command ("interrupted; nothing was written"). The interrupt is raised where
    the warm-up spends its time (the tiny run), so the test does not depend on timing."""
    code = ("import relsim.market.runner as runner\n"
            "def interrupted(*args, **kwargs):\n"
            "    raise KeyboardInterrupt\n"
            "runner.simulate = interrupted\n"
            "import relsim.studies._warm_worker\n")
    out = _in_a_fresh_process(code)
    assert out.returncode == 130 and "Traceback" not in out.stderr, (out.returncode, out.stderr)


def test_a_pools_workers_start_with_the_servers_objects_frozen():
    """The warm server freezes what it holds after its warm-up (``freeze_process_baseline``), so a
    worker's collection at the start of each run skips imports and kernels; a worker inherits the
    frozen objects and the flag that keeps runs from unfreezing them. Fails if ``_warm_worker`` no
    longer freezes (the flag False, nothing frozen)."""
    code = ("import gc\n"
            "from relsim.studies.pool import process_pool\n"
            "with process_pool(1) as pool:\n"
            "    print(pool.submit(gc.get_freeze_count).result())\n")
    out = _in_a_fresh_process(code)
    assert int(out.stdout.strip() or 0) > 50_000, out.stdout + out.stderr   # ≈ 190,000 on 2026-11-30


def test_with_the_baseline_frozen_each_run_frees_what_the_run_before_left():
    """In a process whose baseline is frozen, a run's model (agents and model refer to each other, so
    only the cyclic collector frees them) is gone once the next run starts, and the frozen baseline
    stays frozen across runs (a run must not unfreeze it). Fails if the run's start no longer collects
    (the first model survives) or if the run freezes and unfreezes as in an unowned process (the
    freeze count falls to zero after the first run; it may fall a little otherwise, frozen objects
    still being freed when their last reference goes). Agent engine, 100 customers, 3 weeks."""
    code = ("import gc, weakref\n"
            "from relsim import load_scenario\n"
            "from relsim.market.model import MarketModel, freeze_process_baseline\n"
            "scenario = load_scenario('ecommerce', **{'market.weeks': 3, 'market.engine': 'agents'})"
            ".resized(100)\n"
            "freeze_process_baseline()\n"
            "frozen = gc.get_freeze_count()\n"
            "model = MarketModel(scenario, seed=0)\n"
            "model.run()\n"
            "first = weakref.ref(model)\n"
            "del model\n"
            "alive = first() is not None\n"
            "MarketModel(scenario, seed=1).run()\n"
            "print(alive, first() is None, gc.get_freeze_count() > 0.9 * frozen)\n")
    out = _in_a_fresh_process(code)
    assert out.stdout.strip() == "True True True", out.stdout + out.stderr


def _servers_started_by_relsim_sweep(workers: int | None, scheduler: str | None) -> list[bool]:
    """Calls of ``start_server`` made by ``relsim sweep`` (the CLI's ``command_sweep``, its experiment
    missing so that it stops after the start), each as whether ``relsim.studies.sweep`` was already
    imported then."""
    code = ("import argparse, sys\n"
            "import relsim.studies.pool as pool\n"
            "calls = []\n"
            "pool.start_server = lambda: calls.append('relsim.studies.sweep' in sys.modules)\n"
            "from relsim import cli\n"
            f"args = argparse.Namespace(experiment='missing.toml', workers={workers!r}, scheduler={scheduler!r})\n"
            "try:\n"
            "    cli.command_sweep(args)\n"
            "except Exception:\n"
            "    pass\n"
            "print(calls)\n")
    out = _in_a_fresh_process(code)
    assert out.returncode == 0, out.stdout + out.stderr
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_relsim_sweep_starts_the_warm_server_before_importing_the_sweep():
    """``relsim sweep`` on a local pool starts the warm forkserver before it imports the sweep, so the
    server's warm-up (≈ 1.8 s) and the command's imports (≈ 0.9 s) overlap on two cores (benchmarks/README.md,
    session 15); not for one worker (the runs stay in the process) nor for a Dask scheduler. Fails if the
    start is dropped ([] for 2 workers), made after the import ([True]), or made for 1 worker or a scheduler."""
    assert _servers_started_by_relsim_sweep(2, None) == [False]
    assert _servers_started_by_relsim_sweep(1, None) == []
    assert _servers_started_by_relsim_sweep(2, "tcp://localhost:8786") == []
