"""Robust policies: search over the plausible worlds, and say in which worlds a policy fails.

``relsim optimize --robust N`` evaluates every trial's policy in ``N`` *plausible
worlds*: the scenario with its behavioural constants drawn by Latin hypercube
over their plausible ranges (:mod:`relsim.scenario.ranges`, the ranges of
docs/evidence.md), each world with its own run seed. Every trial meets the same
worlds (common random numbers), and the search maximises a robust statistic of
the outcome over them: a low quantile (``quantile:0.1``, the outcome the policy
reaches in 90 % of the worlds) or the mean less ``k`` standard deviations
(``mean-sd:1``). Constraints apply to the same statistic.

The winners are then confirmed in *fresh* worlds (another Latin hypercube,
other seeds) against the presets, and :func:`failure_boxes` says where the
recommended policy fails — earns less than the scenario's current strategy in
the same world, or breaks a constraint there — as boxes: ranges of a few constants
inside which failures concentrate, with their coverage (share of all failures
inside the box) and density (share of the worlds inside the box that fail),
found by a shallow classification tree (:func:`tree_boxes`, the default) or by
PRIM's peeling (:func:`prim`, Friedman & Fisher 1999; greedy, so with few
worlds and many constants it can restrict constants by chance).

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
>>> boxes = prim(x, (x["a"] > 0.7).to_numpy())
>>> sorted(boxes[0].limits), round(boxes[0].limits["a"][0], 1), boxes[0].density > 0.9
(['a'], 0.7, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relsim.scenario.ranges import Range, ranges_for, with_values
from relsim.scenario.schema import Scenario
from relsim.studies.evaluate import OUTCOMES, apply_policy, outcome_row
from relsim.util.errors import RelsimError

#: Robust statistics ``--robust-stat`` takes.
STATISTICS = ("quantile", "mean-sd")
#: Most worlds per trial.
MAX_WORLDS = 10_000


class RobustError(RelsimError):
    """A bad ``--robust`` or ``--robust-stat``."""


@dataclass(frozen=True)
class Robustness:
    """How a policy is judged over plausible worlds.

    Attributes
    ----------
    worlds : int
        Plausible worlds per trial (each one run).
    statistic : str
        ``quantile`` (the ``q`` quantile over the worlds) or ``mean-sd`` (mean − ``k``·sd).
    q, k : float
    seed : int
        Root of the worlds' Latin hypercube and run seeds.
    """

    worlds: int
    statistic: str = "quantile"
    q: float = 0.1
    k: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 2 <= self.worlds <= MAX_WORLDS:
            raise RobustError(f"--robust {self.worlds}: give 2 to {MAX_WORLDS:,} worlds")
        if self.statistic not in STATISTICS:
            raise RobustError(f"--robust-stat {self.statistic!r}: allowed: quantile:Q or mean-sd:K")
        if not 0 < self.q < 1:
            raise RobustError(f"--robust-stat quantile:{self.q:g}: the quantile must be between 0 and 1")
        if not (math.isfinite(self.k) and self.k >= 0):
            raise RobustError(f"--robust-stat mean-sd:{self.k:g}: k must be a finite number, 0 or more")

    def score(self, values: Sequence[float] | np.ndarray) -> float:
        """The robust statistic of an outcome's values over the worlds (NaN if none is finite)."""
        array = np.asarray(values, dtype=float)
        array = array[np.isfinite(array)]
        if array.size == 0:
            return math.nan
        if self.statistic == "quantile":
            return float(np.quantile(array, self.q))
        return float(array.mean() - self.k * (array.std(ddof=1) if array.size > 1 else 0.0))

    def text(self) -> str:
        if self.statistic == "quantile":
            return f"{100 * self.q:g} % quantile over {self.worlds} plausible worlds"
        return f"mean − {self.k:g}·sd over {self.worlds} plausible worlds"

    def describe(self) -> dict[str, Any]:
        return {"worlds": self.worlds, "statistic": self.statistic,
                **({"q": self.q} if self.statistic == "quantile" else {"k": self.k}), "seed": self.seed}


