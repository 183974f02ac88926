"""The claims of docs/teaching.md, checked headless on several seeds.

Each exercise's setup is run through the app's own model (``relsim.app.Session``
with the controls the exercise names, at the app's default population and
engine), so a claim in the teaching notes is what a student sees in the
browser. The claims were derived from seeds 0–5 (exercise 1), 0–9 (exercise
2) and 0–4 (exercise 3) of the model as it now is (habit, relational
orientation, bounded co-creation, adaptive competitors, the behavioural
defaults of issue 11) and are written to hold whatever the seed: each held on
every one of those seeds, and the numeric ones with the tolerance stated
beside the assertion. What depends on the seed (which firm leads on profit,
whether slow trust costs profit, how many customers a change of trust or
reciprocity moves) is said to depend on it in docs/teaching.md and is not
asserted. The test checks seeds 0, 1 and 2.
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


def _books(market) -> dict[str, float]:
    """The focal firm's totals so far, line by line (what the profit bridge shows)."""
    from relsim.market.terms import BOOK_LINES
    rows = [row for row in market.rows if row["firm"] == market.firms[0]]
    return {line: float(sum(row[line] for row in rows)) for line in BOOK_LINES}


def _upper_ladder(market) -> float:
    """Percent of the population who are the focal firm's supporters, advocates or partners now
    (the top three bands of the *Loyalty ladder* chart)."""
    from relsim.market import rules
    row = [row for row in market.rows if row["firm"] == market.firms[0]][-1]
    return 100 * sum(row[f"rung_{rung}"] for rung in rules.RUNGS[3:])


@pytest.mark.parametrize("seed", SEEDS)
def test_exercise_1_b2b_the_relationship_firm_keeps_more_accounts(seed):
    # transactional, side by side relationship; pauses at weeks 52, 104, 156
    views = _run("b2b", seed, [52, 104, 156])
    # after one and two years the gap is small and usually, not always, the relationship firm's
    # (seeds 0-5: from 1 account behind to 18 ahead); asserted: never more than 5 accounts behind
    for view in views[:2]:
        transactional, relationship = view.markets
        assert relationship.customers[0] >= transactional.customers[0] - 5, (seed, view.week)
    # after three years it holds more accounts in every seed (seeds 0-5: 6 to 20 more, 6-22 %);
    # asserted: at least 3 more
    transactional, relationship = views[-1].markets
    assert relationship.customers[0] >= transactional.customers[0] + 3, (seed, relationship.customers,
                                                                         transactional.customers)
    # ... and far more of them on the upper rungs of the ladder (seeds 0-5: 16-22 % of the
    # population against 2-6 %, 12 to 17 points more); asserted: more than 8 points more
    assert _upper_ladder(relationship) > _upper_ladder(transactional) + 8, seed
    # what each strategy spends on (the profit bridge): the transactional firm on winning accounts,
    # the relationship firm on the desk, the programme and rewards
    mine, theirs = _books(transactional), _books(relationship)
    assert mine["acquisition"] > 2 * theirs["acquisition"]
    assert theirs["service_desk"] > 1.5 * mine["service_desk"]
    assert theirs["relationship"] > 0 == mine["relationship"] and theirs["rewards"] > 0 == mine["rewards"]
    # what the relationship firm wins back: revenue, higher in every seed (seeds 0-5: 8-34 %)
    assert theirs["revenue"] > mine["revenue"], seed


@pytest.mark.parametrize("seed", SEEDS)
def test_exercise_2_classroom_slow_trust_empties_the_relationship_firms_ladder(seed):
    slow, usual, fast = (_run("classroom", seed, [156], trust_gain=trust)[0] for trust in (0.01, 0.05, 0.15))
    ladder = {name: _upper_ladder(view.markets[1]) for name, view in
              (("slow", slow), ("usual", usual), ("fast", fast))}
    # slow trust leaves far fewer of the relationship firm's customers on the upper rungs
    # (seeds 0-9: 10 to 31 points of the population fewer; asserted: more than 8) ...
    assert ladder["slow"] < ladder["usual"] - 8, (seed, ladder)
    # ... and faster trust than the scenario's adds less than slow trust takes away (0.5 to 5 points)
    assert ladder["fast"] - ladder["usual"] < ladder["usual"] - ladder["slow"], (seed, ladder)
    # the ladder is not the profit: faster trust lowers the relationship firm's three-year profit
    # (seeds 0-9: every seed, by 2 % on seed 5 to more than all of it). Whether slow trust costs
    # profit depends on the seed (profit higher with slow trust in eight seeds of ten), not asserted.
    profit = {name: view.markets[1].cumulative[0] for name, view in
              (("slow", slow), ("usual", usual), ("fast", fast))}
    assert profit["fast"] < profit["usual"], (seed, profit)
    # whatever the trust, the relationship firm ends with more customers than the transactional one
    for view in (slow, usual, fast):
        assert view.markets[1].customers[0] > view.markets[0].customers[0], (seed, view.behaviour)


@pytest.mark.parametrize("seed", SEEDS)
def test_exercise_3_alliance_without_reciprocity_fewer_supporters_same_costs(seed):
    controls = dict(strategy="relationship", compare_with="transactional")
    with_goodwill = _run("alliance", seed, [104], **controls)[0]
    without = _run("alliance", seed, [104], reciprocity=0.0, **controls)[0]
    mine = with_goodwill.markets[0], without.markets[0]
    # without reciprocity fewer customers climb to supporter and above (seeds 0-4: 2.7 to 4.5 points
    # fewer, 14-22 %; asserted: more than 1.5) ...
    lost = _upper_ladder(mine[0]) - _upper_ladder(mine[1])
    assert lost > 1.5, (seed, lost)
    # ... while its costs are still paid: desk and acquisition exactly, programme nearly in full
    books = _books(mine[0]), _books(mine[1])
    assert books[1]["service_desk"] == books[0]["service_desk"]
    assert books[1]["acquisition"] == books[0]["acquisition"]
    assert books[1]["relationship"] > 0.9 * books[0]["relationship"]
    # the transactional firm does not care: its upper ladder moves far less
    theirs = with_goodwill.markets[1], without.markets[1]
    assert abs(_upper_ladder(theirs[0]) - _upper_ladder(theirs[1])) < lost / 2, seed
