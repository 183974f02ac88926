"""The compiled desk (market/desk.py) docked against the SimPy desk, ticket by ticket.

On the same arrivals, priorities, handling times and resolutions the two must
give the same answers and abandonments, with the same response times, at the
same times, in the same order, and the same weekly desk statistics; and the
array engine's tables must not depend on which desk queued its tickets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import relsim
from relsim.market.desk import CompiledDesks
from relsim.market.model import MarketModel
from relsim.market.operations import Operations
from relsim.scenario.schema import OperationsSpec
from tests.conftest import small


def _desk_statistics(desk):
    return (desk.opened, desk.answered, desk.abandoned, list(desk.response_times), desk.queue_length)


def run_both(batches, agents, patience, weeks):
    """Feed ``batches[w]`` (the tickets raised in week w) to both desks; the answers of each week."""
    spec = OperationsSpec(patience_weeks=patience)
    simpy_ops, compiled_ops = Operations(spec, np.random.default_rng(0)), Operations(spec, np.random.default_rng(0))
    for firm, count in enumerate(agents):
        simpy_ops.add_desk(firm, count)
        compiled_ops.add_desk(firm, count)
    compiled = CompiledDesks(compiled_ops)
    simpy_weeks, compiled_weeks = [], []
    tickets, log = [], []          # every ticket opened so far; the SimPy answers as they come
    for week in range(weeks):
        for ops in (simpy_ops, compiled_ops):
            for desk in ops.desks.values():
                desk.reset_week()
        for batch in batches[week]:
            times, firms, priority, handling, resolved, customers, complaint = batch
            numbers = np.arange(len(tickets), len(tickets) + times.size)
            tickets.extend(zip(customers.tolist(), firms.tolist(), complaint.tolist(), strict=True))
            simpy_ops.open_tickets_at(times, firms, priority, handling, resolved, numbers,
                                      lambda number, response, fixed: log.append(
                                          (*tickets[number], response, fixed, simpy_ops.env.now)))
            compiled.open(times, firms, priority, handling, resolved, customers, complaint)
        simpy_ops.advance_to(week + 1.0)
        compiled_ops.advance_to(week + 1.0)
        got = compiled.advance_to(week + 1.0)
        # (customer, firm, complaint, response_time, resolved, time) in the order they came;
        # tickets still queued at the end of a week are answered in a later week, in both
        compiled_rows = list(zip(*(values.tolist() for values in got), strict=True))
        simpy_weeks.append((log[:], [_desk_statistics(d) for d in simpy_ops.desks.values()]))
        compiled_weeks.append((compiled_rows, [_desk_statistics(d) for d in compiled_ops.desks.values()]))
        log.clear()
    return simpy_weeks, compiled_weeks


def random_batches(rng, weeks, firms, per_week, at_week_start=False):
    batches = []
    customer = 0
    for week in range(weeks):
        week_batches = []
        for _ in range(rng.integers(1, 4)):        # several batches a week, in time order or not
            size = int(rng.poisson(per_week / 2))
            times = week + (np.zeros(size) if at_week_start else rng.random(size))
            week_batches.append((
                times, rng.integers(0, firms, size), rng.integers(0, 2, size),
                rng.exponential(0.02, size), rng.random(size) < 0.8,
                np.arange(customer, customer + size), rng.random(size) < 0.5))
            customer += size
        batches.append(week_batches)
    return batches


@pytest.mark.parametrize(("agents", "patience", "per_week", "at_week_start"), [
    ((0, 1, 2, 3), 1.0, 300, False),      # overloaded desks: queues, abandonment, carry-over
    ((1, 2), 0.05, 150, False),           # short patience: many abandonments
    ((2, 5, 0), 0.3, 60, False),          # light load
    ((1, 3), 1.0, 200, True),             # every ticket at the week's start: ties everywhere
])
def test_compiled_desk_equals_simpy_ticket_by_ticket(agents, patience, per_week, at_week_start):
    rng = np.random.default_rng(7)
    weeks = 6
    batches = random_batches(rng, weeks, len(agents), per_week, at_week_start)
    simpy_weeks, compiled_weeks = run_both(batches, agents, patience, weeks)
    answered = abandoned = 0
    for week, (expected, got) in enumerate(zip(simpy_weeks, compiled_weeks, strict=True)):
        assert got[0] == expected[0], f"week {week}: answers differ"
        assert got[1] == expected[1], f"week {week}: desk statistics differ"
        answered += sum(np.isfinite(row[3]) for row in expected[0])
        abandoned += sum(not np.isfinite(row[3]) for row in expected[0])
    assert answered > 0
    if per_week >= 150:
        assert abandoned > 0


@pytest.mark.parametrize("name", ["ecommerce", "b2b"])
def test_array_engine_tables_do_not_depend_on_the_desk(name):
    """The same seed gives identical tables with the compiled and the SimPy desk."""
    tables = {}
    for desk in ("compiled", "simpy"):
        scenario = relsim.load_scenario(name, **{"market.weeks": 12, "market.engine": "arrays",
                                                 "operations.desk": desk}).resized(2000)
        model = MarketModel(scenario, seed=3)
        model.run()
        tables[desk] = (model.recorder.steps_table(), model.population.customers_table())
    assert int(tables["simpy"][0]["tickets"].sum()) > 0
    for compiled, reference in zip(tables["compiled"], tables["simpy"], strict=True):
        pd.testing.assert_frame_equal(compiled, reference)


def test_compiled_desk_follows_an_adaptive_competitor_resizing_its_desk():
    """Competitors that move their strategy hire or let go of desk agents at a review
    (relsim.market.competition.resize_desk); the compiled desk follows, giving the same
    tables as the SimPy desk it was docked against. Mutation: read the sizes only once
    (drop ``CompiledDesks._follow_resizes``) and the tables differ."""
    tables, sizes = {}, {}
    for desk in ("compiled", "simpy"):
        scenario = small(customers=400, weeks=60, engine="arrays", **{
            "operations.desk": desk, "market.competition": "adaptive", "market.adaptation_step": 1.0})
        model = MarketModel(scenario.with_focal_strategy("relationship"), seed=1)
        start = [firm.desk.agents for firm in model.firms]
        model.run()
        sizes[desk] = (start, [firm.desk.agents for firm in model.firms])
        tables[desk] = (model.recorder.steps_table(), model.population.customers_table())
    start, end = sizes["compiled"]
    assert start != end, "no competitor resized its desk: the test would not test the resize"
    assert sizes["compiled"] == sizes["simpy"]
    for compiled, reference in zip(tables["compiled"], tables["simpy"], strict=True):
        pd.testing.assert_frame_equal(compiled, reference)
