"""Stylized facts of relationship marketing the model should reproduce (issue 11).

Tolerances: rule-level facts are exact functions of the defaults; run-level
facts state their seeds and Monte-Carlo error. Reichheld's retention-to-profit
leverage (+5 points of retention, +25-95 % profit) is tested in two settings.
In his own, contractual services (scenarios/services.toml: accounts that cost
money to open, customers who grow more profitable with tenure), 5 points more
retention raise the present value of profit by +34 % (reproduced), while the
same retention bought with a loyalty programme pays about +5 % (strict xfail).
In noncontractual online retail (ecommerce) retention levers move profit by
about -13 % and even a free cut of lapses by about +6 %: not reproduced (strict
xfail), as Reinartz & Kumar (2000) found for a catalogue retailer
(docs/evidence.md, "Reichheld's profit ladder").
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
    ecommerce at full size, seeds 0-2 (re-measured 2026-11-30 on the day's final model: offers
    and rewards valued in money, service recovery capped, the competitors' price reaction):
    transactional 67.0 %, relationship 86.3 %, gap +19.3 points (per seed +21.7, +19.2,
    +17.0; seed SD 2.3, so the 3-seed mean has a Monte-Carlo error of about 1.3 points;
    2026-11-29: +23.2, per seed +25.0, +22.9, +21.7). Asserted:
    the mean gap lies in [5, 25], and the relationship firm keeps at most 92 % (Gupta et al.'s range tops out at 95 %,
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
    §3.14). Ecommerce at full size, seeds 0-2 (re-measured 2026-11-30 on the day's final
    model): the relationship firm's orders from customers won by word of mouth are 23.6 %
    (per seed 26.3, 18.4, 26.0 %; Monte-Carlo error of the mean about 2.6 points), its share
    of new customers won by word of mouth 38.3 %; the transactional firm's 17.4 % and 24.5 %
    (seed 1: 18.4 % against 15.4 % of orders, the closest pair): fewer promoters, fewer
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
@pytest.mark.xfail(strict=True, reason=(
    "Since offers and rewards cost money and a recovered complaint no longer beats no failure "
    "(2026-11-30), the proactive ecommerce firm keeps 76.9 % of its customers a year (seeds 0-5), "
    "below Reichheld's 80-90 % regime: the leverage test below runs just outside his regime"))
def test_reichheld_scenario_is_in_his_regime(reichheld):
    """The design of the Reichheld test below (Reichheld & Sasser 1990, HBR 68(5)): a firm
    whose customers' annual retention is 80-90 %. Measured (3,000 customers, 260 weeks,
    static competition, seeds 0-5, re-measured 2026-11-30 after the contract-gap changes of
    that day: win-back expiry, goodwill by value, resolution in responsiveness): baseline
    76.9 % (per seed 78.6, 71.6, 78.0, 78.2, 76.6, 78.3 %; seed SD 2.7 points, Monte-Carlo
    error of the mean 1.1: 2.8 errors below the regime's edge; 77.5 % before those changes).
    It was 81.0 % before offers and rewards were valued in money and service recovery was
    capped at the failure-free satisfaction (docs/evidence.md); a focal quality of 0.85 or
    0.9 instead of 0.8 gave 79.9 % and 79.8 %, still outside.
    Asserted: the baseline mean in [0.80, 0.90]; strict xfail, so a model change that puts
    the firm back in the regime turns it into a failure to look at.
    Mutation (checked once, seeds 0-5, before 2026-11-30): with ``churn.model = "constant"``
    the baseline falls to 28.9 %."""
    baseline = reichheld["baseline"]
    assert 0.80 <= baseline["retention"].mean() <= 0.90, list(baseline["retention"])


@pytest.mark.slow
def test_reichheld_levers_add_about_five_points(reichheld):
    """The levers of the Reichheld test below (a long supplier contract and a 5 % loyalty
    programme instead of 2 %) raise the proactive firm's annual retention by about 5 points.
    Measured (as above, after the contract-gap changes): +6.1 points (per seed +3.7, +8.5,
    +4.5, +6.9, +6.3, +6.5; seed SD 1.7, error of the mean 0.7); earlier on 2026-11-30 +6.2
    (seed SD 3.1, error 1.3); before that day +5.6. Asserted: the mean gain within two
    Monte-Carlo errors of 5 points at the larger error measured, 5 ± 2.6 (it was 5 ± 2,
    narrower than two errors: +6.2 passed by 0.8 points, less than one error). Mutation (checked once,
    seeds 0-5, before 2026-11-30): with ``churn.model = "constant"`` (a lapse hazard the firm
    cannot move) the gain is +1.7 points, below the band."""
    baseline, levers = reichheld["baseline"], reichheld["levers"]
    gain = 100 * (levers["retention"] - baseline["retention"])
    assert 5.0 - 2.6 <= gain.mean() <= 5.0 + 2.6, list(gain)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Noncontractual retail (ecommerce): Reichheld's leverage is not reproduced: +6.1 points "
    "of retention bought with the long supplier contract and a 5 % loyalty programme change "
    "the present value of profit by -28.2 % (seeds 0-5, 2026-11-30), not +25-95 %; even a free cut of the "
    "focal firm's lapse hazard (x0.4, +4.3 points) gave only +6 % (before 2026-11-30); consistent with Reinartz & "
    "Kumar 2000 for a catalogue retailer; reproduced in contractual services (docs/evidence.md)"))
def test_five_points_of_retention_raise_profit_by_a_quarter_or_more(reichheld):
    """Reichheld & Sasser 1990 ("Zero defections: quality comes to services", HBR 68(5)):
    5 points fewer defections raise profit by 25-85 % across the industries they studied;
    Reichheld 1996 (The Loyalty Effect) quotes 25-95 %. Here: the change in the focal
    firm's cumulative discounted profit (10 % a year, 260 weeks) when the retention
    levers of the test above add about 5 points, their costs paid; ratio of the 6-seed
    means, paired seeds.

    Measured (2026-11-30, after offers and rewards were valued in money and the
    contract-gap changes): baseline 93,000, with the levers 66,800: -28.2 % (per seed -21.2,
    -34.4, -30.8, -38.6, -4.4, -29.9 %; seed SD 12.3 points, so the Monte-Carlo error of the
    mean change is about 5.0 points, against a gap of 53 points to the band's lower end);
    earlier that day -29.7 %; before, 150,400 and 131,200: -12.8 %. The long contract's dearer
    goods and the reward cost (now the full cashback
    customers redeem, 5 % instead of 2 % of spend) take more than the gross margin the
    extra retention brings (25 % margin; acquisition and desk are fixed budgets, not per
    customer). The numbers below are from before 2026-11-30. Reichheld's counterfactual without lever costs
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
    retention pay this much turns it into a failure to look at. Kept as the noncontractual
    finding: in a catalogue retailer long-lived customers were not reliably more profitable
    (Reinartz & Kumar 2000, JM 64(4); 2002, HBR 80(7)); ecommerce leaves the profit-ladder
    features of the services scenario off (no acquisition cost per customer, no tenure effects),
    and with them on, the services tests below reproduce the band."""
    baseline, levers = reichheld["baseline"], reichheld["levers"]
    change = 100 * (levers["profit"].mean() / baseline["profit"].mean() - 1.0)
    assert 25.0 <= change <= 95.0, (change, list(100 * (levers["profit"] / baseline["profit"] - 1.0)))


# -- Reichheld in his own setting: contractual services -------------------------------------------
#: The services scenario (scenarios/services.toml: monthly bills, accounts that cost 51 $ to open,
#: bills that grow and cost less to serve with tenure) at its shipped size (3,000 customers, 260
#: weeks), static competition, the focal firm on the proactive preset; paired seeds 0-5.
SERVICES_SEEDS = tuple(range(6))
#: Reichheld's counterfactual: the focal firm's customers' weekly lapse hazard times this, nothing
#: else changed and nothing paid (switching and exits after failures as before). 0.2 is the cut that
#: adds about 5 points of annual retention, the premise of Reichheld's figure.
SERVICES_HAZARD_CUT = 0.2
#: Retention levers with their costs paid: a loyalty programme returning 10 % of spend instead of
#: 2 % and personalised offers to 30 % of customers a week instead of 10 %.
SERVICES_LEVERS = {"strategy": "proactive", "reward_rate": 0.1, "personalisation": 0.3}


def _cut_focal_lapse_hazard(factor: float):
    """``events.talkers_and_leavers`` with the focal firm's (firm 0's) lapse hazard times ``factor``,
    the same churn draws: who talks, and everything else, unchanged."""
    from relsim.market import events
    original = events.talkers_and_leavers

    def cut(state, firm, members, talk_draws, churn_draws, gathered=None, **computed):
        talking, positive, leaving, relationship = original(state, firm, members, talk_draws, churn_draws,
                                                            gathered, **computed)
        if firm == 0:
            leaving = churn_draws[members] < factor * state.model.hazard(relationship, members)
        return talking, positive, leaving, relationship
    return cut


@pytest.fixture(scope="module")
def services():
    """Per-seed outcomes (``relsim.evaluate``, in this process) of the services baseline, of the
    free lapse-hazard cut and of the paid retention levers, paired seeds 0-5."""
    from relsim import evaluate
    from relsim.market import events
    scenario = load_scenario("services", **{"market.engine": "arrays", "market.competition": "static"})
    outcomes = {"baseline": evaluate({"strategy": "proactive"}, scenario, SERVICES_SEEDS),
                "levers": evaluate(SERVICES_LEVERS, scenario, SERVICES_SEEDS)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(events, "talkers_and_leavers", _cut_focal_lapse_hazard(SERVICES_HAZARD_CUT))
        outcomes["hazard_cut"] = evaluate({"strategy": "proactive"}, scenario, SERVICES_SEEDS)
    return outcomes


def test_a_services_customer_costs_more_than_its_first_year_and_grows_more_profitable():
    """Reichheld & Sasser 1990, the credit-card example of their exhibit of profit per customer
    over time (as reported, inflation-adjusted, in the Sun-Sentinel, 11 July 1994: about 60 $ to
    acquire, then 30, 42, 44, 50, 56 $ of profit in years 1-5): a new account does not repay its
    acquisition cost in its first year but does in its second, and a customer who stays earns more
    each year (x1.87 by year 5, with referrals and a price premium in it), from two of the layers
    of their exhibit the model has as rules: it buys more, and it costs less to serve. Here the
    rules of the services scenario (rule-level, exact): the gross margin per year of an account
    billed 12 times at the mean bill (7.5), at the spot unit cost (0.6 x 0.95), with the tenure
    effects at mid-year (``rules.tenure_basket_growth``, ``rules.tenure_cost_factor``): years 1-5
    45.2, 53.9, 58.9, 61.7, 63.4 (x1.40). Asserted: year 1 < A = 51 <= years 1+2; the year-5 /
    year-1 ratio between 1.23 (online grocers' +23 % in spending, months 31-36 against 1-6: Bain &
    Company and Mainspring 2000) and 1.87 (Reichheld & Sasser's card, all layers); bills and the
    margin per unit of revenue both higher in year 5 than in year 1.
    Mutation (checked once): ``behaviour.basket_growth = 0`` gives the ratio 1.075 and equal bills,
    ``costs.serve_cost_saving = 0`` an unchanged margin rate (ratio 1.30),
    ``costs.acquisition_per_customer = 0`` a first year that repays the account; each fails."""
    scenario = load_scenario("services")
    behaviour, costs = scenario.behaviour, scenario.costs
    bill = sum(s.share * s.basket_mean for s in scenario.segments)
    unit_cost = scenario.suppliers[0].unit_cost * (1.0 - scenario.suppliers[0].spot_discount)

    def bills(n: int) -> float:
        return 12 * bill * rules.tenure_basket_growth(52.0 * (n - 0.5), behaviour.basket_growth,
                                                      behaviour.basket_growth_weeks)

    def margin_rate(n: int) -> float:
        return 1.0 - unit_cost * rules.tenure_cost_factor(52.0 * (n - 0.5), costs.serve_cost_saving,
                                                          costs.serve_cost_saving_weeks)

    def year(n: int) -> float:
        return bills(n) * margin_rate(n)

    acquisition = rules.acquisition_cost(1.0, costs.acquisition_per_customer)
    assert year(1) < acquisition <= year(1) + year(2), (year(1), year(2), acquisition)
    assert 1.23 <= year(5) / year(1) <= 1.87, year(5) / year(1)
    assert bills(5) > bills(1) and margin_rate(5) > margin_rate(1)


@pytest.mark.slow
def test_services_scenario_is_in_reichhelds_regime_and_the_cut_adds_about_five_points(services):
    """The design of the services tests below (Reichheld & Sasser 1990): a firm whose customers'
    annual retention is 80-90 %, and a change that keeps about 5 points more of them. Measured
    (3,000 customers, 260 weeks, static competition, seeds 0-5; re-measured 2026-11-30 on that
    day's model): baseline 86.4 % (per seed 86.5, 86.0, 86.3, 85.6, 87.6, 86.7 %; seed SD 0.7,
    Monte-Carlo error of the mean 0.3: in the regime); the focal lapse hazard x0.2 adds +5.4
    points (per seed +3.5, +6.5, +5.9, +6.3, +5.1, +5.3; SD 1.1, error of the mean 0.45), the
    paid levers +3.5 (per seed +1.7, +6.4, +4.3, +4.9, +1.4, +2.5). Before that day: 88.9 %,
    +4.8 and +3.7. Asserted: the baseline mean in [0.80, 0.90], the cut's mean gain in
    5 +- 2 points, the levers' mean gain above 1 point (they are retention levers)."""
    baseline = services["baseline"]
    assert 0.80 <= baseline["retention"].mean() <= 0.90, list(baseline["retention"])
    cut = 100 * (services["hazard_cut"]["retention"] - baseline["retention"])
    assert 3.0 <= cut.mean() <= 7.0, list(cut)
    levers = 100 * (services["levers"]["retention"] - baseline["retention"])
    assert levers.mean() > 1.0, list(levers)


@pytest.mark.slow
def test_five_points_of_retention_raise_a_service_firms_profit_by_a_quarter_or_more(services):
    """Reichheld & Sasser 1990: 5 points fewer defections raise profit by 25-85 % in the service
    businesses they studied (85 % a bank's branches, 50 % an insurance brokerage, 30 % an auto-service
    chain); Reichheld 1996 quotes 25-95 %. Their figure is the value of the customers kept, not net
    of what keeping them costs; so is this test: the focal firm's cumulative discounted profit (10 %
    a year, 260 weeks) when its lapse hazard is cut (x0.2, +4.8 points, the test above), nothing
    paid for it; ratio of the 6-seed means, paired seeds.

    Measured (2026-11-30, that day's model): baseline 52,400, with the cut 73,300: +39.7 % (per
    seed +65.2, +15.6, +36.8, +47.9, +41.9, +36.2 %; seed SD 16.2, Monte-Carlo error of the mean
    6.6 points, 2.2 errors above the band's lower end); before that day 65,500 and 87,700, +33.8 %
    (seed SD 3.9). The mutations below were checked on the earlier model. The same cut on
    ecommerce (noncontractual) gives +6 % (docs/evidence.md).
    Mutation (checked once, seeds 0-5): ``costs.acquisition_per_customer = 0`` gives +16.8 % (per
    seed +15.1 to +17.6 %; a customer kept saves no account to open) and fails; ``behaviour.basket_growth = 0`` and
    ``costs.serve_cost_saving = 0`` together give +118 % (per seed +75 to +411 %) and fail, though
    not because keeping customers is worth less (the cut adds 15,200 instead of 22,200) but because
    the baseline falls to 12,900, near break-even; either alone stays in the band (+65.5 % and
    +41.3 %: the tenure effects raise the value of a kept customer and the base alike). The
    per-customer test above is the one that fails for the tenure effects' own reason. Checked once
    under the scenario's adaptive competition: baseline 90.1 %, the cut +3.7 points and +23.7 %."""
    baseline, cut = services["baseline"], services["hazard_cut"]
    change = 100 * (cut["profit"].mean() / baseline["profit"].mean() - 1.0)
    assert 25.0 <= change <= 95.0, (change, list(100 * (cut["profit"] / baseline["profit"] - 1.0)))


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Retention bought with a 10 % loyalty programme and more personalised offers (+3.5 points) "
    "changes the services firm's present value of profit by -50 % (seeds 0-5, 2026-11-30), not "
    "+25-95 %: the rewards and offers cost more than the customers kept are worth (docs/evidence.md)"))
