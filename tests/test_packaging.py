"""relsim as an installed library: package data, one version, light imports, one error base.

The slow test at the end builds the wheel, installs it into a fresh virtual
environment (its dependencies from the package index, nothing shared with the
test's environment) and runs the README's commands from an empty folder.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

import relsim
from relsim.studies.store import code_version
from relsim.util.errors import RelsimError
from relsim.util.shipped import shipped_folder, shipped_names, shipped_path
from relsim.util.version import __version__

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "relsim"


# --------------------------------------------------------------------------
# shipped files
# --------------------------------------------------------------------------
def test_top_level_folders_are_the_package_data():
    """scenarios/ and experiments/ at the top of the repository are the package's
    folders (symbolic links), so there is one copy of each shipped file."""
    assert (ROOT / "scenarios").resolve() == shipped_folder("scenario").resolve()
    assert (ROOT / "experiments").resolve() == shipped_folder("experiment").resolve()
    assert shipped_folder("scenario").resolve().is_relative_to(PACKAGE.resolve())
    assert shipped_folder("experiment").resolve().is_relative_to(PACKAGE.resolve())


def test_shipped_names_and_paths():
    assert shipped_names("scenario") == sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert {"ecommerce", "b2b", "alliance", "classroom", "services"} <= set(shipped_names("scenario"))
    assert shipped_names("experiment") == sorted(
        p.parent.name for p in (ROOT / "experiments").glob("*/experiment.toml"))
    for name in shipped_names("experiment"):
        path = shipped_path("experiment", name)
        assert path is not None and (path.parent / "README.md").is_file()
    assert shipped_path("scenario", "../pyproject") is None
    assert shipped_path("scenario", "nonexistent") is None


def test_package_data_covers_every_shipped_file():
    """Every file in the shipped folders matches a package-data pattern of pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["relsim"]
    for kind in ("scenario", "experiment"):
        for path in shipped_folder(kind).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(PACKAGE).as_posix()
                assert any(Path(relative).match(p) and relative.count("/") == p.count("/")
                           for p in patterns), f"{relative} is not package data"


# --------------------------------------------------------------------------
# one version
# --------------------------------------------------------------------------
def test_one_place_holds_the_version():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "relsim.util.version.__version__"}
    assert relsim.__version__ == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                   check=True, capture_output=True)


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_code_version_ignores_the_users_repository(tmp_path):
    """relsim installed in a virtual environment inside the user's own git repository."""
    user = tmp_path / "my-study"
    package = user / ".venv" / "lib" / "site-packages" / "relsim"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (user / "pyproject.toml").write_text('[project]\nname = "my-study"\n')
    _git(user, "init", "-q")
    _git(user, "add", "-A")
    _git(user, "commit", "-qm", "the user's work")
    assert code_version(package) == __version__
    # even a repository whose relsim/ folder is at the top, if the project is not relsim
    other = tmp_path / "other"
    (other / "relsim").mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "not-relsim"\n')
    _git(other, "init", "-q")
    _git(other, "add", "-A")
    _git(other, "commit", "-qm", "x", "--allow-empty")
    assert code_version(other / "relsim") == __version__
    # and no git at all
    assert code_version(tmp_path / "nowhere") == __version__


@needs_git
def test_code_version_of_a_relsim_checkout(tmp_path):
    checkout = tmp_path / "relsim-src"
    (checkout / "relsim").mkdir(parents=True)
    (checkout / "relsim" / "__init__.py").write_text("")
    (checkout / "pyproject.toml").write_text('[project]\nname = "relsim"\n')
    _git(checkout, "init", "-q")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-qm", "relsim")
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short=12", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert code_version(checkout / "relsim") == f"{__version__}+g{commit}"
    (checkout / "relsim" / "__init__.py").write_text("# changed\n")
    assert code_version(checkout / "relsim") == f"{__version__}+g{commit}.dirty"


# --------------------------------------------------------------------------
# light imports
# --------------------------------------------------------------------------
HEAVY = ("mesa", "simpy", "relsim.market.model")


def _loaded_after(code: str) -> list[str]:
    script = f"import sys\n{code}\nprint('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=ROOT, env=env).stdout.strip().splitlines()[-1]
    assert out.startswith("loaded:"), out
    return [m for m in out.removeprefix("loaded:").split(",") if m]


@pytest.mark.parametrize("module", ["relsim", "relsim.calibration", "relsim.calibration.transactions",
                                    "relsim.calibration.btyd", "relsim.cli"])
def test_imports_stay_light(module):
    assert _loaded_after(f"import {module}") == []


def test_help_does_not_load_the_model():
    code = ("from relsim.cli import main\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
            "    try:\n        main(['run', '--help'])\n    except SystemExit:\n        pass")
    assert _loaded_after(code) == []


# --------------------------------------------------------------------------
# one error base
# --------------------------------------------------------------------------
#: Exceptions defined in relsim that are not meant for users, and why.
INTERNAL: dict[str, str] = {}


def _all_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_every_error_class_derives_from_relsim_error():
    found = {}
    for name in _all_modules():
        try:
            module = importlib.import_module(name)
        except ImportError as error:   # the browser app without its extra
            assert name == "relsim.app", f"{name}: {error}"
            continue
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("relsim"):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    assert "relsim.scenario.errors.ScenarioError" in found and len(found) >= 8
    wrong = sorted(name for name, cls in found.items()
                   if not issubclass(cls, RelsimError) and name not in INTERNAL)
    assert not wrong, f"user-facing errors must derive from RelsimError (or be listed in INTERNAL): {wrong}"


