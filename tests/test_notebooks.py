"""The example notebooks (examples/*.ipynb) run top to bottom under pytest with nbmake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["calibrate_compare_optimise.ipynb", "quickstart.ipynb"]


@pytest.mark.slow      # about a minute on two busy cores
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(notebook, tmp_path):
    pytest.importorskip("nbmake", reason="the test extra installs nbmake")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                           os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--nbmake", "--nbmake-timeout=600", str(notebook)],
                          cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
