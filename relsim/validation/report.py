"""The validation report: ``validation.md`` (figures beside it) and ``validation.html``
(self-contained, figures embedded as base64 PNG), plus one CSV per check."""

from __future__ import annotations

import base64
import datetime as dt
import html
import platform
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from relsim.studies.report import _finish, _md_inline
from relsim.util.version import __version__
from relsim.validation.checks import Validation

STYLE = ("body{font-family:system-ui,sans-serif;max-width:1080px;margin:2em auto;padding:0 1em;"
         "line-height:1.5;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;white-space:nowrap}"
         "th{background:#f2f2f2}tbody tr:nth-child(even){background:#fafafa}"
         "td:first-child,th:first-child{text-align:left}td{white-space:normal}img{max-width:100%}"
         "figure{margin:0.5em 0 2em 0}figcaption{color:#555;font-size:90%}"
         ".pass{color:#007a4d;font-weight:bold}.fail{color:#b8420f;font-weight:bold}"
         "dl{display:grid;grid-template-columns:9em 1fr;gap:0.3em 1em}dt{font-weight:bold}dd{margin:0}")
#: Rows of a check's detail table shown in the report (the CSV has them all).
SHOWN_ROWS = 30


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def _format_table(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.head(SHOWN_ROWS).copy()
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_float_dtype(values):
            shown[column] = [f"{v:.4g}" for v in values]
        else:
            shown[column] = ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
    return shown


def _markdown_table(table: pd.DataFrame) -> str:
    shown = _format_table(table)
    lines = ["| " + " | ".join(shown.columns) + " |", "|" + "---|" * len(shown.columns)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in shown.to_numpy()]
    if len(table) > SHOWN_ROWS:
        lines.append(f"\n_{len(table) - SHOWN_ROWS} more rows in the CSV._")
    return "\n".join(lines)


def _html_table(table: pd.DataFrame) -> str:
    shown = _format_table(table)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in shown.to_numpy())
    more = (f"<p><em>{len(table) - SHOWN_ROWS} more rows in the CSV.</em></p>"
            if len(table) > SHOWN_ROWS else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}"


def write_validation_report(validation: Validation, directory: str | Path) -> dict[str, Path]:
    """Write ``validation.md``, ``validation.html``, the figures and one CSV per check.

    Returns
    -------
    dict
        Paths of what was written, by name.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for check in validation.checks:
        if check.figure is not None:
            fig, ax = plt.subplots(figsize=check.figure_size)
            check.figure(ax)
            written[f"{check.key}.png"] = _finish(fig, directory / f"{check.key}.png")
        if not check.table.empty:
            path = directory / f"{check.key}.csv"
            check.table.to_csv(path, index=False)
            written[path.name] = path
    passed = sum(check.passed for check in validation.checks)
    title = f"relsim validation — {passed} of {len(validation.checks)} checks pass ({validation.mode})"
    about = [
        f"Generated {dt.datetime.now().isoformat(timespec='minutes')} by relsim {__version__} "
        f"(`relsim validate{' --quick' if validation.mode == 'quick' else ''}`), Python "
        f"{platform.python_version()}, {validation.workers} worker process(es); wall time "
        f"{validation.seconds:.0f} s.",
        "Every check runs the model itself (no recursion of the model's own rules): analytic special cases "
        "against the published formula or fit, the two engines against each other, and degenerate "
        "scenarios. Seeds are fixed, so the report is reproducible. How each special case maps scenario "
        "levers to the formula's parameters: docs/validation.md; helpers: `relsim.studies.analytic`.",
        "Intervals are 95 % Monte-Carlo intervals (mean ± 1.96 standard errors over runs or customers, "
        "or the refit's ± 1.96 standard errors from the inverse Hessian).",
    ]
    summary = pd.DataFrame([{"check": c.title, "result": _verdict(c.passed), "target": c.target,
                             "measured": c.measured, "CPU s": f"{c.seconds:.1f}"}
                            for c in validation.checks])

    markdown = [f"# {title}", "", *[f"- {line}" for line in about], "", "## Summary", "",
                _markdown_table(summary.drop(columns=["target"])), ""]
    for check in validation.checks:
        markdown += [f"## {check.title}: **{_verdict(check.passed)}**", "",
                     f"- **Source:** {check.source}", f"- **Setup:** {check.setup}",
                     f"- **Target:** {check.target}", f"- **Measured:** {check.measured}",
                     f"- **Result:** {_verdict(check.passed)} (CPU {check.seconds:.1f} s)",
                     f"- **A failure would mean:** {check.meaning}", ""]
        if f"{check.key}.png" in written:
            markdown += [f"![{check.title}]({check.key}.png)", ""]
        if not check.table.empty:
            markdown += [_markdown_table(check.table), "", f"Full table: `{check.key}.csv`.", ""]
    (directory / "validation.md").write_text("\n".join(markdown), encoding="utf-8")
    written["validation.md"] = directory / "validation.md"

    parts = [f"<h1>{html.escape(title)}</h1>",
             "<ul>" + "".join(f"<li>{_md_inline(line)}</li>" for line in about) + "</ul>",
             "<h2>Summary</h2>", _html_table(summary.drop(columns=["target"]))]
    for check in validation.checks:
        verdict = _verdict(check.passed)
        parts.append(f"<h2>{html.escape(check.title)}: <span class='{verdict.lower()}'>{verdict}</span></h2>")
        items = (("Source", check.source), ("Setup", check.setup), ("Target", check.target),
                 ("Measured", check.measured), ("A failure would mean", check.meaning))
        parts.append("<dl>" + "".join(f"<dt>{name}</dt><dd>{_md_inline(text)}</dd>" for name, text in items)
                     + "</dl>")
        if f"{check.key}.png" in written:
            data = base64.b64encode(written[f"{check.key}.png"].read_bytes()).decode()
            parts.append(f"<figure><img alt='{html.escape(check.title)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{html.escape(check.title)}</figcaption></figure>")
        if not check.table.empty:
            parts.append(_html_table(check.table))
    document = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
                f"<body>{''.join(parts)}</body></html>")
    path = directory / "validation.html"
    path.write_text(document, encoding="utf-8")
    written["validation.html"] = path
    return written
