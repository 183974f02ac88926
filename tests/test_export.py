"""relsim export: a store as one tidy table, in CSV, Parquet, JSON (and Excel with openpyxl)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from relsim.studies.experiment import load_experiment
from relsim.studies.export import export_store, tidy_table
from relsim.studies.sweep import sweep
from tests.test_sweep import relsim_here, write_experiment


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    outcome = sweep(load_experiment(write_experiment(folder, replicates=1, weeks=6)), folder / "store", workers=1)
    assert outcome.done == 4
    return folder / "store"


def test_summary_with_the_factors_in_every_format(store, tmp_path, capsys):
    tidy = tidy_table(store)
    assert len(tidy) == 4 * tidy["firm"].nunique() and tidy["run_id"].nunique() == 4
    for column in ("focal_strategy", "firms.0.levers.price", "scenario", "focal_firm", "seed", "profit"):
        assert column in tidy.columns
    assert list(tidy.columns[:4]) == ["run_id", "point", "replicate", "seed"]
    for fmt in ("csv", "parquet", "json"):
        out = tmp_path / f"summary.{fmt}"
        done = relsim_here(capsys, "export", str(store), "--out", str(out))
        assert done.returncode == 0, done.stderr
        back = {"csv": pd.read_csv, "parquet": pd.read_parquet,
                "json": lambda p: pd.DataFrame(json.loads(Path(p).read_text()))}[fmt](out)
        assert list(back.columns) == list(tidy.columns) and len(back) == len(tidy)
        pd.testing.assert_series_equal(back["profit"], tidy["profit"], check_exact=(fmt == "parquet"))
        assert back["firms.0.levers.price"].tolist() == tidy["firms.0.levers.price"].tolist()
    exact = pd.read_parquet(tmp_path / "summary.parquet")
    pd.testing.assert_frame_equal(exact, tidy, check_exact=True)
    # --format wins over the suffix; --focal-only keeps one row per run
    done = relsim_here(capsys, "export", str(store), "--out", str(tmp_path / "focal.txt"), "--format", "csv",
                       "--focal-only")
    assert done.returncode == 0 and len(pd.read_csv(tmp_path / "focal.txt")) == 4


def test_steps_and_runs_tables(store, tmp_path):
    steps = pd.read_parquet(export_store(store, tmp_path / "steps.parquet", table="steps"))
    assert steps["week"].nunique() == 6 and {"focal_strategy", "firms.0.levers.price"} <= set(steps.columns)
    runs = pd.read_csv(export_store(store, tmp_path / "runs.csv", table="runs"))
    assert len(runs) == 4 and runs["status"].eq("finished").all() and runs["seconds"].gt(0).all()
    assert "focal_strategy" in runs.columns


def test_xlsx(store, tmp_path, capsys):
    out = tmp_path / "summary.xlsx"
    done = relsim_here(capsys, "export", str(store), "--out", str(out))
    if importlib.util.find_spec("openpyxl") is None:
        assert done.returncode == 2 and "needs openpyxl" in done.stderr and not out.exists()
    else:
        assert done.returncode == 0 and len(pd.read_excel(out)) == len(tidy_table(store))


def test_errors_exit_2_and_write_nothing(store, tmp_path, capsys):
    def refused(*args: str, says: str) -> None:
        done = relsim_here(capsys, "export", *args)
        assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr

    refused(str(tmp_path / "nothing"), "--out", str(tmp_path / "a.csv"), says="no such results store")
    (tmp_path / "empty").mkdir()
    refused(str(tmp_path / "empty"), "--out", str(tmp_path / "a.csv"), says="not a results store")
    refused(str(store), "--out", str(tmp_path / "a.dat"), says="cannot tell the format")
    refused(str(store), "--out", str(tmp_path / "missing" / "a.csv"), says="does not exist")
    (tmp_path / "folder.csv").mkdir()
    refused(str(store), "--out", str(tmp_path / "folder.csv"), says="is a folder")
    with pytest.raises(SystemExit) as bad:
        relsim_here(capsys, "export", str(store), "--out", str(tmp_path / "a.csv"), "--format", "docx")
    assert bad.value.code == 2 and "invalid choice: 'docx'" in capsys.readouterr().err
    only_summary = write_experiment(tmp_path, name="lean.toml", replicates=1, weeks=4).read_text().replace(
        'tables = ["summary", "steps", "cohorts"]', 'tables = ["summary"]')
    (tmp_path / "lean.toml").write_text(only_summary)
    sweep(load_experiment(tmp_path / "lean.toml"), tmp_path / "lean", workers=1)
    refused(str(tmp_path / "lean"), "--out", str(tmp_path / "a.csv"), "--table", "steps", says="keeps no 'steps'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "folder.csv", "lean", "lean.toml"]


def test_a_file_relsim_did_not_write_is_never_overwritten(store, tmp_path, capsys):
    """--out naming a user's file exits 2 and leaves it; relsim's own export may be replaced (it is
    recorded in the folder's .relsim-outputs)."""
    mine = tmp_path / "results.csv"
    mine.write_text("my own results\n")
    done = relsim_here(capsys, "export", str(store), "--out", str(mine))
    assert done.returncode == 2 and "results.csv" in done.stderr and "relsim did not write" in done.stderr
    assert mine.read_text() == "my own results\n" and sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
    out = tmp_path / "summary.csv"
    for _ in range(2):
        done = relsim_here(capsys, "export", str(store), "--out", str(out))
        assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out)) == len(tidy_table(store))
