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

Compiled code never draws random numbers: numba's ``np.random`` is not a
numpy ``Generator`` and would break the reproducibility of a seed. Kernels
take the uniforms, normals or handling times drawn by the run's streams as
arguments (or none, as the desk).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import numba
from numba.extending import overload

from relsim.market import rules


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