def parse_statistic(text: str) -> tuple[str, float]:
    """``quantile:0.1``, ``q10`` (the 10 % quantile), ``mean-sd:1.5`` or ``mean-sd`` (k = 1)."""
    text = text.strip().lower()
    try:
        if text.startswith("q") and text[1:].replace(".", "", 1).isdigit():
            return "quantile", float(text[1:]) / 100
        name, _, value = text.partition(":")
        if name == "quantile":
            return "quantile", float(value) if value else 0.1
        if name == "mean-sd":
            return "mean-sd", float(value) if value else 1.0
    except ValueError:
        pass
    raise RobustError(f"--robust-stat {text!r}: give quantile:Q (e.g. quantile:0.1 or q10) or mean-sd:K "
                      "(e.g. mean-sd:1)")


@dataclass
class Worlds:
    """Plausible worlds: one row per world (``world``, ``seed``, one column per constant)."""

    table: pd.DataFrame
    ranges: list[Range]
    scenarios: list[Scenario] = field(repr=False)

    @property
    def seeds(self) -> list[int]:
        return [int(s) for s in self.table["seed"]]

    @property
    def constants(self) -> list[str]:
        return [r.path for r in self.ranges]


def sample_worlds(scenario: Scenario, count: int, seed: int = 0) -> Worlds:
    """``count`` worlds: a Latin hypercube over the plausible range of every behavioural constant of
    ``scenario`` (:func:`relsim.scenario.ranges.ranges_for`), each world with its own run seed. The
    root ``SeedSequence(seed)`` spawns one child for the hypercube and one whose children are the seeds."""
    from scipy.stats import qmc
    ranges = ranges_for(scenario)
    if not ranges:
        raise RobustError(f"{scenario.name}: no constant with a plausible range to vary")
    sampler_root, seed_root = np.random.SeedSequence(seed).spawn(2)
    unit = qmc.LatinHypercube(d=len(ranges), rng=np.random.default_rng(sampler_root)).random(count)
    columns: dict[str, Any] = {"world": np.arange(count),
                               "seed": [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
                                        for c in seed_root.spawn(count)]}
    for j, row in enumerate(ranges):
        values = row.low + unit[:, j] * (row.high - row.low)
        columns[row.path] = np.round(values) if row.integer else values
    table = pd.DataFrame(columns)
    scenarios = [with_values(scenario, {r.path: float(values[r.path]) for r in ranges}, f"world {i}")
                 for i, values in enumerate(table.to_dict("records"))]
    return Worlds(table, ranges, scenarios)


class WorldsEvaluator:
    """A batch evaluator (:data:`relsim.studies.optimize.BatchEvaluator`): each policy in every world,
    one row per world (its seed in ``seed``), every run in ``executor``."""

    def __init__(self, worlds: Worlds, executor: Executor | None = None) -> None:
        self.worlds, self.executor = worlds, executor

    def __call__(self, policies: list[dict[str, Any]]) -> list[pd.DataFrame]:
        tasks = [(apply_policy(world, policy), seed) for policy in policies
                 for world, seed in zip(self.worlds.scenarios, self.worlds.seeds, strict=True)]
        if self.executor is None:
            rows = [outcome_row(s, seed) for s, seed in tasks]
        else:
            rows = [f.result() for f in [self.executor.submit(outcome_row, s, seed) for s, seed in tasks]]
        n = len(self.worlds.seeds)
        return [pd.DataFrame(rows[i * n:(i + 1) * n], columns=["seed", *OUTCOMES, "seconds"])
                for i in range(len(policies))]


