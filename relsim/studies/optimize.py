"""Search the focal firm's levers for the best policy (Optuna), and check the winners honestly.

``relsim optimize SCENARIO --levers price=0.8:1.4 reward_rate=0:0.1 --objective profit
--constraint retention>=0.6 --trials 60 --seeds 5 --out DIR`` runs :func:`run_search`:

* **Lever space** (:func:`parse_levers`): ``name=low:high`` (a range), ``:log``
  (log scale, low > 0), ``:int`` (whole numbers; integer levers such as
  ``level`` are whole numbers anyway), or ``name=a,b`` (choices, e.g.
  ``supplier_contract=long,spot``, ``retention_offer=true,false``); or a TOML
  file with a ``[levers]`` table (``price = {low = 0.8, high = 1.4}``,
  ``acquisition_budget = {low = 0.2, high = 5, log = true}``, ``level = {low
  = 1, high = 5}``, ``supplier_contract = {choices = ["long", "spot"]}``).
  Every lever must be a field of :class:`relsim.Strategy` and both ends must be
  values it allows, checked before anything runs.
* **Objectives**: one (TPE, or CMA-ES with ``--sampler cmaes``) or two (a
  Pareto front, e.g. ``profit,retention``), each an outcome of
  :func:`relsim.evaluate`, maximised.
* **Constraints**: ``retention>=0.6``, ``share<=0.3``, on the mean over seeds;
  Optuna's constrained TPE / NSGA-II keep to the feasible region.
* **Common random numbers**: every trial runs on the same seeds.
* **A resumable store**: the study lives in ``DIR/study.db`` (SQLite). A search
  killed at any moment resumes, with the same command, from the trials it
  finished; a trial that was running is proposed again, never counted twice.

Then :func:`confirm` re-evaluates the best policies on *fresh* seeds (the
search's own seeds flatter its winner: the winner's curse) together with the
presets, and pairs them seed by seed; :mod:`relsim.studies.optimize_report`
writes the report.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.scenario.overrides import parse_value
from relsim.scenario.schema import Scenario, _describe
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.studies.compare import mean_interval
from relsim.studies.evaluate import OUTCOMES, apply_policy, check_policy, outcome_row
from relsim.studies.pool import process_pool
from relsim.studies.robust import Robustness
from relsim.util.errors import RelsimError
from relsim.util.inputs import read_toml

#: The study's name inside DIR/study.db.
STUDY_NAME = "relsim-optimize"
SAMPLERS = ("tpe", "cmaes", "nsga2", "random")
#: Offset of the fresh seeds that confirm the winners (far from any search's seeds).
FRESH_SEED_OFFSET = 1_000_000


class OptimizeError(RelsimError):
    """A lever space, objective, constraint or study store cannot be used (exit 2)."""


# ----------------------------------------------------------------------
# the lever space
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class Lever:
    """One lever of the focal firm and the values the search may give it."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] | None = None

    def suggest(self, trial) -> Any:
        """The trial's value of this lever (Optuna's suggest_* API)."""
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        assert self.low is not None and self.high is not None
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def text(self) -> str:
        """As on the command line: ``price=0.8:1.4``."""
        if self.choices is not None:
            return f"{self.name}=" + ",".join(json.dumps(c) if isinstance(c, bool) else str(c)
                                              for c in self.choices)
        tail = (":log" if self.log else "") + (":int" if self.integer else "")
        return f"{self.name}={self.low:g}:{self.high:g}{tail}"


@dataclass(frozen=True)
class LeverSpace:
    """The levers a search may move (the others keep the focal firm's strategy)."""

    levers: tuple[Lever, ...]

    @property
    def names(self) -> list[str]:
        return [lever.name for lever in self.levers]

    def suggest(self, trial) -> dict[str, Any]:
        return {lever.name: lever.suggest(trial) for lever in self.levers}

    def describe(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(lever).items() if v not in (None, False)} for lever in self.levers]


