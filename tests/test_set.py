"""``--set dotted.path=value`` on run and compare: TOML literals, validated like a scenario file."""

from __future__ import annotations

import contextlib

import pandas as pd
import pytest

from relsim.cli import main
from relsim.scenario.errors import ScenarioError
from relsim.scenario.overrides import parse_assignment, parse_assignments


@pytest.mark.parametrize("text, expected", [
    ("market.weeks=26", ("market.weeks", 26)),
    ("market.discount_rate = 0.05", ("market.discount_rate", 0.05)),
    ("word_of_mouth.enabled=false", ("word_of_mouth.enabled", False)),
    ("market.network.kind=scale_free", ("market.network.kind", "scale_free")),
    ('firms.0.name="My shop"', ("firms.0.name", "My shop")),
    ("market.snapshot_weeks=[4, 8]", ("market.snapshot_weeks", [4, 8])),
    ("firms.0.levers={price = 1.1}", ("firms.0.levers", {"price": 1.1})),
])
def test_values_are_toml_literals(text, expected):
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["market.weeks", "=3", "market..weeks=3", "market.weeks=",
                                  "x=__import__('os')", "market.weeks=[1,"])
def test_malformed_assignments_are_refused(text):
    with pytest.raises(ScenarioError):
        parse_assignment(text)


def test_a_path_given_twice_is_refused():
    with pytest.raises(ScenarioError, match="twice"):
        parse_assignments(["market.weeks=3", "market.weeks=4"])


def test_run_applies_every_set(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "ecommerce", "--customers", "300", "--set", "market.weeks=6",
                 "--set", "firms.0.levers.price=1.2", "--set", "market.network.kind=fully_mixed",
                 "--out", str(out)])
    assert code == 0
    steps = pd.read_parquet(out / "steps.parquet")
    assert steps["week"].nunique() == 6


def test_named_flags_win_over_set(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "ecommerce", "--customers", "300", "--set", "market.weeks=9", "--weeks", "4",
                 "--out", str(out)]) == 0
    assert pd.read_parquet(out / "steps.parquet")["week"].nunique() == 4


@pytest.mark.parametrize("command", ["run", "compare"])
@pytest.mark.parametrize("assignment, message", [
    ("market.weeks=abc", "market.weeks = 'abc': must be an integer"),
    ("market.weeks=-3", "market.weeks = -3"),
    ("market.network.kind=ring", "'small_world', 'scale_free' or 'fully_mixed'"),
    ("market.custmers=10", "market.custmers: unknown field"),
    ("firms.7.quality=1", "firms.7.quality"),
    ("firms.7.quality=1", "firms has 4 items, so its positions are 0 to 3"),   # what is allowed
    ("segments.3.share=1", "segments has 3 items, so its positions are 0 to 2"),
    ("firms.0.strategy=relation", "allowed: basic, reactive"),
    ("firms.0.levers.price=9", "price = 9"),
    ("market.weeks", "expected PATH=VALUE"),
    ("market.weeks=[1,", "not a TOML value"),
])
def test_bad_set_exits_2_naming_the_field_and_writes_nothing(tmp_path, capsys, command, assignment, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if assignment in ("market.weeks", "market.weeks=[1,") else contextlib.nullcontext():
        code = main([command, "ecommerce", "--customers", "300", "--set", assignment,
                     "--out", str(out)])
        assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()

