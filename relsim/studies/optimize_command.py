"""``relsim optimize``: the command that runs a search (:mod:`relsim.studies.optimize`), confirms its
winners on fresh seeds and writes the report (:mod:`relsim.studies.optimize_report`).

Layout of ``--out DIR``::

    DIR/study.db        the Optuna study (SQLite): resumed by the same command
    DIR/manifest.json   the search, the fresh seeds, the presets, package versions and the machine
    DIR/report/         report.md, report.html, figures, trials.csv, confirmation.csv, differences.csv;
                        with --robust also worlds.csv (the search's plausible worlds), fresh_worlds.csv
                        (the confirmation's, with the recommended policy's failures) and failure_regions.csv

A ``study.db`` that is not an Optuna study, or a ``manifest.json`` that is not relsim optimize's, is
refused before any work (:func:`check_study_folder`) and left as it is.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from relsim.scenario.schema import Scenario
from relsim.scenario.strategies import PRESETS
from relsim.studies.evaluate import check_policy
from relsim.studies.optimize import (
    FRESH_SEED_OFFSET,
    OptimizeError,
    Search,
    SimulationEvaluator,
    completed,
    confirm,
    open_study,
    parse_constraint,
    parse_levers,
    parse_objectives,
    pool,
    run_search,
)
from relsim.studies.optimize_report import recommendation, robust_lines, write_report
from relsim.studies.robust import Robustness, WorldsEvaluator, failure_boxes, failures, parse_statistic, sample_worlds


def parse_presets(text: str | None) -> list[str]:
    """``--presets``: comma-separated presets and/or ``current`` (default: current and every preset)."""
    if text is None:
        return ["current", *PRESETS]
    names = [name.strip() for name in text.split(",") if name.strip()]
    allowed = ["current", *PRESETS]
    for name in names:
        if name not in allowed:
            raise OptimizeError(f"--presets {name!r}: unknown preset; allowed: {', '.join(allowed)}")
    if not names:
        raise OptimizeError("--presets: give at least one preset, e.g. --presets current,relationship")
    return list(dict.fromkeys(names))


#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def check_study_folder(out: Path) -> None:
    """Refuse, before any work, a ``DIR`` whose ``study.db`` is not an Optuna study (a file that is not
    SQLite, another program's database, a folder or a link) or whose ``manifest.json`` is not relsim
    optimize's: relsim neither reads a stranger's file as its study, nor adds its tables to another
    database, nor overwrites a manifest it did not write."""
    import os
    import sqlite3
    import stat

    advice = "move it away or choose another --out (nothing was changed)"
    study = out / "study.db"
    info = os.lstat(study) if os.path.lexists(study) else None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            raise OptimizeError(f"{study}: not a regular file (a folder, link or device); relsim optimize keeps "
                                f"its Optuna study (SQLite) there: {advice}")
        with open(study, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER:
            raise OptimizeError(f"{study}: not a SQLite database, so not a study of relsim optimize; {advice}")
        try:
            with sqlite3.connect(f"{study.resolve().as_uri()}?mode=ro", uri=True) as database:
                tables = {row[0] for row in database.execute("select name from sqlite_master where type='table'")}
            database.close()
        except sqlite3.Error as error:
            raise OptimizeError(f"{study}: a damaged SQLite database ({error}); {advice}") from None
        if tables and "studies" not in tables:
            raise OptimizeError(f"{study}: a SQLite database without an Optuna study (tables: "
                                f"{', '.join(sorted(tables)[:5])}); relsim would add its own tables to it: {advice}")
    manifest = out / "manifest.json"
    if os.path.lexists(manifest):
        data = None
        if stat.S_ISREG(os.lstat(manifest).st_mode):
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
        if not (isinstance(data, dict) and "search" in data and "sampler" in data):
            raise OptimizeError(f"{manifest}: not the manifest of a relsim optimize search; relsim would "
                                f"overwrite it: {advice}")


def environment() -> dict[str, Any]:
    """Package versions and the machine, for the store's manifest."""
    import importlib.metadata
    import os
    import platform
    versions: dict[str, str | None] = {}
    for package in ("relsim", "optuna", "mesa", "numpy", "pandas", "simpy", "pydantic"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    from relsim.studies.store import code_version
    return {"code_version": code_version(), "python": platform.python_version(), "packages": versions,
            "machine": {"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
                        "processor": platform.processor(), "cpus": os.cpu_count(), "host": platform.node()}}


def command_optimize(args, scenario: Scenario) -> int:
    """``relsim optimize``: search, confirm on fresh seeds, report. Everything is checked before DIR is made."""
    from relsim.util.outputs import FolderLock, atomic_write_text, check_output_folder, staged_output
    space = parse_levers(args.levers)
    objectives = parse_objectives(args.objective)
    constraints = [parse_constraint(text) for text in args.constraint]
    presets = parse_presets(args.presets)
    base: dict[str, Any] = {"strategy": args.base_strategy} if args.base_strategy else {}
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    robust = worlds = fresh_worlds = None
    if getattr(args, "robust", None):
        statistic, value = parse_statistic(args.robust_stat)
        robust = Robustness(args.robust, statistic, **({"q": value} if statistic == "quantile" else {"k": value}),
                            seed=args.robust_seed)
        worlds = sample_worlds(scenario, args.robust, args.robust_seed)
        fresh_worlds = sample_worlds(scenario, args.confirm_seeds, FRESH_SEED_OFFSET + args.robust_seed)
        seeds = worlds.seeds                  # each world is run once, with its own seed
    search = Search(space, objectives, seeds, constraints, args.sampler, base, scenario, args.sampler_seed, robust)
    for lever in space.levers:     # both ends on the focal firm's starting strategy
        for value in (lever.choices or (lever.low, lever.high)):
            check_policy(search.policy({lever.name: int(value) if lever.integer else value}),
                         {**PRESETS[scenario.firms[0].strategy], **scenario.firms[0].levers})
    fresh = list(range(FRESH_SEED_OFFSET + args.first_seed, FRESH_SEED_OFFSET + args.first_seed
                       + args.confirm_seeds))
    out = Path(args.out)
    check_output_folder(out)
    check_study_folder(out)
    workers = max(1, args.workers or 1)
    from relsim.market.resources import check_runs
    check_runs("the search", [scenario], len(seeds), workers, yes=getattr(args, "yes", False))
    out.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out, "relsim optimize")
    lock.acquire()
    executor = pool(workers)
    try:
        storage = f"sqlite:///{(out / 'study.db').resolve()}"
        study = open_study(search, storage, workers)
        manifest = {"search": search.identity(), "sampler": search.sampler, "trials": args.trials,
                    "scenario": scenario.name, "fresh_seeds": [fresh[0], fresh[-1]], "presets": presets,
                    **environment()}
        atomic_write_text(json.dumps(manifest, indent=2, default=str), out / "manifest.json")
        evaluator = WorldsEvaluator(worlds, executor) if worlds is not None else \
            SimulationEvaluator(scenario, seeds, executor)
        started = time.monotonic()
        try:
            run_search(search, storage, args.trials, evaluator, workers, progress=True, study=study)
        except KeyboardInterrupt:
            print(f"relsim: interrupted; the finished trials are kept in {out / 'study.db'}: run the same "
                  "command to resume", file=sys.stderr)
            return 130
        search_seconds = time.monotonic() - started
        extra: list[tuple[str, str]] = []
        if fresh_worlds is not None and worlds is not None:
            confirmation = confirm(search, scenario, study, fresh_worlds.seeds, presets, top=args.top,
                                   executor=executor, progress=True,
                                   evaluator=WorldsEvaluator(fresh_worlds, executor))
            baseline = "current" if "current" in presets else presets[0]
            label = confirmation.recommended
            frame = failures(confirmation.outcomes, label, baseline, fresh_worlds, objectives[0], constraints) \
                if label is not None else None
            boxes = failure_boxes(frame, fresh_worlds) if frame is not None else []
            extra.append(("Robustness: plausible worlds, and where the policy fails",
                          "\n".join(f"- {line}" for line in robust_lines(
                              confirmation, worlds, fresh_worlds, frame if frame is not None else
                              fresh_worlds.table.assign(fails=False, worse_than_baseline=False,
                                                        breaks_constraint=False), boxes, baseline))))
        else:
            confirmation = confirm(search, scenario, study, fresh, presets, top=args.top, executor=executor,
                                   progress=True)
        with staged_output(out / "report") as staging:
            write_report(study, search, confirmation, scenario, staging, extra)
            if worlds is not None and fresh_worlds is not None:
                worlds.table.to_csv(staging / "worlds.csv", index=False)
                if frame is not None:
                    frame.to_csv(staging / "fresh_worlds.csv", index=False)
                pd.DataFrame([{"region": i, "where": b.describe(), "worlds": b.inside, "mass": b.mass,
                               "density": b.density, "coverage": b.coverage, "overall": b.base_density}
                              for i, b in enumerate(boxes, start=1)]).to_csv(staging / "failure_regions.csv",
                                                                            index=False)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
        lock.release()
    print("\n".join(line.replace("**", "").replace("*", "") for line in recommendation(confirmation, scenario)))
    print(f"\n{len(completed(study))} trials in {out / 'study.db'} ({search_seconds:.0f} s this time); "
          f"report: {out / 'report' / 'report.html'} (and report.md)")
    return 0