# ----------------------------------------------------------------------
# where a policy fails: PRIM
# ----------------------------------------------------------------------
@dataclass
class Box:
    """A box of constants' ranges (only the restricted ones) and how failures concentrate in it."""

    limits: dict[str, tuple[float, float]]
    coverage: float        # share of all failures inside the box
    density: float         # share of the worlds inside the box that fail
    mass: float            # share of all worlds inside the box
    inside: int            # worlds inside
    base_density: float    # share of all worlds that fail
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)   # the data's range of each column

    def describe(self) -> str:
        """``a ≥ 0.7 and b ≤ 0.3`` (one-sided where the box keeps the data's end)."""
        parts = []
        for name, (low, high) in self.limits.items():
            data_low, data_high = self.spans.get(name, (-math.inf, math.inf))
            if low > data_low and high < data_high:
                parts.append(f"{low:.4g} ≤ {name} ≤ {high:.4g}")
            elif low > data_low:
                parts.append(f"{name} ≥ {low:.4g}")
            else:
                parts.append(f"{name} ≤ {high:.4g}")
        return " and ".join(parts) or "anywhere"


def prim(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05, min_mass: float = 0.05, min_coverage: float = 0.5,
         max_boxes: int = 2) -> list[Box]:
    """PRIM boxes (peeling) where ``y`` (True: the policy fails) concentrates over the columns of ``x``.

    Each step removes the ``alpha`` share of the points inside the box at the low or high end of one
    column, whichever raises the share of failures inside most, until the box would hold fewer than
    ``min_mass`` of the points. Of the boxes along the way, the one with the best balance of coverage
    and density (their harmonic mean) among those covering at least ``min_coverage`` of the failures
    is kept. Then restrictions that barely matter are dropped (one at a time, while the density falls
    by less than 5 % of itself), so a box names only the constants that concentrate the failures.
    The points it covers are set aside and the next box is peeled from the rest (up to
    ``max_boxes``). A box is kept only if most worlds inside it fail and its density beats the
    overall share of failures.
    """
    y = np.asarray(y, dtype=bool)
    values = x.to_numpy(dtype=float)
    total_failures, n = int(y.sum()), len(y)
    base = total_failures / n if n else 0.0
    boxes: list[Box] = []
    remaining = np.ones(n, dtype=bool)
    if total_failures == 0 or total_failures == n:
        return boxes
    for _ in range(max_boxes):
        if not y[remaining].any():
            break
        limits = _peel(values, y, remaining, alpha, max(2, math.ceil(min_mass * n)), min_coverage)
        if limits is None:
            break
        spans = np.column_stack([values[remaining].min(axis=0), values[remaining].max(axis=0)])
        limits = _prune(values, y, remaining, limits, spans)
        inside = remaining & np.all((values >= limits[:, 0]) & (values <= limits[:, 1]), axis=1)
        density = float(y[inside].mean()) if inside.any() else 0.0
        if density <= max(base, 0.5):
            break
        restricted = {name: (float(limits[j, 0]), float(limits[j, 1])) for j, name in enumerate(x.columns)
                      if limits[j, 0] > spans[j, 0] or limits[j, 1] < spans[j, 1]}
        boxes.append(Box(restricted, float(y[inside].sum() / total_failures), density, float(inside.sum() / n),
                         int(inside.sum()), base,
                         {name: (float(spans[j, 0]), float(spans[j, 1])) for j, name in enumerate(x.columns)
                          if name in restricted}))
        remaining &= ~inside
    return boxes