def _lever_field(name: str, where: str) -> Any:
    fields = Strategy.model_fields
    if name not in fields or name == "target_segments":
        allowed = [f for f in fields if f != "target_segments"]
        raise OptimizeError(f"{where}: unknown lever {name!r}; levers: {', '.join(allowed)}")
    return fields[name]


def _check_value(name: str, value: Any, where: str) -> None:
    try:
        Strategy.model_validate({name: value})
    except Exception as error:   # pydantic's ValidationError
        errors = getattr(error, "errors", None)
        text = "; ".join(_describe(e) for e in errors()) if callable(errors) else str(error)
        raise OptimizeError(f"{where}: {text}") from None


def make_lever(name: str, *, low: Any = None, high: Any = None, log: bool = False, integer: bool = False,
               choices: Sequence[Any] | None = None, where: str | None = None) -> Lever:
    """A checked :class:`Lever` (``where`` names it in errors)."""
    where = where or f"lever {name!r}"
    info = _lever_field(name, where)
    annotation = info.annotation
    if choices is not None:
        if low is not None or high is not None or log or integer:
            raise OptimizeError(f"{where}: give either choices or a range (low, high), not both")
        choices = list(choices)
        if len(choices) < 2 or len(set(map(repr, choices))) != len(choices):
            raise OptimizeError(f"{where}: give at least two different choices")
        for value in choices:
            _check_value(name, value, where)
        return Lever(name, choices=tuple(choices))
    if annotation is bool or name == "supplier_contract":
        example = "true,false" if annotation is bool else "long,spot"
        raise OptimizeError(f"{where}: {name} is not a number; give choices, e.g. {name}={example}")
    if low is None or high is None:
        raise OptimizeError(f"{where}: give a range low:high, e.g. {name}=0.8:1.4, or choices a,b")
    for end, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptimizeError(f"{where}: {end} = {value!r} is not a number")
        if not math.isfinite(value):
            raise OptimizeError(f"{where}: {end} = {value!r} is not a finite number; give both ends as numbers, "
                                f"e.g. {name}=0.8:1.4")
    if not low < high:
        raise OptimizeError(f"{where}: low ({low:g}) must be below high ({high:g})")
    if log and low <= 0:
        raise OptimizeError(f"{where}: a log scale needs low > 0, got {low:g}")
    integer = integer or annotation is int
    if integer and (low != int(low) or high != int(high)):
        raise OptimizeError(f"{where}: {name} takes whole numbers; low and high must be whole, got {low:g}:{high:g}")
    for value in (low, high):
        _check_value(name, int(value) if annotation is int else float(value), where)
    return Lever(name, float(low), float(high), bool(log), bool(integer))


_RANGE = re.compile(r"^\s*([^:]+):([^:]+)((?::\s*(?:log|int)\s*)*)$")


def parse_lever(text: str) -> Lever:
    """``price=0.8:1.4``, ``acquisition_budget=0.2:5:log``, ``level=1:5:int``, ``supplier_contract=long,spot``.

    >>> parse_lever("acquisition_budget=0.2:5:log")
    Lever(name='acquisition_budget', low=0.2, high=5.0, log=True, integer=False, choices=None)
    >>> parse_lever("price=0.8:9")
    Traceback (most recent call last):
    ...
    relsim.studies.optimize.OptimizeError: --levers 'price=0.8:9': price = 9.0: Input should be less than or equal to 5
    """
    where = f"--levers {text!r}"
    name, equals, spec = text.partition("=")
    name = name.strip()
    if not equals or not name or not spec.strip():
        raise OptimizeError(f"{where}: expected NAME=LOW:HIGH[:log][:int] or NAME=A,B, e.g. price=0.8:1.4")
    _lever_field(name, where)
    if "," in spec:
        try:
            choices = [parse_value(part) for part in spec.split(",")]
        except RelsimError as error:
            raise OptimizeError(f"{where}: {error}") from None
        return make_lever(name, choices=choices, where=where)
    match = _RANGE.match(spec)
    if not match:
        raise OptimizeError(f"{where}: expected LOW:HIGH with optional :log and :int, e.g. {name}=0.8:1.4")
    ends = []
    for part in match.group(1, 2):
        try:
            ends.append(float(part))
        except ValueError:
            raise OptimizeError(f"{where}: {part.strip()!r} is not a number") from None
    flags = [f.strip() for f in match.group(3).split(":") if f.strip()]
    return make_lever(name, low=ends[0], high=ends[1], log="log" in flags, integer="int" in flags, where=where)


