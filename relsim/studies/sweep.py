"""Run every (design point, replicate seed) of an experiment into a results store.

Each run is an independent task (:func:`run_task`, importable by any worker
process); on the array engine, replicates of one design point go to a worker
together (:func:`run_batch`, ``batch`` seeds advanced in one pass by
:mod:`relsim.studies.batches`, the same tables; a batch that raises is rerun
one run at a time, so only the failing run is recorded as failed). Tasks go to
a local process pool (default: all cores), run in this
process (``workers=1``), or go to an existing Dask distributed cluster
(``scheduler="tcp://host:8786"``). Workers only compute; this process writes
every file, atomically, as results arrive. A run's numbers depend only on its
scenario and seed, so the store is the same whatever the worker count,
the cluster or the completion order.

Re-running on an existing store skips finished runs (and, unless
``retry_failed``, failed ones): a sweep killed at any moment loses at most
the runs in flight (whole batches: a batch's runs are written when it ends).

>>> from relsim.studies.experiment import load_experiment
>>> from relsim.studies.sweep import sweep
>>> plan = load_experiment("strategies_by_scenario")   # a shipped name, or a TOML path
>>> outcome = sweep(plan, "results/s1")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.market.resources import estimate
from relsim.market.runner import RunResult, simulate
from relsim.scenario.schema import Scenario
from relsim.studies.batches import batch_size, batches, run_seeds
from relsim.studies.experiment import Plan, Run, with_replicates
from relsim.studies.pool import process_pool
from relsim.studies.store import Store, StoreError, code_version, environment
from relsim.util.progress import progress_bar

#: Per-run seconds are written to the manifest at most this often (and when the sweep ends):
#: a killed sweep loses the timings of at most this many seconds, never a run.
TIMINGS_EVERY = 30.0

#: A local pool is restarted at most this often after a worker process died
#: (killed, out of memory) before the runs in flight are recorded as failed.
POOL_RESTARTS = 3


@dataclass
class SweepOutcome:
    """What a sweep did.

    Attributes
    ----------
    total : int
        Runs in the design.
    skipped : int
        Runs already in the store (finished, or failed and not retried).
    done : int
        Runs finished by this call.
    failed : list of str
        Run ids that failed in this call.
    warning : str or None
        A note about the store (e.g. another code version started it).
    batch_errors : dict of str to str
        Runs (by id) whose batch of replicates raised although each of its runs succeeded alone,
        with the batch's error: the store is the same, but those runs ran one at a time.
    """

    total: int
    skipped: int = 0
    done: int = 0
    failed: list[str] = field(default_factory=list)
    warning: str | None = None
    batch_errors: dict[str, str] = field(default_factory=dict)


def _task(run: Run, tables: list[str], version: str) -> dict[str, Any]:
    return {"run_id": run.run_id, "point": run.point, "replicate": run.replicate, "seed": run.seed,
            "scenario": run.scenario, "scenario_hash": run.scenario_hash, "factors": run.factors,
            "tables": tables, "code_version": version}


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: simulate one run and return its tagged tables, or the error; never raises.

    Parameters
    ----------
    task : dict
        ``run_id``, ``point``, ``replicate``, ``seed``, ``scenario`` (a
        scenario as a JSON-able dict), ``scenario_hash``, ``factors`` (name →
        value), ``tables`` (which to keep), ``code_version``.

    Returns
    -------
    dict
        ``run_id`` and either ``tables`` (name → DataFrame) or ``error`` and
        ``traceback``; ``seconds`` either way.
    """
    started = time.perf_counter()
    try:
        scenario = Scenario.model_validate(task["scenario"])
        return _answer(task, scenario, simulate(scenario, seed=task["seed"]), time.perf_counter() - started)
    except Exception as error:  # a failing run is recorded, never stops the sweep
        return _failure(task, error, time.perf_counter() - started)


