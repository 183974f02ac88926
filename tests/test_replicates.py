"""Replicates advanced together (relsim/market/replicates.py) equal separate runs bit for bit.

The replicates' customer arrays are rows of stacked arrays; every phase of a week
still runs once per replicate, each from its own random streams, so the tables
must be those of ``simulate`` seed by seed, to the last bit.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas.testing as pdt
import pytest

from relsim import simulate
from relsim.market.draws import BatchDraws, ReplicateDraws
from relsim.market.model import MarketModel
from relsim.market.replicates import advance, customer_arrays, simulate_replicates, stack
from tests.conftest import small

SEEDS = (4, 1, 9)

#: scenario, and dotted overrides that reach the paths the shipped files leave off
CASES = {
    "ecommerce": ("ecommerce", {}),
    "b2b": ("b2b", {}),
    "alliance": ("alliance", {}),
    "services": ("services", {}),
    "classroom": ("classroom", {}),
    # listening word of mouth, advocates seeding, SimPy's desk instead of the compiled one
    "ecommerce-listening-simpy": ("ecommerce", {"word_of_mouth.listening": True,
                                                "word_of_mouth.seeding": "advocates",
                                                "operations.desk": "simpy"}),
}


def assert_same_tables(batched, separate) -> None:
    """Every table of each replicate equals that of its separate run, exactly."""
    assert [r.seed for r in batched] == [r.seed for r in separate]
    for together, alone in zip(batched, separate, strict=True):
        pdt.assert_frame_equal(together.steps, alone.steps, check_exact=True)
        pdt.assert_frame_equal(together.customers, alone.customers, check_exact=True)
        pdt.assert_frame_equal(together.cohorts, alone.cohorts, check_exact=True)
        pdt.assert_frame_equal(together.snapshots, alone.snapshots, check_exact=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_replicates_together_equal_separate_runs(case):
    name, changes = CASES[case]
    scenario = small(name, customers=300, weeks=30, **changes)
    assert_same_tables(simulate_replicates(scenario, SEEDS), [simulate(scenario, seed) for seed in SEEDS])


def test_replicates_differ_from_one_another():
    """Each replicate runs its own seed (a driver that ran one replicate's streams for all would pass
    the test above only if the tables compared were its own)."""
    first, second, _ = simulate_replicates(small(customers=300, weeks=10), SEEDS)
    assert not first.steps.equals(second.steps)


def test_every_customer_array_stays_a_view_of_its_stack_to_the_end():
    """Nothing rebinds a stacked array during a run: at the end every model's array is still its rows
    of the stacked array (same memory), and the stack holds every replicate's final values."""
    scenario = small(customers=200, weeks=20, **{"word_of_mouth.listening": True})
    models = [MarketModel(scenario, seed=seed) for seed in SEEDS]
    replicates = stack(models)
    advance(replicates)
    assert {"model.aware", "state.trust", "state.current", "model.dormant_until"} <= set(replicates.arrays)
    for replicate, model in enumerate(replicates.models):
        assert model.steps == 20 and not model.running
        for where, view in replicates.views(model).items():
            base = replicates.arrays.get(where)
            if base is None:   # an alias (the state's segment is the model's segment_of)
                base = next(a for a in replicates.arrays.values() if np.shares_memory(a, view))
            assert view.base is base, f"{where} of replicate {replicate} is no longer a view of its stack"
            assert np.array_equal(view, base[replicates.rows(replicate)]), where


def test_stacking_leaves_no_reference_to_the_arrays_it_replaced():
    """After stacking, nothing (an engine, a cache, a firm) still holds a model's original customer
    arrays: code writing through such a reference would change a copy the tables never read."""
    scenario = small(customers=200, weeks=5)
    models = [MarketModel(scenario, seed=seed) for seed in SEEDS]
    originals = [weakref.ref(values) for model in models for values in customer_arrays(model).values()]
    stack(models)
    gc.collect()
    alive = [ref for ref in originals if ref() is not None]
    assert not alive, f"{len(alive)} replaced customer arrays are still referenced"


def test_the_state_segment_stays_the_model_segment():
    """An array held under two names stays one array after stacking."""
    models = [MarketModel(small(customers=100, weeks=2), seed=seed) for seed in SEEDS]
    stack(models)
    for model in models:
        assert model.population.state.segment is model.segment_of


