"""Sweeps: experiment files, designs, seeds, the results store, resuming after a kill, Dask, analysis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim.studies.experiment import ExperimentError, load_experiment, replicate_seeds
from relsim.studies.store import Store, StoreError
from relsim.studies.sweep import sweep

ROOT = Path(__file__).resolve().parent.parent

TINY = """
name = "tiny"
description = "test sweep"
scenario = "ecommerce"
seed = 11
replicates = {replicates}

[overrides]
"market.customers" = {customers}
"market.weeks" = {weeks}

[[factors]]
path = "strategy"
levels = ["transactional", "relationship"]

[[factors]]
path = "firms.0.levers.price"
levels = {prices}

[outputs]
tables = ["summary", "steps", "cohorts"]
metrics = ["cumulative_discounted_profit", "annual_retention"]

[analysis.contrast]
factor = "strategy"
baseline = "transactional"
"""


def write_experiment(folder: Path, name: str = "tiny.toml", replicates: int = 2, customers: int = 200,
                     weeks: int = 10, prices: str = "[0.95, 1.05]", extra: str = "") -> Path:
    path = folder / name
    path.write_text(TINY.format(replicates=replicates, customers=customers, weeks=weeks, prices=prices) + extra)
    return path


def relsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relsim.cli", *args], cwd=cwd, capture_output=True, text=True)


def relsim_here(capsys, *args: str) -> subprocess.CompletedProcess:
    """The command line run in this process (cheaper than a new interpreter); same exit codes."""
    from relsim.cli import main
    code = main(list(args))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, captured.out, captured.err)


def store_tables(root: Path) -> dict[str, pd.DataFrame]:
    """Every table of a store, rows in run order (completion order must not matter)."""
    store = Store(root)
    tables = {}
    for name in ("summary", "steps", "cohorts"):
        table = store.table(name)
        keys = [c for c in ("run_id", "firm", "week", "cohort_week", "age_weeks") if c in table.columns]
        tables[name] = table.sort_values(keys).reset_index(drop=True)
    return tables


def assert_same_store(a: Path, b: Path) -> None:
    first, second = store_tables(a), store_tables(b)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)
    manifest_a, manifest_b = Store(a).manifest(), Store(b).manifest()
    assert manifest_a["runs"] == manifest_b["runs"]


# --------------------------------------------------------------------------
# Experiment files: clear errors before any run

BAD_EXPERIMENTS = {
    "unknown path": ('path = "firms.0.levers.price"', 'path = "market.customerz"',
                     "factors[1].path = 'market.customerz': not a scenario field"),
    "unknown lever": ('path = "firms.0.levers.price"', 'path = "firms.0.levers.prize"', "levers.prize"),
    "list index": ('path = "firms.0.levers.price"', 'path = "firms.9.quality"', "factors[1].path = 'firms.9.quality'"),
    "negative index": ('path = "firms.0.levers.price"', 'path = "firms.-1.quality"',
                       "factors[1].path = 'firms.-1.quality': not a scenario field"),
    "typo key": ("replicates = 2", "replicate = 2", "replicate: unknown field"),
    "bad value": ("levels = [0.95, 1.05]", "levels = [0.95, -1.0]", "firms[0].levers: levers.price = -1.0"),
    "bad strategy": ('"transactional", "relationship"', '"transactional", "relation"', "unknown strategy 'relation'"),
    "bad metric": ('"annual_retention"]', '"retention"]', "unknown metric 'retention'"),
    "syntax": ("[overrides]", "[overrides", "not valid TOML"),
    "bad override": ('"market.weeks" = 10', '"market.weekz" = 10', "overrides.market.weekz: not a scenario field"),
    "baseline": ('baseline = "transactional"', 'baseline = "basic"', "analysis.contrast.baseline = 'basic'"),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPERIMENTS))
def test_bad_experiment_is_named_before_any_run(tmp_path, case):
    old, new, expected = BAD_EXPERIMENTS[case]
    path = write_experiment(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ExperimentError) as error:
        load_experiment(path)
    assert str(path) in str(error.value) and expected in str(error.value), str(error.value)


def test_bad_experiment_on_the_command_line_exits_2_and_writes_nothing(tmp_path, capsys):
    path = write_experiment(tmp_path)
    path.write_text(path.read_text().replace('path = "firms.0.levers.price"', 'path = "market.customerz"'))
    done = relsim("sweep", str(path), "--out", str(tmp_path / "store"), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "market.customerz" in done.stderr, done.stderr
    assert not (tmp_path / "store").exists()
    done = relsim_here(capsys, "sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "store"))
    assert done.returncode == 2 and "cannot read experiment" in done.stderr


def test_sampled_designs_need_ranges_and_sobol_a_power_of_two(tmp_path):
    text = """name = "s"\nscenario = "ecommerce"\n[design]\nkind = "sobol"\nsamples = {n}\n
