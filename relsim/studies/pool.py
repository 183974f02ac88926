"""Process pools of the studies: forkserver workers that start with relsim loaded and warm.

Every study that runs simulations on several cores (``relsim compare``, its
uncertainty runs, ``relsim sweep``, ``relsim optimize``, ``relsim validate``)
takes its pool from :func:`process_pool`. The workers come from a
*forkserver* — forking a process that holds threads (rich's progress bar,
BLAS) can deadlock, so not plain ``fork`` — and the forkserver first imports
:mod:`relsim.studies._warm_worker`, which loads the model (pandas, Mesa,
SimPy) and the compiled kernels once. A worker forked from it starts with all
of that in memory instead of paying it again: about 3 s of CPU for the
imports and 0.5–1 s for the kernels per worker on the reference machine
(benchmarks/README.md). The runs themselves are unchanged (same streams,
same tables).

>>> with process_pool(2) as pool:
...     list(pool.map(abs, [-1, 2]))
[1, 2]
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import sys
from concurrent.futures import ProcessPoolExecutor

#: Imported once by the forkserver before it forks any worker.
PRELOAD = ["relsim.studies._warm_worker"]


def worker_context() -> multiprocessing.context.BaseContext:
    """The forkserver context, its server preloading relsim (set before the server first starts; a server
    already running in this process keeps what it has)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_server() -> None:
    """Start the warm forkserver now, without waiting for it.

    The server loads relsim and its kernels (a few seconds of CPU) in its own
    process, so a command that calls this before its own imports (``relsim
    compare`` imports its report's plotting, ``relsim sweep`` the sweep and
    its store) has both done side by side on two cores; its first pool then
    finds the server ready instead of starting it. Calling it again, or
    making a pool afterwards, reuses the same server.
    """
    from multiprocessing import forkserver

    worker_context()
    forkserver.ensure_running()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes forked from the warm forkserver."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=worker_context())


def loaded(name: str) -> bool:
    """Whether module ``name`` is loaded in this process; asked of a worker, whether it was forked warm
    (``pool.submit(loaded, "numba").result()``)."""
    return name in sys.modules
