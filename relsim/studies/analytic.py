"""Closed forms the model must reproduce in its special cases, and the scenarios that make them.

Each special case is a function that returns a :class:`~relsim.scenario.schema.Scenario`
whose levers are set so that the model *is* the textbook model, next to the
textbook formula itself. The mapping from scenario levers to each formula's
parameters is documented in ``docs/validation.md`` and in each docstring; a
user can check any parameter values, e.g.::

    from relsim import simulate
    from relsim.studies.analytic import bass_curve, bass_scenario
    scenario = bass_scenario(p=0.03, q=0.38, customers=5000, weeks=30)
    steps = simulate(scenario, seed=1).steps
    adopted = steps["new_customers"].cumsum() / 5000     # compare with bass_curve(0.03, 0.38, 30)

Formulas:

* Bass (1969), discrete time: ``F(t+1) = F(t) + (p + q F(t)) (1 − F(t))``, ``F(0) = 0``.
* Lifetime value under constant retention (Berger & Nasr 1998; Gupta & Lehmann 2003):
  ``CLV = m r / (1 + i − r)``, margin counted from the first retained period.
* Shifted-beta-geometric (Fader & Hardie 2007): churn probability θ ~ Beta(α, β) across a
  cohort, constant per customer; share surviving t periods ``S(t) = B(α, β + t) / B(α, β)``.
* BG/NBD (Fader, Hardie & Lee 2005): the model's ``churn.model = "bgnbd"`` with need rate
  λ ~ Gamma(r, α) and dropout p ~ Beta(a, b).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from relsim.market import rules
from relsim.scenario.schema import Scenario, from_dict

#: Textbook Bass parameters per period (Mahajan, Muller & Bass 1995 report p ≈ 0.03, q ≈ 0.38
#: as averages over published diffusion studies).
BASS_TEXTBOOK = {"p": 0.03, "q": 0.38}
#: Fader & Hardie (2007), "How to project customer retention", J. Interactive Marketing 21(1):
#: maximum-likelihood sBG fits to the two 7-year cohorts of their worked example.
SBG_REGULAR = {"alpha": 0.704, "beta": 1.182}
SBG_HIGH_END = {"alpha": 0.668, "beta": 3.806}
#: The survivor counts of those two cohorts of 1,000 customers in years 1–7 (F&H 2007, Table 1),
#: from which the published fits come (:func:`fit_sbg` reproduces them to three decimals).
SBG_PUBLISHED_SURVIVORS = {"regular": (631, 468, 382, 326, 289, 262, 241),
                           "high end": (869, 743, 653, 593, 551, 517, 491)}
#: Fader, Hardie & Lee (2005), Marketing Science 24(2): BG/NBD fit to the CDNOW sample
#: (2,357 customers, 39 weeks of calibration).
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
#: Standard errors of that fit (CDNOW sample, maximum likelihood, inverse Hessian) as published
#: with the ``lifetimes`` BG/NBD fitter's documentation (Davidson-Pilon, "Quickstart").
CDNOW_BGNBD_SE = {"r": 0.0126, "alpha": 0.378, "a": 0.186, "b": 0.705}

#: Purchase occasions per week in the Bass case: an aware customer buys in the same week with
#: probability 1 − e^{−6}: about 0.25 % of the newly aware wait a week, which moves the curve by less than 0.001.
BASS_NEED_RATE = 6.0


def _one_firm(customers: int, weeks: int, *, engine: str = "arrays", step_weeks: float = 1.0,
              discount_rate: float = 0.10, segment: dict | None = None, churn: dict | None = None,
              word_of_mouth: dict | None = None, firm: dict | None = None,
              market: dict | None = None, supplier: dict | None = None) -> dict:
    """One firm, one homogeneous segment, no operations, nothing switched on but what is given."""
    return {
        "name": "special case",
        "market": {"customers": customers, "weeks": weeks, "step_weeks": step_weeks, "engine": engine,
                   "organic_awareness": 0.0, "discount_rate": discount_rate,
                   "network": {"kind": "fully_mixed"}, "reference_budget": 0.0, **(market or {})},
        "segments": [{"name": "all", "share": 1.0, "need_shape": 1e6, "basket_cv": 0.0,
                      "expectation": 0.5, **(segment or {})}],
        "operations": {"enabled": False},
        "churn": churn or {"model": "off"},
        "word_of_mouth": word_of_mouth or {"enabled": False},
        "suppliers": [{"name": "S", "unit_cost": 0.6, **(supplier or {})}],
        "firms": [{"name": "Firm", "strategy": "basic", "supplier": "S", "initial_share": 0.0,
                   "initial_awareness": 0.0, **(firm or {}),
                   "levers": {"supplier_contract": "long", **((firm or {}).get("levers", {}))}}],
    }


# --------------------------------------------------------------------------
# Bass (1969)
# --------------------------------------------------------------------------
def bass_curve(p: float, q: float, weeks: int) -> np.ndarray:
    """Cumulative adoption share of the discrete Bass (1969) model after weeks 1 … ``weeks``.

    ``F(t+1) = F(t) + (p + q F(t)) (1 − F(t))``,  ``F(0) = 0``.
    """
    share, curve = 0.0, np.empty(weeks)
    for week in range(weeks):
        share += (p + q * share) * (1.0 - share)
        curve[week] = share
    return curve


def bass_talk_base(p: float, q: float, customers: int) -> float:
    """``word_of_mouth.talk_base`` that gives the Bass imitation coefficient ``q``.

    In the model an unaware customer is reached by the campaign (probability
    p) and, independently, hears of the firm by listening (probability
    talk_base · A/(N − 1), A adopters among the N − 1 others). Its weekly
    adoption probability is ``1 − (1 − p)(1 − talk_base · A/(N − 1))``, which
    equals the Bass hazard ``p + q A/N`` for ``talk_base = q (N − 1) / (N (1 − p))``.
    """
    return q * (customers - 1) / (customers * (1.0 - p))


def bass_scenario(p: float, q: float, customers: int, weeks: int = 30, engine: str = "arrays") -> Scenario:
    """The model's Bass special case: one firm, fully mixed, no churn, advertising + word of mouth.

    Lever → parameter mapping (docs/validation.md):

    * p: ``market.max_reach_share = p`` with ``half_saturation`` ≪ budget, so that
      ``rules.paid_reach`` = p (the campaign reaches each unaware customer with probability p);
    * q: ``word_of_mouth.listening = true`` and ``talk_base`` = :func:`bass_talk_base`, every
      customer a promoter (``promoter_threshold = −0.99``, no satisfaction/commitment terms);
    * an aware customer buys the same week (``need_rate`` = 6 a week, one firm to choose);
    * no churn, no operations, no organic awareness, no referral trials.

    Then the expected adopter share after week t is :func:`bass_curve` (p, q, t).
    """
    if not (0 < p < 1 and 0 <= q and p + q <= 1):
        raise ValueError(f"Bass special case needs 0 < p < 1, q >= 0 and p + q <= 1; got p={p}, q={q}")
    talk = bass_talk_base(p, q, customers)
    data = _one_firm(
        customers, weeks, engine=engine,
        market={"reference_budget": 1000.0, "half_saturation": 1e-3, "max_reach_share": p},
        segment={"need_rate": BASS_NEED_RATE},
        word_of_mouth={"enabled": True, "listening": True, "talk_base": talk, "talk_satisfaction": 0.0,
                       "talk_commitment": 0.0, "promoter_threshold": -0.99, "detractor_threshold": -1.0,
                       "referral_trial": 0.0},
        firm={"levers": {"acquisition_budget": 1.0}})
    scenario = from_dict(data, source=f"Bass special case p={p:g} q={q:g}")
    reach = float(rules.paid_reach(1000.0, p, 1e-3))
    assert abs(reach - p) < 1e-12, reach
    return scenario


# --------------------------------------------------------------------------
# Lifetime value under constant retention
# --------------------------------------------------------------------------
def lifetime_value(margin: float, retention: float, discount: float) -> float:
    """``m r / (1 + i − r)`` (Berger & Nasr 1998, Gupta & Lehmann 2003); see
    :func:`relsim.market.rules.lifetime_value_closed_form`."""
    return rules.lifetime_value_closed_form(margin, retention, discount)


def ltv_scenario(retention: float, customers: int, weeks: int, *, annual_discount: float = 0.5,
                 need_rate: float = 0.5, basket: float = 20.0, unit_cost: float = 0.6,
                 engine: str = "arrays") -> Scenario:
    """The constant-hazard special case: every customer aware at start, weekly retention ``r``.

    Mapping: r = ``churn.constant_retention`` (``churn.model = "constant"``, lapsed customers
    never return); margin per week m = need_rate · basket_mean · (1 − unit_cost) at price 1;
    discount per week i = (1 + ``market.discount_rate``)^{1/52} − 1 (``rules.weekly_rate``).
    A customer's ``ltv`` (margin after its acquisition week, discounted to it) then has mean
    :func:`lifetime_value` (m, r, i) when the horizon is long enough for r^k to vanish.
    """
    data = _one_firm(
        customers, weeks, engine=engine, discount_rate=annual_discount,
        segment={"need_rate": need_rate, "basket_mean": basket, "basket_cv": 0.5},
        churn={"model": "constant", "constant_retention": retention, "lapsed_return": False},
        supplier={"unit_cost": unit_cost},
        firm={"initial_awareness": 1.0, "levers": {"acquisition_budget": 0.0}})
    return from_dict(data, source=f"lifetime-value special case r={retention:g}")


def ltv_margin(need_rate: float = 0.5, basket: float = 20.0, unit_cost: float = 0.6) -> float:
    """Expected margin per retained week of :func:`ltv_scenario`."""
    return need_rate * basket * (1.0 - unit_cost)


# --------------------------------------------------------------------------
# Shifted-beta-geometric (Fader & Hardie 2007)
# --------------------------------------------------------------------------
def sbg_survival(alpha: float, beta: float, periods: int) -> np.ndarray:
    """Share of a cohort surviving 0 … ``periods`` periods: ``S(t) = B(α, β+t) / B(α, β)``."""
    t = np.arange(periods + 1, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def sbg_log_likelihood(alpha: float, beta: float, alive: np.ndarray, size: int) -> float:
    """Log-likelihood of a cohort's survivor counts ``alive[1 … n]`` out of ``size`` (F&H 2007, eq. 7):
    churners in period t contribute P(T = t) = S(t−1) − S(t), those still alive S(n)."""
    alive = np.asarray(alive, dtype=float)
    survival = sbg_survival(alpha, beta, alive.size)
    counts = np.concatenate([[size], alive])
    lost = counts[:-1] - counts[1:]
    with np.errstate(divide="ignore"):
        return float(lost @ np.log(survival[:-1] - survival[1:]) + counts[-1] * np.log(survival[-1]))


def fit_sbg(alive: np.ndarray, size: int) -> dict[str, float]:
    """Maximum-likelihood (α, β) of the sBG from survivor counts (log-parameters, Nelder–Mead then
    BFGS); standard errors from the inverse Hessian, by the delta method."""
    def negative(log_params: np.ndarray) -> float:
        alpha, beta = np.exp(log_params)
        value = sbg_log_likelihood(float(alpha), float(beta), alive, size)
        return -value if np.isfinite(value) else 1e300

    first = optimize.minimize(negative, np.log([1.0, 1.0]), method="Nelder-Mead",
                              options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
    result = optimize.minimize(negative, first.x, method="BFGS")
    best = result.x if result.fun <= first.fun else first.x
    step = 1e-4
    hessian = np.empty((2, 2))
    shifts = np.eye(2) * step
    for i in range(2):
        for j in range(2):
            hessian[i, j] = (negative(best + shifts[i] + shifts[j]) - negative(best + shifts[i] - shifts[j])
                             - negative(best - shifts[i] + shifts[j])
                             + negative(best - shifts[i] - shifts[j])) / (4 * step**2)
    values = np.exp(best)
    try:
        covariance = np.diag(values) @ np.linalg.inv(hessian) @ np.diag(values)
        errors = np.sqrt(np.clip(np.diag(covariance), 0, None))
    except np.linalg.LinAlgError:
        errors = np.full(2, np.nan)
    return {"alpha": float(values[0]), "beta": float(values[1]),
            "alpha_se": float(errors[0]), "beta_se": float(errors[1])}


def sbg_scenario(alpha: float, beta: float, customers: int, years: int = 7, engine: str = "arrays") -> Scenario:
    """A cohort of ``customers`` who all start as customers at week 0 and churn by the sBG.

    Mapping: ``churn.model = "beta_geometric"``, ``churn.period_weeks = 52`` (a period is a
    year), ``segments[].dropout_a = α``, ``dropout_b = β``: each customer's own yearly churn
    probability θ ~ Beta(α, β), applied as the constant per-step hazard 1 − (1 − θ)^{Δ/52}
    (``rules.per_step``), so that a customer survives t whole years with probability (1 − θ)^t.
    Steps are 4 weeks (13 a year); churned customers never return.
    """
    data = _one_firm(
        customers, 52 * years, engine=engine, step_weeks=4.0,
        segment={"need_rate": 0.02, "dropout_a": alpha, "dropout_b": beta},
        churn={"model": "beta_geometric", "period_weeks": 52.0, "lapsed_return": False},
        firm={"initial_share": 1.0, "initial_awareness": 1.0, "levers": {"acquisition_budget": 0.0}})
    return from_dict(data, source=f"sBG special case alpha={alpha:g} beta={beta:g}")


# --------------------------------------------------------------------------
# BG/NBD (Fader, Hardie & Lee 2005)
# --------------------------------------------------------------------------
def bgnbd_scenario(r: float, alpha: float, a: float, b: float, customers: int, weeks: int = 39,
                   engine: str = "arrays", step_weeks: float = 1.0 / 7.0) -> Scenario:
    """A cohort of ``customers`` alive at week 0 that buys and drops out by BG/NBD.

    Mapping (as ``relsim calibrate`` writes it): ``need_rate = r/α`` and ``need_shape = r``
    (λ ~ Gamma(shape r, rate α) purchases per week), ``dropout_a = a``, ``dropout_b = b``
    (``churn.model = "bgnbd"``: after each repeat purchase the customer leaves for good with
    its own p ~ Beta(a, b)). Every customer starts as a customer at week 0
    (``initial_share = 1``); its purchases from week 0 on are the BG/NBD process of a customer
    observed for T = ``weeks`` weeks. Steps of a day (``step_weeks`` = 1/7) time purchases to
    the day, as in the CDNOW log. The relationship does not move the dropout in this special
    case (``churn.w_satisfaction = churn.w_commitment = 0``, so ``rules.relationship_dropout``
    returns the customer's own p): it is the pure BG/NBD process the published fit describes.
    """
    data = _one_firm(
        customers, weeks, engine=engine, step_weeks=step_weeks,
        segment={"need_rate": r / alpha, "need_shape": r, "dropout_a": a, "dropout_b": b},
        churn={"model": "bgnbd", "lapsed_return": False, "w_satisfaction": 0.0, "w_commitment": 0.0},
        firm={"initial_share": 1.0, "initial_awareness": 1.0, "levers": {"acquisition_budget": 0.0}})
    return from_dict(data, source="BG/NBD special case")


def ceil_weeks(retention: float, tolerance: float = 1e-4) -> int:
    """Weeks after which a cohort under constant retention has shrunk below ``tolerance``."""
    return math.ceil(math.log(tolerance) / math.log(retention))
