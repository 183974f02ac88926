"""The report of ``relsim optimize``: the recommended policy in plain words, checked on fresh seeds.

``write_report(...)`` writes ``report.md`` (PNG figures beside it) and
``report.html`` (the same, figures embedded, opens with no network), plus the
tables: ``trials.csv`` (every finished trial), ``confirmation.csv`` (every
re-evaluation run), ``differences.csv`` (paired differences, candidate − preset).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from relsim.scenario.schema import Scenario
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.studies.evaluate import OUTCOME_MEANINGS, SHARE_OUTCOMES
from relsim.studies.optimize import Confirmation, Search, pareto_front, trials_frame
from relsim.studies.report import _md_inline, money
from relsim.util.style import PALETTE

MONEY_OUTCOMES = ("profit", "revenue")


def fmt(value: float, metric: str) -> str:
    """An outcome in its units: money compactly, shares in %."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if metric in MONEY_OUTCOMES:
        return money(value)
    if metric in SHARE_OUTCOMES:
        return f"{100 * value:.1f} %"
    if metric in ("nps", "trust", "commitment"):
        return f"{value:.3f}"
    return f"{value:,.0f}"


def fmt_diff(value: float, metric: str) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if metric in MONEY_OUTCOMES:
        return money(value, signed=True)
    if metric in SHARE_OUTCOMES:
        return f"{100 * value:+.1f} pts"
    if metric in ("nps", "trust", "commitment"):
        return f"{value:+.3f}"
    return f"{value:+,.0f}"


def _lever_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def full_levers(scenario: Scenario, policy: dict[str, Any]) -> dict[str, Any]:
    """Every lever of the focal firm under ``policy`` (the preset or scenario's, with the policy's changes)."""
    focal = scenario.firms[0]
    start = dict(PRESETS[policy["strategy"]]) if "strategy" in policy else {**PRESETS[focal.strategy],
                                                                            **focal.levers}
    levers = {k: v for k, v in policy.items() if k != "strategy"}
    return Strategy(**{**start, **levers}).model_dump()


def plain_policy(search: Search, policy: dict[str, Any], scenario: Scenario) -> str:
    """The searched levers of ``policy`` in words."""
    words = {
        "price": lambda v: f"price at {100 * v:.0f} % of the market's reference price",
        "acquisition_budget": lambda v: f"acquisition spend of {v:.2f} × the reference budget "
                                        f"({money(v * scenario.market.reference_budget)} a week)",
        "reward_rate": lambda v: f"loyalty rewards worth {100 * v:.1f} % of spend",
        "service_capacity": lambda v: f"a support desk of {v:.2f} × the reference desk "
                                      f"({v * scenario.market.reference_desk_agents:.1f} agents)",
        "personalisation": lambda v: f"personalised offers to {100 * v:.0f} % of active customers a week",
        "level": lambda v: f"relationship level {int(v)}",
        "key_account_share": lambda v: f"key-account managers for the top {100 * v:.1f} % of customers",
        "promotion_discount": lambda v: f"promotions at {100 * v:.0f} % off",
        "promotion_every_weeks": lambda v: f"a promotion every {int(v)} weeks" if v else "no promotions",
    }
    parts = []
    for name in search.space.names:
        value = policy[name]
        parts.append(words[name](value) if name in words else f"{name.replace('_', ' ')} = {_lever_value(value)}")
    return "; ".join(parts)


