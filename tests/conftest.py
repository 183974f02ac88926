"""Shared fixtures: small scenarios built from dicts, the repository root."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from relsim.scenario.schema import Scenario, from_dict

ROOT = Path(__file__).resolve().parent.parent


def scenario_dict(name: str = "ecommerce") -> dict:
    """A shipped scenario as a plain dict (to modify in a test)."""
    with open(ROOT / "scenarios" / f"{name}.toml", "rb") as handle:
        return tomllib.load(handle)


def small(name: str = "ecommerce", customers: int = 400, weeks: int = 30, engine: str = "arrays",
          **changes) -> Scenario:
    """A shipped scenario shrunk for tests; ``changes`` are dotted-path overrides. On the array engine,
    the default users run (docked against the agent engine in test_docking and step for step in
    test_lockstep); tests of the agent engine say ``engine="agents"``."""
    from relsim.scenario.schema import set_dotted
    data = copy.deepcopy(scenario_dict(name))
    set_dotted(data, "market.customers", customers)
    set_dotted(data, "market.weeks", weeks)
    set_dotted(data, "market.engine", engine)
    for dotted, value in changes.items():
        set_dotted(data, dotted, value)
    return from_dict(data, source=f"{name} (test)")


@pytest.fixture
def root() -> Path:
    return ROOT
