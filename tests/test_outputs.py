"""relsim deletes only what it wrote (issue 17): listings, scenario names, symlinks in a store,
one owner per store, calibrate's output, file modes, and the app's Host check."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main
from relsim.util.outputs import (
    LOCK_NAME,
    OUTPUT_LIST,
    TEMP_PREFIX,
    FolderLock,
    LockedError,
    OutputError,
    atomic_write_table,
    atomic_write_text,
    remove_entry,
    single_name,
    slug,
)

ROOT = Path(__file__).resolve().parent.parent
SMALL_RUN = ["--customers", "200", "--weeks", "2"]

EXPERIMENT = """
name = "{name}"
description = "test store"
scenario = "ecommerce"
seed = {seed}
replicates = 1

[overrides]
"market.customers" = 100
"market.weeks" = 3

[[factors]]
path = "firms.0.levers.price"
levels = [0.95, 1.05]

[outputs]
tables = ["summary", "steps"]
metrics = ["cumulative_discounted_profit"]
"""


def run_main(*args: str, capsys) -> tuple[int, str]:
    """The CLI in this process; argparse's own errors raise SystemExit."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as stop:
        status = stop.code
    return status, capsys.readouterr().err


def write_experiment(folder: Path, name: str = "alpha", seed: int = 1) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(EXPERIMENT.format(name=name, seed=seed))
    return path


def home_with_sentinels(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in (".bashrc", ".profile", ".relsim-tmp-not-yours"):
        (home / name).write_text(f"sentinel {name}")
    return home


def assert_sentinels(home: Path) -> None:
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", ".profile", ".relsim-tmp-not-yours"]
    for path in home.iterdir():
        assert path.read_text() == f"sentinel {path.name}"


# ----------------------------------------------------------------------
# names and single entries
# ----------------------------------------------------------------------
def test_single_names_and_slugs():
    for bad in ("", ".", "..", "../", "./..", "a/b", "/etc", "a\0b"):
        assert not single_name(bad), bad
    assert single_name("steps.parquet") and single_name(".relsim-tmp-x")
    assert slug("ecommerce") == "ecommerce"
    assert slug("../../x") == "x" and slug("/abs/x") == "abs-x"
    assert slug("..") == slug("") == slug("///") == "scenario"
    assert slug("My Shop.v2") == "my-shop.v2" and slug(".hidden") == "hidden"
    assert all(single_name(slug(s)) for s in ("a/../b", "..\\..\\c", "-.-", "x" * 500))


def test_remove_entry_never_follows_a_link_nor_leaves_the_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "link").symlink_to(outside)
    (folder / "mine.txt").write_text("user's")
    for name in ("..", "../outside", str(outside), ".", "", "link"):
        assert remove_entry(folder, name, {name}) is (name == "link")   # the link itself, as a link
    assert (outside / "keep.txt").read_text() == "keep"
    assert not os.path.lexists(folder / "link")
    # a name in the listing whose entry is not what relsim wrote stays
    (folder / OUTPUT_LIST).write_text("mine.txt\nmine.txt\tf:1:2:3:4\n")
    assert remove_entry(folder, "mine.txt") is False
    assert (folder / "mine.txt").read_text() == "user's"


