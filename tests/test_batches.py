"""Replicates in one pass, wired into the studies (issue #13): ``relsim compare``, the attribution's
runs and ``relsim sweep`` hand a worker several seeds of one scenario at once; every table must be
the one the runs give one at a time, and a sweep's failing run must stay alone."""

from __future__ import annotations

import pandas as pd
import pytest

import relsim.market.replicates as replicates_module
from relsim.market.model import MarketModel
from relsim.studies.batches import BATCH_MEMORY, MAX_BATCH, batch_size, batches
from relsim.studies.compare import compare
from relsim.studies.experiment import load_experiment
from relsim.studies.limitations import limitations
from relsim.studies.runs import focal_outcomes
from relsim.studies.store import Store
from relsim.studies.sweep import sweep
from tests.conftest import small
from tests.test_sweep import assert_same_store, store_tables, write_experiment

STRATEGIES = ["transactional", "relationship"]


@pytest.fixture
def batched_calls(monkeypatch) -> list[list[int]]:
    """The seeds of every ``simulate_replicates`` call made in this process (the runs still happen)."""
    calls: list[list[int]] = []
    real = replicates_module.simulate_replicates

    def spy(scenario, seeds, *args, **kwargs):
        calls.append(list(seeds))
        return real(scenario, seeds, *args, **kwargs)

    monkeypatch.setattr(replicates_module, "simulate_replicates", spy)   # run_seeds imports it when called
    return calls


def test_batch_size_rules():
    assert batch_size(40, 2, "arrays") == 5                     # ceil(40 / (4 · 2))
    assert batch_size(1000, 2, "arrays") == MAX_BATCH
    assert batch_size(3, 2, "arrays") == 1
    assert batch_size(40, 2, "agents") == 1 and batch_size(40, 2, "agents", requested=4) == 1
    assert batch_size(40, 2, "arrays", requested=1) == 1 and batch_size(40, 2, "arrays", requested=20) == 20
    assert batch_size(40, 2, "arrays", memory=BATCH_MEMORY / 2) == 2    # a batch holds its models at once
    assert batch_size(40, 2, "arrays", memory=BATCH_MEMORY * 3, requested=4) == 1
    assert batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_compare_batched_equals_one_run_at_a_time(batched_calls):
    scenario = small(customers=200, weeks=12)
    seeds = [0, 1, 2, 3, 4]
    alone = compare(scenario, STRATEGIES, seeds, workers=1, batch=1)
    assert alone.batch == 1 and batched_calls == []
    batched = compare(scenario, STRATEGIES, seeds, workers=1, batch=3)   # an uneven last batch
    assert batched.batch == 3
    assert batched_calls == [[0, 1, 2], [0, 1, 2], [3, 4], [3, 4]]
    for name in ("steps", "cohorts", "summaries", "ltv"):
        pd.testing.assert_frame_equal(getattr(alone, name), getattr(batched, name), check_exact=True)
    text = "\n".join(limitations(batched))
    assert "replicates advanced 3 at a time" in text and "at a time" not in "\n".join(limitations(alone))


def test_compare_on_a_pool_of_two_batches_and_equals_one_run_at_a_time():
    scenario = small(customers=200, weeks=10)
    alone = compare(scenario, STRATEGIES, 8, workers=1, batch=1)
    pooled = compare(scenario, STRATEGIES, 8, workers=2)
    assert pooled.batch == 2                                     # ceil(16 / (4 · 2))
    for name in ("steps", "cohorts", "summaries", "ltv"):
        pd.testing.assert_frame_equal(getattr(alone, name), getattr(pooled, name), check_exact=True)


def test_agent_engine_compares_one_run_at_a_time(batched_calls):
    comparison = compare(small(customers=60, weeks=3, engine="agents"), STRATEGIES, 2, workers=1, batch=2)
    assert comparison.batch == 1 and batched_calls == []


def test_focal_outcomes_batch_only_repeated_scenarios(batched_calls):
    """The attribution's tasks repeat a scenario over seeds (batched); tasks of distinct scenarios
    (the uncertainty's parameter sets) run alone. Rows stay in task order."""
    a, b = small(customers=150, weeks=8), small(customers=150, weeks=8, **{"firms.0.levers.price": 1.2})
    tasks = [(a, 0), (b, 0), (a, 1), (b, 5), (a, 2)]
    alone = focal_outcomes(tasks, batch=1)
    assert batched_calls == []
    batched = focal_outcomes(tasks, batch=8)
    assert batched_calls == [[0, 1, 2], [0, 5]]
    pd.testing.assert_frame_equal(alone, batched, check_exact=True)
    assert len(set(batched["cumulative_discounted_profit"])) == 5


# -- sweeps --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unbatched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unbatched")
    path = write_experiment(folder, replicates=3, customers=200, weeks=10)
    outcome = sweep(load_experiment(path), folder / "store", workers=1, batch=1)
    assert outcome.done == 12 and not outcome.failed
    return path, folder / "store"


