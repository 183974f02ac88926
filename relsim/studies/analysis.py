"""Analyse a results store: means with intervals, sensitivity indices, figures, a report.

``analyze(store)`` reads the focal firm's end-of-run summaries (pandas over
the Parquet files; DuckDB reads the same files) and writes to
``STORE/analysis/`` (or ``out``):

* ``point_means.csv``: mean and 95 % Student-t interval of every chosen
  metric per design point, over its replicate seeds;
* ``sensitivity.csv``: Sobol' first- and total-order indices (design
  ``sobol``) or Morris μ*, σ (design ``morris``) with their bootstrap 95 %
  intervals, from SALib, on the per-point means; for ``grid`` and ``lhs``
  designs, each factor's swing (main effect across its range) instead;
* ``contrast.csv``, ``best.csv``, ``response.csv`` when the experiment's
  ``[analysis]`` asks for them;
* ``best_point.csv``: the overall best design point for each metric, with
  its paired lead over the runner-up;
* figures (response curves, tornado or indices bar charts, a heat map of
  each metric for a two-factor grid) and ``report.html``, self-contained with
  the figures embedded, in plain words (labels, not column names; shares in
  %; a plain-language summary first).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from relsim.studies.compare import mean_interval
from relsim.studies.labels import (
    LOWER_IS_BETTER,
    SHARE_METRICS,
    column_label,
    factor_label,
    format_value,
    metric_label,
)
from relsim.studies.store import Store, StoreError
from relsim.util.style import PALETTE

LEVEL = 0.95


class StoreView:
    """The parts of a store an analysis reads.

    Attributes
    ----------
    manifest : dict
    design : DataFrame
        One row per design point.
    runs : DataFrame
        The focal firm's summary, one row per finished run, with the factors.
    factors : list of str
        Factor column names.
    metrics : list of str
        Metrics the experiment chose.
    """

    def __init__(self, store: str | Path) -> None:
        self.store = Store(store)
        self.manifest = self.store.manifest()
        damaged = self.store.verify_runs(self.manifest)
        if damaged:
            shown = "; ".join(f"{self.store.root / where}: {why}" for where, why in list(damaged.items())[:5])
            raise StoreError(f"{self.store.root}: {len(damaged)} damaged or foreign run file(s): {shown}"
                             f"{' ...' if len(damaged) > 5 else ''}; run relsim store check {self.store.root} "
                             "--repair, then resume the sweep to run them again")
        self.design = self.store.design()
        self.factors = [f.get("name") or ("focal_strategy" if f["path"] == "strategy" else f["path"])
                        for f in self.manifest["factors"]]
        self.specs = dict(zip(self.factors, self.manifest["factors"], strict=True))
        self.metrics = list(self.manifest["outputs"]["metrics"])
        missing = [f for f in self.factors if f not in self.design.columns]
        if missing:
            raise StoreError(f"{self.store.root / 'design.parquet'}: no column for factor(s) "
                             f"{', '.join(map(repr, missing))}; not this store's design "
                             "(resume the sweep to rewrite it)")
        summary = self.store.table("summary")
        if summary.empty:
            raise StoreError(f"{self.store.root}: no finished runs yet; run relsim sweep first")
        focal = summary[summary["focal"]]
        focal = focal.drop(columns=[c for c in self.factors if c in focal.columns])
        self.runs = focal.merge(self.design[["point", *self.factors]], on="point", how="left")
        self.failed = len(self.store.failed())
        self.expected = len(self.manifest["runs"])

    @property
    def kind(self) -> str:
        return self.manifest["design"]["kind"]

    def numeric(self, factor: str) -> bool:
        return self.specs[factor].get("levels") is None or all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.specs[factor]["levels"])


# --------------------------------------------------------------------------
def point_means(view: StoreView) -> pd.DataFrame:
    """Mean and 95 % interval of each metric per design point, over replicates."""
    rows = []
    for point, group in view.runs.groupby("point", sort=True):
        values = group.iloc[0][view.factors].to_dict()
        for metric in view.metrics:
            mean, low, high = mean_interval(group[metric].to_numpy(dtype=float), LEVEL)
            rows.append({"point": point, **values, "metric": metric, "mean": mean, "ci_low": low,
                         "ci_high": high, "runs": len(group)})
    return pd.DataFrame(rows)


def sensitivity(view: StoreView) -> tuple[pd.DataFrame, str]:
    """Sensitivity of each metric to each factor, and a note on how it was computed.

    Sobol' and Morris designs use SALib on the per-point means over replicates
    (averaging replicates takes the seeds' noise out of the indices); every
    design point needs at least one finished run. Grid and LHS designs get
    each factor's swing: the range of its level means (grid), or the
    least-squares slope times its range (LHS, numeric factors), with 95 % intervals.
    """
    kind = view.kind
    means = view.runs.groupby("point")[view.metrics].mean()
    rows = []
    if kind in ("sobol", "morris"):
        missing = sorted(set(view.design["point"]) - set(means.index))
        if missing:
            return pd.DataFrame(), (f"{kind} indices need every design point; {len(missing)} of "
                                    f"{len(view.design)} have no finished run yet (resume the sweep)")
        problem = {"num_vars": len(view.factors), "names": view.factors,
                   "bounds": [[view.specs[f]["low"], view.specs[f]["high"]] for f in view.factors]}
        design = view.manifest["design"]
        seed = int(view.manifest["root_seed"])
        for metric in view.metrics:
            y = means.loc[view.design["point"], metric].to_numpy(dtype=float)
            if not np.isfinite(y).all() or np.std(y) == 0:
                continue
            if kind == "sobol":
                from SALib.analyze import sobol
                result = sobol.analyze(problem, y, calc_second_order=design["second_order"],
                                       conf_level=LEVEL, seed=seed)
                for i, factor in enumerate(view.factors):
                    rows.append({"metric": metric, "factor": factor, "S1": result["S1"][i],
                                 "S1_conf": result["S1_conf"][i], "ST": result["ST"][i],
                                 "ST_conf": result["ST_conf"][i]})
            else:
                from SALib.analyze import morris
                x = view.design[view.factors].to_numpy(dtype=float)
                result = morris.analyze(problem, x, y, conf_level=LEVEL, num_levels=design["morris_levels"],
                                        seed=seed)
                for i, factor in enumerate(view.factors):
                    rows.append({"metric": metric, "factor": factor, "mu": result["mu"][i],
                                 "mu_star": result["mu_star"][i], "mu_star_conf": result["mu_star_conf"][i],
                                 "sigma": result["sigma"][i]})
        note = ("Sobol' first-order (S1) and total-order (ST) indices, 95 % bootstrap intervals (SALib), "
                "on the per-point means over replicates." if kind == "sobol" else
                "Morris elementary effects: μ* (mean absolute effect) with 95 % bootstrap interval, σ "
                "(interactions, non-linearity), on the per-point means over replicates (SALib).")
        return pd.DataFrame(rows), note
    runs = view.runs
    for metric in view.metrics:
        for factor in view.factors:
            if kind == "grid":
                levels = runs.groupby(factor, sort=False)[metric].mean()
                if len(levels) < 2:
                    continue
                # numeric factors: lowest to highest level (signed); categorical: worst to best
                if view.numeric(factor):
                    low, high = min(levels.index), max(levels.index)
                else:
                    high, low = levels.idxmax(), levels.idxmin()
                paired = _paired(runs, factor, metric, high, low, view.factors)
                mean, ci_low, ci_high = mean_interval(paired, LEVEL) if paired.size else (
                    levels.max() - levels.min(), np.nan, np.nan)
                rows.append({"metric": metric, "factor": factor, "swing": mean, "ci_low": ci_low,
                             "ci_high": ci_high, "from_level": str(low), "to_level": str(high)})
            elif view.numeric(factor):
                frame = runs[[*[f for f in view.factors if view.numeric(f)], metric]].dropna()
                slope, half = _ols(frame, factor, metric, [f for f in view.factors if view.numeric(f)])
                span = view.specs[factor]["high"] - view.specs[factor]["low"]
                rows.append({"metric": metric, "factor": factor, "swing": slope * span,
                             "ci_low": (slope - half) * span, "ci_high": (slope + half) * span,
                             "from_level": str(view.specs[factor]["low"]),
                             "to_level": str(view.specs[factor]["high"])})
    note = ("Swing: change in the mean when a factor moves from its lowest to its highest level (categorical: "
            "worst to best), paired over replicate seeds (other factors averaged), 95 % interval."
            if kind == "grid" else
            "Swing: least-squares slope (all factors together) times the factor's range, 95 % interval.")
    return pd.DataFrame(rows), note


def best_point(view: StoreView) -> pd.DataFrame:
    """The overall best design point for each metric (highest mean; lowest for costs,
    failures and waiting), with the runner-up and the paired lead over it
    (same replicate seeds), 95 % intervals."""
    rows = []
    for metric in view.metrics:
        means = view.runs.groupby("point")[metric].mean().dropna()
        if means.empty:
            continue
        ranked = means.sort_values(ascending=metric in LOWER_IS_BETTER)
        top = ranked.index[0]
        group = view.runs[view.runs["point"] == top]
        mean, low, high = mean_interval(group[metric].to_numpy(dtype=float), LEVEL)
        row = {"metric": metric, "point": int(top), **group.iloc[0][view.factors].to_dict(), "mean": mean,
               "ci_low": low, "ci_high": high, "points": len(means)}
        if len(ranked) > 1:
            second = ranked.index[1]
            paired = _paired(view.runs, "point", metric, top, second, [])
            lead, lead_low, lead_high = mean_interval(paired, LEVEL) if paired.size else (np.nan,) * 3
            if metric in LOWER_IS_BETTER:
                lead, lead_low, lead_high = -lead, -lead_high, -lead_low
            row.update({"runner_up": int(second), "lead": lead, "lead_ci_low": lead_low,
                        "lead_ci_high": lead_high, "clear_winner": bool(lead_low > 0)})
        rows.append(row)
    return pd.DataFrame(rows)


def contrast(view: StoreView) -> pd.DataFrame:
    """Paired differences of each level of a factor against the baseline level.

    Runs are paired on the replicate (same seed: common random numbers) and
    on the values of the other factors; one row per combination and level.
    """
    spec = view.manifest["analysis"].get("contrast")
    if not spec:
        return pd.DataFrame()
    factor = _label(view, spec["factor"])
    others = [f for f in view.factors if f != factor]
    rows = []
    groups = view.runs.groupby(others, sort=False) if others else [((), view.runs)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for level in view.specs[factor]["levels"]:
            if level == spec["baseline"]:
                continue
            for metric in view.metrics:
                paired = _paired(group, factor, metric, level, spec["baseline"], [])
                mean, low, high = mean_interval(paired, LEVEL)
                rows.append({**dict(zip(others, key, strict=True)), "level": level,
                             "baseline": spec["baseline"], "metric": metric, "difference": mean,
                             "ci_low": low, "ci_high": high, "pairs": paired.size,
                             "significant": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows)


def best(view: StoreView) -> pd.DataFrame:
    """For each combination of the other factors, the level of a factor with the highest mean."""
    spec = view.manifest["analysis"].get("best")
    if not spec:
        return pd.DataFrame()
    factor, metric = _label(view, spec["factor"]), spec["metric"]
    others = [f for f in view.factors if f != factor]
    rows = []
    groups = view.runs.groupby(others, sort=True) if others else [((), view.runs)]
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        levels = group.groupby(factor)[metric].mean().sort_values(ascending=False)
        top, second = levels.index[0], levels.index[1] if len(levels) > 1 else None
        mean, low, high = mean_interval(group.loc[group[factor] == top, metric].to_numpy(dtype=float), LEVEL)
        row = {**dict(zip(others, key, strict=True)), "best": top, "metric": metric, "mean": mean,
               "ci_low": low, "ci_high": high}
        if second is not None:
            lead = _paired(group, factor, metric, top, second, [])
            d, d_low, d_high = mean_interval(lead, LEVEL)
            row.update({"runner_up": second, "lead": d, "lead_ci_low": d_low, "lead_ci_high": d_high,
                        "clear_winner": bool(d_low > 0)})
        rows.append(row)
    return pd.DataFrame(rows)


def response(view: StoreView) -> pd.DataFrame:
    """Change in ``y`` per change ``delta`` in ``x`` over the runs (least squares, 95 % interval)."""
    spec = view.manifest["analysis"].get("response")
    if not spec:
        return pd.DataFrame()
    frame = view.runs[[spec["x"], spec["y"]]].dropna()
    if len(frame) < 3 or frame[spec["x"]].std() == 0:
        return pd.DataFrame()
    fit = stats.linregress(frame[spec["x"]], frame[spec["y"]])
    half = stats.t.ppf(0.5 + LEVEL / 2, len(frame) - 2) * fit.stderr
    delta = spec["delta"]
    return pd.DataFrame([{"x": spec["x"], "y": spec["y"], "delta": delta, "change": fit.slope * delta,
                          "ci_low": (fit.slope - half) * delta, "ci_high": (fit.slope + half) * delta,
                          "r_squared": fit.rvalue ** 2, "runs": len(frame)}])


# --------------------------------------------------------------------------
def _label(view: StoreView, name: str) -> str:
    for label, spec in view.specs.items():
        if name in (label, spec["path"]):
            return label
    raise StoreError(f"analysis names factor {name!r}, which is not a factor of this store")


def _paired(runs: pd.DataFrame, factor: str, metric: str, level, baseline, others: list[str]) -> np.ndarray:
    """Differences level − baseline, matched on replicate and the other factors' values."""
    keys = ["replicate", *[f for f in others if f != factor]]
    a = runs[runs[factor] == level].groupby(keys)[metric].mean()
    b = runs[runs[factor] == baseline].groupby(keys)[metric].mean()
    if keys != ["replicate"]:    # average other factors away within a replicate
        a = a.groupby(level="replicate").mean()
        b = b.groupby(level="replicate").mean()
    both = pd.concat([a, b], axis=1, keys=["a", "b"]).dropna()
    return (both["a"] - both["b"]).to_numpy(dtype=float)


def _ols(frame: pd.DataFrame, factor: str, metric: str, numeric: list[str]) -> tuple[float, float]:
    """Slope of ``metric`` on ``factor`` in a joint least-squares fit, and its interval half-width."""
    x = np.column_stack([np.ones(len(frame)), frame[numeric].to_numpy(dtype=float)])
    y = frame[metric].to_numpy(dtype=float)
    if len(y) <= x.shape[1]:
        return (np.nan, np.nan)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    dof = len(y) - x.shape[1]
    sigma2 = residual @ residual / dof
    covariance = sigma2 * np.linalg.pinv(x.T @ x)
    column = 1 + numeric.index(factor)
    return (float(coef[column]), float(stats.t.ppf(0.5 + LEVEL / 2, dof) * np.sqrt(covariance[column, column])))


# --------------------------------------------------------------------------
def _finish(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def figure_responses(view: StoreView, metric: str, path: Path) -> Path:
    """Response curves: the metric against each factor (means over the others, 95 % band)."""
    count = len(view.factors)
    scale = 100.0 if metric in SHARE_METRICS else 1.0     # shares in %
    fig, axes = plt.subplots(1, count, figsize=(4.2 * count, 3.6), squeeze=False, sharey=True)
    for ax, factor in zip(axes[0], view.factors, strict=True):
        if view.kind == "grid":
            rows = []
            for value, group in view.runs.groupby(factor, sort=False):
                rows.append((value, *(scale * v for v in mean_interval(group[metric].to_numpy(dtype=float),
                                                                         LEVEL))))
            if view.numeric(factor):
                rows.sort(key=lambda r: r[0])
                x = np.array([r[0] for r in rows], dtype=float)
                ax.plot(x, [r[1] for r in rows], color=PALETTE[0], linewidth=2, marker="o")
                ax.fill_between(x, [r[2] for r in rows], [r[3] for r in rows], color=PALETTE[0], alpha=0.2,
                                linewidth=0)
            else:
                positions = np.arange(len(rows))
                means = np.array([r[1] for r in rows], dtype=float)
                errors = np.abs(np.vstack([means - np.array([r[2] for r in rows], dtype=float),
                                           np.array([r[3] for r in rows], dtype=float) - means]))
                ax.errorbar(positions, means, yerr=np.nan_to_num(errors), fmt="o", color=PALETTE[0], capsize=4)
                ax.set_xticks(positions, [str(r[0]) for r in rows], rotation=20)
                ax.set_xlim(-0.5, len(rows) - 0.5)
        else:
            per_point = view.runs.groupby("point").agg(x=(factor, "first"), y=(metric, "mean"))
            ax.scatter(per_point["x"], scale * per_point["y"], s=12, color=PALETTE[0], alpha=0.7)
        ax.set_xlabel(factor_label(factor))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{metric_label(metric)}{' (%)' if scale != 1 else ''}\nfocal firm")
    fig.suptitle(f"Response of {metric_label(metric).lower()} to each factor\n"
                 + ("(mean over the other factors and seeds, 95 % band)" if view.kind == "grid"
                    else "(one dot per design point, mean over seeds)"), fontsize=10)
    return _finish(fig, path)


def figure_sensitivity(table: pd.DataFrame, metric: str, kind: str, path: Path) -> Path | None:
    """Indices bar chart (Sobol', Morris) or tornado (grid, LHS swings), 95 % error bars."""
    part = table[table["metric"] == metric].copy()
    if part.empty:
        return None
    part["factor"] = [factor_label(f) for f in part["factor"]]
    if kind not in ("sobol", "morris") and metric in SHARE_METRICS:      # swings of shares in points
        part[["swing", "ci_low", "ci_high"]] *= 100
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(part) + 1.6))
    if kind == "sobol":
        positions = np.arange(len(part))
        ax.barh(positions + 0.2, part["S1"], height=0.4, xerr=part["S1_conf"], color=PALETTE[0],
                label="first order S1", capsize=3)
        ax.barh(positions - 0.2, part["ST"], height=0.4, xerr=part["ST_conf"], color=PALETTE[1],
                label="total order ST", capsize=3)
        ax.set_yticks(positions, part["factor"])
        ax.set_xlabel("Sobol' index (share of output variance)")
        ax.legend()
    elif kind == "morris":
        positions = np.arange(len(part))
        ax.barh(positions, part["mu_star"], xerr=part["mu_star_conf"], color=PALETTE[0], capsize=3)
        ax.set_yticks(positions, part["factor"])
        ax.set_xlabel(f"Morris μ* of {metric_label(metric).lower()} (mean absolute elementary effect)")
    else:
        part = part.reindex(part["swing"].abs().sort_values().index)
        positions = np.arange(len(part))
        errors = np.abs(np.vstack([part["swing"] - part["ci_low"], part["ci_high"] - part["swing"]]))
        colours = [PALETTE[2] if s >= 0 else PALETTE[5] for s in part["swing"]]
        ax.barh(positions, part["swing"], xerr=np.nan_to_num(errors), color=colours, capsize=3)
        ax.set_yticks(positions, [f"{f}\n{a} → {b}" for f, a, b in
                                  zip(part["factor"], part["from_level"], part["to_level"], strict=True)],
                      fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"Change in mean {metric_label(metric).lower()} across the factor's range"
                      + (" (percentage points)" if metric in SHARE_METRICS else ""))
    ax.set_title(f"Sensitivity of {metric_label(metric).lower()} (focal firm)\n95 % intervals", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


def heatmap_factors(view: StoreView) -> tuple[str, str] | None:
    """The two factors of a two-factor grid (rows, columns), or None for any other design."""
    if view.kind != "grid" or len(view.factors) != 2:
        return None
    rows, columns = view.factors
    if view.runs[rows].nunique() < 2 or view.runs[columns].nunique() < 2:
        return None
    return rows, columns


def figure_heatmap(view: StoreView, metric: str, path: Path) -> Path | None:
    """Heat map of a metric's mean over the two factors of a grid; the best cell framed."""
    pair = heatmap_factors(view)
    if pair is None:
        return None
    rows, columns = pair
    levels = {f: list(view.specs[f]["levels"]) if view.specs[f].get("levels") is not None
              else sorted(view.runs[f].unique()) for f in pair}
    table = view.runs.groupby([rows, columns])[metric].mean().unstack(columns)
    table = table.reindex(index=[v for v in levels[rows] if v in table.index],
                          columns=[v for v in levels[columns] if v in table.columns])
    values = table.to_numpy(dtype=float)
    if not np.isfinite(values).any():
        return None
    fig, ax = plt.subplots(figsize=(1.3 * values.shape[1] + 3.2, 0.7 * values.shape[0] + 2.2))
    colours = "viridis_r" if metric in LOWER_IS_BETTER else "viridis"
    image = ax.imshow(values * (100 if metric in SHARE_METRICS else 1), cmap=colours, aspect="auto")
    middle = np.nanmean(values)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                dark = (values[i, j] < middle) != (metric in LOWER_IS_BETTER)
                ax.text(j, i, format_value(values[i, j], metric), ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    best = np.nanargmin(values) if metric in LOWER_IS_BETTER else np.nanargmax(values)
    i, j = np.unravel_index(best, values.shape)
    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2.5))
    ax.set_xticks(range(values.shape[1]), [str(v) for v in table.columns], rotation=20)
    ax.set_yticks(range(values.shape[0]), [str(v) for v in table.index])
    ax.set_xlabel(factor_label(columns))
    ax.set_ylabel(factor_label(rows))
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(metric_label(metric) + (" (%)" if metric in SHARE_METRICS else ""))
    ax.set_title(f"{metric_label(metric)} (focal firm): mean over seeds\nbest cell framed", fontsize=10)
    return _finish(fig, path)


