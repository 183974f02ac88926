"""The advertising elasticity of the focal firm's sales (docs/evidence.md, "Advertising elasticity").

Published figure: over 751 short-term and 402 long-term direct-to-consumer brand
advertising elasticities from 56 studies (1960-2008), the mean short-term elasticity
is 0.12 and the mean long-term elasticity 0.24; elasticities are higher for durables
than non-durables, in the early than in the mature stage of the life cycle, and for
yearly than for quarterly data (Sethuraman, Tellis & Briesch 2011, "How well does
advertising work? Generalizations from meta-analysis of brand advertising
elasticities", Journal of Marketing Research 48(3), 457-471, abstract). Short-term
means the change in a brand's current-period sales for a change in its
current-period advertising (the working paper's definition, SSRN 1866002, which also
reports that only about half of the estimates are significantly above zero).

The model's counterpart: ecommerce at full size (5,000 customers, five years, arrays
engine), the focal firm as shipped (reactive, ``acquisition_budget`` = 1, the
reference budget 600 a week, which is also the half-saturation spend), competitors
static (held at their strategies: the meta-analysis measures a brand's own
elasticity, other things equal; with adaptive competitors a seed's long-term sales
hinge on whether a rival imitates another firm, docs/evidence.md). The focal firm's
budget is raised by 10 % in one run and cut by 10 % in the other, same seed, and
the arc elasticity of its revenue (its price does not change, so revenue moves with
units) is ``(S+ − S−)/((S+ + S−)/2)`` over ``0.2``. Both runs are lock-step runs
(``MarketModel(..., lockstep=True)``): every customer-event draw is keyed by what it
is for, so the two runs differ only where the budget makes them differ (common
random numbers; measured with adaptive rivals and the change from week 1, the
whole-run elasticity had a seed SD of 0.6 without them (two seeds), 0.1 with them
(four seeds)).

* **Mature market** (the meta-analysis's typical brand): the budget changes at the
  start of week 104, when most direct-channel customers already know the firm.
  Short-term: revenue of the 13 weeks after the change (a quarter: the data
  intervals of the meta-analysis are weekly to yearly and the elasticity is higher
  for longer ones; the quarter is in the middle); long-term: revenue from the change
  to the end of the run (156 weeks), by when the carry-over of a sustained change
  has played out.
* **Launch** (the early stage of the life cycle): the budget differs from the first
  week (40 % of customers know the focal firm after it, 96 % by week 104); short-term over the first quarter.

Tolerance: the abstract gives means only, no spread; other meta-analyses put the mean
short-term elasticity at 0.09 (Henningsen, Heuke & Clement 2011, BuR 4(2)) to 0.22
(Assmus, Farley & Lehmann 1984). The model is taken to reproduce a published mean if
it lies within a factor of two of it: short-term 0.06-0.24, long-term 0.12-0.48 (an
assumption, stated in docs/evidence.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim import load_scenario
from relsim.market.model import MarketModel

#: Sethuraman, Tellis & Briesch (2011): mean short-term and long-term brand advertising elasticity.
PUBLISHED_SHORT = 0.12
PUBLISHED_LONG = 0.24
#: Reproduced within a factor of two of the published mean (assumed: the abstract gives no spread).
FACTOR = 2.0
#: The budget change: ±10 % (arc elasticity).
STEP = 0.10
#: Mature market: the change comes at the start of week 104 (two years on the books).
CHANGE_WEEK = 104
#: Short term: the quarter after the change.
SHORT_WEEKS = 13
MATURE_SEEDS = tuple(range(1, 7))
LAUNCH_SEEDS = tuple(range(1, 13))


def focal_revenue(seed: int, factor: float, change_week: int, weeks: int) -> np.ndarray:
    """The focal firm's weekly revenue on ecommerce (static rivals, lock-step draws) when its
    acquisition budget is multiplied by ``factor`` from the start of week ``change_week`` on."""
    scenario = load_scenario("ecommerce", **{"market.competition": "static", "market.engine": "arrays",
                                             "market.weeks": weeks})
    model = MarketModel(scenario, seed=seed, lockstep=True)
    focal = model.firms[0]
    budget = focal.strategy.acquisition_budget
    while model.running:
        if model.steps == change_week:   # weeks on the books
            focal.strategy = focal.strategy.model_copy(update={"acquisition_budget": budget * factor})
        model.step()
    return np.array([row["revenue"] for row in model.recorder.rows if row["firm"] == focal.name])


def arc_elasticity(up: float, down: float) -> float:
    """Arc elasticity of sales for a ±``STEP`` change of the budget."""
    return ((up - down) / ((up + down) / 2.0)) / (2.0 * STEP)


def elasticities(change_week: int, weeks: int, seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Per seed: the short-term (quarter after the change) and long-term (change to the end)
    arc elasticities of the focal firm's revenue."""
    short, long = [], []
    for seed in seeds:
        up = focal_revenue(seed, 1.0 + STEP, change_week, weeks)
        down = focal_revenue(seed, 1.0 - STEP, change_week, weeks)
        window = slice(change_week, change_week + SHORT_WEEKS)
        short.append(arc_elasticity(up[window].sum(), down[window].sum()))
        long.append(arc_elasticity(up[change_week:].sum(), down[change_week:].sum()))
    return {"short": np.array(short), "long": np.array(long)}


