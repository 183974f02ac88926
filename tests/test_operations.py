"""Tests of the SimPy side of relsim: fulfilment and the support desk.

``relsim.market.operations.Operations`` is driven directly on its own SimPy
environment with an ``OperationsSpec`` chosen per test and a fixed-seed
``np.random.default_rng``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim.market.operations import Operations
from relsim.scenario.schema import OperationsSpec

SEED = 424242


def make_ops(seed: int = SEED, **spec) -> Operations:
    return Operations(OperationsSpec(**spec), np.random.default_rng(seed))


# --------------------------------------------------------------------------
# (a) queueing: capacity and M/M/1 theory
# --------------------------------------------------------------------------
SERVICE = 0.02  # mean handling time (weeks), so mu = 50 per week
RHO = 0.9  # utilisation of a single agent
LAMBDA = RHO / SERVICE  # arrivals per week
TICKETS = 40_000
WARM_UP = 2_000  # tickets discarded before comparing with the stationary M/M/1 mean


def arrival_times() -> np.ndarray:
    """One Poisson stream of ticket arrivals, the same for every desk size."""
    gaps = np.random.default_rng(99).exponential(1.0 / LAMBDA, TICKETS)
    return np.cumsum(gaps)


def run_desk(agents: int, arrivals: np.ndarray) -> np.ndarray:
    """Response time of every ticket (in arrival order) at a desk of ``agents``."""
    ops = make_ops(service_time_weeks=SERVICE, patience_weeks=1e9, resolution_probability=1.0)
    desk = ops.add_desk(0, agents)
    times = np.full(len(arrivals), np.nan)

    def source(env):
        for i, at in enumerate(arrivals):
            yield env.timeout(at - env.now)

            def answer(response_time, resolved, i=i):
                times[i] = response_time

            ops.open_ticket(0, 1, answer)

    ops.env.process(source(ops.env))
    ops.advance_to(float(arrivals[-1]) + 1000 * SERVICE)
    assert desk.opened == len(arrivals)
    assert desk.abandoned == 0
    assert desk.answered == len(arrivals)
    assert not np.isnan(times).any()
    np.testing.assert_allclose(sorted(desk.response_times), np.sort(times))
    return times


@pytest.fixture(scope="module")
def queue_results() -> dict[int, np.ndarray]:
    arrivals = arrival_times()
    return {agents: run_desk(agents, arrivals) for agents in (1, 2, 4)}


def test_response_time_strictly_decreases_with_capacity(queue_results):
    means = {agents: times.mean() for agents, times in queue_results.items()}
    assert means[1] > means[2] > means[4]
    # the same tickets (same arrivals and handling times) never wait longer at a bigger desk
    assert np.all(queue_results[2] <= queue_results[1] + 1e-9)
    assert np.all(queue_results[4] <= queue_results[2] + 1e-9)
    # with 4 agents at utilisation 0.225 almost nobody waits: response ≈ handling time
    assert means[4] == pytest.approx(SERVICE, rel=0.05)


def test_single_agent_matches_mm1_theory(queue_results):
    times = queue_results[1][WARM_UP:]
    n = len(times)
    mu = 1.0 / SERVICE
    theory = 1.0 / (mu - LAMBDA)  # M/M/1 mean sojourn time W = 1/(mu - lambda) = 10 × SERVICE
    # Tolerance from the number of tickets.  Successive sojourn times are strongly
    # correlated, so the sample mean of n of them has variance sigma_T^2 / n with the
    # *asymptotic* (long-run) variance sigma_T^2, not Var(T).  For the M/M/1 waiting
    # time in queue Daley (1968) gives
    #     sigma_Wq^2 = rho (2 + 5 rho - 4 rho^2 + rho^3) / (mu^2 (1 - rho)^4)
    # (= 35 900 / mu^2 at rho = 0.9).  The sojourn time is T = Wq + S with i.i.d.
    # handling times S (long-run variance 1/mu^2); long-run standard deviations are
    # subadditive (Cauchy-Schwarz on the long-run covariance), so
    #     sigma_T <= sigma_Wq + 1/mu.
    # We allow 4 such standard errors, sigma_T / sqrt(n): about ±3.9 service times
    # around the theoretical 10 for n = 38 000.  Warm-up tickets (the desk starts
    # empty, relaxation time ~ 1/(mu (1 - sqrt(rho))^2) ≈ 380 service times) are dropped.
    sigma_wq = math.sqrt(RHO * (2 + 5 * RHO - 4 * RHO**2 + RHO**3)) / (mu * (1 - RHO) ** 2)
    sigma_t = sigma_wq + 1.0 / mu
    tolerance = 4.0 * sigma_t / math.sqrt(n)
    assert tolerance < 0.5 * theory  # the test is informative
    assert abs(times.mean() - theory) < tolerance
    # and clearly above the bare handling time: tickets queue
    assert times.mean() > 5 * SERVICE
    assert np.median(times) > 2 * SERVICE


def test_queue_carries_over_between_weeks():
    ops = make_ops(service_time_weeks=0.5, patience_weeks=100.0)
    desk = ops.add_desk(3, 1)
    answers = []
    for _ in range(6):
        ops.open_ticket(3, 1, lambda t, r: answers.append(t))
    ops.advance_to(0.001)
    assert desk.queue_length == 5
    desk.reset_week()
    assert (desk.opened, desk.answered, desk.abandoned, desk.response_times) == (0, 0, 0, [])
    assert desk.queue_length == 5  # statistics reset, queue kept
    ops.advance_to(200.0)
    assert len(answers) == 6 and desk.answered == 6 and desk.queue_length == 0


# --------------------------------------------------------------------------
# (b) no desk
# --------------------------------------------------------------------------
def test_desk_without_agents_answers_nothing():
    ops = make_ops()
    desk = ops.add_desk(0, 0)
    calls = []
    for priority in (0, 1, 1):
        ops.open_ticket(0, priority, lambda t, r: calls.append((t, r)))
    ops.advance_to(10.0)
    assert calls == [(math.inf, False)] * 3
    assert desk.opened == 3
    assert desk.answered == 0
    assert desk.abandoned == 3
    assert desk.response_times == []
    assert desk.queue_length == 0


# --------------------------------------------------------------------------
# (c) priority
# --------------------------------------------------------------------------
def test_priority_ticket_jumps_the_queue():
    ops = make_ops(service_time_weeks=1.0, patience_weeks=1e6)
    desk = ops.add_desk(0, 1)
    answered: list[tuple[str, float, float]] = []  # (label, answer time, response time)
    state = {}

    def callback(label):
        return lambda t, r: answered.append((label, ops.env.now, t))

    def scenario(env):
        ops.open_ticket(0, 1, callback("busy"))  # occupies the only agent
        for k in range(4):
            yield env.timeout(0.001)
            ops.open_ticket(0, 1, callback(f"normal{k}"))
        yield env.timeout(0.001)
        state["queued_before_key_account"] = desk.queue_length
        state["answered_before_key_account"] = len(answered)
        ops.open_ticket(0, 0, callback("key"))

    ops.env.process(scenario(ops.env))
    ops.advance_to(1000.0)
    # precondition: the agent was still busy and four tickets were waiting
    assert state == {"queued_before_key_account": 4, "answered_before_key_account": 0}
    order = [label for label, _, _ in answered]
    assert order == ["busy", "key", "normal0", "normal1", "normal2", "normal3"]
    response = {label: t for label, _, t in answered}
    assert all(response["key"] < response[f"normal{k}"] for k in range(4))
    assert desk.answered == 6 and desk.abandoned == 0


# --------------------------------------------------------------------------
# (d) abandonment
# --------------------------------------------------------------------------
def test_impatient_tickets_are_abandoned_and_counted():
    patience = 0.001
    ops = make_ops(service_time_weeks=1.0, patience_weeks=patience)
    desk = ops.add_desk(0, 1)
    calls = []
    for _ in range(6):
        ops.open_ticket(0, 1, lambda t, r: calls.append((ops.env.now, t, r)))
    ops.advance_to(100.0)
    assert desk.opened == 6
    assert desk.answered == 1
    assert desk.abandoned == 5
    abandoned = [c for c in calls if c[1] == math.inf]
    assert len(abandoned) == 5
    for now, _, resolved in abandoned:
        assert resolved is False
        assert now == pytest.approx(patience)  # given up exactly when patience ran out
    answered = [c for c in calls if c[1] != math.inf]
    assert len(answered) == 1 and answered[0][1] > patience
    assert desk.response_times == [answered[0][1]]


def test_patient_tickets_are_not_abandoned():
    ops = make_ops(service_time_weeks=1.0, patience_weeks=1e6)
    desk = ops.add_desk(0, 1)
    for _ in range(6):
        ops.open_ticket(0, 1, lambda t, r: None)
    ops.advance_to(1e5)
    assert (desk.answered, desk.abandoned) == (6, 0)


@pytest.mark.parametrize("probability,expected", [(1.0, True), (0.0, False)])
def test_resolution_probability_extremes(probability, expected):
    ops = make_ops(resolution_probability=probability, patience_weeks=1e6)
    ops.add_desk(0, 2)
    calls = []
    for _ in range(20):
        ops.open_ticket(0, 1, lambda t, r: calls.append(r))
    ops.advance_to(100.0)
    assert calls == [expected] * 20


# --------------------------------------------------------------------------
# (e) fulfilment
# --------------------------------------------------------------------------
@pytest.mark.parametrize("start", [0.0, 3.25])
def test_a_delivery_arrives_at_its_due_time(start):
    """``Operations.deliver_at`` (the agent engine's orders): the callback runs at the due time,
    not before, whatever the clock when the order is placed."""
    ops = make_ops()
    if start:
        ops.advance_to(start)
    due = start + 0.2 + 0.9
    seen = []
    ops.deliver_at(due, lambda: seen.append(ops.env.now))
    ops.advance_to(due - 1e-9)
    assert seen == []  # not yet
    ops.advance_to(start + 5.0)
    assert seen == [pytest.approx(due, abs=1e-12)]


def _orders(changes: dict, defect_rate: float | None = None, count: int = 20_000, seed: int = 3):
    """``events.order`` (the model's own order path, both engines) for ``count`` orders of
    firm 0 in week 0 of ecommerce (arrays engine), with ``changes`` to the scenario and every
    supplier's ``defect_rate`` if given."""
    from relsim import load_scenario
    from relsim.market import events
    from relsim.market.draws import BatchDraws
    from relsim.market.model import MarketModel

    scenario = load_scenario("ecommerce", **{"market.engine": "arrays", **changes}).resized(200)
    if defect_rate is not None:
        scenario = scenario.model_copy(update={"suppliers": [
            supplier.model_copy(update={"defect_rate": defect_rate}) for supplier in scenario.suppliers]})
    model = MarketModel(scenario, seed=seed)
    population = model.population
    buyers = np.arange(count) % 200
    chosen = np.zeros(count, dtype=np.int64)
    draws = BatchDraws({"events": model.rng_events, "operations": model.rng_ops})
    due, late, defective = events.order(population.state, buyers, chosen, draws)
    return model, due, late, defective


def test_late_orders_follow_the_lognormal_lead_time_against_the_promise():
    """An order is late when its lognormal lead time (mean m, coefficient of variation v:
    ``draws.lognormal``) exceeds the promise p: P(late) = 1 − Φ((ln(p/m) + σ²/2)/σ), σ² =
    ln(1 + v²), the lognormal's distribution function. 20,000 orders, tolerance 4 binomial
    standard errors. A late order is due more than p after its week starts, an order in
    time at most p plus the week in which it was placed. Fails if ``late`` compares with
    anything but the promise, or if the lead time's law changes."""
    promise = 0.3
    model, due, late, _ = _orders({"operations.promise_weeks": promise})
    firm = model.firms[0]
    mean, cv, extra = firm.supplier.lead_time_terms(firm)
    assert extra == 0.0   # no shortage in week 0
    sigma = math.sqrt(math.log1p(cv * cv))
    expected = 0.5 * math.erfc((math.log(promise / mean) + sigma * sigma / 2) / sigma / math.sqrt(2))
    assert 0.05 < expected < 0.95   # the test can tell late from in time
    error = math.sqrt(expected * (1 - expected) / late.size)
    assert abs(late.mean() - expected) < 4 * error, (late.mean(), expected, error)
    waited = due - model.week
    assert (waited[late] > promise).all()
    assert (waited[~late] <= promise + model.step_weeks).all()


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_defective_orders_follow_the_suppliers_defect_rate(rate):
    """Each order is defective with its supplier's ``defect_rate``: none at 0, all at 1, and
    within 4 binomial standard errors of 0.3 over 20,000 orders (fails if the draw is
    compared with another rate)."""
    _, _, _, defective = _orders({}, defect_rate=rate)
    error = math.sqrt(rate * (1 - rate) / defective.size)
    assert abs(defective.mean() - rate) <= 4 * error


def test_advance_to_sets_the_clock():
    ops = make_ops()
    ops.advance_to(1.0)
    assert ops.env.now == 1.0
    ops.advance_to(7.5)
    assert ops.env.now == 7.5


def test_same_seed_same_outcomes():
    def run(seed):
        ops = make_ops(seed=seed, service_time_weeks=0.3, patience_weeks=0.5)
        ops.add_desk(0, 1)
        out = []
        for k in range(30):
            ops.open_ticket(0, k % 2, lambda t, r, k=k: out.append(("ticket", k, t, r)))
        ops.advance_to(50.0)
        return out

    assert run(1) == run(1)
    assert run(1) != run(2)
