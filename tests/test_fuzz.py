"""Property-based fuzzing of relsim's inputs through the command line, in process (issue 14).

Scenario files, experiment files and transaction logs are mutated at random
(a field set to NaN, an infinity, a huge or negative number, a string, a
boolean, a nested table or list; a log's cells, columns or bytes changed) and
handed to ``relsim.cli.main``. Every case must end with exit 0 and finite
results, or exit 2 and a one-line message naming the file or the field —
never a traceback, never a partial output folder. The examples are
derandomized, so a CI run is reproducible; 340 cases in all (about 45 s on
one core).
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relsim.cli import main
from relsim.market.finite import SUMMARY_NAN_ALLOWED
from relsim.scenario.schema import set_dotted

ROOT = Path(__file__).resolve().parent.parent
def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def leaves(data, prefix=""):
    """Every dotted path to a leaf of ``data`` (list items as numbers)."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        path = f"{prefix}{key}"
        if isinstance(value, (dict, list)) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path


SCENARIO = tomllib.loads((ROOT / "scenarios" / "ecommerce.toml").read_text())
SCENARIO_PATHS = sorted(set(leaves(SCENARIO)) | {"market.snapshot_weeks", "market.network.mean_degree",
                                                 "market.step_weeks", "firms.0.levers.service_capacity",
                                                 "firms.0.levers.acquisition_budget"})

VALUES = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, 1e308, -1e308, 10**18, 2**63, 1e-300, True, False,
                     "", "0.4", "nan", "x" * 1000, [], [1, 2], [-1], [10**9], {}, {"a": {"b": 1}}, [[[]]]]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.text(max_size=20),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=4),
)


@contextlib.contextmanager
def captured():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        yield err


def check_outcome(code: int, err: str, names: list[str], out: Path) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        message = "\n".join(line for line in err.splitlines() if "error" in line) or err
        assert message.strip(), "exit 2 without a message"
        assert any(name in err for name in names), (names, err)
        assert not out.exists() or not any(p.name != ".relsim-outputs" for p in out.iterdir()) or \
            (out / ".relsim-outputs").exists(), f"partial output in {out}"


@fuzz(160)
@given(path=st.sampled_from(SCENARIO_PATHS), value=VALUES, engine=st.sampled_from(["agents", "arrays"]))
def test_fuzz_scenario_run(path, value, engine):
    data = tomllib.loads(tomli_w.dumps(SCENARIO))
    try:
        set_dotted(data, path, value)
    except Exception:   # the path no longer leads anywhere after an earlier change: nothing to test
        return
    folder = Path(tempfile.mkdtemp(prefix="relsim-fuzz-"))
    try:
        scenario = folder / "mutated.toml"
        scenario.write_text(tomli_w.dumps(data))
        out = folder / "out"
        with captured() as err:
            code = main(["run", str(scenario), "--customers", "50", "--weeks", "2", "--engine", engine,
                         "--out", str(out)])
        check_outcome(code, err.getvalue(), ["mutated.toml", path.split(".")[-1]], out)
        if code == 0:
            summary = pd.read_csv(out / "summary.csv")
            numbers = summary.select_dtypes("number").drop(columns=[c for c in SUMMARY_NAN_ALLOWED
                                                                    if c in summary], errors="ignore")
            assert np.isfinite(numbers.to_numpy(dtype=float)).all(), summary
        else:
            assert not out.exists(), "exit 2 left an output folder"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


EXPERIMENT = {
    "name": "fuzz", "scenario": "ecommerce", "seed": 1, "replicates": 2,
    "overrides": {"market.customers": 50, "market.weeks": 2},
    "factors": [{"path": "firms.0.levers.price", "low": 0.9, "high": 1.1},
                {"path": "strategy", "levels": ["transactional", "relationship"]}],
    "design": {"kind": "grid"},
    "outputs": {"tables": ["summary"], "metrics": ["annual_retention"]},
    "analysis": {"response": {"x": "annual_retention", "y": "cumulative_discounted_profit", "delta": 0.05}},
}
EXPERIMENT["factors"][0]["points"] = 2
EXPERIMENT_PATHS = sorted(set(leaves(EXPERIMENT)) | {"design.samples", "design.kind", "factors.0.name",
                                                     "factors.1.name", "overrides.market.network.mean_degree"})


@fuzz(140)
@given(path=st.sampled_from(EXPERIMENT_PATHS), value=VALUES | st.sampled_from(
    ["lhs", "sobol", "morris", "point", "seed", "run_id", "firm", 1_000_000, "scenario.toml"]))
def test_fuzz_experiment_load(path, value):
    """Experiments are checked by the sweep before any run: the check only (sweeps are slow)."""
    from relsim.studies.experiment import load_experiment
    from relsim.util.errors import RelsimError
    data = tomllib.loads(tomli_w.dumps(EXPERIMENT))
    try:
        set_dotted(data, path, value)
    except Exception:
        return
    folder = Path(tempfile.mkdtemp(prefix="relsim-fuzz-"))
    try:
        experiment = folder / "fuzz.toml"
        experiment.write_text(tomli_w.dumps(data))
        try:
            plan = load_experiment(experiment)
        except RelsimError as error:
            assert "fuzz.toml" in str(error), str(error)
        else:
            assert len(plan.runs) <= 200_000
    finally:
        shutil.rmtree(folder, ignore_errors=True)


LOG = pd.DataFrame({"customer": ["a", "a", "b", "b", "c", "d", "d", "e"] * 3,
                    "date": ["1997-01-02", "1997-02-10", "1997-01-05", "1997-03-01", "1997-01-20", "1997-02-02",
                             "1997-05-01", "1997-01-08"] * 3,
                    "amount": ["10.5", "12", "30", "31", "7", "15", "16.5", "22"] * 3})
LOG["customer"] = [f"{c}{i // 8}" for i, c in enumerate(LOG["customer"])]


@fuzz(40)
@given(row=st.integers(0, len(LOG) - 1), column=st.sampled_from([*LOG.columns, "drop", "bytes"]),
       value=st.one_of(st.text(max_size=12), st.sampled_from(["nan", "inf", "-1", "0", "1e308", "", "9999-99-99",
                                                             "1997-13-01", "1e-300"])))
def test_fuzz_transaction_log(row, column, value):
    folder = Path(tempfile.mkdtemp(prefix="relsim-fuzz-"))
    try:
        log = LOG.copy()
        path = folder / "log.csv"
        if column == "drop":
            log = log.drop(columns=[log.columns[row % 3]])
            log.to_csv(path, index=False)
        elif column == "bytes":
            text = log.to_csv(index=False).encode()
            path.write_bytes(text[:row * 7] + value.encode("utf-16") + text[row * 7:])
        else:
            log.loc[row, column] = value
            log.to_csv(path, index=False)
        out = folder / "out"
        with captured() as err:
            code = main(["calibrate", str(path), "--calibration-end", "1997-03-31", "--margin", "0.3",
                         "--out", str(out / "calibrated.toml")])
        check_outcome(code, err.getvalue(), ["log.csv", column, "calibrat", "fit", "customers"], out)
        if code == 2:
            assert not out.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
