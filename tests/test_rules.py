"""Tests of the pure behaviour rules in relsim.market.rules.

Random inputs come from ``np.random.default_rng`` with fixed seeds (never the
global ``np.random`` state), so every test is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from relsim.market import rules
from relsim.scenario.schema import BehaviourSpec, ChurnSpec, CostSpec, WordOfMouthSpec

N = 20_000  # random inputs per bounds test
B = BehaviourSpec()
CHURN = ChurnSpec()
WOM = WordOfMouthSpec()

HAZARD_KW = dict(base=CHURN.base_hazard, w_satisfaction=CHURN.w_satisfaction,
                 w_commitment=CHURN.w_commitment, w_recency=CHURN.w_recency,
                 w_competitor=CHURN.w_competitor)
TALK_KW = dict(base=WOM.talk_base, w_satisfaction=WOM.talk_satisfaction,
               w_commitment=WOM.talk_commitment, promoter_threshold=WOM.promoter_threshold,
               detractor_threshold=WOM.detractor_threshold, w_negative=WOM.talk_negative)
RUNG_KW = dict(supporter_commitment=B.supporter_commitment, supporter_trust=B.supporter_trust,
               advocate_commitment=B.advocate_commitment,
               partner_commitment=B.partner_commitment, promoter_threshold=WOM.promoter_threshold)
CHOICE_KW = dict(w_trust=B.w_trust, w_commitment=B.w_commitment, w_reciprocity=B.w_reciprocity,
                 w_responsiveness=B.w_responsiveness, w_wom=B.w_wom,
                 inertia=B.inertia, inertia_commitment=B.inertia_commitment)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def unit(rng: np.random.Generator, n: int = N) -> np.ndarray:
    return rng.random(n)


def coin(rng: np.random.Generator, n: int = N) -> np.ndarray:
    return rng.integers(0, 2, n).astype(float)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
class TestHelpers:
    def test_clip_scalar_and_array(self):
        assert rules.clip(-0.5, 0.0, 1.0) == 0.0
        assert rules.clip(1.5, 0.0, 1.0) == 1.0
        assert rules.clip(0.25, 0.0, 1.0) == 0.25
        np.testing.assert_array_equal(rules.clip(np.array([-0.5, 0.25, 1.5]), 0.0, 1.0),
                                      [0.0, 0.25, 1.0])

    def test_sigmoid_logit_inverse(self, rng):
        p = rng.uniform(1e-6, 1 - 1e-6, 500)
        back = np.array([rules.sigmoid(rules.logit(float(x))) for x in p])
        np.testing.assert_allclose(back, p, rtol=1e-9)
        assert rules.sigmoid(0.0) == 0.5

    def test_sigmoid_extremes_agree(self):
        assert rules.sigmoid(-800.0) == 0.0
        assert rules.sigmoid(800.0) == 1.0
        with np.errstate(over="ignore"):
            out = rules.sigmoid(np.array([-800.0, 800.0]))
        np.testing.assert_allclose(out, [0.0, 1.0], atol=1e-300)

    def test_sigmoid_monotone_and_bounded(self, rng):
        x = np.sort(rng.uniform(-30, 30, N))
        s = rules.sigmoid(x)
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) >= 0)


# --------------------------------------------------------------------------
# Bounds over many random inputs
# --------------------------------------------------------------------------
class TestBounds:
    def test_trust_stays_in_unit_interval(self, rng):
        trust, success = unit(rng), coin(rng)
        gain, loss, severity = unit(rng), unit(rng), unit(rng)
        out = rules.update_trust(trust, success, gain, loss, severity)
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_trust_stays_in_unit_interval_over_many_events(self, rng):
        trust = unit(rng, 2000)
        for _ in range(200):
            severity = rules.failure_severity(unit(rng, 2000), coin(rng, 2000), B.forgiveness)
            trust = rules.update_trust(trust, coin(rng, 2000), B.trust_gain, B.trust_loss, severity)
            assert np.all((trust >= 0.0) & (trust <= 1.0))

    def test_trust_fixed_points(self):
        assert rules.update_trust(1.0, 1.0, 0.3, 0.3) == 1.0
        assert rules.update_trust(0.0, 0.0, 0.3, 0.3) == 0.0
        assert rules.update_trust(0.0, 1.0, 0.3, 0.3) == pytest.approx(0.3)
        assert rules.update_trust(1.0, 0.0, 0.3, 0.3) == pytest.approx(0.7)

    def test_failure_severity_in_unit_interval(self, rng):
        out = rules.failure_severity(unit(rng), coin(rng), unit(rng))
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_satisfaction_stays_in_minus_one_one(self, rng):
        s = rng.uniform(-1, 1, N)
        out = rules.update_satisfaction(s, unit(rng), unit(rng), rng.uniform(1e-6, 1, N))
        assert np.all((out >= -1.0) & (out <= 1.0))

    def test_commitment_target_in_unit_interval(self, rng):
        out = rules.commitment_target(unit(rng), unit(rng), rng.uniform(0, 1000, N),
                                      2.0, 2.0, 2.0, 52.0)
        assert np.all((out >= 0.0) & (out <= 1.0))
        assert out.max() == 1.0  # clipped: the weights above can exceed 1

    def test_update_commitment_in_unit_interval(self, rng):
        out = rules.update_commitment(unit(rng), unit(rng), unit(rng), 1.0)
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_reciprocity_in_unit_interval(self, rng):
        out = rules.update_reciprocity(unit(rng), unit(rng))
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_response_quality_bounds(self, rng):
        out = rules.response_quality(rng.exponential(1.0, N), 0.1)
        assert np.all((out >= 0.0) & (out <= 1.0))
        assert rules.response_quality(0.0, 0.1) == 1.0
        assert rules.response_quality(math.inf, 0.1) == 0.0
        assert rules.response_quality(np.array([math.inf]), 0.1)[0] == 0.0
        assert rules.response_quality(0.1, 0.1) == pytest.approx(math.exp(-1))

    def test_responsiveness_in_unit_interval(self, rng):
        out = rules.update_responsiveness(unit(rng), unit(rng), unit(rng))
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_service_recovery_bounds(self, rng):
        out = rules.service_recovery(rng.uniform(-1, 1, N), unit(rng), coin(rng), 2.0, rng.uniform(-1, 2, N))
        assert np.all((out >= -1.0) & (out <= 1.0))
        assert out.max() == 1.0

    def test_knowledge_in_unit_interval(self, rng):
        out = rules.update_knowledge(unit(rng), rng.integers(0, 50, N), unit(rng))
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_paid_reach_bounds(self, rng):
        out = rules.paid_reach(rng.uniform(0, 1e5, N), 250.0, 600.0)
        assert np.all((out >= 0.0) & (out < 250.0 + 1e-9))
        assert rules.paid_reach(0.0, 250.0, 600.0) == 0.0
        assert rules.paid_reach(600.0, 250.0, 600.0) == pytest.approx(125.0)

    def test_complaint_probability_bounds(self, rng):
        out = rules.complaint_probability(unit(rng), unit(rng, 1)[0] + 0.5, unit(rng, 1)[0] + 0.5)
        assert np.all((out >= 0.0) & (out <= 1.0))
        assert out.max() == 1.0

    def test_failure_exit_probability_bounds(self, rng):
        out = rules.failure_exit_probability(unit(rng), B.exit_after_failure, B.forgiveness)
        assert np.all((out >= 0.0) & (out <= B.exit_after_failure))

    def test_churn_hazard_bounds_and_neutral_point(self, rng):
        out = rules.churn_hazard(rng.uniform(-1, 1, N), unit(rng), rng.uniform(0, 10, N),
                                 rng.normal(0, 3, N), **HAZARD_KW)
        assert np.all((out > 0.0) & (out < 1.0))
        assert rules.churn_hazard(0.0, 0.0, 1.0, 0.0, **HAZARD_KW) == pytest.approx(CHURN.base_hazard)

    def test_per_step_bounds_and_identity(self, rng):
        p = unit(rng)
        out = rules.per_step(p, 0.5)
        assert np.all((out >= 0.0) & (out <= 1.0))
        np.testing.assert_allclose(rules.per_step(p, 1.0), p)
        # two half-week steps survive with the weekly probability
        np.testing.assert_allclose((1 - out) ** 2, 1 - p)

    def test_talk_probabilities_bounds(self, rng):
        s = rng.uniform(-1, 1, N)
        pos, neg = rules.talk_probability(s, unit(rng), **TALK_KW)
        assert np.all((pos >= 0) & (pos <= 1) & (neg >= 0) & (neg <= 1))
        assert np.all(pos[s < WOM.promoter_threshold] == 0)
        assert np.all(neg[s > WOM.detractor_threshold] == 0)
        assert np.all(pos[s >= WOM.promoter_threshold] > 0)
        assert np.all(neg[s <= WOM.detractor_threshold] > 0)

    def test_loyalty_rung_values(self, rng):
        out = rules.loyalty_rung(coin(rng), rng.integers(0, 5, N), unit(rng), unit(rng),
                                 rng.uniform(-1, 1, N), co_creation=coin(rng), **RUNG_KW)
        assert set(np.unique(out)) <= set(range(len(rules.RUNGS)))
        assert set(np.unique(out)) == set(range(len(rules.RUNGS)))  # every rung reachable

    def test_discounting(self):
        assert rules.discount_factor(0.0, 0.1) == 1.0
        assert rules.discount_factor(52.0, 0.1) == pytest.approx(1 / 1.1)
        w = rules.weekly_rate(0.1)
        assert (1 + w) ** 52 == pytest.approx(1.1)
        assert rules.discount_factor(13.0, 0.1) == pytest.approx((1 + w) ** -13)


# --------------------------------------------------------------------------
# Direction of effects
# --------------------------------------------------------------------------
class TestDirections:
    def test_success_raises_failure_lowers_trust(self, rng):
        trust = rng.uniform(0.01, 0.99, N)
        up = rules.update_trust(trust, 1.0, B.trust_gain, B.trust_loss)
        down = rules.update_trust(trust, 0.0, B.trust_gain, B.trust_loss)
        assert np.all(up > trust)
        assert np.all(down < trust)

    def test_negativity_bias_at_default_parameters(self):
        assert B.trust_loss > B.trust_gain
        t0 = B.initial_trust
        gained = rules.update_trust(t0, 1.0, B.trust_gain, B.trust_loss) - t0
        lost = t0 - rules.update_trust(t0, 0.0, B.trust_gain, B.trust_loss)
        assert lost > gained > 0
        # one failure undoes more than one success built: success then failure ends below start
        after = rules.update_trust(rules.update_trust(t0, 1.0, B.trust_gain, B.trust_loss),
                                   0.0, B.trust_gain, B.trust_loss)
        assert after < t0

    def test_negativity_bias_holds_above_crossover(self):
        # loss·T > gain·(1−T)  ⇔  T > gain/(gain+loss); equal at the crossover.
        g, loss = B.trust_gain, B.trust_loss
        cross = g / (g + loss)
        trust = np.linspace(cross + 1e-6, 1.0, 1000)
        gained = rules.update_trust(trust, 1.0, g, loss) - trust
        lost = trust - rules.update_trust(trust, 0.0, g, loss)
        assert np.all(lost > gained)
        at = rules.update_trust(cross, 1.0, g, loss) - cross
        assert at == pytest.approx(cross - rules.update_trust(cross, 0.0, g, loss))
        # below the crossover a success builds more than a failure undoes (T → 0 leaves little to lose)
        low = cross / 2
        assert rules.update_trust(low, 1.0, g, loss) - low > low - rules.update_trust(low, 0.0, g, loss)

    def test_severity_scales_failure(self, rng):
        trust = rng.uniform(0.01, 1, N)
        mild = rules.update_trust(trust, 0.0, B.trust_gain, B.trust_loss, 0.3)
        harsh = rules.update_trust(trust, 0.0, B.trust_gain, B.trust_loss, 1.0)
        assert np.all(mild > harsh)

    def test_forgiveness_of_minor_failures(self):
        t0 = 0.6
        hurt = {}
        for commitment in (0.1, 0.9):
            sev = rules.failure_severity(commitment, 1.0, B.forgiveness)
            hurt[commitment] = t0 - rules.update_trust(t0, 0.0, B.trust_gain, B.trust_loss, sev)
        assert 0 < hurt[0.9] < hurt[0.1]

    def test_major_failure_not_forgiven(self, rng):
        commitment = unit(rng)
        sev = rules.failure_severity(commitment, 0.0, B.forgiveness)
        np.testing.assert_array_equal(sev, 1.0)
        t = rules.update_trust(0.6, 0.0, B.trust_gain, B.trust_loss, sev)
        np.testing.assert_allclose(t, 0.6 * (1 - B.trust_loss))
        # a minor failure is forgiven more than a major one at the same commitment
        minor = rules.failure_severity(0.8, 1.0, B.forgiveness)
        assert minor < rules.failure_severity(0.8, 0.0, B.forgiveness)

    def test_satisfaction_moves_toward_experience_minus_expectation(self, rng):
        s = rng.uniform(-1, 1, N)
        x, e = unit(rng), unit(rng)
        out = rules.update_satisfaction(s, x, e, 0.3)
        target = x - e
        assert np.all(np.abs(out - target) <= np.abs(s - target) + 1e-15)
        assert np.all(np.sign(out - s) == np.sign(target - s))
        # better experience, higher satisfaction
        assert np.all(rules.update_satisfaction(s, x + 0.1, e, 0.3) > out)

    def test_commitment_target_increases_with_inputs(self):
        args = (0.7, 0.3, 0.2, 52.0)
        base = rules.commitment_target(0.4, 0.2, 10.0, *args)
        assert rules.commitment_target(0.5, 0.2, 10.0, *args) > base
        assert rules.commitment_target(0.4, 0.3, 10.0, *args) > base
        assert rules.commitment_target(0.4, 0.2, 20.0, *args) > base
        assert rules.commitment_target(0.0, 0.0, 0.0, *args) == 0.0

    def test_update_commitment_moves_toward_target(self, rng):
        c, target = unit(rng), unit(rng)
        out = rules.update_commitment(c, target, 1.0, 0.15)
        assert np.all(np.abs(out - target) <= np.abs(c - target))
        more = rules.update_commitment(c, target, 2.0, 0.15)  # stronger contact moves further
        assert np.all(np.abs(more - target) <= np.abs(out - target))
        np.testing.assert_array_equal(rules.update_commitment(c, target, 0.0, 0.15), c)

    def test_reciprocity_grows_with_goodwill(self, rng):
        r = rng.uniform(0, 0.99, N)
        assert np.all(rules.update_reciprocity(r, 0.1) > r)
        assert np.all(rules.update_reciprocity(r, 0.2) > rules.update_reciprocity(r, 0.1))

    def test_longer_response_time_lowers_quality(self, rng):
        t = np.sort(rng.exponential(0.3, N))
        q = rules.response_quality(t, 0.2)
        assert np.all(np.diff(q) <= 0)
        assert q[0] > q[-1]
        # a more patient target makes the same response time look better
        assert rules.response_quality(0.3, 0.5) > rules.response_quality(0.3, 0.2)

    def test_responsiveness_follows_observation(self):
        assert rules.update_responsiveness(0.5, 0.9, 0.3) == pytest.approx(0.62)
        assert rules.update_responsiveness(0.5, 0.1, 0.3) == pytest.approx(0.38)

    def test_service_recovery_faster_better(self):
        lost = 1.0   # a shortfall larger than any recovery: the bonus is not capped
        slow = rules.service_recovery(-0.3, rules.response_quality(0.5, 0.1), 1.0, B.recovery_bonus, lost)
        fast = rules.service_recovery(-0.3, rules.response_quality(0.01, 0.1), 1.0, B.recovery_bonus, lost)
        unresolved = rules.service_recovery(-0.3, 1.0, 0.0, B.recovery_bonus, lost)
        assert fast > slow > -0.3
        assert unresolved == -0.3

    def test_knowledge_grows_and_composes(self, rng):
        k = rng.uniform(0, 0.99, N)
        assert np.all(rules.update_knowledge(k, 1, 0.1) > k)
        np.testing.assert_allclose(rules.update_knowledge(rules.update_knowledge(k, 3, 0.1), 4, 0.1),
                                   rules.update_knowledge(k, 7, 0.1))

    def test_choice_utility_directions(self):
        kw = dict(quality=0.8, price=1.0, discount=0.0, cashback=0.0, price_sensitivity=3.0, trust=0.5,
                  commitment=0.3, reciprocity=0.1, responsiveness=0.5, wom=0.0, appeal=0.0, is_current=0.0)
        base = rules.choice_utility(**kw, **CHOICE_KW)

        def u(**changes):
            return rules.choice_utility(**{**kw, **changes}, **CHOICE_KW)

        assert u(price=1.1) < base
        assert u(price_sensitivity=6.0) < base
        for name in ("quality", "trust", "commitment", "reciprocity", "responsiveness",
                     "discount", "cashback", "wom", "appeal"):
            assert u(**{name: kw[name] + 0.1}) > base, name
        assert u(is_current=1.0) == pytest.approx(base + B.inertia + B.inertia_commitment * 0.3)
        # commitment raises the current firm's utility more than another's (switching barrier)
        current_gain = u(is_current=1.0, commitment=0.6) - u(is_current=1.0)
        other_gain = u(commitment=0.6) - base
        assert current_gain > other_gain

    def test_paid_reach_increasing_concave(self):
        budget = np.linspace(0, 5000, 501)
        reach = rules.paid_reach(budget, 200.0, 600.0)
        assert np.all(np.diff(reach) > 0)
        assert np.all(np.diff(reach, 2) < 0)
        for b in (100.0, 600.0, 3000.0):
            # doubling the budget never doubles the reach
            assert rules.paid_reach(2 * b, 200.0, 600.0) < 2 * rules.paid_reach(b, 200.0, 600.0)

    def test_more_commitment_more_voice_less_exit(self):
        c = np.linspace(0, 1, 101)
        voice = rules.complaint_probability(c, B.voice_base, B.voice_commitment)
        leave = rules.failure_exit_probability(c, B.exit_after_failure, B.forgiveness)
        assert np.all(np.diff(voice) > 0)
        assert np.all(np.diff(leave) < 0)
        assert voice[0] == pytest.approx(B.voice_base)
        assert leave[0] == pytest.approx(B.exit_after_failure)

    def test_churn_hazard_directions(self):
        def h(s=0.0, c=0.0, r=1.0, a=0.0):
            return rules.churn_hazard(s, c, r, a, **HAZARD_KW)

        base = h()
        assert h(c=0.5) < base  # more commitment, lower hazard
        assert h(s=-0.5) > base  # worse satisfaction, higher hazard
        assert h(s=0.5) < base
        assert h(r=3.0) > base  # overdue customer at risk
        assert h(a=1.0) > base  # a better competitor
        c = np.linspace(0, 1, 50)
        assert np.all(np.diff(rules.churn_hazard(0.0, c, 1.0, 0.0, **HAZARD_KW)) < 0)
        s = np.linspace(-1, 1, 50)
        assert np.all(np.diff(rules.churn_hazard(s, 0.0, 1.0, 0.0, **HAZARD_KW)) < 0)

    def test_talk_directions(self):
        pos_lo, _ = rules.talk_probability(0.2, 0.3, **TALK_KW)
        pos_hi, _ = rules.talk_probability(0.6, 0.3, **TALK_KW)
        pos_committed, _ = rules.talk_probability(0.2, 0.9, **TALK_KW)
        assert pos_hi > pos_lo > 0
        assert pos_committed > pos_lo
        _, neg_lo = rules.talk_probability(-0.2, 0.3, **TALK_KW)
        _, neg_hi = rules.talk_probability(-0.8, 0.3, **TALK_KW)
        assert neg_hi > neg_lo > 0
        assert rules.talk_probability(0.0, 0.9, **TALK_KW) == (0.0, 0.0)  # neither

    def test_wom_influence_directions(self):
        w0 = 0.2
        up = rules.update_wom_influence(w0, 1.0, WOM.strength, WOM.negativity_weight, WOM.max_influence)
        down = rules.update_wom_influence(w0, 0.0, WOM.strength, WOM.negativity_weight, WOM.max_influence)
        assert up == pytest.approx(w0 + WOM.strength)
        assert down < w0 < up
        assert WOM.negativity_weight > 1
        assert w0 - down > up - w0  # negative weighs more
        assert w0 - down == pytest.approx(WOM.negativity_weight * (up - w0))
        even = rules.update_wom_influence(w0, 0.0, WOM.strength, 1.0, WOM.max_influence)
        assert w0 - even == pytest.approx(up - w0)

    def test_decay_shrinks(self, rng):
        x = rng.uniform(0.01, 1, N)
        out = rules.decay(x, 0.05, 1.0)
        assert np.all((out < x) & (out > 0))
        assert np.all(rules.decay(x, 0.05, 2.0) < out)
        np.testing.assert_array_equal(rules.decay(x, 0.0, 5.0), x)


# --------------------------------------------------------------------------
# Loyalty ladder
# --------------------------------------------------------------------------
class TestLadder:
    def rung(self, is_customer, purchases, trust, commitment, satisfaction, co_creation=1.0):
        return rules.loyalty_rung(is_customer, purchases, trust, commitment, satisfaction,
                                  co_creation=co_creation, **RUNG_KW)

    def test_non_customer_is_prospect(self, rng):
        out = self.rung(np.zeros(N), rng.integers(0, 10, N), unit(rng), unit(rng),
                        rng.uniform(-1, 1, N), coin(rng))
        np.testing.assert_array_equal(out, rules.PROSPECT)
        assert self.rung(0, 10, 1.0, 1.0, 1.0) == rules.PROSPECT

    def test_named_rungs(self):
        assert self.rung(1, 1, 0.2, 0.1, 0.0) == rules.CUSTOMER
        assert self.rung(1, 2, 0.2, 0.1, 0.0) == rules.CLIENT
        assert self.rung(1, 1, 0.6, 0.45, 0.0) == rules.SUPPORTER
        assert self.rung(1, 5, 0.6, 0.65, 0.5) == rules.ADVOCATE
        assert self.rung(1, 5, 0.6, 0.9, 0.5, co_creation=0.0) == rules.ADVOCATE
        assert self.rung(1, 5, 0.6, 0.9, 0.5, co_creation=1.0) == rules.PARTNER
        assert self.rung(1, 5, 0.4, 0.9, 0.5) == rules.CLIENT  # low trust: not a supporter
        assert rules.RUNGS[rules.PARTNER] == "partner"

    def test_supporter_trust_is_the_trust_threshold(self):
        """``T ≥ supporter_trust`` (behaviour.supporter_trust, 0.5): lower it and a customer of
        trust 0.45 becomes a supporter; raise it and one of trust 0.55 falls back to client."""
        kw = {**RUNG_KW, "co_creation": 1.0}
        def rung(trust, threshold):
            return rules.loyalty_rung(1.0, 2, trust, 0.45, 0.0, **{**kw, "supporter_trust": threshold})
        assert rung(0.45, 0.5) == rules.CLIENT
        assert rung(0.45, 0.4) == rules.SUPPORTER
        assert rung(0.45, 0.45) == rules.SUPPORTER   # at the threshold
        assert rung(0.55, 0.5) == rules.SUPPORTER
        assert rung(0.55, 0.6) == rules.CLIENT
        assert rung(0.0, 0.0) == rules.SUPPORTER

    def test_more_commitment_never_lowers_rung(self, rng):
        n = 5000
        args = (np.ones(n), rng.integers(0, 5, n), unit(rng, n))
        sat, co = rng.uniform(-1, 1, n), coin(rng, n)
        c1 = unit(rng, n)
        c2 = np.minimum(c1 + rng.uniform(0, 0.6, n), 1.0)
        low = self.rung(*args, c1, sat, co)
        high = self.rung(*args, c2, sat, co)
        assert np.all(high >= low)
        assert np.any(high > low)
        grid = np.linspace(0, 1, 201)
        path = self.rung(1.0, 3, 0.8, grid, 0.5)
        assert np.all(np.diff(path) >= 0)
        assert path[0] == rules.CLIENT and path[-1] == rules.PARTNER

    def test_other_inputs_monotone(self, rng):
        n = 5000
        c, t, s = unit(rng, n), unit(rng, n), rng.uniform(-1, 1, n)
        base = self.rung(1.0, 2, t, c, s)
        assert np.all(self.rung(1.0, 2, np.minimum(t + 0.3, 1), c, s) >= base)
        assert np.all(self.rung(1.0, 2, t, c, np.minimum(s + 0.3, 1)) >= base)
        assert np.all(self.rung(1.0, 5, t, c, s) >= self.rung(1.0, 1, t, c, s))


# --------------------------------------------------------------------------
# Choice probabilities
# --------------------------------------------------------------------------
class TestLogit:
    def test_list_and_array_sum_to_one_and_agree(self, rng):
        for _ in range(200):
            k = int(rng.integers(1, 8))
            u = rng.normal(0, 3, k)
            as_list = rules.logit_probabilities([float(x) for x in u])
            as_array = rules.logit_probabilities(u)
            assert isinstance(as_list, list)
            assert isinstance(as_array, np.ndarray)
            assert sum(as_list) == pytest.approx(1.0)
            assert as_array.sum() == pytest.approx(1.0)
            np.testing.assert_allclose(as_list, as_array, rtol=1e-12)

    def test_rows_of_matrix_sum_to_one(self, rng):
        u = rng.normal(0, 5, (1000, 4))
        p = rules.logit_probabilities(u)
        np.testing.assert_allclose(p.sum(axis=-1), 1.0)
        row = rules.logit_probabilities([float(x) for x in u[17]])
        np.testing.assert_allclose(p[17], row)

    def test_order_and_shift_invariance(self):
        p = rules.logit_probabilities([1.0, 2.0, 0.5])
        assert p[1] > p[0] > p[2]
        np.testing.assert_allclose(p, rules.logit_probabilities([101.0, 102.0, 100.5]))
        assert p[1] / p[0] == pytest.approx(math.e)

    def test_large_utilities_do_not_overflow(self):
        p = rules.logit_probabilities([1000.0, 999.0])
        assert p[0] == pytest.approx(1 / (1 + math.exp(-1)))
        q = rules.logit_probabilities(np.array([[1000.0, 999.0]]))
        np.testing.assert_allclose(q[0], p)


# --------------------------------------------------------------------------
# Composition and closed forms
# --------------------------------------------------------------------------
class TestClosedForms:
    @pytest.mark.parametrize("a,b", [(1.0, 1.0), (0.5, 2.5), (3.0, 7.0), (0.0, 4.0)])
    def test_decay_composition(self, rng, a, b):
        x = unit(rng, 100)
        rate = 0.07
        np.testing.assert_allclose(rules.decay(rules.decay(x, rate, a), rate, b),
                                   rules.decay(x, rate, a + b), rtol=1e-12)
        # w one-week steps equal one w-week step
        stepped = x
        for _ in range(5):
            stepped = rules.decay(stepped, rate)
        np.testing.assert_allclose(stepped, rules.decay(x, rate, 5.0), rtol=1e-12)

    @pytest.mark.parametrize("margin,retention,discount",
                             [(10.0, 0.8, 0.1), (1.0, 0.95, 0.0), (50.0, 0.5, 0.2), (3.0, 0.0, 0.1)])
    def test_lifetime_value_against_finite_sum(self, margin, retention, discount):
        # CLV = Σ_{t≥1} m · r^t / (1+i)^t ; truncate where the tail is negligible
        t = np.arange(1, 5000)
        direct = float(np.sum(margin * (retention / (1.0 + discount)) ** t))
        assert rules.lifetime_value_closed_form(margin, retention, discount) == pytest.approx(direct,
                                                                                          rel=1e-9)

    def test_lifetime_value_directions(self):
        base = rules.lifetime_value_closed_form(10.0, 0.8, 0.1)
        assert rules.lifetime_value_closed_form(10.0, 0.9, 0.1) > base
        assert rules.lifetime_value_closed_form(10.0, 0.8, 0.2) < base

    @pytest.mark.parametrize("p,q", [(0.03, 0.38), (0.01, 0.5), (0.2, 0.1)])
    def test_bass_matches_ode(self, p, q):
        weeks = np.linspace(0, 60, 121)
        closed = rules.bass_adopters(weeks, p, q)
        assert closed[0] == 0.0
        assert np.all(np.diff(closed) > 0)
        assert np.all((closed >= 0) & (closed < 1))
        assert rules.bass_adopters(np.array([1e4]), p, q)[0] == pytest.approx(1.0)
        sol = solve_ivp(lambda _t, f: (p + q * f) * (1 - f), (0, 60), [0.0], t_eval=weeks,
                        rtol=1e-10, atol=1e-12)
        assert sol.success
        np.testing.assert_allclose(closed, sol.y[0], atol=1e-7)


# --------------------------------------------------------------------------
# Scalar call == element-wise array call
# --------------------------------------------------------------------------
def _u(rng, n):
    return rng.random(n)


def _s(rng, n):
    return rng.uniform(-1, 1, n)


def _b(rng, n):
    return rng.integers(0, 2, n).astype(float)


def _t(rng, n):
    return rng.exponential(0.3, n)


# name -> (function, list of array-input makers or constants, keyword constants)
SCALAR_CASES = {
    "clip": (rules.clip, [lambda r, n: r.normal(0.5, 1, n), 0.0, 1.0], {}),
    "exp": (rules.exp, [lambda r, n: r.normal(0, 3, n)], {}),
    "sigmoid": (rules.sigmoid, [lambda r, n: r.normal(0, 10, n)], {}),
    "decay": (rules.decay, [_u, 0.05, lambda r, n: r.uniform(0, 10, n)], {}),
    "update_trust": (rules.update_trust, [_u, _b, 0.05, 0.25, _u], {}),
    "failure_severity": (rules.failure_severity, [_u, _b, 0.7], {}),
    "update_satisfaction": (rules.update_satisfaction, [_s, _u, _u, 0.3], {}),
    "commitment_target": (rules.commitment_target,
                          [_u, _u, lambda r, n: r.uniform(0, 300, n), 0.7, 0.3, 0.2, 52.0], {}),
    "update_commitment": (rules.update_commitment, [_u, _u, _u, 0.15], {}),
    "update_reciprocity": (rules.update_reciprocity, [_u, _u], {}),
    "response_quality": (rules.response_quality, [_t, 0.2], {}),
    "update_responsiveness": (rules.update_responsiveness, [_u, _u, 0.3], {}),
    "service_recovery": (rules.service_recovery, [_s, _u, _b, 0.5, lambda r, n: r.uniform(-0.5, 1.0, n)], {}),
    "satisfaction_shortfall": (rules.satisfaction_shortfall, [_s, _u, _u, _b, 0.3], {}),
    "minimum": (rules.minimum, [_s, _s], {}),
    "update_knowledge": (rules.update_knowledge, [_u, lambda r, n: r.integers(0, 20, n).astype(float),
                                                  0.1], {}),
    "choice_utility": (rules.choice_utility, [_u, lambda r, n: r.uniform(0.5, 1.5, n), _u, _u, _u, _u, _u,
                                              _u, _u, _s, _u, _b], CHOICE_KW),
    "order_discount": (rules.order_discount, [_u, _u], {}),
    "offer_discount": (rules.offer_discount, [0.15, _u], {}),
    "offer_goodwill": (rules.offer_goodwill, [lambda r, n: r.uniform(0, 1, n), 0.3], {}),
    "answer_responsiveness": (rules.answer_responsiveness, [_u, _b, 0.3], {}),
    "recovery_goodwill": (rules.recovery_goodwill, [lambda r, n: r.uniform(-0.1, 3.0, n), 0.4], {}),
    "key_account_goodwill": (rules.key_account_goodwill,
                             [6.0, lambda r, n: np.where(r.uniform(0, 1, n) < 0.1, 0.0, r.uniform(0.5, 60, n)),
                              0.2], {}),
    "win_back_expired": (rules.win_back_expired, [lambda r, n: r.integers(0, 20, n).astype(float), 8.0], {}),
    "reward_cashback": (rules.reward_cashback, [lambda r, n: r.uniform(0, 0.5, n), 0.7, 1.0], {}),
    "paid_reach": (rules.paid_reach, [lambda r, n: r.uniform(0, 5000, n), 200.0, 600.0], {}),
    "complaint_probability": (rules.complaint_probability, [_u, 0.2, 0.6], {}),
    "failure_exit_probability": (rules.failure_exit_probability, [_u, 1 / 3, 0.7], {}),
    "churn_hazard": (rules.churn_hazard, [_s, _u, lambda r, n: r.uniform(0, 4, n),
                                          lambda r, n: r.normal(0, 1, n)], HAZARD_KW),
    "per_step": (rules.per_step, [_u, 0.5], {}),
    "talk_probability": (rules.talk_probability, [_s, _u], TALK_KW),
    "listen": (rules.listen, [_u, _u, _u], {}),
    "update_wom_influence": (rules.update_wom_influence, [_s, _b, 0.5, 2.0, 1.0], {}),
    "loyalty_rung": (rules.loyalty_rung, [_b, lambda r, n: r.integers(0, 4, n).astype(float), _u, _u, _s],
                     {**RUNG_KW, "co_creation": 1.0}),
    "discount_factor": (rules.discount_factor, [lambda r, n: r.uniform(0, 520, n), 0.1], {}),
    "relationship_dropout": (rules.relationship_dropout, [_u, _s, _s, 2.0, 3.0], {}),
    "habit_probability": (rules.habit_probability, [_s, _u, 0.3, 1.0, 0.5, 0.9], {}),
    "reward_goodwill": (rules.reward_goodwill, [lambda r, n: r.uniform(0, 0.5, n), 0.06, 0.02], {}),
    "reward_value": (rules.reward_value, [0.04, _b, 0.3], {}),
    "co_creation_quality": (rules.co_creation_quality,
                            [lambda r, n: r.uniform(0.5, 1.5, n), 0.8, _u, 0.005, 0.25, 0.02, 1.5, 1.0], {}),
    "co_creation_cost": (rules.co_creation_cost, [lambda r, n: r.integers(0, 100, n).astype(float), 0.2], {}),
    "acquisition_cost": (rules.acquisition_cost, [lambda r, n: r.integers(0, 50, n).astype(float), 51.0], {}),
    "price_reaction": (rules.price_reaction, [lambda r, n: r.uniform(0.5, 1.5, n), lambda r, n: r.uniform(-0.2, 0.6, n),
                                              0.5, lambda r, n: r.uniform(0.6, 0.9, n)], {}),
    "tenure_bond": (rules.tenure_bond, [lambda r, n: r.uniform(0, 520, n), 52.0], {}),
    "tenure_basket_growth": (rules.tenure_basket_growth, [lambda r, n: r.uniform(0, 520, n), 0.5, 104.0], {}),
    "tenure_cost_factor": (rules.tenure_cost_factor, [lambda r, n: r.uniform(0, 520, n), 0.1, 52.0], {}),
    "advertising_goodwill": (rules.advertising_goodwill, [lambda r, n: r.uniform(0, 40, n),
                                                          lambda r, n: r.uniform(0, 3, n), 0.068,
                                                          lambda r, n: r.uniform(0.5, 4, n)], {}),
    "advertising_appeal": (rules.advertising_appeal, [lambda r, n: r.uniform(0, 100, n), 2.0, 0.068], {}),
}


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_scalar_equals_array_elementwise(name):
    func, makers, kwargs = SCALAR_CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    n = 400
    args = [m(rng, n) if callable(m) else m for m in makers]
    vector = func(*args, **kwargs)
    vector = vector if isinstance(vector, tuple) else (vector,)
    for v in vector:
        assert isinstance(v, np.ndarray) and v.shape == (n,)
    for i in range(n):
        scalar_args = [float(a[i]) if isinstance(a, np.ndarray) else a for a in args]
        scalar = func(*scalar_args, **kwargs)
        scalar = scalar if isinstance(scalar, tuple) else (scalar,)
        assert len(scalar) == len(vector)
        for s, v in zip(scalar, vector, strict=True):
            assert not isinstance(s, np.ndarray)  # scalar in, plain number out
            assert float(s) == pytest.approx(float(v[i]), rel=1e-12, abs=1e-15), (name, i, scalar_args)


def test_scalar_cases_cover_every_elementwise_rule():
    # Every public function of rules.py with array-capable inputs is in SCALAR_CASES,
    # except the ones that are scalar-only by design or tested on their own above.
    tested_elsewhere = {"logit", "logit_probabilities", "logit_probabilities_into", "weekly_rate",
                        "lifetime_value_closed_form",
                        "bass_adopters"}
    public = {name for name, obj in vars(rules).items()
              if callable(obj) and not name.startswith("_")
              and getattr(obj, "__module__", "") == rules.__name__}
    assert public - tested_elsewhere == set(SCALAR_CASES)


# --------------------------------------------------------------------------
# Word-of-mouth influence: bounded by word_of_mouth.max_influence
# --------------------------------------------------------------------------
@pytest.mark.parametrize("strength,negativity,maximum", [(0.5, 2.0, 1.0), (0.9, 3.0, 0.5), (2.0, 10.0, 4.0)])
def test_wom_influence_stays_within_its_bound_under_any_sequence(strength, negativity, maximum):
    """|W| ≤ W_max after 200 recommendations in a row (the old linear rule reached 200·s), after
    200 warnings, and along random sequences; the bound is reached, and a warning after a run
    of praise still moves W down by λ·s."""
    w = 0.0
    for _ in range(200):
        w = rules.update_wom_influence(w, 1.0, strength, negativity, maximum)
        assert -maximum <= w <= maximum
    assert w == maximum
    assert rules.update_wom_influence(w, 0.0, strength, negativity, maximum) == pytest.approx(
        max(-maximum, maximum - negativity * strength))
    for _ in range(200):
        w = rules.update_wom_influence(w, 0.0, strength, negativity, maximum)
    assert w == -maximum
    rng = np.random.default_rng(3)
    heard = rng.uniform(-maximum, maximum, N)
    for _ in range(20):
        heard = rules.update_wom_influence(heard, coin(rng), strength, negativity, maximum)
        assert np.all(np.abs(heard) <= maximum)


# --------------------------------------------------------------------------
# Service recovery: at most back to the failure-free level (de Matos, Henrique & Rossi 2007)
# --------------------------------------------------------------------------
def test_shortfall_is_the_gap_the_latest_failure_leaves():
    """D equals S_ok − S, where S_ok is updated as if the latest failed delivery had been on
    time and intact (experience x_ok) and S with the experience actually had
    (rules.update_satisfaction, same expectation), through later good deliveries."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        rate, expectation, x_ok = rng.uniform(0.05, 1.0), rng.uniform(0, 1), rng.uniform(0, 1)
        actual = rng.uniform(-1, 1)
        shortfall = 0.0
        for experience in rng.choice([x_ok, x_ok, 0.3 * x_ok, 0.0], size=12):
            failure = float(experience != x_ok)
            if failure:
                counterfactual = rules.update_satisfaction(actual, x_ok, expectation, rate)
            else:
                counterfactual = rules.update_satisfaction(actual + shortfall, x_ok, expectation, rate)
            actual = rules.update_satisfaction(actual, experience, expectation, rate)
            shortfall = rules.satisfaction_shortfall(shortfall, experience, x_ok, failure, rate)
            assert shortfall == pytest.approx(counterfactual - actual, abs=1e-12)