# ----------------------------------------------------------------------
# 1. a crafted .relsim-outputs
# ----------------------------------------------------------------------
@pytest.mark.parametrize("listed", ["..", "../", "./..", "ABSOLUTE", "../sentinel.txt", "mine.txt"])
def test_listing_cannot_delete_beyond_what_relsim_wrote(tmp_path, listed, capsys, monkeypatch):
    work = tmp_path / "work"
    out = work / "out"
    out.mkdir(parents=True)
    (work / "sentinel.txt").write_text("next to --out")
    (work / "folder").mkdir()
    (work / "folder" / "deep.txt").write_text("deep")
    (out / "mine.txt").write_text("inside --out")
    name = str(work / "sentinel.txt") if listed == "ABSOLUTE" else listed
    (out / OUTPUT_LIST).write_text(f"{name}\n")
    monkeypatch.chdir(work)
    status, stderr = run_main("run", "ecommerce", *SMALL_RUN, "--out", "out", capsys=capsys)
    assert status == 0, stderr
    assert (work / "sentinel.txt").read_text() == "next to --out"
    assert (work / "folder" / "deep.txt").read_text() == "deep"
    assert (out / "mine.txt").read_text() == "inside --out"
    assert (out / "steps.parquet").exists() and "Traceback" not in stderr
    assert "relsim: note: left in place" in stderr and repr(name) in stderr
    # the new listing names only what this run wrote, with identities
    listing = (out / OUTPUT_LIST).read_text()
    assert "mine.txt" not in listing and ".." not in listing and "steps.parquet\t" in listing
    assert not [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_rerun_removes_its_own_files_but_not_edited_ones(tmp_path, capsys):
    out = tmp_path / "out"
    scenario = tmp_path / "snap.toml"
    text = (ROOT / "scenarios" / "b2b.toml").read_text()
    scenario.write_text(text.replace("[market]\n", "[market]\nsnapshot_weeks = [1]\n", 1))
    assert run_main("run", scenario, "--weeks", "3", "--out", out, capsys=capsys)[0] == 0
    (out / "snapshots.csv").write_text("edited by the user")           # changed since: stays
    assert run_main("run", "b2b", "--weeks", "3", "--out", out, capsys=capsys)[0] == 0
    assert not (out / "snapshots.parquet").exists()                    # relsim's, unchanged: gone
    assert (out / "snapshots.csv").read_text() == "edited by the user"


def test_a_users_file_with_an_outputs_name_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("the user's own summary")
    status, stderr = run_main("run", "ecommerce", *SMALL_RUN, "--out", out, capsys=capsys)
    assert status == 2 and "Traceback" not in stderr, stderr
    assert "summary.csv" in stderr and "relsim did not write" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]        # nothing else moved in
    assert (out / "summary.csv").read_text() == "the user's own summary"
    # relsim's own (listed in .relsim-outputs), edited or not, is refreshed by a rerun; the user's stay
    (out / "summary.csv").unlink()
    assert run_main("run", "ecommerce", *SMALL_RUN, "--out", out, capsys=capsys)[0] == 0
    (out / "report-notes.md").write_text("unrelated")
    (out / "steps.csv").write_text("edited")
    assert run_main("run", "ecommerce", *SMALL_RUN, "--seed", "1", "--out", out, capsys=capsys)[0] == 0
    assert (out / "steps.csv").read_text() != "edited"
    assert (out / "report-notes.md").read_text() == "unrelated"


@pytest.mark.parametrize("where", ["below a file", "in /proc"])
def test_an_output_folder_that_cannot_be_created_is_refused_before_the_run(tmp_path, capsys, monkeypatch, where):
    """--out below a file, or where nothing can be created (/proc here; a read-only folder for a user who is
    not root), exits 2 before any simulation (before: after the whole run, 'cannot write to ...')."""
    import relsim.market.runner
    if where == "in /proc" and not Path("/proc/self").exists():
        pytest.skip("no /proc")

    def must_not_run(*args, **kwargs):
        raise AssertionError("the run started")
    monkeypatch.setattr(relsim.market.runner, "simulate", must_not_run)
    (tmp_path / "notes.txt").write_text("a file")
    out, blocker = ((tmp_path / "notes.txt" / "out", "notes.txt") if where == "below a file"
                    else (Path("/proc/relsim-test-out"), "cannot write in '/proc'"))
    for command in (["run", "ecommerce"], ["compare", "ecommerce", "--seeds", "1", "--uncertainty", "0"]):
        status, stderr = run_main(*command, *SMALL_RUN, "--out", out, capsys=capsys)
        assert status == 2 and blocker in stderr and "Traceback" not in stderr, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_copied_output_folder_is_refreshed_by_a_rerun(tmp_path, capsys):
    """A clone or copy of an output folder (docs/validation in a fresh clone: scripts/validate.sh) holds
    relsim's listing with other identities: its listed files are relsim's and a rerun replaces them."""
    import shutil
    first = tmp_path / "first"
    assert run_main("run", "ecommerce", *SMALL_RUN, "--out", first, capsys=capsys)[0] == 0
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    status, stderr = run_main("run", "ecommerce", *SMALL_RUN, "--seed", "1", "--out", copy, capsys=capsys)
    assert status == 0, stderr
    assert not (copy / "summary.csv").read_text() == (first / "summary.csv").read_text()


