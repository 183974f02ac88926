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

Carry-over (with advertising goodwill on): after adjusting for the bias of the data
interval, the average duration interval of advertising's effect on sales is typically six
to nine months (Leone 1995, "Generalizing what is known about temporal aggregation and
advertising carryover", Marketing Science 14(3), G141-G150, abstract). The model's
counterpart: the 90 % duration interval (Clarke 1976) of the focal firm's revenue response
to a pulse (its budget doubled for four weeks from week 104, against the same seed without
it, lock-step runs), with the same tolerance (a factor of two: 13-78 weeks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from relsim import load_scenario
from relsim.market.model import MarketModel
from relsim.market.runner import simulate
from relsim.scenario.schema import CALIBRATED_ADVERTISING_WEIGHT
from tests.conftest import small

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


def focal_revenue(seed: int, factor: float, change_week: int, weeks: int,
                  overrides: dict[str, Any] | None = None, end_week: int | None = None) -> np.ndarray:
    """The focal firm's weekly revenue on ecommerce (static rivals, lock-step draws) when its
    acquisition budget is multiplied by ``factor`` from the start of week ``change_week`` on
    (``overrides``: further scenario fields, e.g. ``behaviour.advertising_weight``), back to the
    budget as shipped from the start of week ``end_week`` if given (a pulse)."""
    scenario = load_scenario("ecommerce", **{"market.competition": "static", "market.engine": "arrays",
                                             "market.weeks": weeks, **(overrides or {})})
    model = MarketModel(scenario, seed=seed, lockstep=True)
    focal = model.firms[0]
    budget = focal.strategy.acquisition_budget
    while model.running:
        if model.steps == change_week:   # weeks on the books
            focal.strategy = focal.strategy.model_copy(update={"acquisition_budget": budget * factor})
        if model.steps == end_week:
            focal.strategy = focal.strategy.model_copy(update={"acquisition_budget": budget})
        model.step()
    return np.array([row["revenue"] for row in model.recorder.rows if row["firm"] == focal.name])


def arc_elasticity(up: float, down: float) -> float:
    """Arc elasticity of sales for a ±``STEP`` change of the budget."""
    return ((up - down) / ((up + down) / 2.0)) / (2.0 * STEP)


def elasticities(change_week: int, weeks: int, seeds: tuple[int, ...],
                 overrides: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Per seed: the short-term (quarter after the change), first-year and long-term (change to the
    end) arc elasticities of the focal firm's revenue."""
    short, year, long = [], [], []
    for seed in seeds:
        up = focal_revenue(seed, 1.0 + STEP, change_week, weeks, overrides)
        down = focal_revenue(seed, 1.0 - STEP, change_week, weeks, overrides)
        window = slice(change_week, change_week + SHORT_WEEKS)
        short.append(arc_elasticity(up[window].sum(), down[window].sum()))
        first_year = slice(change_week, change_week + 52)
        year.append(arc_elasticity(up[first_year].sum(), down[first_year].sum()))
        long.append(arc_elasticity(up[change_week:].sum(), down[change_week:].sum()))
    return {"short": np.array(short), "year": np.array(year), "long": np.array(long)}


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


# --------------------------------------------------------------------------
# Advertising goodwill (behaviour.advertising_weight; off by default): a Nerlove-Arrow stock per firm
# whose saturating appeal enters the choice utility of every customer who knows the firm
# (rules.advertising_goodwill, rules.advertising_appeal; docs/evidence.md, "Advertising elasticity")
# --------------------------------------------------------------------------
GOODWILL = {"behaviour.advertising_weight": CALIBRATED_ADVERTISING_WEIGHT}

#: The advertising pulse of the duration measurement: the focal budget doubled for four weeks from week 104.
PULSE_FACTOR = 2.0
PULSE_WEEKS = 4
#: Clarke's (1976) 90 % duration interval: the time by which 90 % of an advertising impulse's effect on sales
#: has occurred (Leone's abstract gives no percentage; reading his interval as the 90 % one is an assumption,
#: docs/evidence.md, "Carry-over").
DURATION_SHARE = 0.9


def pulse_response(seed: int, overrides: dict[str, Any] | None = None, weeks: int = 260,
                   baseline: np.ndarray | None = None) -> np.ndarray:
    """The extra weekly revenue of the focal firm from the pulse's first week to the end of the run: the
    run with its budget ×``PULSE_FACTOR`` for ``PULSE_WEEKS`` weeks from week ``CHANGE_WEEK``, minus the
    same seed without the pulse (``baseline``, its weekly revenue, if already run; paired lock-step runs)."""
    if baseline is None:
        baseline = focal_revenue(seed, 1.0, CHANGE_WEEK, weeks, overrides)
    pulsed = focal_revenue(seed, PULSE_FACTOR, CHANGE_WEEK, weeks, overrides, end_week=CHANGE_WEEK + PULSE_WEEKS)
    return (pulsed - baseline)[CHANGE_WEEK:]


def duration_interval(response: np.ndarray, share: float = DURATION_SHARE) -> float:
    """The ``share`` duration interval in weeks (Clarke 1976): the number of weeks from the pulse's start
    until ``share`` of the cumulative extra revenue to the end of the run has occurred (the first week the
    running sum reaches it); NaN when the pulse added no revenue (nothing to apportion). Where the response
    outlasts the run, this is a lower bound of the interval an endless run would give."""
    cumulative = np.cumsum(response)
    total = cumulative[-1]
    if total <= 0.0:
        return float("nan")
    return float(np.argmax(cumulative >= share * total) + 1)


def _aware_market(weight: float, factor: float, seed: int, weeks: int = 40, change_week: int = 8) -> np.ndarray:
    """The focal firm's weekly revenue and orders (columns) in a small market that is mature by construction
    (600 customers, every one knows every firm from the start, so a campaign reaches nobody new; static
    rivals, lock-step draws) when its budget is multiplied by ``factor`` from week ``change_week`` on."""
    changes = {"market.competition": "static", "behaviour.advertising_weight": weight,
               **{f"firms.{k}.initial_awareness": 1.0 for k in range(4)}}
    model = MarketModel(small(customers=600, weeks=weeks, **changes), seed=seed, lockstep=True)
    focal = model.firms[0]
    budget = focal.strategy.acquisition_budget
    while model.running:
        if model.steps == change_week:
            focal.strategy = focal.strategy.model_copy(update={"acquisition_budget": budget * factor})
        model.step()
    return np.array([(row["revenue"], row["orders"]) for row in model.recorder.rows if row["firm"] == focal.name])


def test_goodwill_moves_sales_where_everyone_already_knows_the_firm():
    """Where every customer knows every firm from the start a campaign reaches nobody, so without
    goodwill the focal firm's sales are bit for bit the same whether it triples its budget or stops
    advertising at week 8; with goodwill on (the calibrated weight) tripling sells more than stopping
    (paired lock-step runs, 600 customers, weeks 8-40; measured on seeds 0-5: +121 to +166 orders on
    500-637, i.e. +20 to +27 %; asserted on seeds 0 and 1: more than 10 % more orders). Mutation: the appeal
    not added in ``kernels.choose`` (``appeal[f]`` passed as 0) makes the goodwill runs equal and fails
    here."""
    np.testing.assert_array_equal(_aware_market(0.0, 3.0, seed=0), _aware_market(0.0, 0.0, seed=0))
    for seed in (0, 1):
        up = _aware_market(CALIBRATED_ADVERTISING_WEIGHT, 3.0, seed)
        down = _aware_market(CALIBRATED_ADVERTISING_WEIGHT, 0.0, seed)
        np.testing.assert_array_equal(up[:8], down[:8])          # the same until the change
        assert up[8:, 1].sum() > 1.1 * down[8:, 1].sum(), (seed, up[8:, 1].sum(), down[8:, 1].sum())


def test_goodwill_off_leaves_a_run_unchanged_and_its_decay_idle():
    """With ``advertising_weight`` 0 (the default) no firm holds a stock or an appeal, and a run with
    another decay gives the default run's tables bit for bit (the reference tables of every shipped
    scenario, /tmp/s14/ref.py, are unchanged too: diffs 0). Mutation: the appeal without its weight
    (``G/(G + 1/δ)``) with the stock kept whatever the weight (the two ``advertising_weight > 0`` guards of
    ``Firm`` dropped) fails here."""
    base = small(customers=300, weeks=20)
    other = small(customers=300, weeks=20, **{"behaviour.advertising_decay": 0.5})
    model = MarketModel(other, seed=1)
    assert all(f.advertising_stock == 0.0 and f.advertising_appeal == 0.0 for f in model.firms)
    first, second = simulate(base, seed=1), simulate(other, seed=1)
    for table in ("steps", "customers"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(second, table))


@pytest.mark.parametrize("step_weeks", [1.0, 2.0])
def test_goodwill_starts_at_the_steady_stock_and_decays_without_a_budget(step_weeks):
    """A firm that advertised before the run starts at the steady stock b/δ of its starting budget
    (appeal w·b/(b + 1)); with its budget cut to 0 the stock keeps decaying, (1 − δ)^t after t weeks,
    also with steps of two weeks (``market.step_weeks``) (``Firm._campaign`` returns early without a
    budget: the stock is updated before). Mutations: the initial stock 0, the stock left alone when the
    budget is 0, and the step's length ignored (``weeks`` not passed), each fail here."""
    delta = 0.068   # a stock that lasts (the default decay, 1, keeps none: its test is the rules')
    model = MarketModel(small(customers=200, weeks=30, **GOODWILL, **{"market.step_weeks": step_weeks,
                                                                      "behaviour.advertising_decay": delta}), seed=0)
    w = CALIBRATED_ADVERTISING_WEIGHT
    for firm in model.firms:
        b = firm.strategy.acquisition_budget
        assert firm.advertising_stock == pytest.approx(b / delta, rel=1e-12)
        assert firm.advertising_appeal == pytest.approx(w * b / (b + 1.0), rel=1e-12)
    focal = model.firms[0]
    start = focal.advertising_stock
    focal.strategy = focal.strategy.model_copy(update={"acquisition_budget": 0.0})
    for _ in range(10):
        model.step()
    assert focal.advertising_stock == pytest.approx(start * (1.0 - delta) ** (10 * step_weeks), rel=1e-12)
    assert focal.books["acquisition"] == 0.0


@pytest.fixture(scope="module")
def mature_goodwill():
    """Elasticities of a change at week 104 with advertising goodwill on at the calibrated weight."""
    return elasticities(CHANGE_WEEK, 260, MATURE_SEEDS, GOODWILL)


@pytest.fixture(scope="module")
def launch_goodwill():
    """Short-term elasticities of a change from the first week, goodwill on (first quarter only)."""
    return elasticities(0, SHORT_WEEKS, LAUNCH_SEEDS, GOODWILL)


@pytest.mark.slow
def test_calibrated_goodwill_gives_the_published_long_term_elasticity(mature_goodwill):
    """**Calibration check, not a validation**: ``CALIBRATED_ADVERTISING_WEIGHT`` was fitted to this
    number (Sethuraman, Tellis & Briesch 2011: mean long-term brand advertising elasticity 0.24).
    Calibrated on seeds 1-12 at δ = 0.068 (w = 2.0: 0.224, error 0.010; w = 2.2: 0.250, error 0.018); here
    at the default decay (1, no stock), seeds 1-6, measured 0.279 (error 0.035). Asserted: within a factor
    of two of 0.24 (0.12-0.48). Fails if the
    goodwill stops acting (the appeal not added in ``kernels.choose``: the model is then the default one,
    whose mature long-term elasticity is 0.000, the strict xfail above)."""
    long = mature_goodwill["long"]
    assert PUBLISHED_LONG / FACTOR <= long.mean() <= PUBLISHED_LONG * FACTOR, (long.mean(), error(long), list(long))


@pytest.mark.slow
def test_calibrated_goodwill_gives_the_published_short_term_elasticity(mature_goodwill):
    """Sethuraman, Tellis & Briesch (2011), mean short-term brand advertising elasticity 0.12. Not an
    independent validation: the weight was fitted to the long-term mean, and the default decay (1) was
    chosen from three measured values (0.068, 0.25, 1) with this number in view, so it checks the pair of
    calibrated parameters against the second of the two means they were chosen for. Measured at the default decay (1,
    no stock), seeds 1-6: 0.067 (Monte-Carlo error 0.010), inside the factor-of-two band (0.06-0.24) but
    only 0.7 errors above its lower end, so what is asserted is that the band is not excluded: the mean
    within two Monte-Carlo errors of it. Fails with a stock that lasts: δ = 0.068 (Leone's six to nine
    months) gives 0.020 (error 0.006; 0.017 on seeds 1-12), because the stock builds up over months and
    the customers' own carry-over delays the response further (docs/evidence.md, 'Advertising
    elasticity')."""
    short = mature_goodwill["short"]
    slack = 2.0 * error(short)
    assert PUBLISHED_SHORT / FACTOR - slack <= short.mean() <= PUBLISHED_SHORT * FACTOR + slack, (
        short.mean(), error(short), list(short))


@pytest.mark.slow
def test_with_goodwill_advertising_still_works_better_early_in_the_life_cycle(mature_goodwill, launch_goodwill):
    """Validation of a direction (Sethuraman, Tellis & Briesch 2011: elasticities are higher in the
    early than in the mature stage of the life cycle), with goodwill on: the launch short-term elasticity
    (first quarter, seeds 1-12) above the mature one (the quarter after week 104, seeds 1-6) by more than
    four Monte-Carlo errors. Measured 2026-11-30 at the default decay (1): launch 0.162 (error 0.009), mature
    0.067 (error 0.010), gap 7.0 combined errors (at δ = 0.068: 0.088 and 0.020, 6.7). Fails if campaigns
    reach nobody (``rules.paid_reach`` returning 0: checked, the launch elasticity is then goodwill's alone,
    0.097 (error 0.009) against the mature 0.054, 3.8 combined errors: a narrow failure)."""
    gap = launch_goodwill["short"].mean() - mature_goodwill["short"].mean()
    combined = np.hypot(error(launch_goodwill["short"]), error(mature_goodwill["short"]))
    assert gap > 4 * combined, (gap, combined, list(launch_goodwill["short"]), list(mature_goodwill["short"]))


# --------------------------------------------------------------------------
# Carry-over: the model's duration interval of the sales response to an advertising pulse against Leone (1995)
# (docs/evidence.md, "Carry-over: the model's duration interval against Leone (1995)")
# --------------------------------------------------------------------------
#: Leone (1995), abstract: after adjusting for the data-interval bias, the average advertising duration
#: interval is typically six to nine months (26-39 weeks).
PUBLISHED_DURATION_WEEKS = (26.0, 39.0)
DURATION_SEEDS = (1, 2, 3, 4)


@pytest.mark.parametrize("decay", [0.068, 0.25])
def test_duration_interval_of_a_geometric_response_is_the_stock_rule(decay):
    """The measure reproduces the arithmetic docs/evidence.md used to take δ from Leone: a response that
    falls by (1 − δ) a week has its 90 % duration interval at the first t with 1 − (1 − δ)^t ≥ 0.9
    (33 weeks at δ = 0.068, 9 at 0.25); a response that does not arrive is NaN. Mutations: the share
    ignored (0.5 used) and the week counted from 0 (no ``+ 1``) each fail here."""
    response = (1.0 - decay) ** np.arange(2000)
    expected = int(np.ceil(np.log(0.1) / np.log(1.0 - decay)))
    assert duration_interval(response) == expected
    assert np.isnan(duration_interval(np.zeros(10)))


@pytest.fixture(scope="module")
def goodwill_pulse():
    """The focal firm's extra weekly revenue after a pulse (budget doubled for four weeks from week 104) with
    goodwill on as shipped when switched on (w = 2.2, δ = 1), one row per seed of ``DURATION_SEEDS``."""
    return np.array([pulse_response(seed, GOODWILL) for seed in DURATION_SEEDS])


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: with goodwill on (w = 2.2, δ = 1, no stock) the 90 % duration interval of the focal firm's "
    "sales response to a four-week advertising pulse at week 104 is 133 weeks (seeds 1-4, of the seeds' mean "
    "response; per seed 58-146; 120, bootstrap error 11, on seeds 1-12), not Leone's six to nine months within a "
    "factor of two (13-78 weeks): a customer won keeps buying for years (habit, inertia, commitment); a stock "
    "that lasts (δ = 0.068) makes it longer still, 135-136 (docs/evidence.md, 'Carry-over: the model's duration "
    "interval against Leone (1995)')"))
def test_goodwill_duration_interval_is_leones(goodwill_pulse):
    """Leone (1995): the average duration interval of advertising's effect on sales is six to nine months
    (26-39 weeks), read as Clarke's (1976) 90 % duration interval. The model's counterpart: the weeks from the
    pulse's start until 90 % of the focal firm's extra revenue to the end of the run (156 weeks) has come in,
    of the mean response over paired lock-step seeds 1-4, at the default decay (1, no stock): 133 (per seed
    58-146; 120, bootstrap error 11, on seeds 1-12; with a stock that lasts, δ = 0.068: 135, error 12, on
    seeds 1-4). Asserted: within a factor of two of the published interval (13-78 weeks; the same assumed
    tolerance as the elasticities: the abstract gives a typical range, no spread). Strict xfail. Checked
    (at δ = 0.068, where the stock's own 33 weeks remain once the customers' carry-over is gone): the
    customers' own carry-over removed (``behaviour.habit_max``, ``inertia``, ``inertia_commitment``,
    ``w_trust``, ``w_commitment``, ``w_reciprocity``, ``w_responsiveness`` all 0 in the fixture) gives 37-62
    weeks per seed and turns it into XPASS(strict); the habit alone off does not (98-128 weeks per seed); at
    δ = 1 with the carry-over removed the interval is the pulse's own (4 weeks, below the band)."""
    duration = duration_interval(goodwill_pulse.mean(axis=0))
    low, high = PUBLISHED_DURATION_WEEKS
    assert low / FACTOR <= duration <= high * FACTOR, (duration, [duration_interval(r) for r in goodwill_pulse])
