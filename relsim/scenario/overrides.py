"""``--set dotted.path=value``: one scenario field changed from the command line.

The value is read as a TOML literal (``26``, ``0.5``, ``true``, ``"text"``,
``[1, 2]``, ``{kind = "scale_free"}``); a bare word that is not TOML
(``scale_free``) is taken as text. Nothing is ever evaluated as code. The
assignments are applied to the scenario's data before validation
(:func:`relsim.scenario.schema.load_scenario` ``**overrides``), so a bad field
or value gives the same message as in a scenario file: the field, the value
and what is allowed.

>>> parse_assignment("market.weeks=26")
('market.weeks', 26)
>>> parse_assignment("market.network.kind = scale_free")
('market.network.kind', 'scale_free')
>>> parse_assignment("firms.0.levers={price = 1.1}")
('firms.0.levers', {'price': 1.1})
>>> parse_assignment("market.weeks")
Traceback (most recent call last):
...
relsim.scenario.errors.ScenarioError: --set 'market.weeks': expected PATH=VALUE, e.g. market.weeks=26
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from typing import Any

from relsim.scenario.errors import ScenarioError

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$")
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def parse_value(text: str) -> Any:
    """A TOML literal (never code); a bare word that is not TOML is text."""
    text = text.strip()
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        if _BARE_WORD.match(text):
            return text
        raise ScenarioError(f"{text!r} is not a TOML value (a number, true/false, \"text\", [list] "
                            "or {table}); quote text that has spaces or symbols") from None


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"a.b=value"`` as ``("a.b", value)``; :class:`ScenarioError` on a malformed assignment."""
    path, equals, value = text.partition("=")
    path = path.strip()
    if not equals or not path:
        raise ScenarioError(f"--set {text!r}: expected PATH=VALUE, e.g. market.weeks=26")
    if not _PATH.match(path):
        raise ScenarioError(f"--set {text!r}: {path!r} is not a dotted path of a scenario field "
                            "(names for tables, 0-based numbers for lists, e.g. firms.0.quality)")
    if not value.strip():
        raise ScenarioError(f"--set {text!r}: no value after '='")
    try:
        return path, parse_value(value)
    except ScenarioError as error:
        raise ScenarioError(f"--set {text!r}: {error}") from None


def parse_assignments(texts: Iterable[str]) -> dict[str, Any]:
    """Several ``--set`` assignments as a dict of overrides (a path given twice is an error)."""
    overrides: dict[str, Any] = {}
    for text in texts:
        path, value = parse_assignment(text)
        if path in overrides:
            raise ScenarioError(f"--set {path}: given twice")
        overrides[path] = value
    return overrides
