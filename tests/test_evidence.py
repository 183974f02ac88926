"""docs/evidence.md covers the scenario schema, with the schema's defaults.

Every field of the scenario schema (``relsim/scenario/schema.py``, list items
written ``segments[].need_rate``) must have a row in docs/evidence.md: in
"Every constant and cost default" (the constants with a plausible range;
``tests/test_uncertainty.py`` checks those ranges against
``relsim/scenario/ranges.py``) or in "Scenario facts, switches and market
constants outside the table". The defaults both tables quote must be the
schema's, and the bracketed value ecommerce's (``scenarios/ecommerce.toml``),
so a default changed in the schema or the scenario fails here until the page
follows. Fast: no simulation.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from relsim import load_scenario
from relsim.scenario.schema import Scenario
from tests.conftest import ROOT

CONSTANTS = "## Every constant and cost default"
FACTS = "## Scenario facts, switches and market constants outside the table"


def _submodel(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The section model a field holds (and whether as a list), or None for a value."""
    if typing.get_origin(annotation) is list:
        item = typing.get_args(annotation)[0]
        return (item, True) if isinstance(item, type) and issubclass(item, BaseModel) else (None, False)
    for candidate in (annotation, *typing.get_args(annotation)):   # a section, or an optional one
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate, False
    return None, False


def schema_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, Any]:
    """Every value field of the scenario schema by dotted path (``segments[].share``)."""
    fields = {}
    for name, info in model.model_fields.items():
        sub, is_list = _submodel(info.annotation)
        if sub is None:
            fields[prefix + name] = info
        else:
            fields.update(schema_fields(sub, f"{prefix}{name}{'[]' if is_list else ''}."))
    return fields


def _table(heading: str) -> list[list[str]]:
    """The rows of the first table after ``heading``, as lists of cells."""
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8").split(heading)[1].split("\n## ")[0]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| `")]


def _paths(cell: str) -> list[str]:
    """The fields a Field cell names: `a.b`, `a.c` or `a.b`, `c` (short for a.c)."""
    paths = []
    for name in re.findall(r"`([^`]+)`", cell):
        if "." not in name and paths and "." in paths[0]:
            name = paths[0].rsplit(".", 1)[0] + "." + name
        paths.append(name)
    return paths


def _default(info: Any) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    return info.default_factory() if info.default_factory is not None else "required"


def _value(path: str, scenario: Scenario) -> Any:
    value: Any = scenario
    for part in path.split("."):
        value = getattr(value, part) if value is not None else None   # an optional section left out
    return value


def _same(quoted: str, value: Any) -> bool:
    quoted = quoted.strip()
    if value == "required" or value is None:
        return quoted in ("required", "none")
    if isinstance(value, bool):
        return quoted == str(value).lower()
    if isinstance(value, str):
        return quoted == f'"{value}"'
    if isinstance(value, (list, dict, tuple)):
        return quoted == ("{}" if isinstance(value, dict) else "[]") and not value
    try:
        return float(quoted.replace(",", "").replace("−", "-")) == pytest.approx(float(value), rel=2e-3)
    except ValueError:
        return False