# --------------------------------------------------------------------------
# the wheel, installed for real
# --------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], cwd: Path, timeout: float = 600, env: dict | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.packaging
def test_the_wheel_works_installed_elsewhere(tmp_path):
    """Build the wheel, install it with its dependencies into a fresh virtual environment
    (not --system-site-packages: nothing from this environment is visible), then run the
    README's commands from an empty folder inside a git repository of the user's own."""
    # 1. the wheel, built from a copy of the sources (no build/ or egg-info left in the repository)
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    if (ROOT / "LICENSE").exists():
        shutil.copy2(ROOT / "LICENSE", source / "LICENSE")
    shutil.copytree(PACKAGE, source / "relsim", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(dist)], cwd=source)
    wheel = next(dist.glob("relsim-*.whl"))
    assert wheel.name.startswith(f"relsim-{__version__}-")

    # 2. a fresh venv, inside the user's own git repository, with the wheel and its deps
    # (without PYTHONPATH: a checkout on it would make pip think relsim is installed already)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    user = tmp_path / "my-study"
    user.mkdir()
    venv = user / ".venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=user, env=env)
    python = venv / "bin" / "python"
    # --no-compile: pip would byte-compile every module of every dependency (thousands of files, most
    # never imported here; a large share of the install's CPU); Python compiles what is imported.
    # Nothing this test checks depends on it: pip logs a module that fails to compile and installs
    # it all the same, so a syntax error in relsim fails below, on import, either way.
    _run([str(python), "-m", "pip", "install", "-q", "--no-compile", f"relsim[app] @ {wheel.as_uri()}"],
         cwd=user, timeout=1200, env=env)
    if shutil.which("git"):
        (user / "notes.md").write_text("my study\n")
        _git(user, "init", "-q")
        _git(user, "add", "notes.md")
        _git(user, "commit", "-qm", "the user's own commit")
    work = user / "work"
    work.mkdir()
    relsim_command = str(venv / "bin" / "relsim")

    # the installed relsim is the one that runs, not this checkout
    where = _run([str(python), "-c", "import relsim; print(relsim.__file__)"], cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(venv), where
    # 3. the commands
    listed = _run([relsim_command, "scenarios"], cwd=work, env=env)
    for name in ("ecommerce", "b2b", "alliance", "classroom", "services"):
        assert re.search(rf"^{name}\s+\S", listed, re.M), listed
    assert "wom_seeding" in _run([relsim_command, "experiments"], cwd=work, env=env)
    assert __version__ in _run([relsim_command, "--version"], cwd=work, env=env)
    ran = _run([relsim_command, "run", "ecommerce", "--customers", "300", "--weeks", "8", "--out", "run"],
               cwd=work, env=env)
    assert "wrote tables and figures" in ran and (work / "run" / "summary.csv").is_file()
    library = _run([str(python), "-c", (
        "import importlib.metadata as md, relsim\n"
        "from relsim import load_scenario\n"
        "from relsim.studies.experiment import load_experiment, plan\n"
        "from relsim.studies.store import code_version\n"
        "from relsim.studies.sweep import sweep\n"
        "s = load_scenario('ecommerce')\n"
        "print('scenario', s.name, s.market.customers)\n"
        "assert md.version('relsim') == relsim.__version__\n"
        "print('version', code_version())\n"
        "for name in ('kotler_levels', 'retention_to_profit', 'strategies_by_scenario', 'wom_seeding'):\n"
        "    p = load_experiment(name)\n"
        "    print('experiment', name, len(p.runs))\n"
        "p = load_experiment('wom_seeding')\n"
        "small = p.experiment.model_copy(update={'replicates': 1, 'overrides': {\n"
        "    **p.experiment.overrides, 'market.customers': 200, 'market.weeks': 4}})\n"
        "outcome = sweep(plan(small, source='wom_seeding'), 'store', workers=1)\n"
        "print('swept', outcome)\n")], cwd=work, env=env)
    assert "scenario ecommerce 5000" in library
    assert f"version {__version__}\n" in library, library   # relsim's version, not the user's commit
    assert library.count("experiment ") == 4
    assert (work / "store" / "manifest.json").is_file()
    # the CLI sweep of an experiment that names a shipped scenario
    (work / "tiny.toml").write_text(
        'name = "tiny"\nscenario = "ecommerce"\nseed = 1\nreplicates = 1\n'
        '[overrides]\n"market.customers" = 200\n"market.weeks" = 4\n'
        '[[factors]]\npath = "strategy"\nlevels = ["transactional", "relationship"]\n')
    _run([relsim_command, "sweep", "tiny.toml", "--out", "tiny-store", "--workers", "1"], cwd=work, env=env)
    assert (work / "tiny-store" / "manifest.json").is_file()

    # 4. the app starts and serves its page
    port = _free_port()
    server = subprocess.Popen([relsim_command, "app", "ecommerce", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, page = time.monotonic() + 180, ""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode("utf-8", "replace")
                    break
            except OSError:
                time.sleep(1)
        assert page and "<html" in page.lower(), f"no page (exit {server.poll()})"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
