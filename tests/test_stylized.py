"""Stylized facts of relationship marketing the model should reproduce (issue 11).

Tolerances: rule-level facts are exact functions of the defaults; run-level
facts state their seeds and Monte-Carlo error. Reichheld's retention-to-profit
leverage (+5 points of retention, +25-95 % profit) is tested and not reproduced:
retention levers whose costs are paid move the present value of profit by about
-13 %, not +25-95 % (strict xfail below; docs/evidence.md, "What is not yet
reproduced").
"""

from __future__ import annotations

import numpy as np
import pytest

from relsim import load_scenario
from relsim.market import rules
from relsim.market.metrics import summarize
from relsim.market.runner import simulate
from relsim.scenario.schema import BehaviourSpec

B = BehaviourSpec()


def one_failure_outcomes(commitment: float, resolution: float = 0.8, follow_up: bool = False):
    """P(leave) and P(leave without complaining) after a single failure (docs/model.md §3.6–3.7),
    for a customer of commitment C; an unresolved complaint may also end in exit."""
    voice = 1.0 if follow_up else rules.complaint_probability(commitment, B.voice_base, B.voice_commitment)
    exit_probability = rules.failure_exit_probability(commitment, B.exit_after_failure, B.forgiveness)
    silent_exit = (1.0 - voice) * exit_probability
    voiced_exit = voice * (1.0 - resolution) * exit_probability
    return silent_exit + voiced_exit, silent_exit


def test_one_bad_experience_drives_one_in_three_away():
    """PwC (2018), Experience is everything: 32 % of consumers (17 % in the US) would
    leave a brand they love after one bad experience. A new customer of the ecommerce
    scenario (C = 0, reactive firm, 80 % of complaints resolved) leaves after one
    failure with probability 0.28 (between the US 17 % and the global 32 %, within
    the 25–40 % asserted); more than a third of leavers leave without complaining
    (TARP: most dissatisfied customers never complain)."""
    leave, silent = one_failure_outcomes(0.0)
    assert 0.25 <= leave <= 0.40
    assert silent / leave > 1 / 3
    committed, _ = one_failure_outcomes(0.8)
    assert committed < 0.5 * leave                  # loyal customers forgive
    accountable, silent_accountable = one_failure_outcomes(0.0, follow_up=True)
    assert accountable < 0.1 and silent_accountable == 0.0   # a follow-up call turns exit into voice


def test_a_late_delivery_drives_fewer_away_than_a_defect():
    """Failure magnitude (Smith, Bolton & Wagner 1999): a silent customer's exit
    probability scales with the experience a failure takes away, 1 for a defect
    (experience 0), 1 − 0.3 for a late delivery; an uncommitted customer leaves
    after a defect with e_f = 1/3 and after a late delivery with 0.7 · 1/3."""
    defect = rules.failure_exit_probability(0.0, B.exit_after_failure, B.forgiveness, 1.0 - B.defect_experience)
    late = rules.failure_exit_probability(0.0, B.exit_after_failure, B.forgiveness, 1.0 - B.late_experience)
    assert defect == pytest.approx(B.exit_after_failure)
    assert late == pytest.approx(0.7 * B.exit_after_failure)


@pytest.fixture(scope="module")
def ecommerce_focal():
    """The default scenario (ecommerce, 5,000 customers, 5 years, adaptive
    competition) with the focal firm on each strategy, seeds 0-2 (paired)."""
    scenario = load_scenario("ecommerce", **{"market.engine": "arrays"})
    return {strategy: [summarize(simulate(scenario.with_focal_strategy(strategy), seed=seed).steps).iloc[0]
                       for seed in range(3)]
            for strategy in ("transactional", "relationship")}


@pytest.mark.slow
def test_relationship_retention_gap_is_in_the_range_the_literature_supports(ecommerce_focal):
    """docs/evidence.md, "Expected effect size": a full relationship strategy should keep
    about 5-25 points more of its customers a year than a discount-led one (Gupta,
    Lehmann & Stuart 2004; Reichheld & Sasser 1990; Verhoef 2003). Measured on
    ecommerce at full size, seeds 0-2: transactional 65.8 %, relationship 89.1 %, gap
    +23.3 points (per seed +25.1, +23.1, +21.6; seed SD 1.8, so the 3-seed mean has a
    Monte-Carlo error of about 1 point). Asserted: the mean gap lies in [5, 25], and
    the relationship firm keeps at most 92 % (Gupta et al.'s range tops out at 95 %,
    brokerages; online retail is lower)."""
    gaps = [100 * (r["annual_retention"] - t["annual_retention"])
            for t, r in zip(ecommerce_focal["transactional"], ecommerce_focal["relationship"], strict=True)]
    mean = sum(gaps) / len(gaps)
    assert 5.0 <= mean <= 25.0, gaps
    assert max(r["annual_retention"] for r in ecommerce_focal["relationship"]) <= 0.92


