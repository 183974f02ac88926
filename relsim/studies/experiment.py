"""Experiment definitions: a base scenario, factors, a design and replicate seeds.

An experiment is a TOML file (see ``experiments/``)::

    name = "retention levers"
    scenario = "ecommerce"          # shipped name, or a path relative to this file
    seed = 2026                     # root of every random number of the experiment
    replicates = 10                 # seeds per design point

    [overrides]                     # applied to the base scenario before the factors
    "market.customers" = 2000

    [design]
    kind = "lhs"                    # grid, lhs, sobol (Saltelli), morris
    samples = 32

    [[factors]]
    path = "firms.0.levers.service_capacity"    # any scenario field, by dotted path
    low = 0.5
    high = 3.0

    [outputs]
    tables = ["summary", "steps"]   # what each run keeps
    metrics = ["cumulative_discounted_profit", "annual_retention"]

Besides dotted paths, two factor paths are special: ``strategy`` (the focal
firm's preset, its lever overrides cleared, as ``relsim compare`` does) and
``scenario`` (the base scenario itself, for a grid over shipped scenarios).

Everything is checked before any run starts: the file's keys, every factor's
path (applied to the base scenario, which must still validate) and every
design point's scenario. Errors name the file, the field and the value.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from relsim.market.terms import BOOK_LINES
from relsim.scenario.fields import reject_coercion
from relsim.scenario.schema import (
    Scenario,
    ScenarioError,
    _describe,
    check_named,
    from_dict,
    read_toml,
    resolve_scenario_path,
    set_dotted,
)
from relsim.scenario.strategies import PRESETS
from relsim.util.shipped import shipped_names, shipped_path

#: End-of-run metrics a sweep can analyse (columns of :func:`relsim.market.metrics.summarize`).
SUMMARY_METRICS: tuple[str, ...] = (
    "customers_end", "annual_retention", "weekly_retention", "cumulative_discounted_profit", "profit",
    *BOOK_LINES, "new_customers", "wom_share_of_new", "referral_share_of_orders", "nps", "mean_trust",
    "mean_commitment", "market_share", "mean_response_time", "failures", "complaints")

#: Tables a run can keep; the summary is always kept (it marks a run as finished).
TABLES = ("summary", "steps", "cohorts")
TableName = Literal["summary", "steps", "cohorts"]

#: Factor paths that are not scenario fields.
SPECIAL_PATHS = ("strategy", "scenario")


#: Columns every run's tables or the design table carry, which a factor's name must not shadow.
RUN_COLUMNS = {"point": "the design point's number (design.parquet and every table)",
               "replicate": "the replicate's number in every table", "seed": "the run's seed in every table",
               "run_id": "the run's id in every table", "firm": "the summary's firm column",
               "focal": "the summary's focal-firm column", "strategy": "the summary's strategy column",
               "scenario_hash": "a column of the summary and design.parquet",
               "code_version": "the summary's code version column", "focal_firm": "a column of design.parquet",
               "scenario": "a column of design.parquet (the scenario's name)"}


def reserved_column(factor: FactorSpec) -> str | None:
    """Why ``factor``'s label is refused (it shadows a column of the results), or None."""
    label = factor.label
    if label == "scenario" and factor.path == "scenario":
        return None                      # the scenario factor is the design's scenario column
    if label in RUN_COLUMNS:
        return f"{RUN_COLUMNS[label]} (column {label!r})"
    if label in SUMMARY_METRICS:
        return f"an output column of the summary table (metric {label!r})"
    return None


