"""The package's layers: no import cycle, and each package imports only the floors below it.

The rules are those of docs/architecture.md. For the layers, imports under ``if TYPE_CHECKING:``
are not counted (they do not run); every other import is, including imports
inside functions, so that a lazy import cannot hide a cycle. Cycles are
refused for type-only imports too.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "relsim"

#: package (or top-level module) → the floors it may import, besides itself
ALLOWED = {
    "util": set(),
    "scenario": {"util"},
    "market": {"util", "scenario"},
    "studies": {"util", "scenario", "market"},
    "calibration": {"util", "scenario", "market", "studies"},
    "compare": {"studies"},            # public face of relsim.studies.compare
    "validation": {"util", "scenario", "market", "studies", "calibration"},
    "cli": {"util", "scenario", "market", "studies", "calibration", "validation"},
    "app": {"util", "scenario", "market", "studies"},
    "__init__": {"util", "scenario", "market"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path, modules: set[str], type_only: bool = False) -> set[str]:
    """relsim modules imported by the file at ``path`` at run time (and, with
    ``type_only``, also those imported only for the type checker)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_only:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("relsim"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            if base.startswith("relsim"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if candidate in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in modules}


def graph(type_only: bool = False) -> dict[str, set[str]]:
    """Each relsim module's relsim imports (a fresh copy of the parsed graph; the callers may change it)."""
    return {name: set(imported) for name, imported in _parsed_graph(type_only).items()}


@functools.cache
def _parsed_graph(type_only: bool) -> dict[str, set[str]]:
    # parsed once per process: every test_imports_only_lower_floors case (one per module, ~85) used
    # to parse all of relsim again (~0.7 CPU s each); the sources do not change during a run
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(files)
    return {name: imports_of(path, modules, type_only) - {name} for name, path in files.items()}


def floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules, or None (iterative depth-first search)."""
    colour = dict.fromkeys(edges, 0)   # 0 new, 1 on the stack, 2 done
    for start in sorted(edges):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(child) == 1:
                return [*path[path.index(child):], child]
            elif colour.get(child) == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges[child]))))
    return None


def test_the_finder_sees_a_cycle():
    """The check can fail: a planted cycle is found."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    edges = graph()
    assert len(edges) > 20
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_even_for_the_type_checker():
    """Type-only imports form no cycle either: a module's types come from the
    protocols in relsim/market/interfaces.py, not from the modules that use it."""
    cycle = find_cycle(graph(type_only=True))
    assert cycle is None, "type-only import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", sorted(graph()))
def test_imports_only_lower_floors(module):
    own = floor(module)
    allowed = ALLOWED[own] | {own}
    wrong = sorted(m for m in graph()[module] if floor(m) not in allowed)
    assert not wrong, f"{module} ({own}) may import {sorted(allowed)}, not {wrong}"


def test_engines_never_import_each_other():
    edges = graph()
    assert "relsim.market.engines.arrays" not in edges["relsim.market.engines.agents"]
    assert "relsim.market.engines.agents" not in edges["relsim.market.engines.arrays"]


def test_schema_never_imports_the_market():
    edges = graph()
    assert not {m for m in edges["relsim.scenario.schema"] if floor(m) == "market"}


def test_the_model_has_everything_the_market_protocol_promises():
    """Every attribute and method of ``interfaces.Market`` exists on a built ``MarketModel``, methods
    callable. The type checker cannot see this (``MarketModel`` subclasses Mesa's untyped ``Model``, so
    mypy accepts any attribute of it: a method declared in ``Market`` and missing from the model passed
    it); this test fails for such a declaration."""
    from relsim import load_scenario
    from relsim.market.interfaces import Market
    from relsim.market.model import MarketModel

    model = MarketModel(load_scenario("ecommerce", **{"market.weeks": 2}).resized(50), seed=0)
    model.step()
    promised = sorted(Market.__protocol_attrs__)   # type: ignore[attr-defined]
    missing = [name for name in promised if not hasattr(model, name)]
    assert not missing, f"MarketModel lacks {missing}, declared in relsim.market.interfaces.Market"
    methods = [name for name, value in vars(Market).items() if callable(value) and not name.startswith("_")]
    assert methods and all(callable(getattr(model, name)) for name in methods)
