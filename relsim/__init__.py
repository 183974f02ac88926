"""relsim: agent-based simulation of transactional and relationship marketing."""

from relsim.runner import RunResult, simulate
from relsim.scenario import Scenario, ScenarioError, load_scenario
from relsim.strategies import PRESETS, Strategy

__version__ = "0.1.0"

__all__ = [
           "PRESETS",
           "RunResult",
           "Scenario",
           "ScenarioError",
           "Strategy",
           "__version__",
           "load_scenario",
           "simulate",
]
