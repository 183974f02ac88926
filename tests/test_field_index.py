"""docs/model.md Appendix A (the scenario field index) quotes the schema's defaults.

Each section's entry lists ``name value`` pairs (``**`market`** — `customers`
5000; `engine` "arrays" (or "agents"; ...)``); every value quoted must be the
schema's default, and a bracketed ``(ecommerce 600.0)``, ``(b2b 0.2)``, ...
the value of that shipped scenario. tests/test_odd.py checks that every field
is listed; this checks the numbers. Fast: no simulation.
"""

from __future__ import annotations

import re
from typing import Any

from relsim import load_scenario
from tests.conftest import ROOT
from tests.test_evidence import _default, _same, schema_fields

SHIPPED = ("ecommerce", "b2b", "alliance", "classroom", "services")
#: `name` then a value: a quoted string, a number (1/3 allowed), true/false, [] or {}; then an optional bracket
PAIR = re.compile(r"`(\w+)` (\"[^\"]*\"|−?-?\d+(?:\.\d+)?(?:/\d+)?|true|false|\[\]|\{\})(?: \(([^()]*)\))?")


def _entries() -> dict[str, str]:
    """Appendix A's entries by section (``market``, ``segments[]``, ...), each as one line."""
    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8").split("## Appendix A")[1]
    entries = {}
    for paragraph in text.split("\n\n"):
        match = re.match(r"\*\*`([\w.\[\]]+)`\*\*", paragraph)
        if match:
            entries[match.group(1)] = " ".join(paragraph.split())
    return entries


def _number(text: str) -> float:
    text = text.replace("−", "-")
    if "/" in text:
        numerator, denominator = text.split("/")
        return float(numerator) / float(denominator)
    return float(text)


def _value_of(scenario: Any, path: str) -> Any:
    value = scenario
    for part in path.split("."):
        value = getattr(value, part)
    return value


def appendix_problems() -> list[str]:
    fields = schema_fields()
    scenarios = {name: load_scenario(name) for name in SHIPPED}
    problems = []
    entries = _entries()
    assert {"market", "segments[]", "behaviour", "churn", "costs", "firms[]"} <= set(entries)
    for section, entry in entries.items():
        for name, quoted, bracket in PAIR.findall(entry):
            path = f"{section}.{name}"
            if path not in fields:
                problems.append(f"Appendix A names {path}, which is not a scenario field")
                continue
            default = _default(fields[path])
            same = (abs(_number(quoted) - default) < 1e-9 if re.match(r"−?-?\d", quoted)
                    else _same(quoted, default))
            if not same:
                problems.append(f"{path}: Appendix A quotes {quoted}, the schema's default is {default!r}")
            if "[]" in section:
                continue
            for scenario, value in re.findall(r"\b(" + "|".join(SHIPPED) + r") (−?-?\d+(?:\.\d+)?)", bracket or ""):
                actual = _value_of(scenarios[scenario], path)
                if abs(_number(value) - float(actual)) > 1e-9:
                    problems.append(f"{path}: Appendix A gives {scenario} {value}, scenarios/{scenario}.toml "
                                    f"has {actual}")
    return problems


def test_appendix_a_quotes_the_schema_defaults_and_the_scenarios_values():
    problems = appendix_problems()
    assert not problems, "\n".join(problems)


def test_the_appendix_check_sees_a_wrong_value(monkeypatch):
    entries = _entries()
    wrong = dict(entries, market=entries["market"].replace('`engine` "arrays"', '`engine` "agents"')
                 .replace("(ecommerce 600.0)", "(ecommerce 500.0)"))
    monkeypatch.setattr(f"{__name__}._entries", lambda: wrong)
    problems = appendix_problems()
    assert any("market.engine" in p for p in problems)
    assert any("ecommerce 500.0" in p for p in problems)