class ExperimentError(ScenarioError):
    """An experiment file is invalid. The message names the file, the field and the value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return reject_coercion(cls, value, info.field_name)


class FactorSpec(_Strict):
    """One factor: a scenario field and the values it takes."""

    path: str = Field(min_length=1, description=(
        "Dotted path of a scenario field (e.g. market.customers, firms.0.levers.price), "
        "or 'strategy' (focal preset) or 'scenario' (base scenario)."))
    name: str | None = Field(None, description="Column name in the results (default: the path).")
    levels: list[Any] | None = Field(None, min_length=1, description="Values taken (grid designs).")
    low: float | None = Field(None, description="Lower end of a range.")
    high: float | None = Field(None, description="Upper end of a range.")
    points: int | None = Field(None, ge=2, le=1000, description="Evenly spaced grid points over a range.")
    integer: bool = Field(False, description="Round sampled values to whole numbers.")

    @model_validator(mode="after")
    def _levels_or_range(self) -> FactorSpec:
        has_range = self.low is not None or self.high is not None
        if self.levels is not None and has_range:
            raise ValueError("give either levels or low/high, not both")
        if self.levels is None and not has_range:
            raise ValueError("give levels = [...] or a range low = ..., high = ...")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if not self.low < self.high:
                raise ValueError(f"low = {self.low:g} must be below high = {self.high:g}")
        if self.levels is not None:
            if len({json.dumps(v, sort_keys=True) for v in self.levels}) != len(self.levels):
                raise ValueError(f"levels {self.levels!r} repeat a value")
            if self.points is not None:
                raise ValueError("points only applies to a range (low/high)")
        if self.path in SPECIAL_PATHS and self.levels is None:
            raise ValueError(f"factor {self.path!r} needs levels (names), not a range")
        return self

    @property
    def label(self) -> str:
        """The factor's column name in result tables (``strategy`` is ``focal_strategy``:
        the summary's own ``strategy`` column is each firm's)."""
        return self.name or ("focal_strategy" if self.path == "strategy" else self.path)

    @property
    def is_range(self) -> bool:
        return self.levels is None


class DesignSpec(_Strict):
    """How design points are chosen."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = Field("grid", description=(
        "grid: every combination of the factors' levels (or points over ranges); lhs: Latin "
        "hypercube; sobol: Saltelli's extension of the Sobol' sequence, for Sobol' indices; "
        "morris: Morris trajectories, for elementary effects."))
    samples: int | None = Field(None, ge=1, le=1_000_000, description=(
        "lhs: number of points; sobol: base sample N (a power of 2; N·(k+2) points, "
        "N·(2k+2) with second_order); morris: number of trajectories (k+1 points each)."))
    second_order: bool = Field(False, description="sobol: also estimate second-order indices.")
    morris_levels: int = Field(4, ge=2, le=100, description="morris: grid levels per factor.")


class OutputsSpec(_Strict):
    """What each run keeps and which metrics the analysis reads."""

    tables: list[TableName] = Field(
        default_factory=lambda: list[TableName](["summary"]), description="Tables kept per run; summary always is.")
    metrics: list[str] = Field(
        default_factory=lambda: ["cumulative_discounted_profit", "annual_retention"],
        min_length=1, description="Focal-firm summary metrics the analysis reports.")

    @model_validator(mode="after")
    def _known_metrics(self) -> OutputsSpec:
        for metric in self.metrics:
            if metric not in SUMMARY_METRICS:
                raise ValueError(f"unknown metric {metric!r}; allowed: {', '.join(SUMMARY_METRICS)}")
        return self


class ContrastSpec(_Strict):
    """Paired differences (same replicate seed) of each level of a factor against a baseline level."""

    factor: str
    baseline: Any


class BestSpec(_Strict):
    """Which level of a factor has the highest mean metric, for each combination of the others."""

    factor: str
    metric: str = "cumulative_discounted_profit"


class ResponseSpec(_Strict):
    """Change in ``y`` for a change ``delta`` in ``x``: least-squares slope over runs × delta."""

    x: str = "annual_retention"
    y: str = "cumulative_discounted_profit"
    delta: float = 0.05

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, delta: float) -> float:
        if delta == 0:
            raise ValueError("must not be 0 (the change in x the response is reported for)")
        return delta


class AnalysisSpec(_Strict):
    """Extra analyses the experiment asks for (besides means, intervals and indices)."""

    contrast: ContrastSpec | None = None
    best: BestSpec | None = None
    response: ResponseSpec | None = None