@pytest.mark.parametrize("before", [-0.6, 0.0, 0.2, 0.8])
@pytest.mark.parametrize("defective", [False, True])
def test_a_fast_resolved_complaint_never_beats_the_failure_free_satisfaction(before, defective):
    """A failed delivery then the fastest resolved complaint (ρ = 1) ends at most where an
    on-time delivery would have left satisfaction, and restores it fully when the bonus
    exceeds the loss (with the old, uncapped rule S + b·ρ it ended 0.2–0.35 above)."""
    x_ok, expectation, rate = 0.8, 0.6, B.satisfaction_rate
    x = B.defect_experience if defective else B.late_experience
    failed = rules.update_satisfaction(before, x, expectation, rate)
    failure_free = rules.update_satisfaction(before, x_ok, expectation, rate)
    shortfall = rules.satisfaction_shortfall(0.4, x, x_ok, 1.0, rate)   # an earlier loss is not restored
    recovered = rules.service_recovery(failed, 1.0, 1.0, B.recovery_bonus, shortfall)
    assert recovered <= failure_free + 1e-12
    assert recovered == pytest.approx(min(failure_free, failed + B.recovery_bonus), abs=1e-12)
    # a slower answer gives back less, an unresolved complaint nothing
    slow = rules.service_recovery(failed, rules.response_quality(0.5, 0.1), 1.0, B.recovery_bonus, shortfall)
    assert failed < slow < recovered
    assert rules.service_recovery(failed, 1.0, 0.0, B.recovery_bonus, shortfall) == failed


