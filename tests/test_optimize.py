"""relsim.evaluate, relsim optimize: lever specs, a known optimum, kill-and-resume, the report."""

from __future__ import annotations

import math
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim.cli import main
from relsim.studies.evaluate import OUTCOMES, PolicyError, evaluate
from relsim.studies.optimize import (
    OptimizeError,
    Search,
    completed,
    parse_constraint,
    parse_lever,
    parse_levers,
    parse_objectives,
    run_search,
)

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("optuna")


def small():
    from relsim import load_scenario
    return load_scenario("ecommerce", **{"market.weeks": 8}).resized(200)


# ----------------------------------------------------------------------
# evaluate
# ----------------------------------------------------------------------
def test_evaluate_is_pure_picklable_and_paired():
    scenario = small()
    first = evaluate({"price": 1.1, "reward_rate": 0.02}, scenario, seeds=[3, 4])
    again = evaluate({"price": 1.1, "reward_rate": 0.02}, pickle.loads(pickle.dumps(scenario)), seeds=[3, 4])
    assert list(first.columns) == ["seed", *OUTCOMES, "seconds"]
    assert first["seed"].tolist() == [3, 4]
    pd.testing.assert_frame_equal(first.drop(columns="seconds"), again.drop(columns="seconds"))
    assert pickle.loads(pickle.dumps(evaluate)) is evaluate
    preset = evaluate({"strategy": "relationship"}, scenario, seeds=[3, 4])
    assert not np.allclose(preset["profit"], first["profit"])


def test_evaluate_is_exported_lazily():
    code = ("import sys, relsim; assert 'mesa' not in sys.modules; "
            "from relsim import evaluate; assert callable(evaluate)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("policy, message", [
    ({"prise": 1.0}, "unknown lever 'prise'"),
    ({"price": 9}, "price = 9"),
    ({"strategy": "loyal"}, "unknown preset"),
    ({"level": 1.5}, "level"),
])
def test_bad_policies_are_clear_errors(policy, message):
    with pytest.raises(PolicyError, match=message):
        evaluate(policy, small(), seeds=[0])


def test_ema_workbench_model():
    pytest.importorskip("ema_workbench")
    from ema_workbench import SequentialEvaluator

    from relsim.studies.evaluate import ema_model
    model = ema_model(small(), parse_levers(["price=0.8:1.4", "level=1:5"]), seeds=[0],
                      uncertainties={"segments.0.price_sensitivity": (0.5, 8.0)})
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=2, policies=2)
    assert len(experiments) == 4 and set(outcomes) == {"profit", "retention"}
    assert np.isfinite(outcomes["profit"]).all()


# ----------------------------------------------------------------------
# lever specs, objectives, constraints
# ----------------------------------------------------------------------
def test_lever_specs():
    assert parse_lever("price=0.8:1.4").low == 0.8
    budget = parse_lever("acquisition_budget=0.2:5:log")
    assert budget.log and budget.high == 5
    assert parse_lever("level=1:5:int").integer and parse_lever("level=1:5").integer
    assert parse_lever("supplier_contract=long,spot").choices == ("long", "spot")
    assert parse_lever("retention_offer=true,false").choices == (True, False)


def test_levers_from_toml(tmp_path):
    path = tmp_path / "levers.toml"
    path.write_text('[levers]\nprice = {low = 0.8, high = 1.4}\nacquisition_budget = {low = 0.2, high = 5, '
                    'log = true}\nsupplier_contract = {choices = ["long", "spot"]}\n')
    space = parse_levers([str(path), "reward_rate=0:0.1"])
    assert space.names == ["price", "acquisition_budget", "supplier_contract", "reward_rate"]


BAD_LEVERS = {
    "price": "expected NAME=LOW:HIGH",
    "prise=0.8:1.4": "unknown lever 'prise'",
    "price=1.4:0.8": "must be below high",
    "price=0.8:9": "less than or equal to 5",
    "price=a:b": "'a' is not a number",
    "price=0.8:inf": "high = inf is not a finite number",
    "price=nan:1.4": "low = nan is not a finite number",
    "acquisition_budget=0:5:log": "log scale needs low > 0",
    "level=1.5:4": "whole numbers",
    "level=0:5": "greater than or equal to 1",
    "retention_offer=0:1": "give choices",
    "supplier_contract=long,forever": "supplier_contract",
    "price=0.8:1.4:cube": "expected LOW:HIGH",
}


@pytest.mark.parametrize("spec", BAD_LEVERS)
def test_bad_lever_specs(spec):
    with pytest.raises(OptimizeError, match=BAD_LEVERS[spec]):
        parse_levers([spec])


def test_objectives_and_constraints():
    assert parse_objectives(["profit,retention"]) == ["profit", "retention"]
    constraint = parse_constraint("retention >= 0.6")
    assert constraint.violation(0.7) < 0 < constraint.violation(0.5)
    for bad, message in (("retention>0.6", "expected OUTCOME"), ("loyalty>=0.6", "unknown outcome"),
                         ("retention>=high", "not a number")):
        with pytest.raises(OptimizeError, match=message):
            parse_constraint(bad)
    with pytest.raises(OptimizeError, match="at most two"):
        parse_objectives(["profit,retention,share"])