class Experiment(_Strict):
    """A whole experiment (see ``experiments/*.toml``)."""

    name: str = Field(min_length=1)
    description: str = ""
    scenario: str = Field(min_length=1, description="Base scenario: shipped name or TOML path.")
    seed: int = Field(0, ge=0, description="Root of the experiment's SeedSequence.")
    replicates: int = Field(10, ge=1, le=100_000, description="Replicate seeds per design point.")
    overrides: dict[str, Any] = Field(default_factory=dict, description=(
        "Dotted-path values applied to the base scenario before the factors."))
    factors: list[FactorSpec] = Field(min_length=1)
    design: DesignSpec = DesignSpec()
    outputs: OutputsSpec = OutputsSpec()
    analysis: AnalysisSpec = AnalysisSpec()

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        labels = [f.label for f in self.factors]
        for i, factor in enumerate(self.factors):
            why = reserved_column(factor)
            if why:
                raise ValueError(f"factors[{i}] (path {factor.path!r}): name {factor.label!r} is also {why}; "
                                 "give the factor another name = \"...\"")
        for label in labels:
            if labels.count(label) > 1:
                raise ValueError(f"factor name {label!r} appears twice")
        kind = self.design.kind
        if kind == "grid":
            for i, factor in enumerate(self.factors):
                if factor.is_range and factor.points is None:
                    raise ValueError(f"factors[{i}] ({factor.label}): a grid needs levels, or "
                                     "points = N with a range")
        else:
            if self.design.samples is None:
                raise ValueError(f"design.samples is required for design.kind = {kind!r}")
            for i, factor in enumerate(self.factors):
                if not factor.is_range:
                    raise ValueError(f"factors[{i}] ({factor.label}): design.kind = {kind!r} samples "
                                     "ranges; give low and high instead of levels")
            if kind == "sobol" and self.design.samples & (self.design.samples - 1):
                raise ValueError(f"design.samples = {self.design.samples}: sobol needs a power of 2 "
                                 "(e.g. 32, 64, 128)")
        for name in ("contrast", "best"):
            spec = getattr(self.analysis, name)
            if spec is not None and self.factor(spec.factor) is None:
                raise ValueError(f"analysis.{name}.factor = {spec.factor!r} is not a factor; "
                                 f"factors: {', '.join(labels)}")
        contrast = self.analysis.contrast
        if contrast is not None:
            factor = self.factor(contrast.factor)
            if factor is None or factor.levels is None or contrast.baseline not in factor.levels:
                raise ValueError(f"analysis.contrast.baseline = {contrast.baseline!r} is not a level "
                                 f"of {contrast.factor}")
        metrics = [m for spec in (self.analysis.best,) if spec for m in [spec.metric]]
        if self.analysis.response:
            metrics += [self.analysis.response.x, self.analysis.response.y]
        for metric in metrics:
            if metric not in SUMMARY_METRICS:
                raise ValueError(f"analysis names unknown metric {metric!r}; allowed: "
                                 f"{', '.join(SUMMARY_METRICS)}")
        return self


    def factor(self, name: str) -> FactorSpec | None:
        """The factor whose label or path is ``name``, or None."""
        return next((f for f in self.factors if name in (f.label, f.path)), None)


@dataclass(frozen=True)
class Run:
    """One task of a sweep: a design point crossed with a replicate seed."""

    run_id: str
    point: int
    replicate: int
    seed: int
    scenario: dict
    scenario_hash: str
    factors: dict[str, Any]


@dataclass
class Plan:
    """An experiment made concrete: design points, scenarios, seeds and runs."""

    experiment: Experiment
    source: str
    text: str
    points: list[dict[str, Any]]
    matrix: np.ndarray | None
    scenarios: list[Scenario]
    seeds: list[int]
    runs: list[Run]
    experiment_hash: str

    def problem(self) -> dict:
        """The SALib problem of a sampled design (names, bounds)."""
        factors = self.experiment.factors
        return {"num_vars": len(factors), "names": [f.label for f in factors],
                "bounds": [[f.low, f.high] for f in factors]}


