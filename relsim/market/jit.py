"""Compiled code: one decorator over numba, with the compiled code cached on disk.

``@jit`` is ``numba.njit(cache=True)``: a function is compiled on its first
call for the argument types it is called with, and the machine code is kept
in numba's cache (``__pycache__`` next to the module, or
``NUMBA_CACHE_DIR``), so a later process loads it instead of compiling again
(benchmarks/README.md gives the first-call costs). The decorated function's
plain Python form stays available as ``.py_func`` (numba's attribute), which
is what runs under ``NUMBA_DISABLE_JIT=1``.

The behaviour rules stay the single source: :func:`compiled_rule` compiles a
function of :mod:`relsim.market.rules` as it is written (its numeric helpers
``clip``, ``exp``, ``sigmoid`` resolve to their scalar forms,
``rules.SCALAR_FORMS``), so a kernel calls the rule, never a copy of its
equation; ``tests/test_jit.py`` checks that every compiled rule equals its
Python form.

**The cache follows the rules.** numba decides whether cached machine code is
still fresh from a hash of the one file that defines the compiled function; a
kernel in ``kernels.py`` that calls a rule of ``rules.py`` would then keep the
old rule's code after an edit of ``rules.py`` alone (seen 2026-11-30: a
mutation of a rule left the array engine unchanged). For the functions of this
package's compiled modules (:data:`COMPILED_SOURCES`) the freshness stamp is a
hash of all of them together (:func:`sources_digest`), so editing any one
recompiles every kernel that could depend on it; the cache stays where numba
keeps it (``__pycache__`` or ``NUMBA_CACHE_DIR``). numba's
``NUMBA_CACHE_LOCATOR_CLASSES``, when it names none of this module's locators,
bypasses them: importing this module then warns.

Compiled code never draws random numbers: numba's ``np.random`` is not a
numpy ``Generator`` and would break the reproducibility of a seed. Kernels
take the uniforms, normals or handling times drawn by the run's streams as
arguments (or none, as the desk).
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numba
from numba.core import caching, config
from numba.extending import overload

from relsim.market import rules

#: The modules whose source compiled code is built from: the rules the kernels call, the kernels,
#: the compiled desk and this module (the scalar forms). An edit to any of them makes every cached
#: function of these modules stale.
COMPILED_SOURCES = tuple(Path(__file__).with_name(name) for name in ("rules.py", "kernels.py", "desk.py", "jit.py"))


def sources_digest(paths: tuple[Path, ...] = COMPILED_SOURCES) -> bytes:
    """SHA-256 over the contents of ``paths`` (names and bytes, in order): the freshness stamp
    numba's cache checks for this package's compiled functions."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _numba_locator(name: str) -> Any:
    """numba's locator class ``name`` (older releases, e.g. 0.60, called it ``_name``)."""
    return getattr(caching, name, None) or getattr(caching, "_" + name)


_NUMBA_USER_DIR: Any = _numba_locator("UserProvidedCacheLocator")
_NUMBA_IN_TREE: Any = _numba_locator("InTreeCacheLocator")
_NUMBA_USER_WIDE: Any = _numba_locator("UserWideCacheLocator")


def _ours(py_file: str) -> bool:
    """Whether ``py_file`` is one of :data:`COMPILED_SOURCES` (links resolved on both sides: a
    package imported through a symbolic link is still ours)."""
    return os.path.realpath(py_file) in {os.path.realpath(path) for path in COMPILED_SOURCES}


class _StampAllSources:
    """Mixin for numba's cache locators: the stamp is :func:`sources_digest` for our modules."""

    def get_source_stamp(self) -> bytes:
        return sources_digest()


class _UserDirLocator(_StampAllSources, _NUMBA_USER_DIR):
    """``NUMBA_CACHE_DIR`` set: numba's own locator for it, with the stamp of all compiled sources."""

    @classmethod
    def from_function(cls, py_func, py_file):
        return super().from_function(py_func, py_file) if _ours(py_file) else None


class _InTreeLocator(_StampAllSources, _NUMBA_IN_TREE):
    """``__pycache__`` next to the module, with the stamp of all compiled sources."""

    @classmethod
    def from_function(cls, py_func, py_file):
        return super().from_function(py_func, py_file) if _ours(py_file) else None


class _UserWideLocator(_StampAllSources, _NUMBA_USER_WIDE):
    """The user's cache directory (``__pycache__`` not writable), with the stamp of all compiled sources."""

    @classmethod
    def from_function(cls, py_func, py_file):
        return super().from_function(py_func, py_file) if _ours(py_file) else None


# ahead of numba's own locators, in numba's order: NUMBA_CACHE_DIR, __pycache__, the user's directory
for _locator in (_UserWideLocator, _InTreeLocator, _UserDirLocator):
    if _locator not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes.insert(0, _locator)


def _check_locator_override(classes: str) -> None:
    """Warn when ``NUMBA_CACHE_LOCATOR_CLASSES`` (``classes``) replaces numba's locators without one of
    ours: the cache of a kernel would then follow its own file only, and an edited rule could run
    with the old machine code."""
    if classes and not any(name.strip().rsplit(".", 1)[-1] in {"_UserDirLocator", "_InTreeLocator",
                                                               "_UserWideLocator"}
                           for name in classes.split(",")):
        warnings.warn(f"NUMBA_CACHE_LOCATOR_CLASSES={classes!r} replaces numba's cache locators, relsim's "
                      "too: a compiled kernel is then re-compiled only when its own file changes, not "
                      "when a rule it calls in relsim/market/rules.py does. After editing rules.py, "
                      "delete the cached *.nbi/*.nbc files or unset the variable "
                      "(relsim.market.jit, \"The cache follows the rules\").", RuntimeWarning, stacklevel=2)


_check_locator_override(getattr(config, "CACHE_LOCATOR_CLASSES", ""))   # older numba (0.60) has no such variable


def jit[F: Callable[..., Any]](function: F) -> F:
    """Compile ``function`` in nopython mode on first call, cached on disk."""
    return cast("F", numba.njit(cache=True)(function))


def jit_typed(signature: str) -> Callable[[Any], Any]:
    """Compile a helper for one ``signature`` (numba's string form) when its module is
    imported (or load it from the cache).

    For small helpers that kernels call with constants: without a signature numba
    compiles one version per literal value it is called with (an event kind, a
    flag), which multiplies the first-call compile time.
    """
    def decorate(function):
        return numba.njit(signature, cache=True)(function)
    return decorate


def _scalar_form(scalar: Callable[..., Any]) -> Callable[..., Any]:
    """numba's typing function for a helper: the helper's scalar form, whatever the types."""
    def typer(*args):
        return scalar
    return functools.update_wrapper(typer, scalar)   # the same signature as the scalar form


_SCALAR_FORMS: dict[Any, Any] = rules.SCALAR_FORMS
for _helper, _scalar in _SCALAR_FORMS.items():
    # not cached on its own: an overload is compiled into (and cached with) its caller
    overload(_helper)(_scalar_form(_scalar))


@functools.cache
def compiled_rule(rule: Callable[..., Any]) -> Callable[..., Any]:
    """The compiled (numba) form of a rule of :mod:`relsim.market.rules`, on scalars;
    the rule itself is the Python form (a numeric helper compiles as its scalar form)."""
    return jit(_SCALAR_FORMS.get(rule, rule))
