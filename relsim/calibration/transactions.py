"""Transaction logs: reading, validation and the RFM summary per customer.

A transaction log has one row per purchase: a customer id, a date and an
amount. :func:`read_log` reads it from CSV (or Parquet) with configurable
column names and date format and checks every row; problems are collected
and reported together, naming the row (the line of the file, header = line
1), the column and the bad value::

    log.csv: 3 bad rows; nothing was calibrated
      date: 1 row, not in the date format '%Y-%m-%d' (line 7: '2024-13-01')
      amount: 2 rows, zero or negative (line 4: '-3.5', line 9: '0')

A date must lie between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`: a
purchase in the year 1200 or on 9999-12-31 is a typo or a placeholder, and
one such row would move the fitted parameters without a word.

:func:`rfm_summary` turns a clean log into the buy-till-you-die summary per
customer in weeks (x, t_x, T, mean repeat spend), as in the published CDNOW
analyses: several purchases of one customer on the same day are one
transaction (their amounts summed), and each customer's calibration period
runs from their first purchase (cohort entry) to the calibration end.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from relsim.util.errors import RelsimError
from relsim.util.inputs import (
    MAX_TABLE_BYTES,
    check_csv_fields,
    check_csv_header,
    check_csv_text,
    check_regular_file,
)

#: Rows listed per kind of problem in an error message (the count is always given).
SHOWN_ROWS = 5
DAYS_PER_WEEK = 7.0
#: The earliest and latest purchase dates a log may hold.
EARLIEST_DATE = "1900-01-01"
LATEST_DATE = "2199-12-31"


class LogError(RelsimError):
    """A transaction log cannot be used. The message is meant for users."""


@dataclass(frozen=True)
class LogColumns:
    """Names of the log's columns and the format of its dates.

    Attributes
    ----------
    customer, date, amount : str
        Column names in the file.
    date_format : str or None
        A ``strftime`` format such as ``"%Y%m%d"``; None accepts ISO 8601
        dates (``2024-03-01``, ``2024-03-01 12:30``).
    """

    customer: str = "customer"
    date: str = "date"
    amount: str = "amount"
    date_format: str | None = None


def read_log(source: str | Path | pd.DataFrame, columns: LogColumns = LogColumns(),
             zero_amounts: Literal["error", "keep"] = "error",
             duplicates: Literal["error", "keep", "drop"] = "error") -> pd.DataFrame:
    """Read and validate a transaction log.

    Parameters
    ----------
    source : str, Path or DataFrame
        A CSV file (``.parquet`` files are read as Parquet) or a table.
    columns : LogColumns
        Column names and date format.
    zero_amounts : {"error", "keep"}
        Zero amounts are errors unless ``"keep"`` (e.g. free items that still
        count as a purchase occasion). Negative amounts are always errors:
        returns must be netted out before calibration.
    duplicates : {"error", "keep", "drop"}
        Rows identical in customer, date and amount: an error (a double
        export is the usual cause), kept, or dropped.

    Returns
    -------
    DataFrame
        Columns ``customer`` (str), ``date`` (datetime64, day precision) and
        ``amount`` (float), in file order.

    Raises
    ------
    LogError
        If the file cannot be read, a column is missing, or any row is bad;
        one line per kind of problem with the first rows and their values.
    """
    name = str(source) if not isinstance(source, pd.DataFrame) else "<log>"
    raw = _read_raw(source, name)
    missing = [c for c in (columns.customer, columns.date, columns.amount) if c not in raw.columns]
    if missing:
        raise LogError(f"{name}: missing column(s) {', '.join(map(repr, missing))}; the file has "
                       f"{', '.join(map(repr, map(str, raw.columns)))} (name them with --customer-column, "
                       "--date-column, --amount-column)")
    if raw.empty:
        raise LogError(f"{name}: the log has no rows")
    # file line of each row (the header is line 1); a table's own index labels
    lines = np.arange(len(raw)) + 2 if not isinstance(source, pd.DataFrame) else raw.index.to_numpy()
    where = "line" if not isinstance(source, pd.DataFrame) else "row"
    customer = raw[columns.customer].astype("string").str.strip()
    date_text = raw[columns.date].astype("string").str.strip()
    amount_text = raw[columns.amount].astype("string").str.strip()
    if pd.api.types.is_datetime64_any_dtype(raw[columns.date]):
        # Parquet files and tables may hold dates already: no format to apply
        dates = pd.to_datetime(raw[columns.date])
        if dates.dt.tz is not None:
            dates = dates.dt.tz_localize(None)
        date_rule = "no date"
    elif columns.date_format is None:
        dates = pd.to_datetime(date_text, format="ISO8601", errors="coerce")
        date_rule = "not an ISO 8601 date (give the format with --date-format, e.g. '%d/%m/%Y')"
    else:
        try:
            dates = pd.to_datetime(date_text, format=columns.date_format, errors="coerce")
        except ValueError as error:
            raise LogError(f"date format {columns.date_format!r} is not usable ({error}); "
                           "e.g. %Y-%m-%d or %Y%m%d") from None
        date_rule = f"not in the date format {columns.date_format!r}"
    amounts = pd.to_numeric(amount_text, errors="coerce")
    problems: list[tuple[str, str, np.ndarray, pd.Series]] = []

    def check(column: str, rule: str, bad: pd.Series, values: pd.Series) -> None:
        bad = bad.fillna(True).to_numpy(dtype=bool)
        if bad.any():
            problems.append((column, rule, bad, values))

    check(columns.customer, "no customer id", customer.isna() | (customer == ""), customer)
    check(columns.date, date_rule, dates.isna(), date_text)
    check(columns.date, f"before {EARLIEST_DATE} or after {LATEST_DATE} (a typo, or a placeholder such as "
          "9999-12-31?)", dates.notna() & ((dates < EARLIEST_DATE) | (dates > LATEST_DATE)), date_text)
    check(columns.amount, "not a number", amounts.isna(), amount_text)
    check(columns.amount, "not a finite number (too large)", amounts.notna() & ~np.isfinite(amounts.astype(float)),
          amount_text)
    positive = amounts > 0 if zero_amounts == "error" else amounts >= 0
    rule = "zero or negative" if zero_amounts == "error" else "negative"
    check(columns.amount, rule, amounts.notna() & ~positive, amount_text)
    frame = pd.DataFrame({"customer": customer, "date": dates.dt.normalize(),
                          "amount": amounts.astype(float)})
    if duplicates != "keep":
        repeated = frame.duplicated(keep="first") & frame.notna().all(axis=1)
        if duplicates == "error":
            check(f"{columns.customer}, {columns.date}, {columns.amount}",
                  "repeating an earlier row exactly (use --duplicates keep or drop if that is intended)",
                  repeated, customer + " " + date_text + " " + amount_text)
        else:
            frame = frame[~repeated.to_numpy()]
            lines = lines[~repeated.to_numpy()]
    if problems:
        count = int(np.logical_or.reduce([bad for _, _, bad, _ in problems]).sum())
        report = [f"{name}: {count} bad row{'s' if count != 1 else ''}; nothing was calibrated"]
        for column, rule, bad, values in problems:
            rows = np.flatnonzero(bad)
            shown = ", ".join(f"{where} {lines[i]}: {_show(values.iloc[i])}" for i in rows[:SHOWN_ROWS])
            more = f", … {len(rows) - SHOWN_ROWS} more" if len(rows) > SHOWN_ROWS else ""
            report.append(f"  {column}: {len(rows)} row{'s' if len(rows) != 1 else ''}, {rule} "
                          f"({shown}{more})")
        raise LogError("\n".join(report))
    return frame.reset_index(drop=True)


def _show(value: object) -> str:
    return "empty" if value is pd.NA or value is None or value == "" else repr(str(value))


def _read_raw(source: str | Path | pd.DataFrame, name: str) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    parquet = path.suffix.lower() == ".parquet"
    if not path.exists() and not path.is_symlink():
        raise LogError(f"{name}: no such file")
    # a regular file of at most MAX_TABLE_BYTES; a CSV file UTF-8 text throughout (line named if not)
    if parquet:
        check_regular_file(path, "transaction log", LogError, MAX_TABLE_BYTES)
    else:
        check_csv_text(path, "transaction log", LogError, MAX_TABLE_BYTES)
    try:
        if parquet:
            return pd.read_parquet(path)
        # every column as text: ids keep leading zeros, and the checks see what the file says
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise LogError(f"{name}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise LogError(f"{name}: cannot read the log as {'Parquet' if parquet else 'CSV'}"
                       f" ({_parser_problem(error)})") from None
    check_csv_header(name, table.columns, "transaction log", LogError)
    check_csv_fields(name, table, "transaction log", LogError)
    return table


def _parser_problem(error: Exception) -> str:
    """pandas' reason a CSV could not be parsed, in the file's own terms (lines, fields)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    text = text.removeprefix("Error tokenizing data. C error: ")
    if text == "No columns to parse from file":
        return "the file is empty; the first line must name the columns"
    return text