@pytest.mark.slow
def test_referrals_bring_a_fifth_to_half_of_orders_in_a_relationship_market(ecommerce_focal):
    """Word of mouth is the primary factor behind 20-50 % of purchase decisions, most
    for first purchases (Bughin, Doogan & Vetvik 2010, McKinsey Quarterly, "A new way
    to measure word-of-mouth marketing"). A customer is won by word of mouth when a
    recommendation reached it before its first purchase from the firm (docs/model.md
    §3.14). Ecommerce at full size, seeds 0-2: the relationship firm's orders from
    customers won by word of mouth are 26.7 % (per seed 30.9, 23.1, 26.2 %; Monte-Carlo
    error of the mean about 2 points), its share of new customers won by word of mouth
    40.6 %; the transactional firm's 18.7 % and 25.4 %: fewer promoters, fewer
    referrals (asserted per seed). Not reproduced: the issue's "a few per cent" under
    a transactional strategy, which has no source; its satisfied customers talk too."""
    relationship, transactional = ecommerce_focal["relationship"], ecommerce_focal["transactional"]
    orders = sum(r["referral_share_of_orders"] for r in relationship) / len(relationship)
    assert 0.2 <= orders <= 0.5
    new = sum(r["wom_share_of_new"] for r in relationship) / len(relationship)
    assert 0.2 <= new <= 0.5
    for r, t in zip(relationship, transactional, strict=True):
        assert r["wom_share_of_new"] > t["wom_share_of_new"]
        assert r["referral_share_of_orders"] > t["referral_share_of_orders"]


#: Reichheld's regime: ecommerce at 3,000 customers (money scale resized), 260 weeks,
#: static competition (rivals keep their strategies: "the rest equal"), the focal firm on
#: the proactive preset (Kotler level 4), then the same firm with two retention levers
#: pulled, their costs booked: a long supplier contract (fewer failures, dearer goods)
#: and a loyalty programme returning 5 % of spend instead of 2 %.
REICHHELD_SEEDS = tuple(range(6))
REICHHELD_LEVERS = {"strategy": "proactive", "supplier_contract": "long", "reward_rate": 0.05}


@pytest.fixture(scope="module")
def reichheld():
    """Per-seed outcomes (``relsim.evaluate``) of the baseline and of the retention levers,
    paired seeds 0-5 (common random numbers)."""
    from relsim import evaluate
    scenario = load_scenario("ecommerce", **{"market.engine": "arrays",
                                             "market.competition": "static"}).resized(3000)
    return {name: evaluate(policy, scenario, REICHHELD_SEEDS)
            for name, policy in (("baseline", {"strategy": "proactive"}), ("levers", REICHHELD_LEVERS))}


@pytest.mark.slow
def test_reichheld_scenario_is_in_his_regime_and_the_levers_add_about_five_points(reichheld):
    """The design of the Reichheld test below (Reichheld & Sasser 1990, HBR 68(5)): a firm
    whose customers' annual retention is 80-90 % and levers that raise it by about 5
    points. Measured (3,000 customers, 260 weeks, static competition, seeds 0-5):
    baseline 81.0 % (per seed 79.3, 78.5, 82.0, 82.9, 80.5, 82.6 %; seed SD 1.8 points,
    Monte-Carlo error of the mean 0.7), with the levers 86.6 %: +5.6 points (per seed
    +6.5, +8.8, +5.1, +4.1, +6.2, +2.9; SD 2.0, error of the mean 0.8). Asserted: the
    baseline mean in [0.80, 0.90] (it sits near the lower edge: a model change that
    lowers the proactive firm's retention by 1 point moves it out of Reichheld's regime
    and this test says so), the mean gain in 5 ± 2 points.
    Mutation (checked once, seeds 0-5): with ``churn.model = "constant"`` (a lapse hazard
    the firm cannot move) the baseline falls to 28.9 % and the gain to +1.7 points;
    both assertions fail."""
    baseline, levers = reichheld["baseline"], reichheld["levers"]
    assert 0.80 <= baseline["retention"].mean() <= 0.90, list(baseline["retention"])
    gain = 100 * (levers["retention"] - baseline["retention"])
    assert 3.0 <= gain.mean() <= 7.0, list(gain)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Reichheld's leverage is not reproduced: +5.6 points of retention bought with the "
    "long supplier contract and a 5 % loyalty programme change the present value of "
    "profit by -12.8 % (seeds 0-5), not +25-95 %; even a free cut of the focal firm's "
    "lapse hazard (x0.4, +4.3 points) gives only +6 % (docs/evidence.md)"))
