"""relsim optimize --robust: policies judged over plausible worlds; where a policy fails (boxes of constants)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim.scenario.ranges import ranges_for
from relsim.scenario.schema import load_scenario
from relsim.studies.evaluate import OUTCOMES
from relsim.studies.optimize import Search, parse_constraint, parse_levers, run_search
from relsim.studies.robust import (
    RobustError,
    Robustness,
    failure_boxes,
    failures,
    parse_statistic,
    prim,
    sample_worlds,
    tree_boxes,
)
from tests.test_sweep import relsim_here


# ----------------------------------------------------------------------
# finding a planted failure region
def planted(seed: int, n: int = 200, columns: int = 40, noise: float = 0.03) -> tuple[pd.DataFrame, np.ndarray]:
    """Fails where k3 > 0.7 and k11 < 0.3 (9 % of the points), plus 3 % of the labels flipped at random."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, columns)), columns=[f"k{i}" for i in range(columns)])
    y = ((x["k3"] > 0.7) & (x["k11"] < 0.3)).to_numpy()
    return x, y ^ (rng.random(n) < noise)


@pytest.mark.parametrize("seed", range(5))
def test_the_tree_finds_a_planted_failure_region(seed):
    x, y = planted(seed)
    box = tree_boxes(x, y)[0]
    assert set(box.limits) == {"k3", "k11"}, box.describe()
    assert box.limits["k3"][0] == pytest.approx(0.7, abs=0.06) and box.limits["k11"][1] == pytest.approx(0.3, abs=0.06)
    assert box.density >= 0.85 and box.coverage >= 0.6 and box.density > 5 * box.base_density
    assert box.describe().startswith("k3 ≥ 0.") and " and k11 ≤ 0." in box.describe()


def test_prim_peels_a_one_constant_region_and_nothing_from_no_failures():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.random((400, 4)), columns=list("abcd"))
    [box, *_] = prim(x, (x["b"] < 0.25).to_numpy())
    assert list(box.limits) == ["b"] and box.limits["b"][1] == pytest.approx(0.25, abs=0.03)
    assert box.density > 0.9 and box.coverage > 0.9
    assert prim(x, np.zeros(400, dtype=bool)) == [] and tree_boxes(x, np.zeros(400, dtype=bool)) == []


def test_failures_in_plausible_worlds_are_located(tmp_path):
    """The pipeline of the report on made-up outcomes: the policy loses to the current strategy
    exactly where the base churn hazard is high."""
    scenario = load_scenario("ecommerce", **{"market.weeks": 4}).resized(100)
    worlds = sample_worlds(scenario, 120, seed=5)
    hazard = worlds.table["churn.base_hazard"].to_numpy()
    rows = []
    for seed, h in zip(worlds.seeds, hazard, strict=True):
        rows.append({"policy": "optimised", "seed": seed, "profit": 100.0 - (50 if h > 0.012 else 0), "retention": 0.7})
        rows.append({"policy": "current", "seed": seed, "profit": 80.0, "retention": 0.7})
    outcomes = pd.DataFrame(rows)
    frame = failures(outcomes, "optimised", "current", worlds, "profit", [parse_constraint("retention>=0.6")])
    assert frame["fails"].sum() == (hazard > 0.012).sum() and not frame["breaks_constraint"].any()
    [box] = failure_boxes(frame, worlds)
    assert list(box.limits) == ["churn.base_hazard"] and box.limits["churn.base_hazard"][0] == pytest.approx(
        0.012, abs=0.0005)
    assert box.density == 1.0 and box.coverage == 1.0
    # a constraint broken in some worlds is a failure there too
    outcomes.loc[(outcomes["policy"] == "optimised") & (outcomes["seed"] == worlds.seeds[0]), "retention"] = 0.5
    frame = failures(outcomes, "optimised", "current", worlds, "profit", [parse_constraint("retention>=0.6")])
    assert frame["breaks_constraint"].sum() == 1


# ----------------------------------------------------------------------
# worlds and the robust statistic
def test_worlds_are_a_reproducible_latin_hypercube_inside_the_ranges():
    scenario = load_scenario("ecommerce", **{"market.weeks": 4}).resized(100)
    first, again = sample_worlds(scenario, 10, seed=1), sample_worlds(scenario, 10, seed=1)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not first.table.equals(sample_worlds(scenario, 10, seed=2).table)
    assert len(set(first.seeds)) == 10 and first.constants == [r.path for r in ranges_for(scenario)]
    for row in first.ranges:
        column = first.table[row.path]
        assert column.between(row.low, row.high).all()
        # a Latin hypercube: one value in each tenth of the range
        assert sorted(((column - row.low) / (row.high - row.low) * 10).astype(int).clip(0, 9)) == list(range(10)) \
            or row.integer
    world = first.scenarios[3]
    assert world.churn.base_hazard == pytest.approx(first.table.loc[3, "churn.base_hazard"])


