"""The command line: outputs, and clear errors (exit 2, no traceback, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from relsim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def relsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relsim.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_run_writes_tables_and_figures(tmp_path):
    out = tmp_path / "run"
    done = relsim("run", str(ROOT / "scenarios" / "ecommerce.toml"), "--customers", "300",
                  "--weeks", "12", "--seed", "2", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("steps", "customers", "cohorts"):
        assert len(pd.read_parquet(out / f"{name}.parquet")) > 0
        assert (out / f"{name}.csv").stat().st_size > 0
    steps = pd.read_parquet(out / "steps.parquet")
    assert steps["week"].nunique() == 12 and steps["firm"].nunique() == 4
    assert (out / "firms.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.staging")]


def test_compare_writes_a_self_contained_report(tmp_path):
    out = tmp_path / "report"
    done = relsim("compare", "ecommerce", "--strategies", "transactional,relationship",
                  "--seeds", "3", "--customers", "300", "--weeks", "20", "--workers", "1",
                  "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (out / "report.html").read_text()
    # five figures of the comparison, two of the default parameter uncertainty (--uncertainty 10)
    assert html.count("data:image/png;base64,") == 7
    assert "## Limitations of this comparison" in (out / "report.md").read_text()
    assert "http://" not in html and "https://" not in html
    markdown = (out / "report.md").read_text()
    assert "Retention." in markdown and "Profit." in markdown and "95 %" in markdown
    # the plain-language summary judges every headline, and every money line is explained
    assert markdown.count("**Keeping customers (annual retention):**") == 1
    assert "wins" in markdown or "no clear winner" in markdown
    for line in ("**Cost of goods**", "**Acquisition**", "**Relationship programme**", "**Service desk**",
                 "**Partner fees**", "**Loyalty rewards**"):
        assert line in markdown and line.replace("**", "") in html
    table = pd.read_csv(out / "summary_table.csv")
    assert set(table["strategy"]) == {"transactional", "relationship"}
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()


def test_compare_draws_its_figures_while_the_uncertainty_runs(tmp_path, monkeypatch, capsys):
    """The comparison's figures are drawn while the workers run the uncertainty sets (the parent's
    core is idle then), once, into the staged output, and the report holds them all. Fails if the
    figures are drawn after the runs (``meanwhile`` not called: checked) or twice."""
    import relsim.studies.report as report
    import relsim.studies.uncertainty as uncertainty

    running = [False]
    drawn: list[bool] = []
    real_outcomes, real_figures = uncertainty.focal_outcomes, report.write_figures

    def outcomes(*args, **kwargs):
        running[0] = True
        try:
            return real_outcomes(*args, **kwargs)
        finally:
            running[0] = False

    def figures(*args, **kwargs):
        drawn.append(running[0])
        return real_figures(*args, **kwargs)

    monkeypatch.setattr(uncertainty, "focal_outcomes", outcomes)
    monkeypatch.setattr(report, "write_figures", figures)
    out = tmp_path / "report"
    status = main(["compare", "ecommerce", "--strategies", "transactional,relationship", "--seeds", "2",
                   "--customers", "150", "--weeks", "8", "--workers", "2", "--uncertainty", "2",
                   "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    assert drawn == [True]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 7
    for name in ("retention.png", "profit.png", "bridge.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


BAD_SCENARIOS = {
    "typo": ("[market]\ncustomerz = 10\n", "market.customerz"),
    "range": ("customers = -5", "market.customers = -5"),
    "strategy": ("[[firms]]\nname='F'\nstrategy='relation'\nsupplier='S'\n", "'relation'"),
    "syntax": ("[market\ncustomers = 1\n", "not valid TOML"),
}


def run_main(*args: str, capsys) -> tuple[int, str]:
    """Call the CLI in this process (argparse's own errors raise SystemExit)."""
    try:
        status = main(list(args))
    except SystemExit as stop:
        status = stop.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_exits_2_with_a_clear_message(tmp_path, case, capsys, monkeypatch):
    text, expected = BAD_SCENARIOS[case]
    base = (ROOT / "scenarios" / "ecommerce.toml").read_text()
    if case == "strategy":
        body = base.replace('strategy = "reactive"', 'strategy = "relation"', 1)
        expected = "firms[0].strategy = 'relation'"
    elif case == "syntax":
        body = text
    elif case == "range":
        body = base.replace("customers = 5000", text, 1)
    else:
        body = base.replace("[market]\n", text, 1)
    path = tmp_path / f"{case}.toml"
    path.write_text(body)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    for command in (["run", str(path), "--out", str(out)],
                    ["compare", str(path), "--seeds", "2", "--out", str(out)]):
        status, stderr = run_main(*command, capsys=capsys)
        assert status == 2
        assert "Traceback" not in stderr
        assert str(path) in stderr and expected in stderr, stderr
        assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_bad_scenario_in_a_real_process(tmp_path):
    """The same through the installed entry point: exit status 2, one message, no traceback."""
    path = tmp_path / "bad.toml"
    text = (ROOT / "scenarios" / "ecommerce.toml").read_text()
    path.write_text(text.replace("[market]\n", "[market]\nweekz = 3\n", 1))
    done = relsim("run", str(path), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2 and "market.weekz" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flags, message", [
    (["--seeds", "0"], "must be at least 1"),
    (["--seeds", "1000000000"], "must be at most 10,000, got 1,000,000,000"),   # was a MemoryError traceback
    (["--attribution", "oat", "--attribution-seeds", "1000000000"], "must be at most 10,000"),
    (["--seeds", "many"], "expected a whole number"),
    (["--strategies", "transactional,relationshp"], "unknown strategy 'relationshp'"),
    (["--workers", "-1"], "must be at least 1"),
])
def test_bad_flags_exit_2(tmp_path, flags, message, capsys):
    status, stderr = run_main("compare", "ecommerce", *flags, "--out", str(tmp_path / "x"), capsys=capsys)
    assert status == 2
    assert message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "x").exists()