def test_retention_bought_with_loyalty_levers_raises_a_service_firms_profit_by_a_quarter(services):
    """Reichheld's band for retention that the firm pays for: the focal firm of services with a
    loyalty programme returning 10 % of spend (2 % in the preset) and personalised offers to 30 %
    of its customers a week (10 %), costs booked. Measured (seeds 0-5, paired, 2026-11-30 on that
    day's model, offers and rewards money the firm gives up): +3.5 points of retention, profit
    52,400 -> 26,200: -50.0 % (per seed -52.4, -57.7, -53.3, -32.5, -51.5, -55.3 %; seed SD 9.1);
    before that day +4.7 % (65,500 -> 68,600). The customers kept are worth about +20,800 at +5.4
    points (the test above); the programme's cashback (10 % of spend, the redeemed share of it)
    and the offers' discounts cost more than that. Asserted: the mean change in
    [25 %, 95 %]; strict xfail, so a change that makes such levers pay this much is looked at."""
    baseline, levers = services["baseline"], services["levers"]
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


@pytest.fixture(scope="module")
def kotler_matrix():
    """Kotler's matrix at reduced size (below): every cell's profits and the best levels."""
    from relsim.studies import kotler
    results = kotler.run_matrix((200, 1000, 5000), seeds=3, weeks=104)
    return results, kotler.best_levels(results)