def test_recovery_without_a_shortfall_changes_nothing():
    """Satisfaction already at (or above) its failure-free level is not raised by a recovery."""
    for shortfall in (0.0, -0.2):
        assert rules.service_recovery(0.1, 1.0, 1.0, 2.0, shortfall) == 0.1


def test_reward_value_gives_an_unenrolled_customer_its_share():
    """ρ = r·(s + (1 − s)·e): enrolled customers see the reward rate, the others the share s of it
    (behaviour.unenrolled_reward_share); no programme, no value, whatever s."""
    for share in (0.0, 0.2, 0.5, 1.0):
        assert rules.reward_value(0.04, True, share) == pytest.approx(0.04, rel=1e-15)
        assert rules.reward_value(0.04, False, share) == pytest.approx(0.04 * share, rel=1e-15, abs=1e-18)
        assert rules.reward_value(0.0, False, share) == 0.0
    enrolled = np.array([True, False, False, True])
    np.testing.assert_allclose(rules.reward_value(0.05, enrolled, 0.2), [0.05, 0.01, 0.01, 0.05], rtol=1e-15)
    assert rules.reward_value(0.04, False, 0.8) > rules.reward_value(0.04, False, 0.3)


# -- Reichheld's profit ladder: acquisition cost per customer, tenure effects ----------------------
TENURES = np.array([0.0, 1.0, 13.0, 52.0, 104.0, 260.0, 520.0, 5200.0])