def daily_transactions(log: pd.DataFrame) -> pd.DataFrame:
    """One transaction per customer and day, amounts summed (as in the CDNOW analyses).

    Parameters
    ----------
    log : DataFrame
        A validated log (see :func:`read_log`).

    Returns
    -------
    DataFrame
        Columns ``customer``, ``date``, ``amount``, sorted by customer and date.
    """
    return (log.groupby(["customer", "date"], sort=True, observed=True)["amount"].sum()
            .reset_index())


def rfm_summary(log: pd.DataFrame, calibration_end: str | pd.Timestamp,
                holdout_end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The buy-till-you-die summary per customer, in weeks.

    Parameters
    ----------
    log : DataFrame
        A validated log (see :func:`read_log`).
    calibration_end : date
        Last day of the calibration period (its purchases count).
    holdout_end : date, optional
        Last day of the hold-out period; adds ``holdout_x``, the customer's
        transactions after the calibration end up to and including it.

    Returns
    -------
    DataFrame
        Indexed by ``customer``, one row per customer whose first purchase
        falls on or before ``calibration_end``: ``x`` repeat transactions in
        the calibration period, ``t_x`` weeks from the first to the last of
        them (0 if none), ``T`` weeks from the first purchase to the
        calibration end, ``m_x`` mean value of the repeat transactions (NaN
        if x = 0), ``first_amount``, ``first_date`` (and ``holdout_x``).
    """
    end = pd.Timestamp(calibration_end).normalize()
    days = daily_transactions(log)
    first = days.groupby("customer", sort=True)["date"].transform("min")
    days = days[first <= end].assign(first=first[first <= end])
    calibration = days[days["date"] <= end]
    grouped = calibration.groupby("customer", sort=True)
    count = grouped.size()
    first_date = grouped["first"].first()
    last_date = grouped["date"].max()
    total = grouped["amount"].sum()
    first_amount = calibration.drop_duplicates("customer").set_index("customer")["amount"]
    x = (count - 1).astype(np.int64)
    summary = pd.DataFrame({
        "x": x,
        "t_x": (last_date - first_date).dt.days / DAYS_PER_WEEK,
        "T": (end - first_date).dt.days / DAYS_PER_WEEK,
        "m_x": ((total - first_amount) / x.where(x > 0)).astype(float),
        "first_amount": first_amount,
        "first_date": first_date,
    })
    summary.index.name = "customer"
    if holdout_end is not None:
        stop = pd.Timestamp(holdout_end).normalize()
        later = days[(days["date"] > end) & (days["date"] <= stop)]
        summary["holdout_x"] = later.groupby("customer").size().reindex(summary.index, fill_value=0)
    return summary


def weekly_repeat_transactions(log: pd.DataFrame, calibration_end: str | pd.Timestamp,
                               holdout_end: str | pd.Timestamp) -> pd.Series:
    """Repeat transactions per hold-out week by the customers known at calibration end.

    Week k (k = 0, 1, …) covers the days ``calibration_end + 7k + 1`` to
    ``calibration_end + 7k + 7``; a last, shorter week is counted as it is.

    Parameters
    ----------
    log : DataFrame
        A validated log.
    calibration_end, holdout_end : date
        The calibration end and the last day of the hold-out.

    Returns
    -------
    Series
        Transactions per hold-out week, indexed by week number.
    """
    end = pd.Timestamp(calibration_end).normalize()
    stop = pd.Timestamp(holdout_end).normalize()
    days = daily_transactions(log)
    first = days.groupby("customer")["date"].transform("min")
    later = days[(first <= end) & (days["date"] > end) & (days["date"] <= stop)]
    weeks = int(np.ceil((stop - end).days / DAYS_PER_WEEK))
    week = ((later["date"] - end).dt.days - 1) // 7
    return week.value_counts().reindex(range(weeks), fill_value=0).sort_index().rename("transactions")


def cdnow_log() -> pd.DataFrame:
    """The CDNOW sample shipped with relsim as a validated transaction log.

    The published analyses keep its 8 zero-value purchases and its rows that
    repeat another row exactly, so they are kept here too.

    Returns
    -------
    DataFrame
        Columns ``customer``, ``date``, ``amount`` (6,919 rows, 2,357 customers).
    """
    path = resources.files("relsim") / "data" / "cdnow" / "CDNOW_sample.txt"
    with resources.as_file(path) as file:
        raw = pd.read_csv(file, sep=r"\s+", header=None, dtype=str,
                          names=["master_id", "customer", "date", "units", "amount"])
    return read_log(raw[["customer", "date", "amount"]], LogColumns(date_format="%Y%m%d"),
                    zero_amounts="keep", duplicates="keep")


#: Calibration end and hold-out end of the published CDNOW analyses (39 + 39 weeks).
CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_HOLDOUT_END = "1998-06-30"