[[factors]]\npath = "firms.0.levers.price"\n{spec}\n"""
    path = tmp_path / "s.toml"
    path.write_text(text.format(n=6, spec="low = 0.9\nhigh = 1.1"))
    with pytest.raises(ExperimentError, match=r"design\.samples = 6: sobol needs a power of 2"):
        load_experiment(path)
    path.write_text(text.format(n=8, spec="levels = [0.9, 1.1]"))
    with pytest.raises(ExperimentError, match="give low and high instead of levels"):
        load_experiment(path)
    path.write_text(text.format(n=8, spec="low = 0.9\nhigh = 9.0"))   # price is at most 5
    with pytest.raises(ExperimentError, match="design point"):
        load_experiment(path)


# --------------------------------------------------------------------------
# Designs and seeds

@pytest.mark.parametrize("kind, samples, expected", [("lhs", 7, 7), ("sobol", 8, 8 * (3 + 2)),
                                                      ("morris", 3, 3 * (3 + 1))])
def test_sampled_designs(tmp_path, kind, samples, expected):
    path = tmp_path / "d.toml"
    path.write_text(f"""name = "d"\nscenario = "ecommerce"\nseed = 5\nreplicates = 2
[design]\nkind = "{kind}"\nsamples = {samples}
[[factors]]\npath = "firms.0.levers.price"\nlow = 0.9\nhigh = 1.1
[[factors]]\npath = "firms.0.levers.service_capacity"\nlow = 0.5\nhigh = 3.0
[[factors]]\npath = "market.customers"\nlow = 200\nhigh = 400\ninteger = true
""")
    plan = load_experiment(path)
    assert len(plan.points) == expected and len(plan.runs) == 2 * expected
    prices = np.array([p["firms.0.levers.price"] for p in plan.points])
    assert prices.min() >= 0.9 and prices.max() <= 1.1 and np.unique(prices).size > 1
    assert all(isinstance(p["market.customers"], int) for p in plan.points)
    assert [s.market.customers for s in plan.scenarios] == [p["market.customers"] for p in plan.points]
    again = load_experiment(path)
    assert again.points == plan.points and again.experiment_hash == plan.experiment_hash
    path.write_text(path.read_text().replace("seed = 5", "seed = 6"))
    assert load_experiment(path).points != plan.points


def test_grid_seeds_and_run_ids(tmp_path):
    plan = load_experiment(write_experiment(tmp_path, replicates=3, prices="[0.9, 1.0, 1.1]"))
    assert len(plan.points) == 6 and len(plan.runs) == 18
    assert len({r.run_id for r in plan.runs}) == 18
    # seeds come from the root SeedSequence, one per replicate, shared by every point
    assert plan.seeds == replicate_seeds(11, 3) and len(set(plan.seeds)) == 3
    for run in plan.runs:
        assert run.seed == plan.seeds[run.replicate]
    # the strategy factor swaps the focal preset and clears its levers before the lever factor applies
    focal = plan.scenarios[-1].firms[0]
    assert focal.strategy == "relationship" and focal.levers == {"price": 1.1}


# --------------------------------------------------------------------------
# The store

@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """An uninterrupted sweep, in this process, one run at a time (``batch=1``), of the experiment the
    kill test uses; the sweeps compared with it batch replicates (the default on the array engine)."""
    folder = tmp_path_factory.mktemp("reference")
    path = write_experiment(folder, replicates=4, customers=300, weeks=20, prices="[0.9, 1.0, 1.1]")
    outcome = sweep(load_experiment(path), folder / "store", workers=1, batch=1)
    assert outcome.done == 24 and not outcome.failed
    return path, folder / "store"


def test_store_layout_and_queries(reference):
    _, root = reference
    manifest = json.loads((root / "manifest.json").read_text())
    assert len(manifest["runs"]) == 24 and manifest["code_version"]
    assert {"run_id", "point", "replicate", "seed", "scenario_hash", "code_version"} <= set(manifest["runs"][0])
    summary = pd.read_parquet(root / "summary")
    assert len(summary) == 24 * 4 and summary["run_id"].nunique() == 24
    assert summary.groupby("run_id")["focal"].sum().eq(1).all()
    assert set(summary["focal_strategy"]) == {"transactional", "relationship"}
    seeds = summary.drop_duplicates("run_id").set_index("run_id")["seed"]
    assert (seeds == pd.Series({r["run_id"]: r["seed"] for r in manifest["runs"]})).all()
    duckdb = pytest.importorskip("duckdb")
    count, runs = duckdb.execute(
        f"select count(*), count(distinct run_id) from read_parquet('{root}/summary/*.parquet')").fetchone()
    assert (count, runs) == (96, 24)
    steps = pd.read_parquet(root / "steps")
    assert steps["run_id"].nunique() == 24 and steps["week"].nunique() == 20


def test_pool_of_two_gives_the_same_store(reference, tmp_path):
    path, root = reference
    outcome = sweep(load_experiment(path), tmp_path / "store", workers=2)
    assert outcome.done == 24
    assert Store(tmp_path / "store").manifest()["sessions"][-1]["batch"] == 3   # ceil(24 / (4 · 2))
    assert_same_store(root, tmp_path / "store")


def test_finished_runs_are_skipped(tmp_path):
    path = write_experiment(tmp_path)
    plan = load_experiment(path)
    assert sweep(plan, tmp_path / "store", workers=1).done == 8
    again = sweep(plan, tmp_path / "store", workers=1)
    assert (again.done, again.skipped) == (0, 8)


def test_store_of_another_experiment_is_refused(tmp_path, capsys):
    path = write_experiment(tmp_path)
    sweep(load_experiment(path), tmp_path / "store", workers=1)
    other = write_experiment(tmp_path, "other.toml", replicates=3, prices="[0.9, 1.1]")
    with pytest.raises(StoreError, match="hash"):
        sweep(load_experiment(other), tmp_path / "store", workers=1)
    done = relsim_here(capsys, "sweep", str(other), "--out", str(tmp_path / "store"))
    assert done.returncode == 2 and "use a new --out folder" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty"):
        sweep(load_experiment(path), tmp_path / "junk", workers=1)


def test_engine_flag_runs_every_point_on_that_engine_and_is_part_of_the_store(tmp_path, capsys):
    """``relsim sweep --engine agents``: every design point on the agent engine, said on the console;
    the store's experiment.toml records it, so resuming without the flag is refused (another experiment);
    an experiment whose factors vary the engine refuses the flag (exit 2, nothing written)."""
    path = write_experiment(tmp_path, replicates=1, customers=60, weeks=3, prices="[1.0]")
    assert {s.market.engine for s in load_experiment(path).scenarios} == {"arrays"}
    assert {s.market.engine for s in load_experiment(path, engine="agents").scenarios} == {"agents"}
    store = tmp_path / "store"
    done = relsim_here(capsys, "sweep", str(path), "--out", str(store), "--engine", "agents", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "on the agents engine" in done.stdout
    assert '"market.engine" = "agents"' in (store / "experiment.toml").read_text(encoding="utf-8")
    again = relsim_here(capsys, "sweep", str(path), "--out", str(store), "--engine", "agents", "--workers", "1")
    assert again.returncode == 0 and "2 already in the store" in again.stdout
    other = relsim_here(capsys, "sweep", str(path), "--out", str(store), "--workers", "1")
    assert other.returncode == 2 and "use a new --out folder" in other.stderr
    varied = write_experiment(tmp_path, "varied.toml", replicates=1, customers=60, weeks=3, prices="[1.0]",
                              extra='\n[[factors]]\npath = "market.engine"\nlevels = ["agents", "arrays"]\n')
    refused = relsim_here(capsys, "sweep", str(varied), "--out", str(tmp_path / "v"), "--engine", "arrays")
    assert refused.returncode == 2 and "varies market.engine" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "v").exists()


def test_failing_runs_are_recorded_and_retried(tmp_path, monkeypatch):
    from relsim.market.model import MarketModel
    path = write_experiment(tmp_path)
    plan = load_experiment(path)
    real = MarketModel.begin_step

    def flaky(self):   # both replicates of one design point fail (their batch, then each alone)
        if self.spec.firms[0].strategy == "relationship" and self.spec.firms[0].levers["price"] == 1.05:
            raise RuntimeError("boom in the model")
        real(self)

    monkeypatch.setattr(MarketModel, "begin_step", flaky)
    outcome = sweep(plan, tmp_path / "store", workers=1)
    assert outcome.done == 6 and len(outcome.failed) == 2
    store = Store(tmp_path / "store")
    failures = store.failed()
    assert set(failures) == set(outcome.failed)
    record = next(iter(failures.values()))
    assert "boom in the model" in record["error"] and "Traceback" in record["traceback"]
    assert record["seed"] in plan.seeds
    # without --retry-failed a failed run stays failed; with it, it runs again
    assert sweep(plan, tmp_path / "store", workers=1).done == 0
    monkeypatch.setattr(MarketModel, "begin_step", real)
    retried = sweep(plan, tmp_path / "store", workers=1, retry_failed=True)
    assert retried.done == 2 and not store.failed() and len(store.finished()) == 8


# --------------------------------------------------------------------------
# A real kill, then resume

@pytest.mark.slow
def test_killed_sweep_resumes_to_the_uninterrupted_store(reference, tmp_path):
    path, root = reference
    store = tmp_path / "store"
    command = [sys.executable, "-m", "relsim.cli", "sweep", str(path), "--out", str(store), "--workers", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while len(Store(store).finished()) < 3:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = Store(store).finished()
    assert 3 <= len(partial) < 24, "the sweep should have been killed mid-way"
    for file in (store / "summary").glob("*.parquet"):        # every whole file is readable
        pd.read_parquet(file)
    resumed = relsim("sweep", str(path), "--out", str(store), "--workers", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(partial)} already in the store" in resumed.stdout
    assert "24/24 runs, 0 failed" in resumed.stderr and "s left" in resumed.stderr   # progress in a log
    assert not [p for p in store.rglob(".*") if p.is_file()]   # no temporaries left
    summary = Store(store).table("summary")
    assert summary.groupby("run_id").size().eq(4).all() and summary["run_id"].nunique() == 24
    assert_same_store(root, store)


# --------------------------------------------------------------------------
# Dask

@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_store(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    path, root = reference
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=40) as cluster:
        outcome = sweep(load_experiment(path), tmp_path / "store", scheduler=cluster.scheduler_address)
    assert outcome.done == 24 and not outcome.failed
    assert_same_store(root, tmp_path / "store")


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("distributed")
    path = write_experiment(tmp_path)
    done = relsim_here(capsys, "sweep", str(path), "--out", str(tmp_path / "store"),
                       "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "store").exists()      # nothing written before the cluster answered


# --------------------------------------------------------------------------
# Analysis

def test_analyze_grid_with_contrast(reference, tmp_path, capsys):
    _, root = reference
    done = relsim_here(capsys, "analyze", str(root), "--out", str(tmp_path / "analysis"))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "analysis"
    html = (out / "report.html").read_text()
    # per metric: a heat map (two-factor grid), response curves, the tornado
    assert html.count("data:image/png;base64,") == 6 and "http://" not in html and "https://" not in html
    means = pd.read_csv(out / "point_means.csv")
    assert len(means) == 6 * 2 and (means["runs"] == 4).all()
    assert (means["ci_low"] <= means["mean"]).all() and (means["mean"] <= means["ci_high"]).all()
    # the contrast is paired by replicate: check one difference by hand
    contrast = pd.read_csv(out / "contrast.csv")
    summary = pd.read_parquet(root / "summary")
    focal = summary[summary["focal"] & (summary["firms.0.levers.price"] == 1.0)]
    by = focal.pivot(index="replicate", columns="focal_strategy", values="cumulative_discounted_profit")
    row = contrast[(contrast["firms.0.levers.price"] == 1.0)
                   & (contrast["metric"] == "cumulative_discounted_profit")].iloc[0]
    assert row["difference"] == pytest.approx((by["relationship"] - by["transactional"]).mean())
    swings = pd.read_csv(out / "sensitivity.csv")
    assert set(swings["factor"]) == {"focal_strategy", "firms.0.levers.price"}


@pytest.mark.parametrize("kind, samples, runs, columns", [
    ("sobol", 4, 4 * (2 + 2), ["metric", "factor", "S1", "S1_conf", "ST", "ST_conf"]),
    ("morris", 3, 3 * (2 + 1), ["metric", "factor", "mu", "mu_star", "mu_star_conf", "sigma"]),
])
def test_analyze_sensitivity_indices(tmp_path, kind, samples, runs, columns):
    path = tmp_path / f"{kind}.toml"
    path.write_text(f"""name = "{kind}"\nscenario = "ecommerce"\nseed = 3\nreplicates = 1