def read_levers_toml(path: Path) -> list[Lever]:
    """The ``[levers]`` table of a TOML file (see the module docstring)."""
    data, _ = read_toml(path, "lever space", OptimizeError)
    extra = set(data) - {"levers"}
    if extra:
        raise OptimizeError(f"{path}: unknown table or key {sorted(extra)[0]!r}; a lever file holds [levers]")
    table = data.get("levers")
    if not isinstance(table, dict) or not table:
        raise OptimizeError(f"{path}: no [levers] table (e.g. price = {{low = 0.8, high = 1.4}})")
    levers = []
    for name, spec in table.items():
        where = f"{path}: levers.{name}"
        if not isinstance(spec, dict):
            raise OptimizeError(f"{where}: expected a table, e.g. {{low = 0.8, high = 1.4}}")
        unknown = set(spec) - {"low", "high", "log", "integer", "choices"}
        if unknown:
            raise OptimizeError(f"{where}.{sorted(unknown)[0]}: unknown field; allowed: low, high, log, integer, "
                                "choices")
        for flag in ("log", "integer"):
            if not isinstance(spec.get(flag, False), bool):
                raise OptimizeError(f"{where}.{flag} = {spec[flag]!r}: must be true or false")
        if "choices" in spec and not isinstance(spec["choices"], list):
            raise OptimizeError(f"{where}.choices: must be a list")
        levers.append(make_lever(name, low=spec.get("low"), high=spec.get("high"), log=spec.get("log", False),
                                 integer=spec.get("integer", False), choices=spec.get("choices"), where=where))
    return levers


def parse_levers(items: Sequence[str]) -> LeverSpace:
    """A lever space from command-line items and/or TOML files (``*.toml``)."""
    levers: list[Lever] = []
    for item in items:
        if item.strip().endswith(".toml") and "=" not in item:
            levers += read_levers_toml(Path(item))
        else:
            levers.append(parse_lever(item))
    if not levers:
        raise OptimizeError("--levers: give at least one lever, e.g. --levers price=0.8:1.4")
    names = [lever.name for lever in levers]
    for name in names:
        if names.count(name) > 1:
            raise OptimizeError(f"--levers: {name!r} is given twice")
    return LeverSpace(tuple(levers))


# ----------------------------------------------------------------------
# objectives and constraints
# ----------------------------------------------------------------------
def parse_objectives(items: Sequence[str]) -> list[str]:
    """One or two outcome names (comma-separated or repeated), each maximised."""
    names = [name.strip() for item in items for name in item.split(",") if name.strip()]
    if not names:
        raise OptimizeError("--objective: give an outcome, e.g. --objective profit")
    for name in names:
        if name not in OUTCOMES:
            raise OptimizeError(f"--objective {name!r}: unknown outcome; allowed: {', '.join(OUTCOMES)}")
    if len(set(names)) != len(names):
        raise OptimizeError(f"--objective: {names} names an outcome twice")
    if len(names) > 2:
        raise OptimizeError(f"--objective: at most two objectives (a Pareto front), got {len(names)}")
    return names


@dataclass(frozen=True)
class Constraint:
    """``outcome >= bound`` or ``outcome <= bound`` on the mean over seeds."""

    outcome: str
    op: str
    bound: float

    def violation(self, value: float) -> float:
        """How far ``value`` is from feasible (<= 0: feasible), in the outcome's units."""
        if value is None or not math.isfinite(value):
            return math.inf
        return self.bound - value if self.op == ">=" else value - self.bound

    def text(self) -> str:
        return f"{self.outcome}{self.op}{self.bound:g}"


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=)\s*(\S+)\s*$")