# --------------------------------------------------------------------------
def run_id(point: int, replicate: int) -> str:
    """Stable name of the run of design point ``point`` and replicate ``replicate``."""
    return f"p{point:06d}-r{replicate:05d}"


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """One integer seed per replicate, from the experiment's root ``SeedSequence``.

    The root spawns two children: one for the design sampler, one whose
    children are the replicates. A replicate's seed is the same at every design
    point (common random numbers), so differences between points are paired.
    """
    _, replicate_root = np.random.SeedSequence(seed).spawn(2)
    # 63 bits: fits a signed 64-bit Parquet column and seeds a run's SeedSequence
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for child in replicate_root.spawn(replicates)]


def design_generator(seed: int) -> np.random.Generator:
    """The Generator that samples design points (the root's first child)."""
    design_root, _ = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(design_root)


def load_experiment(path: str | Path, engine: str | None = None) -> Plan:
    """Read, validate and plan an experiment file, before any run.

    ``path`` is a TOML file or the name of a shipped experiment
    (``relsim experiments`` lists them):

    >>> plan = load_experiment("wom_seeding")
    >>> plan.experiment.name, len(plan.points), len(plan.seeds)
    ('wom_seeding', 3, 30)

    ``engine`` (``relsim sweep --engine``) runs every design point on that engine:
    it is added to the experiment's ``[overrides]`` as ``market.engine``, and the
    plan's text (the store's ``experiment.toml``) says so, so a store is resumed
    only with the same engine:

    >>> {s.market.engine for s in load_experiment("wom_seeding", engine="agents").scenarios}
    {'agents'}

    Raises
    ------
    ExperimentError
        If the file is missing or not TOML, a key or value is wrong, a factor's
        path is not a scenario field, or a design point's scenario is invalid.
    """
    path = resolve_experiment_path(path)
    check_named(path, "experiment", ExperimentError)
    data, text = read_toml(path, "experiment", ExperimentError)
    if engine is not None:
        data, text = _on_engine(data, text, engine, path)
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as error:
        lines = [_describe(e) for e in error.errors()]
        raise ExperimentError(f"{path}: invalid experiment\n  " + "\n  ".join(lines)) from None
    return plan(experiment, source=str(path), base_dir=path.parent, text=text)


def _on_engine(data: dict, text: str, engine: str, path: Path) -> tuple[dict, str]:
    """The experiment ``data`` (and its TOML ``text``) with ``market.engine = engine`` among its overrides;
    unchanged if it says so already. An experiment whose factors vary the engine is refused."""
    factors = data.get("factors")
    if isinstance(factors, list) and any(isinstance(f, dict) and f.get("path") == "market.engine"
                                         for f in factors):
        raise ExperimentError(f"{path}: a factor varies market.engine, so --engine {engine} cannot set it; "
                              "drop --engine or that factor")
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict) or overrides.get("market.engine") == engine:
        return data, text        # a malformed [overrides] is reported by the validation that follows
    data = {**data, "overrides": {**overrides, "market.engine": engine}}
    return data, (f"# {path.name} run with `relsim sweep --engine {engine}`: market.engine = {engine!r} "
                  "added to [overrides]\n" + tomli_w.dumps(data))


def resolve_experiment_path(path: str | Path) -> Path:
    """Return ``path`` or, for a bare shipped name, the packaged experiment file."""
    candidate = Path(path)
    if candidate.exists() or candidate.suffix:
        return candidate
    return shipped_path("experiment", str(path)) or candidate