def test_staged_output_replaces_only_what_it_wrote(tmp_path):
    from relsim.util.outputs import staged_output
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "shop.toml").write_text("name = 'my hand-written scenario'")
    with pytest.raises(OutputError, match=r"shop\.toml"):
        with staged_output(folder, replace_previous=False) as staging:     # as relsim calibrate does
            (staging / "shop.toml").write_text("name = 'calibrated'")
    assert (folder / "shop.toml").read_text() == "name = 'my hand-written scenario'"
    assert sorted(p.name for p in folder.iterdir()) == ["shop.toml"]
    with staged_output(folder, replace_previous=False) as staging:
        (staging / "cal.toml").write_text("first")
    with staged_output(folder, replace_previous=False) as staging:        # its own, unchanged: replaced
        (staging / "cal.toml").write_text("second")
    assert (folder / "cal.toml").read_text() == "second"


# ----------------------------------------------------------------------
# 2. a scenario's name never decides a path outside the working folder
# ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["dotdot", "absolute"])
def test_scenario_name_cannot_place_outputs_outside_the_working_folder(tmp_path, kind, capsys, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    escape = tmp_path / "escaped"
    name = "../../escaped" if kind == "dotdot" else str(escape)
    text = (ROOT / "scenarios" / "ecommerce.toml").read_text().replace('name = "ecommerce"', f"name = {name!r}", 1)
    (work / "s.toml").write_text(text)
    monkeypatch.chdir(work)
    status, stderr = run_main("run", "s.toml", *SMALL_RUN, capsys=capsys)
    assert status == 0, stderr
    # --uncertainty 0: the report's folder is named before any run and the uncertainty section is
    # written into the same staging folder; its 20 extra runs were most of this test's CPU
    status, stderr = run_main("compare", "s.toml", "--customers", "200", "--weeks", "3", "--seeds", "2",
                              "--uncertainty", "0", "--workers", "1", capsys=capsys)
    assert status == 0, stderr
    assert not escape.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]
    expected = slug(name)
    assert (work / "out" / f"{expected}-seed0" / "steps.parquet").exists()
    assert (work / "reports" / expected / "report.html").exists()


def test_default_output_folder_that_is_a_link_is_refused(tmp_path, capsys, monkeypatch):
    home = home_with_sentinels(tmp_path)
    work = tmp_path / "work"
    (work / "out").mkdir(parents=True)
    (work / "out" / "ecommerce-seed0").symlink_to(home)
    monkeypatch.chdir(work)
    status, stderr = run_main("run", "ecommerce", *SMALL_RUN, capsys=capsys)
    assert status == 2 and "symbolic link" in stderr and "ecommerce-seed0" in stderr
    assert_sentinels(home)