def test_tenure_effects_are_neutral_at_zero_tenure_and_when_off():
    """m_b(0) = m_c(0) = 1 for any size; g_b = 0 or s = 0 (the defaults) leave every tenure at 1."""
    assert rules.tenure_basket_growth(0.0, 0.7, 104.0) == 1.0
    assert rules.tenure_cost_factor(0.0, 0.2, 52.0) == 1.0
    assert (rules.tenure_basket_growth(TENURES, 0.0, 104.0) == 1.0).all()
    assert (rules.tenure_cost_factor(TENURES, 0.0, 52.0) == 1.0).all()
    assert rules.acquisition_cost(7.0, 0.0) == 0.0
    assert BehaviourSpec().basket_growth == 0.0
    from relsim.scenario.schema import CostSpec
    assert CostSpec().serve_cost_saving == 0.0 and CostSpec().acquisition_per_customer == 0.0


@pytest.mark.parametrize("size", [0.1, 0.5, 1.0, 5.0])
def test_basket_growth_is_monotone_saturating_and_bounded(size):
    """1 <= m_b < 1 + g_b, non-decreasing in tenure, concave (each year adds less), 63 % of g_b at tau_b."""
    growth = rules.tenure_basket_growth(TENURES, size, 104.0)
    assert (growth >= 1.0).all() and (growth <= 1.0 + size).all()
    assert (np.diff(growth) >= 0).all()
    yearly = np.diff(rules.tenure_basket_growth(np.arange(0.0, 520.1, 52.0), size, 104.0))
    assert (np.diff(yearly) < 0).all()
    assert rules.tenure_basket_growth(104.0, size, 104.0) == pytest.approx(1.0 + size * (1.0 - math.exp(-1.0)))