def test_five_points_of_retention_raise_profit_by_a_quarter_or_more(reichheld):
    """Reichheld & Sasser 1990 ("Zero defections: quality comes to services", HBR 68(5)):
    5 points fewer defections raise profit by 25-85 % across the industries they studied;
    Reichheld 1996 (The Loyalty Effect) quotes 25-95 %. Here: the change in the focal
    firm's cumulative discounted profit (10 % a year, 260 weeks) when the retention
    levers of the test above add about 5 points, their costs paid; ratio of the 6-seed
    means, paired seeds.

    Measured: baseline 150,400, with the levers 131,200: -12.8 % (per seed -1.3, -4.1,
    -17.8, -26.8, -17.8, -0.9 %; seed SD 10.8 points, so the Monte-Carlo error of the
    mean change is about 4 points, against a gap of 38 points to the band's lower end).
    Revenue rises by about 18 %, but the long contract's dearer goods and the tripled
    reward cost take the whole gross margin it brings (25 % margin; acquisition and desk
    are fixed budgets, not per customer). Reichheld's counterfactual without lever costs
    (the same firm's lapse hazard times 0.4 by patching ``events.talkers_and_leavers``
    for firm 0, same draws: +4.3 points) gives +6.3 % (per seed +14.5, +18.1, -5.1, +5.0,
    -3.0, +13.3 %): customers in this model lapse when they have stopped buying (the
    hazard rises with recency) and lapsed customers come back after dormancy, so
    keeping them adds little revenue, and a customer does not become more profitable per
    order with tenure (no growing basket, falling cost to serve or price premium: the
    gains Reichheld's profit ladder rests on). Checked once each: adaptive competition,
    +5.0 points and -27.9 %; ``churn.lapsed_return = false``, levers -22.9 % (+3.9
    points) but the free hazard cut +58 % (+3.5 points, from a near-break-even baseline).
    Asserted: the mean change in [25 %, 95 %]; strict xfail, so a model change that makes
    retention pay this much turns it into a failure to look at."""
    baseline, levers = reichheld["baseline"], reichheld["levers"]
    change = 100 * (levers["profit"].mean() / baseline["profit"].mean() - 1.0)
    assert 25.0 <= change <= 95.0, (change, list(100 * (levers["profit"] / baseline["profit"] - 1.0)))


@pytest.mark.slow
def test_own_price_elasticity_is_in_the_range_of_the_meta_analyses():
    """Bijmolt, van Heerde & Pieters (2005, "New empirical generalizations on the
    determinants of price elasticity", JMR 42(2)): over 1,851 published brand price
    elasticities the mean is -2.62 (Tellis 1988, JMR 25(4): -1.76); most lie between
    about -1 and -5. Here: the focal firm of ecommerce raises its price by 10 %
    (``firms.0.levers.price`` 1.0 -> 1.1; static competition, so rivals do not answer;
    104 weeks), and the change in its orders in the second year, in per cent per per
    cent of price, is its own-price elasticity (arc, paired seeds 0-3). Measured: -3.55,
    -2.97, -3.23, -3.11 (mean -3.22, seed SD 0.25, Monte-Carlo error of the mean 0.12):
    elastic, near the meta-analytic mean, despite habit (a habitual repeat does not
    weigh price). Asserted: the mean in [-5, -1]. Mutation (checked once, same seeds):
    with ``segments.*.price_sensitivity = 0`` the elasticity is -0.25 (only the
    expectation and value effects of price remain) and this fails. The optimizer's
    price result (docs/optimize/ecommerce) rests on this response."""
    elasticities = []
    orders = {}
    for price in (1.0, 1.1):
        scenario = load_scenario("ecommerce", **{"market.engine": "arrays", "market.competition": "static",
                                                 "market.weeks": 104, "firms.0.levers.price": price})
        for seed in range(4):
            steps = simulate(scenario, seed=seed).steps
            focal = steps[(steps["firm"] == scenario.firms[0].name) & (steps["week"] > 52)]
            orders[price, seed] = float(focal["orders"].sum())
    for seed in range(4):
        elasticities.append((orders[1.1, seed] / orders[1.0, seed] - 1.0) / 0.1)
    assert -5.0 <= float(np.mean(elasticities)) <= -1.0, elasticities