def parse_constraint(text: str) -> Constraint:
    """``retention>=0.6`` (or ``<=``), on an outcome of :func:`relsim.evaluate`.

    >>> parse_constraint("retention>=0.6")
    Constraint(outcome='retention', op='>=', bound=0.6)
    """
    where = f"--constraint {text!r}"
    match = _CONSTRAINT.match(text)
    if not match:
        raise OptimizeError(f"{where}: expected OUTCOME>=NUMBER or OUTCOME<=NUMBER, e.g. retention>=0.6")
    name, op, bound_text = match.groups()
    if name not in OUTCOMES:
        raise OptimizeError(f"{where}: unknown outcome {name!r}; allowed: {', '.join(OUTCOMES)}")
    try:
        bound = float(bound_text)
    except ValueError:
        raise OptimizeError(f"{where}: {bound_text!r} is not a number") from None
    if not math.isfinite(bound):
        raise OptimizeError(f"{where}: the bound must be a finite number")
    return Constraint(name, op, bound)


# ----------------------------------------------------------------------
# the search
# ----------------------------------------------------------------------
@dataclass
class Search:
    """What a search is: it is stored with the study, and a resumed search must match it."""

    space: LeverSpace
    objectives: list[str]
    seeds: list[int]
    constraints: list[Constraint] = field(default_factory=list)
    sampler: str = "tpe"
    base: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None
    sampler_seed: int = 0
    robust: Robustness | None = None      # --robust: judge each policy over plausible worlds (seeds: theirs)

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise OptimizeError(f"--sampler {self.sampler!r}: allowed: {', '.join(SAMPLERS)}")
        if self.sampler == "cmaes":
            if len(self.objectives) > 1:
                raise OptimizeError("--sampler cmaes: CMA-ES takes one objective; use tpe or nsga2 for two")
            if self.constraints:
                raise OptimizeError("--sampler cmaes: CMA-ES takes no constraints; use tpe (the default)")
        if not self.seeds:
            raise OptimizeError("--seeds: at least one seed")
        if self.scenario is not None:   # every lever's ends on the focal firm's strategy (level rules etc.)
            focal = self.scenario.firms[0]
            base = {**PRESETS[focal.strategy], **focal.levers}
            check_policy(self.base, base)

    def identity(self) -> dict[str, Any]:
        """What must match when a search resumes."""
        identity = {"levers": self.space.describe(), "objectives": list(self.objectives),
                    "constraints": [c.text() for c in self.constraints], "seeds": list(self.seeds),
                    "base": dict(self.base), "scenario": self.scenario.digest() if self.scenario else None}
        if self.robust is not None:
            identity["robust"] = self.robust.describe()
        return identity

    def scores(self, table: pd.DataFrame) -> dict[str, float]:
        """What a policy is judged by, per outcome, from its table (one row per seed or world): the
        mean over seeds, or with ``robust`` its robust statistic over the worlds."""
        if self.robust is None:
            return {name: float(table[name].mean()) for name in OUTCOMES}
        return {name: self.robust.score(table[name].to_numpy(dtype=float)) for name in OUTCOMES}

    def policy(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.base, **params}

    def violations(self, means: Mapping[str, float]) -> list[float]:
        return [c.violation(means.get(c.outcome, math.nan)) for c in self.constraints]


#: A batch evaluator: policies in, one outcomes table (one row per seed) per policy out.
BatchEvaluator = Callable[[list[dict[str, Any]]], list[pd.DataFrame]]


