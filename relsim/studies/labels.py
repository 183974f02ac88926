"""Plain words for the column names of results: metrics, factors (dotted scenario paths), table columns.

Reports show these; CSV, Parquet and the stores keep the raw names (what code reads).

>>> metric_label("annual_retention"), metric_label("cumulative_discounted_profit")
('Annual retention', 'Discounted profit (cumulative)')
>>> factor_label("firms.0.levers.price"), factor_label("focal_strategy"), factor_label("market.customers")
("Focal firm's price", "Focal firm's strategy", 'Market: customers')
>>> format_value(0.0184, "wom_share_of_new"), format_value(1234567.0, "profit"), format_value(0.0184, "x")
('1.8 %', '1.23 M', '0.0184')
"""

from __future__ import annotations

import math
from typing import Any

#: Plain words for each summary metric.
METRIC_LABELS: dict[str, str] = {
    "customers_end": "Customers at the end",
    "annual_retention": "Annual retention",
    "weekly_retention": "Weekly retention",
    "cumulative_discounted_profit": "Discounted profit (cumulative)",
    "profit": "Profit",
    "revenue": "Revenue",
    "cogs": "Cost of goods",
    "acquisition": "Acquisition spending",
    "relationship": "Relationship programme cost",
    "service_desk": "Service desk cost",
    "partner_fees": "Partner fees",
    "rewards": "Loyalty rewards",
    "adaptation": "Strategy change costs",
    "new_customers": "New customers",
    "wom_share_of_new": "Share of new customers from word of mouth",
    "referral_share_of_orders": "Share of orders from referrals",
    "nps": "Net promoter score",
    "mean_trust": "Mean trust",
    "mean_commitment": "Mean commitment",
    "market_share": "Market share",
    "mean_response_time": "Mean service response time",
    "failures": "Service failures",
    "complaints": "Complaints",
}
#: Metrics that are shares (0–1), shown as percentages (differences in percentage points).
SHARE_METRICS = frozenset({"annual_retention", "weekly_retention", "wom_share_of_new", "referral_share_of_orders",
                           "market_share"})
#: Metrics in currency, shown compactly (k, M).
MONEY_METRICS = frozenset({"cumulative_discounted_profit", "profit", "revenue", "cogs", "acquisition",
                           "relationship", "service_desk", "partner_fees", "rewards", "adaptation"})
#: Metrics where less is better (costs, failures, waiting).
LOWER_IS_BETTER = frozenset({"cogs", "acquisition", "relationship", "service_desk", "partner_fees", "rewards",
                             "adaptation", "mean_response_time", "failures", "complaints"})
#: Plain words for the columns of the analysis tables.
COLUMN_LABELS: dict[str, str] = {
    "point": "Design point", "metric": "Outcome", "mean": "Mean", "ci_low": "95 % low", "ci_high": "95 % high",
    "runs": "Runs", "factor": "Factor", "swing": "Swing", "from_level": "From", "to_level": "To",
    "level": "Level", "baseline": "Baseline", "difference": "Difference", "pairs": "Paired seeds",
    "significant": "Clear difference", "best": "Best level", "runner_up": "Runner-up", "lead": "Lead",
    "lead_ci_low": "Lead 95 % low", "lead_ci_high": "Lead 95 % high", "clear_winner": "Clear winner",
    "x": "Driver (x)", "y": "Outcome (y)", "delta": "Change in x", "change": "Change in y",
    "r_squared": "R²", "S1": "First-order index", "S1_conf": "± (95 %)", "ST": "Total-order index",
    "ST_conf": "± (95 %) ", "mu": "μ", "mu_star": "μ* (mean absolute effect)", "mu_star_conf": "μ* ± (95 %)",
    "sigma": "σ (interactions)", "focal_strategy": "Focal firm's strategy", "scenario": "Scenario",
}
#: Columns whose values are in the unit of the row's metric (levels, differences).
VALUE_COLUMNS = frozenset({"mean", "ci_low", "ci_high", "swing"})
DIFFERENCE_COLUMNS = frozenset({"difference", "lead", "lead_ci_low", "lead_ci_high", "swing"})

_PARTS = {"levers": None, "market": "Market", "word_of_mouth": "Word of mouth", "segments": "Segment",
          "firms": "Firm", "partners": "Partner"}


def metric_label(metric: str) -> str:
    """Plain words for a metric (the raw name, spaced, if unknown)."""
    return METRIC_LABELS.get(metric) or metric.replace("_", " ").capitalize()


def factor_label(name: str) -> str:
    """Plain words for a factor: a dotted scenario path (``firms.0.levers.price`` is the focal
    firm's price, ``firms.1.quality`` firm 2's quality), ``focal_strategy`` or ``scenario``."""
    if name in ("focal_strategy", "scenario"):
        return COLUMN_LABELS[name]
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] == "firms" and parts[1].isdigit():
        owner = "Focal firm's" if parts[1] == "0" else f"Firm {int(parts[1]) + 1}'s"
        rest = [p for p in parts[2:] if p != "levers"]
        return f"{owner} {' '.join(p.replace('_', ' ') for p in rest)}"
    words: list[str] = []
    for i, part in enumerate(parts):
        plain = _PARTS.get(part)
        if part.isdigit() and i > 0 and parts[i - 1] in ("segments", "partners") and words:
            words[-1] = f"{words[-1]} {int(part) + 1}"
        elif part in _PARTS:
            if plain:
                words.append(plain)
        else:
            words.append(part.replace("_", " "))
    if len(words) > 1:
        return f"{words[0]}: {' '.join(words[1:])}"
    return (words[0] if words else name).capitalize()


def column_label(column: str) -> str:
    """Plain words for a table column: a known column, a metric, or a factor."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    if column in METRIC_LABELS:
        return METRIC_LABELS[column]
    return factor_label(column)


def money(value: float, signed: bool = False) -> str:
    """Compact currency: ``1.07 M``, ``385 k``, ``950`` (with a sign when ``signed``)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = ("+" if value >= 0 else "−") if signed else ("−" if value < 0 else "")
    size = abs(value)
    if size >= 1e6:
        return f"{sign}{size / 1e6:,.2f} M"
    if size >= 1e4:
        return f"{sign}{size / 1e3:,.0f} k"
    return f"{sign}{size:,.0f}"


def format_value(value: Any, metric: str | None = None, difference: bool = False) -> str:
    """A number in the unit of ``metric``: shares in % (differences in points), money compact."""
    if value is None or isinstance(value, str):
        return "n/a" if value is None else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "n/a"
    if metric in SHARE_METRICS:
        return f"{100 * number:+.1f} pts".replace("-", "−") if difference else f"{100 * number:.1f} %"
    if metric in MONEY_METRICS:
        return money(number, signed=difference)
    if isinstance(value, int) or (number.is_integer() and abs(number) >= 1000):
        return f"{number:,.0f}"
    if difference:
        return f"{number:+,.4g}".replace("-", "−")
    return f"{number:,.4g}" if abs(number) < 1000 else f"{number:,.0f}"


__all__ = ["LOWER_IS_BETTER", "METRIC_LABELS", "MONEY_METRICS", "SHARE_METRICS", "column_label", "factor_label",
           "format_value", "metric_label", "money"]