def plan(experiment: Experiment, source: str = "<experiment>", base_dir: Path | None = None,
         text: str = "") -> Plan:
    """Design points, their validated scenarios and the runs of ``experiment``."""
    base_dir = base_dir or Path.cwd()
    bases: dict[str, dict] = {}

    def base(name: str) -> dict:
        if name not in bases:
            bases[name] = _read_base(name, base_dir, source)
        return copy.deepcopy(bases[name])

    factors = experiment.factors
    base_name = experiment.scenario
    # 1. every dotted path on its own, so an unknown path is named as such
    for dotted, value in experiment.overrides.items():
        _check_path(base(base_name), dotted, value, f"{source}: overrides.{dotted}")
    for i, factor in enumerate(factors):
        if factor.path == "scenario":
            for level in factor.levels or []:
                if not isinstance(level, str):
                    raise ExperimentError(f"{source}: factors[{i}].levels: {level!r} is not a scenario name")
                base(level)
            continue
        if factor.path == "strategy":
            for level in factor.levels or []:
                if not isinstance(level, str) or level not in PRESETS:
                    raise ExperimentError(f"{source}: factors[{i}].levels: unknown strategy {level!r}; "
                                          f"allowed: {', '.join(PRESETS)}")
            continue
        value = factor.levels[0] if factor.levels is not None else factor.low
        _check_path(base(base_name), factor.path, value, f"{source}: factors[{i}].path = {factor.path!r}")
    # 2. the design, counted before it is generated: a huge one is refused, not built
    check_design_size(experiment, source)
    points, matrix = design_points(experiment)
    # 3. every point's scenario
    scenarios = []
    for number, point in enumerate(points):
        data = base(point.get(_label(factors, "scenario"), base_name))
        # the preset swap clears the focal levers, so it comes before overrides and lever factors
        for factor in factors:
            if factor.path == "strategy":
                set_dotted(data, "firms.0.strategy", point[factor.label])
                set_dotted(data, "firms.0.levers", {})
        for dotted, value in experiment.overrides.items():
            set_dotted(data, dotted, value)
        for factor in factors:
            if factor.path not in SPECIAL_PATHS:
                _set(data, factor.path, point[factor.label], source)
        shown = ", ".join(f"{k} = {v!r}" for k, v in point.items())
        try:
            scenarios.append(from_dict(data, source=f"{source}: design point {number} ({shown})"))
        except ScenarioError as error:
            raise ExperimentError(str(error)) from None
    seeds = replicate_seeds(experiment.seed, experiment.replicates)
    hashes = [s.digest() for s in scenarios]
    dumps = [s.model_dump(mode="json") for s in scenarios]
    runs = [Run(run_id(p, r), p, r, seeds[r], dumps[p], hashes[p], points[p])
            for p in range(len(points)) for r in range(experiment.replicates)]
    return Plan(experiment, source, text, points, matrix, scenarios, seeds, runs,
                _plan_hash(experiment, hashes, seeds))


