"""The docs name code that exists: every code reference in the pages that explain the model.

docs/model.md explains the model as built and cites the code it describes
(``events.talk_and_hear``, ``MarketModel.begin_step``, ``relsim/market/kernels.py``);
docs/odd.md, docs/architecture.md and the README do the same. Code moves (three
sessions of speed work moved it between events, kernels, firms and the engines)
and a page that names a function that no longer exists, or a file that is gone,
sends a reader nowhere. These tests check three kinds of name:

* a dotted name in backticks (``module.function``, ``module.Class.method``,
  ``Class.method``, ``relsim.x``) resolves in relsim: a module of the package
  (named by the tail of its dotted name: ``events``, ``engines.arrays``), then an
  attribute, a method, a class's field or an attribute its code sets on ``self``;
  a scenario field path (``behaviour.trust_loss``, ``segments[].need_rate``,
  ``strategy.price``) must be a field of the schema;
* a path to a file of the repository (``relsim/market/kernels.py``,
  ``market/events.py``, ``engines/arrays.rounds``, ``tests/test_odd.py``) exists, and a
  bare file name in backticks (``fromlog.py``) is the name of one;
* a lone snake_case name in backticks (``talk_and_hear``, ``weekly_needs``) occurs
  in the code, the tests, the benchmarks or the scripts.

Names that are not code (a library's, a variable of an example, a field that was
retired and is named as history) are listed below with the reason.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from functools import cache
from pathlib import Path

import pytest

import relsim
from relsim.scenario.strategies import Strategy
from tests.test_odd import scenario_fields

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("docs/model.md", "docs/odd.md", "docs/architecture.md", "README.md", "docs/validation.md",
         "docs/teaching.md", "docs/compare-report.md")

#: heads of dotted names that are other libraries' or the standard library's, not relsim's
EXTERNAL = {"np", "numpy", "pd", "pandas", "simpy", "mesa", "networkx", "scipy", "numba", "math", "gc", "time",
            "importlib", "optuna", "env", "tool", "core"}
#: dotted names in backticks that are not a code location, with why
NOT_CODE = {
    "module.function": "the convention itself (docs/model.md, Conventions)",
    "module.Class.method": "the convention itself",
    "agents.Customer.m": "the convention: a method m of a customer",
    "dyad.source": "the dyad's source, an array of CustomerState (state.source)",
    "model.rng": "Mesa's own generator on the model (set by mesa.Model)",
    "recorder.rows": "an attribute of the model's Recorder instance",
    "firm.price": "an attribute of a Firm instance",
    "comparison.differences": "a method of a Comparison instance (studies.compare.Comparison)",
    "comparison.profit_bridge": "a method of a Comparison instance",
    "new_customers.cumsum": "pandas, on the steps table's column",
    "block.dtype": "numpy, on a variable of the architecture's example",
    "behaviour.w_reward": "a field retired on 2026-11-30, named as history (docs/model.md §3.2)",
}
#: lone snake_case names that occur in no source file, with why
NOT_IN_SOURCE = {
    "draw_basket": "a Market method that no model had, named as history (docs/architecture.md)",
}
#: file-name endings: a dotted token ending so is a file name, not a code location
FILE_ENDINGS = ("py", "md", "sh", "db", "toml", "csv", "json", "parquet", "html", "png", "txt", "ipynb", "svg",
                "yaml", "xlsx")


#: modules whose import does work (a warm-up run and a frozen garbage-collector baseline): not imported here
NOT_IMPORTED = {"relsim.studies._warm_worker"}


@cache
def modules() -> dict[str, list[object]]:
    """Every relsim module by each tail of its dotted name (``events``, ``market.events``, ...)."""
    found: dict[str, list[object]] = {"relsim": [relsim]}
    for info in pkgutil.walk_packages(relsim.__path__, "relsim."):
        if info.name in NOT_IMPORTED:
            continue
        module = importlib.import_module(info.name)
        parts = info.name.split(".")
        for start in range(len(parts)):
            found.setdefault(".".join(parts[start:]), []).append(module)
    return found


@cache
def classes() -> dict[str, list[type]]:
    """Every class defined in relsim, by name."""
    found: dict[str, list[type]] = {}
    for listed in modules().values():
        for module in listed:
            for name, value in vars(module).items():
                if inspect.isclass(value) and value.__module__.startswith("relsim") and value not in found.get(
                        name, []):
                    found.setdefault(name, []).append(value)
    return found


@cache
def fields() -> frozenset[str]:
    """Every scenario field path without ``[]`` (``segments.need_rate``) and each dotted tail of it
    (``network.mean_degree`` of ``market.network.mean_degree``); ``strategy.``/``levers.`` + a lever."""
    paths = {path.replace("[]", "") for path in scenario_fields()}
    paths |= {".".join(path.split(".")[start:]) for path in list(paths) for start in range(1, path.count("."))}
    paths |= {f"{head}.{name}" for name in Strategy.model_fields for head in ("strategy", "levers")}
    return frozenset(paths)


SECTIONS = {"market", "behaviour", "word_of_mouth", "churn", "operations", "costs", "segments", "firms",
            "suppliers", "distributors", "alliances", "population", "network", "strategy", "levers"}


def _sets_on_self(cls: type, name: str) -> bool:
    """Whether the code of ``cls`` or of a relsim base sets or declares ``name`` on its instances."""
    for base in cls.__mro__:
        if not base.__module__.startswith("relsim"):
            continue
        if name in getattr(base, "model_fields", {}) or name in getattr(base, "__annotations__", {}):
            return True
        try:
            source = inspect.getsource(base)
        except (OSError, TypeError):
            continue
        if re.search(rf"self\.{name}\b\s*(?::[^=\n]*)?=|^\s+{name}\s*:", source, flags=re.MULTILINE):
            return True
    return False


#: what ``_member`` returns for a name that is not there, and for one whose value is not followed
MISSING, UNFOLLOWED = object(), object()


def _member(owner: object, name: str) -> object:
    """``owner``'s member ``name``; ``UNFOLLOWED`` for an attribute its instances get (its type is not
    known here), ``MISSING`` for none."""
    if hasattr(owner, name):
        return getattr(owner, name)
    if inspect.isclass(owner):
        return UNFOLLOWED if _sets_on_self(owner, name) else MISSING
    if inspect.ismodule(owner):   # an attribute the module's classes set on their instances (model.aware)
        own = [c for c in vars(owner).values() if inspect.isclass(c) and c.__module__ == owner.__name__]
        return UNFOLLOWED if any(_sets_on_self(c, name) for c in own) else MISSING
    return MISSING


def _resolves(owner: object, rest: list[str]) -> bool:
    for name in rest:
        member = _member(owner, name)
        if member is MISSING:
            return False
        if member is UNFOLLOWED:
            return True
        owner = member
    return True


def resolves(dotted: str) -> bool | None:
    """Whether a dotted name resolves in relsim (None: it is not relsim's, see ``EXTERNAL``)."""
    parts = dotted.split(".")
    if parts[0] in EXTERNAL:
        return None
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in modules():
            return any(_resolves(module, parts[cut:]) for module in modules()[head])
    if parts[0] in classes():
        return any(_resolves(cls, parts[1:]) for cls in classes()[parts[0]])
    return False


def backticked(page: str):
    """``(line number, text)`` of every backticked span of a page."""
    for number, line in enumerate((ROOT / page).read_text(encoding="utf-8").splitlines(), 1):
        for match in re.finditer(r"`([^`\n]+)`", line):
            yield number, match.group(1)


def dotted_names(text: str) -> list[str]:
    text = text.replace("[]", "")
    names = re.findall(r"(?<![\w/.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)", text)
    return [name for name in names if not name.endswith(tuple("." + ending for ending in FILE_ENDINGS))]


def unresolved_names(page: str) -> list[str]:
    bad = []
    for number, text in backticked(page):
        for name in dotted_names(text):
            if name in NOT_CODE or name in fields():
                continue
            if name.split(".")[0] in SECTIONS and name not in modules() and resolves(name) is False:
                bad.append(f"{page}:{number}: {name} (no such scenario field)")
            elif resolves(name) is False:
                bad.append(f"{page}:{number}: {name}")
    return bad


@pytest.mark.parametrize("page", PAGES)
def test_every_dotted_code_name_in_the_docs_exists(page):
    bad = unresolved_names(page)
    assert not bad, "code named in the docs that relsim does not have:\n" + "\n".join(bad)


def test_the_name_check_sees_a_moved_function_and_a_retired_field():
    assert resolves("events.talk_and_hear") and resolves("MarketModel.begin_step")
    assert resolves("kernels.sell_and_record") and resolves("model.aware") and resolves("Population.hear")
    assert resolves("engines.arrays.ArrayPopulation._place_orders") and resolves("relsim.simulate")
    assert resolves("events.talk_and_listen") is False          # no such event
    assert resolves("kernels.sell_record") is False             # a kernel renamed
    assert resolves("MarketModel.phase_three") is False         # a method of no class
    assert resolves("calibration.scenario_data") is False       # a module's function that is a method
    assert resolves("np.add.reduce") is None                    # numpy's, not checked
    assert "behaviour.trust_loss" in fields() and "segments.need_rate" in fields()
    assert "behaviour.trust_losses" not in fields() and "network.mean_degree" in fields()


PATH = re.compile(r"(?<![\w/.-])((?:relsim|tests|benchmarks|scripts|docs|examples|scenarios|experiments|market|studies|"
                  r"scenario|util|calibration|validation|engines)/[\w./-]*\w)")
#: where a path may be relative to: the repository, the package, its market, the docs
BASES = ("", "relsim/", "relsim/market/", "docs/")


def path_exists(path: str) -> bool:
    """Whether ``path`` names a file or folder of the repository: as written, as a module without its
    ``.py`` (``studies/compare``) or as a module and a name in it (``engines/arrays.rounds``)."""
    folder, _, last = path.rpartition("/")
    candidates = [path, path + ".py"]
    if "." in last and last.rsplit(".", 1)[-1] not in FILE_ENDINGS:
        candidates.append(f"{folder}/{last.split('.')[0]}.py")
    return any((ROOT / base / candidate).exists() for base in BASES for candidate in candidates)


def missing_paths(page: str) -> list[str]:
    bad = []
    for number, line in enumerate((ROOT / page).read_text(encoding="utf-8").splitlines(), 1):
        for path in PATH.findall(line):
            if any(part.isupper() for part in path.split("/")):   # a placeholder: .../NAME/...
                continue
            if not path_exists(path):
                bad.append(f"{page}:{number}: {path}")
    return bad


@cache
def repository_file_names() -> frozenset[str]:
    return frozenset(path.name for folder in ("relsim", "tests", "benchmarks", "scripts", "docs", "examples")
                     for path in (ROOT / folder).rglob("*") if "__pycache__" not in path.parts)


def missing_file_names(page: str) -> list[str]:
    """Bare file names in backticks (``fromlog.py``) that no file of the repository has."""
    return [f"{page}:{number}: {text}" for number, text in backticked(page)
            if re.fullmatch(r"[\w-]+\.(py|sh|ipynb)", text) and text not in repository_file_names()]


@pytest.mark.parametrize("page", PAGES)
def test_every_repository_path_in_the_docs_exists(page):
    bad = missing_paths(page) + missing_file_names(page)
    assert not bad, "paths named in the docs that do not exist:\n" + "\n".join(bad)


def test_the_path_check_sees_a_missing_file():
    assert PATH.findall("see relsim/market/kernels.py and market/events.py.") == [
        "relsim/market/kernels.py", "market/events.py"]
    assert path_exists("market/events.py") and path_exists("engines/arrays.rounds")
    assert path_exists("studies/compare") and path_exists("relsim/data/cdnow/")
    assert not path_exists("calibration/calibration.py") and not path_exists("engines/array.rounds")
    assert "fromlog.py" in repository_file_names() and "calibration.py" not in repository_file_names()


@cache
def source_words() -> frozenset[str]:
    """Every identifier in the code, tests, benchmarks, scripts and pyproject, plus the steps table's
    columns that are made from names (``new_paid``, ``churned_lapsed``, ``rung_partner``)."""
    from relsim.market import metrics
    text = [path.read_text(encoding="utf-8") for folder in ("relsim", "tests", "benchmarks", "scripts")
            for path in (ROOT / folder).rglob("*")
            if path.suffix in (".py", ".sh", ".toml") and path != Path(__file__).resolve()]
    text.append((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    words = set(re.findall(r"[A-Za-z_]\w*", "\n".join(text)))
    words |= set(metrics._NEW_KEYS.values()) | {key for _, key in metrics._CHURNED_KEYS} | set(metrics._RUNG_KEYS)
    return frozenset(words)


def unknown_words(page: str) -> list[str]:
    bad = []
    for number, text in backticked(page):
        token = text.strip().removesuffix("()")
        if re.fullmatch(r"[a-z_][a-z0-9]*(?:_[a-z0-9]+)+", token) and token not in source_words() \
                and token not in NOT_IN_SOURCE:
            bad.append(f"{page}:{number}: {token}")
    return bad


@pytest.mark.parametrize("page", PAGES)
def test_every_lone_code_word_in_the_docs_occurs_in_the_source(page):
    bad = unknown_words(page)
    assert not bad, "names in the docs that occur nowhere in the code, tests or scripts:\n" + "\n".join(bad)


def test_the_word_check_sees_a_renamed_kernel():
    assert "talk_and_hear" in source_words() and "weekly_needs" in source_words()
    assert "new_paid" in source_words() and "churned_pruned" in source_words()
    assert "talk_then_hear" not in source_words()


def _section(text: str, heading: str) -> str:
    """The text of the section of docs/model.md that starts with ``heading``, to the next heading."""
    start = text.index(heading)
    end = re.search(r"^#{1,4} ", text[start + len(heading):], flags=re.MULTILINE)
    return text[start:start + len(heading) + (end.start() if end else len(text))]


def test_the_step_the_streams_and_the_population_methods_are_those_of_the_code():
    """docs/model.md §2.1 names ``MarketModel.PHASES`` in order, §6 and the README's
    reproducibility section the streams of ``model.STREAMS`` in order, and §10.1's table every
    method of ``interfaces.Population``."""
    from relsim.market.interfaces import Population
    from relsim.market.model import STREAMS, MarketModel
    model_md = (ROOT / "docs/model.md").read_text(encoding="utf-8")
    step = _section(model_md, "### 2.1 One step")
    named = re.findall(r"`(\w+)` \(\d", step)   # `begin_step` (0), `partners_deliver` (1), ...
    assert named == list(MarketModel.PHASES), named
    streams = _section(model_md, "## 6. Random numbers")
    assert re.findall(r"^\| `(\w+)` \|", streams, flags=re.MULTILINE) == list(STREAMS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"a stream per purpose\n?\s*\(([^)]*)\)", readme)
    assert listed and [s.strip() for s in listed.group(1).split(",")] == list(STREAMS)
    table = _section(model_md, "### 10.1 The population interface")
    methods = {name for name, item in vars(Population).items()
               if callable(item) and not name.startswith("_")}
    missing = [name for name in sorted(methods) if f"`{name}(" not in table]
    assert len(methods) > 15 and not missing, f"Population methods not in docs/model.md §10.1: {missing}"


#: a reference to a section of docs/model.md: "§3.14", "Section 10.7", "§1.4–1.6", "Sections 5.2, 5.2b"
_SECTION_REFERENCE = r"(?:§|Sections? )(\d+(?:\.\d+)*[a-z]?)((?:(?:–|, | and )\d+\.\d+(?:\.\d+)*[a-z]?)*)"


def model_sections() -> set[str]:
    text = (ROOT / "docs/model.md").read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} (\d+(?:\.\d+)*[a-z]?)\.? ", text, flags=re.MULTILINE))


def missing_sections(path: Path, own: bool) -> list[str]:
    """References to sections of docs/model.md that it does not have: every ``§n``/``Section n`` of
    model.md and odd.md (``own``: odd.md cites model.md by section), elsewhere those after ``model.md``."""
    text = path.read_text(encoding="utf-8")
    pattern = _SECTION_REFERENCE if own else r"model\.md,? ?" + _SECTION_REFERENCE
    sections = model_sections()
    bad = []
    for match in re.finditer(pattern, text):
        cited = [match.group(1), *re.findall(r"\d+(?:\.\d+)*[a-z]?", match.group(2))]
        line = text.count("\n", 0, match.start()) + 1
        bad += [f"{path.relative_to(ROOT)}:{line}: §{number}" for number in cited if number not in sections]
    return bad


def test_every_section_of_model_md_cited_exists():
    """docs/model.md's own cross-references, odd.md's (which cites model.md by section) and every
    "model.md §n" in the docs, the code, the tests and the scripts name a section model.md has."""
    assert {"2.1", "3.14", "5.2b", "10.7"} <= model_sections()
    bad = missing_sections(ROOT / "docs/model.md", own=True) + missing_sections(ROOT / "docs/odd.md", own=True)
    others = [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "benchmarks/README.md",
              *(path for folder in ("relsim", "tests", "scripts") for path in (ROOT / folder).rglob("*.py"))]
    for path in others:
        if path.name not in ("model.md", "odd.md"):
            bad += missing_sections(path, own=False)
    assert not bad, "sections of docs/model.md cited that it does not have:\n" + "\n".join(bad)
