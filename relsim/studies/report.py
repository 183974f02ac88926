"""Figures and reports: what a comparison found, in pictures and plain words.

``write_report(comparison, directory)`` writes ``report.md`` (with PNG
figures beside it) and ``report.html`` (the same, figures embedded, opens with
no network). Figures use the Okabe–Ito colour-blind-safe palette and label
their axes with units.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from relsim.market import rules
from relsim.market.metrics import COST_LINES
from relsim.studies import report_sections
from relsim.studies.compare import HEADLINES, Comparison, mean_interval
from relsim.studies.formats import _finish, _money_axis, money
from relsim.util.style import PALETTE

if TYPE_CHECKING:
    from relsim.studies.attribution import Attribution
    from relsim.studies.uncertainty import Uncertainty

RUNG_COLOURS = ("#56B4E9", "#0072B2", "#009E73", "#E69F00", "#D55E00")
LINE_LABELS = {"revenue": "Revenue", "cogs": "Cost of goods", "acquisition": "Acquisition",
               "relationship": "Relationship programme", "service_desk": "Service desk",
               "partner_fees": "Partner fees", "rewards": "Loyalty rewards",
               "adaptation": "Strategy changes", "profit": "Profit"}


#: What each line of the books holds, for readers of the profit bridge.
LINE_MEANINGS = {
    "revenue": "what customers paid: basket value × the firm's price, after promotion and retention discounts",
    "cogs": "what the goods cost from the supplier (long contract: stable; spot: cheaper on average, varies)",
    "acquisition": "advertising and campaigns to win new customers (the acquisition budget, every week)",
    "relationship": "CRM programme overhead per active customer, follow-up contacts, personalised offers "
                    "and key-account managers (strategy levels 3 to 5)",
    "service_desk": "support-desk agents answering questions and complaints, paid every week",
    "partner_fees": "fees to distributors on orders they bring, and alliance membership fees",
    "rewards": "loyalty points redeemed by customers (share of spend × redemption rate)",
    "adaptation": "one-off costs of changing strategy (adaptive competitors only, market.adaptation_cost)",
}
#: Metrics that are shares (0–1): shown in %, their intervals cut at 0 % and 100 %.
SHARES = ("annual_retention", "wom_share_of_new", "referral_share_of_orders", "market_share")
#: Metrics in currency: shown compactly (k, M) so that large markets stay readable.
MONEY = ("cumulative_discounted_profit", "revenue")


def _band(ax, frame: pd.DataFrame, x: str, y: str, label: str, colour: str,
          clip: tuple[float, float] | None = None) -> None:
    """Mean over seeds with a 95 % t-band (cut to ``clip`` for quantities with bounds)."""
    rows = []
    for value, group in frame.groupby(x):
        mean, low, high = mean_interval(group[y].to_numpy(dtype=float))
        rows.append((value, mean, low, high))
    if not rows:
        return
    values = np.array(rows, dtype=float)
    if clip is not None:
        values[:, 1:] = np.clip(values[:, 1:], *clip)
    ax.plot(values[:, 0], values[:, 1], color=colour, label=label, linewidth=2)
    ax.fill_between(values[:, 0], values[:, 2], values[:, 3], color=colour, alpha=0.2, linewidth=0)


def figure_retention(comparison: Comparison, path: Path) -> Path:
    """Cohort retention curves of the focal firm, one line per strategy."""
    fig, ax = plt.subplots(figsize=(7, 4))
    cohorts = comparison.cohorts[comparison.cohorts["firm"] == comparison.focal]
    for colour, strategy in zip(PALETTE, comparison.strategies, strict=False):
        runs = cohorts[cohorts["run_strategy"] == strategy]
        # size-weighted mean over cohorts within a run, then mean/band over runs
        per_run = (runs.assign(kept=runs["retained"] * runs["size"])
                   .groupby(["seed", "age_weeks"], as_index=False)[["kept", "size"]].sum())
        per_run["retained_pct"] = 100 * per_run["kept"] / per_run["size"]
        _band(ax, per_run, "age_weeks", "retained_pct", strategy, colour, clip=(0, 100))
    ax.set_xlabel("Weeks since acquisition")
    ax.set_ylabel("Cohort still a customer (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(left=0)
    ax.set_title(f"Retention by cohort age — {comparison.focal} (13-week cohorts pooled)")
    if cohorts.empty:   # a closed cohort (a calibrated scenario) acquires no one during the run
        ax.text(0.5, 0.5, "No customer was acquired during the run\n(a closed cohort): no cohort curves",
                ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(title="Strategy")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def figure_profit(comparison: Comparison, path: Path) -> Path:
    """Cumulative discounted profit of the focal firm with 95 % bands."""
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = comparison.steps[comparison.steps["firm"] == comparison.focal]
    for colour, strategy in zip(PALETTE, comparison.strategies, strict=False):
        _band(ax, steps[steps["run_strategy"] == strategy], "week",
              "cumulative_discounted_profit", strategy, colour)
    ax.axhline(0, color="black", linewidth=0.8)
    _money_axis(ax.yaxis)
    ax.set_xlim(left=0)
    ax.set_xlabel("Week")
    ax.set_ylabel("Cumulative discounted profit\n(currency; k = thousand, M = million)")
    ax.set_title(f"Cumulative discounted profit — {comparison.focal} (95 % band over seeds)")
    ax.legend(title="Strategy")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def figure_wom(comparison: Comparison, path: Path) -> Path:
    """Share of the focal firm's new customers won by word of mouth (13-week window)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = comparison.steps[comparison.steps["firm"] == comparison.focal].copy()
    steps = steps.sort_values(["run_strategy", "seed", "week"])
    grouped = steps.groupby(["run_strategy", "seed"])
    wom = grouped["new_wom"].transform(lambda s: s.rolling(13, min_periods=1).sum())
    new = grouped["new_customers"].transform(lambda s: s.rolling(13, min_periods=1).sum())
    steps["wom_share"] = (wom / new.replace(0, np.nan)) * 100
    for colour, strategy in zip(PALETTE, comparison.strategies, strict=False):
        _band(ax, steps[steps["run_strategy"] == strategy], "week", "wom_share", strategy, colour,
              clip=(0, 100))
    ax.set_xlabel("Week")
    ax.set_xlim(left=0)
    ax.set_ylim(0, 100)
    ax.set_ylabel("New customers from word of mouth (%)")
    ax.set_title(f"Word-of-mouth share of new customers — {comparison.focal} (13-week window)")
    ax.legend(title="Strategy")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def figure_ladder(comparison: Comparison, path: Path) -> Path:
    """Loyalty ladder of the focal firm over time, one panel per strategy."""
    rungs = rules.RUNGS[1:]
    strategies = comparison.strategies
    fig, axes = plt.subplots(1, len(strategies), figsize=(4.5 * len(strategies) + 1.5, 4), sharey=True,
                             squeeze=False)
    steps = comparison.steps[comparison.steps["firm"] == comparison.focal]
    top = 0.0
    for ax, strategy in zip(axes[0], strategies, strict=True):
        means = (steps[steps["run_strategy"] == strategy]
                 .groupby("week")[[f"rung_{r}" for r in rungs]].mean() * 100)
        ax.stackplot(means.index, means.T.to_numpy(), labels=rungs, colors=RUNG_COLOURS)
        top = max(top, float(means.sum(axis=1).max()))
        ax.set_title(strategy)
        ax.set_xlabel("Week")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Share of the population (%)")
    axes[0][0].set_ylim(0, top * 1.1 if top else 1)
    # outside the panels, so that it hides no data
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), title="Rung", fontsize=8)
    fig.suptitle(f"Loyalty ladder — customers of {comparison.focal} by rung (mean over seeds)")
    return _finish(fig, path)