@pytest.mark.parametrize("flags, message", [
    (["--levers", "price=1.4:0.8"], "must be below high"),
    (["--levers", "price=0.8:1.4", "--constraint", "retention=>0.6"], "expected OUTCOME>=NUMBER"),
    (["--levers", "price=0.8:1.4", "--constraint", "loyalty>=0.6"], "unknown outcome 'loyalty'"),
    (["--levers", "price=0.8:1.4", "--objective", "happiness"], "unknown outcome"),
    (["--levers", "price=0.8:1.4", "--sampler", "cmaes", "--constraint", "retention>=0.5"], "no constraints"),
    (["--levers", "price=0.8:1.4", "--set", "market.network.kind=ring"], "market.network.kind = 'ring'"),
    (["--levers", "price=0.8:1.4", "--presets", "current,loyal"], "unknown preset"),
])
def test_bad_optimize_flags_exit_2_and_write_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "study"
    code = main(["optimize", "ecommerce", "--customers", "200", "--weeks", "4", "--trials", "2", "--seeds", "1",
                 "--out", str(out), *flags])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("case, message", [
    ("text", "not a SQLite database"),
    ("other database", "without an Optuna study (tables: birds)"),
    ("folder", "not a regular file"),
    ("manifest", "not the manifest of a relsim optimize search"),
])
def test_a_study_folder_holding_someone_elses_files_is_refused_and_left_alone(tmp_path, capsys, case, message):
    """DIR/study.db and DIR/manifest.json are relsim's only if relsim wrote them: another file there is
    neither read as the study (a traceback from SQLAlchemy before), nor given Optuna's tables, nor
    overwritten (a user's manifest.json was replaced before)."""
    import sqlite3
    out = tmp_path / "study"
    out.mkdir()
    if case == "text":
        (out / "study.db").write_text("my notes")
    elif case == "other database":
        with sqlite3.connect(out / "study.db") as database:
            database.execute("create table birds (name text)")
        database.close()
    elif case == "folder":
        (out / "study.db").mkdir()
    else:
        (out / "manifest.json").write_text('{"name": "my web app"}')
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in out.iterdir()}
    code = main(["optimize", "ecommerce", "--customers", "200", "--weeks", "4", "--trials", "2", "--seeds", "1",
                 "--levers", "price=0.8:1.4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err, err
    assert {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in out.iterdir()} == before


# ----------------------------------------------------------------------
# a known optimum
# ----------------------------------------------------------------------
COST, SLOPE = 0.75, 1.0


def toy_price_problem(policies):
    """Profit of a one-lever price problem: (p − c)·exp(−b·(p − c)) per customer, plus seed noise.
    Its maximum is at p* = c + 1/b = 1.75 (d/dp = 0), worth exp(−1)/b ≈ 0.368."""
    tables = []
    for policy in policies:
        price = policy["price"]
        rows = []
        for seed in range(3):
            value = (price - COST) * math.exp(-SLOPE * (price - COST))
            noise = np.random.default_rng(seed).normal(0, 0.002)   # common random numbers: same per seed
            rows.append({"seed": seed, **dict.fromkeys(OUTCOMES, 0.0), "profit": value + noise,
                         "retention": 1 / price, "seconds": 0.0})
        tables.append(pd.DataFrame(rows))
    return tables


@pytest.mark.parametrize("sampler", ["tpe", "cmaes"])
def test_the_known_optimum_is_recovered(tmp_path, sampler):
    search = Search(parse_levers(["price=0.5:3"]), ["profit"], [0, 1, 2], sampler=sampler)
    study = run_search(search, f"sqlite:///{tmp_path / 'study.db'}", 40, toy_price_problem)
    best = study.best_params["price"]
    # tolerance: within 0.1 of p* = 1.75 (the objective is within 0.5 % of its maximum there)
    assert abs(best - (COST + 1 / SLOPE)) < 0.1, best
    assert study.best_value == pytest.approx(math.exp(-1) / SLOPE, abs=0.005)


def test_a_constraint_moves_the_optimum_to_its_bound(tmp_path):
    # retention = 1/price >= 0.8 means price <= 1.25: the best feasible price is the bound
    search = Search(parse_levers(["price=0.5:3"]), ["profit"], [0, 1, 2],
                    constraints=[parse_constraint("retention>=0.8")])
    study = run_search(search, f"sqlite:///{tmp_path / 'study.db'}", 40, toy_price_problem)
    feasible = [t for t in completed(study) if all(v <= 0 for v in t.user_attrs["constraint_violations"])]
    best = max(feasible, key=lambda t: t.value)
    assert 1.1 < best.params["price"] <= 1.25


def _open_together(urls, barrier, results):
    from relsim.studies.optimize import Search, open_study, parse_levers
    search = Search(parse_levers(["price=0.5:3"]), ["profit"], [0, 1, 2])
    for url in urls:
        barrier.wait()
        try:
            open_study(search, url)
            results.put("opened")
        except Exception as error:   # reported to the test, which names it
            results.put(f"{type(error).__name__}: {error}"[:300])


def test_processes_opening_one_new_store_at_the_same_moment_all_get_the_study(tmp_path):
    # Optuna's RDBStorage creates its tables when it opens a file; without open_study's retries, 4 processes
    # released by one barrier onto a new file fail in 18 of 20 rounds measured ("table ... already exists",
    # a duplicate version row). 4 rounds here: all 16 opens must succeed and leave one study in each file.
    import multiprocessing
    import sqlite3
    context = multiprocessing.get_context("spawn")   # not fork: the test process has threads
    files = [tmp_path / f"study{round_}.db" for round_ in range(4)]
    barrier, results = context.Barrier(4, timeout=120), context.Queue()
    processes = [context.Process(target=_open_together, args=([f"sqlite:///{f}" for f in files], barrier, results),
                                 daemon=True) for _ in range(4)]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=240) for _ in range(16)]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    assert outcomes == ["opened"] * 16, [o for o in outcomes if o != "opened"]
    for file in files:
        with sqlite3.connect(file) as db:
            assert db.execute("select count(*) from studies").fetchone() == (1,)


