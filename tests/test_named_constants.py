"""Behavioural constants that were fixed in code, now scenario fields (docs/evidence.md).

Each field changes what it names in the expected direction or the expected
exact way, at rule or unit level where it can (fast), and an out-of-range
value is refused with a message naming the field, the value and the bound.
The defaults leave the shipped scenarios' results unchanged byte for byte
(checked against the tables' hashes before and after, not here).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim.market.model import MarketModel
from relsim.scenario.schema import ScenarioError
from tests.conftest import small


def _model(customers: int = 50, **changes) -> MarketModel:
    """A tiny ecommerce market (not run); ``changes`` are dotted-path overrides."""
    return MarketModel(small(customers=customers, weeks=2, **changes), seed=0)


# --------------------------------------------------------------------------
# suppliers[]: spot price persistence, shortage mark-up, priority commitment
# --------------------------------------------------------------------------
@pytest.mark.parametrize("persistence", [0.0, 0.5, 0.8])
def test_spot_persistence_is_the_ar1_coefficient(persistence):
    """D' = φ·D + v·Z: without shocks (v = 0) one step keeps the share φ of the deviation."""
    model = _model(**{"suppliers.0.spot_volatility": 0.0, "suppliers.0.spot_persistence": persistence})
    supplier = model.firms[0].supplier
    supplier.spot_log_deviation = 0.4
    supplier.step()
    assert supplier.spot_log_deviation == pytest.approx(persistence * 0.4, abs=1e-15)


@pytest.mark.parametrize("persistence", [0.0, 0.5, 0.8])
def test_spot_spread_follows_the_persistence(persistence):
    """The spot price's mean correction is v²/(2·(1 − φ²)), the stationary variance of D over 2."""
    volatility = 0.3
    model = _model(**{"suppliers.0.spot_volatility": volatility, "suppliers.0.spot_persistence": persistence,
                      "firms.0.levers": {"supplier_contract": "spot"}})
    firm, supplier = model.firms[0], model.firms[0].supplier
    supplier.spot_log_deviation, supplier.shortage_until = 0.0, -1.0
    spec = supplier.spec
    expected = spec.unit_cost * (1 - spec.spot_discount) * math.exp(-volatility**2 / (2 * (1 - persistence**2)))
    assert supplier.unit_cost(firm) == pytest.approx(expected, rel=1e-14)


def test_default_spot_spread_is_the_old_literal_exactly():
    """φ = 0.5 gives 1 − φ² = 0.75 exactly, so the shipped scenarios' costs are unchanged to the bit."""
    assert 1 - 0.5**2 == 0.75
    model = _model(**{"firms.0.levers": {"supplier_contract": "spot"}})
    firm, supplier = model.firms[0], model.firms[0].supplier
    supplier.spot_log_deviation = 0.123
    spec = supplier.spec
    old = (spec.unit_cost * (1 - spec.spot_discount) * 1.0
           * math.exp(0.123 - spec.spot_volatility**2 / (2 * (1 - 0.25))))
    assert supplier.unit_cost(firm) == old


@pytest.mark.parametrize("markup", [1.0, 1.3, 2.0])
def test_shortage_markup_scales_the_spot_cost_exactly(markup):
    model = _model(**{"suppliers.0.shortage_markup": markup, "firms.0.levers": {"supplier_contract": "spot"}})
    firm, supplier = model.firms[0], model.firms[0].supplier
    supplier.spot_log_deviation = 0.05
    supplier.shortage_until = -1.0
    normal = supplier.unit_cost(firm)
    supplier.shortage_until = math.inf
    assert supplier.in_shortage
    assert supplier.unit_cost(firm) / normal == pytest.approx(markup, rel=1e-14)


def test_shortage_markup_leaves_a_long_contract_alone():
    model = _model(**{"suppliers.0.shortage_markup": 2.0, "firms.0.levers": {"supplier_contract": "long"}})
    firm, supplier = model.firms[0], model.firms[0].supplier
    supplier.shortage_until = math.inf
    assert supplier.unit_cost(firm) == supplier.spec.unit_cost


@pytest.mark.parametrize("threshold,commitment,priority", [
    (0.5, 0.6, True), (0.5, 0.45, False), (0.7, 0.6, False), (0.4, 0.45, True), (0.0, 0.0, True)])