@pytest.mark.parametrize("saving", [0.05, 0.1, 0.5, 0.99])
def test_cost_to_serve_falls_with_tenure_and_stays_positive(saving):
    """1 - s <= m_c <= 1 (strictly above 1 - s at finite tenure), non-increasing in tenure."""
    factor = rules.tenure_cost_factor(TENURES, saving, 52.0)
    assert (factor <= 1.0).all() and (factor >= 1.0 - saving).all() and (factor > 0).all()
    assert (np.diff(factor) <= 0).all()
    assert factor[-1] == pytest.approx(1.0 - saving)


def test_acquisition_cost_is_linear_in_customers_won():
    won = np.arange(0.0, 10.0)
    np.testing.assert_allclose(rules.acquisition_cost(won, 51.0), 51.0 * won)


# --------------------------------------------------------------------------
# Offers and rewards are money (audit items 2 and 3, 2026-11-30)
# --------------------------------------------------------------------------
_CHOICE_STATE = dict(quality=0.8, trust=0.5, commitment=0.3, reciprocity=0.1, responsiveness=0.5, wom=0.2,
                     appeal=0.0, is_current=0.0)


@pytest.mark.parametrize("beta", [0.5, 1.5, 3.0, 6.0, 10.0])
@pytest.mark.parametrize("rate", [0.01, 0.03, 0.1])
def test_a_programme_is_worth_the_price_cut_of_the_same_money(beta, rate):
    """For every price sensitivity β, a programme returning a share c of what the customer pays
    (reward rate · redemption, valued as cash) is worth exactly the price cut that saves the same
    money. Mutation: the old flat reward term w_reward · rate (10 · rate for everyone) fails here
    at every β except the one at which it happens to equal the money (β·p·c)."""
    price, redemption = 1.1, CostSpec().reward_redemption
    cashback = rules.reward_cashback(rules.reward_value(rate, True, B.unenrolled_reward_share), redemption,
                                     B.reward_value_multiplier)
    assert cashback == pytest.approx(rate * redemption, rel=1e-15)   # m = 1: cash
    with_programme = rules.choice_utility(price=price, discount=0.0, cashback=cashback, price_sensitivity=beta,
                                          **_CHOICE_STATE, **CHOICE_KW)
    no_programme = rules.choice_utility(price=price, discount=0.0, cashback=0.0, price_sensitivity=beta,
                                        **_CHOICE_STATE, **CHOICE_KW)
    money_back = price * rate * redemption     # what the firm books as rewards on an order of one unit
    cheaper = rules.choice_utility(price=price - money_back, discount=0.0, cashback=0.0, price_sensitivity=beta,
                                   **_CHOICE_STATE, **CHOICE_KW)
    assert with_programme == pytest.approx(cheaper, rel=1e-12, abs=1e-12)
    # its value is the money in the segment's own price sensitivity: β · p · c
    assert with_programme - no_programme == pytest.approx(beta * money_back, rel=1e-12)