# --------------------------------------------------------------------------
def _check_not_the_stores_own(store: Path, out: Path) -> None:
    """Refuse an analysis folder that is the store itself or one of its own folders (its tables,
    ``failures``): the report would be written among the runs (``STORE/analysis`` or any other
    new folder inside the store is fine)."""
    from relsim.studies.store import SUBFOLDERS

    root, target = store.resolve(), out.resolve()
    own = [root, *(root / name for name in SUBFOLDERS)]
    for folder in own:
        if target == folder or (folder != root and folder in target.parents):
            what = "the store itself" if folder == root else f"the store's own folder {folder.name!r}"
            raise StoreError(f"--out {out}: {what}; the analysis must go to a folder of its own "
                             f"(default {store / 'analysis'})")


def analyze(store: str | Path, out: str | Path | None = None) -> dict[str, Path]:
    """Write the analysis of ``store`` (tables, figures, ``report.html``) to ``out``.

    Parameters
    ----------
    store : str or Path
        A results store written by :func:`relsim.studies.sweep.sweep`.
    out : str or Path, optional
        Folder for the analysis; default ``STORE/analysis``. Written through a
        staging folder, so an error leaves nothing half-written.

    Returns
    -------
    dict
        Paths of what was written, by file name.
    """
    from relsim.util.outputs import check_no_links, staged_output

    view = StoreView(store)
    if out is None:                  # the default folder, below the store: never through a link
        out = Path(store) / "analysis"
        check_no_links(Path(store), out)
    out = Path(out)
    _check_not_the_stores_own(Path(store), out)
    tables: dict[str, pd.DataFrame] = {"point_means": point_means(view), "best_point": best_point(view)}
    indices, note = sensitivity(view)
    tables["sensitivity"] = indices
    for name, compute in (("contrast", contrast), ("best", best), ("response", response)):
        tables[name] = compute(view)
    written: dict[str, Path] = {}
    with staged_output(out) as staging:
        for name, table in tables.items():
            if not table.empty:
                table.to_csv(staging / f"{name}.csv", index=False)
                written[f"{name}.csv"] = out / f"{name}.csv"
        figures: list[tuple[str, Path]] = []
        for number, metric in enumerate(view.metrics):
            heat = figure_heatmap(view, metric, staging / f"heatmap_{number}.png")
            if heat is not None:
                figures.append((f"Heat map: {metric_label(metric).lower()}", heat))
            figures.append((f"Response curves: {metric_label(metric).lower()}",
                            figure_responses(view, metric, staging / f"response_{number}.png")))
            path = figure_sensitivity(indices, metric, view.kind, staging / f"sensitivity_{number}.png") \
                if not indices.empty else None
            if path is not None:
                figures.append((f"Sensitivity: {metric_label(metric).lower()}", path))
        _write_html(view, tables, note, figures, staging / "report.html")
        for _, path in figures:
            written[path.name] = out / path.name
        written["report.html"] = out / "report.html"
    return written


