"""Tests of scenario loading and validation (relsim.scenario.schema)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relsim.scenario.schema import Scenario, ScenarioError, load_scenario
from relsim.scenario.strategies import PRESETS

ROOT = Path(__file__).parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))

# A small valid scenario; the bad ones below are textual edits of it.
TINY = """\
name = "tiny"
description = "two segments, one supplier, two firms"

[market]
customers = 100
weeks = 10

[market.network]
kind = "small_world"

[churn]
base_hazard = 0.02

[[segments]]
name = "a"
share = 0.6

[[segments]]
name = "b"
share = 0.4

[[suppliers]]
name = "S1"

[[firms]]
name = "Focal"
strategy = "reactive"
supplier = "S1"
quality = 0.8

[[firms]]
name = "Rival"
strategy = "proactive"
supplier = "S1"
quality = 0.9
"""


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(old: str, new: str, count: int = 1) -> str:
    assert TINY.count(old) >= count, old
    return TINY.replace(old, new, count)


# --------------------------------------------------------------------------
# Shipped scenarios
# --------------------------------------------------------------------------
def test_scenarios_are_shipped():
    assert SHIPPED, "no scenarios/*.toml found"
    assert ROOT / "scenarios" / "ecommerce.toml" in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_validates(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert sum(s.share for s in scenario.segments) == pytest.approx(1.0)
    supplier_names = {s.name for s in scenario.suppliers}
    for firm in scenario.firms:
        assert firm.supplier in supplier_names
        firm.build_strategy()  # preset plus levers is a valid Strategy
    # the same file by bare name resolves to the shipped copy
    assert load_scenario(path.stem) == scenario


def test_tiny_template_is_valid(tmp_path):
    scenario = load_scenario(write(tmp_path, TINY))
    assert scenario.market.customers == 100
    assert scenario.churn.base_hazard == 0.02
    assert [f.name for f in scenario.firms] == ["Focal", "Rival"]


# --------------------------------------------------------------------------
# Bad scenarios: ScenarioError naming file, field and value
# --------------------------------------------------------------------------
BAD = {
    # id: (scenario text, fragments the message must contain)
    "typo_in_section": (edit("customers = 100", "custmers = 100"),
                        ["market.custmers", "unknown field"]),
    "typo_in_nested_section": (edit('kind = "small_world"', 'knd = "small_world"'),
                               ["market.network.knd", "unknown field"]),
    "typo_top_level": (edit('name = "tiny"', 'name = "tiny"\nnmae = "x"'),
                       ["nmae", "unknown field"]),
    "wrong_type": (edit("customers = 100", 'customers = "many"'),
                   ["market.customers", "'many'"]),
    "wrong_type_in_list": (edit("share = 0.4", 'share = "half"'),
                           ["segments[1].share", "'half'"]),
    "fractional_int": (edit("weeks = 10", "weeks = 2.5"), ["market.weeks", "2.5"]),
    "out_of_range": (edit("base_hazard = 0.02", "base_hazard = 2"),
                     ["churn.base_hazard", "= 2"]),
    "out_of_range_low": (edit("customers = 100", "customers = 0"), ["market.customers", "= 0"]),
    "bad_literal": (edit('kind = "small_world"', 'kind = "ring"'),
                    ["market.network.kind", "'ring'"]),
    "unknown_strategy": (edit('strategy = "reactive"', 'strategy = "relation"'),
                         ["firms[0].strategy = 'relation'", "unknown strategy", "transactional"]),
    "unknown_supplier": (edit('supplier = "S1"\nquality = 0.9', 'supplier = "Nobody"\nquality = 0.9'),
                         ["firms[1].supplier", "'Nobody'", "S1"]),
    "shares_not_one": (edit("share = 0.6", "share = 0.5"), ["segment", "shares", "0.9"]),
    "missing_required": (edit('[[suppliers]]\nname = "S1"\n', '[[suppliers]]\nunit_cost = 0.7\n'),
                         ["suppliers[0].name", "missing"]),
    "lever_out_of_range": (edit('strategy = "reactive"', 'strategy = "reactive"\nlevers = { price = -1 }'),
                           ["firms[0].levers", "price = -1", "greater than 0"]),
    "lever_typo": (edit('strategy = "reactive"', 'strategy = "reactive"\nlevers = { prize = 1.0 }'),
                   ["firms[0].levers", "prize", "unknown field"]),
    "distributor_unknown_firm": (TINY + '\n[[distributors]]\nname = "D"\nfirms = ["Ghost"]\n',
                                 ["distributors[0].firms", "'Ghost'"]),
    "duplicate_firm": (edit('name = "Rival"', 'name = "Focal"'), ["firms", "'Focal'", "twice"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_names_file_field_and_value(tmp_path, case):
    text, fragments = BAD[case]
    path = write(tmp_path, text, f"{case}.toml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("levers,field,value", [("{ price = -1 }", "levers.price", "-1"),
                                                ("{ prize = 1.0 }", "levers.prize", None)])
def test_bad_lever_names_dotted_lever_path(tmp_path, levers, field, value):
    path = write(tmp_path, edit('strategy = "reactive"', f'strategy = "reactive"\nlevers = {levers}'))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    assert field in message
    if value is not None:
        assert f"{field} = {value}" in message


def test_every_problem_is_reported(tmp_path):
    text = edit("customers = 100", "customers = -5").replace("base_hazard = 0.02", "base_hazard = 2")
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    message = str(info.value)
    assert "market.customers = -5" in message
    assert "churn.base_hazard = 2" in message


def test_invalid_toml_syntax(tmp_path):
    path = write(tmp_path, edit("customers = 100", "customers = = 100"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert "not valid TOML" in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "does_not_exist.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert "cannot read" in str(info.value)


def test_scenario_error_is_value_error():
    assert issubclass(ScenarioError, ValueError)


# --------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------
def test_dotted_override(tmp_path):
    path = write(tmp_path, TINY)
    scenario = load_scenario(path, **{"market.customers": 123})
    assert scenario.market.customers == 123
    assert scenario.market.weeks == 10  # siblings untouched
    assert load_scenario(path).market.customers == 100  # file untouched


def test_override_list_item_and_new_section(tmp_path):
    path = write(tmp_path, TINY)
    scenario = load_scenario(path, **{"firms.1.quality": 1.1, "word_of_mouth.strength": 0.9,
                                      "market.network.mean_degree": 6})
    assert scenario.firms[1].quality == 1.1
    assert scenario.firms[0].quality == 0.8
    assert scenario.word_of_mouth.strength == 0.9
    assert scenario.market.network.mean_degree == 6
    assert scenario.market.network.kind == "small_world"


def test_override_is_validated(tmp_path):
    path = write(tmp_path, TINY)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **{"market.customers": 0})
    assert "market.customers = 0" in str(info.value)
    assert str(path) in str(info.value)
    with pytest.raises(ScenarioError, match=re.escape("market.custmers")):
        load_scenario(path, **{"market.custmers": 5})


def test_lever_override_validated(tmp_path):
    path = write(tmp_path, TINY)
    with pytest.raises(ScenarioError, match=re.escape("firms[0].levers")) as info:
        load_scenario(path, **{"firms.0.levers.price": -1})
    assert "price = -1" in str(info.value)
    scenario = load_scenario(path, **{"firms.0.levers.price": 1.2})
    assert scenario.firms[0].build_strategy().price == 1.2
    assert scenario.firms[0].build_strategy().level == PRESETS["reactive"]["level"]


@pytest.mark.parametrize("dotted", ["firms.9.quality", "market.customers.x"])
def test_bad_override_path_raises_scenario_error(tmp_path, dotted):
    with pytest.raises(ScenarioError):
        load_scenario(write(tmp_path, TINY), **{dotted: 1.0})


# --------------------------------------------------------------------------
# Focal strategy swap and digest
# --------------------------------------------------------------------------
@pytest.fixture
def tiny(tmp_path) -> Scenario:
    text = edit('strategy = "reactive"', 'strategy = "reactive"\nlevers = { price = 1.1 }')
    return load_scenario(write(tmp_path, text))


def test_with_focal_strategy_changes_only_firm_zero(tiny):
    swapped = tiny.with_focal_strategy("transactional")
    assert swapped.firms[0].strategy == "transactional"
    assert swapped.firms[0].levers == {}  # the preset, without the old overrides
    assert swapped.firms[0].build_strategy().price == PRESETS["transactional"]["price"]
    assert tiny.firms[0].strategy == "reactive"  # original untouched
    assert tiny.firms[0].levers == {"price": 1.1}
    assert swapped.firms[1:] == tiny.firms[1:]
    before, after = tiny.model_dump(), swapped.model_dump()
    for key in before:
        if key != "firms":
            assert after[key] == before[key], key
    f0_before, f0_after = before["firms"][0], after["firms"][0]
    assert {k for k in f0_before if f0_before[k] != f0_after[k]} == {"strategy", "levers"}


def test_with_focal_strategy_current_is_unchanged(tiny):
    same = tiny.with_focal_strategy("current")
    assert same == tiny
    assert same.firms[0].strategy == "reactive"
    assert same.firms[0].levers == {"price": 1.1}
    assert same.digest() == tiny.digest()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_with_focal_strategy_every_preset(tiny, name):
    assert tiny.with_focal_strategy(name).firms[0].strategy == name


def test_with_focal_strategy_unknown(tiny):
    with pytest.raises(ScenarioError, match="relation"):
        tiny.with_focal_strategy("relation")


def test_digest_stable_and_sensitive(tmp_path):
    path = write(tmp_path, TINY)
    first = load_scenario(path)
    digest = first.digest()
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert digest == first.digest()
    assert load_scenario(path).digest() == digest  # reloading gives the same hash
    # a re-ordered but equal file hashes the same
    reordered = TINY.replace("customers = 100\nweeks = 10", "weeks = 10\ncustomers = 100")
    assert reordered != TINY
    assert load_scenario(write(tmp_path, reordered, "reordered.toml")).digest() == digest
    # any changed field changes the hash
    changed = {
        load_scenario(path, **{"market.customers": 101}).digest(),
        load_scenario(path, **{"firms.1.quality": 0.91}).digest(),
        load_scenario(path, **{"behaviour.trust_loss": 0.3}).digest(),
        load_scenario(path, **{"description": "other"}).digest(),
        first.with_focal_strategy("transactional").digest(),
    }
    assert digest not in changed
    assert len(changed) == 5


def test_resized_keeps_money_per_customer():
    from relsim.scenario.schema import load_scenario as load
    full = load(Path(__file__).resolve().parent.parent / "scenarios" / "alliance.toml")
    half = full.resized(full.market.customers // 2)
    assert half.market.customers == full.market.customers // 2
    assert half.market.reference_budget == pytest.approx(full.market.reference_budget / 2)
    assert half.market.half_saturation == pytest.approx(full.market.half_saturation / 2)
    assert half.alliances[0].fee_per_week == pytest.approx(full.alliances[0].fee_per_week / 2)
    assert half.alliances[0].referrals_per_week == pytest.approx(full.alliances[0].referrals_per_week / 2)
    assert half.segments == full.segments and half.firms == full.firms


def test_negative_list_positions_are_refused(tmp_path):
    from relsim.scenario.schema import load_scenario as load
    with pytest.raises(ScenarioError, match="no negative positions"):
        load(Path(__file__).resolve().parent.parent / "scenarios" / "b2b.toml", **{"firms.-1.quality": 1.0})
