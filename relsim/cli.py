"""The ``relsim`` command line.

::

    relsim run SCENARIO [--seed N] [--out DIR] [--set PATH=VALUE ...]
    relsim compare SCENARIO --strategies transactional,relationship --seeds 20 [--out DIR] [--set PATH=VALUE ...]
                   [--uncertainty N] [--attribution oat|shapley [--attribution-seeds K]]
    relsim optimize SCENARIO --levers price=0.8:1.4 ... [--objective profit[,retention]]
                    [--constraint retention>=0.6] --trials N --seeds S [--workers W] [--robust WORLDS] --out DIR
    relsim sweep EXPERIMENT --out STORE [--workers N | --scheduler ADDRESS] [--retry-failed]
                 [--extend-replicates N]   # grow an existing store to N seeds per point
    relsim analyze STORE [--out DIR]
    relsim export STORE --out FILE [--format csv|parquet|json|xlsx] [--table summary|steps|cohorts|runs]
    relsim calibrate LOG.csv --calibration-end DATE --margin M --out scenario.toml [--holdout-end DATE]
    relsim validate [--quick] [--out DIR] [--workers N]   # the validation suite and its report
    relsim scenarios        # shipped scenarios
    relsim experiments      # shipped experiments (relsim sweep NAME --out STORE)
    relsim strategies       # strategy presets and their levers
    relsim app [SCENARIO] [--port 8765] [--set PATH=VALUE ...]   # the browser app on 127.0.0.1

A user mistake (bad scenario, bad flag) prints one clear message and exits
with status 2, without a traceback and without writing anything: outputs are
staged in a temporary folder and moved into place only when complete. What may
be replaced or deleted, and how, is decided in :mod:`relsim.util.outputs`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from relsim.scenario.schema import MarketSpec, ScenarioError, load_scenario
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.util.errors import RelsimError
from relsim.util.outputs import (  # noqa: F401  (OutputError, staged_output: importable from here too)
    OUTPUT_LIST,
    OutputError,
    check_no_links,
    check_output_file,
    check_output_folder,
    check_replaceable,
    slug,
    staged_output,
)
from relsim.util.progress import progress_bar
from relsim.util.shipped import shipped_folder, shipped_names, shipped_path
from relsim.util.version import __version__

if TYPE_CHECKING:
    import pandas as pd

USAGE_ERROR = 2
#: ``market.engine``'s values (relsim.market.interfaces.ENGINES), read from the scenario's schema: importing
#: relsim.market here would load pandas before ``relsim app`` starts its server, which does not need it
ENGINES = get_args(MarketSpec.model_fields["engine"].annotation)
#: The checks of ``relsim validate`` (relsim.validation.checks.CHECKS, named here so that
#: the parser does not import the model).
VALIDATION_CHECKS = ("bass", "ltv", "sbg", "bgnbd", "docking", "corners")


def _whole_number(minimum: int, maximum: int | None = None):
    """An argparse type: a whole number of at least ``minimum`` (and at most ``maximum``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {value:,}")
        return value
    return parse


#: Most seeds a flag may ask for (--seeds, --confirm-seeds, --attribution-seeds): their list is built
#: before any run, so a billion would exhaust the memory before the memory check could speak.
MAX_SEEDS = 10_000
_positive_int = _whole_number(1)
_seed = _whole_number(0)
_seeds = _whole_number(1, MAX_SEEDS)
#: Most replicates a design point may have (``Experiment.replicates``' bound, kept equal by a test;
#: the parser does not import the studies).
MAX_REPLICATES = 100_000


def _uncertainty_sets(text: str) -> int:
    """``--uncertainty N``: 0 (off) or 2 to 10,000 parameter sets."""
    value = _whole_number(0)(text)
    if value == 1 or value > 10_000:
        raise argparse.ArgumentTypeError(f"give 0 (off) or 2 to 10000 parameter sets, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1024 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1024 and 65535, got {value}")
    return value


def _strategies(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    allowed = ["current", *PRESETS]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {unknown[0]!r}; allowed: {', '.join(allowed)}")
    if not names:
        raise argparse.ArgumentTypeError("give at least one strategy")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a strategy is listed twice in {text!r}")
    return names


def _date(text: str) -> str:
    import pandas as pd  # not at the top: ``relsim app`` starts its server without pandas

    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"expected a date such as 1997-09-30, got {text!r}") from None
    return text


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {value:g}")
    return value


def _scheduler(text: str) -> str:
    """A Dask scheduler address: ``tcp://host:port`` (or ``tls://``, ``ucx://``, ``ws://``, ``wss://``,
    ``inproc://``), or ``host:port``."""
    from urllib.parse import urlsplit
    example = "e.g. tcp://host:8786"
    address = text.strip()
    if not address:
        raise argparse.ArgumentTypeError(f"give the address of a Dask scheduler, {example}")
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls", "ucx", "ws", "wss", "inproc"):
        raise argparse.ArgumentTypeError(f"{text!r}: unknown protocol {parts.scheme!r}; {example}")
    try:
        port = parts.port
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: the port is not a number from 0 to 65535; {example}") from None
    if parts.scheme != "inproc" and (not parts.hostname or port is None or parts.path not in ("", "/")
                                     or parts.query or parts.fragment):
        raise argparse.ArgumentTypeError(f"{text!r}: not a scheduler address (host and port); {example}")
    return address


def _date_format(text: str) -> str:
    """A strftime format that can both write and read back a date (``%Y%m%d``, ``%d/%m/%Y``, ...)."""
    import datetime as dt
    sample = dt.datetime(2001, 2, 3, 4, 5, 6)
    try:
        dt.datetime.strptime(sample.strftime(text), text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable date format ({error}); "
                                         "e.g. %Y-%m-%d or %Y%m%d") from None
    if "%" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} has no % directive; e.g. %Y-%m-%d or %Y%m%d")
    return text