def _peel(values: np.ndarray, y: np.ndarray, remaining: np.ndarray, alpha: float, min_points: int,
          min_coverage: float) -> np.ndarray | None:
    """The limits (one row per column: low, high) of the best box on one peeling trajectory."""
    inside = remaining.copy()
    limits = np.column_stack([values[remaining].min(axis=0), values[remaining].max(axis=0)])
    failures = int(y[remaining].sum())
    trajectory = [(float(y[inside].mean()), float(y[inside].sum()) / failures, limits.copy())]
    while inside.sum() > min_points:
        best: tuple[float, int, int, float] | None = None
        for j in range(values.shape[1]):
            column = values[inside, j]
            for side in (0, 1):
                cut = np.quantile(column, alpha) if side == 0 else np.quantile(column, 1 - alpha)
                keep = inside & ((values[:, j] > cut) if side == 0 else (values[:, j] < cut))
                count = int(keep.sum())
                if count < min_points or count == int(inside.sum()):
                    continue
                density = float(y[keep].mean())
                if best is None or density > best[0] or (density == best[0] and count > best[1]):
                    best = (density, count, j * 2 + side, float(cut))
        if best is None:
            break
        _, _, code, cut = best
        j, side = divmod(code, 2)
        inside &= (values[:, j] > cut) if side == 0 else (values[:, j] < cut)
        limits[j, side] = values[inside, j].min() if side == 0 else values[inside, j].max()
        trajectory.append((float(y[inside].mean()), float(y[inside].sum()) / failures, limits.copy()))
    eligible = [t for t in trajectory if t[1] >= min_coverage] or trajectory[:1]
    density, _, chosen = max(eligible, key=lambda t: (2 * t[0] * t[1] / (t[0] + t[1]) if t[0] + t[1] else 0.0,
                                                      t[0]))
    return chosen if density > 0 else None


def _prune(values: np.ndarray, y: np.ndarray, remaining: np.ndarray, limits: np.ndarray, spans: np.ndarray,
           tolerance: float = 0.05) -> np.ndarray:
    """Release, one at a time, the restriction whose release costs least density, while that costs
    less than ``tolerance`` of the density."""
    limits = limits.copy()

    def density(bounds: np.ndarray) -> float:
        inside = remaining & np.all((values >= bounds[:, 0]) & (values <= bounds[:, 1]), axis=1)
        return float(y[inside].mean()) if inside.any() else 0.0

    while True:
        current = density(limits)
        best: tuple[float, int] | None = None
        for j in range(values.shape[1]):
            if limits[j, 0] <= spans[j, 0] and limits[j, 1] >= spans[j, 1]:
                continue
            released = limits.copy()
            released[j] = spans[j]
            value = density(released)
            if value >= current * (1 - tolerance) and (best is None or value > best[0]):
                best = (value, j)
        if best is None:
            return limits
        limits[best[1]] = spans[best[1]]


def tree_boxes(x: pd.DataFrame, y: np.ndarray, depth: int = 3, min_leaf: float = 0.05) -> list[Box]:
    """Boxes from a shallow classification tree: the leaves where most points fail.

    The tree splits on one column at a time (the split that lowers the Gini impurity most), at most
    ``depth`` levels deep, each leaf holding at least ``min_leaf`` of the points. A leaf where most
    points fail, and more than overall, is a box: the splits on its path, as ranges of the columns.
    Boxes are sorted by coverage (the share of all failures they hold). Unlike greedy peeling, a
    split looks at a whole column at once, so noise in the other columns does not steer it.
    """
    y = np.asarray(y, dtype=bool)
    values = x.to_numpy(dtype=float)
    n, total = len(y), int(y.sum())
    if total in (0, n):
        return []
    base = total / n
    smallest = max(2, math.ceil(min_leaf * n))
    spans = np.column_stack([values.min(axis=0), values.max(axis=0)])

    def leaf(mask: np.ndarray, limits: np.ndarray) -> Box | None:
        count, density = int(mask.sum()), float(y[mask].mean())
        if density <= max(base, 0.5):
            return None
        restricted = {name: (float(limits[j, 0]), float(limits[j, 1])) for j, name in enumerate(x.columns)
                      if limits[j, 0] > spans[j, 0] or limits[j, 1] < spans[j, 1]}
        return Box(restricted, float(y[mask].sum() / total), density, count / n, count, base,
                   {name: (float(spans[j, 0]), float(spans[j, 1])) for j, name in enumerate(x.columns)
                    if name in restricted})

    def grow(mask: np.ndarray, limits: np.ndarray, level: int) -> tuple[list[Box], bool]:
        """The failing leaves below this node, and whether this node is itself one failing leaf."""
        density = float(y[mask].mean())
        split = _best_split(values[mask], y[mask], smallest) if level < depth and 0 < density < 1 else None
        if split is None:
            box = leaf(mask, limits)
            return ([box], True) if box is not None else ([], False)
        j, cut = split
        below, above = limits.copy(), limits.copy()
        below[j, 1] = values[mask & (values[:, j] <= cut), j].max()
        above[j, 0] = values[mask & (values[:, j] > cut), j].min()
        low_boxes, low_leaf = grow(mask & (values[:, j] <= cut), below, level + 1)
        high_boxes, high_leaf = grow(mask & (values[:, j] > cut), above, level + 1)
        if low_leaf and high_leaf:           # both sides fail: the split says nothing, keep the node whole
            box = leaf(mask, limits)
            if box is not None:
                return [box], True
        return low_boxes + high_boxes, False

    boxes, _ = grow(np.ones(n, dtype=bool), spans.copy(), 0)
    return sorted(boxes, key=lambda box: (-box.coverage, -box.density))


