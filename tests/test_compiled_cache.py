"""numba's cache follows the rules (relsim/market/jit.py, "The cache follows the rules").

numba checks a cached function against a hash of the one file that defines it, so a kernel of
``kernels.py`` that calls a rule of ``rules.py`` kept the old rule's machine code after an edit of
``rules.py`` alone. Every compiled function of the package must be cached under the stamp of all
compiled sources together."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numba
import pytest
from numba.core.registry import CPUDispatcher

from relsim.market import desk, jit, kernels

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="NUMBA_DISABLE_JIT=1: nothing is compiled or cached")


def _dispatchers():
    found = []
    for module in (kernels, desk):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher) and value.__module__ == module.__name__:
                found.append((f"{module.__name__}.{name}", value))
    return found


def test_the_kernels_and_the_desk_are_all_found():
    assert len(_dispatchers()) >= 10, [name for name, _ in _dispatchers()]


@pytest.mark.parametrize(("name", "dispatcher"), _dispatchers(), ids=lambda item: item if isinstance(item, str) else "")
def test_every_compiled_function_is_stamped_with_all_compiled_sources(name, dispatcher):
    locator = dispatcher._cache._impl._locator     # numba's cache of this function, as it will be checked
    assert isinstance(locator, jit._StampAllSources), (name, type(locator))
    assert locator.get_source_stamp() == jit.sources_digest()


def test_the_stamp_changes_with_any_compiled_source(tmp_path):
    copies = []
    for path in jit.COMPILED_SOURCES:
        shutil.copy(path, tmp_path / path.name)
        copies.append(tmp_path / path.name)
    copies_t = tuple(copies)
    assert jit.sources_digest(copies_t) == jit.sources_digest()
    for copy in copies:
        before = copy.read_bytes()
        copy.write_bytes(before + b"\n# an edit\n")
        assert jit.sources_digest(copies_t) != jit.sources_digest(), copy.name
        copy.write_bytes(before)
    assert jit.sources_digest(copies_t) == jit.sources_digest()


def test_a_package_imported_through_a_link_is_still_stamped(tmp_path):
    """Imported through a symbolic link to the project (a linked checkout, macOS's /tmp), the
    kernels still carry the stamp of all compiled sources (paths compared with links resolved)."""
    link = tmp_path / "linked"
    link.symlink_to(Path(jit.__file__).resolve().parents[2], target_is_directory=True)
    probe = ("from relsim.market import kernels, jit; "
             "print(type(kernels.choose._cache._impl._locator).__name__, "
             "kernels.choose._cache._impl._locator.get_source_stamp() == jit.sources_digest())")
    env = {**os.environ, "PYTHONPATH": str(link), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["_UserDirLocator", "True"], done.stdout + done.stderr


@pytest.mark.parametrize("classes, warns", [
    ("numba.core.caching.InTreeCacheLocator", True),
    ("relsim.market.jit._InTreeLocator,numba.core.caching.InTreeCacheLocator", False),
    ("", False),
])
def test_a_locator_override_without_ours_warns(classes, warns):
    """``NUMBA_CACHE_LOCATOR_CLASSES`` replaces numba's locator list, ours included; naming none of
    ours, a kernel's cache would follow its own file only (an edited rule could run stale), so the
    import warns; naming one of ours, or unset, it does not. Fails if the check is dropped or
    warns always."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jit._check_locator_override(classes)
    assert any("NUMBA_CACHE_LOCATOR_CLASSES" in str(w.message) for w in caught) is warns


def test_importing_the_kernels_with_such_an_override_warns():
    """The check runs when ``relsim.market.jit`` is imported (a fresh process with the variable set):
    fails if the module no longer calls it."""
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "numba.core.caching.InTreeCacheLocator"}
    out = subprocess.run([sys.executable, "-W", "always", "-c", "import relsim.market.kernels"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and "NUMBA_CACHE_LOCATOR_CLASSES" in out.stderr, out.stderr
