"""How much of a rival's price cut the adaptive competitors match (docs/evidence.md, "Competitive reaction").

Published figure: over 75 brands in 25 fast-moving consumer goods categories,
competitors match a manufacturer's wholesale price reduction by 15 % in the long
run (cumulative response), and the range across cases is "very wide" (Pauwels 2007,
"How retailer and competitor decisions drive the long-term effectiveness of
manufacturer promotions for fast moving consumer goods", Journal of Retailing 83(3),
297-308, abstract). Steenkamp, Nijs, Hanssens & Dekimpe (2005, Marketing Science
24(1)) find reaction "predominantly passive" over 400 categories (no share that
could be read from a retrievable text).

The model's counterpart is an output, not one constant: the focal firm (relationship
preset, the main comparison's arm) cuts its price by :data:`CUT`; each competitor's
price at the end of the run, against the same seed without the cut, divided by the
cut, is its long-run match; the test averages the three competitors and the seeds.
In the model competitors imitate the *most profitable* firm (docs/model.md §3.18),
not the attacker, so a run matches nearly all of the cut or none of it: the
Monte-Carlo error is that of a share of (nearly) all-or-nothing outcomes.

A directional check, not a reproduction: Pauwels measures the response to
temporary promotions, this test a permanent price change, and the model's
competitors copy the most profitable firm's whole strategy rather than answer
the cut (docs/evidence.md, "How far the comparison goes").
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim import load_scenario
from relsim.market.runner import simulate
from relsim.scenario.ranges import PLAUSIBLE

#: Pauwels (2007): competitors' long-run match of a wholesale price cut.
PUBLISHED_MATCH = 0.15
#: Reproduced if the model's mean match lies within ten points of it (the abstract gives
#: no interval, only that the range across cases is very wide; the tolerance is assumed).
TOLERANCE = 0.10
#: The focal firm's price cut: 10 %, the price change of the own-price elasticity test
#: (tests/test_stylized.py). At ecommerce's 25 % gross margin it takes 40 % of the unit margin.
CUT = 0.10
SEEDS = tuple(range(8))
_RANGES = {row.path: row for row in PLAUSIBLE}
#: The competition constants at the responsive end of their plausible ranges (review_weeks 6.5,
#: step 0.75, inertia 0.25, threshold 0.05, cost 1; docs/compare-report.md: the profit lead is gone there).
RESPONSIVE = {path: _RANGES[path].high if path == "market.adaptation_step" else _RANGES[path].low
              for path in ("market.review_weeks", "market.adaptation_step", "market.adaptation_inertia",
                           "market.adaptation_threshold", "market.adaptation_cost")}


def competitor_prices(changes: dict, price: float, seed: int) -> np.ndarray:
    """The competitors' prices in the last week of ecommerce (adaptive, arrays engine,
    full size, five years) with the focal firm on the relationship preset at ``price``."""
    scenario = load_scenario("ecommerce", **{"market.engine": "arrays", **changes})
    firms = list(scenario.with_focal_strategy("relationship").firms)
    firms[0] = firms[0].model_copy(update={"levers": {"price": price}})
    steps = simulate(scenario.model_copy(update={"firms": firms}), seed=seed).steps
    last = steps[(steps["week"] == steps["week"].max()) & (steps["firm"] != firms[0].name)]
    return last["price_index"].to_numpy(dtype=float)


def long_run_match(changes: dict) -> list[float]:
    """Per seed: the competitors' mean price drop (paired, same seed without the cut)
    as a share of the focal firm's cut."""
    return [float(np.mean(competitor_prices(changes, 1.0, seed) - competitor_prices(changes, 1.0 - CUT, seed))) / CUT
            for seed in SEEDS]


@pytest.fixture(scope="module")
def matches():
    """Per-seed long-run matches at ecommerce's constants and at the responsive end."""
    return {"default": long_run_match({}), "responsive": long_run_match(RESPONSIVE)}


@pytest.mark.slow
def test_the_plausible_ranges_bracket_the_published_price_match(matches):
    """The published long-run match (15 %) lies between what the model's competitors do
    at ecommerce's constants and at the responsive end of the five competition ranges.
    Measured (ecommerce full size, five years, 10 % cut, paired seeds 0-7, re-measured
    2026-11-29): default 0.00, 0.00, 0.02, 0.00, -0.06, -0.03, -0.01, 0.00 (mean -0.01,
    Monte-Carlo error 0.01: no competitor followed the cut; the price cutter was not the
    most profitable firm), responsive 1.00, 0.97, 1.00, 0.12, 0.99, 0.91, 1.00, 1.00
    (mean 0.87, error 0.11: they copy 90 % or more of the cut in 7 of 8 seeds). Asserted: the
    default mean below 15 % and the responsive mean above it, each by more than four
    Monte-Carlo standard errors (and 2 points). Mutations (checked once, same seeds): with
    ``adaptation_inertia`` 1.0 in the responsive set no competitor moves, its match is 0
    and this fails; so it does when :func:`relsim.market.competition.review` never lets
    a competitor imitate the focal firm."""
    for name, below in (("default", True), ("responsive", False)):
        values = np.array(matches[name])
        error = values.std(ddof=1) / np.sqrt(len(values))
        gap = PUBLISHED_MATCH - values.mean() if below else values.mean() - PUBLISHED_MATCH
        assert gap > max(4 * error, 0.02), (name, list(values))


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: at ecommerce's competition constants no competitor follows a 10 % price cut "
    "by the relationship firm (long-run match -0.01 over seeds 0-7, published 15 %, Pauwels 2007): "
    "competitors imitate the most profitable firm, not the attacker, and a price cutter that is "
    "not the most profitable is never matched. At the responsive end they match nearly all of it (0.87)."))
def test_default_competitors_match_a_price_cut_as_published(matches):
    """Pauwels (2007, J. Retailing 83(3)): competitors match 15 % of a price cut in the long
    run. Asserted: the model's mean match at ecommerce's constants within
    :data:`TOLERANCE` of it. Strict xfail, so a change to the reaction rule that brings the
    model to the published match is looked at. Mutation (checked once): with the band
    widened to include the model's -0.01 (TOLERANCE 0.17) the assertion passes and the
    strict xfail fails."""
    values = matches["default"]
    assert abs(float(np.mean(values)) - PUBLISHED_MATCH) <= TOLERANCE, values
