"""``relsim export STORE``: a results store as one tidy table in a common file format.

The summary (one row per finished run and firm) or the per-week series
(``steps``) or the cohorts, with every design factor joined by design point
(``design.parquet`` has them all, also a factor whose name the summary does not
carry), or the runs table (seed, status and compute seconds per run):

>>> from relsim.studies.export import export_store
>>> export_store("results/wom_seeding", "wom.csv")        # doctest: +SKIP

Formats: ``csv``, ``parquet``, ``json`` (an array of records) and ``xlsx``
(with openpyxl installed; at most 1,048,575 rows). The file is written under a
temporary name and renamed into place (:mod:`relsim.util.outputs`), so a failed
export leaves nothing half-written.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

import pandas as pd

from relsim.studies.store import Store, StoreError
from relsim.util.outputs import OutputError, atomic_write_table, check_output_file, check_replaceable, staged_output

#: What ``relsim export`` can write.
EXPORT_FORMATS = ("csv", "parquet", "json", "xlsx")
#: What it can export: the store's tables, and the runs table.
EXPORT_TABLES = ("summary", "steps", "cohorts", "runs")
#: Rows of one Excel sheet (less the header).
XLSX_ROWS = 1_048_575

ExportFormat = Literal["csv", "parquet", "json", "xlsx"]


def tidy_table(store: str | Path, table: str = "summary", focal_only: bool = False) -> pd.DataFrame:
    """One of the store's tables with the design factors joined, one row per run (and firm, week...).

    Raises
    ------
    StoreError
        If ``store`` is not a results store, ``table`` is unknown or not kept by the
        experiment, or no run has finished yet.
    """
    results = Store(store)
    results.require_folder()
    manifest = results.manifest()
    if table not in EXPORT_TABLES:
        raise StoreError(f"unknown table {table!r}; allowed: {', '.join(EXPORT_TABLES)}")
    if table == "runs":
        frame = results.runs()
    else:
        kept = {"summary", *manifest["outputs"].get("tables", [])}
        if table not in kept:
            raise StoreError(f"{results.root}: the experiment keeps no {table!r} table (outputs.tables = "
                             f"{sorted(kept)}); export the summary, or add {table!r} to outputs.tables")
        frame = results.table(table)
        if frame.empty:
            raise StoreError(f"{results.root}: no finished runs yet; run relsim sweep first")
    design = results.design()
    joined = [c for c in design.columns if c != "point" and c not in frame.columns]
    if joined:
        position = list(frame.columns).index("seed") + 1 if "seed" in frame.columns else len(frame.columns)
        frame = frame.merge(design[["point", *joined]], on="point", how="left")
        order = [*list(frame.columns[:position]), *joined]
        frame = frame[order + [c for c in frame.columns if c not in order]]
    if focal_only and "focal" in frame.columns:
        frame = frame[frame["focal"]]
    keys = [c for c in ("run_id", "firm", "week", "cohort_week", "age_weeks") if c in frame.columns]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def export_store(store: str | Path, out: str | Path, fmt: str | None = None, table: str = "summary",
                 focal_only: bool = False) -> Path:
    """Write ``store``'s ``table`` (see :func:`tidy_table`) to the file ``out`` as ``fmt``
    (default: from ``out``'s suffix).

    Raises
    ------
    OutputError
        If the format is unknown or unavailable, or ``out`` cannot be a file (a folder,
        a missing parent folder, or an existing file relsim did not write: the file is
        recorded in its folder's ``.relsim-outputs``, so a re-export may replace it).
    StoreError
        See :func:`tidy_table`.
    """
    out = Path(out)
    fmt = fmt or {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json",
                  ".xlsx": "xlsx"}.get(out.suffix.lower())
    if fmt is None:
        raise OutputError(f"--out = {str(out)!r}: cannot tell the format from the suffix; give --format "
                          f"({', '.join(EXPORT_FORMATS)})")
    if fmt not in EXPORT_FORMATS:
        raise OutputError(f"unknown format {fmt!r}; allowed: {', '.join(EXPORT_FORMATS)}")
    if fmt == "xlsx" and importlib.util.find_spec("openpyxl") is None:
        raise OutputError("--format xlsx needs openpyxl: pip install openpyxl (or use csv or parquet)")
    check_output_file(out)
    check_replaceable(out)    # a file relsim did not write is never overwritten
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"--out = {str(out)!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out = {str(out)!r}: folder {str(parent)!r} is not writable")
    frame = tidy_table(store, table, focal_only)
    if fmt == "xlsx" and len(frame) > XLSX_ROWS:
        raise OutputError(f"{len(frame):,} rows do not fit an Excel sheet ({XLSX_ROWS:,}); "
                          "use --format parquet or csv, or --focal-only")
    if fmt in ("xlsx", "json"):
        frame = frame.copy()
        for column in frame.columns:       # tz-aware or mixed objects: plain text for these formats
            if frame[column].dtype == object:
                frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, (str, int, float, bool))
                                                  else str(v))
    with staged_output(parent, replace_previous=False) as staging:   # recorded: a re-export may replace it
        atomic_write_table(frame, staging / out.name, fmt)
    return out


def command_export(args) -> int:
    """The ``relsim export`` command (see :mod:`relsim.cli`)."""
    out = export_store(args.store, args.out, args.format, args.table, args.focal_only)
    print(f"{args.table} of {args.store} → {out}")
    return 0


__all__ = ["EXPORT_FORMATS", "EXPORT_TABLES", "export_store", "tidy_table"]