def figure_bridge(comparison: Comparison, path: Path) -> Path:
    """Profit bridge: mean paired change of each line, strategy vs baseline."""
    bridge = comparison.profit_bridge()
    strategies = [s for s in comparison.strategies[1:]]
    fig, axes = plt.subplots(1, max(1, len(strategies)), figsize=(7 * max(1, len(strategies)), 4),
                             squeeze=False)
    for ax, strategy in zip(axes[0], strategies, strict=False):
        part = bridge[bridge["strategy"] == strategy].set_index("metric")
        order = ["revenue", *COST_LINES, "profit"]
        # effect on profit: revenue counts +, every cost line counts −
        sign = np.array([1.0] + [-1.0] * len(COST_LINES) + [1.0])
        effect = part.loc[order, "difference"].to_numpy() * sign
        low = part.loc[order, "ci_low"].to_numpy() * sign
        high = part.loc[order, "ci_high"].to_numpy() * sign
        errors = np.abs(np.vstack([effect - np.minimum(low, high), np.maximum(low, high) - effect]))
        colours = [PALETTE[2] if e >= 0 else PALETTE[5] for e in effect]
        positions = np.arange(len(order))[::-1]
        ax.barh(positions, effect, xerr=errors, color=colours, capsize=3)
        ax.set_yticks(positions, [LINE_LABELS[o] for o in order])
        ax.axvline(0, color="black", linewidth=0.8)
        _money_axis(ax.xaxis)
        ax.set_xlabel("Effect on profit vs baseline\n(currency, undiscounted total; k = thousand, M = million)")
        ax.set_title(f"Profit bridge: {strategy} − {comparison.strategies[0]}")
        ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


