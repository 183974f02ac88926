"""Same scenario + seed: identical tables, in this process and in two others."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pandas.testing as pdt
import pytest

from relsim import simulate
from tests.conftest import small


def test_same_seed_same_tables_in_process():
    scenario = small(customers=300, weeks=20)
    first, second = simulate(scenario, seed=5), simulate(scenario, seed=5)
    pdt.assert_frame_equal(first.steps, second.steps)
    pdt.assert_frame_equal(first.customers, second.customers)
    pdt.assert_frame_equal(first.cohorts, second.cohorts)


def test_different_seed_different_tables():
    scenario = small(customers=300, weeks=20)
    assert not simulate(scenario, seed=1).steps.equals(simulate(scenario, seed=2).steps)


@pytest.mark.parametrize("engine", ["agents", "arrays"])
def test_identical_tables_from_two_separate_processes(tmp_path, root, engine):
    outputs = []
    for attempt in ("a", "b"):
        out = tmp_path / attempt
        # PYTHONHASHSEED differs between the two processes on purpose: nothing may
        # depend on hash order.
        env = {"PYTHONHASHSEED": "1" if attempt == "a" else "2", "PATH": "", "HOME": str(tmp_path)}
        subprocess.run([sys.executable, "-m", "relsim.cli", "run", str(root / "scenarios" / "b2b.toml"),
                        "--seed", "3", "--weeks", "30", "--engine", engine, "--out", str(out)],
                       check=True, cwd=root, env=env, capture_output=True)
        outputs.append(out)
    for table in ("steps", "customers", "cohorts"):
        pdt.assert_frame_equal(pd.read_parquet(outputs[0] / f"{table}.parquet"),
                               pd.read_parquet(outputs[1] / f"{table}.parquet"))
        assert (outputs[0] / f"{table}.csv").read_bytes() == (outputs[1] / f"{table}.csv").read_bytes()


def test_identical_tables_with_and_without_compiled_code_cached(tmp_path, root):
    """The array engine's compiled code (numba) compiled afresh in one process and loaded
    from numba's cache in another gives the same tables."""
    cache = tmp_path / "numba-cache"
    outputs = []
    for attempt in ("compiled", "cached"):
        out = tmp_path / attempt
        env = {"PATH": "", "HOME": str(tmp_path), "NUMBA_CACHE_DIR": str(cache)}
        subprocess.run([sys.executable, "-m", "relsim.cli", "run", str(root / "scenarios" / "ecommerce.toml"),
                        "--seed", "4", "--weeks", "12", "--customers", "2000", "--engine", "arrays",
                        "--out", str(out)], check=True, cwd=root, env=env, capture_output=True)
        outputs.append(out)
        if attempt == "compiled":
            assert any(cache.rglob("*.nbc")), "the first process filled numba's cache"
    for table in ("steps", "customers", "cohorts"):
        assert (outputs[0] / f"{table}.csv").read_bytes() == (outputs[1] / f"{table}.csv").read_bytes()


def test_a_runs_summary_is_its_steps_summarized_and_a_fresh_copy_each_time():
    """``RunResult.summary()`` returns the summary ``simulate`` computed for its finite check (no second
    pass over the steps in the studies' workers): it equals ``summarize(steps)`` exactly, and a caller
    adding a column (the sweep's ``focal``) does not change the next call's table."""
    from relsim.market.metrics import summarize
    result = simulate(small(customers=300, weeks=12), seed=3)
    first = result.summary()
    pdt.assert_frame_equal(first, summarize(result.steps), check_exact=True)
    first.insert(1, "focal", True)
    first.loc[:, "customers_end"] = -1
    pdt.assert_frame_equal(result.summary(), summarize(result.steps), check_exact=True)