def test_kotler_matrix_reprices_margins_exactly():
    """The Kotler matrix prices every margin from one run (static competition: the unit
    cost of goods moves no behaviour); a direct run at another unit cost agrees."""
    from relsim.studies import kotler
    market = kotler.matrix_scenario(load_scenario("ecommerce"), 200, weeks=26)
    assert market.market.competition == "static"
    assert market.market.customers == 200
    assert sum(s.basket_mean for s in market.segments) == pytest.approx(
        25 * sum(s.basket_mean for s in load_scenario("ecommerce").segments))   # revenue held fixed
    focal, cost = market.firms[0].name, market.suppliers[0].unit_cost
    steps = simulate(market.with_focal_strategy("proactive"), seed=3).steps
    repriced = kotler.profit_at_margins(steps, focal, cost, market.market.discount_rate, margins=(0.55,))
    direct = simulate(market.model_copy(update={"suppliers": [market.suppliers[0].model_copy(
        update={"unit_cost": 0.45})]}).with_focal_strategy("proactive"), seed=3).steps
    assert repriced[0.55] == pytest.approx(
        direct.loc[direct["firm"] == focal, "cumulative_discounted_profit"].iloc[-1], rel=1e-9)


@pytest.mark.slow
def test_kotler_matrix():
    """Kotler's levels of relationship marketing (Kotler, Marketing Management; Kotler &
    Keller 2016): with a market's total revenue held fixed and split among few or
    many customers, the profit-best of the five level presets falls as customers
    become more numerous and rises with the gross margin (15/35/55 %).

    Reduced size: 200, 1,000 and 5,000 customers (the full experiment uses 200,
    2,000 and 20,000: relsim/studies/shipped_experiments/kotler_levels/README.md),
    104 weeks, seeds 0-2, static competition. Monte-Carlo error: paired seed-to-seed
    spreads of the best levels' profits are 2-30 % of the cell's profit, so
    neighbouring levels often tie; monotonicity is asserted up to that error (a
    level only counts as best-instead if it beats every other by more than two
    standard errors: ``kotler.monotone_within_error``), and at least 7 of the 9
    cells' point-best levels lie within one level of Kotler's table."""
    from relsim.studies import kotler
    results = kotler.run_matrix((200, 1000, 5000), seeds=3, weeks=104)
    best = kotler.best_levels(results)
    by_customers, by_margin = kotler.monotone_within_error(results)
    assert by_customers, best
    assert by_margin, best
    assert best["within_one"].sum() >= 7, best
    # the ends of the table: thin margins with many customers favour basic marketing,
    # wide margins with few customers a high level
    table = best.set_index(["customers", "margin"])["best_level"]
    assert table[(5000, 0.15)] <= 2
    assert table[(200, 0.55)] >= 4


@pytest.mark.parametrize("engine", ["agents", "arrays"])
def test_a_recommendation_before_the_first_purchase_wins_the_customer(engine):
    """docs/model.md §3.14: a prospect who already knew a firm (paid reach here) and then
    hears a recommendation for it counts as won by word of mouth; a warning, or a
    recommendation to a former customer, changes no source."""
    from relsim.market.model import MarketModel
    from relsim.market.state import SOURCE_CODE
    from tests.conftest import small
    model = MarketModel(small(customers=300, weeks=4, engine=engine), seed=0)
    model.step()
    population, firm = model.population, 1
    state = population.state
    strangers = np.flatnonzero(~model.aware[:, firm] & (state.spells[:, firm] == 0))[:3]
    former = np.flatnonzero(state.spells[:, firm] > 0)[:1]
    assert former.size == 1
    population.learn_of(firm, strangers, "paid")
    before = state.source[former, firm].copy()
    population.hear(firm, np.concatenate([strangers[:2], former]), np.array([True, False, True]))
    assert state.source[strangers[0], firm] == SOURCE_CODE["wom"]       # recommended before buying
    assert state.source[strangers[1], firm] == SOURCE_CODE["paid"]      # a warning: no
    assert state.source[strangers[2], firm] == SOURCE_CODE["paid"]      # heard nothing
    assert (state.source[former, firm] == before).all()                 # a former customer keeps its source