def _assignment(text: str) -> tuple[str, object]:
    """``--set dotted.path=value``: a TOML literal (never evaluated as code)."""
    from relsim.scenario.overrides import parse_assignment
    try:
        return parse_assignment(text)
    except ScenarioError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--set ")) from None


def _add_set(command: argparse.ArgumentParser) -> None:
    command.add_argument("--set", dest="assignments", type=_assignment, action="append", default=[],
                         metavar="PATH=VALUE", help="change one scenario field, e.g. --set market.weeks=52 "
                         "--set firms.0.levers.price=1.1 (repeatable; the value is a TOML literal)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="relsim", description="Agent-based simulation of transactional and relationship marketing.")
    parser.add_argument("--version", action="version", version=f"relsim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run one scenario and write its tables and figures")
    run.add_argument("scenario", help="scenario TOML file, or the name of a shipped scenario")
    run.add_argument("--seed", type=_seed, default=0, help="root random seed (default 0)")
    run.add_argument("--out", type=Path, default=None, help="output folder (default out/<scenario>-seed<N>)")
    run.add_argument("--weeks", type=_positive_int, help="override market.weeks")
    run.add_argument("--customers", type=_positive_int, help="override market.customers")
    run.add_argument("--engine", choices=ENGINES, default=None,
                     help="override market.engine: agents (readable) or arrays (fast, large markets)")

    compare = commands.add_parser("compare", help="compare strategies of the focal firm, write a report")
    compare.add_argument("scenario", help="scenario TOML file, or the name of a shipped scenario")
    compare.add_argument("--strategies", type=_strategies, default=["transactional", "relationship"],
                         help="comma-separated presets, or 'current' (default transactional,relationship)")
    compare.add_argument("--seeds", type=_seeds, default=20, help="seeds per strategy (default 20, at most 10,000)")
    compare.add_argument("--first-seed", type=_seed, default=0, help="first seed (default 0)")
    compare.add_argument("--out", type=Path, default=None, help="report folder (default reports/<scenario>)")
    compare.add_argument("--workers", type=_positive_int, default=None, help="processes (default: all cores)")
    compare.add_argument("--weeks", type=_positive_int, help="override market.weeks")
    compare.add_argument("--customers", type=_positive_int, help="override market.customers")
    compare.add_argument("--engine", choices=ENGINES, default=None,
                         help="override market.engine: agents (readable) or arrays (fast, large markets)")
    compare.add_argument("--batch", type=_whole_number(1, MAX_SEEDS), default=None, metavar="N",
                         help="seeds of one strategy each worker runs together on the array engine (the same "
                         "tables; default automatic, up to 8, fewer in large markets; 1 = one run at a time)")
    compare.add_argument("--uncertainty", type=_uncertainty_sets, default=10, metavar="N",
                         help="parameter sets drawn by Latin hypercube over the constants' plausible ranges "
                         "(docs/evidence.md), each run once per strategy: N × strategies more runs "
                         "(default 10; 0 = off)")
    compare.add_argument("--attribution", choices=["oat", "shapley"], default=None,
                         help="split each strategy's difference from the first into the lever groups that "
                         "differ: oat (groups + 2 runs per seed) or shapley (up to 2^groups runs per seed); "
                         "off by default")
    compare.add_argument("--attribution-seeds", type=_seeds, default=None, metavar="K",
                         help="seeds of the attribution, the comparison's first K (default 5, or --seeds "
                         "if fewer)")

    optimize = commands.add_parser(
        "optimize", help="search the focal firm's levers for the best policy (Optuna), resumable; confirm the "
        "winners on fresh seeds against the presets; write a report")
    optimize.add_argument("scenario", help="scenario TOML file, or the name of a shipped scenario")
    optimize.add_argument("--levers", nargs="+", action="extend", required=True, metavar="LEVER",
                          help="levers and their ranges: price=0.8:1.4 reward_rate=0:0.1 "
                          "acquisition_budget=0.2:5:log level=1:5:int supplier_contract=long,spot, "
                          "or a TOML file with a [levers] table")
    optimize.add_argument("--objective", action="append", default=None, metavar="OUTCOME",
                          help="outcome to maximise: profit (default), retention, share, ...; two "
                          "(profit,retention) give a Pareto front")
    optimize.add_argument("--constraint", action="append", default=[], metavar="OUTCOME>=X",
                          help="e.g. retention>=0.6 or share<=0.3, on the mean over seeds (repeatable)")
    optimize.add_argument("--trials", type=_positive_int, default=50, help="trials in the study (default 50)")
    optimize.add_argument("--seeds", type=_seeds, default=5,
                          help="seeds per trial, the same for every trial (default 5)")
    optimize.add_argument("--first-seed", type=_seed, default=0, help="first seed (default 0)")
    optimize.add_argument("--confirm-seeds", type=_whole_number(2, MAX_SEEDS), default=10,
                          help="fresh seeds the winners and presets are re-evaluated on (default 10)")
    optimize.add_argument("--top", type=_positive_int, default=3, help="best policies confirmed (default 3)")
    optimize.add_argument("--presets", default=None, help="presets to compare with, comma-separated "
                          "(default: current and every preset)")
    optimize.add_argument("--base-strategy", choices=list(PRESETS), default=None,
                          help="preset the levers modify (default: the focal firm's strategy in the scenario)")
    optimize.add_argument("--sampler", choices=["tpe", "cmaes", "nsga2", "random"], default="tpe",
                          help="Optuna sampler (default tpe; cmaes: one objective, no constraints)")
    optimize.add_argument("--sampler-seed", type=_seed, default=0, help="seed of the sampler (default 0)")
    optimize.add_argument("--robust", type=_whole_number(2), default=None, metavar="WORLDS",
                          help="judge each policy over WORLDS plausible worlds (behavioural constants drawn by Latin "
                          "hypercube over their plausible ranges, one run each) by --robust-stat; confirm in "
                          "--confirm-seeds fresh worlds and report where the policy fails")
    optimize.add_argument("--robust-stat", default="quantile:0.1", metavar="STAT",
                          help="with --robust: quantile:Q (default quantile:0.1, the outcome reached in 90 %% of "
                          "worlds) or mean-sd:K (mean minus K standard deviations)")
    optimize.add_argument("--robust-seed", type=_seed, default=0, help="with --robust: seed of the worlds (default 0)")
    optimize.add_argument("--workers", type=_positive_int, default=1, help="processes (default 1)")
    optimize.add_argument("--out", type=Path, required=True,
                          help="folder of the study (DIR/study.db, resumed if it exists) and its report")
    optimize.add_argument("--weeks", type=_positive_int, help="override market.weeks")
    optimize.add_argument("--customers", type=_positive_int, help="override market.customers")
    optimize.add_argument("--engine", choices=ENGINES, default=None,
                          help="override market.engine: agents (readable) or arrays (fast, large markets)")

    sweep = commands.add_parser("sweep", help="run an experiment (design × seeds) into a resumable store")
    sweep.add_argument("experiment", help="experiment TOML file, or the name of a shipped experiment "
                       "(relsim experiments lists them)")
    sweep.add_argument("--out", type=Path, required=True, help="results store folder (resumed if it exists)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None, help="local processes (default: all cores)")
    where.add_argument("--scheduler", type=_scheduler, default=None, help="address of a Dask scheduler, e.g. tcp://host:8786")
    sweep.add_argument("--engine", choices=ENGINES, default=None,
                       help="run every design point on this engine (market.engine added to the experiment's "
                            "overrides; default: the experiment's own, arrays unless it says otherwise)")
    sweep.add_argument("--batch", type=_whole_number(1, MAX_SEEDS), default=None, metavar="N",
                       help="replicate seeds of one design point each worker runs together on the array engine "
                            "(the same store; default automatic, up to 8, fewer in large markets; 1 = one run "
                            "per task)")
    sweep.add_argument("--retry-failed", action="store_true", help="run again the runs that failed before")
    sweep.add_argument("--wait", type=_whole_number(0), default=0, metavar="SECONDS",
                       help="wait up to SECONDS for another sweep's lock on the store (default 0: refuse)")
    sweep.add_argument("--extend-replicates", type=_whole_number(1, MAX_REPLICATES), default=None, metavar="N",
                       help="grow an existing store of this experiment to N replicate seeds per design point; "
                            "only the new runs run (rerun the same command to continue after an interruption)")

    analyze = commands.add_parser("analyze", help="tables, sensitivity indices and a report from a store")
    analyze.add_argument("store", type=Path, help="results store folder written by relsim sweep")
    analyze.add_argument("--out", type=Path, default=None, help="report folder (default STORE/analysis)")

    export = commands.add_parser("export", help="a results store as one tidy table (CSV, Parquet, JSON, Excel)")
    export.add_argument("store", type=Path, help="results store folder written by relsim sweep")
    export.add_argument("--out", type=Path, required=True, help="file to write (its suffix gives the format "
                        "unless --format is given)")
    export.add_argument("--format", choices=("csv", "parquet", "json", "xlsx"), default=None,
                        help="file format (xlsx needs openpyxl)")
    export.add_argument("--table", choices=("summary", "steps", "cohorts", "runs"), default="summary",
                        help="summary (per run and firm, default), steps (per week, if kept), cohorts, "
                             "or runs (seed, status, compute seconds); design factors are joined")
    export.add_argument("--focal-only", action="store_true", help="only the focal firm's rows")

    app = commands.add_parser("app", help="start the browser app on 127.0.0.1 and print its address")
    app.add_argument("scenario", nargs="?", default="ecommerce",
                     help="scenario TOML file, or the name of a shipped scenario (default ecommerce)")
    app.add_argument("--port", type=_port, default=8765, help="port on 127.0.0.1 (default 8765)")
    _add_set(app)
    calibrate = commands.add_parser("calibrate", help="calibrate a scenario from a transaction log "
                                    "(BG/NBD + Gamma-Gamma), with an optional hold-out check")
    calibrate.add_argument("log", type=Path, help="transaction log: CSV (or .parquet), one row per purchase")
    calibrate.add_argument("--calibration-end", required=True, type=_date, help="last day fitted (YYYY-MM-DD)")
    calibrate.add_argument("--out", required=True, type=Path, help="scenario file to write, e.g. calibrated.toml")
    calibrate.add_argument("--margin", required=True, type=_share, help="the firm's gross margin, in (0, 1)")
    calibrate.add_argument("--strategy", default="reactive", choices=list(PRESETS),
                           help="the firm's current strategy (default reactive)")
    calibrate.add_argument("--holdout-end", type=_date, help="last day of the hold-out check (YYYY-MM-DD)")
    calibrate.add_argument("--per-customer", action="store_true",
                           help="start from the log's customers (posterior draws) instead of the fitted distributions")
    calibrate.add_argument("--customer-column", default="customer", help="column of customer ids (default customer)")
    calibrate.add_argument("--date-column", default="date", help="column of dates (default date)")
    calibrate.add_argument("--amount-column", default="amount", help="column of amounts (default amount)")
    calibrate.add_argument("--date-format", type=_date_format, default=None,
                           help="strftime format, e.g. %%Y%%m%%d (default ISO 8601)")
    calibrate.add_argument("--zero-amounts", choices=["error", "keep"], default="error",
                           help="zero amounts: an error (default) or kept as purchases")
    calibrate.add_argument("--duplicates", choices=["error", "keep", "drop"], default="error",
                           help="rows repeating another exactly: error (default), keep or drop")
    calibrate.add_argument("--weeks", type=_positive_int, default=52, help="horizon of the scenario (default 52)")
    calibrate.add_argument("--seeds", type=_seeds, default=10, help="hold-out runs (default 10)")
    calibrate.add_argument("--seed", type=_seed, default=0, help="seed of the per-customer draws (default 0)")

    for command in (run, compare, optimize):
        _add_set(command)
    for command in (run, compare, optimize, sweep, calibrate):
        command.add_argument("--yes", action="store_true",
                             help="run even if the memory estimate exceeds the memory available")
    store = commands.add_parser("store", help="check a results store (relsim store check STORE [--repair])")
    store.add_argument("action", choices=["check"], help="check: list the store's problems")
    store.add_argument("store", type=Path, help="results store folder written by relsim sweep")
    store.add_argument("--repair", action="store_true",
                       help="move damaged or foreign run files to STORE/quarantine and remove temporaries")
    validate = commands.add_parser("validate", help="run the validation suite (analytic limits, docking, "
                                   "corner cases) and write its report")
    validate.add_argument("--quick", action="store_true", help="small sizes: under two minutes on two cores")
    validate.add_argument("--out", type=Path, default=Path("validation"),
                          help="report folder (default validation/)")
    validate.add_argument("--workers", type=_positive_int, default=None,
                          help="processes (default: all cores, at most 2 with --quick)")
    validate.add_argument("--only", type=_checks, default=None,
                          help="comma-separated checks to run (default all): " + ", ".join(VALIDATION_CHECKS))

    commands.add_parser("scenarios", help="list the shipped scenarios")
    commands.add_parser("experiments", help="list the shipped experiments (for relsim sweep NAME)")
    commands.add_parser("strategies", help="list the strategy presets and their levers")
    return parser


def _load(args: argparse.Namespace):
    """The scenario of ``run``/``compare`` with ``--set``, ``--weeks``, ``--engine`` and ``--customers``
    applied (the named flags win over a ``--set`` of the same field).

    ``--customers`` resizes the market with its money scale (Scenario.resized),
    so a small trial run spends per customer what the full scenario does.
    """
    overrides: dict = {}
    for path, value in getattr(args, "assignments", None) or []:
        if path in overrides:
            raise ScenarioError(f"--set {path}: given twice")
        overrides[path] = value
    if getattr(args, "weeks", None):
        overrides["market.weeks"] = args.weeks
    if getattr(args, "engine", None):
        overrides["market.engine"] = args.engine
    scenario = load_scenario(args.scenario, **overrides)
    if getattr(args, "customers", None):
        scenario = scenario.resized(args.customers)
    return scenario


def _check_resources(what: str, scenarios: list, runs_per_scenario: int, workers: int,
                     args: argparse.Namespace, runs_per_task: int = 1) -> None:
    """Refuse what cannot fit in memory (unless --yes), announce what will take long;
    ``runs_per_task``: runs a worker holds at once (a batch of replicates)."""
    from relsim.market.resources import check_runs
    check_runs(what, scenarios, runs_per_scenario, workers, yes=getattr(args, "yes", False),
               runs_per_task=runs_per_task)


def _steps(scenario) -> int:
    return int(-(-scenario.market.weeks // scenario.market.step_weeks))


def command_run(args: argparse.Namespace) -> int:
    """``relsim run``: one run, tables (Parquet + CSV) and figures."""
    from relsim.market.runner import simulate
    from relsim.studies.report import run_figures

    scenario = _load(args)
    out = args.out or Path("out") / f"{slug(scenario.name)}-seed{args.seed}"
    if args.out is None:
        check_no_links(Path("out"), out)
    check_output_folder(out)
    _check_resources(f"the run of {scenario.name!r}", [scenario], 1, 1, args)
    with progress_bar(_steps(scenario), f"{scenario.name} seed {args.seed}", unit="steps") as advance:
        result = simulate(scenario, seed=args.seed, progress=advance)
    with staged_output(out) as staging:
        result.save(staging)
        run_figures(result.steps, staging)
        result.summary().to_csv(staging / "summary.csv", index=False)
    print(result.summary().set_index("firm")[["strategy", "customers_end", "annual_retention",
                                              "cumulative_discounted_profit"]].to_string())
    print(f"\nwrote tables and figures to {out}/")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    """``relsim compare``: strategies over common seeds, then a report."""
    scenario = _load(args)
    out = args.out or Path("reports") / slug(scenario.name)
    if args.out is None:
        check_no_links(Path("reports"), out)
    check_output_folder(out)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    workers = args.workers or os.cpu_count() or 1
    from relsim.market.resources import estimate
    from relsim.studies.batches import batch_size
    runs = len(args.strategies) * args.seeds   # the batch compare will use (studies.compare), its runs held at once
    per_task = batch_size(runs, min(workers, runs), scenario.market.engine, estimate(scenario)[0], args.batch,
                          args.seeds)
    _check_resources(f"the comparison ({len(args.strategies)} strategies × {args.seeds} seeds)",
                     [scenario.with_focal_strategy(s) for s in args.strategies], args.seeds, workers, args,
                     runs_per_task=per_task)
    uncertainty_sets, attribution_method = args.uncertainty, args.attribution
    if (uncertainty_sets or attribution_method) and len(args.strategies) < 2:
        flag = "--uncertainty" if uncertainty_sets else "--attribution"
        raise ScenarioError(f"{flag} needs two strategies or more (--strategies baseline,other); "
                            f"got only {args.strategies[0]!r} (--uncertainty 0 turns it off)")
    if attribution_method:
        if args.attribution_seeds is None:
            args.attribution_seeds = min(5, args.seeds)
        elif args.attribution_seeds > args.seeds:
            raise ScenarioError(f"--attribution-seeds {args.attribution_seeds}: the attribution runs on the "
                                f"comparison's first K seeds, so K may be at most --seeds ({args.seeds})")
        from relsim.studies.attribution import runs_needed
        for strategy in args.strategies[1:]:
            per_seed = runs_needed(scenario, args.strategies[0], strategy, attribution_method)
            if not per_seed:
                raise ScenarioError(f"--attribution: {strategy!r} and {args.strategies[0]!r} have the same "
                                    "levers; nothing to attribute")
            print(f"attribution of {strategy} − {args.strategies[0]} ({attribution_method}): {per_seed} runs per "
                  f"seed × {args.attribution_seeds} seeds = {per_seed * args.attribution_seeds} runs",
                  file=sys.stderr)
    if workers > 1:   # the workers' server loads relsim while this process imports the studies
        from relsim.studies.pool import start_server
        start_server()
    from relsim.studies.compare import compare
    from relsim.studies.report import write_figures, write_report
    comparison = compare(scenario, args.strategies, seeds, workers=args.workers, progress=True, batch=args.batch)
    uncertainty = attribution = None
    with staged_output(out) as staging:   # nothing moves into OUT unless every step below succeeds
        figures: dict[str, Path] = {}
        if uncertainty_sets:
            from relsim.studies.uncertainty import parameter_uncertainty

            def draw_figures() -> None:   # while the workers run the uncertainty sets (a core is free then)
                figures.update(write_figures(comparison, staging))

            uncertainty = parameter_uncertainty(scenario, args.strategies, uncertainty_sets, seed=args.first_seed,
                                                workers=workers, progress=True, meanwhile=draw_figures)
        if attribution_method:
            from relsim.studies.attribution import attribute
            attribution_seeds = list(range(args.first_seed, args.first_seed + args.attribution_seeds))
            attribution = [attribute(scenario, args.strategies[0], strategy, attribution_seeds,
                                     attribution_method, workers=workers, progress=True, batch=args.batch)
                           for strategy in args.strategies[1:]]
        write_report(comparison, staging, uncertainty=uncertainty, attribution=attribution,
                     figures=figures or None)
        comparison.steps.to_parquet(staging / "steps.parquet", index=False)
        comparison.cohorts.to_parquet(staging / "cohorts.parquet", index=False)
    from relsim.studies.report import narrative
    print("\n".join(line.replace("**", "").replace("*", "") for line in narrative(comparison)))
    if uncertainty is not None:
        for row in uncertainty.wins().itertuples(index=False):
            print(f"Over {row.sets} plausible parameter sets, {row.strategy} wins on "
                  f"{'profit' if row.metric == 'cumulative_discounted_profit' else 'retention'} in {row.wins} "
                  f"(95 % interval {100 * row.ci_low:.0f}–{100 * row.ci_high:.0f} % of sets).")
    print(f"\nreport: {out / 'report.html'} (and report.md)")
    return 0


def command_optimize(args: argparse.Namespace) -> int:
    """``relsim optimize``: a resumable Optuna search over the focal firm's levers, then a report."""
    import importlib.util
    if importlib.util.find_spec("optuna") is None:
        print("relsim: error: relsim optimize needs Optuna: pip install 'relsim[optimize]' (or optuna)",
              file=sys.stderr)
        return USAGE_ERROR
    from relsim.studies.optimize_command import command_optimize as run_optimize
    args.objective = args.objective or ["profit"]
    return run_optimize(args, _load(args))


def command_sweep(args: argparse.Namespace) -> int:
    """``relsim sweep``: every (design point, seed) of an experiment into a store."""
    if args.scheduler is None and (args.workers or os.cpu_count() or 1) > 1:
        # the workers' server loads relsim (≈ 1.8 s) while this process imports the sweep (≈ 0.9 s)
        from relsim.studies.pool import start_server
        start_server()
    from relsim.studies.sweep import command_sweep as run_sweep
    return run_sweep(args)


def command_analyze(args: argparse.Namespace) -> int:
    """``relsim analyze``: means with intervals, sensitivity indices, figures, report."""
    from relsim.studies.analysis import command_analyze as run_analyze
    return run_analyze(args)


def command_export(args: argparse.Namespace) -> int:
    """``relsim export``: one tidy table of a store in a common format."""
    from relsim.studies.export import command_export as run_export
    return run_export(args)


def command_store(args: argparse.Namespace) -> int:
    """``relsim store check STORE [--repair]``: list (and repair) a store's problems."""
    from relsim.studies.store import command_store as check_store
    return check_store(args)


def command_app(args: argparse.Namespace) -> int:
    """``relsim app``: serve the browser app on 127.0.0.1 until interrupted."""
    import importlib.util
    import json

    # a bad scenario or --set fails here, with exit 2, before a server starts (the same checks as relsim run)
    _load(args)
    if importlib.util.find_spec("solara") is None:
        print("relsim: error: the browser app needs the 'app' extra: pip install -e '.[app]'",
              file=sys.stderr)
        return USAGE_ERROR
    from relsim.util.serve import check_port
    check_port(args.port)          # another server there: exit 2 now, not uvicorn's error after the start
    url = f"http://127.0.0.1:{args.port}/"
    shipped = shipped_path("scenario", args.scenario) is not None and not Path(args.scenario).exists()
    # a file is passed by absolute path: the server may resolve names from elsewhere
    scenario = args.scenario if shipped else str(Path(args.scenario).resolve())
    # the app works offline: no version check and no usage statistics sent out
    # the --set assignments, parsed and validated above, go to the app as JSON (relsim.app.SET_ENV);
    # a value that validated is a number, text, boolean, list or table: JSON holds it
    overrides = dict(args.assignments)
    os.environ.update({"RELSIM_APP_SCENARIO": scenario, "RELSIM_APP_SET": json.dumps(overrides),
                       "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"})
    print(f"relsim app: {url} (scenario {args.scenario}; Ctrl-C stops it)", flush=True)
    # Solara's own server, in this process (stopping relsim stops the server; and what this process has
    # imported already, pandas and the scenario schema, is not imported again by a second interpreter),
    # behind a check that every request is addressed to 127.0.0.1/localhost (relsim.util.serve)
    from relsim.util.serve import main as serve
    serve(["relsim.app", str(args.port)])
    return 0


def command_calibrate(args: argparse.Namespace) -> int:
    """``relsim calibrate``: log → fits → scenario (+ population), report, optional hold-out."""
    from relsim.calibration.fromlog import CalibrationError, calibrate, write_report
    from relsim.calibration.transactions import LogColumns

    if args.out.suffix != ".toml":
        raise CalibrationError(f"--out = {str(args.out)!r}: the scenario file must end in .toml")
    check_output_file(args.out)
    check_output_folder(args.out.parent)
    if (args.out.parent / f"{args.out.stem}-calibration").is_file():
        raise OutputError(f"{str(args.out.parent / f'{args.out.stem}-calibration')!r} is a file; the calibration "
                          "report is a folder of that name (move the file away or choose another --out)")
    # the scenario, its population and its report replace only what an earlier relsim calibrate wrote
    population = [f"{args.out.stem}.population.csv"] if args.per_customer else []
    for name in (args.out.name, *population):
        check_replaceable(args.out.parent / name)
    check_replaceable(args.out.parent / f"{args.out.stem}-calibration", folder=True)
    if args.holdout_end is not None and _timestamp(args.holdout_end) <= _timestamp(args.calibration_end):
        raise CalibrationError(f"--holdout-end = {args.holdout_end}: must be after --calibration-end = "
                               f"{args.calibration_end}")
    from relsim.util.inputs import check_regular_file
    from relsim.util.resources import check_fits
    size = check_regular_file(args.log, "transaction log", CalibrationError)
    # a CSV log read as text holds ~25 bytes of Python strings and arrays per byte of the file
    check_fits(f"reading {args.log}", size * 25, size / 2e6, yes=args.yes)
    columns = LogColumns(args.customer_column, args.date_column, args.amount_column, args.date_format)
    calibration = calibrate(args.log, args.calibration_end, margin=args.margin, strategy=args.strategy,
                            columns=columns, zero_amounts=args.zero_amounts, duplicates=args.duplicates,
                            per_customer=args.per_customer, weeks=args.weeks, seed=args.seed,
                            name=args.out.stem)
    if args.holdout_end:
        from relsim.scenario.schema import from_dict
        weeks = max(1, (_timestamp(args.holdout_end) - calibration.calibration_end).days // 7)
        scenario = from_dict(calibration.scenario_data("population.csv", weeks=weeks), "hold-out scenario")
        _check_resources(f"the hold-out check ({args.seeds} runs)", [scenario], args.seeds, 1, args)
    holdout = calibration.holdout(args.holdout_end, seeds=args.seeds, progress=True) if args.holdout_end else None
    report = f"{args.out.stem}-calibration"
    with staged_output(args.out.parent, replace_previous=False) as staging:
        calibration.write(staging / args.out.name)
        (staging / report).mkdir()
        write_report(calibration, staging / report, holdout)
        load_scenario(staging / args.out.name)   # what we write must load
    print(calibration.fit_table()[["model", "parameter", "estimate", "std_error"]].to_string(index=False))
    if holdout is not None:
        errors = holdout.errors()
        print(f"\nhold-out ({holdout.weeks} weeks): repeat transactions simulated {errors['simulated_total']:.0f} "
              f"vs actual {errors['actual_total']:.0f} ({errors['end_error_pct']:+.1f} %), cumulative MAPE "
              f"{errors['cumulative_mape_pct']:.1f} %")
    print(f"\nwrote {args.out} and {args.out.parent / report}/")
    return 0


def _timestamp(text: str) -> pd.Timestamp:
    """A date flag as a pandas Timestamp (already checked by the parser)."""
    import pandas as pd

    return pd.Timestamp(text)


def command_validate(args: argparse.Namespace) -> int:
    """``relsim validate``: the validation suite; exit 0 if every check passes, 1 if one fails."""
    import os

    from relsim.validation.checks import run_validation
    from relsim.validation.report import write_validation_report

    check_output_folder(args.out)
    workers = args.workers or max(1, min(os.cpu_count() or 1, 2 if args.quick else 64))
    validation = run_validation(quick=args.quick, workers=workers, only=args.only,
                                progress=lambda name: print(f"relsim validate: {name}", file=sys.stderr))
    with staged_output(args.out) as staging:
        write_validation_report(validation, staging)
    for check in validation.checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.title}: {check.measured}")
    print(f"{sum(c.passed for c in validation.checks)} of {len(validation.checks)} checks pass "
          f"({validation.mode}, {validation.seconds:.0f} s); report: {args.out / 'validation.html'}")
    return 0 if validation.passed else 1


def _checks(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in VALIDATION_CHECKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown check {(unknown or [text])[0]!r}; allowed: {', '.join(VALIDATION_CHECKS)}")
    return names


def command_scenarios(_: argparse.Namespace) -> int:
    """List shipped scenarios with their descriptions."""
    for name in shipped_names("scenario"):
        path = shipped_path("scenario", name)
        if path is None:
            continue
        try:
            scenario = load_scenario(path)
            print(f"{path.stem:<12} {scenario.description}")
        except ScenarioError as error:
            print(f"{path.stem:<12} (invalid: {error})")
    return 0


def command_experiments(_: argparse.Namespace) -> int:
    """List shipped experiments (``relsim sweep NAME --out STORE`` runs one)."""
    import tomllib
    for name in shipped_names("experiment"):
        path = shipped_path("experiment", name)
        if path is None:
            continue
        with open(path, "rb") as handle:
            description = tomllib.load(handle).get("description", "")
        print(f"{name:<24} {description}")
    print(f"\nfiles in {shipped_folder('experiment')}/ (each with a README); "
          "run one with: relsim sweep NAME --out STORE")
    return 0


def command_strategies(_: argparse.Namespace) -> int:
    """List presets and the levers they set."""
    for name, levers in PRESETS.items():
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in levers.items()))
    print("\nLevers (any can be overridden per firm with [firms.levers]):")
    for lever, info in Strategy.model_fields.items():
        print(f"  {lever:<22} default {info.default!r:<8} {info.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``relsim`` command."""
    args = build_parser().parse_args(argv)
    handlers = {"run": command_run, "compare": command_compare, "app": command_app,
                "scenarios": command_scenarios, "experiments": command_experiments, "strategies": command_strategies,
                "sweep": command_sweep, "optimize": command_optimize, "analyze": command_analyze,
                "export": command_export, "calibrate": command_calibrate, "store": command_store,
                "validate": command_validate}
    try:
        return handlers[args.command](args)
    except RelsimError as error:   # every user-facing error (relsim.util.errors)
        print(f"relsim: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:   # the machine refused (read-only, full disk, not a folder): not a bug
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        print(f"relsim: error: {where}{error.strerror or error} (nothing was written)", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("relsim: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
