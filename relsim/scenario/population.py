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

#: Columns a population file may have, with their defaults (None: required or conditional).
COLUMNS: dict[str, object] = {
    "customer": None, "segment": None, "need_rate": None, "dropout": 0.0, "spend_rate": 0.0,
    "purchases": 0, "first_week": None, "last_purchase_week": None, "alive": True,
}
_SHOWN = 5


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
    try:
        # CSV as text: the checks quote values as the file has them
        table = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(
            path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ScenarioError(f"{name}: population file not found (population.file)") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise ScenarioError(f"{name}: cannot read the population file ({str(error).splitlines()[0]})") from None
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
        values = pd.to_numeric(table[column], errors="coerce") if column in table.columns else None
        if values is None:
            return pd.Series(np.nan, index=table.index)
        return values.astype(float)

    def check(column: str, bad: np.ndarray, rule: str) -> None:
        rows = np.flatnonzero(bad)
        if rows.size:
            shown = ", ".join(f"row {i + 1}: {str(table[column].iloc[i])!r}" if column in table.columns
                              else f"row {i + 1}" for i in rows[:_SHOWN])
            more = f", … {rows.size - _SHOWN} more" if rows.size > _SHOWN else ""
            problems.append(f"{column}: {rows.size} row(s) {rule} ({shown}{more})")

    need = numbers("need_rate")
    check("need_rate", ~(need > 0) | ~np.isfinite(need), "must be a number > 0")
    dropout = numbers("dropout")
    check("dropout", ~((dropout >= 0) & (dropout <= 1)), "must be a number in [0, 1]")
    spend = numbers("spend_rate")
    check("spend_rate", ~(spend >= 0) | ~np.isfinite(spend), "must be a number >= 0")
    purchases = numbers("purchases")
    check("purchases", ~(purchases >= 0) | (purchases != np.floor(purchases)), "must be a whole number >= 0")
    bought = (purchases > 0).to_numpy()
    first = numbers("first_week")
    last = numbers("last_purchase_week")
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
