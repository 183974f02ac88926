"""Issue 14: a store that defends itself, lock waits, OS errors on outputs, no NaN in a result,
the TOML reader and the resource estimates. Tiny experiments: 50 customers, 2 weeks."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
#: Tests that rely on a read-only folder: root ignores file permissions, so they cannot fail there.
NEEDS_PERMISSIONS = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                                       reason="run as root, which writes into read-only folders")

EXPERIMENT = f"""
name = "tiny"
scenario = "{ROOT / 'scenarios' / 'ecommerce.toml'}"
seed = 3
replicates = 3
[overrides]
"market.customers" = 50
"market.weeks" = 2
[[factors]]
path = "strategy"
levels = ["transactional", "relationship"]
"""


@pytest.fixture
def experiment(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(EXPERIMENT)
    return path


def sweep(experiment: Path, store: Path, *extra: str) -> int:
    return main(["sweep", str(experiment), "--out", str(store), "--workers", "1", *extra])


def summary(store: Path) -> pd.DataFrame:
    frame = pd.read_parquet(store / "summary").drop(columns=["code_version"])
    return frame.sort_values(["run_id", "firm"]).reset_index(drop=True)


def one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    message = [line for line in err.splitlines() if line.startswith("relsim: error:")]
    assert message, err
    for word in words:
        assert word in err, err
    return err


# ----------------------------------------------------------------------- damaged stores
DAMAGE = {
    "latin1 manifest": ("manifest.json", b"\xe9\xff{}"),
    "empty manifest": ("manifest.json", b""),
    "empty JSON object": ("manifest.json", b"{}"),
    "JSON list": ("manifest.json", b"[1, 2]"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_manifest_analyze_names_it_resume_rebuilds(case, experiment, tmp_path, capsys):
    store = tmp_path / "store"
    assert sweep(experiment, store) == 0
    expected = summary(store)
    name, content = DAMAGE[case]
    (store / name).write_bytes(content)
    capsys.readouterr()
    assert main(["analyze", str(store)]) == 2
    one_line_error(capsys, "manifest.json")
    assert main(["store", "check", str(store)]) == 1
    assert sweep(experiment, store) == 0          # rebuilt from the identical experiment.toml
    assert "rebuilt" in capsys.readouterr().err
    pd.testing.assert_frame_equal(summary(store), expected)
    assert main(["analyze", str(store)]) == 0


def test_missing_design_and_damaged_run_files(experiment, tmp_path, capsys):
    store = tmp_path / "store"
    assert sweep(experiment, store) == 0
    expected = summary(store)
    (store / "design.parquet").unlink()
    files = sorted((store / "summary").glob("*.parquet"))
    files[0].write_bytes(files[0].read_bytes()[:100])                      # truncated
    pd.DataFrame({"a": [1]}).to_parquet(files[1])                         # foreign
    pd.read_parquet(files[3]).to_parquet(files[2])                        # another run's rows
    (store / "summary" / "stranger.parquet").write_bytes(b"PAR1 nope")     # not a run of the store
    capsys.readouterr()
    assert main(["analyze", str(store)]) == 2
    err = one_line_error(capsys, files[0].name)
    assert main(["store", "check", str(store)]) == 1
    out = capsys.readouterr().out
    for path in (*files[:3], store / "summary" / "stranger.parquet", store / "design.parquet"):
        assert path.name in out
    assert main(["store", "check", str(store), "--repair"]) == 1          # design.parquet is left
    assert len(list((store / "quarantine" / "summary").iterdir())) == 4
    assert sweep(experiment, store) == 0
    err = capsys.readouterr().err
    assert "design.parquet" in err and "Traceback" not in err
    pd.testing.assert_frame_equal(summary(store), expected)
    assert main(["store", "check", str(store)]) == 0


def test_damaged_or_missing_steps_file_runs_the_run_again(tmp_path, capsys):
    """A run's summary marks it done: with its steps file damaged or gone, the summary goes to
    quarantine too, so the resumed sweep runs it again and the store is whole."""
    experiment = tmp_path / "steps.toml"
    experiment.write_text(EXPERIMENT + '[outputs]\ntables = ["summary", "steps"]\n')
    store = tmp_path / "store"
    assert sweep(experiment, store) == 0
    expected = summary(store)
    steps = sorted((store / "steps").glob("*.parquet"))
    steps[0].write_bytes(b"garbage")
    steps[1].unlink()
    capsys.readouterr()
    assert main(["store", "check", str(store)]) == 1
    out = capsys.readouterr().out
    assert steps[0].name in out and f"{steps[1].name}: missing" in out
    assert sweep(experiment, store) == 0
    assert (store / "quarantine" / "summary" / steps[0].name).exists()
    assert (store / "steps" / steps[1].name).exists() and len(list((store / "steps").glob("*.parquet"))) == 6
    pd.testing.assert_frame_equal(summary(store), expected)
    assert main(["store", "check", str(store)]) == 0


def test_resume_quarantines_without_check(experiment, tmp_path, capsys):
    store = tmp_path / "store"
    assert sweep(experiment, store) == 0
    expected = summary(store)
    target = sorted((store / "summary").glob("*.parquet"))[0]
    target.write_bytes(b"garbage")
    assert sweep(experiment, store) == 0
    assert target.name in capsys.readouterr().err
    assert (store / "quarantine" / "summary" / target.name).read_bytes() == b"garbage"
    pd.testing.assert_frame_equal(summary(store), expected)


def test_locked_store_refuses_or_waits(experiment, tmp_path, capsys):
    from relsim.util.outputs import FolderLock
    store = tmp_path / "store"
    store.mkdir()
    lock = FolderLock(store, "a test")
    lock.acquire()
    try:
        assert sweep(experiment, store) == 2
        one_line_error(capsys, "in use by relsim process", str(os.getpid()))
        started = time.monotonic()
        assert sweep(experiment, store, "--wait", "1") == 2
        assert time.monotonic() - started >= 0.9
        assert "waiting up to 1 s" in capsys.readouterr().err
    finally:
        lock.release()
    assert not (store / "manifest.json").exists()


def test_two_sweeps_at_once_compute_each_run_once(experiment, tmp_path):
    reference, store = tmp_path / "reference", tmp_path / "store"
    assert sweep(experiment, reference) == 0
    command = [sys.executable, "-m", "relsim.cli", "sweep", str(experiment), "--out", str(store),
               "--workers", "1", "--wait", "300"]
    first = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    done = sorted(int(out.split(" runs done now")[0].split()[-1]) for out, _ in outputs)
    assert done == [0, 6], outputs                          # no run computed twice
    pd.testing.assert_frame_equal(summary(store), summary(reference))


@pytest.mark.slow
def test_sweep_killed_ten_times_then_resumed(experiment, tmp_path):
    experiment.write_text(EXPERIMENT.replace("replicates = 3", "replicates = 6"))
    reference, store = tmp_path / "reference", tmp_path / "store"
    assert sweep(experiment, reference) == 0
    command = [sys.executable, "-m", "relsim.cli", "sweep", str(experiment), "--out", str(store),
               "--workers", "1"]
    chance = random.Random(14)
    for _ in range(10):
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(1.0, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert subprocess.run(command, env=ENV, capture_output=True, timeout=300).returncode == 0
    pd.testing.assert_frame_equal(summary(store), summary(reference))
    assert main(["store", "check", str(store)]) == 0


def test_a_users_experiment_file_in_an_empty_out_folder_is_not_overwritten(experiment, tmp_path, capsys):
    """A folder holding only an experiment.toml looked like a store killed while being created, and the file
    was replaced by this experiment's text; now only this experiment's own text is taken over."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "experiment.toml").write_text("# my other experiment, hand-written\n")
    assert sweep(experiment, store) == 2
    one_line_error(capsys, "experiment.toml", "does not overwrite it")
    assert sorted(p.name for p in store.iterdir()) == ["experiment.toml"]
    assert (store / "experiment.toml").read_text() == "# my other experiment, hand-written\n"
    (store / "experiment.toml").write_text(experiment.read_text())      # left by a killed creation: taken over
    assert sweep(experiment, store) == 0 and (store / "manifest.json").exists()