def test_priority_commitment_is_the_threshold_of_priority(threshold, commitment, priority):
    model = _model(**{"suppliers.0.priority_commitment": threshold,
                      "firms.0.levers": {"supplier_contract": "long"}})
    firm, supplier = model.firms[0], model.firms[0].supplier
    supplier.shortage_until = math.inf
    supplier.dyads[firm.index].commitment = commitment
    assert supplier.has_priority(firm) is priority
    delay = supplier.spec.shortage_delay_weeks if not priority else 0.0
    assert supplier.lead_time_terms(firm)[2] == delay


def test_spot_buyers_never_have_priority_whatever_the_threshold():
    model = _model(**{"suppliers.0.priority_commitment": 0.0, "firms.0.levers": {"supplier_contract": "spot"}})
    firm, supplier = model.firms[0], model.firms[0].supplier
    supplier.dyads[firm.index].commitment = 1.0
    assert not supplier.has_priority(firm)


# --------------------------------------------------------------------------
# behaviour.supporter_trust: the outputs' ladder reads it (rule-level test: tests/test_rules.py)
# --------------------------------------------------------------------------
def test_supporter_trust_reaches_the_customers_table():
    """Trust ≥ 0 makes every committed customer a supporter or above; trust ≥ 1 almost none."""
    from relsim import simulate
    high_rung = {"supporter", "advocate", "partner"}
    counts = {}
    for threshold in (0.0, 1.0):
        table = simulate(small(customers=200, weeks=4, **{"behaviour.supporter_trust": threshold}), seed=1).customers
        counts[threshold] = int(table["rung"].isin(high_rung).sum())
    assert counts[0.0] > counts[1.0]


# --------------------------------------------------------------------------
# behaviour.unenrolled_reward_share: the firm's programme value in the choice (rule: tests/test_rules.py)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("share", [0.0, 0.2, 0.5, 1.0])
def test_unenrolled_reward_share_reaches_the_firms_programme_value(share):
    model = _model(**{"behaviour.unenrolled_reward_share": share, "firms.0.levers": {"reward_rate": 0.04}})
    firm = model.firms[0]
    assert firm.reward_value(True) == pytest.approx(0.04, rel=1e-15)
    assert firm.reward_value(False) == pytest.approx(0.04 * share, rel=1e-15, abs=1e-18)
    np.testing.assert_allclose(firm.reward_value(np.array([False, True])), [0.04 * share, 0.04], rtol=1e-15)


# --------------------------------------------------------------------------
# word_of_mouth.leaver_warning_weeks: how long a customer who left after a failure may warn others
# --------------------------------------------------------------------------
@pytest.mark.parametrize("weeks", [0.0, 3.0, 8.0])
def test_leaver_warning_weeks_sets_the_end_of_a_leavers_warnings(weeks):
    from relsim.market import events
    model = _model(**{"word_of_mouth.leaver_warning_weeks": weeks})
    state = model.population.state
    leavers = model.population.members_of(model.firms[0].index)[:3]
    events.leave(state, leavers, "failure")
    np.testing.assert_array_equal(state.recent_leavers[0], leavers)
    np.testing.assert_array_equal(state.recent_leavers[2], np.full(3, model.week + weeks))


@pytest.mark.parametrize("engine", ["arrays", "agents"])
def test_no_leaver_warnings_when_leaver_warning_weeks_is_zero(engine, monkeypatch):
    """A short run with many failures (half the orders defective): leavers who may warn exist
    with 8 weeks (and some talk), never with 0."""
    from relsim.market import events
    counts = {}
    original = events.warning_leavers

    def spy(state, talk_draws):
        talkers = original(state, talk_draws)
        counts["eligible"] += state.recent_leavers[0].size
        counts["talkers"] += talkers[0].size
        return talkers

    monkeypatch.setattr(events, "warning_leavers", spy)
    seen = {}
    for weeks in (0.0, 8.0):
        counts.update(eligible=0, talkers=0)
        model = MarketModel(small(customers=300, weeks=12, engine=engine, **{
            "word_of_mouth.leaver_warning_weeks": weeks, "suppliers.0.defect_rate": 0.5}), seed=1)
        while model.running:
            model.step()
        seen[weeks] = dict(counts)
    assert seen[0.0] == {"eligible": 0, "talkers": 0}
    assert seen[8.0]["eligible"] > 0 and seen[8.0]["talkers"] > 0


