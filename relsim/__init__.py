"""relsim: agent-based simulation of transactional and relationship marketing.

The public face: :func:`load_scenario` and :func:`simulate` for one run,
:func:`evaluate` for the outcomes of a policy of the focal firm over seeds,
:mod:`relsim.compare` for strategy comparisons, :mod:`relsim.calibration`
for scenarios from a transaction log. The model itself (Mesa, SimPy) loads
on first use of :func:`simulate`, so ``import relsim.calibration`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from relsim.scenario.schema import Scenario, ScenarioError, load_scenario
from relsim.scenario.strategies import PRESETS, Strategy
from relsim.util.version import __version__

if TYPE_CHECKING:
    from relsim.market.runner import RunResult, simulate
    from relsim.studies.evaluate import evaluate

__all__ = [
    "PRESETS",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "__version__",
    "evaluate",
    "load_scenario",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in ("simulate", "RunResult"):
        return getattr(importlib.import_module("relsim.market.runner"), name)
    if name == "evaluate":
        return importlib.import_module("relsim.studies.evaluate").evaluate
    raise AttributeError(f"module 'relsim' has no attribute {name!r}")