# ----------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------
def _finish(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _axis_label(metric: str) -> str:
    unit = " (currency)" if metric in MONEY_OUTCOMES else " (%)" if metric in SHARE_OUTCOMES else ""
    return f"{metric}{unit}"


def _scale(values, metric: str):
    return np.asarray(values, dtype=float) * (100 if metric in SHARE_OUTCOMES else 1)


def figure_history(frame: pd.DataFrame, search: Search, path: Path) -> Path:
    """Each trial's mean objective(s) on the search's seeds, with the best so far."""
    objectives = search.objectives
    fig, axes = plt.subplots(1, len(objectives), figsize=(6.5 * len(objectives), 4), squeeze=False)
    for ax, metric in zip(axes[0], objectives, strict=True):
        y = _scale(frame[metric], metric)
        feasible = frame["feasible"].to_numpy(dtype=bool)
        ax.scatter(frame["trial"][feasible], y[feasible], s=14, color=PALETTE[1], label="trial (feasible)")
        if (~feasible).any():
            ax.scatter(frame["trial"][~feasible], y[~feasible], s=14, color=PALETTE[5], marker="x",
                       label="trial (breaks a constraint)")
        best = pd.Series(np.where(feasible, y, -np.inf)).cummax().replace(-np.inf, np.nan)
        ax.step(frame["trial"], best, where="post", color="black", linewidth=1.5, label="best feasible so far")
        ax.set_xlabel("Trial")
        ax.set_ylabel(_axis_label(metric) + "\nmean over the search's seeds")
        ax.set_title(f"Optimisation history — {metric}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, path)


def figure_pareto(frame: pd.DataFrame, search: Search, confirmation: Confirmation, path: Path) -> Path:
    """Every trial in the plane of the two objectives, the Pareto front and the presets (fresh seeds)."""
    x_metric, y_metric = search.objectives
    fig, ax = plt.subplots(figsize=(7, 5))
    feasible = frame["feasible"].to_numpy(dtype=bool)
    ax.scatter(_scale(frame[x_metric], x_metric), _scale(frame[y_metric], y_metric), s=12,
               color=np.where(feasible, PALETTE[1], PALETTE[5]), alpha=0.6, label="trials")
    pool = frame[frame["feasible"]] if frame["feasible"].any() else frame
    front = pareto_front(pool, search.objectives).sort_values(x_metric)
    ax.plot(_scale(front[x_metric], x_metric), _scale(front[y_metric], y_metric), "-o", color="black",
            markersize=4, label="Pareto front (feasible trials)")
    for i, preset in enumerate(confirmation.presets):
        means = confirmation.means(preset)
        ax.scatter([_scale([means[x_metric]], x_metric)[0]], [_scale([means[y_metric]], y_metric)[0]],
                   marker="D", s=40, color=PALETTE[(i + 2) % len(PALETTE)], label=f"{preset} (fresh seeds)")
    for constraint in search.constraints:
        if constraint.outcome in (x_metric, y_metric):
            value = _scale([constraint.bound], constraint.outcome)[0]
            line = ax.axvline if constraint.outcome == x_metric else ax.axhline
            line(value, color=PALETTE[5], linestyle="--", linewidth=1)
    ax.set_xlabel(_axis_label(x_metric))
    ax.set_ylabel(_axis_label(y_metric))
    ax.set_title("Trade-off between the objectives")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _finish(fig, path)


def _negated(index: int):
    """The target ``−values[index]`` of a trial (PED-ANOVA looks for low targets; ours are maximised)."""
    def target(trial) -> float:
        return -float(trial.values[index])
    return target


def lever_importance(study, search: Search) -> pd.DataFrame:
    """Optuna's lever importance (PED-ANOVA) for each objective; empty when it cannot be estimated."""
    import warnings

    import optuna
    rows = []
    for index, metric in enumerate(search.objectives):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # PED-ANOVA ranks levers by how they reach *low* targets: every objective here is maximised
                importances = optuna.importance.get_param_importances(study, target=_negated(index))
        except (RuntimeError, ValueError, ZeroDivisionError):
            continue
        for lever, value in importances.items():
            rows.append({"objective": metric, "lever": lever, "importance": float(value)})
    return pd.DataFrame(rows, columns=["objective", "lever", "importance"])


def figure_importance(importance: pd.DataFrame, path: Path) -> Path | None:
    if importance.empty:
        return None
    objectives = list(dict.fromkeys(importance["objective"]))
    fig, axes = plt.subplots(1, len(objectives), figsize=(6 * len(objectives), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], objectives, strict=True):
        part = importance[importance["objective"] == metric].sort_values("importance")
        ax.barh(part["lever"], part["importance"], color=PALETTE[2])
        ax.set_xlabel("Importance (share, PED-ANOVA)")
        ax.set_title(f"Which levers move {metric}")
        ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


def figure_confirmation(confirmation: Confirmation, metric: str, path: Path) -> Path:
    """Mean and 95 % interval on the fresh seeds, candidates and presets."""
    table = confirmation.table()
    part = table[table["metric"] == metric].set_index("policy").loc[list(confirmation.policies)]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(part) + 1.5))
    positions = np.arange(len(part))[::-1]
    means = _scale(part["mean"], metric)
    low = _scale(part["ci_low"].fillna(part["mean"]), metric)
    high = _scale(part["ci_high"].fillna(part["mean"]), metric)
    colours = [PALETTE[2] if label in confirmation.candidates else PALETTE[0] for label in part.index]
    ax.barh(positions, means, xerr=np.vstack([means - low, high - means]), color=colours, capsize=3)
    ax.set_yticks(positions, part.index)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(_axis_label(metric) + f", mean over {len(confirmation.seeds)} fresh seeds (95 % interval)")
    ax.set_title(f"Optimised policies (green) and presets on fresh seeds — {metric}")
    ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