def run_batch(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worker: the runs of ``tasks`` (one design point, several replicate seeds) advanced together
    (:func:`relsim.studies.batches.run_seeds`); one answer per task as :func:`run_task`'s, in order;
    never raises.

    Each run's ``seconds`` is the batch's time split evenly over its runs. If the batch raises,
    its runs are run again one by one (:func:`run_task`), so only a run that fails alone is
    answered as failed, with its own traceback. If every run then succeeds alone, the batch
    failed for a reason of its own (a defect of the replicates' pass, not of a run): each answer
    carries the batch's error as ``batch_error`` and the sweep reports it
    (:attr:`SweepOutcome.batch_errors`).
    """
    if len(tasks) == 1:
        return [run_task(tasks[0])]
    started = time.perf_counter()
    try:
        scenario = Scenario.model_validate(tasks[0]["scenario"])
        if any(task["scenario_hash"] != tasks[0]["scenario_hash"] for task in tasks):
            raise ValueError("a batch holds replicates of one design point")
        results = run_seeds(scenario, [task["seed"] for task in tasks])
        share = (time.perf_counter() - started) / len(tasks)
        return [_answer(task, scenario, result, share) for task, result in zip(tasks, results, strict=True)]
    except Exception as error:  # isolate the failing run: each alone
        answers = [run_task(task) for task in tasks]
        if all("tables" in answer for answer in answers):   # no run fails alone: the batch itself failed
            for answer in answers:
                answer["batch_error"] = f"{type(error).__name__}: {error}"
        return answers


def _answer(task: dict[str, Any], scenario: Scenario, result: RunResult, seconds: float) -> dict[str, Any]:
    """The tagged tables of ``task``'s run ``result``."""
    keys = {"run_id": task["run_id"], "point": task["point"], "replicate": task["replicate"],
            "seed": task["seed"]}
    summary = result.summary()
    summary.insert(1, "focal", summary["firm"] == scenario.firms[0].name)
    for name, value in task["factors"].items():
        if name not in summary.columns:    # never shadow a summary column; design.parquet has all
            summary[name] = value if not isinstance(value, (list, dict)) else str(value)
    summary["scenario_hash"] = task["scenario_hash"]
    summary["code_version"] = task["code_version"]
    tables = {"summary": summary}
    if "steps" in task["tables"]:
        tables["steps"] = result.steps.copy()
    if "cohorts" in task["tables"]:
        tables["cohorts"] = result.cohorts.copy()
    for table in tables.values():
        for position, (column, value) in enumerate(keys.items()):
            table.insert(position, column, value)
    return {"run_id": task["run_id"], "tables": tables, "seconds": seconds}


def _failure(task: dict[str, Any], error: Exception, seconds: float) -> dict[str, Any]:
    return {"run_id": task["run_id"], "error": f"{type(error).__name__}: {error}",
            "traceback": traceback.format_exc(), "seconds": seconds}


def sweep(plan: Plan, store: str | Path, workers: int | None = None, scheduler: str | None = None,
          retry_failed: bool = False, progress: bool = False, wait: float = 0.0,
          extend_replicates: int | None = None, batch: int | None = None) -> SweepOutcome:
    """Run the runs of ``plan`` that ``store`` does not have yet.

    Parameters
    ----------
    plan : Plan
        From :func:`relsim.studies.experiment.load_experiment`.
    store : str or Path
        The results store folder (created if absent).
    workers : int, optional
        Local worker processes; default all cores; 1 runs in this process.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); relsim
        must be importable on its workers. Overrides ``workers``.
    retry_failed : bool
        Run again the runs that failed before.
    progress : bool
        Show a progress bar (runs done, failures, time left).
    wait : float
        Seconds to wait for another sweep's lock on the store before refusing.
    extend_replicates : int, optional
        Grow an existing store of this experiment to this many replicates per
        design point: the manifest takes the new runs, and only they run (the
        replicates already there keep their seeds and files). Idempotent: after
        an interruption, the same call, or a plain sweep, continues.
    batch : int, optional
        Replicate seeds of one design point per worker task, advanced together on the array
        engine (:mod:`relsim.studies.batches`); default automatic, 1 = one run per task. The
        store is the same whatever the batch; each run's ``seconds`` is its batch's compute
        time split evenly over the batch's runs.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    StoreError
        If ``store`` belongs to another experiment, or the scheduler is unreachable;
        with ``extend_replicates``, if there is no store to extend or it already
        holds more replicates.
    """
    # reach the cluster first: an unreachable scheduler must not leave a store behind
    client = _connect(scheduler) if scheduler else None
    try:
        results = Store(store)
        # one sweep at a time on a store: a second one refuses, naming this process
        with results.lock(f"experiment {plan.experiment.name!r}", wait=wait):
            try:
                plan = _plan_for_store(plan, results, extend_replicates)
                return _sweep(plan, results, client, workers, retry_failed, progress, batch)
            except OSError as error:   # a read-only store, a full disk: finished runs are kept
                where = f"{error.filename}: " if error.filename else f"{results.root}: "
                raise StoreError(f"{where}cannot write to the store ({error.strerror or error}); the runs "
                                 "finished before are kept, run the same command again to continue") from None
    finally:
        if client is not None:
            client.close()


def _plan_for_store(plan: Plan, results: Store, extend: int | None) -> Plan:
    """The plan the store holds for ``plan``'s experiment: ``plan``, or ``plan`` with the store's
    larger replicate count (a store extended before), or with ``extend`` replicates (the manifest
    is extended first, atomically). A store of another experiment is left to ``Store.prepare``."""
    if not os.path.lexists(results.manifest_path):
        if extend is not None:
            raise StoreError(f"{results.root}: no results store to extend (no manifest.json); sweep the "
                             "experiment into it first (relsim sweep EXPERIMENT --out STORE)")
        return plan
    try:
        manifest = results.manifest()
    except StoreError:
        if extend is not None:
            raise
        return plan                     # damaged: prepare rebuilds it or refuses
    held = manifest["replicates"]
    stored = plan
    if held != plan.experiment.replicates and 1 <= held <= 100_000:   # the range Experiment.replicates allows
        stored = with_replicates(plan, held)
    if stored.experiment_hash != manifest["experiment_hash"]:
        return plan                     # another experiment: prepare names the difference
    if extend is None:
        if plan.experiment.replicates > held:
            raise StoreError(f"{results.root}: this store holds experiment {plan.experiment.name!r} with {held} "
                             f"replicates per point, {plan.source} asks for {plan.experiment.replicates}; add "
                             f"--extend-replicates {plan.experiment.replicates} to run only the new replicates")
        return stored
    if extend < held:
        raise StoreError(f"{results.root}: the store already holds {held} replicates per point; "
                         f"--extend-replicates {extend} would drop some (give at least {held})")
    if extend == held:
        return stored
    longer = with_replicates(plan, extend)
    results.extend(manifest, longer, code_version())
    return longer


def _sweep(plan: Plan, results: Store, client, workers: int | None, retry_failed: bool,
           progress: bool, batch: int | None = None) -> SweepOutcome:
    _, warning = results.prepare(plan)
    finished = results.finished()
    failed_before = set(results.failed())
    pending = [run for run in plan.runs if run.run_id not in finished
               and (retry_failed or run.run_id not in failed_before)]
    outcome = SweepOutcome(total=len(plan.runs), skipped=len(plan.runs) - len(pending), warning=warning)
    if not pending:
        return outcome
    version = code_version()
    results.record_versions({run.run_id for run in pending}, version)
    tables = sorted(set(plan.experiment.outputs.tables) | {"summary"})
    by_id = {run.run_id: run for run in pending}
    tasks = [_task(run, tables, version) for run in pending]
    label = f"{plan.experiment.name}: {len(plan.points)} points × {plan.experiment.replicates} seeds"
    session = {"id": f"{os.getpid()}-{time.time_ns()}",
               "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "code_version": version,
               "environment": environment(), "scheduler": "dask" if client is not None else "local",
               "workers": None if client is not None else min(workers or os.cpu_count() or 1, len(tasks)),
               "runs_done": 0, "runs_failed": 0}
    timings: dict[str, float] = {}
    flushed = time.monotonic()

    def record() -> None:
        session["ended"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        session["runs_done"], session["runs_failed"] = outcome.done, len(outcome.failed)
        results.record_session(session, timings)
        timings.clear()

    parallel = _dask_threads(client) if client is not None else min(workers or os.cpu_count() or 1, len(tasks))
    # a cluster with no workers yet (adaptive, starting): one run per task, so workers joining later find work
    size = 1 if parallel == 0 and batch is None else _batch_size(plan, len(pending), max(1, parallel), batch)
    session["batch"] = max((len(part) for part in _batches(tasks, size)), default=1)
    with progress_bar(len(plan.runs), label, enabled=progress, completed=outcome.skipped) as advance, \
            _recording(record):
        stream: Iterator[dict[str, Any]]
        if client is not None:
            stream = _on_dask(tasks, client, size)
        elif parallel == 1:
            stream = (answer for part in _batches(tasks, size) for answer in run_batch(part))
        else:
            stream = _on_pool(tasks, parallel, size)
        for answer in stream:
            run = by_id[answer["run_id"]]
            if "tables" in answer:
                results.write_run(run.run_id, answer["tables"])
                outcome.done += 1
            else:
                results.write_failure(run.run_id, {
                    "run_id": run.run_id, "point": run.point, "replicate": run.replicate, "seed": run.seed,
                    "scenario_hash": run.scenario_hash, "factors": run.factors, "code_version": version,
                    "error": answer["error"], "traceback": answer["traceback"],
                    "seconds": answer.get("seconds")})
                outcome.failed.append(run.run_id)
            if "batch_error" in answer:
                outcome.batch_errors[run.run_id] = answer["batch_error"]
                session["batch_errors"] = len(outcome.batch_errors)
            if "seconds" in answer:
                timings[run.run_id] = round(float(answer["seconds"]), 4)
            if time.monotonic() - flushed > TIMINGS_EVERY:
                record()
                flushed = time.monotonic()
            advance(failed="error" in answer)
    return outcome


def _batch_size(plan: Plan, runs: int, parallel: int, requested: int | None) -> int:
    """Replicates of one design point per worker task for ``runs`` runs of ``plan``
    (:func:`relsim.studies.batches.batch_size`): 1 if any design point runs on the agent engine;
    bounded by the largest run's memory; never more than the plan's replicates. The checks made
    before a sweep call it with all the plan's runs (a size at least that of any resumed sweep)."""
    scenarios = plan.scenarios
    engine = "arrays" if all(s.market.engine == "arrays" for s in scenarios) else "agents"
    memory = max((estimate(scenario)[0] for scenario in scenarios), default=0.0)
    return batch_size(runs, parallel, engine, memory, requested, len(plan.seeds))


def _batches(tasks: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """``tasks`` grouped by design point (in order of first appearance), each group cut into
    batches of at most ``size`` replicates."""
    points: dict[int, list[dict[str, Any]]] = {}
    for task in tasks:
        points.setdefault(task["point"], []).append(task)
    return [part for group in points.values() for part in batches(group, size)]


def _dask_threads(client) -> int:
    """Threads of the Dask cluster's workers (0: none yet, or it cannot tell)."""
    try:
        return sum(int(n) for n in client.nthreads().values())
    except Exception:  # an older or odd client: as for a cluster without workers yet
        return 0


@contextlib.contextmanager
def _recording(record) -> Iterator[None]:
    """Call ``record`` when the block ends, however it ends (an interrupt, a full disk:
    the timings are a courtesy and never hide the error)."""
    try:
        yield
    finally:
        with contextlib.suppress(OSError, StoreError):
            record()


def _on_pool(tasks: list[dict], workers: int, size: int = 1) -> Iterator[dict]:
    """Run tasks on a local process pool, ``size`` replicates of a design point per worker task
    (:func:`run_batch`); yield each run's answer as its batch completes.

    A worker that dies (killed, out of memory) breaks the whole pool; the runs
    not yet answered are resubmitted to a new pool, from our own ledger, one run
    per task (so a run that kills its worker takes no batch-mate with it).
    """
    waiting = {task["run_id"]: task for task in tasks}
    for attempt in range(POOL_RESTARTS + 1):
        pool = process_pool(min(workers, len(waiting)))
        try:
            parts = _batches(list(waiting.values()), size if attempt == 0 else 1)
            futures = {pool.submit(run_batch, part): part for part in parts}
            for future in as_completed(futures):
                answers = future.result()
                for answer in answers:
                    del waiting[answer["run_id"]]
                yield from answers
            return
        except BrokenProcessPool:
            if attempt == POOL_RESTARTS:
                for run_id in list(waiting):
                    yield {"run_id": run_id, "error": "BrokenProcessPool: a worker process died",
                           "traceback": f"the local pool broke {POOL_RESTARTS + 1} times; "
                                        "the process running this run was killed (out of memory?)"}
                return
        finally:
            # on an interrupt, do not start queued runs; a killed sweep loses only those in flight
            pool.shutdown(wait=True, cancel_futures=True)


def _connect(address: str):
    """A Dask client connected to the scheduler at ``address`` (StoreError if it cannot be)."""
    try:
        from distributed import Client
    except ImportError:
        raise StoreError("--scheduler needs Dask distributed: pip install 'relsim[cluster]'") from None
    try:
        return Client(address, timeout="5s")
    except Exception as error:
        raise StoreError(f"cannot reach the Dask scheduler at {address!r} ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'no answer'})") from None


def _on_dask(tasks: list[dict], client, size: int = 1) -> Iterator[dict]:
    """Submit tasks through a connected Dask ``client``, ``size`` replicates of a design point per
    Dask task (:func:`run_batch`); yield each run's answer as its batch completes."""
    from distributed import as_completed as dask_completed
    # pure=False: every task runs even if two carried equal arguments
    futures = [client.submit(run_batch, part, pure=False, key=f"relsim-runs-{part[0]['run_id']}-{os.getpid()}")
               for part in _batches(tasks, size)]
    for future in dask_completed(futures):
        answers = future.result()
        future.release()
        yield from answers


def check_cluster(plan: Plan, scheduler: str, yes: bool = False, batch: int | None = None) -> None:
    """Refuse (:class:`relsim.util.resources.ResourceError`, exit 2) a sweep on the Dask
    scheduler at ``scheduler`` whose runs cannot fit in its workers' memory; announce a long one.

    Connects briefly (a :class:`StoreError` if it cannot) and reads each worker's
    memory limit and threads; see :func:`check_cluster_memory`.
    """
    client = _connect(scheduler)
    try:
        try:
            info = client.scheduler_info(n_workers=-1)
        except TypeError:   # older distributed: every worker is listed anyway
            info = client.scheduler_info()
    finally:
        client.close()
    check_cluster_memory(plan, info.get("workers") or {}, yes=yes, batch=batch)


def check_cluster_memory(plan: Plan, workers: dict[str, dict], yes: bool = False,
                         batch: int | None = None) -> None:
    """Refuse a sweep whose largest run, once per thread, exceeds a Dask worker's memory limit.

    A Dask worker runs one task per thread at a time, and pauses at 80 % of its
    ``memory_limit`` (``distributed.worker.memory.pause``) — the share
    :data:`relsim.util.resources.MEMORY_SHARE` that :func:`check_fits` allows.
    So the worker with the least memory per thread must hold ``nthreads`` of
    the plan's largest run (estimated by :func:`relsim.market.resources.estimate`
    before anything runs). Workers without a limit (``memory_limit`` 0) are
    not checked for memory; the time (all runs over all threads) is announced
    if long. ``workers`` maps addresses to the entries of
    ``Client.scheduler_info()["workers"]`` (``nthreads``, ``memory_limit``).
    A thread holds a batch of replicates at once (``batch``: ``--batch``, default
    automatic, :func:`relsim.studies.batches.batch_size`), so a run counts that many times.

    >>> from relsim.studies.experiment import load_experiment
    >>> plan = load_experiment("strategies_by_scenario")
    >>> check_cluster_memory(plan, {"tcp://10.0.0.2:40000": {"nthreads": 2, "memory_limit": 2 ** 20}})
    Traceback (most recent call last):
    ...
    relsim.util.resources.ResourceError: the sweep (... runs) on Dask worker tcp://10.0.0.2:40000 (2 threads, ...
    ...more than its memory limit (1.0 MiB); ...
    """
    import math
    import sys

    from relsim.market.resources import estimate
    from relsim.util.resources import check_fits, human_bytes

    estimates = [estimate(scenario) for scenario in plan.scenarios]
    if not estimates:
        return
    largest = max(memory for memory, _ in estimates)
    seconds = sum(seconds for _, seconds in estimates) * plan.experiment.replicates
    threads = {address: max(1, int(info.get("nthreads") or 1)) for address, info in workers.items()}
    limits = {address: int(info.get("memory_limit") or 0) for address, info in workers.items()}
    what = f"the sweep ({len(plan.runs)} runs)"
    parallel = max(1, sum(threads.values()))
    size = _batch_size(plan, len(plan.runs), parallel, batch) if workers or batch is not None else 1
    largest *= size   # a thread holds its batch at once; without workers yet, one run per task
    limited = [address for address in workers if limits[address] > 0]
    if limited:
        tightest = min(limited, key=lambda address: limits[address] / threads[address])
        count = threads[tightest]
        on_each = "a run" if size == 1 else f"a batch of {size} runs"
        check_fits(f"{what} on Dask worker {tightest} ({count} thread{'s' if count != 1 else ''}, {on_each} "
                   "on each)", largest * count, seconds / parallel, yes=yes, available=limits[tightest],
                   room="its memory limit", workers="workers with fewer threads or more memory")
        return
    if not workers:
        print(f"relsim: note: the Dask cluster has no workers yet; each run of {what} needs about "
              f"{human_bytes(largest)} of memory", file=sys.stderr, flush=True)
    check_fits(what, largest * parallel, seconds / parallel, yes=yes, available=math.inf)


def runs_frame(plan: Plan) -> pd.DataFrame:
    """The plan's runs as a table (run id, point, replicate, seed, scenario hash, factors)."""
    return pd.DataFrame([{"run_id": r.run_id, "point": r.point, "replicate": r.replicate, "seed": r.seed,
                          "scenario_hash": r.scenario_hash, **r.factors} for r in plan.runs])


def command_sweep(args) -> int:
    """The ``relsim sweep`` command (see :mod:`relsim.cli`): run, report, exit status.

    Returns 0 when every run is in the store, 1 when some failed (recorded
    under ``STORE/failures``); a bad experiment or store raises before any run.
    """
    import sys

    from relsim.studies.experiment import load_experiment

    plan = load_experiment(args.experiment, engine=getattr(args, "engine", None))
    extend = getattr(args, "extend_replicates", None)
    replicates = extend or plan.experiment.replicates
    if getattr(args, "scheduler", None) is None:
        from relsim.market.resources import check_runs
        runs, workers = len(plan.points) * replicates, args.workers or os.cpu_count() or 1
        check_runs(f"the sweep ({runs} runs)", plan.scenarios, replicates, workers, yes=getattr(args, "yes", False),
                   runs_per_task=_batch_size(plan, runs, min(workers, runs), getattr(args, "batch", None)))
    else:
        check_cluster(plan, args.scheduler, yes=getattr(args, "yes", False), batch=getattr(args, "batch", None))
    engines = ", ".join(sorted({s.market.engine for s in plan.scenarios}))
    print(f"{plan.experiment.name}: {len(plan.points)} design points × {replicates} "
          f"seeds = {len(plan.points) * replicates} runs{' (extending the store)' if extend else ''} "
          f"on the {engines} engine → {args.out}", flush=True)
    try:
        outcome = sweep(plan, args.out, workers=args.workers, scheduler=args.scheduler,
                        retry_failed=args.retry_failed, progress=True, wait=getattr(args, "wait", 0.0),
                        extend_replicates=extend, batch=getattr(args, "batch", None))
    except KeyboardInterrupt:
        print(f"relsim: interrupted; finished runs are kept in {args.out}; run the same command "
              "again to complete the sweep", file=sys.stderr)
        return 130
    if outcome.warning:
        print(f"relsim: note: {outcome.warning}", file=sys.stderr)
    if outcome.batch_errors:
        print(f"relsim: warning: {len(outcome.batch_errors)} runs ran one at a time because their batch of "
              f"replicates failed although each run succeeded alone (first error: "
              f"{next(iter(outcome.batch_errors.values()))}); the store is the same, only slower. "
              "--batch 1 skips batching; please report this error", file=sys.stderr)
    left = len(Store(args.out).failed())
    print(f"{outcome.done} runs done now, {outcome.skipped} already in the store, "
          f"{len(outcome.failed)} failed now; {left} failed in all")
    if left:
        print(f"relsim: {left} runs failed; tracebacks in {Path(args.out) / 'failures'}; "
              "rerun with --retry-failed", file=sys.stderr)
        return 1
    print(f"analyze with: relsim analyze {args.out}")
    return 0
