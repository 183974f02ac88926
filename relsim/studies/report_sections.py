"""The compare report's answers to "how sure, and why": parameter uncertainty,
lever attribution and the generated limitations, as Markdown sections and figures.

:func:`relsim.studies.report.write_report` calls :func:`sections` and
:func:`figures`; each returns nothing for a part that was not run.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from relsim.studies.attribution import INTERACTION, Attribution
from relsim.studies.compare import Comparison
from relsim.studies.formats import _finish, _money_axis, money
from relsim.studies.limitations import limitations
from relsim.studies.uncertainty import OUTCOMES, Uncertainty
from relsim.util.style import PALETTE

PROFIT, RETENTION = "cumulative_discounted_profit", "annual_retention"
#: Words for the outcomes judged.
WORDS = {PROFIT: "profit (cumulative, discounted)", RETENTION: "annual retention"}
#: Drivers shown per outcome (table and figure).
TOP_DRIVERS = 8


def _diff(value: float, metric: str) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{100 * value:+.1f} pts" if metric == RETENTION else money(value, signed=True)


# -- parameter uncertainty -----------------------------------------------------------------------
def uncertainty_markdown(uncertainty: Uncertainty) -> str:
    """Wins with their interval, the distribution of the difference, the constants that decide it."""
    wins = uncertainty.wins().set_index(["strategy", "metric"])
    spread = uncertainty.distribution().set_index(["strategy", "metric"])
    drivers = uncertainty.drivers()
    n = len(uncertainty.sets)
    blocks = [f"{n} parameter sets drawn by Latin hypercube over the plausible ranges of "
              f"{len(uncertainty.ranges)} constants nobody measured for this market (behaviour, market and "
              "competitor response, segments, supply; docs/evidence.md; table in "
              "`relsim/scenario/ranges.py`), every strategy run on each set with the same seed "
              f"(common random numbers; root seed {uncertainty.seed}). A strategy *wins* a set when its "
              "difference from the baseline is above zero; the interval is the 95 % Clopper–Pearson "
              "interval of the share of plausible worlds in which it wins."]
    for strategy in uncertainty.strategies[1:]:
        lines = []
        for metric in (RETENTION, PROFIT):
            row = wins.loc[(strategy, metric)]
            dist = spread.loc[(strategy, metric)]
            lines.append(
                f"- **{WORDS[metric].capitalize()}:** *{strategy}* wins in {int(row['wins'])} of "
                f"{int(row['sets'])} sets ({100 * row['win_share']:.0f} %, 95 % interval "
                f"{100 * row['ci_low']:.0f}–{100 * row['ci_high']:.0f} %), *{uncertainty.baseline}* in "
                f"{int(row['losses'])}; the difference ranges {_diff(dist['min'], metric)} to "
                f"{_diff(dist['max'], metric)} (median {_diff(dist['median'], metric)}, middle 90 % "
                f"{_diff(dist['p05'], metric)} to {_diff(dist['p95'], metric)}).")
        blocks.append("\n".join(lines))
        table = ["| Outcome | Constant | Basis | Range | Spearman ρ | p (Holm) | Decides |",
                 "|---|---|---|---|---|---|---|"]
        named = []
        for metric in (PROFIT, RETENTION):
            mine = drivers[(drivers["strategy"] == strategy) & (drivers["metric"] == metric)].head(TOP_DRIVERS)
            for row in mine.itertuples(index=False):
                # ρ and p are not defined below 3 sets (or for a constant or outcome that did not vary)
                rho = f"{row.rho:+.2f}" if np.isfinite(row.rho) else "—"
                p_holm = f"{row.p_holm:.3f}" if np.isfinite(row.p_holm) else "—"
                table.append(f"| {OUTCOMES[metric]} | `{row.constant}` | {row.basis} | {row.low:g}–{row.high:g} | "
                             f"{rho} | {p_holm} | {'yes' if row.decides else 'no'} |")
            deciding = mine[mine["decides"]]["constant"].tolist()
            leads = mine["constant"].head(3).tolist()
            if not np.isfinite(uncertainty.chance_rho()):
                named.append(f"At {n} sets no rank correlation with the {OUTCOMES[metric]} difference can be told "
                             "from chance (that needs 4 sets or more: `--uncertainty 4`).")
            elif deciding:
                named.append(f"The {OUTCOMES[metric]} verdict depends most on "
                             + ", ".join(f"`{c}`" for c in deciding) + " (Holm-adjusted p < 0.05).")
            else:
                named.append(f"No constant's rank correlation with the {OUTCOMES[metric]} difference stands out "
                             f"from chance at {n} sets (|ρ| above {uncertainty.chance_rho():.2f} for one "
                             "constant, more after adjusting for all of them); the strongest leads are "
                             + ", ".join(f"`{c}`" for c in leads) + ".")
        blocks.append(" ".join(named))
        blocks.append("\n".join(table))
    return "\n\n".join(blocks)


def figure_uncertainty(uncertainty: Uncertainty, path: Path) -> Path:
    """Distribution of the difference over the parameter sets, profit and retention."""
    differences = uncertainty.differences()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, metric in zip(axes, (PROFIT, RETENTION), strict=True):
        for colour, strategy in zip(PALETTE[1:], uncertainty.strategies[1:], strict=False):
            values = differences.loc[differences["strategy"] == strategy, metric].to_numpy(dtype=float)
            values = values[~np.isnan(values)] * (100 if metric == RETENTION else 1)
            ax.hist(values, bins=max(5, min(30, values.size // 2)), color=colour, alpha=0.6,
                    label=f"{strategy} − {uncertainty.baseline}")
        ax.axvline(0, color="black", linewidth=1)
        if metric == PROFIT:
            _money_axis(ax.xaxis)
            ax.set_xlabel("Difference in cumulative discounted profit\n(currency; k = thousand, M = million)")
        else:
            ax.set_xlabel("Difference in annual retention (points)")
        ax.set_ylabel("Parameter sets")
        ax.set_title(f"{OUTCOMES[metric].capitalize()}: difference over {len(uncertainty.sets)} sets")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return _finish(fig, path)


def figure_drivers(uncertainty: Uncertainty, path: Path) -> Path:
    """Rank correlation of the strongest constants with each difference (first strategy vs baseline)."""
    drivers = uncertainty.drivers()
    strategy = uncertainty.strategies[1]
    chance = uncertainty.chance_rho()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, metric in zip(axes, (PROFIT, RETENTION), strict=True):
        mine = drivers[(drivers["strategy"] == strategy) & (drivers["metric"] == metric)].head(TOP_DRIVERS)
        positions = np.arange(len(mine))[::-1]
        colours = [PALETTE[2] if rho >= 0 else PALETTE[5] for rho in mine["rho"].fillna(0)]
        ax.barh(positions, mine["rho"].fillna(0), color=colours)
        ax.set_yticks(positions, [c.removeprefix("behaviour.") for c in mine["constant"]], fontsize=8)
        if np.isfinite(chance):
            for x in (-chance, chance):
                ax.axvline(x, color="grey", linestyle="--", linewidth=0.8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("Spearman ρ with the difference")
        ax.set_title(f"What decides {OUTCOMES[metric]} ({strategy} − {uncertainty.baseline})")
        ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


# -- lever attribution ---------------------------------------------------------------------------
def attribution_markdown(attributions: list[Attribution]) -> str:
    """Per strategy: how the method works, its cost, and the table of parts with intervals."""
    blocks = []
    for part in attributions:
        table = part.table()
        how = ("one lever group switched at a time from the baseline, plus the interaction remainder"
               if part.method == "oat" else
               f"Shapley values over lever groups ({'exact, every coalition' if part.exact else 'sampled orders'})")
        blocks.append(f"*{part.strategy}* − *{part.baseline}*: {how}; {part.runs_per_seed} lever mixes × "
                      f"{len(part.seeds)} seed(s) = {part.runs_per_seed * len(part.seeds)} runs, common random "
                      f"numbers. The parts add up to the total on every seed (largest gap "
                      f"{part.check_additivity():.1e} of the total).")
        rows = ["| Lever group | Profit (mean [95 % interval]) | Retention (points, mean [95 % interval]) |",
                "|---|---|---|"]
        order = [*part.groups, *([INTERACTION] if part.method == "oat" else []), "total"]
        indexed = table.set_index(["metric", "part"])
        for name in order:
            cells = []
            for metric in (PROFIT, RETENTION):
                row = indexed.loc[(metric, name)]
                cells.append(f"{_diff(row['mean'], metric)} [{_diff(row['ci_low'], metric)}, "
                             f"{_diff(row['ci_high'], metric)}]")
            label = f"**{name}**" if name == "total" else name
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def figure_attribution(attributions: list[Attribution], path: Path) -> Path:
    """Waterfall of the profit and retention differences, lever group by lever group."""
    fig, axes = plt.subplots(len(attributions), 2, figsize=(13, 4.5 * len(attributions)), squeeze=False)
    for row_axes, part in zip(axes, attributions, strict=True):
        indexed = part.table().set_index(["metric", "part"])
        order = [*part.groups, *([INTERACTION] if part.method == "oat" else [])]
        for ax, metric in zip(row_axes, (PROFIT, RETENTION), strict=True):
            scale = 100 if metric == RETENTION else 1
            values = np.array([indexed.loc[(metric, name), "mean"] for name in order]) * scale
            low = np.array([indexed.loc[(metric, name), "ci_low"] for name in order]) * scale
            high = np.array([indexed.loc[(metric, name), "ci_high"] for name in order]) * scale
            starts = np.concatenate([[0.0], np.cumsum(values)[:-1]])
            x = np.arange(len(order) + 1)
            colours = [PALETTE[2] if v >= 0 else PALETTE[5] for v in values]
            ax.bar(x[:-1], values, bottom=starts, color=colours)
            ends = starts + values
            errors = np.abs(np.vstack([values - np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=0.0) - values]))
            ax.errorbar(x[:-1], ends, yerr=errors, fmt="none", ecolor="black", capsize=3, linewidth=0.8)
            total = indexed.loc[(metric, "total"), "mean"] * scale
            ax.bar(x[-1], total, color=PALETTE[1])
            ax.set_xticks(x, [*order, "total"], rotation=35, ha="right", fontsize=8)
            ax.axhline(0, color="black", linewidth=0.8)
            if metric == PROFIT:
                _money_axis(ax.yaxis)
                ax.set_ylabel("Profit difference (currency)")
            else:
                ax.set_ylabel("Retention difference (points)")
            ax.set_title(f"{OUTCOMES[metric].capitalize()}: {part.strategy} − {part.baseline} by lever group")
            ax.grid(alpha=0.3, axis="y")
    return _finish(fig, path)


# -- what write_report adds ----------------------------------------------------------------------
def sections(comparison: Comparison, uncertainty: Uncertainty | None,
             attributions: list[Attribution] | None) -> list[tuple[str, str]]:
    """(heading, Markdown body) of the uncertainty, attribution and limitations sections."""
    found = []
    if uncertainty is not None:
        found.append(("How sure: the verdict over plausible constants", uncertainty_markdown(uncertainty)))
    if attributions:
        found.append(("Why: which levers made the difference", attribution_markdown(attributions)))
    found.append(("Limitations of this comparison",
                  "\n".join(f"- {line}" for line in limitations(comparison, uncertainty, attributions))))
    return found


#: Figures this module draws: name → (caption, note).
FIGURES = {
    "uncertainty.png": ("Difference over plausible constants",
                        "Histogram of the paired difference (strategy − baseline) over the Latin-hypercube "
                        "parameter sets, one seed per set; the black line is no difference."),
    "drivers.png": ("Constants that decide the verdict",
                    "Spearman rank correlation of each constant with the difference, the strongest first; "
                    "dashed: the |ρ| one constant exceeds by chance with probability 5 %."),
    "attribution.png": ("Lever attribution (waterfall)",
                        "From the baseline (0) each lever group's part of the difference is stacked on the "
                        "last; the final bar is the total. Whiskers: 95 % interval of each part over seeds."),
}


def figures(uncertainty: Uncertainty | None, attributions: list[Attribution] | None,
            directory: Path) -> dict[str, Path]:
    """Draw this module's figures that apply into ``directory``."""
    drawn = {}
    if uncertainty is not None:
        drawn["uncertainty.png"] = figure_uncertainty(uncertainty, directory / "uncertainty.png")
        drawn["drivers.png"] = figure_drivers(uncertainty, directory / "drivers.png")
    if attributions:
        drawn["attribution.png"] = figure_attribution(attributions, directory / "attribution.png")
    return drawn