def _plan_hash(experiment: Experiment, hashes: list[str], seeds: list[int]) -> str:
    payload = json.dumps({"experiment": experiment.model_dump(mode="json", exclude={"description"}),
                          "scenarios": hashes, "seeds": seeds}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def with_replicates(plan: Plan, replicates: int) -> Plan:
    """``plan`` with ``replicates`` seeds per design point (same points, scenarios and root seed).

    A replicate's seed does not depend on how many replicates there are (the
    ``SeedSequence`` children are numbered), so the first runs of the longer plan
    are the runs of the shorter one, and its hash is the hash of the same experiment
    file written with ``replicates`` (``relsim sweep --extend-replicates``).
    """
    if replicates == plan.experiment.replicates:
        return plan
    experiment = plan.experiment.model_copy(update={"replicates": replicates})
    check_design_size(experiment, plan.source)
    seeds = replicate_seeds(experiment.seed, replicates)
    hashes = [s.digest() for s in plan.scenarios]
    dumps = [s.model_dump(mode="json") for s in plan.scenarios]
    runs = [Run(run_id(p, r), p, r, seeds[r], dumps[p], hashes[p], plan.points[p])
            for p in range(len(plan.points)) for r in range(replicates)]
    return Plan(experiment, plan.source, plan.text, plan.points, plan.matrix, plan.scenarios, seeds, runs,
                _plan_hash(experiment, hashes, seeds))


#: Most design points, and most runs (points × replicates), of one experiment.
MAX_POINTS = 10_000
MAX_RUNS = 200_000


def design_size(experiment: Experiment) -> int:
    """The number of design points ``experiment`` has, computed without generating them."""
    factors = experiment.factors
    design = experiment.design
    k = len(factors)
    if design.kind == "grid":
        size = 1
        for factor in factors:
            size *= len(factor.levels) if factor.levels is not None else int(factor.points or 0)
        return size
    samples = int(design.samples or 0)
    if design.kind == "lhs":
        return samples
    if design.kind == "sobol":
        return samples * (2 * k + 2 if design.second_order else k + 2)
    return samples * (k + 1)


def check_design_size(experiment: Experiment, source: str = "<experiment>") -> None:
    """Refuse (ExperimentError) a design of more than MAX_POINTS points or MAX_RUNS runs."""
    points = design_size(experiment)
    runs = points * experiment.replicates
    if points > MAX_POINTS or runs > MAX_RUNS:
        raise ExperimentError(
            f"{source}: design.kind = {experiment.design.kind!r} gives {points:,} design points × "
            f"{experiment.replicates} replicates = {runs:,} runs; at most {MAX_POINTS:,} points and "
            f"{MAX_RUNS:,} runs per experiment (lower design.samples, the levels or points, or replicates; "
            "or split the experiment)")


def design_points(experiment: Experiment) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """The design points (factor name → value) and, for sampled designs, the sample matrix."""
    factors = experiment.factors
    design = experiment.design
    if design.kind == "grid":
        axes = []
        for factor in factors:
            if factor.levels is not None:
                axes.append(list(factor.levels))
            else:
                # a grid factor without levels has a range and points (Experiment validates it)
                assert factor.low is not None and factor.high is not None and factor.points is not None
                values = np.linspace(factor.low, factor.high, factor.points)
                axes.append(_cast(factor, values))
        return [dict(zip([f.label for f in factors], combo, strict=True))
                for combo in itertools.product(*axes)], None
    from SALib.sample import latin, morris, sobol
    problem = {"num_vars": len(factors), "names": [f.label for f in factors],
               "bounds": [[f.low, f.high] for f in factors]}
    rng = design_generator(experiment.seed)
    if design.kind == "lhs":
        matrix = latin.sample(problem, design.samples, seed=rng)
    elif design.kind == "sobol":
        matrix = sobol.sample(problem, design.samples, calc_second_order=design.second_order, seed=rng)
    else:
        matrix = morris.sample(problem, design.samples, num_levels=design.morris_levels, seed=rng)
    for column, factor in enumerate(factors):
        if factor.integer:
            matrix[:, column] = np.round(matrix[:, column])
    points = [{f.label: _cast(f, [row[c]])[0] for c, f in enumerate(factors)} for row in matrix]
    return points, matrix


# --------------------------------------------------------------------------
def _cast(factor: FactorSpec, values) -> list:
    """Plain Python numbers (integers when asked) so TOML, JSON and Parquet agree."""
    return [round(float(v)) if factor.integer else float(v) for v in values]


def _label(factors: list[FactorSpec], path: str) -> str:
    return next((f.label for f in factors if f.path == path), "\0none")


def _read_base(name: str, base_dir: Path, source: str) -> dict:
    candidate = Path(name)
    path = base_dir / candidate if candidate.suffix and not candidate.is_absolute() else \
        resolve_scenario_path(name)
    if not path.exists():
        raise ExperimentError(f"{source}: scenario = {name!r}: cannot read {path} (No such file or directory); "
                              f"give a shipped name ({', '.join(shipped_names('scenario'))}) or a TOML path")
    try:
        data, _ = read_toml(path, "scenario", ExperimentError)
    except ExperimentError as error:
        raise ExperimentError(f"{source}: scenario = {name!r}: {error}") from None
    return data


def _set(data: dict, dotted: str, value: Any, source: str) -> None:
    try:
        set_dotted(data, dotted, value)
    except ScenarioError as error:
        raise ExperimentError(f"{source}: {error}") from None


def _check_path(data: dict, dotted: str, value: Any, where: str) -> None:
    """Apply one dotted path to the base scenario; it must name an existing field."""
    if any(part.startswith("-") for part in dotted.split(".")):
        # set_dotted would take Python's negative list indexes (firms.-1 = the last firm)
        raise ExperimentError(f"{where}: not a scenario field (list positions are 0-based numbers, "
                              "e.g. firms.0.quality)")
    try:
        set_dotted(data, dotted, value)
        from_dict(data, source=where)
    except ScenarioError as error:
        message = str(error)
        if "unknown field" in message or "cannot set" in message:
            raise ExperimentError(f"{where}: not a scenario field "
                                  f"({message.splitlines()[-1].strip()})") from None
        raise ExperimentError(message) from None