FIGURES = {
    "retention.png": ("Retention curves by cohort", figure_retention),
    "profit.png": ("Cumulative discounted profit", figure_profit),
    "wom.png": ("Word-of-mouth share", figure_wom),
    "ladder.png": ("Loyalty ladder over time", figure_ladder),
    "bridge.png": ("Profit bridge", figure_bridge),
}
#: How to read each figure (printed under it).
FIGURE_NOTES = {
    "retention.png": "Of the customers the focal firm won, the share still buying from it so many weeks "
                     "later; all 13-week acquisition cohorts pooled, shaded: 95 % interval over seeds. "
                     "The initial customer base is left out.",
    "profit.png": "Profit after every cost line, discounted to week 0 and added up week by week; shaded: "
                  "95 % interval over seeds. A curve that starts lower and climbs faster is an investment "
                  "in customers paying back.",
    "wom.png": "Share of the focal firm's new customers who came because someone they know recommended it "
               "(13-week window); shaded: 95 % interval over seeds.",
    "ladder.png": "The focal firm's customers by rung of the loyalty ladder, as a share of the whole "
                  "market: customer (one purchase), client (repeat), supporter (committed and trusting), "
                  "advocate (also recommends), partner (also co-creates).",
    "bridge.png": "How each line of the books changes profit, strategy minus baseline, totals over the "
                  "horizon (undiscounted): green raises profit, vermillion lowers it; whiskers: 95 % "
                  "interval of the paired difference. Lines are explained under 'What the money lines mean'.",
}