# ----------------------------------------------------------------------
# 3. symlinks in a results store
# ----------------------------------------------------------------------
def test_symlinked_store_subfolders_are_refused_and_user_files_stay(tmp_path, capsys):
    experiment = write_experiment(tmp_path)
    store = tmp_path / "store"
    status, stderr = run_main("sweep", experiment, "--out", store, "--workers", "1", capsys=capsys)
    assert status == 0, stderr
    # the store's own temporaries go on a resume, the user's hidden files stay
    (store / ".gitignore").write_text("*\n")
    (store / ".notes").write_text("mine")
    (store / "summary" / ".keep").write_text("")
    (store / "summary" / f"{TEMP_PREFIX}x.parquet.abc").write_text("half")
    summary_files = sorted((store / "summary").glob("*.parquet"))
    summary_files[0].unlink()                                             # one run to redo
    status, stderr = run_main("sweep", experiment, "--out", store, "--workers", "1", capsys=capsys)
    assert status == 0, stderr
    assert (store / ".gitignore").read_text() == "*\n" and (store / ".notes").read_text() == "mine"
    assert (store / "summary" / ".keep").exists()
    assert not (store / "summary" / f"{TEMP_PREFIX}x.parquet.abc").exists()
    assert summary_files[0].exists() and not (store / LOCK_NAME).exists()

    # steps/ replaced by a link to "home": resume refuses, nothing there changes
    home = home_with_sentinels(tmp_path)
    os.rename(store / "steps", tmp_path / "steps-moved")
    (store / "steps").symlink_to(home)
    summary_files[0].unlink()
    status, stderr = run_main("sweep", experiment, "--out", store, "--workers", "1", capsys=capsys)
    assert status == 2 and "Traceback" not in stderr
    assert str(store / "steps") in stderr and "symbolic link" in stderr
    assert_sentinels(home)
    assert not (store / LOCK_NAME).exists()

    # analysis/ as a link: analyze refuses, home intact
    (store / "steps").unlink()
    os.rename(tmp_path / "steps-moved", store / "steps")
    (store / "analysis").symlink_to(home)
    status, stderr = run_main("analyze", store, capsys=capsys)
    assert status == 2 and str(store / "analysis") in stderr and "symbolic link" in stderr
    assert_sentinels(home)


# ----------------------------------------------------------------------
# 4. one store, one experiment, one sweep at a time
# ----------------------------------------------------------------------
_PLANS: dict = {}


def _load_plans(paths: list[str]) -> None:
    from relsim.studies.experiment import load_experiment
    _PLANS.update({i: load_experiment(p) for i, p in enumerate(paths)})


def _prepare(job: tuple[str, int, float]) -> tuple[int, str]:
    from relsim.studies.store import Store
    root, which, start = job
    time.sleep(max(0.0, start - time.time()))
    try:
        Store(root).prepare(_PLANS[which])
        return which, "owner"
    except (OutputError, ValueError) as error:
        return which, f"refused: {error}"


def test_two_experiments_racing_into_a_new_store_leave_one_owner(tmp_path):
    from relsim.studies.experiment import load_experiment
    paths = [str(write_experiment(tmp_path, "alpha", 1)), str(write_experiment(tmp_path, "beta", 2))]
    hashes = [load_experiment(p).experiment_hash for p in paths]
    assert hashes[0] != hashes[1]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2, initializer=_load_plans, initargs=(paths,)) as pool:
        pool.map(_prepare, [(str(tmp_path / "warm"), i, 0.0) for i in (0, 1)], chunksize=1)
        for round_ in range(20):
            root = tmp_path / f"store{round_}"
            start = time.time() + 0.3
            answers = pool.map(_prepare, [(str(root), 0, start), (str(root), 1, start)], chunksize=1)
            owners = [which for which, what in answers if what == "owner"]
            assert len(owners) == 1, answers
            loser = next(what for which, what in answers if which != owners[0])
            assert "in use by relsim process" in loser or "this store holds experiment" in loser, loser
            manifest = json.loads((root / "manifest.json").read_text())
            assert manifest["experiment_hash"] == hashes[owners[0]]
            assert not (root / LOCK_NAME).exists()
            assert not [p for p in root.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_a_second_sweep_refuses_and_a_dead_owner_is_taken_over(tmp_path, capsys):
    experiment = write_experiment(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    with FolderLock(store, "a test"):
        status, stderr = run_main("sweep", experiment, "--out", store, "--workers", "1", capsys=capsys)
        assert status == 2 and f"in use by relsim process {os.getpid()}" in stderr and str(store) in stderr
        with pytest.raises(LockedError):
            FolderLock(store).acquire()
    assert not (store / LOCK_NAME).exists() and not (store / "manifest.json").exists()
    # a lock left by a process that died on this host is taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (store / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    status, stderr = run_main("sweep", experiment, "--out", store, "--workers", "1", capsys=capsys)
    assert status == 0, stderr
    assert not (store / LOCK_NAME).exists()
    # one from another host cannot be checked: refused, naming it
    (store / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "elsewhere.example"}))
    status, stderr = run_main("sweep", experiment, "--out", store, "--workers", "1", capsys=capsys)
    assert status == 2 and "'elsewhere.example'" in stderr and LOCK_NAME in stderr