[overrides]\n"market.customers" = 200\n"market.weeks" = 10
[design]\nkind = "{kind}"\nsamples = {samples}
[[factors]]\npath = "firms.0.levers.price"\nlow = 0.8\nhigh = 1.2
[[factors]]\npath = "firms.0.levers.acquisition_budget"\nlow = 0.5\nhigh = 2.0
[outputs]\nmetrics = ["revenue"]
""")
    outcome = sweep(load_experiment(path), tmp_path / "store", workers=1)
    assert outcome.done == runs
    from relsim.studies.analysis import analyze
    written = analyze(tmp_path / "store")
    indices = pd.read_csv(written["sensitivity.csv"])
    assert list(indices.columns) == columns
    assert len(indices) == 2 and np.isfinite(indices[columns[2:]].to_numpy()).all()
    html = (tmp_path / "store" / "analysis" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2


def test_analyze_an_empty_folder_is_a_clear_error(tmp_path, capsys):
    done = relsim_here(capsys, "analyze", str(tmp_path))
    assert done.returncode == 2 and "not a results store" in done.stderr and "Traceback" not in done.stderr


def test_seeding_none_changes_nothing_and_seeding_talks():
    from relsim.market.runner import simulate
    from tests.conftest import small
    plain = simulate(small(customers=300, weeks=8), seed=4).steps
    explicit = simulate(small(customers=300, weeks=8, **{"word_of_mouth.seeding": "none",
                                                        "word_of_mouth.seeding_share": 0.1}), seed=4).steps
    pd.testing.assert_frame_equal(plain, explicit)
    seeded = simulate(small(customers=300, weeks=8, **{"word_of_mouth.seeding": "random",
                                                      "word_of_mouth.seeding_share": 0.1}), seed=4).steps
    aware = lambda steps: steps.loc[(steps["week"] == 0) & (steps["firm"] == "Focal"), "aware"].item()  # noqa: E731
    assert aware(seeded) > aware(plain)


def test_shipped_experiments_are_valid():
    sizes = {}
    for path in sorted((ROOT / "experiments").glob("*/experiment.toml")):
        plan = load_experiment(path)
        sizes[path.parent.name] = len(plan.runs)
        assert (path.parent / "README.md").read_text().count("relsim sweep") >= 1
    assert set(sizes) == {"strategies_by_scenario", "retention_to_profit", "kotler_levels", "wom_seeding"}
    assert sizes["strategies_by_scenario"] == 3 * 2 * 30


def test_analyze_best_level_and_response(tmp_path):
    path = tmp_path / "best.toml"
    path.write_text("""name = "best"\nscenario = "ecommerce"\nseed = 8\nreplicates = 3
