"""Scenarios: the schema of a scenario file, shipped scenarios, strategy presets and population files.

The ground floor of the model: nothing here imports the market or its agents.
"""

from relsim.scenario.schema import Scenario, ScenarioError, load_scenario
from relsim.scenario.strategies import PRESETS, Strategy

__all__ = ["PRESETS", "Scenario", "ScenarioError", "Strategy", "load_scenario"]