# --------------------------------------------------------------------------
def _fmt(value: float, metric: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if metric in MONEY:
        return money(value)
    if metric in SHARES:
        return f"{100 * value:.1f} %"
    if metric in ("nps",):
        return f"{100 * value:+.0f}"
    if metric in ("mean_trust", "mean_commitment"):
        return f"{value:.3f}"
    return f"{value:,.0f}"


def _fmt_diff(value: float, metric: str) -> str:
    if metric in SHARES:
        return f"{100 * value:+.1f} pts"
    if metric == "nps":
        return f"{100 * value:+.1f}"
    if metric in ("mean_trust", "mean_commitment"):
        return f"{value:+.3f}"
    return money(value, signed=True)


def _interval(row, metric: str, seeds: int) -> str:
    """``95 % interval L to H`` of a paired difference, or why there is none (one seed; or too few seeds
    where both strategies define the metric, such as word of mouth without new customers)."""
    if np.isnan(row["ci_low"]) or np.isnan(row["ci_high"]):
        return ("no 95 % interval from one seed" if seeds < 2 else
                "no 95 % interval: too few seeds where both strategies define it")
    return f"95 % interval {_fmt_diff(row['ci_low'], metric)} to {_fmt_diff(row['ci_high'], metric)}"


#: What the plain-language summary judges, with the words for "more is better".
VERDICTS = {
    "annual_retention": "Keeping customers (annual retention)",
    "cumulative_discounted_profit": "Profit (cumulative, discounted)",
    "revenue": "Revenue",
    "wom_share_of_new": "Winning customers by word of mouth",
    "customers_end": "Customers at the end",
}


def summary(comparison: Comparison) -> list[str]:
    """Who wins on what, one line per headline metric, in plain words.

    A strategy *wins* on a metric when the 95 % interval of its paired
    difference from the other excludes zero; otherwise there is no clear winner.
    """
    baseline = comparison.strategies[0]
    differences = comparison.differences()
    weeks = comparison.scenario.market.weeks
    lines = []
    for strategy in comparison.strategies[1:]:
        part = differences[differences["strategy"] == strategy].set_index("metric")
        for metric, words in VERDICTS.items():
            row = part.loc[metric]
            difference = ("not defined in these runs" if np.isnan(row["difference"])
                          else _fmt_diff(row["difference"], metric))
            spread = f"{strategy} − {baseline}: {difference}, {_interval(row, metric, len(comparison.seeds))}"
            if row["ci_low"] > 0:
                verdict = f"*{strategy}* wins"
            elif row["ci_high"] < 0:
                verdict = f"*{baseline}* wins"
            else:
                verdict = (f"no clear winner over {weeks} weeks and {len(comparison.seeds)} seeds "
                           "(more seeds or a longer horizon would tell)")
            lines.append(f"**{words}:** {verdict} ({spread}).")
    return lines


def narrative(comparison: Comparison) -> list[str]:
    """Plain-language findings: who wins on retention and on profit, and why."""
    lines = []
    baseline = comparison.strategies[0]
    differences = comparison.differences()
    table = comparison.table().set_index(["strategy", "metric"])
    bridge = comparison.profit_bridge()
    n = len(comparison.seeds)
    for strategy in comparison.strategies[1:]:
        part = differences[differences["strategy"] == strategy].set_index("metric")
        ret = part.loc["annual_retention"]
        a = table.loc[(strategy, "annual_retention"), "mean"]
        b = table.loc[(baseline, "annual_retention"), "mean"]
        verdict = ("ahead of it by" if ret["ci_low"] > 0 else "behind it by" if ret["ci_high"] < 0
                   else "not distinguishable from it, a difference of")
        lines.append(
            f"**Retention.** Under *{strategy}* the focal firm keeps {100 * a:.1f} % of its "
            f"customers a year, against {100 * b:.1f} % under *{baseline}*: {verdict} "
            f"{100 * ret['difference']:+.1f} points ({_interval(ret, 'annual_retention', n)}, paired over {n} "
            "seeds).")
        profit = part.loc["cumulative_discounted_profit"]
        direction = ("higher" if profit["ci_low"] > 0 else "lower" if profit["ci_high"] < 0
                     else "not distinguishably different")
        lines.append(
            f"**Profit.** Cumulative discounted profit is {direction} under *{strategy}*: "
            f"{_fmt_diff(profit['difference'], 'x')} ({_interval(profit, 'x', n)}).")
        lines_bridge = bridge[bridge["strategy"] == strategy].set_index("metric")
        effects = {"revenue": lines_bridge.loc["revenue", "difference"]}
        for line in COST_LINES:
            effects[line] = -lines_bridge.loc[line, "difference"]
        ranked = sorted(effects.items(), key=lambda item: -abs(item[1]))
        gains = [f"{LINE_LABELS[k].lower()} ({_fmt_diff(v, 'x')})" for k, v in ranked if v > 0][:3]
        losses = [f"{LINE_LABELS[k].lower()} ({_fmt_diff(v, 'x')})" for k, v in ranked if v < 0][:3]
        why = "Why, read from the undiscounted cost lines (effect on profit): "
        why += ("it gains on " + ", ".join(gains)) if gains else "it gains on no line"
        why += ("; it loses on " + ", ".join(losses) + ".") if losses else "."
        lines.append(why)
        wom = part.loc["wom_share_of_new"]
        if np.isnan(wom["ci_low"]):
            lines.append("**Word of mouth.** Not estimable: too few seeds in which both strategies "
                         "won new customers.")
        else:
            lines.append(
                f"**Word of mouth.** The share of new customers won by word of mouth changes by "
                f"{100 * wom['difference']:+.1f} points (95 % interval {100 * wom['ci_low']:+.1f} to "
                f"{100 * wom['ci_high']:+.1f}).")
    return lines


def _table_markdown(comparison: Comparison) -> str:
    table = comparison.table()
    header = "| Metric | " + " | ".join(comparison.strategies) + " |"
    rule = "|---|" + "---|" * len(comparison.strategies)
    rows = [header, rule]
    for metric, label in HEADLINES.items():
        cells = []
        for strategy in comparison.strategies:
            row = table[(table["strategy"] == strategy) & (table["metric"] == metric)].iloc[0]
            low, high = row["ci_low"], row["ci_high"]
            if metric in SHARES:   # a share cannot leave [0 %, 100 %], whatever a t-interval says
                low, high = max(low, 0.0), min(high, 1.0)
            cells.append(f"{_fmt(row['mean'], metric)} [{_fmt(low, metric)}, {_fmt(high, metric)}]")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _firms_markdown(comparison: Comparison) -> str:
    """Every firm under every strategy of the focal firm: market share and annual
    retention over the last year, cumulative discounted profit (means over seeds),
    so a reader sees who lost what."""
    rows = ["| Focal strategy | Firm | Market share (last year) | Annual retention (last year) "
            "| Cumulative discounted profit |", "|---|---|---|---|---|"]
    summaries = comparison.summaries
    order = list(dict.fromkeys(summaries["firm"]))
    for strategy in comparison.strategies:
        runs = summaries[summaries["run_strategy"] == strategy]
        for firm in order:
            mine = runs[runs["firm"] == firm]
            if mine.empty:
                continue
            rows.append(f"| {strategy} | {firm} | {_fmt(mine['market_share'].mean(), 'market_share')} | "
                        f"{_fmt(mine['annual_retention'].mean(), 'annual_retention')} | "
                        f"{money(mine['cumulative_discounted_profit'].mean())} |")
    return "\n".join(rows)


def _assumptions(comparison: Comparison) -> list[str]:
    scenario = comparison.scenario
    market = scenario.market
    firms = ", ".join(f"{f.name} ({f.strategy})" for f in scenario.firms[1:]) or "none"
    rivals = ("competitors keep their strategies" if market.competition == "static" else
              f"competitors start from and adapt (every {market.review_weeks:g} weeks, imitating the most "
              "profitable rival with inertia and a cost of changing, and matching "
              f"{100 * market.price_match:g} % of a rival's list-price cut)")
    return [
        f"Scenario **{scenario.name}** ({scenario.description}), content hash `{scenario.digest()}`.",
        f"{market.customers:,} customers, {market.weeks} weeks, one step = {market.step_weeks:g} week(s), "
        f"annual discount rate {100 * market.discount_rate:.0f} %, {market.network.kind.replace('_', ' ')} network.",
        f"Focal firm **{comparison.focal}**; {rivals}: {firms}.",
        f"Strategies compared: {', '.join(comparison.strategies)}; seeds {comparison.seeds[0]}–"
        f"{comparison.seeds[-1]} ({len(comparison.seeds)} runs each, common random numbers).",
        "Intervals are 95 % Student-t intervals over seeds; differences are paired by seed; intervals of "
        "shares are cut at 0 % and 100 %.",
        "Money is in the scenario's currency units (k = thousand, M = million); profit is discounted to "
        "week 0, the cost lines of the profit bridge are undiscounted totals.",
        "Annual retention = (1 − churned ÷ customers at the start of the week)^52 over the last 52 weeks.",
    ]


def write_figures(comparison: Comparison, directory: str | Path) -> dict[str, Path]:
    """Draw the comparison's figures (:data:`FIGURES`) into ``directory``; their paths by name.

    They need only the comparison: ``relsim compare`` draws them while its
    uncertainty runs are still on the workers, and hands them to
    :func:`write_report`.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, (_, draw) in FIGURES.items():
        if name == "bridge.png" and len(comparison.strategies) < 2:
            continue
        written[name] = draw(comparison, directory / name)
    return written


def write_report(comparison: Comparison, directory: str | Path, uncertainty: Uncertainty | None = None,
                 attribution: list[Attribution] | None = None,
                 figures: dict[str, Path] | None = None) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, the figures and the tables to ``directory``.

    ``uncertainty`` (:func:`relsim.studies.uncertainty.parameter_uncertainty`) and
    ``attribution`` (:func:`relsim.studies.attribution.attribute`, one per
    strategy) add their sections, figures and tables; the limitations section
    is always written, from the run. ``figures``: what :func:`write_figures`
    already drew into ``directory`` for this comparison (else they are drawn here).

    Returns
    -------
    dict
        Paths of what was written, by name.
    """
    directory = Path(directory)
    written = dict(figures) if figures is not None else write_figures(comparison, directory)
    comparison.table().to_csv(directory / "summary_table.csv", index=False)
    comparison.differences().to_csv(directory / "differences.csv", index=False)
    comparison.summaries.to_csv(directory / "runs.csv", index=False)
    if uncertainty is not None:
        uncertainty.sets.to_csv(directory / "uncertainty_sets.csv", index=False)
        uncertainty.runs.to_csv(directory / "uncertainty_runs.csv", index=False)
        uncertainty.wins().to_csv(directory / "uncertainty_wins.csv", index=False)
        uncertainty.drivers().to_csv(directory / "uncertainty_drivers.csv", index=False)
    if attribution:
        pd.concat([a.table().assign(strategy=a.strategy, baseline=a.baseline, method=a.method)
                   for a in attribution]).to_csv(directory / "attribution.csv", index=False)
        pd.concat([a.runs.assign(strategy=a.strategy, baseline=a.baseline)
                   for a in attribution]).to_csv(directory / "attribution_runs.csv", index=False)
    extra = report_sections.figures(uncertainty, attribution, directory)
    written.update(extra)
    title = f"relsim comparison — {comparison.scenario.name}: {' vs '.join(comparison.strategies)}"
    findings = narrative(comparison)
    sections = [
        ("In short: who wins on what", "\n".join(f"- {line}" for line in summary(comparison))),
        ("What was compared", "\n".join(f"- {line}" for line in _assumptions(comparison))),
        ("Findings", "\n\n".join(findings)),
        ("Headline numbers (focal firm, mean [95 % interval])", _table_markdown(comparison)),
        ("Every firm (means over seeds)", _firms_markdown(comparison)),
        ("What the money lines mean", "\n".join(f"- **{LINE_LABELS[line]}**: {meaning}."
                                                for line, meaning in LINE_MEANINGS.items())),
        *report_sections.sections(comparison, uncertainty, attribution),
    ]
    markdown = [f"# {title}", f"_Generated {dt.date.today().isoformat()} by relsim._", ""]
    for heading, body in sections:
        markdown += [f"## {heading}", "", body, ""]
    markdown += ["## Figures", ""]
    for name, (caption, note) in _captions().items():
        if name in written:
            markdown += [f"### {caption}", "", f"![{caption}]({name})", "", note, ""]
    (directory / "report.md").write_text("\n".join(markdown), encoding="utf-8")
    written["report.md"] = directory / "report.md"
    written["report.html"] = _write_html(title, sections, written, directory / "report.html")
    return written


def _captions() -> dict[str, tuple[str, str]]:
    """Every figure a comparison report may hold, in order: name → (caption, note)."""
    return {**{name: (caption, FIGURE_NOTES[name]) for name, (caption, _) in FIGURES.items()},
            **report_sections.FIGURES}


def _md_inline(text: str) -> str:
    """The little Markdown the narrative uses (**bold**, *italic*, `code`) as HTML."""
    import re
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _write_html(title: str, sections: list[tuple[str, str]], figures: dict[str, Path],
                path: Path) -> Path:
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        for block in body.split("\n\n"):   # a section may mix paragraphs, lists and tables
            if block.startswith("| "):
                rows = [r for r in block.splitlines() if not r.startswith("|---")]
                cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
                head = "".join(f"<th>{_md_inline(c)}</th>" for c in cells[0])
                body_rows = "".join("<tr>" + "".join(f"<td>{_md_inline(c)}</td>" for c in row) + "</tr>"
                                    for row in cells[1:])
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table>")
            elif block.startswith("- "):
                items = "".join(f"<li>{_md_inline(line[2:])}</li>" for line in block.splitlines())
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{_md_inline(block)}</p>")
    parts.append("<h2>Figures</h2>")
    for name, (caption, note) in _captions().items():
        if name in figures:
            data = base64.b64encode(figures[name].read_bytes()).decode()
            parts.append(f"<h3>{html.escape(caption)}</h3><figure><img alt='{html.escape(caption)}' "
                         f"src='data:image/png;base64,{data}'>"
                         f"<figcaption>{html.escape(note)}</figcaption></figure>")
    style = ("body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;"
             "line-height:1.5;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;white-space:nowrap}"
             "th{background:#f2f2f2}tbody tr:nth-child(even){background:#fafafa}"
             "td:first-child{white-space:normal}figure{margin:0.5em 0 2em 0}"
             "td:first-child,th:first-child{text-align:left}img{max-width:100%}"
             "figcaption{color:#555;font-size:90%}")
    document = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{html.escape(title)}</title><style>{style}</style></head>"
                f"<body>{''.join(parts)}</body></html>")
    path.write_text(document, encoding="utf-8")
    return path


