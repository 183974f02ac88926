"""relsim sweep --extend-replicates: more seeds on an existing store, only the new runs computed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from relsim.studies.experiment import load_experiment, with_replicates
from relsim.studies.store import Store, StoreError
from relsim.studies.sweep import _plan_for_store, sweep
from tests.test_sweep import relsim_here, store_tables, write_experiment


def run_files(root: Path) -> dict[str, bytes]:
    return {f"{table}/{p.name}": p.read_bytes() for table in ("summary", "steps", "cohorts")
            for p in sorted((root / table).glob("*.parquet"))}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """The experiment swept with 3 replicates from the start."""
    folder = tmp_path_factory.mktemp("scratch")
    outcome = sweep(load_experiment(write_experiment(folder, replicates=3)), folder / "store", workers=1)
    assert outcome.done == 12 and not outcome.failed
    return folder / "store"


def test_extended_store_equals_the_store_swept_with_more_replicates(scratch, tmp_path, capsys):
    path = write_experiment(tmp_path, replicates=2)
    store = tmp_path / "store"
    assert sweep(load_experiment(path), store, workers=1).done == 8
    before = run_files(store)
    done = relsim_here(capsys, "sweep", str(path), "--out", str(store), "--workers", "1", "--extend-replicates", "3")
    assert done.returncode == 0, done.stderr
    assert "4 runs done now, 8 already in the store" in done.stdout      # only the new replicates ran
    after = run_files(store)
    assert {k: after[k] for k in before} == before                      # the old files are untouched
    assert after == run_files(scratch)                                  # every run file, byte for byte
    first, second = store_tables(store), store_tables(scratch)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)
    extended, reference = Store(store).manifest(), Store(scratch).manifest()
    assert extended["runs"] == reference["runs"]
    assert (extended["replicates"], extended["experiment_hash"]) == (3, reference["experiment_hash"])
    assert extended["extensions"][0]["from_replicates"] == 2 and extended["extensions"][0]["to_replicates"] == 3
    pd.testing.assert_frame_equal(Store(store).design(), Store(scratch).design())
    # the extended store resumes with the plain command (the file still says 2) and with the flag
    again = sweep(load_experiment(path), store, workers=1)
    assert (again.done, again.skipped, again.total) == (0, 12, 12)
    assert sweep(load_experiment(path), store, workers=1, extend_replicates=3).done == 0
    # the file edited to 3 replicates is the same experiment as the extended store
    edited = write_experiment(tmp_path, name="three.toml", replicates=3)
    assert sweep(load_experiment(edited), store, workers=1).skipped == 12


def test_interrupted_extension_continues(scratch, tmp_path):
    path = write_experiment(tmp_path, replicates=2)
    store = tmp_path / "store"
    plan = load_experiment(path)
    sweep(plan, store, workers=1)
    results = Store(store)
    with results.lock():
        _plan_for_store(plan, results, 3)         # the manifest is extended, then the sweep is "killed"
    assert results.manifest()["replicates"] == 3 and len(results.finished()) == 8
    outcome = sweep(plan, store, workers=1, extend_replicates=3)   # the same command again
    assert (outcome.done, outcome.skipped) == (4, 8)
    assert run_files(store) == run_files(scratch)


def test_extension_errors_exit_2_and_change_nothing(tmp_path, capsys):
    path = write_experiment(tmp_path, replicates=2)
    missing = relsim_here(capsys, "sweep", str(path), "--out", str(tmp_path / "none"), "--extend-replicates", "3")
    assert missing.returncode == 2 and "no results store to extend" in missing.stderr
    assert not (tmp_path / "none" / "manifest.json").exists()
    store = tmp_path / "store"
    sweep(load_experiment(path), store, workers=1)
    manifest = (store / "manifest.json").read_bytes()
    fewer = relsim_here(capsys, "sweep", str(path), "--out", str(store), "--extend-replicates", "1")
    assert fewer.returncode == 2 and "already holds 2 replicates" in fewer.stderr
    with pytest.raises(SystemExit) as zero:        # argparse: exit 2
        relsim_here(capsys, "sweep", str(path), "--out", str(store), "--extend-replicates", "0")
    assert zero.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as huge:        # refused by the parser, before any time estimate
        relsim_here(capsys, "sweep", str(path), "--out", str(store), "--extend-replicates", "1000000000")
    err = capsys.readouterr()
    assert huge.value.code == 2 and "must be at most 100,000" in err.err and "runs" not in err.out
    more = write_experiment(tmp_path, name="more.toml", replicates=4)
    plain = relsim_here(capsys, "sweep", str(more), "--out", str(store))
    assert plain.returncode == 2 and "--extend-replicates 4" in plain.stderr
    other = write_experiment(tmp_path, name="other.toml", replicates=2, prices="[0.9, 1.1]")
    foreign = relsim_here(capsys, "sweep", str(other), "--out", str(store), "--extend-replicates", "3")
    assert foreign.returncode == 2 and "this store holds experiment" in foreign.stderr
    assert (store / "manifest.json").read_bytes() == manifest and len(Store(store).finished()) == 8


def test_the_flag_allows_what_an_experiment_allows():
    from relsim.cli import MAX_REPLICATES
    from relsim.studies.experiment import Experiment
    bound = next(m.le for m in Experiment.model_fields["replicates"].metadata if hasattr(m, "le"))
    assert MAX_REPLICATES == bound


def test_with_replicates_is_the_longer_experiment(tmp_path):
    plan = load_experiment(write_experiment(tmp_path, replicates=2))
    longer = with_replicates(plan, 5)
    direct = load_experiment(write_experiment(tmp_path, name="five.toml", replicates=5))
    assert longer.experiment_hash == direct.experiment_hash and longer.runs == direct.runs
    assert longer.seeds[:2] == plan.seeds
    with pytest.raises(StoreError, match="no results store"):
        with Store(tmp_path / "empty").lock():
            _plan_for_store(plan, Store(tmp_path / "empty"), 3)
    assert json.loads(json.dumps(longer.seeds)) == longer.seeds


def test_manifest_records_versions_machine_and_seconds_per_run(scratch, tmp_path):
    import os
    import platform

    import numpy as np
    import pyarrow

    from relsim.studies.store import code_version
    manifest = Store(scratch).manifest()
    versions = manifest["environment"]["versions"]
    assert versions["numpy"] == np.__version__ and versions["pandas"] == pd.__version__
    assert versions["pyarrow"] == pyarrow.__version__ and versions["python"] == platform.python_version()
    assert versions["relsim"] == code_version() and versions["mesa"] and versions["simpy"]
    assert manifest["environment"]["cpu_count"] == os.cpu_count() and manifest["environment"]["platform"]
    [session] = manifest["sessions"]
    assert (session["runs_done"], session["runs_failed"], session["workers"]) == (12, 0, 1)
    assert session["environment"] == manifest["environment"] and session["ended"] >= session["started"]
    runs = Store(scratch).runs()
    assert len(runs) == 12 and runs["status"].eq("finished").all()
    assert runs["seconds"].gt(0).all() and runs["seconds"].lt(120).all()
    # an extension adds a session and the new runs' seconds; a resume that runs nothing adds none
    path = write_experiment(tmp_path, replicates=1)
    sweep(load_experiment(path), tmp_path / "store", workers=1)
    sweep(load_experiment(path), tmp_path / "store", workers=1)
    sweep(load_experiment(path), tmp_path / "store", workers=1, extend_replicates=2)
    grown = Store(tmp_path / "store")
    assert [s["runs_done"] for s in grown.manifest()["sessions"]] == [4, 4]
    assert grown.runs()["seconds"].notna().sum() == 8