# ----------------------------------------------------------------------
# words
# ----------------------------------------------------------------------
def recommendation(confirmation: Confirmation, scenario: Scenario) -> list[str]:
    """The recommended policy in plain words, and whether it beats the presets on fresh seeds."""
    search = confirmation.search
    label = confirmation.recommended
    if label is None:
        return ["No trial finished, so there is nothing to recommend."]
    objective = search.objectives[0]
    policy = confirmation.policies[label]
    means = confirmation.means(label)
    n = len(confirmation.seeds)
    fresh = f"{n} fresh plausible worlds" if search.robust is not None else f"{n} fresh seeds"
    measure = f"{objective} ({search.robust.text().split(' over ')[0]})" if search.robust is not None else objective
    lines = [f"**Recommended policy ({label}):** {plain_policy(search, policy, scenario)}; every other lever as "
             f"in {'preset ' + policy['strategy'] if 'strategy' in policy else 'the scenario'}."]
    lines.append(f"**On {fresh}** (not used by the search) it makes {measure} "
                 f"{fmt(means[objective], objective)}"
                 + "".join(f", {o} {fmt(means[o], o)}" for o in dict.fromkeys(
                     [*search.objectives[1:], *[c.outcome for c in search.constraints]]) if o != objective)
                 + f"; on the search's own seeds it made {fmt(confirmation.search_means[label][objective], objective)} "
                 "(the gap is the winner's curse plus chance).")
    if search.constraints:
        kept = confirmation.feasible(label)
        text = ", ".join(c.text() for c in search.constraints)
        lines.append(f"**Constraints** ({text}) {'hold' if kept else 'do NOT hold'} on the fresh seeds' means"
                     + ("." if kept else ": no confirmed candidate keeps them; treat the recommendation with care."))
        breaking = [p for p in confirmation.presets if not confirmation.feasible(p)]
        if breaking:
            lines.append(f"Presets that break the constraints on the fresh seeds (a profit comparison with them "
                         f"is not like for like): {', '.join(breaking)}.")
    beats = confirmation.beats(label)
    differences = confirmation.differences([objective])
    part = differences[differences["candidate"] == label].set_index("preset")
    if beats and all(beats.values()):
        lines.append(f"**Verdict:** it beats every preset on {objective}: each paired 95 % interval over the "
                     f"{fresh} lies above zero.")
    else:
        not_beaten = [p for p, b in beats.items() if not b]
        lines.append(f"**Verdict, honestly:** it does not beat every preset on {objective}; no paired 95 % interval "
                     f"above zero against {', '.join(not_beaten)} (more seeds, a longer horizon or more trials "
                     "might tell).")
    for preset, row in part.iterrows():
        lines.append(f"vs *{preset}*: {fmt_diff(row['difference'], objective)} (95 % interval "
                     f"{fmt_diff(row['ci_low'], objective)} to {fmt_diff(row['ci_high'], objective)}).")
    return lines