@pytest.mark.parametrize(("make", "message"), [
    (lambda: simulate_replicates(small(customers=100, weeks=2, engine="agents"), [1, 2]),
     "array engine only"),
    (lambda: simulate_replicates(small(customers=100, weeks=2), [1, 1]), "seeds must differ"),
    (lambda: stack([]), "at least one model"),
    (lambda: stack([MarketModel(small(customers=100, weeks=2), seed=1),
                    MarketModel(small(customers=120, weeks=2), seed=2)]), "replicates stack one scenario"),
])
def test_refusals_name_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_models_that_share_arrays_differently_are_refused():
    """Stacking follows the first model's aliases; a model whose fields share arrays otherwise would
    be rebound to one array where it had two."""
    models = [MarketModel(small(customers=100, weeks=2), seed=seed) for seed in (1, 2)]
    models[1].population.state.segment = models[1].segment_of.copy()
    with pytest.raises(ValueError, match="shares arrays between its fields unlike"):
        stack(models)


def test_a_model_that_has_stepped_is_refused():
    model = MarketModel(small(customers=100, weeks=2), seed=1)
    model.step()
    with pytest.raises(ValueError, match="has run 1 steps"):
        stack([model])


def test_an_unlisted_customer_array_is_refused():
    """A new customer-axis field that the lists do not name would silently not be stacked."""
    model = MarketModel(small(customers=100, weeks=2), seed=1)
    model.population.state.new_field = np.zeros(100)
    with pytest.raises(ValueError, match=r"state\.new_field is a customer-axis array"):
        customer_arrays(model)


def test_step_runs_the_phases_in_order():
    """``step`` is the phases of ``PHASES`` (the driver runs those): a run by phases equals a run by steps."""
    scenario = small(customers=200, weeks=8)
    by_steps, by_phases = MarketModel(scenario, seed=2), MarketModel(scenario, seed=2)
    by_steps.run()
    while by_phases.running:
        by_phases.start_step_clock()
        for name in MarketModel.PHASES:
            getattr(by_phases, name)()
    assert by_phases.steps == by_steps.steps == 8
    pdt.assert_frame_equal(by_phases.recorder.steps_table(), by_steps.recorder.steps_table(), check_exact=True)


def _streams(seed: int) -> BatchDraws:
    events, operations = np.random.SeedSequence(seed).spawn(2)
    return BatchDraws({"events": np.random.default_rng(events), "operations": np.random.default_rng(operations)})


def test_replicate_draws_equal_each_replicates_own_draws():
    """A batch spanning replicates draws each replicate's block from that replicate's streams, in the
    order a separate run would: the same numbers as each replicate's own draws, an empty block
    drawing nothing."""
    size, seeds = 10, (5, 6, 7)
    together = ReplicateDraws([_streams(seed) for seed in seeds], size)
    alone = [_streams(seed) for seed in seeds]
    batches = [np.array([1, 4, 4, 9, 21, 25]), np.array([12, 13, 29]), np.array([3]), np.array([], dtype=int)]
    for batch in batches:
        local = [batch[batch // size == r] - r * size for r in range(len(seeds))]
        shape = 1.0 + batch % 3
        expected = {
            "uniform": [alone[r].uniform("choice", local[r]) for r in range(3)],
            "normal": [alone[r].normal("lead_time", local[r]) for r in range(3)],
            "exponential": [alone[r].exponential("handling", local[r], 0, 2.0) for r in range(3)],
            "gamma": [alone[r].gamma("basket_gamma", local[r], 0, shape[batch // size == r], 0.5)
                      for r in range(3)]}
        got = {"uniform": together.uniform("choice", batch), "normal": together.normal("lead_time", batch),
               "exponential": together.exponential("handling", batch, 0, 2.0),
               "gamma": together.gamma("basket_gamma", batch, 0, shape, 0.5)}
        for kind, parts in expected.items():
            assert np.array_equal(got[kind], np.concatenate(parts)), kind


def test_replicate_draws_refuse_a_batch_not_grouped_by_replicate():
    together = ReplicateDraws([_streams(1), _streams(2)], 10)
    with pytest.raises(ValueError, match="grouped by replicate"):
        together.uniform("choice", np.array([12, 3]))
    with pytest.raises(ValueError, match="grouped by replicate"):
        together.uniform("choice", np.array([3, 20]))


def test_the_step_clock_names_a_mesa_that_no_longer_keeps_the_step():
    """start_step_clock relies on Mesa keeping the model's own step as ``_user_step``; without it the
    error says so instead of running the week twice or not at all."""
    model = MarketModel(small(customers=100, weeks=2), seed=1)
    del model.__dict__["_user_step"]
    with pytest.raises(RuntimeError, match="_user_step"):
        model.start_step_clock()
    assert model.steps == 0
