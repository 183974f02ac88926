"""Compiled code: one decorator over numba, with the compiled code cached on disk.

``@jit`` is ``numba.njit(cache=True)``: a function is compiled on its first
call for the argument types it is called with, and the machine code is kept
in numba's cache (``__pycache__`` next to the module, or
``NUMBA_CACHE_DIR``), so a later process loads it instead of compiling again
(benchmarks/README.md gives the first-call costs). The decorated function's
plain Python form stays available as ``.py_func`` (numba's attribute), which
is what runs under ``NUMBA_DISABLE_JIT=1``.

Compiled code never draws random numbers: numba's ``np.random`` is not a
numpy ``Generator`` and would break the reproducibility of a seed. Kernels
take the uniforms, normals or handling times drawn by the run's streams as
arguments (or none, as the desk).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numba


def jit[F: Callable[..., Any]](function: F) -> F:
    """Compile ``function`` in nopython mode on first call, cached on disk."""
    return cast("F", numba.njit(cache=True)(function))
