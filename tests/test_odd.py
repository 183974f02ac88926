"""docs/odd.md (the ODD protocol, Grimm et al. 2020) and docs/model.md stay true to the code:
every scenario field and every public rule function is described in one of them."""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path

from pydantic import BaseModel

from relsim.market import rules
from relsim.scenario.schema import Scenario

DOCS = Path(__file__).resolve().parent.parent / "docs"
ODD_SECTIONS = ("Purpose and patterns", "Entities, state variables and scales",
                "Process overview and scheduling", "Design concepts", "Initialisation", "Input data",
                "Submodels")


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models inside a field's annotation (``list[X]``, ``X | None``, ...)."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def scenario_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Dotted paths of every field of the scenario schema (``segments[].need_rate``, ...)."""
    paths = []
    for name, info in model.model_fields.items():
        sub = _models_in(info.annotation)
        many = typing.get_origin(info.annotation) is list and bool(sub)   # a list of sections
        path = f"{prefix}{name}{'[]' if many else ''}"
        paths.append(path)
        for child in sub:
            paths += scenario_fields(child, path + ".")
    return paths


def public_rules() -> list[str]:
    return [name for name, item in vars(rules).items()
            if inspect.isfunction(item) and item.__module__ == rules.__name__ and not name.startswith("_")]


def _text() -> str:
    return (DOCS / "odd.md").read_text(encoding="utf-8") + (DOCS / "model.md").read_text(encoding="utf-8")


def test_odd_has_the_seven_elements_of_odd_2020():
    odd = (DOCS / "odd.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#+ .*$", odd, flags=re.MULTILINE)
    for section in ODD_SECTIONS:
        assert any(section.lower() in h.lower() for h in headings), section
    assert "Grimm" in odd and "model.md" in odd


def test_every_scenario_field_is_documented():
    text = _text()
    fields = scenario_fields()
    assert len(fields) > 150
    # a field is documented where its full path is written, or its last name in its section's list
    missing = [path for path in fields
               if path not in text and f"`{path.rsplit('.', 1)[-1]}`" not in text]
    assert not missing, f"scenario fields in neither docs/odd.md nor docs/model.md: {missing}"


def test_every_field_is_documented_by_its_full_path_or_in_the_field_index():
    """Stricter: the last name appears in Appendix A's entry of its section (docs/model.md)."""
    model = (DOCS / "model.md").read_text(encoding="utf-8")
    index = model[model.index("## Appendix A"):]
    odd = (DOCS / "odd.md").read_text(encoding="utf-8")
    missing = []
    for path in scenario_fields():
        section, _, name = path.rpartition(".")
        if not section:
            continue
        entry = re.search(rf"\*\*`{re.escape(section)}`\*\*(.*?)(?:\n\n|\Z)", index, flags=re.DOTALL)
        if path in odd or path in model:
            continue
        if entry is None or f"`{name.rstrip('[]')}`" not in entry.group(1):
            missing.append(path)
    assert not missing, missing


def test_every_public_rule_function_is_documented():
    text = _text()
    names = public_rules()
    assert "listen" in names and "churn_hazard" in names
    missing = [name for name in names if f"rules.{name}" not in text and f"`{name}`" not in text]
    assert not missing, f"rule functions in neither docs/odd.md nor docs/model.md: {missing}"