# ----------------------------------------------------------------------
# 5. a folder where a file is expected, and the reverse
# ----------------------------------------------------------------------
def test_calibrate_refuses_a_folder_as_its_output_file(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text("customer,date,amount\n1,2024-01-01,10\n")
    target = tmp_path / "x.toml"
    target.mkdir()
    (target / "precious.txt").write_text("keep")
    status, stderr = run_main("calibrate", log, "--calibration-end", "2024-01-20", "--margin", "0.3",
                              "--out", target, capsys=capsys)
    assert status == 2 and str(target) in stderr and "is a folder" in stderr and "Traceback" not in stderr
    assert (target / "precious.txt").read_text() == "keep"
    # the reverse: a file where the report folder goes
    (tmp_path / "y-calibration").write_text("keep too")
    status, stderr = run_main("calibrate", log, "--calibration-end", "2024-01-20", "--margin", "0.3",
                              "--out", tmp_path / "y.toml", capsys=capsys)
    assert status == 2 and "y-calibration" in stderr and "is a file" in stderr
    assert (tmp_path / "y-calibration").read_text() == "keep too"
    assert not (tmp_path / "y.toml").exists()


def test_calibrate_again_replaces_its_own_report_but_not_a_users_folder(tmp_path, capsys):
    import numpy as np

    from relsim.calibration import btyd
    from tests.test_calibration import TRUE_BGNBD, TRUE_GAMMA_GAMMA
    log = btyd.simulate_log(400, TRUE_BGNBD, TRUE_GAMMA_GAMMA, np.random.default_rng(5), start="2020-01-01",
                            entry_weeks=12, horizon_weeks=40)
    log.to_csv(tmp_path / "log.csv", index=False)
    flags = ["calibrate", tmp_path / "log.csv", "--calibration-end", "2020-07-01", "--margin", "0.3",
             "--weeks", "4"]
    for _ in range(2):
        status, stderr = run_main(*flags, "--out", tmp_path / "out" / "cal.toml", capsys=capsys)
        assert status == 0, stderr
    assert (tmp_path / "out" / "cal-calibration" / "report.md").exists()
    (tmp_path / "out" / "mine-calibration").mkdir()
    (tmp_path / "out" / "mine-calibration" / "notes.txt").write_text("keep")
    status, stderr = run_main(*flags, "--out", tmp_path / "out" / "mine.toml", capsys=capsys)
    assert status == 2 and "mine-calibration" in stderr and "relsim did not write" in stderr
    assert sorted(p.name for p in (tmp_path / "out" / "mine-calibration").iterdir()) == ["notes.txt"]
    assert not (tmp_path / "out" / "mine.toml").exists()


# ----------------------------------------------------------------------
# 6. one file mode, the user's umask
# ----------------------------------------------------------------------
def test_output_files_share_the_umask_mode(tmp_path, capsys):
    previous = os.umask(0o027)
    try:
        atomic_write_text("x", tmp_path / "a.txt")
        atomic_write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet", "parquet")
        atomic_write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv", "csv")
        status, stderr = run_main("run", "ecommerce", *SMALL_RUN, "--out", tmp_path / "out", capsys=capsys)
        assert status == 0, stderr
    finally:
        os.umask(previous)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in files}
    assert {".png", ".parquet", ".csv"} <= {p.suffix for p in files}
    assert set(modes.values()) == {oct(0o640)}, modes


# ----------------------------------------------------------------------
# 7. the app answers only requests addressed to it
# ----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", "/", skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_app_refuses_a_foreign_host_header(tmp_path):
    from relsim.util.serve import allowed_hosts
    assert allowed_hosts(8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    # this checkout's relsim, whatever the working folder
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen([sys.executable, "-m", "relsim.cli", "app", "ecommerce", "--port", str(port)],
                              cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env=environment)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                status = _get(port, f"127.0.0.1:{port}")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the app did not start within 120 s"
            time.sleep(0.5)
        assert _get(port, f"localhost:{port}") == 200
        for foreign in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", f"127.0.0.1:{port + 1}"):
            assert _get(port, foreign) in (400, 403), foreign
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