def test_missing_scenario_file(tmp_path, capsys):
    status, stderr = run_main("run", str(tmp_path / "nope.toml"), capsys=capsys)
    assert status == 2
    assert "nope.toml" in stderr and "cannot read scenario" in stderr


@pytest.mark.parametrize("command", [["run", "ecomerce"], ["compare", "ecomerce"], ["app", "ecomerce"],
                                     ["sweep", "wom_seedin", "--out", "store"]])
def test_a_mistyped_shipped_name_lists_the_shipped_ones(tmp_path, capsys, monkeypatch, command):
    """A bare name that is neither a file nor shipped says what is allowed (before: only 'No such file')."""
    monkeypatch.chdir(tmp_path)
    status, stderr = run_main(*command, capsys=capsys)
    kind, shipped = ("experiment", "wom_seeding") if command[0] == "sweep" else ("scenario", "ecommerce")
    assert status == 2 and "Traceback" not in stderr, stderr
    assert f"no shipped {kind} of that name" in stderr and shipped in stderr and command[1] in stderr
    assert list(tmp_path.iterdir()) == []
    status, stderr = run_main("sweep", str(tmp_path), "--out", "store", capsys=capsys)
    assert status == 2 and "give an experiment file" in stderr


def test_listing_commands(capsys):
    assert main(["scenarios"]) == 0
    assert "ecommerce" in capsys.readouterr().out
    assert main(["strategies"]) == 0
    listing = capsys.readouterr().out
    assert "transactional:" in listing and "relationship:" in listing and "key_account_share" in listing


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("keep me")
    status, stderr = run_main("run", "ecommerce", "--customers", "200", "--weeks", "2",
                              "--out", str(target), capsys=capsys)
    assert status == 2 and "is a file" in stderr and "Traceback" not in stderr
    assert target.read_text() == "keep me"


def test_non_utf8_scenario_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe[market]\n")
    status, stderr = run_main("run", str(path), "--out", str(tmp_path / "o"), capsys=capsys)
    assert status == 2 and "UTF-8" in stderr and str(path) in stderr


def test_a_scenario_or_experiment_saved_with_a_byte_order_mark_loads(tmp_path):
    """Windows Notepad saves UTF-8 with a byte-order mark; it was refused as 'not valid TOML: Invalid
    statement (at line 1, column 1)'."""
    from relsim.scenario.schema import load_scenario
    from relsim.studies.experiment import load_experiment
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (ROOT / "scenarios" / "b2b.toml").read_bytes())
    assert load_scenario(path).digest() == load_scenario("b2b").digest()
    experiment = tmp_path / "experiment.toml"
    experiment.write_bytes(b"\xef\xbb\xbf" + (ROOT / "experiments" / "wom_seeding" / "experiment.toml").read_bytes())
    assert load_experiment(experiment).experiment.name == "wom_seeding"


def test_rerun_replaces_its_own_outputs_and_keeps_the_users(tmp_path, capsys):
    out = tmp_path / "out"
    scenario = tmp_path / "snap.toml"
    text = (ROOT / "scenarios" / "b2b.toml").read_text()
    scenario.write_text(text.replace("[market]\n", "[market]\nsnapshot_weeks = [1]\n", 1))
    assert run_main("run", str(scenario), "--weeks", "3", "--out", str(out), capsys=capsys)[0] == 0
    assert (out / "snapshots.csv").exists()
    (out / "my-notes.txt").write_text("mine")
    assert run_main("run", "b2b", "--weeks", "3", "--out", str(out), capsys=capsys)[0] == 0
    assert not (out / "snapshots.csv").exists()          # the earlier run's table is gone
    assert (out / "my-notes.txt").read_text() == "mine"  # not relsim's: untouched
    assert (out / "steps.parquet").exists()


def test_compare_copes_with_runs_where_nobody_buys(tmp_path, capsys):
    status, stderr = run_main("compare", "b2b", "--customers", "2", "--weeks", "1", "--seeds", "2",
                              "--workers", "1", "--out", str(tmp_path / "r"), capsys=capsys)
    assert status == 0, stderr
    assert (tmp_path / "r" / "report.html").exists()
