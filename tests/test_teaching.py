"""The claims of docs/teaching.md, checked headless on several seeds.

Each exercise's setup is run through the app's own model (``relsim.app.Session``
with the controls the exercise names, at the app's default population), so a
claim in the teaching notes is what a student sees in the browser. The claims
are written to hold for any seed; the test checks seeds 0, 1 and 2.
"""

from __future__ import annotations

import pytest

SEEDS = (0, 1, 2)

pytestmark = pytest.mark.slow


def _run(scenario: str, seed: int, weeks: list[int], **controls):
    from relsim.app import Session, default_params
    session = Session({**default_params(scenario), "seed": seed, **controls})
    views = [session.advance(10_000, until=week) for week in weeks]
    assert [view.week for view in views] == weeks          # run to week N stops there
    return views


@pytest.mark.parametrize("seed", SEEDS)
def test_exercise_1_b2b_the_relationship_firm_keeps_more_accounts(seed):
    # transactional, side by side relationship; pauses at weeks 52, 104, 156
    views = _run("b2b", seed, [52, 104, 156])
    for view in views:
        transactional, relationship = view.markets
        assert relationship.customers[0] > transactional.customers[0], (seed, view.week)
    # and its lead in accounts grows from the first year to the third
    lead = [v.markets[1].customers[0] - v.markets[0].customers[0] for v in views]
    assert lead[-1] > lead[0], (seed, lead)


@pytest.mark.parametrize("seed", SEEDS)
def test_exercise_2_classroom_slow_trust_hurts_the_relationship_firm_most(seed):
    slow, usual, fast = (_run("classroom", seed, [156], trust_gain=trust)[0] for trust in (0.01, 0.05, 0.15))

    def focal(view, market):
        return view.markets[market].customers[0], view.markets[market].cumulative[0]

    # slow trust costs the relationship firm customers and profit ...
    assert focal(slow, 1)[0] < focal(usual, 1)[0] and focal(slow, 1)[1] < focal(usual, 1)[1]
    # ... far more than it changes the transactional firm's customers
    assert abs(focal(slow, 0)[0] - focal(usual, 0)[0]) < focal(usual, 1)[0] - focal(slow, 1)[0]
    # faster trust than the scenario's adds less than slow trust takes away
    assert abs(focal(fast, 1)[0] - focal(usual, 1)[0]) < focal(usual, 1)[0] - focal(slow, 1)[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_exercise_3_alliance_without_reciprocity_the_relationship_firm_loses(seed):
    controls = dict(strategy="relationship", compare_with="transactional")
    with_goodwill = _run("alliance", seed, [104], **controls)[0]
    without = _run("alliance", seed, [104], reciprocity=0.0, **controls)[0]
    mine = with_goodwill.markets[0], without.markets[0]
    assert mine[1].customers[0] < mine[0].customers[0]
    assert mine[1].cumulative[0] < mine[0].cumulative[0]