def test_robust_statistics_and_their_errors():
    assert Robustness(4, "quantile", q=0.25).score([1, 2, 3, 100]) == pytest.approx(1.75)
    assert Robustness(4, "mean-sd", k=1).score([1, 3]) == pytest.approx(2 - math.sqrt(2))
    assert math.isnan(Robustness(4).score([math.nan]))
    assert parse_statistic("q10") == ("quantile", 0.1) and parse_statistic("quantile:0.25") == ("quantile", 0.25)
    assert parse_statistic("mean-sd") == ("mean-sd", 1.0) and parse_statistic("mean-sd:2") == ("mean-sd", 2.0)
    for bad in ("median", "quantile:x", "q"):
        with pytest.raises(RobustError, match="quantile:Q"):
            parse_statistic(bad)
    with pytest.raises(RobustError, match="between 0 and 1"):
        Robustness(4, "quantile", q=1.5)
    with pytest.raises(RobustError, match="a finite number"):   # 'must be 0 or more' was wrong for inf
        Robustness(4, "mean-sd", k=math.inf)
    with pytest.raises(RobustError, match="2 to"):
        Robustness(1)


WORLDS = tuple(np.linspace(0.0, 1.0, 11))


def risky(policies, worlds=WORLDS):
    """A lever x in [0, 1] that pays on average (1 + 0.2·x) but loses in the worst worlds (w < 0.3)."""
    return [pd.DataFrame([{"seed": i, **dict.fromkeys(OUTCOMES, 0.0), "profit": 1 + p["price"] * (w - 0.3),
                           "seconds": 0.0} for i, w in enumerate(worlds)]) for p in policies]


def test_the_robust_search_prefers_the_safe_policy(tmp_path):
    space = parse_levers(["price=0.5:1.5"])
    seeds = list(range(11))
    plain = run_search(Search(space, ["profit"], seeds), f"sqlite:///{tmp_path / 'mean.db'}", 25,
                       lambda ps: risky([{"price": p["price"] - 0.5} for p in ps]))
    robust = run_search(Search(space, ["profit"], seeds, robust=Robustness(11, q=0.1)),
                        f"sqlite:///{tmp_path / 'robust.db'}", 25,
                        lambda ps: risky([{"price": p["price"] - 0.5} for p in ps]))
    assert plain.best_params["price"] > 1.3 and robust.best_params["price"] < 0.7
    assert robust.best_trials[0].user_attrs["robust"]["profit"] == pytest.approx(robust.best_value)
    # a resumed search must judge the same way
    from relsim.studies.optimize import OptimizeError, open_study
    with pytest.raises(OptimizeError, match="robust"):
        open_study(Search(space, ["profit"], seeds, robust=Robustness(11, q=0.2)),
                   f"sqlite:///{tmp_path / 'robust.db'}")


# ----------------------------------------------------------------------
# the command
def test_optimize_robust_end_to_end(tmp_path, capsys):
    out = tmp_path / "opt"
    done = relsim_here(capsys, "optimize", "ecommerce", "--levers", "price=0.9:1.2", "--trials", "2", "--robust", "3",
                       "--confirm-seeds", "4", "--top", "1", "--presets", "current", "--weeks", "6", "--customers",
                       "150", "--out", str(out))
    assert done.returncode == 0, done.stderr
    report = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Robustness: plausible worlds, and where the policy fails" in report
    assert "10 % quantile over 3 plausible worlds" in report and "fresh plausible worlds" in report
    assert "Where it fails:" in report
    assert len(pd.read_csv(out / "report" / "worlds.csv")) == 3
    fresh = pd.read_csv(out / "report" / "fresh_worlds.csv")
    assert len(fresh) == 4 and {"fails", "worse_than_baseline", "churn.base_hazard"} <= set(fresh.columns)
    assert "Robustness" in (out / "report" / "report.html").read_text(encoding="utf-8")
    # the same command resumes; another statistic is another search
    again = relsim_here(capsys, "optimize", "ecommerce", "--levers", "price=0.9:1.2", "--trials", "2", "--robust",
                        "3", "--robust-stat", "mean-sd:1", "--confirm-seeds", "4", "--top", "1", "--presets",
                        "current", "--weeks", "6", "--customers", "150", "--out", str(out))
    assert again.returncode == 2 and "robust" in again.stderr


def test_bad_robust_options_exit_2_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "opt"
    done = relsim_here(capsys, "optimize", "ecommerce", "--levers", "price=0.9:1.2", "--robust", "3",
                       "--robust-stat", "median", "--out", str(out))
    assert done.returncode == 2 and "--robust-stat 'median'" in done.stderr and not out.exists()
    with pytest.raises(SystemExit) as few:
        relsim_here(capsys, "optimize", "ecommerce", "--levers", "price=0.9:1.2", "--robust", "1", "--out", str(out))
    assert few.value.code == 2 and not Path(out).exists()