[overrides]\n"market.weeks" = 10
[[factors]]\npath = "strategy"\nlevels = ["basic", "partnership"]
[[factors]]\npath = "market.customers"\nlevels = [200, 300]
[analysis.best]\nfactor = "strategy"\nmetric = "revenue"
[analysis.response]\nx = "customers_end"\ny = "revenue"\ndelta = 10
""")
    assert sweep(load_experiment(path), tmp_path / "store", workers=1).done == 12
    from relsim.studies.analysis import analyze
    written = analyze(tmp_path / "store")
    best = pd.read_csv(written["best.csv"])
    assert sorted(best["market.customers"]) == [200, 300]
    summary = pd.read_parquet(tmp_path / "store" / "summary")
    focal = summary[summary["focal"]]
    for _, row in best.iterrows():
        cell = focal[focal["market.customers"] == row["market.customers"]]
        assert row["best"] == cell.groupby("focal_strategy")["revenue"].mean().idxmax()
    response = pd.read_csv(written["response.csv"]).iloc[0]
    slope = np.polyfit(focal["customers_end"], focal["revenue"], 1)[0]
    assert response["change"] == pytest.approx(slope * 10)
    assert response["ci_low"] <= response["change"] <= response["ci_high"]


def test_analyze_lhs_swings(tmp_path):
    path = tmp_path / "lhs.toml"
    path.write_text("""name = "lhs"\nscenario = "ecommerce"\nseed = 2\nreplicates = 1
[overrides]\n"market.customers" = 200\n"market.weeks" = 10
[design]\nkind = "lhs"\nsamples = 8
[[factors]]\npath = "firms.0.levers.price"\nlow = 0.8\nhigh = 1.2
[[factors]]\npath = "firms.0.levers.acquisition_budget"\nlow = 0.5\nhigh = 2.0
""")
    assert sweep(load_experiment(path), tmp_path / "store", workers=1).done == 8
    from relsim.studies.analysis import analyze
    swings = pd.read_csv(analyze(tmp_path / "store")["sensitivity.csv"])
    assert len(swings) == 2 * 2 and (swings["ci_low"] <= swings["swing"]).all()
    assert (swings["swing"] <= swings["ci_high"]).all()