def robust_lines(confirmation: Confirmation, worlds, fresh, frame: pd.DataFrame, boxes, baseline: str) -> list[str]:
    """The ``--robust`` section: how policies were judged over plausible worlds, and in which of the
    fresh worlds the recommended policy fails (boxes of constants, :mod:`relsim.studies.robust`)."""
    search = confirmation.search
    robust = search.robust
    assert robust is not None
    objective = search.objectives[0]
    label = confirmation.recommended
    lines = [f"Each policy was judged by the **{robust.text()}** of each outcome (constraints too): every trial "
             f"met the same {len(worlds.seeds)} worlds, Latin-hypercube draws over the plausible ranges of "
             f"{len(worlds.ranges)} behavioural and market-response constants (docs/evidence.md; "
             f"relsim/scenario/ranges.py), each with its own seed. The confirmation used {len(fresh.seeds)} fresh "
             "worlds (another hypercube, other seeds); the outcomes table above is over those worlds."]
    if label is None:
        return lines
    mine = confirmation.outcomes[confirmation.outcomes["policy"] == label][objective].to_numpy(dtype=float)
    lines.append(f"In the fresh worlds the recommended policy makes {objective} {fmt(robust.score(mine), objective)} "
                 f"({robust.text().split(' over ')[0]}), {fmt(float(np.nanmean(mine)), objective)} on average, from "
                 f"{fmt(float(np.nanmin(mine)), objective)} to {fmt(float(np.nanmax(mine)), objective)}.")
    failing = int(frame["fails"].sum())
    worse = int(frame["worse_than_baseline"].sum())
    broken = int(frame["breaks_constraint"].sum())
    lines.append(f"**Where it fails:** it makes less {objective} than *{baseline}* in {worse} of {len(frame)} fresh "
                 f"worlds" + (f" and breaks a constraint in {broken}" if search.constraints else "")
                 + f": {failing} failing worlds ({100 * failing / max(len(frame), 1):.0f} %).")
    if failing == 0:
        lines.append(f"No failure to locate: it does at least as well as *{baseline}* in every fresh world.")
    elif not boxes:
        lines.append("The failures are spread out: no range of a few constants holds most of them (a shallow "
                     "tree finds no leaf where most worlds fail).")
    for number, box in enumerate(boxes, start=1):
        lines.append(f"Failure region {number}: **{box.describe()}** — {box.inside} worlds ({100 * box.mass:.0f} % "
                     f"of all), {100 * box.density:.0f} % of them fail (against {100 * box.base_density:.0f} % "
                     f"overall); they hold {100 * box.coverage:.0f} % of the failures.")
    if failing:
        lines.append(f"With {len(frame)} worlds and {len(worlds.ranges)} constants a region is a hint to check (run "
                     "compare with those constants set, or more --confirm-seeds), not a finding; the regions come "
                     "from a classification tree at most three splits deep, each leaf with at least 5 % of the "
                     "worlds (relsim.studies.robust.tree_boxes; PRIM's peeling is relsim.studies.robust.prim).")
    return lines