def error(values: np.ndarray) -> float:
    """Monte-Carlo error of the mean over seeds."""
    return float(values.std(ddof=1) / np.sqrt(values.size))


@pytest.fixture(scope="module")
def mature():
    """Elasticities of a change at week 104 of the five-year run."""
    return elasticities(CHANGE_WEEK, 260, MATURE_SEEDS)


@pytest.fixture(scope="module")
def launch():
    """Short-term elasticities of a change from the first week (first quarter only)."""
    return elasticities(0, SHORT_WEEKS, LAUNCH_SEEDS)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: in a mature market (the budget changed at week 104) the focal firm's short-term "
    "advertising elasticity is 0.000 (6 paired seeds, Monte-Carlo error 0.001), not 0.12 (within a "
    "factor of two): a campaign only makes unaware customers aware, and two years in nearly all know "
    "the firm (docs/evidence.md, 'Advertising elasticity')"))
def test_short_term_advertising_elasticity_is_the_published_mean(mature):
    """Sethuraman, Tellis & Briesch (2011): mean short-term brand advertising elasticity 0.12.
    Asserted: the model's mean over seeds within a factor of two of it (0.06-0.24); strict
    xfail, so a model change that makes advertising move sales this much is looked at.
    Checked: a goodwill term in choice utility (a stock losing 25 % a week, weight 5, a
    temporary patch of ``Firm._campaign`` and ``events.choose``) turns it into XPASS(strict)."""
    short = mature["short"]
    assert PUBLISHED_SHORT / FACTOR <= short.mean() <= PUBLISHED_SHORT * FACTOR, (short.mean(), error(short),
                                                                                    list(short))


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: in a mature market the focal firm's long-term advertising elasticity (revenue from "
    "the change at week 104 to the end of the run) is 0.000 (6 paired seeds, Monte-Carlo error 0.001), "
    "not 0.24 (within a factor of two): advertising builds no goodwill that outlasts awareness "
    "(docs/evidence.md, 'Advertising elasticity')"))
def test_long_term_advertising_elasticity_is_the_published_mean(mature):
    """Sethuraman, Tellis & Briesch (2011): mean long-term brand advertising elasticity 0.24.
    Asserted: within a factor of two of it (0.12-0.48); strict xfail. Checked: the same
    goodwill patch with weight 3.5 turns it into XPASS(strict) (short term then 0.060,
    still just below its band)."""
    long = mature["long"]
    assert PUBLISHED_LONG / FACTOR <= long.mean() <= PUBLISHED_LONG * FACTOR, (long.mean(), error(long), list(long))


@pytest.mark.slow
def test_advertising_moves_sales_only_while_customers_are_unaware(mature, launch):
    """Regression test of the model as built (not a validation): a campaign only makes unaware
    customers aware (docs/model.md §3.1.1), so the budget moves sales at launch, when 60 % of
    customers do not know the focal firm, and next to nothing two years on.

    Measured (paired lock-step seeds; the machine shared, about 20 s per five-year run): launch,
    first quarter, seeds 1-12: 0.06 (Monte-Carlo error 0.006); mature, quarter after week 104,
    seeds 1-6: 0.000 (error 0.001), long-term 0.000 (error 0.001). Asserted: the launch
    elasticity above 0.03 and above the mature one by more than four Monte-Carlo errors; the
    mature short- and long-term elasticities below 0.01 in size. The direction agrees with the
    meta-analysis (higher in the early than in the mature stage of the life cycle); the size
    in the mature market does not (the two strict xfails above). Fails if campaigns reach nobody
    (``rules.paid_reach`` returning 0: the launch elasticity is then 0) or if the budget enters
    choice utility (a goodwill term: the mature elasticities move off 0)."""
    gap = launch["short"].mean() - mature["short"].mean()
    combined = np.hypot(error(launch["short"]), error(mature["short"]))
    assert launch["short"].mean() > 0.03, list(launch["short"])
    assert gap > 4 * combined, (gap, combined)
    for term in ("short", "long"):
        assert abs(mature[term].mean()) < 0.01, (term, list(mature[term]))
