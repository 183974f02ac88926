"""Bad numbers in a scenario file are refused at the boundary (issue 14).

Each reproducer is a field of the shipped ecommerce scenario set to a value a
careless or hostile file could hold: NaN, infinities, a boolean where an
integer belongs, a string where a share belongs. Each must give exit 2, a
one-line message naming the file and the field, no traceback, and nothing
written.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
import tomli_w

from relsim.cli import main
from relsim.scenario.schema import ScenarioError, from_dict, set_dotted

ROOT = Path(__file__).resolve().parent.parent

REPRODUCERS = [
    ("behaviour.w_trust", math.nan),
    ("costs.follow_up", math.inf),
    ("firms.0.levers.acquisition_budget", math.inf),
    ("churn.w_commitment", -math.inf),
    ("segments.0.basket_mean", math.inf),
    ("market.reference_desk_agents", math.inf),
    ("firms.0.levers.service_capacity", math.inf),
    ("market.customers", True),
    ("segments.0.share", "0.4"),
    ("market.snapshot_weeks", [True]),
    ("market.weeks", 12.5),
]


def mutated(field: str, value) -> dict:
    data = tomllib.loads((ROOT / "scenarios" / "ecommerce.toml").read_text())
    set_dotted(data, field, value)
    return data


@pytest.mark.parametrize(("field", "value"), REPRODUCERS, ids=[f for f, _ in REPRODUCERS])
def test_schema_refuses(field, value):
    data = mutated(field, value)
    with pytest.raises(ScenarioError) as error:
        from_dict(data, "bad.toml")
    message = str(error.value)
    assert "bad.toml" in message
    assert field.split(".")[-1] in message


@pytest.mark.parametrize(("field", "value"), REPRODUCERS[:4] + REPRODUCERS[8:10],
                         ids=[f for f, _ in REPRODUCERS[:4] + REPRODUCERS[8:10]])
def test_cli_exits_2_and_writes_nothing(field, value, tmp_path, capsys):
    scenario = tmp_path / "bad.toml"
    scenario.write_text(tomli_w.dumps(mutated(field, value)))
    out = tmp_path / "out"
    code = main(["run", str(scenario), "--customers", "200", "--weeks", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "bad.toml" in err and field.split(".")[-1] in err
    assert not out.exists()


def test_whole_float_still_fits_an_integer_field():
    """Designs may hand 200.0 to an integer field: that is 200, not an error."""
    assert from_dict(mutated("market.customers", 200.0), "ok.toml").market.customers == 200


def test_the_check_can_fail():
    """Without the boundary check NaN would pass: the same dict is accepted when the value is finite."""
    assert from_dict(mutated("behaviour.w_trust", 0.5), "ok.toml").behaviour.w_trust == 0.5