def run_figures(steps: pd.DataFrame, directory: str | Path) -> list[Path]:
    """Figures of a single run: customers, cumulative profit and the ladder per firm."""
    directory = Path(directory)
    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for colour, (firm, frame) in zip(PALETTE, steps.groupby("firm", sort=False), strict=False):
        axes[0].plot(frame["week"], frame["customers"], color=colour, label=firm)
        axes[1].plot(frame["week"], frame["cumulative_discounted_profit"], color=colour, label=firm)
    axes[0].set(xlabel="Week", ylabel="Customers", title="Customers by firm")
    axes[1].set(xlabel="Week", ylabel="Cumulative discounted profit (currency)",
                title="Cumulative discounted profit")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    paths.append(_finish(fig, directory / "firms.png"))
    focal = steps[steps["firm"] == steps["firm"].iloc[0]]
    fig, ax = plt.subplots(figsize=(7, 4))
    rungs = rules.RUNGS[1:]
    ax.stackplot(focal["week"], (focal[[f"rung_{r}" for r in rungs]] * 100).T.to_numpy(),
                 labels=rungs, colors=RUNG_COLOURS)
    ax.set(xlabel="Week", ylabel="Share of the population (%)",
           title=f"Loyalty ladder — customers of {steps['firm'].iloc[0]}")
    ax.legend(loc="upper left", fontsize=8, title="Rung")
    ax.grid(alpha=0.3)
    paths.append(_finish(fig, directory / "ladder.png"))
    return paths
