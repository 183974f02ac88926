"""The docstring examples run: every ``>>>`` in relsim is a test.

Examples that would run a full simulation are marked ``# doctest: +SKIP`` in
their docstrings; everything else runs, from a temporary folder (so that no
example depends on where the tests start or leaves a file behind).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "relsim"
#: modules whose import needs an optional extra (the browser app)
OPTIONAL = {"relsim.app": "solara"}


def _modules() -> list[str]:
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if ">>>" in path.read_text(encoding="utf-8"):
            names.append(".".join(parts))
    return names


MODULES = _modules()


def test_some_modules_have_examples():
    assert {"relsim.scenario.schema", "relsim.market.rules", "relsim.util.shipped"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name} (output above)"