@pytest.mark.slow
def test_kotler_matrix_is_monotone(kotler_matrix):
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
    standard errors: ``kotler.monotone_within_error``); thin margins with many
    customers favour basic marketing."""
    from relsim.studies import kotler
    results, best = kotler_matrix
    by_customers, by_margin = kotler.monotone_within_error(results)
    assert by_customers, best
    assert by_margin, best
    table = best.set_index(["customers", "margin"])["best_level"]
    assert table[(5000, 0.15)] <= 2


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "Since offers and rewards cost money and a recovered complaint no longer beats no failure "
    "(2026-11-30), the basic level is the point-best in all three 200-customer cells: 5 of 9 "
    "cells within one level of Kotler's table (was 8 of 9), and the few-customers/high-margin "
    "cell does not favour a high level"))
def test_kotler_matrix_cells_match_kotlers_table(kotler_matrix):
    """At least 7 of the 9 cells' point-best levels lie within one level of Kotler's table,
    and wide margins with few customers favour a high level (≥ 4). Measured 2026-11-30
    (after the credibility changes of that day, docs/evidence.md): 5 of 9; at 200 customers
    the basic level is point-best at every margin — profits at 55 % margin, mean (SD) over
    seeds 0-2: basic 266 k (27 k), accountable 255 k (40 k), proactive 253 k (54 k),
    partnership 218 k (42 k), reactive 200 k (40 k): the levels above basic are within
    the seed noise of it there, but partnership no longer leads. Before that day's changes:
    8 of 9 (the free utility of personalised offers and the recovery paradox carried the
    high levels). Strict xfail, so a model change that restores the table shows up."""
    _, best = kotler_matrix
    assert best["within_one"].sum() >= 7, best
    table = best.set_index(["customers", "margin"])["best_level"]
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
