"""Per-customer populations: a table of customers a scenario can start from.

A scenario's optional ``[population] file = "population.csv"`` (CSV or
Parquet, resolved relative to the scenario file) replaces the random draw of
the population: one row per customer, in the order of the model's customer
index. Columns (only ``need_rate`` is required):

============================  ==========================================================
``customer``                  an id, kept for reference (any text)
``segment``                   segment name (default: the first segment)
``need_rate``                 purchase occasions per week, > 0
``dropout``                   BG/NBD chance of leaving after a repeat purchase, in [0, 1]
``spend_rate``                Gamma-Gamma rate ν of order values, >= 0 (0: the segment's basket)
``purchases``                 purchases so far, >= 0 (0: a prospect)
``first_week``                week of the first purchase, <= 0 (needed if purchases > 0)
``last_purchase_week``        week of the last purchase, in [first_week, 0]
``alive``                     true/false or 1/0: still a customer at week 0 (default true)
============================  ==========================================================

Customers with purchases start as customers of the focal (first) firm, with
the history the table gives; those not alive have left for good before week
0. The firms' ``initial_share`` is not used when a population file is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.scenario.errors import ScenarioError
from relsim.util.inputs import (
    MAX_TABLE_BYTES,
    check_csv_fields,
    check_csv_header,
    check_csv_text,
    check_regular_file,
)

#: Columns a population file may have, with their defaults (None: required or conditional).
COLUMNS: dict[str, object] = {
    "customer": None, "segment": None, "need_rate": None, "dropout": 0.0, "spend_rate": 0.0,
    "purchases": 0, "first_week": None, "last_purchase_week": None, "alive": True,
}
_SHOWN = 5
#: Largest purchase rate (occasions a week), as for a segment's ``need_rate``.
MAX_NEED_RATE = 50.0
#: Most purchases so far, and the longest history (weeks before week 0), a row may give.
MAX_PURCHASES = 1e9
MAX_HISTORY_WEEKS = 100_000


def load_population(scenario: Any) -> pd.DataFrame:   # a relsim.scenario.schema.Scenario
    """Read and validate the population file of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        A scenario with ``population.file`` set.

    Returns
    -------
    DataFrame
        One row per customer with every column of :data:`COLUMNS` (defaults
        filled in) and ``segment_index``, the position of the segment.

    Raises
    ------
    ScenarioError
        Naming the file, the column, the rows and the bad values.
    """
    if scenario.population is None:
        raise ScenarioError(f"{scenario.name}: the scenario names no population file")
    path = Path(scenario.population.file)
    name = str(path)
    parquet = path.suffix.lower() == ".parquet"
    if not path.exists() and not path.is_symlink():
        raise ScenarioError(f"{name}: population file not found (population.file)")
    # a regular file of at most MAX_TABLE_BYTES; a CSV file UTF-8 text throughout (line named if not)
    if parquet:
        check_regular_file(path, "population", ScenarioError, MAX_TABLE_BYTES)
    else:
        check_csv_text(path, "population", ScenarioError, MAX_TABLE_BYTES)
    try:
        # CSV as text: the checks quote values as the file has them
        table = pd.read_parquet(path) if parquet else pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ScenarioError(f"{name}: population file not found (population.file)") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        if text == "No columns to parse from file":
            text = "the file is empty; the first line must name the columns"
        raise ScenarioError(f"{name}: cannot read the population file "
                            f"({text.removeprefix('Error tokenizing data. C error: ')})") from None
    if not parquet:
        check_csv_header(name, table.columns, "population", ScenarioError)
        check_csv_fields(name, table, "population", ScenarioError)
    # CSV rows are named by their line (the header is line 1), Parquet rows by their number
    where, first_row = ("row", 1) if parquet else ("line", 2)
    unknown = [c for c in table.columns if c not in COLUMNS]
    if unknown:
        raise ScenarioError(f"{name}: unknown column(s) {', '.join(map(repr, unknown))}; "
                            f"allowed: {', '.join(COLUMNS)}")
    if "need_rate" not in table.columns:
        raise ScenarioError(f"{name}: required column 'need_rate' is missing")
    if len(table) != scenario.market.customers:
        raise ScenarioError(f"{name}: has {len(table)} customers but market.customers = "
                            f"{scenario.market.customers}; they must agree")
    for column, default in COLUMNS.items():
        if column not in table.columns and default is not None:
            table[column] = default
    problems: list[str] = []

    def numbers(column: str) -> pd.Series:
        if column not in table.columns:
            return pd.Series(np.nan, index=table.index)
        values = pd.to_numeric(table[column], errors="coerce").astype(float)
        # a cell that holds something other than a number is an error in every row (empty: not given)
        given = table[column].astype("string").str.strip().fillna("") != ""
        check(column, (given & values.isna()).to_numpy(), "not a number")
        return values

    def check(column: str, bad: np.ndarray, rule: str) -> None:
        rows = np.flatnonzero(bad)
        if rows.size:
            shown = ", ".join(f"{where} {i + first_row}: {str(table[column].iloc[i])!r}"
                              if column in table.columns else f"{where} {i + first_row}" for i in rows[:_SHOWN])
            more = f", … {rows.size - _SHOWN} more" if rows.size > _SHOWN else ""
            problems.append(f"{column}: {rows.size} row(s) {rule} ({shown}{more})")

    need = numbers("need_rate")
    check("need_rate", (~((need > 0) & (need <= MAX_NEED_RATE))).to_numpy(),
          f"must be a number > 0 and <= {MAX_NEED_RATE:g} (occasions a week)")
    dropout = numbers("dropout")
    check("dropout", ~((dropout >= 0) & (dropout <= 1)), "must be a number in [0, 1]")
    spend = numbers("spend_rate")
    check("spend_rate", ~(spend >= 0) | ~np.isfinite(spend), "must be a finite number >= 0")
    purchases = numbers("purchases")
    check("purchases", ~((purchases >= 0) & (purchases <= MAX_PURCHASES)) | (purchases != np.floor(purchases)),
          f"must be a whole number from 0 to {MAX_PURCHASES:.0e}")
    bought = (purchases > 0).to_numpy()
    first = numbers("first_week")
    last = numbers("last_purchase_week")
    for column, weeks in (("first_week", first), ("last_purchase_week", last)):
        check(column, (weeks.notna() & ~((weeks >= -MAX_HISTORY_WEEKS) & (weeks <= 0))).to_numpy(),
              f"must be a week from {-MAX_HISTORY_WEEKS} to 0")
    check("first_week", bought & ~(first <= 0).to_numpy(), "must be a week <= 0 for customers with purchases")
    check("last_purchase_week", bought & ~((last >= first) & (last <= 0)).to_numpy(),
          "must be a week between first_week and 0")
    alive = table["alive"].map(_boolean)
    check("alive", alive.isna().to_numpy(), "must be true/false or 1/0")
    names = [segment.name for segment in scenario.segments]
    if "segment" in table.columns:
        segment_index = table["segment"].map({n: i for i, n in enumerate(names)})
        check("segment", segment_index.isna().to_numpy(), f"name no segment; segments: {', '.join(names)}")
    else:
        segment_index = pd.Series(0, index=table.index)
    if not problems:
        # a Gamma-Gamma spend rate needs its segment's spend_shape p to mean anything
        shapes = np.array([segment.spend_shape for segment in scenario.segments])
        check("spend_rate", ((spend > 0) & (shapes[segment_index.to_numpy(dtype=np.int64)] == 0)).to_numpy(),
              "are > 0 in a segment with spend_shape = 0 (give the segment a Gamma-Gamma spend_shape)")
    if problems:
        raise ScenarioError(f"{name}: invalid population file\n  " + "\n  ".join(problems))
    return table.assign(need_rate=need, dropout=dropout, spend_rate=spend,
                        purchases=purchases.astype(np.int64), first_week=first.fillna(0.0),
                        last_purchase_week=last.fillna(0.0), alive=alive.astype(bool),
                        segment_index=segment_index.astype(np.int64))


def _boolean(value: object) -> bool | None:
    text = str(value).strip().lower()
    if text in ("true", "1", "1.0", "yes"):
        return True
    if text in ("false", "0", "0.0", "no"):
        return False
    return None