def _split(cell: str) -> list[str]:
    """A cell's comma-separated values, commas inside brackets or quotes kept."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in cell:
        depth += (char == "(") - (char == ")")
        quoted ^= char == '"'
        if char == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _check_defaults(field_cell: str, default_cell: str, fields: dict[str, Any], ecommerce: Scenario) -> list[str]:
    """Problems of one row's Default (ecommerce) cell: per field, "default" or "default (ecommerce)"."""
    paths = _paths(field_cell)
    quoted = _split(default_cell) if len(paths) > 1 else [default_cell]
    if len(quoted) != len(paths):
        return [f"{field_cell}: {len(paths)} fields but defaults {default_cell!r}"]
    problems = []
    for path, text in zip(paths, quoted, strict=True):
        match = re.fullmatch(r"(.*?)\s*(?:\(([^()]*)\))?", text)
        assert match is not None
        stated, bracket = match.group(1), match.group(2)
        default = _default(fields[path])
        if not _same(stated, default):
            problems.append(f"{path}: docs/evidence.md quotes {stated!r}, the schema's default is {default!r}")
        if fields[path].annotation is str:   # names and descriptions: text, not values
            continue
        if "[]" in path:   # list items differ per item: a bracket names one of ecommerce's, or their mean
            section, name = path.split("[].")
            items = [getattr(item, name) for item in getattr(ecommerce, section)]
            numbers = items and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)
            candidates = [*items, sum(items) / len(items)] if numbers else items
            if bracket is not None and not any(_same(bracket, value) for value in candidates):
                problems.append(f"{path}: bracket ({bracket}), ecommerce's items have {items}")
            continue
        value = _value(path, ecommerce)
        if not _same(bracket if bracket is not None else stated, value):
            problems.append(f"{path}: docs/evidence.md gives ecommerce {bracket or stated!r}, "
                            f"scenarios/ecommerce.toml has {value!r}")
    return problems


def test_every_scenario_field_has_a_row_in_evidence():
    documented = [path for row in _table(CONSTANTS) + _table(FACTS) for path in _paths(row[0])]
    fields = schema_fields()
    missing = sorted(set(fields) - set(documented))
    assert not missing, f"fields of the scenario schema without a row in docs/evidence.md: {missing}"
    unknown = sorted(set(documented) - set(fields))
    assert not unknown, f"docs/evidence.md has rows for fields the schema does not have: {unknown}"
    assert len(documented) == len(set(documented)), "a field has two rows in docs/evidence.md"


@pytest.mark.parametrize("heading,default_column", [(CONSTANTS, 2), (FACTS, 3)])
def test_evidence_quotes_the_schema_defaults_and_ecommerce_values(heading, default_column):
    fields = schema_fields()
    ecommerce = load_scenario("ecommerce")
    problems = []
    for row in _table(heading):
        problems += _check_defaults(row[0], row[default_column], fields, ecommerce)
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_wrong_default():
    fields = schema_fields()
    ecommerce = load_scenario("ecommerce")
    assert _check_defaults("`behaviour.trust_gain`", "0.05", fields, ecommerce) == []
    assert _check_defaults("`behaviour.trust_gain`", "0.06", fields, ecommerce)
    assert _check_defaults("`operations.promise_weeks`", "0.5", fields, ecommerce)      # ecommerce: 0.6
    assert _check_defaults("`operations.promise_weeks`", "0.5 (0.6)", fields, ecommerce) == []
    assert _check_defaults("`market.engine`", '"agents"', fields, ecommerce)


def test_the_table_outside_holds_exactly_the_fields_not_varied():
    """The rows outside the constants table are relsim/scenario/ranges.py's NOT_VARIED (switches and
    scenario facts, no constant): a constant documented there instead of given a range fails."""
    from relsim.scenario.ranges import NOT_VARIED
    rows = _table(FACTS)
    assert sorted(path for row in rows for path in _paths(row[0])) == sorted(NOT_VARIED)
    assert {row[1] for row in rows} <= {"switch", "scenario fact"}