#: Columns of each table in the unit of its row's metric ("value") or as a change ("difference").
TABLE_UNITS: dict[str, dict[str, str]] = {
    "point_means": {"mean": "value", "ci_low": "value", "ci_high": "value"},
    "best_point": {"mean": "value", "ci_low": "value", "ci_high": "value", "lead": "difference",
                   "lead_ci_low": "difference", "lead_ci_high": "difference"},
    "contrast": {"difference": "difference", "ci_low": "difference", "ci_high": "difference"},
    "best": {"mean": "value", "ci_low": "value", "ci_high": "value", "lead": "difference",
             "lead_ci_low": "difference", "lead_ci_high": "difference"},
    "response": {"change": "difference", "ci_low": "difference", "ci_high": "difference"},
    "sensitivity": {"swing": "difference", "ci_low": "difference", "ci_high": "difference"},
}


def _html_table(frame: pd.DataFrame, limit: int = 200, units: dict[str, str] | None = None,
                metric_column: str = "metric") -> str:
    """An HTML table in plain words: column labels, metric and factor names, values in their
    metric's unit (shares in %, differences of shares in points, money compact)."""
    if frame.empty:
        return "<p><em>none</em></p>"
    units = units or {}
    shown = frame.head(limit)
    head = "".join(f"<th>{html.escape(column_label(str(c)))}</th>" for c in shown.columns)
    body = []
    for row in shown.to_dict("records"):
        metric = row.get(metric_column)
        cells = []
        for column, value in row.items():
            if column in ("metric", "x", "y") and isinstance(value, str):
                text = metric_label(value)
            elif column == "factor" and isinstance(value, str):
                text = factor_label(value)
            elif column in units:
                if units[column] == "value" and metric in SHARE_METRICS and isinstance(value, float):
                    value = min(max(value, 0.0), 1.0)    # a share's interval stops at 0 % and 100 %
                text = format_value(value, metric, difference=units[column] == "difference")
            else:
                text = _cell(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p><em>first {limit} of {len(frame)} rows; all in the CSV file</em></p>" if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "n/a"
        return f"{value:,.4g}" if abs(float(value)) < 1000 else f"{value:,.0f}"
    return str(value)


def _summary(view: StoreView, tables: dict[str, pd.DataFrame]) -> list[str]:
    """The report's first paragraphs: the best design point per metric and what moves it most."""
    lines = []
    for row in tables["best_point"].to_dict("records"):
        metric = row["metric"]
        where = ", ".join(f"{factor_label(f)} = {row[f]}" for f in view.factors)
        word = "Lowest" if metric in LOWER_IS_BETTER else "Highest"
        text = (f"<strong>{word} {html.escape(metric_label(metric).lower())}</strong>: design point {row['point']} "
                f"({html.escape(where)}), {format_value(row['mean'], metric)} (95 % "
                f"{format_value(row['ci_low'], metric)} to {format_value(row['ci_high'], metric)}).")
        if "runner_up" in row and pd.notna(row.get("runner_up")):
            lead = (f"{format_value(row['lead'], metric, difference=True)} (95 % "
                    f"{format_value(row['lead_ci_low'], metric, difference=True)} to "
                    f"{format_value(row['lead_ci_high'], metric, difference=True)})")
            text += (f" It leads the runner-up, point {int(row['runner_up'])}, by {lead}, paired over the same "
                     "seeds: " + ("a clear lead." if row.get("clear_winner") else
                                  "not a clear lead; with these seeds the top designs cannot be told apart "
                                  "(add replicates: relsim sweep --extend-replicates N)."))
        lines.append(text)
    indices = tables["sensitivity"]
    if not indices.empty:
        score = {"sobol": "ST", "morris": "mu_star"}.get(view.kind, "swing")
        for metric, part in indices.groupby("metric", sort=False):
            values = part[score].abs()
            if not values.notna().any():
                continue
            top = part.loc[values.idxmax()]
            if score == "swing":
                how = (f"moving it from {top['from_level']} to {top['to_level']} changes the mean by "
                       f"{format_value(top['swing'], str(metric), difference=True)}")
            elif score == "ST":
                how = f"total-order Sobol' index {top['ST']:.2f} (share of the variance it takes part in)"
            else:
                how = f"Morris μ* {top['mu_star']:,.4g}"
            lines.append(f"{html.escape(metric_label(str(metric)))} moves most with "
                         f"<strong>{html.escape(factor_label(top['factor']))}</strong>: {html.escape(how)}.")
    return lines


def _write_html(view: StoreView, tables: dict[str, pd.DataFrame], note: str,
                figures: list[tuple[str, Path]], path: Path) -> Path:
    manifest = view.manifest
    title = f"relsim sweep — {manifest['experiment']}"
    finished = len(view.store.finished())
    seconds = pd.Series(manifest.get("run_seconds") or {}, dtype=float)
    compute = (f" Compute: {seconds.sum():,.0f} s over {len(seconds)} runs (median {seconds.median():.2f} s a run)."
               if len(seconds) else "")
    versions = (manifest.get("environment") or {}).get("versions") or {}
    made = (" Made with " + ", ".join(f"{html.escape(str(k))} {html.escape(str(v))}" for k, v in versions.items()
                                      if k != "relsim" and v) + "." if versions else "")
    facts = [
        f"Experiment <strong>{html.escape(manifest['experiment'])}</strong>: "
        f"{html.escape(manifest.get('description') or '')}",
        f"Design <code>{html.escape(view.kind)}</code> over "
        f"{', '.join(html.escape(factor_label(f)) for f in view.factors)}: "
        f"{manifest['points']} points × {manifest['replicates']} replicate seeds = {view.expected} runs; "
        f"{finished} finished, {view.failed} failed.{compute}",
        f"Experiment hash <code>{manifest['experiment_hash']}</code>, code <code>"
        f"{html.escape(manifest['code_version'])}</code>, root seed {manifest['root_seed']}.{made}",
        "Metrics are the focal firm's end-of-run summary; intervals are 95 % Student-t over replicate seeds; "
        "replicates share seeds across design points (common random numbers), so differences are paired.",
    ]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p><em>Generated {dt.date.today().isoformat()} by relsim.</em></p>",
             "<h2>Summary</h2>", "".join(f"<p>{line}</p>" for line in _summary(view, tables)),
             "<ul>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>"]
    sections = [
        ("Best design point", "best_point", "The design point with the best mean of each outcome (lowest for "
                                            "costs, failures and waiting) and its paired lead over the runner-up."),
        ("Contrast (paired differences against the baseline)", "contrast", ""),
        ("Best level", "best", ""),
        ("Response", "response", "Least-squares change of y for a change delta of x, over all runs."),
        ("Sensitivity", "sensitivity", note),
        ("Means per design point", "point_means", ""),
    ]
    for heading, name, text in sections:
        if tables[name].empty and name in ("contrast", "best", "response"):
            continue
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if text:
            parts.append(f"<p>{html.escape(text)}</p>")
        parts.append(_html_table(tables[name], units=TABLE_UNITS.get(name) if name != "sensitivity" or
                                 view.kind not in ("sobol", "morris") else None,
                                 metric_column="y" if name == "response" else "metric"))
    parts.append("<h2>Figures</h2>")
    for caption, figure in figures:
        data = base64.b64encode(figure.read_bytes()).decode()
        parts.append(f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("<h2>Query the store yourself</h2><pre>"
                 + html.escape(f"pandas: pd.read_parquet('{view.store.root}/summary')\n"
                               f"duckdb: duckdb.execute(\"select * from read_parquet("
                               f"'{view.store.root}/summary/*.parquet')\").df()") + "</pre>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
             "line-height:1.5;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:100%}"
             "figcaption{color:#555;font-size:90%}")
    path.write_text(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
                    f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>", encoding="utf-8")
    return path


def command_analyze(args) -> int:
    """The ``relsim analyze`` command (see :mod:`relsim.cli`)."""
    written = analyze(args.store, args.out)
    view_failed = Store(args.store).failed()
    for name in ("contrast.csv", "best.csv", "response.csv"):
        if name in written:
            print(f"\n{name[:-4]}:")
            print(pd.read_csv(written[name]).to_string(index=False, max_rows=40))
    if view_failed:
        print(f"\nnote: {len(view_failed)} runs failed and are left out", flush=True)
    print(f"\nreport: {written['report.html']}")
    return 0


__all__ = ["StoreView", "analyze", "best", "contrast", "point_means", "response", "sensitivity"]