class SimulationEvaluator:
    """Evaluates a batch of policies on the search's seeds, all (policy, seed) runs in one pool."""

    def __init__(self, scenario: Scenario, seeds: Sequence[int], executor: Executor | None = None) -> None:
        self.scenario, self.seeds, self.executor = scenario, list(seeds), executor

    def __call__(self, policies: list[dict[str, Any]]) -> list[pd.DataFrame]:
        return evaluate_many(self.scenario, policies, self.seeds, self.executor)


def evaluate_many(scenario: Scenario, policies: Sequence[Mapping[str, Any]], seeds: Sequence[int],
                  executor: Executor | None = None,
                  progress: Callable[[], None] | None = None) -> list[pd.DataFrame]:
    """:func:`relsim.evaluate` of several policies on the same seeds, every run in ``executor``."""
    chosen = [apply_policy(scenario, policy) for policy in policies]
    tasks = [(s, seed) for s in chosen for seed in seeds]
    if executor is None:
        rows = []
        for s, seed in tasks:
            rows.append(outcome_row(s, seed))
            if progress:
                progress()
    else:
        futures = [executor.submit(outcome_row, s, seed) for s, seed in tasks]
        rows = []
        for future in futures:
            rows.append(future.result())
            if progress:
                progress()
    n = len(seeds)
    return [pd.DataFrame(rows[i * n:(i + 1) * n], columns=["seed", *OUTCOMES, "seconds"])
            for i in range(len(chosen))]


def _quiet_optuna():
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def make_sampler(search: Search, seed: int, workers: int = 1):
    """The Optuna sampler of ``search`` (seeded). Constraints reach TPE and NSGA-II through each trial's
    ``set_constraint`` (Optuna 5; ``constraints_func`` is deprecated there)."""
    optuna = _quiet_optuna()
    if search.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if search.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    startup = min(10, max(3, len(search.space.levers) + 1))
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=workers > 1,
                                      n_startup_trials=startup)


def open_study(search: Search, storage_url: str, workers: int = 1, load_only: bool = False):
    """Create or load the study in ``storage_url``; refuse a store holding another search."""
    optuna = _quiet_optuna()
    storage = _open_storage(storage_url)
    existing = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    identity = search.identity()
    if STUDY_NAME not in existing and not load_only:
        try:
            study = optuna.create_study(storage=storage, study_name=STUDY_NAME, directions=["maximize"] * len(
                search.objectives), sampler=make_sampler(search, search.sampler_seed, workers))
        except optuna.exceptions.DuplicatedStudyError:   # another process created it a moment ago
            existing = [STUDY_NAME]
        else:
            study.set_user_attr("search", json.loads(json.dumps(identity)))
            study.set_user_attr("sampler", search.sampler)
            return study
    if STUDY_NAME in existing:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        stored = study.user_attrs.get("search")
        for _ in range(20):   # created by another process this moment: its settings follow within milliseconds
            if stored is not None:
                break
            time.sleep(0.05)
            stored = study.user_attrs.get("search")
        if stored != json.loads(json.dumps(identity)):
            differ = [key for key in identity if (stored or {}).get(key) != json.loads(json.dumps(identity[key]))]
            raise OptimizeError(f"{storage_url.removeprefix('sqlite:///')} holds another search (its "
                                f"{', '.join(differ) or 'settings'} differ); resume it with the same scenario, "
                                "--levers, --objective, --constraint and --seeds, or choose another --out")
        done = len(study.get_trials(deepcopy=False))
        study.sampler = make_sampler(search, search.sampler_seed + done, workers)
        return study
    raise OptimizeError(f"{storage_url}: no study in it")


