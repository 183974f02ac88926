"""The studies' process pools (``relsim.studies.pool``): workers forked warm."""

from __future__ import annotations

import subprocess
import sys


def test_a_pools_workers_start_with_relsim_and_the_kernels_loaded():
    """A worker of ``process_pool`` has the studies' run functions, Mesa and numba loaded before its first
    task, inherited from the forkserver (``_warm_worker``); fails if the preload is dropped. In a fresh
    process: a forkserver already running keeps the preload it started with."""
    code = ("from relsim.studies.pool import loaded, process_pool\n"
            "with process_pool(1) as pool:\n"
            "    print([pool.submit(loaded, m).result() for m in "
            "('relsim.studies.compare', 'mesa', 'numba', 'relsim.market.kernels')])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "[True, True, True, True]", out.stdout + out.stderr