# -- the one-at-a-time sensitivity (scripts/evidence_oat/) describes the model as built --------------
def _oat_table() -> Any:
    """scripts/evidence_oat/table.py as a module (it imports oat.py beside it)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("evidence_oat_table", ROOT / "scripts" / "evidence_oat" / "table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _oat_problems(documented: list[str], sources: list[str], measured: list[str], ladder: set[str]) -> list[str]:
    """How the constants table's fields (``documented``), table.py's SOURCES, oat.csv's fields
    (``measured``, without the baseline) and the schema disagree with ``ranges.PLAUSIBLE``."""
    from relsim.scenario.ranges import PLAUSIBLE
    plausible, fields = [row.path for row in PLAUSIBLE], set(schema_fields())
    problems = []
    for name, paths, expected in (("docs/evidence.md's table", documented, plausible),
                                  ("table.py's SOURCES", sources, plausible),
                                  ("oat.csv", measured, [p for p in plausible if p not in ladder])):
        if missing := sorted(set(expected) - set(paths)):
            problems.append(f"{name} has no row for {missing} (ranges.PLAUSIBLE has)")
        if unknown := sorted(set(paths) - set(expected)):
            gone = sorted(set(unknown) - fields)
            problems.append(f"{name} names {unknown}, not in ranges.PLAUSIBLE"
                            + (f"; not in the schema: {gone}" if gone else ""))
    return problems


def test_the_oat_table_and_its_data_name_the_fields_of_plausible_and_of_the_schema():
    """docs/evidence.md's constants table, scripts/evidence_oat/table.py's SOURCES and the
    measurements of scripts/evidence_oat/oat.csv (both ends of each range) name exactly the
    fields of ``ranges.PLAUSIBLE`` (oat.csv all but Reichheld's ladder, whose rows ladder.csv
    holds: measured on services),
    so a field added to PLAUSIBLE without a row, or a renamed or removed field left behind
    (``behaviour.w_reward`` until 2026-11-30), fails. Fast: reads files, no simulation."""
    import pandas as pd
    table = _oat_table()
    oat = pd.read_csv(ROOT / "scripts" / "evidence_oat" / "oat.csv")
    measured = [p for p in oat["field"].unique() if p != "(baseline)"]
    documented = [path for row in _table(CONSTANTS) for path in _paths(row[0])]
    assert not _oat_problems(documented, list(table.SOURCES), measured, table.LADDER), \
        "\n".join(_oat_problems(documented, list(table.SOURCES), measured, table.LADDER))
    ends = oat.groupby("field")["end"].apply(set)
    assert all(ends[p] == {"low", "high"} for p in measured), "oat.csv: a field without both ends"
    ladder = pd.read_csv(ROOT / "scripts" / "evidence_oat" / "ladder.csv")    # measured on services (ladder.py)
    assert ladder.groupby("field")["end"].apply(set).to_dict() == {p: {"low", "high"} for p in table.LADDER}
    assert len(documented) == len(set(documented)) and len(table.SOURCES) == len(set(table.SOURCES))


def test_the_oat_check_sees_a_field_missing_or_left_behind():
    """The check above fails for a field PLAUSIBLE has and a row lacks, and for a row whose field
    PLAUSIBLE (or the schema) no longer has."""
    from relsim.scenario.ranges import PLAUSIBLE
    plausible = [row.path for row in PLAUSIBLE]
    ladder = _oat_table().LADDER
    rest = [p for p in plausible if p not in ladder]
    assert _oat_problems(plausible, plausible, rest, ladder) == []
    assert _oat_problems(plausible[1:], plausible, rest, ladder)                      # a row missing
    left_behind = _oat_problems(plausible, [*plausible, "behaviour.w_reward"], rest, ladder)
    assert left_behind and "not in the schema: ['behaviour.w_reward']" in left_behind[0]
    assert _oat_problems(plausible, plausible, [*rest, "behaviour.offer_value"], ladder)


def test_the_docs_table_shows_table_py_s_ranges_and_measurements():
    """The Range and "Moves most" cells of docs/evidence.md's constants table are what
    scripts/evidence_oat/table.py prints from ranges.PLAUSIBLE and oat.csv, so a re-run of
    oat.py fails here until the table is regenerated (meaning and source are prose: not compared)."""
    generated = {cells[0]: cells for cells in _oat_table().table_rows()}
    problems = [f"{row[0]}: docs {row[4]!r}, {row[5]!r}; table.py {generated[row[0]][4]!r}, {generated[row[0]][5]!r}"
                for row in _table(CONSTANTS) if row[0] in generated and row[4:6] != generated[row[0]][4:6]]
    assert not problems, "\n".join(problems)