def _open_storage(storage_url: str, attempts: int = 20):
    """Optuna's SQLite storage, tolerating other processes opening the same new file at the same moment.

    ``RDBStorage`` creates its tables and writes its schema version when it opens a file; two processes
    doing so together (a search started while another process — a second search, a dashboard, a script
    polling the study — opens it) make one of them fail with "table … already exists" or a duplicate
    version row. Opening again then finds the tables made, so a few attempts a short moment apart suffice.
    """
    from optuna.storages import RDBStorage
    from sqlalchemy.exc import IntegrityError, OperationalError
    for attempt in range(attempts):
        try:
            return RDBStorage(storage_url)
        except (OperationalError, IntegrityError) as error:
            message = str(error.orig if error.orig is not None else error).lower()
            racing = ("already exists" in message or "locked" in message
                      or (isinstance(error, IntegrityError) and "unique" in message))
            if not racing or attempt == attempts - 1:   # a missing folder, a read-only file: at once
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def recover_interrupted(study) -> int:
    """Trials left running by a killed search: proposed again (same levers), the old ones marked failed."""
    import optuna
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in stale:
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    return len(stale)


def completed(study) -> list:
    import optuna
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def run_search(search: Search, storage_url: str, trials: int, evaluator: BatchEvaluator, workers: int = 1,
               progress: bool = False, study=None):
    """Run (or resume) ``search`` until the study holds ``trials`` completed trials.

    ``evaluator`` evaluates a batch of up to ``workers`` policies (each on the
    search's seeds). Each trial's outcome means and standard deviations are kept
    as its user attributes ``means`` and ``sds`` (dicts by outcome).
    """
    from relsim.util.progress import progress_bar
    optuna = _quiet_optuna()
    study = study or open_study(search, storage_url, workers)
    retried = recover_interrupted(study)
    done = len(completed(study))
    if done and progress:
        print(f"relsim optimize: resuming: {done} trials finished before"
              + (f", {retried} interrupted trial(s) proposed again" if retried else ""), file=sys.stderr)
    started = time.monotonic()
    with progress_bar(trials, f"{len(search.space.levers)} levers, {len(search.seeds)} seeds",
                      unit="trials", enabled=progress, completed=min(done, trials)) as advance:
        while done < trials:
            batch = [study.ask() for _ in range(min(max(workers, 1), trials - done))]
            policies = [search.policy(search.space.suggest(trial)) for trial in batch]
            try:
                tables = evaluator(policies)
            except BaseException:
                for trial in batch:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
            for trial, table in zip(batch, tables, strict=True):
                means = {name: float(table[name].mean()) for name in OUTCOMES}
                # one attribute per kind (each is a write to the store)
                trial.set_user_attr("means", means)
                if search.robust is not None:
                    means = search.scores(table)          # judged by the robust statistic from here on
                    trial.set_user_attr("robust", means)
                trial.set_user_attr("sds", {name: float(table[name].std(ddof=1)) if len(table) > 1 else 0.0
                                            for name in OUTCOMES})
                trial.set_user_attr("seconds", float(table["seconds"].sum()) if "seconds" in table else 0.0)
                if search.constraints:
                    violations = [min(v, 1e300) for v in search.violations(means)]
                    trial.set_user_attr("constraint_violations", violations)
                    for constraint, violation in zip(search.constraints, violations, strict=True):
                        trial.set_constraint(constraint.text(), violation)   # read by TPE and NSGA-II
                values = [means[o] if math.isfinite(means[o]) else -1e300 for o in search.objectives]
                study.tell(trial, values[0] if len(values) == 1 else values)
                done += 1
                advance()
    if progress:
        print(f"relsim optimize: {done} trials in the study ({time.monotonic() - started:.0f} s this time)",
              file=sys.stderr)
    return study


def optuna_objective(space: LeverSpace, scenario: Scenario, seeds: Sequence[int],
                     objectives: Sequence[str] = ("profit",), base: Mapping[str, Any] | None = None):
    """An Optuna objective over ``space``: ``trial -> mean objective`` (a tuple for several).

    The adapter for a study of your own::

        import optuna
        study = optuna.create_study(direction="maximize")
        study.optimize(optuna_objective(parse_levers(["price=0.8:1.4"]), scenario, seeds=[0, 1, 2]), n_trials=20)
    """
    seeds = list(seeds)
    objectives = parse_objectives(list(objectives))

    def objective(trial):
        policy = {**(base or {}), **space.suggest(trial)}
        table = evaluate_many(scenario, [policy], seeds)[0]
        means = {name: float(table[name].mean()) for name in OUTCOMES}
        trial.set_user_attr("means", means)
        values = tuple(means[o] for o in objectives)
        return values[0] if len(values) == 1 else values

    return objective


