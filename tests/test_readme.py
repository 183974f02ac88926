"""Every Python snippet of the README runs as written, as a script, from an empty folder.

Only sizes are made small (market size, weeks, seeds); each such change is
listed below and must still find its text in the README, so a snippet that
changes is noticed. Snippets that need files (a results store, a transaction
log) get them first, made the way the README says (a small sweep, a log).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: snippet (named by a text only it has) -> (small sizes: text -> replacement, what it needs first)
SNIPPETS: dict[str, tuple[dict[str, str], str | None]] = {
    "from relsim.studies.compare import compare": (
        {'load_scenario("ecommerce")': 'load_scenario("ecommerce", **{"market.weeks": 10}).resized(300)',
         "seeds=20": "seeds=2"}, None),
    "results/wom_seeding/summary": ({}, "store"),
    "from relsim import evaluate, load_scenario": (
        {'"market.weeks": 52': '"market.weeks": 10', "resized(1000)": "resized(300)"}, None),
    "from relsim.calibration.fromlog import calibrate": ({}, "log"),
}


def python_snippets() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def _name(snippet: str) -> str:
    return next((key for key in SNIPPETS if key in snippet), snippet.splitlines()[0])


def test_every_snippet_is_known():
    names = [_name(s) for s in python_snippets()]
    assert sorted(names) == sorted(SNIPPETS), "a README snippet was added or changed: list it in SNIPPETS"


def _store(folder: Path) -> None:
    """``relsim sweep wom_seeding --out results/wom_seeding``, small."""
    import tomllib

    import tomli_w

    from relsim.studies.experiment import load_experiment
    from relsim.studies.sweep import sweep
    from relsim.util.shipped import shipped_path
    path = shipped_path("experiment", "wom_seeding")
    assert path is not None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["replicates"] = 1
    data["overrides"].update({"market.weeks": 8, "market.customers": 200})
    small = folder / "wom_small.toml"
    small.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert sweep(load_experiment(small), folder / "results" / "wom_seeding", workers=1).done == 3


def _log(folder: Path) -> None:
    """A transaction log ``sales.csv`` around the README's dates: the CDNOW sample, moved to 2024."""
    import pandas as pd

    from relsim.calibration.transactions import cdnow_log
    log = cdnow_log()
    log = log[log["amount"] > 0].drop_duplicates()
    log["date"] = log["date"] + (pd.Timestamp("2024-06-30") - pd.Timestamp("1997-09-30"))
    log.to_csv(folder / "sales.csv", index=False)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith("from relsim.calib")
                                  else n for n in SNIPPETS])
def test_snippet_runs_as_a_script(name, tmp_path):
    [snippet] = [s for s in python_snippets() if _name(s) == name]
    changes, needs = SNIPPETS[name]
    for old, new in changes.items():
        assert old in snippet, f"the README snippet no longer has {old!r}: update SNIPPETS"
        snippet = snippet.replace(old, new)
    if needs == "store":
        _store(tmp_path)
    elif needs == "log":
        _log(tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(snippet, encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                           os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env=environment, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