def test_batched_sweep_in_process_gives_the_same_store(unbatched, tmp_path, batched_calls):
    path, root = unbatched
    plan = load_experiment(path)
    outcome = sweep(plan, tmp_path / "store", workers=1, batch=2)
    assert outcome.done == 12 and not outcome.failed
    assert batched_calls == [plan.seeds[:2]] * 4                   # the last replicate of each point alone
    assert_same_store(root, tmp_path / "store")
    store = Store(tmp_path / "store")
    assert store.manifest()["sessions"][-1]["batch"] == 2
    seconds = store.runs().set_index("run_id")["seconds"]
    assert seconds.notna().all()
    first_batch = [run.run_id for run in plan.runs if run.point == 0][:2]
    assert seconds[first_batch[0]] == seconds[first_batch[1]]       # the batch's time split evenly


def test_failing_run_in_a_batch_fails_alone(unbatched, tmp_path, monkeypatch):
    """A run that raises for one seed (its model fails in the first week) takes no batch-mate with it:
    the batch is rerun one run at a time; only that seed's runs are recorded, with their traceback."""
    path, root = unbatched
    plan = load_experiment(path)
    bad = plan.seeds[1]
    real = MarketModel.begin_step

    def begin_step(self):
        if self.seed == bad:
            raise FloatingPointError("boom for one seed")
        real(self)

    monkeypatch.setattr(MarketModel, "begin_step", begin_step)
    outcome = sweep(plan, tmp_path / "store", workers=1, batch=3)
    failed = {run.run_id for run in plan.runs if run.seed == bad}
    assert set(outcome.failed) == failed and outcome.done == 8
    assert not outcome.batch_errors    # the run that fails alone explains its batch's failure
    records = Store(tmp_path / "store").failed()
    assert set(records) == failed
    for record in records.values():
        assert "boom for one seed" in record["error"] and "begin_step" in record["traceback"]
    good, reference = store_tables(tmp_path / "store"), store_tables(root)
    for name, table in good.items():
        kept = reference[name][~reference[name]["run_id"].isin(failed)].reset_index(drop=True)
        pd.testing.assert_frame_equal(table, kept, check_exact=True)


def test_a_batch_that_fails_for_its_own_reason_is_reported(unbatched, tmp_path, monkeypatch, capsys):
    """A batch that raises although each of its runs succeeds alone (a defect of the replicates'
    pass, here injected) still gives the same store, one run at a time, but not silently: the
    outcome names the runs and the error, the session counts them, the command line warns."""
    from tests.test_sweep import relsim_here
    path, root = unbatched

    def broken(scenario, seeds, *args, **kwargs):
        raise IndexError("stacked array out of step")

    monkeypatch.setattr(replicates_module, "simulate_replicates", broken)
    plan = load_experiment(path)
    outcome = sweep(plan, tmp_path / "store", workers=1, batch=2)
    assert outcome.done == 12 and not outcome.failed
    batched = {run.run_id for run in plan.runs if run.replicate < 2}      # 2 + 1 seeds per point
    assert set(outcome.batch_errors) == batched
    assert all(error == "IndexError: stacked array out of step" for error in outcome.batch_errors.values())
    assert Store(tmp_path / "store").manifest()["sessions"][-1]["batch_errors"] == len(batched)
    assert_same_store(root, tmp_path / "store")
    done = relsim_here(capsys, "sweep", str(path), "--out", str(tmp_path / "again"), "--workers", "1",
                       "--batch", "2")
    assert done.returncode == 0, done.stderr
    assert "8 runs ran one at a time" in done.stderr and "stacked array out of step" in done.stderr


def test_batch_flag_on_the_command_line(unbatched, tmp_path, capsys):
    """``relsim sweep --batch 1`` turns batching off (recorded in the session); ``--batch 0`` is a clear error."""
    from tests.test_sweep import relsim_here
    path, root = unbatched
    done = relsim_here(capsys, "sweep", str(path), "--out", str(tmp_path / "store"), "--workers", "1", "--batch", "1")
    assert done.returncode == 0, done.stderr
    assert Store(tmp_path / "store").manifest()["sessions"][-1]["batch"] == 1
    assert_same_store(root, tmp_path / "store")
    with pytest.raises(SystemExit) as refused:     # argparse: exit 2, the flag and value named
        relsim_here(capsys, "sweep", str(path), "--out", str(tmp_path / "other"), "--batch", "0")
    err = capsys.readouterr().err
    assert refused.value.code == 2 and "--batch: must be at least 1, got 0" in err and "Traceback" not in err
    assert not (tmp_path / "other").exists()


def test_the_batch_recorded_is_the_one_that_ran(batched_calls):
    """One seed per strategy: nothing is advanced together, whatever ``--batch`` asks, and the report
    says nothing of it (it had said "replicates advanced 4 at a time")."""
    single = compare(small(customers=60, weeks=2), STRATEGIES, [0], workers=1, batch=4)
    assert single.batch == 1 and batched_calls == []
    assert "at a time" not in "\n".join(limitations(single))