@pytest.mark.parametrize("beta", [1.5, 3.0, 6.0])
def test_an_offer_is_worth_its_discount_in_the_price_term(beta):
    """A pending offer of discount d is worth β·p·d, the same as a price of p·(1 − d); with a win-back
    discount as well, the discounts compound (each on the price the other leaves)."""
    d = rules.offer_discount(0.15, 0.6)
    assert d == pytest.approx(0.09, rel=1e-15)
    u = {k: rules.choice_utility(price=p, discount=disc, cashback=0.0, price_sensitivity=beta, **_CHOICE_STATE,
                                 **CHOICE_KW)
         for k, p, disc in (("offer", 1.0, d), ("cut", 1.0 - d, 0.0), ("none", 1.0, 0.0))}
    assert u["offer"] == pytest.approx(u["cut"], rel=1e-12)
    assert u["offer"] - u["none"] == pytest.approx(beta * d, rel=1e-12)
    both = rules.order_discount(0.1, d)
    assert 1.0 - both == pytest.approx(0.9 * (1.0 - d), rel=1e-15)
    assert rules.order_discount(0.0, 0.0) == 0.0 and rules.order_discount(1.0, 0.3) == 1.0


def test_offer_goodwill_scales_with_the_value_given():
    """Goodwill is proportional to the offer's discount (MODEL.md: goodwill scales with the value
    received), zero for an offer worth nothing and never above 1. Mutation: a flat goodwill
    (the old 0.05 whatever the value) fails the proportionality."""
    values = np.array([0.0, 0.05, 0.1, 0.2])
    goodwill = rules.offer_goodwill(values, B.offer_goodwill_per_discount)
    np.testing.assert_allclose(goodwill, B.offer_goodwill_per_discount * values, rtol=1e-15)
    assert goodwill[0] == 0.0
    assert goodwill[2] == pytest.approx(2 * goodwill[1], rel=1e-12)
    assert rules.offer_goodwill(0.9, 5.0) == 1.0