def trials_frame(study, search: Search) -> pd.DataFrame:
    """One row per completed trial: number, levers, outcome means, feasibility."""
    rows = []
    for trial in completed(study):
        row: dict[str, Any] = {"trial": trial.number, **trial.params}
        # with --robust, an outcome's column holds its robust statistic over the worlds
        means = trial.user_attrs.get("robust" if search.robust is not None else "means", {})
        row.update({name: means.get(name, math.nan) for name in OUTCOMES})
        violations = trial.user_attrs.get("constraint_violations", [])
        row["feasible"] = all(v <= 0 for v in violations)
        row["seconds"] = trial.user_attrs.get("seconds", math.nan)
        rows.append(row)
    columns = ["trial", *search.space.names, *OUTCOMES, "feasible", "seconds"]
    return pd.DataFrame(rows, columns=columns)


def pareto_front(frame: pd.DataFrame, objectives: Sequence[str]) -> pd.DataFrame:
    """The rows no other row beats on every objective (all maximised), sorted by the first."""
    values = frame[list(objectives)].to_numpy(dtype=float)
    keep = []
    for row in values:
        dominated = np.any(np.all(values >= row, axis=1) & np.any(values > row, axis=1))
        keep.append(not dominated)
    return frame[np.array(keep, dtype=bool)].sort_values(objectives[0], ascending=False)


def candidates(frame: pd.DataFrame, search: Search, top: int) -> pd.DataFrame:
    """The policies worth confirming: the best ``top`` feasible trials (one objective), or up to ``top``
    points spread along the feasible Pareto front (two)."""
    pool = frame[frame["feasible"]] if frame["feasible"].any() else frame
    if pool.empty:
        return pool
    if len(search.objectives) == 1:
        chosen = pool.sort_values(search.objectives[0], ascending=False)
    else:
        front = pareto_front(pool, search.objectives)
        if len(front) > top:
            index = np.unique(np.round(np.linspace(0, len(front) - 1, top)).astype(int))
            front = front.iloc[index]
        chosen = front
    # the same levers twice (a re-proposed trial) are confirmed once
    return chosen.drop_duplicates(subset=search.space.names).head(top)


