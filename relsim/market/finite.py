"""No NaN and no infinity in a result: the check every run's tables pass before anyone reads them.

A quantity that is undefined when nobody is there to measure (the mean trust
of a firm without customers, the NPS of no one, the response time of a desk
that answered nothing) is NaN by design, and only then; every other number
of the weekly table and of the summary must be finite. A run whose
arithmetic broke stops with :class:`NonFiniteResultError` naming the first
week, the firm and the quantity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from relsim.util.errors import RelsimError

#: Weekly columns that are NaN when the firm has no customers (and only then).
NAN_WITHOUT_CUSTOMERS = ("mean_trust", "mean_commitment", "mean_satisfaction", "mean_reciprocity",
                         "mean_responsiveness", "nps")
#: Weekly columns that are NaN when their denominator is zero (checked for infinity only).
NAN_WHEN_EMPTY = ("retention_rate", "mean_response_time", "referral_share")
#: Summary columns that may be NaN (averages over weeks or customers that did not exist).
SUMMARY_NAN_ALLOWED = ("wom_share_of_new", "nps", "mean_trust", "mean_commitment", "mean_response_time")


class NonFiniteResultError(RelsimError):
    """A run produced NaN or infinity where a number is defined (exit 2). The message names
    the week, the firm and the quantity."""


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.select_dtypes(include=[np.number, "bool"]).astype(float)


def check_steps(steps: pd.DataFrame, source: str = "the run") -> None:
    """Raise :class:`NonFiniteResultError` at the first bad number of the weekly table."""
    if steps.empty:
        return
    values = _numeric(steps)
    bad = ~np.isfinite(values.to_numpy())
    allowed = np.zeros_like(bad)
    columns = list(values.columns)
    empty = (steps["customers"].to_numpy() == 0) if "customers" in steps else np.zeros(len(steps), bool)
    no_orders = (steps["orders"].to_numpy() == 0) if "orders" in steps else np.zeros(len(steps), bool)
    for position, column in enumerate(columns):
        is_nan = np.isnan(values[column].to_numpy())
        if column in NAN_WITHOUT_CUSTOMERS:
            allowed[:, position] = is_nan & empty
        elif column == "referral_share":
            allowed[:, position] = is_nan & no_orders
        elif column in NAN_WHEN_EMPTY:
            allowed[:, position] = is_nan
    bad &= ~allowed
    if bad.any():
        row, position = np.argwhere(bad)[0]
        record = steps.iloc[row]
        firm = f", firm {record['firm']!r}" if "firm" in steps else ""
        raise NonFiniteResultError(
            f"{source} produced a non-finite number at week {float(record.get('week', row)):g}{firm}: "
            f"{columns[position]} = {float(values.iloc[row, position])} ({int(bad.sum())} such values in all); "
            "a parameter of the scenario is probably too large or too small for the model's arithmetic")


def check_summary(summary: pd.DataFrame, source: str = "the run") -> None:
    """Raise :class:`NonFiniteResultError` at the first bad number of the summary table."""
    values = _numeric(summary)
    for column in values.columns:
        data = values[column].to_numpy()
        bad = ~np.isfinite(data)
        if column in SUMMARY_NAN_ALLOWED:
            bad &= ~np.isnan(data)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            firm = f" of firm {summary['firm'].iloc[row]!r}" if "firm" in summary else ""
            raise NonFiniteResultError(
                f"{source} produced a non-finite end-of-run {column}{firm}: {float(data[row])}; a parameter of "
                "the scenario is probably too large or too small for the model's arithmetic")