# --------------------------------------------------------------------------
# Advertising goodwill: a Nerlove-Arrow stock and its saturating appeal (off by default)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("decay_rate", [0.057, 0.068, 0.085, 0.5, 1.0])
def test_advertising_goodwill_steady_state_decay_and_steps(decay_rate):
    """The stock of a constant budget b stays at b/δ; without a budget it loses the share δ a week;
    a step of Δ weeks equals Δ weekly steps at the same budget (b2b scenarios step by more than a week);
    from any start it converges to b/δ. Mutations: the stock not decaying (``(1 − δ)^Δ`` dropped: the
    decay and steady-state checks fail), a step of Δ weeks adding b once (``b`` instead of
    ``b·(1 − (1 − δ)^Δ)/δ``: the step check fails)."""
    budget = 1.3
    steady = budget / decay_rate
    assert rules.advertising_goodwill(steady, budget, decay_rate) == pytest.approx(steady, rel=1e-12)
    assert rules.advertising_goodwill(steady, budget, decay_rate, 4.0) == pytest.approx(steady, rel=1e-12)
    assert rules.advertising_goodwill(10.0, 0.0, decay_rate) == pytest.approx(10.0 * (1.0 - decay_rate), rel=1e-12)
    for weeks in (2, 4, 13):
        stepped = 3.0
        for _ in range(weeks):
            stepped = rules.advertising_goodwill(stepped, budget, decay_rate)
        assert rules.advertising_goodwill(3.0, budget, decay_rate, float(weeks)) == pytest.approx(stepped, rel=1e-12)
    stock = 0.0
    for _ in range(2000):
        stock = rules.advertising_goodwill(stock, budget, decay_rate)
    assert stock == pytest.approx(steady, rel=1e-9)