# ----------------------------------------------------------------------
# honest winners
# ----------------------------------------------------------------------
@dataclass
class Confirmation:
    """Candidates and presets re-evaluated on fresh seeds, paired by seed."""

    search: Search
    seeds: list[int]
    policies: dict[str, dict[str, Any]]        # label -> policy (candidates first, then presets)
    candidates: list[str]
    presets: list[str]
    outcomes: pd.DataFrame                     # label, seed, outcomes
    search_means: dict[str, dict[str, float]]  # candidate label -> means on the search's seeds

    def table(self) -> pd.DataFrame:
        """Mean and 95 % interval of every outcome per policy on the fresh seeds."""
        rows = []
        for label in self.policies:
            runs = self.outcomes[self.outcomes["policy"] == label]
            for metric in OUTCOMES:
                mean, low, high = mean_interval(runs[metric].to_numpy(dtype=float))
                rows.append({"policy": label, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high,
                             "runs": len(runs)})
        return pd.DataFrame(rows)

    def differences(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Paired differences (candidate − preset) per seed: mean and 95 % interval."""
        metrics = list(metrics or dict.fromkeys([*self.search.objectives,
                                                 *[c.outcome for c in self.search.constraints]]))
        wide = self.outcomes.set_index(["policy", "seed"])
        rows = []
        for candidate in self.candidates:
            for preset in self.presets:
                for metric in metrics:
                    paired = (wide.loc[candidate, metric] - wide.loc[preset, metric]).to_numpy(dtype=float)
                    mean, low, high = mean_interval(paired)
                    rows.append({"candidate": candidate, "preset": preset, "metric": metric, "difference": mean,
                                 "ci_low": low, "ci_high": high,
                                 "significant": bool(low > 0 or high < 0)})
        return pd.DataFrame(rows)

    def means(self, label: str) -> dict[str, float]:
        """What ``label`` is judged by on the fresh seeds: the means, or with ``--robust`` the robust
        statistic over the fresh worlds."""
        return self.search.scores(self.outcomes[self.outcomes["policy"] == label])

    def feasible(self, label: str) -> bool:
        return all(v <= 0 for v in self.search.violations(self.means(label)))

    @property
    def recommended(self) -> str | None:
        """The candidate with the best fresh-seed mean of the first objective among those that keep
        the constraints on the fresh seeds (or among all, if none does)."""
        if not self.candidates:
            return None
        feasible = [c for c in self.candidates if self.feasible(c)] or self.candidates
        return max(feasible, key=lambda c: self.means(c)[self.search.objectives[0]])

    def beats(self, label: str, metric: str | None = None) -> dict[str, bool]:
        """Preset -> whether ``label`` beats it on ``metric`` (the 95 % paired interval above zero)."""
        metric = metric or self.search.objectives[0]
        frame = self.differences([metric])
        part = frame[frame["candidate"] == label]
        return {row.preset: bool(row.ci_low > 0) for row in part.itertuples()}


def confirm(search: Search, scenario: Scenario, study, seeds: Sequence[int], presets: Sequence[str],
            top: int = 3, executor: Executor | None = None, progress: bool = False,
            evaluator: BatchEvaluator | None = None) -> Confirmation:
    """Re-evaluate the best ``top`` policies of ``study`` and ``presets`` on ``seeds`` (fresh ones);
    ``evaluator`` (e.g. fresh plausible worlds, whose seeds ``seeds`` are) replaces the plain runs."""
    from relsim.util.progress import progress_bar
    frame = trials_frame(study, search)
    chosen = candidates(frame, search, top)
    policies: dict[str, dict[str, Any]] = {}
    search_means: dict[str, dict[str, float]] = {}
    for rank, row in enumerate(chosen.itertuples(index=False), start=1):
        label = f"optimised #{rank} (trial {row.trial})"
        values = row._asdict()
        policies[label] = search.policy({lever.name: _plain(values[lever.name], lever)
                                         for lever in search.space.levers})
        search_means[label] = {name: float(values[name]) for name in OUTCOMES}
    candidate_labels = list(policies)
    for preset in presets:
        policies[preset] = {} if preset == "current" else {"strategy": preset}
    seeds = list(seeds)
    with progress_bar(len(policies) * len(seeds), f"confirming {len(candidate_labels)} policies and "
                      f"{len(presets)} presets on {len(seeds)} fresh seeds", enabled=progress) as advance:
        if evaluator is None:
            tables = evaluate_many(scenario, list(policies.values()), seeds, executor, progress=advance)
        else:
            tables = evaluator(list(policies.values()))
            for _ in range(len(policies) * len(seeds)):
                advance()
    outcomes = pd.concat([table.assign(policy=label) for label, table in zip(policies, tables, strict=True)],
                         ignore_index=True)
    outcomes = outcomes[["policy", "seed", *OUTCOMES, "seconds"]]
    return Confirmation(search, seeds, policies, candidate_labels, list(presets), outcomes, search_means)


def _plain(value: Any, lever: Lever | None = None) -> Any:
    """A trial's lever value as a plain Python value (whole numbers for integer levers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if lever is not None and lever.integer and isinstance(value, float):
        value = round(value)
    return value


def pool(workers: int) -> ProcessPoolExecutor | None:
    """A process pool for ``workers`` > 1 (forkserver: safe with threads), else None."""
    if workers <= 1:
        return None
    return process_pool(workers)