def levers_table(confirmation: Confirmation, scenario: Scenario) -> str:
    """Markdown: every lever of the candidates and presets (searched levers first)."""
    search = confirmation.search
    columns = list(confirmation.policies)
    levers = {label: full_levers(scenario, policy) for label, policy in confirmation.policies.items()}
    names = [*search.space.names, *[n for n in Strategy.model_fields if n not in search.space.names
                                    and n != "target_segments"]]
    rows = ["| Lever | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name in names:
        marker = " (searched)" if name in search.space.names else ""
        rows.append(f"| {name}{marker} | " + " | ".join(_lever_value(levers[c][name]) for c in columns) + " |")
    return "\n".join(rows)


def outcomes_table(confirmation: Confirmation) -> str:
    table = confirmation.table()
    metrics = list(dict.fromkeys([*confirmation.search.objectives,
                                  *[c.outcome for c in confirmation.search.constraints],
                                  "profit", "retention", "share", "customers"]))
    rows = ["| Policy | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for label in confirmation.policies:
        cells = []
        for metric in metrics:
            row = table[(table["policy"] == label) & (table["metric"] == metric)].iloc[0]
            low, high = row["ci_low"], row["ci_high"]
            if metric in SHARE_OUTCOMES:
                low, high = max(low, 0.0), min(high, 1.0)
            cells.append(f"{fmt(row['mean'], metric)} [{fmt(low, metric)}, {fmt(high, metric)}]")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _competitors_line(market) -> str:
    if market.competition == "adaptive":
        return (f"competitors answer back as in the scenario (market.competition = adaptive: every "
                f"{market.review_weeks:g} weeks a trailing competitor may imitate the most profitable firm, "
                f"and competitors match {100 * market.price_match:g} % of a rival's list-price cut)")
    return "competitors keep their strategies (market.competition = static: they do not react)"


#: A searched value within this share of its range from an end counts as "at the edge" of the search.
EDGE_SHARE = 0.05


def at_edge(lever, value: Any) -> str | None:
    """``"lower"``/``"upper"`` when a numeric lever's value lies within :data:`EDGE_SHARE` of its range
    (measured on the log scale for a log lever) from that end, else ``None``.

    >>> from relsim.studies.optimize import make_lever
    >>> lever = make_lever("reward_rate", low=0.0, high=0.1)
    >>> at_edge(lever, 0.099), at_edge(lever, 0.05), at_edge(lever, 0.001)
    ('upper', None, 'lower')
    """
    if lever.choices is not None or lever.low is None or lever.high is None:
        return None
    low, high, x = float(lever.low), float(lever.high), float(value)
    if lever.log:
        low, high, x = math.log(low), math.log(high), math.log(x)
    if high <= low:
        return None
    position = (x - low) / (high - low)
    return "lower" if position <= EDGE_SHARE else "upper" if position >= 1.0 - EDGE_SHARE else None


def edge_lines(confirmation: Confirmation) -> list[str]:
    """A caveat per lever whose recommended value sits at an end of its search range: the best value may
    lie outside the range searched, so the range, not the market, may be what limits the answer."""
    best = confirmation.recommended
    policy = confirmation.policies.get(best, {}) if best is not None else {}
    lines = []
    for lever in confirmation.search.space.levers:
        if lever.name not in policy:
            continue
        side = at_edge(lever, policy[lever.name])
        if side is not None:
            lines.append(f"The recommended **{lever.name}** ({_lever_value(policy[lever.name])}) sits at the "
                         f"{side} end of the range searched ({lever.text()}): the best value may lie beyond it. "
                         "Widen the range if such values are feasible, or read the answer as 'as far as allowed'.")
    return lines


def caveats(confirmation: Confirmation, scenario: Scenario, trials: int, search_seconds: float) -> list[str]:
    search = confirmation.search
    market = scenario.market
    return [
        f"Scenario **{scenario.name}**, content hash `{scenario.digest()}`: {market.customers:,} customers, "
        f"{market.weeks} weeks; the model's answer, not the market's — its behaviour rules and parameters are "
        "assumptions (see the scenario file).",
        f"The search ran {trials} trials over levers {', '.join(lever.text() for lever in search.space.levers)} with "
        f"sampler {search.sampler}, each trial on the same {len(search.seeds)} seeds (common random numbers; seeds "
        f"{search.seeds[0]}–{search.seeds[-1]}), {search_seconds:.0f} s of simulation in all. Levers not searched "
        "keep the focal firm's strategy; " + _competitors_line(market) + ".",
        *edge_lines(confirmation),
        f"The winners were re-evaluated on {len(confirmation.seeds)} fresh seeds ({confirmation.seeds[0]}–"
        f"{confirmation.seeds[-1]}) with the presets; differences are paired by seed, intervals are 95 % "
        "Student-t intervals. The best of many trials on few seeds flatters itself: only the fresh-seed numbers "
        "are evidence.",
        "Constraints are on the mean over seeds, not on every seed; a policy near a constraint's bound keeps it "
        "only on average.",
        "A search of a noisy simulation may stop at a local optimum; more trials, more seeds or another sampler "
        "(--sampler cmaes) can move it. Lever importance is estimated from the trials (PED-ANOVA) and is "
        "rough with few trials.",
        "Outcomes: " + "; ".join(f"**{o}** = {OUTCOME_MEANINGS[o]}" for o in dict.fromkeys(
            [*search.objectives, *[c.outcome for c in search.constraints]])) + ".",
    ]


# ----------------------------------------------------------------------
def write_report(study, search: Search, confirmation: Confirmation, scenario: Scenario,
                 directory: str | Path, extra: Sequence[tuple[str, str]] = ()) -> dict[str, Path]:
    """Write the report, figures and tables into ``directory``; return what was written. ``extra``:
    more sections (heading, Markdown list or table), placed before the caveats."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frame = trials_frame(study, search)
    written: dict[str, Path] = {}
    figures: list[tuple[str, str, str]] = []   # file, caption, note
    written["history.png"] = figure_history(frame, search, directory / "history.png")
    figures.append(("history.png", "Optimisation history",
                    "Each trial's mean over the search's seeds; the line is the best feasible trial so far."))
    if len(search.objectives) == 2:
        written["pareto.png"] = figure_pareto(frame, search, confirmation, directory / "pareto.png")
        figures.append(("pareto.png", "Pareto front",
                        "Trials (vermillion: break a constraint), the front of trials no other beats on both "
                        "objectives, and the presets on the fresh seeds (diamonds); dashed: constraint bounds."))
    importance = lever_importance(study, search)
    path = figure_importance(importance, directory / "importance.png")
    if path is not None:
        written["importance.png"] = path
        figures.append(("importance.png", "Lever importance",
                        "How much of the variation of each objective across trials each lever explains "
                        "(Optuna's PED-ANOVA importance, normalised to sum to 1)."))
    for metric in dict.fromkeys([*search.objectives, *[c.outcome for c in search.constraints]]):
        name = f"confirm_{metric}.png"
        written[name] = figure_confirmation(confirmation, metric, directory / name)
        figures.append((name, f"Fresh-seed check — {metric}",
                        "Mean over the fresh seeds with its 95 % interval: the optimised policies (green) and "
                        "the presets (blue)."))
    frame.to_csv(directory / "trials.csv", index=False)
    confirmation.outcomes.to_csv(directory / "confirmation.csv", index=False)
    confirmation.differences().to_csv(directory / "differences.csv", index=False)
    importance.to_csv(directory / "importance.csv", index=False)
    for name in ("trials.csv", "confirmation.csv", "differences.csv", "importance.csv"):
        written[name] = directory / name
    search_seconds = float(frame["seconds"].sum()) if len(frame) else 0.0
    title = f"relsim optimize — {scenario.name}: {', '.join(search.objectives)}"
    sections = [
        ("In short: the recommended policy", "\n".join(f"- {line}" for line in recommendation(confirmation,
                                                                                               scenario))),
        ("Outcomes on fresh seeds (focal firm, mean [95 % interval])", outcomes_table(confirmation)),
        ("Levers: the optimised policies against the presets", levers_table(confirmation, scenario)),
        *extra,
        ("Caveats: what was searched and how far to trust it",
         "\n".join(f"- {line}" for line in caveats(confirmation, scenario, len(frame), search_seconds))),
    ]
    markdown = [f"# {title}", f"_Generated {dt.date.today().isoformat()} by relsim._", ""]
    for heading, body in sections:
        markdown += [f"## {heading}", "", body, ""]
    markdown += ["## Figures", ""]
    for name, caption, note in figures:
        markdown += [f"### {caption}", "", f"![{caption}]({name})", "", note, ""]
    (directory / "report.md").write_text("\n".join(markdown), encoding="utf-8")
    written["report.md"] = directory / "report.md"
    written["report.html"] = _write_html(title, sections, figures, directory, directory / "report.html")
    return written


def _write_html(title: str, sections: list[tuple[str, str]], figures: list[tuple[str, str, str]],
                directory: Path, path: Path) -> Path:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if body.startswith("| "):
            rows = [r for r in body.splitlines() if not r.startswith("|---")]
            cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
            head = "".join(f"<th>{html.escape(c)}</th>" for c in cells[0])
            body_rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                                for row in cells[1:])
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table>")
        else:
            items = "".join(f"<li>{_md_inline(line[2:])}</li>" for line in body.splitlines())
            parts.append(f"<ul>{items}</ul>")
    parts.append("<h2>Figures</h2>")
    for name, caption, note in figures:
        data = base64.b64encode((directory / name).read_bytes()).decode()
        parts.append(f"<h3>{html.escape(caption)}</h3><figure><img alt='{html.escape(caption)}' "
                     f"src='data:image/png;base64,{data}'><figcaption>{html.escape(note)}</figcaption></figure>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
             "line-height:1.5;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;white-space:nowrap}"
             "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
             "figcaption{color:#555;font-size:90%}")
    path.write_text(f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
                    f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>", encoding="utf-8")
    return path