def test_advertising_goodwill_moves_gradually_after_a_budget_change():
    """After the budget doubles, the stock covers the share 1 − (1 − δ)^t of the gap to the new steady
    state in t weeks: at δ = 0.068 about half in 10 weeks and 90 % in 33 (Leone 1995's 6-9 months)."""
    delta = 0.068
    stock = 1.0 / delta
    for week in range(1, 34):
        stock = rules.advertising_goodwill(stock, 2.0, delta)
        covered = (stock - 1.0 / delta) / (1.0 / delta)
        assert covered == pytest.approx(1.0 - (1.0 - delta) ** week, rel=1e-9)
    assert 0.9 < covered < 0.91


def test_advertising_appeal_saturates_and_is_bounded():
    """A = w·G/(G + 1/δ): 0 without a stock or with weight 0 (the default: off), w/2 at the reference
    budget's steady stock, increasing and concave in the stock, below w for every stock, finite for
    every valid input. Mutation: the appeal linear in the stock (w·G·δ) fails the bound."""
    w, delta = 2.0, 0.068
    assert rules.advertising_appeal(0.0, w, delta) == 0.0
    assert rules.advertising_appeal(1.0 / delta, w, delta) == pytest.approx(w / 2, rel=1e-12)
    stocks = np.concatenate([np.linspace(0.0, 1e3, 4001), [1e9, 1e300]])
    appeal = rules.advertising_appeal(stocks, w, delta)
    assert np.all(np.isfinite(appeal)) and np.all((appeal >= 0.0) & (appeal < w + 1e-12))
    steps = np.diff(appeal[:4001])
    assert np.all(steps > 0) and np.all(np.diff(steps) < 1e-15)
    assert np.all(rules.advertising_appeal(stocks, 0.0, delta) == 0.0)
    for delta in (1e-6, 0.068, 1.0):   # every decay the schema allows, (0, 1]
        assert 0.0 <= rules.advertising_appeal(1e6, 5.0, delta) < 5.0
    # at steady state the appeal's elasticity in the budget is 1/(b + 1): one half at the reference budget
    up, down = (rules.advertising_appeal(b / 0.068, w, 0.068) for b in (1.1, 0.9))
    assert (up - down) / ((up + down) / 2) / 0.2 == pytest.approx(0.5, abs=0.01)