# --------------------------------------------------------------------------
# The initial customers' seeded history: market.initial_tenure_max_weeks,
# behaviour.initial_customer_commitment_max
# --------------------------------------------------------------------------
def _initial(model: MarketModel, firm: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tenure (weeks before week 0) and commitment of ``firm``'s initial customers."""
    state = model.population.state
    members = model.population.members_of(firm)
    return -state.spell_start[members], state.commitment[members, firm]


@pytest.mark.parametrize("weeks", [0.0, 26.0, 52.0, 520.0])
def test_initial_tenure_max_weeks_scales_the_seeded_tenure_exactly(weeks):
    """Tenure is U(0, T): the same draws, scaled by T / 104 (to float32 rounding, for the first firm, whose
    tenure draws come before any draw whose count depends on T)."""
    reference, _ = _initial(_model(customers=400))
    tenure, _ = _initial(_model(customers=400, **{"market.initial_tenure_max_weeks": weeks}))
    assert reference.size > 20 and reference.max() > 52
    np.testing.assert_allclose(tenure, reference * (weeks / 104.0), rtol=3e-7, atol=0)   # state is float32
    assert np.all((tenure >= 0) & (tenure <= weeks))


@pytest.mark.parametrize("ceiling", [0.0, 0.2, 0.8, 1.0])
def test_initial_customer_commitment_max_scales_the_seeded_commitment_exactly(ceiling):
    """Commitment is U(0, c): the same draws, scaled by c / 0.4 (to float32 rounding), for every firm."""
    reference_model = _model(customers=400)
    model = _model(customers=400, **{"behaviour.initial_customer_commitment_max": ceiling})
    for firm in range(len(model.firms)):
        _, reference = _initial(reference_model, firm)
        _, commitment = _initial(model, firm)
        assert reference.size > 20 and reference.max() > 0.3
        np.testing.assert_allclose(commitment, reference * (ceiling / 0.4), rtol=3e-7, atol=0)   # float32 state
        assert np.all((commitment >= 0) & (commitment <= ceiling))


def test_initial_customer_commitment_max_applies_to_a_population_file(tmp_path):
    """The customers of a population file who have bought start with commitment U(0, c) too."""
    from relsim.scenario.schema import load_scenario
    scenario = ('name = "people"\n[market]\ncustomers = 40\nweeks = 2\n[[segments]]\nname = "all"\n'
                'share = 1.0\n[[suppliers]]\nname = "S"\n[[firms]]\nname = "F"\nsupplier = "S"\n'
                '[population]\nfile = "people.csv"\n')
    rows = "".join(f"0.2,{i % 3},{-5 - i if i % 3 else ''},{-1 if i % 3 else ''}\n" for i in range(40))
    (tmp_path / "people.csv").write_text("need_rate,purchases,first_week,last_purchase_week\n" + rows)
    (tmp_path / "people.toml").write_text(scenario)
    commitment = {}
    for ceiling in (0.4, 0.1):
        model = MarketModel(load_scenario(tmp_path / "people.toml",
                                          **{"behaviour.initial_customer_commitment_max": ceiling}), seed=0)
        commitment[ceiling] = _initial(model)[1]
    assert commitment[0.4].size > 20 and commitment[0.4].max() > 0.3
    np.testing.assert_allclose(commitment[0.1], commitment[0.4] / 4, rtol=3e-7, atol=0)   # float32 state


# --------------------------------------------------------------------------
# behaviour.partner_review_intensity: a partner's weekly review moves the dyad's commitment
# --------------------------------------------------------------------------
@pytest.mark.parametrize("intensity", [0.0, 0.5, 2.0])
def test_partner_review_intensity_scales_the_commitment_step(intensity):
    """C' = C + κ·i_pr·(C* − C) (partners._review_partner): with i_pr = 0 the review leaves commitment
    where it was; otherwise the step is exactly ``rules.update_commitment`` with the field's value."""
    from relsim.market import rules
    from relsim.market.dyad import PartnerDyad
    from relsim.market.partners import _review_partner
    model = _model(**{"behaviour.partner_review_intensity": intensity})
    params = model.behaviour
    dyad = PartnerDyad("a partner", trust=0.9)
    dyad.commitment = 0.1
    _review_partner(model, dyad, 1.0)
    target = rules.commitment_target(dyad.trust, dyad.reciprocity, model.week, params.commitment_trust_weight,
                                     params.commitment_reciprocity_weight, params.commitment_tenure_weight,
                                     params.tenure_scale_weeks)
    assert dyad.commitment == 0.1 + params.commitment_rate * intensity * (target - 0.1)
    assert (dyad.commitment == 0.1) == (intensity == 0.0) and target > 0.1


# --------------------------------------------------------------------------
# behaviour.follow_up_responsiveness, unresolved_complaint_magnitude, supplier_review_intensity
# (session 12: literals of kernels.py and partners.py named; the defaults keep every table)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("observed", [0.0, 0.4, 1.0])
def test_follow_up_responsiveness_is_what_the_call_counts_as(observed):
    """Q' = Q + α_Q·i_fu·(ρ_fu − Q) after a delivery of a firm at level ≥ 3 (events.delivery, on
    time: no ticket); with the literal 1.0 back, ρ_fu = 0 and 0.4 fail."""
    from relsim.market import events
    model = MarketModel(small(customers=200, weeks=2, **{"behaviour.follow_up_responsiveness": observed})
                        .with_focal_strategy("relationship"), seed=0)
    state, params = model.population.state, model.behaviour
    assert model.firms[0].strategy.level >= 3
    customers = state.members_of(0)[:5]
    before = state.responsiveness[customers, 0].astype(float)
    n = customers.size
    events.delivery(state, customers, np.zeros(n, dtype=np.int64), np.zeros(n, bool), np.zeros(n, bool),
                    np.full(n, float(model.week)), model.population.draws, lambda *args: None)
    step = params.responsiveness_rate * params.follow_up_intensity
    np.testing.assert_allclose(state.responsiveness[customers, 0], before + step * (observed - before), rtol=1e-6)


class _FixedDraws:
    """Draws that are all ``value`` (events.answer's exit draw)."""

    by_entry = False

    def __init__(self, value: float) -> None:
        self.value = value

    def uniform(self, purpose, customers, firms=0, need=None):
        return np.full(np.size(customers), self.value)


@pytest.mark.parametrize("magnitude", [0.0, 0.7, 1.0])
def test_unresolved_complaint_magnitude_sets_the_exit_probability(magnitude):
    """An unresolved complaint of an uncommitted customer (C = 0): it leaves iff the exit draw is
    below e_f·μ_u (events.answer); draws just below and just above tell μ_u apart (with the
    literal 1.0 back, μ_u = 0 and 0.7 fail)."""
    from relsim.market import events
    model = _model(customers=200, **{"behaviour.unresolved_complaint_magnitude": magnitude})
    state, params = model.population.state, model.behaviour
    probability = params.exit_after_failure * magnitude
    for draw in (max(probability - 1e-6, 0.0), probability + 1e-6):
        customers = state.members_of(0)[:3]
        assert customers.size == 3
        state.commitment[customers, 0] = 0.0
        n = customers.size
        events.answer(state, customers, np.zeros(n, dtype=np.int64), np.ones(n, bool), np.full(n, math.inf),
                      np.zeros(n, bool), np.full(n, float(model.week)), _FixedDraws(draw))
        assert np.all((state.current[customers] != 0) == (draw < probability)), (draw, probability)


@pytest.mark.parametrize("intensity", [0.0, 0.5, 2.0])
def test_supplier_review_intensity_scales_the_supplier_commitment_step(intensity):
    """C' = C_d + κ·i_s·(C* − C_d) on a long contract (partners.Supplier.review); with i_s = 0
    commitment only decays; with the literal 1.0 back, 0 and 2 fail."""
    from relsim.market import rules
    model = _model(**{"behaviour.supplier_review_intensity": intensity,
                      "firms.0.levers": {"supplier_contract": "long"}})
    firm = model.firms[0]
    assert firm.strategy.supplier_contract == "long"
    supplier, params = firm.supplier, model.behaviour
    dyad = supplier.dyads[firm.index]
    dyad.commitment = 0.1
    firm.deliveries = 0   # no trust update: the target is known
    supplier.review(firm)
    target = rules.commitment_target(dyad.trust, dyad.reciprocity, model.week, params.commitment_trust_weight,
                                     params.commitment_reciprocity_weight, params.commitment_tenure_weight,
                                     params.tenure_scale_weeks)
    decayed = rules.decay(0.1, params.commitment_decay, model.step_weeks)
    assert target > decayed
    assert dyad.commitment == pytest.approx(decayed + params.commitment_rate * intensity * (target - decayed),
                                            rel=1e-12)


# --------------------------------------------------------------------------
# word_of_mouth.max_influence: the bound on word-of-mouth influence (rule: tests/test_rules.py)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["arrays", "agents"])
@pytest.mark.parametrize("maximum", [0.3, 1.0])
def test_max_influence_bounds_the_word_of_mouth_heard_in_a_run(engine, maximum):
    """Through the hearing kernel and alliance referrals: |W| ≤ W_max after a 20-week run of a
    market where many talk (talk_base 0.5), and the bound is reached both ways (a recommendation
    adds 0.5, a warning takes 1.0: both exceed 0.3, so W_max = 0.3 binds at once)."""
    model = MarketModel(small(customers=300, weeks=20, engine=engine, **{
        "word_of_mouth.max_influence": maximum, "word_of_mouth.talk_base": 0.5}), seed=1)
    while model.running:
        model.step()
    wom = model.population.state.wom
    assert np.abs(wom).max() <= maximum * (1 + 1e-6)   # float32 state
    if maximum == 0.3:
        assert wom.max() > 0.29 and wom.min() < -0.29


# --------------------------------------------------------------------------
# Out-of-range values: refused, naming the field, the value and the bound
# --------------------------------------------------------------------------
OUT_OF_RANGE = [
    ("suppliers.0.spot_persistence", 1.0, "suppliers[0].spot_persistence = 1.0", "less than 1"),
    ("suppliers.0.spot_persistence", -0.1, "suppliers[0].spot_persistence = -0.1", "greater than or equal to 0"),
    ("suppliers.0.shortage_markup", 0.9, "suppliers[0].shortage_markup = 0.9", "greater than or equal to 1"),
    ("suppliers.0.shortage_markup", 6.0, "suppliers[0].shortage_markup = 6.0", "less than or equal to 5"),
    ("suppliers.0.priority_commitment", 1.5, "suppliers[0].priority_commitment = 1.5", "less than or equal to 1"),
    ("behaviour.supporter_trust", 1.2, "behaviour.supporter_trust = 1.2", "less than or equal to 1"),
    ("behaviour.unenrolled_reward_share", 1.1, "behaviour.unenrolled_reward_share = 1.1",
     "less than or equal to 1"),
    ("word_of_mouth.leaver_warning_weeks", -1.0, "word_of_mouth.leaver_warning_weeks = -1.0",
     "greater than or equal to 0"),
    ("market.initial_tenure_max_weeks", 2000.0, "market.initial_tenure_max_weeks = 2000.0",
     "less than or equal to 1040"),
    ("behaviour.initial_customer_commitment_max", 1.5, "behaviour.initial_customer_commitment_max = 1.5",
     "less than or equal to 1"),
    ("behaviour.supporter_trust", -0.5, "behaviour.supporter_trust = -0.5", "greater than or equal to 0"),
    ("behaviour.partner_review_intensity", 6.0, "behaviour.partner_review_intensity = 6.0",
     "less than or equal to 5"),
    ("word_of_mouth.max_influence", 0.0, "word_of_mouth.max_influence = 0.0", "greater than 0"),
    ("behaviour.follow_up_responsiveness", 1.5, "behaviour.follow_up_responsiveness = 1.5",
     "less than or equal to 1"),
    ("behaviour.unresolved_complaint_magnitude", -0.1, "behaviour.unresolved_complaint_magnitude = -0.1",
     "greater than or equal to 0"),
    ("behaviour.supplier_review_intensity", 6.0, "behaviour.supplier_review_intensity = 6.0",
     "less than or equal to 5"),
    ("word_of_mouth.max_influence", 11.0, "word_of_mouth.max_influence = 11.0", "less than or equal to 10"),
    ("behaviour.advertising_weight", 6.0, "behaviour.advertising_weight = 6.0", "less than or equal to 5"),
    ("behaviour.advertising_weight", -0.5, "behaviour.advertising_weight = -0.5", "greater than or equal to 0"),
    ("behaviour.advertising_decay", 0.0, "behaviour.advertising_decay = 0.0", "greater than 0"),
    ("behaviour.advertising_decay", 1.5, "behaviour.advertising_decay = 1.5", "less than or equal to 1"),
]


@pytest.mark.parametrize("dotted,value,named,bound", OUT_OF_RANGE)
def test_out_of_range_value_is_refused_naming_field_value_and_bound(dotted, value, named, bound):
    with pytest.raises(ScenarioError) as info:
        small(**{dotted: value})
    message = str(info.value)
    assert named in message, message
    assert bound in message, message