# ----------------------------------------------------------------------
# kill and resume, for real; then the report
# ----------------------------------------------------------------------
def _completed_trials(db: Path) -> list:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name="relsim-optimize", storage=f"sqlite:///{db}")
    except Exception:   # not created yet
        return []
    return completed(study)


def test_a_killed_search_resumes_without_repeating_finished_trials(tmp_path):
    out = tmp_path / "study"
    command = [sys.executable, "-m", "relsim.cli", "optimize", "ecommerce", "--customers", "200", "--weeks", "6",
               "--levers", "price=0.8:1.4", "reward_rate=0:0.1", "--objective", "profit,retention",
               "--constraint", "retention>=0.1", "--trials", "10", "--seeds", "2", "--confirm-seeds", "3",
               "--presets", "current,relationship", "--top", "2", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(_completed_trials(out / "study.db")) < 3:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {t.number: t.params for t in _completed_trials(out / "study.db")}
    assert 3 <= len(before) < 10
    assert not (out / "report").exists()

    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {len(before)} trials finished before" in done.stderr
    after = _completed_trials(out / "study.db")
    assert len(after) == 10                                   # not one more: finished trials were not rerun
    assert all(before[t.number] == t.params for t in after if t.number in before)

    # the report: recommendation in words, verdict, levers vs presets, figures embedded
    markdown = (out / "report" / "report.md").read_text()
    for text in ("Recommended policy", "fresh seeds", "Verdict", "Levers: the optimised policies against the "
                 "presets", "Caveats", "Pareto front", "Optimisation history", "relationship",
                 "competitors answer back as in the scenario (market.competition = adaptive"):
        assert text in markdown, text
    html = (out / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "http" not in html.split("<body>")[1]
    trials = pd.read_csv(out / "report" / "trials.csv")
    assert len(trials) == 10 and {"price", "reward_rate", "profit", "retention", "feasible"} <= set(trials)
    differences = pd.read_csv(out / "report" / "differences.csv")
    assert set(differences["preset"]) == {"current", "relationship"}
    manifest = (out / "manifest.json").read_text()
    assert '"optuna"' in manifest and '"machine"' in manifest

    # another search in the same folder is refused (exit 2), the study untouched
    other = subprocess.run([*command[:command.index("--levers")], "--levers", "price=0.9:1.2",
                            *command[command.index("--objective"):]], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert other.returncode == 2 and "holds another search" in other.stderr
    assert len(_completed_trials(out / "study.db")) == 10


def test_a_recommendation_at_the_edge_of_its_range_is_flagged():
    """A recommended lever value within 5 % of an end of its range (log scale for a log lever) gets a
    caveat: the range searched, not the market, may be what stops it (the ecommerce acceptance run
    recommended reward_rate 0.099 of a 0–0.1 range)."""
    from types import SimpleNamespace

    from relsim.studies.optimize_report import edge_lines

    space = parse_levers(["reward_rate=0:0.1", "acquisition_budget=0.2:5:log", "price=0.8:1.4"])
    policy = {"reward_rate": 0.0986, "acquisition_budget": 0.244, "price": 0.81}
    confirmation = SimpleNamespace(recommended="optimised #1", policies={"optimised #1": policy},
                                   search=SimpleNamespace(space=space))
    lines = edge_lines(confirmation)
    assert len(lines) == 2
    assert "**reward_rate**" in lines[0] and "upper end" in lines[0] and "reward_rate=0:0.1" in lines[0]
    assert "**price**" in lines[1] and "lower end" in lines[1]
    # 0.244 is 6 % of the log range above 0.2: not at the edge
    assert not any("acquisition_budget" in line for line in lines)
    assert edge_lines(SimpleNamespace(recommended=None, policies={}, search=SimpleNamespace(space=space))) == []
