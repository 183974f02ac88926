"""The command line: outputs, and clear errors (exit 2, no traceback, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

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
    assert html.count("data:image/png;base64,") == 5
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


BAD_SCENARIOS = {
    "typo": ("[market]\ncustomerz = 10\n", "market.customerz"),
    "range": ("customers = -5", "market.customers = -5"),
    "strategy": ("[[firms]]\nname='F'\nstrategy='relation'\nsupplier='S'\n", "'relation'"),
    "syntax": ("[market\ncustomers = 1\n", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_exits_2_with_a_clear_message(tmp_path, case):
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
    for command in (["run", str(path), "--out", str(out)],
                    ["compare", str(path), "--seeds", "2", "--out", str(out)]):
        done = relsim(*command, cwd=tmp_path)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert str(path) in done.stderr and expected in done.stderr, done.stderr
        assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("flags, message", [
    (["--seeds", "0"], "must be at least 1"),
    (["--seeds", "many"], "expected a whole number"),
    (["--strategies", "transactional,relationshp"], "unknown strategy 'relationshp'"),
    (["--workers", "-1"], "must be at least 1"),
])
def test_bad_flags_exit_2(tmp_path, flags, message):
    done = relsim("compare", "ecommerce", *flags, "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


def test_missing_scenario_file(tmp_path):
    done = relsim("run", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.toml" in done.stderr and "cannot read scenario" in done.stderr


def test_listing_commands():
    assert "ecommerce" in relsim("scenarios", cwd=ROOT).stdout
    listing = relsim("strategies", cwd=ROOT).stdout
    assert "transactional:" in listing and "relationship:" in listing and "key_account_share" in listing