def test_a_file_given_as_the_store_is_named_a_file(tmp_path, capsys):
    """store check / export on a file said 'no such results store folder', as if nothing were there."""
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    for argv in (["store", "check", str(afile)], ["export", str(afile), "--out", str(tmp_path / "a.csv")]):
        assert main(argv) == 2
        one_line_error(capsys, "notes.txt: a file, not a results store folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# ----------------------------------------------------------------------- OS errors on outputs
def test_out_inside_a_file_and_proc(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for out in (afile / "store", Path("/proc/x")):
        assert main(["run", "ecommerce", "--customers", "50", "--weeks", "2", "--out", str(out)]) == 2
        one_line_error(capsys, str(out))
    assert afile.read_text() == "mine"


def test_sweep_into_a_file(experiment, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    assert sweep(experiment, afile / "store") == 2
    one_line_error(capsys)
    assert afile.read_text() == "mine"


@NEEDS_PERMISSIONS
def test_sweep_into_a_read_only_store(experiment, tmp_path, capsys):
    store = tmp_path / "store"
    assert sweep(experiment, store) == 0
    for path in sorted((store / "summary").glob("*.parquet"))[:2]:
        path.unlink()
    os.chmod(store / "summary", 0o555)
    try:
        assert sweep(experiment, store) == 2
        one_line_error(capsys, "summary")
    finally:
        os.chmod(store / "summary", 0o755)


def test_sweep_into_a_store_that_refuses_writes(experiment, tmp_path, capsys, monkeypatch):
    """The read-only store's path for every user (root included): the write fails with EACCES."""
    from relsim.studies.store import Store
    store = tmp_path / "store"
    assert sweep(experiment, store) == 0
    for path in sorted((store / "summary").glob("*.parquet"))[:2]:
        path.unlink()

    def refuse(self, run_id, tables):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(store / "summary" / f"{run_id}.parquet"))
    monkeypatch.setattr(Store, "write_run", refuse)
    assert sweep(experiment, store) == 2
    one_line_error(capsys, "summary", "Permission denied", "run the same command again")
    assert len(list((store / "summary").glob("*.parquet"))) == 4


@NEEDS_PERMISSIONS
def test_read_only_out(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        assert main(["run", "ecommerce", "--customers", "50", "--weeks", "2", "--out", str(folder / "o")]) == 2
        one_line_error(capsys, "ro")
    finally:
        os.chmod(folder, 0o755)
    assert not (folder / "o").exists()


def test_disk_full_writes_nothing(tmp_path, capsys, monkeypatch):
    def full(*_, **__):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out" / "steps.parquet"))
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out = tmp_path / "out"
    assert main(["run", "ecommerce", "--customers", "50", "--weeks", "2", "--out", str(out)]) == 2
    one_line_error(capsys, "No space left on device")
    assert not out.exists()


# ----------------------------------------------------------------------- no NaN in a result
def test_nan_from_a_rule_stops_the_run(tmp_path, capsys, monkeypatch):
    from relsim.market import rules
    original = rules.discount_factor
    monkeypatch.setattr(rules, "discount_factor",
                        lambda week, rate: np.where(np.asarray(week) >= 2, np.nan, original(week, rate)))
    out = tmp_path / "out"
    assert main(["run", "ecommerce", "--customers", "50", "--weeks", "3", "--out", str(out)]) == 2
    one_line_error(capsys, "week 2", "discounted_profit")
    assert not out.exists()


# ----------------------------------------------------------------------- inputs and limits
@pytest.mark.parametrize("content", [b"name = '\xe9'", "name = 'x'".encode("utf-16"), b"\x00\x01\x02",
                                     ("a = " + "[" * 3000 + "]" * 3000).encode(),
                                     ("a = " + "{b = " * 3000 + "1" + "}" * 3000).encode()],
                         ids=["latin1", "utf16", "binary", "deep arrays", "deep tables"])
def test_unreadable_toml_everywhere(content, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(content)
    experiment = tmp_path / "e.toml"
    experiment.write_text(EXPERIMENT.replace(str(ROOT / "scenarios" / "ecommerce.toml"), str(bad)))
    out, store = str(tmp_path / "o"), str(tmp_path / "s")
    for argv in (["run", str(bad), "--out", out], ["compare", str(bad), "--out", out],
                 ["sweep", str(bad), "--out", store], ["sweep", str(experiment), "--out", store]):
        assert main(argv) == 2
        one_line_error(capsys, "bad.toml")
    assert not (tmp_path / "o").exists() and not (tmp_path / "s").exists()


def test_dev_zero_and_huge_files(tmp_path, capsys):
    assert main(["run", "/dev/zero"]) == 2
    one_line_error(capsys, "/dev/zero", "not a regular file")
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as stream:
        stream.truncate(11 * 1024 * 1024)
    assert main(["run", str(huge)]) == 2
    one_line_error(capsys, "huge.toml", "too large")
    assert main(["calibrate", "/dev/zero", "--calibration-end", "1997-09-30", "--margin", "0.3",
                 "--out", str(tmp_path / "c.toml")]) == 2
    one_line_error(capsys, "/dev/zero")


def test_schema_bounds_lists_and_snapshots():
    from relsim.scenario.schema import ScenarioError, load_scenario
    for value in ([-1], [0], [1_000_000_000], list(range(1, 2000))):
        with pytest.raises(ScenarioError, match="snapshot_weeks"):
            load_scenario("ecommerce", **{"market.snapshot_weeks": value})


def test_memory_refusal_and_yes(tmp_path, capsys, monkeypatch):
    from relsim.util import resources
    monkeypatch.setattr(resources, "available_memory", lambda: 10 * 1024 ** 2)
    out = tmp_path / "o"
    assert main(["run", "ecommerce", "--customers", "200000", "--out", str(out)]) == 2
    one_line_error(capsys, "memory", "--yes")
    assert not out.exists()
    monkeypatch.setattr(resources, "WARN_SECONDS", 0.0)
    assert main(["run", "ecommerce", "--customers", "50", "--weeks", "2", "--out", str(out), "--yes"]) == 0
    assert "will take about" in capsys.readouterr().err


def test_huge_design_refused_before_it_is_built(tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT.replace('path = "strategy"\nlevels = ["transactional", "relationship"]',
                                       'path = "firms.0.quality"\nlow = 0.5\nhigh = 1.0')
                    + '[design]\nkind = "lhs"\nsamples = 1000000\n')
    started = time.monotonic()
    assert main(["sweep", str(path), "--out", str(tmp_path / "s")]) == 2
    assert time.monotonic() - started < 10
    one_line_error(capsys, "1,000,000 design points")


@pytest.mark.parametrize("name", ["point", "seed", "run_id", "replicate", "annual_retention", "firm"])
def test_factor_named_like_a_column(name, tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT.replace('path = "strategy"', f'path = "strategy"\nname = "{name}"'))
    assert main(["sweep", str(path), "--out", str(tmp_path / "s")]) == 2
    one_line_error(capsys, f"'{name}'", "factors[0]")
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("delta", ["0", "0.0", "nan"])
def test_response_delta(delta, tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text(EXPERIMENT + f"[analysis.response]\ndelta = {delta}\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "s")]) == 2
    one_line_error(capsys, "delta")


@pytest.mark.parametrize("argv", [["sweep", "e.toml", "--out", "s", "--scheduler", ""],
                                  ["sweep", "e.toml", "--out", "s", "--scheduler", "tcp://h:99999"],
                                  ["sweep", "e.toml", "--out", "s", "--scheduler", "::::"],
                                  ["calibrate", "log.csv", "--calibration-end", "1997-09-30", "--margin", "0.3",
                                   "--out", "c.toml", "--date-format", "%Q"]])
def test_bad_flags_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