def _best_split(values: np.ndarray, y: np.ndarray, smallest: int) -> tuple[int, float] | None:
    """The (column, cut) whose split ``<= cut`` / ``> cut`` lowers the Gini impurity most, or None."""
    n = len(y)
    best: tuple[float, int, float] | None = None
    parent = 2 * y.mean() * (1 - y.mean())
    for j in range(values.shape[1]):
        order = np.argsort(values[:, j], kind="stable")
        column, failing = values[order, j], y[order].astype(float)
        left_failures = np.cumsum(failing)[:-1]
        left = np.arange(1, n)
        right = n - left
        right_failures = failing.sum() - left_failures
        p_left, p_right = left_failures / left, right_failures / right
        impurity = (left * 2 * p_left * (1 - p_left) + right * 2 * p_right * (1 - p_right)) / n
        valid = (left >= smallest) & (right >= smallest) & (column[:-1] < column[1:])
        if not valid.any():
            continue
        i = int(np.argmin(np.where(valid, impurity, np.inf)))
        if best is None or impurity[i] < best[0]:
            best = (float(impurity[i]), j, float((column[i] + column[i + 1]) / 2))
    if best is None or best[0] >= parent - 1e-12:
        return None
    return best[1], best[2]


def failures(outcomes: pd.DataFrame, label: str, baseline: str, worlds: Worlds, objective: str,
             constraints: Sequence[Any] = ()) -> pd.DataFrame:
    """Per fresh world: the policy's and the baseline's ``objective``, and whether the policy fails there
    (below the baseline in the same world, or a constraint broken in that world)."""
    wide = outcomes.set_index(["policy", "seed"])
    mine, theirs = wide.loc[label], wide.loc[baseline]
    table = worlds.table.set_index("seed")
    frame = table.copy()
    frame[objective] = mine[objective].reindex(table.index).to_numpy(dtype=float)
    frame[f"{objective}_{baseline}"] = theirs[objective].reindex(table.index).to_numpy(dtype=float)
    worse = frame[objective] < frame[f"{objective}_{baseline}"]
    broken = np.zeros(len(frame), dtype=bool)
    for constraint in constraints:
        values = mine[constraint.outcome].reindex(table.index).to_numpy(dtype=float)
        broken |= np.array([constraint.violation(v) > 0 for v in values], dtype=bool)
    frame["worse_than_baseline"] = worse.to_numpy()
    frame["breaks_constraint"] = broken
    frame["fails"] = frame["worse_than_baseline"] | frame["breaks_constraint"]
    return frame.reset_index()


def failure_boxes(frame: pd.DataFrame, worlds: Worlds, method: str = "tree", **options: Any) -> list[Box]:
    """Boxes of the worlds' constants where the failures of :func:`failures` concentrate:
    ``tree`` (:func:`tree_boxes`, the default) or ``prim`` (:func:`prim`)."""
    find = tree_boxes if method == "tree" else prim
    return find(frame[worlds.constants], frame["fails"].to_numpy(dtype=bool), **options)


__all__ = ["Box", "Robustness", "Worlds", "WorldsEvaluator", "failure_boxes", "failures", "parse_statistic", "prim",
           "sample_worlds", "tree_boxes"]
