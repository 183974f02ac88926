"""Buy-till-you-die models: BG/NBD for purchases and dropout, Gamma-Gamma for spend.

BG/NBD (Fader, Hardie & Lee 2005, *Marketing Science* 24(2):275–284): while
alive, a customer buys as a Poisson process with rate λ per week; after each
repeat purchase it drops out for good with probability p; across customers
λ ~ Gamma(shape r, rate α) and p ~ Beta(a, b). Given a customer's ``x``
repeat purchases, the time ``t_x`` of the last one and the time ``T`` it has
been observed (weeks from its first purchase), the likelihood is (FHL 2005,
eq. 6)::

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
      + [x > 0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

Gamma-Gamma (Fader, Hardie & Lee 2005, *JMR* 42(4); Fader & Hardie 2013,
"The Gamma-Gamma model of monetary value"): an order's value is Gamma(p, rate
ν), ν ~ Gamma(q, rate γ) across customers, independent of the purchase
process. The likelihood of the mean ``m_x`` of a customer's ``x`` repeat
orders is::

    L = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m_x^(px−1) · x^(px) / (γ + x m_x)^(px+q)

Both are fitted by maximum likelihood on log-parameters (so they stay
positive) with scipy; standard errors come from the inverse of a numerical
Hessian of the negative log-likelihood at the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from relsim.util.errors import RelsimError

BGNBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")


class FitError(RelsimError):
    """A model cannot be fitted to the data given (too little of it, no convergence)."""


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit.

    Attributes
    ----------
    model : str
        ``"bgnbd"`` or ``"gamma_gamma"``.
    params : dict of str to float
        Estimates.
    std_errors : dict of str to float
        Standard errors (NaN if the Hessian is not positive definite).
    log_likelihood : float
        Maximised log-likelihood.
    customers : int
        Customers the fit used.
    converged : bool
        The optimiser's own verdict.
    covariance : ndarray
        Covariance of the estimates, in the order of ``params``.
    """

    model: str
    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    customers: int
    converged: bool
    covariance: np.ndarray = field(repr=False)

    def table(self) -> pd.DataFrame:
        """Estimates with standard errors and 95 % Wald intervals, one row per parameter."""
        rows = []
        for name, value in self.params.items():
            error = self.std_errors[name]
            rows.append({"model": self.model, "parameter": name, "estimate": value,
                         "std_error": error, "ci_low": value - 1.96 * error,
                         "ci_high": value + 1.96 * error})
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------
def bgnbd_log_likelihood(params: np.ndarray | tuple[float, float, float, float], x: np.ndarray,
                         t_x: np.ndarray, T: np.ndarray) -> np.ndarray:  # noqa: N803 (T is the paper's name)
    """Log-likelihood of each customer under BG/NBD (FHL 2005, eq. 6).

    Parameters
    ----------
    params : (r, alpha, a, b)
        Gamma shape and rate of λ, Beta parameters of p.
    x : ndarray
        Repeat purchases in the calibration period.
    t_x : ndarray
        Time of the last purchase, weeks from the first.
    T : ndarray
        Length of the calibration period, weeks from the first purchase.

    Returns
    -------
    ndarray
        One log-likelihood per customer.
    """
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    common = (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
              + special.betaln(a, b + x) - special.betaln(a, b))
    alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # the "dropped out after the last purchase" term, relative to the common factor
    dead = np.full_like(alive, -np.inf)
    dead[repeat] = (np.log(a) - np.log(b + x[repeat] - 1)
                    - (r + x[repeat]) * np.log(alpha + np.asarray(t_x, dtype=float)[repeat]))
    return common + np.logaddexp(alive, dead)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray,  # noqa: N803
              start: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> Fit:
    """Fit BG/NBD by maximum likelihood.

    Parameters
    ----------
    x, t_x, T : ndarray
        RFM summary in weeks (see :func:`relsim.calibration.transactions.rfm_summary`).
    start : (r, alpha, a, b)
        Starting values.

    Returns
    -------
    Fit
        Estimates of (r, alpha, a, b) with standard errors.

    Raises
    ------
    FitError
        With fewer than 2 customers, no repeat purchase at all, or no convergence.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))  # noqa: N806
    if x.size < 2 or not (x > 0).any():
        raise FitError(f"BG/NBD needs customers with repeat purchases; got {x.size} customers, "
                       f"{int((x > 0).sum())} with a repeat purchase")
    def negative_on(rows: np.ndarray):
        # customers with the same (x, t_x, T) contribute the same term: sum over unique rows
        unique, counts = _collapse(rows)
        return lambda log_params: -float(counts @ bgnbd_log_likelihood(np.exp(log_params), *unique.T))

    rows = np.column_stack([x, t_x, T])
    return _fit("bgnbd", BGNBD_PARAMETERS, negative_on(rows), np.log(start), x.size,
                negative_on(rows[::_thinning(x.size)]))


def p_alive(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:  # noqa: N803
    """P(alive at T | x, t_x, T) under BG/NBD (FHL 2005, eq. 11).

    Parameters
    ----------
    params : dict
        BG/NBD estimates ``r, alpha, a, b``.
    x, t_x, T : ndarray
        RFM summary in weeks.

    Returns
    -------
    ndarray
        Probability each customer is still alive at the calibration end.
    """
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))  # noqa: N806
    log_odds_dead = np.full(x.shape, -np.inf)
    repeat = x > 0
    log_odds_dead[repeat] = (np.log(a) - np.log(b + x[repeat] - 1)
                             + (r + x[repeat]) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])))
    return special.expit(-log_odds_dead)


def expected_repeat_purchases(params: dict[str, float], t: np.ndarray | float) -> np.ndarray:
    """E[X(t)]: expected repeat purchases of a new customer in its first ``t`` weeks (FHL 2005, eq. 9).

    Parameters
    ----------
    params : dict
        BG/NBD estimates.
    t : float or ndarray
        Weeks since the first purchase.

    Returns
    -------
    ndarray
    """
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMETERS)
    t = np.asarray(t, dtype=float)
    return ((a + b - 1) / (a - 1)
            * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t))))


def conditional_expected_purchases(params: dict[str, float], t: float, x: np.ndarray, t_x: np.ndarray,
                                   T: np.ndarray) -> np.ndarray:  # noqa: N803
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` weeks (FHL 2005, eq. 10).

    Parameters
    ----------
    params : dict
        BG/NBD estimates (requires a > 1 for a finite expectation formula).
    t : float
        Weeks after the calibration end.
    x, t_x, T : ndarray
        RFM summary in weeks.

    Returns
    -------
    ndarray
        One expectation per customer.
    """
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))  # noqa: N806
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    ahead = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return ahead * p_alive(params, x, t_x, T)


# ---------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------
def gamma_gamma_log_likelihood(params: np.ndarray | tuple[float, float, float], x: np.ndarray,
                               m_x: np.ndarray) -> np.ndarray:
    """Log-likelihood of each customer's mean repeat spend under Gamma-Gamma.

    Parameters
    ----------
    params : (p, q, gamma)
        Shape of an order's value, shape and rate of the customer's rate ν.
    x : ndarray
        Repeat purchases (> 0).
    m_x : ndarray
        Mean value of those purchases (> 0).

    Returns
    -------
    ndarray
    """
    p, q, gamma = params
    x = np.asarray(x, dtype=float)
    m_x = np.asarray(m_x, dtype=float)
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(gamma)
            + (px - 1) * np.log(m_x) + px * np.log(x) - (px + q) * np.log(gamma + x * m_x))


def fit_gamma_gamma(x: np.ndarray, m_x: np.ndarray,
                    start: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Fit:
    """Fit Gamma-Gamma by maximum likelihood on customers with a repeat purchase.

    Parameters
    ----------
    x : ndarray
        Repeat purchases per customer; customers with x = 0 or a mean of 0 are left out.
    m_x : ndarray
        Mean value of the repeat purchases.
    start : (p, q, gamma)
        Starting values.

    Returns
    -------
    Fit

    Raises
    ------
    FitError
        With fewer than 2 usable customers or no convergence.
    """
    x = np.asarray(x, dtype=float)
    m_x = np.asarray(m_x, dtype=float)
    usable = (x > 0) & np.isfinite(m_x) & (m_x > 0)
    if usable.sum() < 2:
        raise FitError(f"Gamma-Gamma needs customers with repeat purchases of positive value; "
                       f"got {int(usable.sum())}")
    x, m_x = x[usable], m_x[usable]
    scale = float(np.mean(m_x))
    # fit on spend in units of the mean (well-conditioned), then rescale gamma back

    def negative_on(x: np.ndarray, m_x: np.ndarray):
        return lambda log_params: -float(gamma_gamma_log_likelihood(np.exp(log_params), x, m_x / scale).sum())

    every = _thinning(x.size)
    fit = _fit("gamma_gamma", GAMMA_GAMMA_PARAMETERS, negative_on(x, m_x),
               np.log([start[0], start[1], start[2] / scale]), x.size,
               negative_on(x[::every], m_x[::every]))
    # gamma is a rate on spend: rescaling spend by 1/scale scales gamma by 1/scale too;
    # the log-likelihood of m_x gains the Jacobian −(number of customers)·ln(scale)
    params = {**fit.params, "gamma": fit.params["gamma"] * scale}
    jacobian = np.diag([1.0, 1.0, scale])
    covariance = jacobian @ fit.covariance @ jacobian
    return Fit("gamma_gamma", params, _errors(GAMMA_GAMMA_PARAMETERS, covariance),
               fit.log_likelihood - x.size * np.log(scale), fit.customers, fit.converged, covariance)


def conditional_expected_spend(params: dict[str, float], x: np.ndarray, m_x: np.ndarray) -> np.ndarray:
    """E[order value | x, m_x] under Gamma-Gamma; the population mean p·γ/(q−1) where x = 0.

    Parameters
    ----------
    params : dict
        Gamma-Gamma estimates ``p, q, gamma``.
    x, m_x : ndarray
        Repeat purchases and their mean value (NaN where x = 0).

    Returns
    -------
    ndarray
    """
    p, q, gamma = (params[k] for k in GAMMA_GAMMA_PARAMETERS)
    x = np.asarray(x, dtype=float)
    total = np.where(x > 0, x * np.nan_to_num(np.asarray(m_x, dtype=float)), 0.0)
    return p * (gamma + total) / (p * x + q - 1)


# ---------------------------------------------------------------------------
# fitting machinery
# ---------------------------------------------------------------------------
def _collapse(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique, counts.astype(float)


#: Above this many customers the simplex search runs on every k-th customer only
#: (k = customers // this), and the quasi-Newton polish on all of them.
SEARCH_CUSTOMERS = 20_000


def _thinning(customers: int) -> int:
    return max(1, customers // SEARCH_CUSTOMERS)


def _fit(model: str, names: tuple[str, ...], negative, start: np.ndarray, customers: int,
         negative_search=None) -> Fit:
    """Simplex search (robust from poor starts), then BFGS on the full likelihood.

    ``negative_search``, the negative log-likelihood of a thinned sample, makes
    the many simplex evaluations cheap on large logs; the optimum is the full
    data's all the same, as BFGS polishes on ``negative``.
    """
    with np.errstate(all="ignore"):
        first = optimize.minimize(negative_search or negative, start, method="Nelder-Mead",
                                  options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
        first_value = negative(first.x)
        # polish with a quasi-Newton step from the simplex optimum
        result = optimize.minimize(negative, first.x, method="BFGS", options={"gtol": 1e-6})
    best = result if result.fun <= first_value else first
    log_params, best_value = best.x, min(result.fun, first_value)
    if not np.isfinite(best_value):
        raise FitError(f"{model}: the log-likelihood is not finite at any tried parameters")
    hessian, gradient = _hessian(negative, log_params)
    # BFGS with numerical gradients often stops a little short on large logs ("precision
    # loss"); finish with Newton steps while they improve the likelihood
    for _ in range(5):
        try:
            newton = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        value = negative(log_params - newton)
        if not value < best_value:
            break
        log_params, best_value = log_params - newton, value
        hessian, gradient = _hessian(negative, log_params)
    values = np.exp(log_params)
    try:
        covariance_log = np.linalg.inv(hessian)
        if np.any(np.diag(covariance_log) <= 0):
            raise np.linalg.LinAlgError
        # converged: one more Newton step would move no estimate by 1 % of its standard error
        step = np.abs(covariance_log @ gradient) / np.sqrt(np.diag(covariance_log))
        converged = bool(np.max(step) < 0.01)
    except np.linalg.LinAlgError:
        covariance_log = np.full_like(hessian, np.nan)
        converged = False
    # delta method: d theta = theta · d log theta
    jacobian = np.diag(values)
    covariance = jacobian @ covariance_log @ jacobian
    return Fit(model, dict(zip(names, map(float, values), strict=True)), _errors(names, covariance),
               -float(best_value), customers, converged, covariance)


def _errors(names: tuple[str, ...], covariance: np.ndarray) -> dict[str, float]:
    return {name: float(np.sqrt(covariance[i, i])) if covariance[i, i] >= 0 else float("nan")
            for i, name in enumerate(names)}


def _hessian(function, point: np.ndarray, step: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference Hessian and gradient of ``function`` at ``point``
    (log-parameters, so one step size fits all)."""
    size = point.size
    hessian = np.empty((size, size))
    gradient = np.empty(size)
    shifts = np.eye(size) * step
    centre = function(point)
    for i in range(size):
        for j in range(i, size):
            if i == j:
                up, down = function(point + shifts[i]), function(point - shifts[i])
                gradient[i] = (up - down) / (2 * step)
                value = (up - 2 * centre + down) / step**2
            else:
                value = (function(point + shifts[i] + shifts[j]) - function(point + shifts[i] - shifts[j])
                         - function(point - shifts[i] + shifts[j])
                         + function(point - shifts[i] - shifts[j])) / (4 * step**2)
            hessian[i, j] = hessian[j, i] = value
    return hessian, gradient


# ---------------------------------------------------------------------------
# synthetic logs
# ---------------------------------------------------------------------------
def simulate_log(customers: int, bgnbd: dict[str, float], gamma_gamma: dict[str, float],
                 rng: np.random.Generator, start: str = "2020-01-01", entry_weeks: float = 12.0,
                 horizon_weeks: float = 78.0) -> pd.DataFrame:
    """A synthetic transaction log drawn from BG/NBD and Gamma-Gamma with known parameters.

    Each customer makes a first purchase at a uniform time in the first
    ``entry_weeks``, then buys at Poisson rate λ ~ Gamma(r, α) and drops out
    after each repeat purchase with probability p ~ Beta(a, b); each order's
    value is Gamma(p_spend, ν), ν ~ Gamma(q, γ). Times are cut to whole days, and a
    customer's purchases on one day are logged as one row (amounts summed), as
    the calibration counts them.

    Parameters
    ----------
    customers : int
        Number of customers.
    bgnbd : dict
        ``r, alpha, a, b``.
    gamma_gamma : dict
        ``p, q, gamma``.
    rng : numpy.random.Generator
        Source of all draws.
    start : str
        Date of week 0.
    entry_weeks : float
        Cohort entry window.
    horizon_weeks : float
        Purchases after this many weeks from ``start`` are not logged.

    Returns
    -------
    DataFrame
        Columns ``customer``, ``date``, ``amount``.
    """
    r, alpha, a, b = (bgnbd[k] for k in BGNBD_PARAMETERS)
    spend_shape, q, gamma = (gamma_gamma[k] for k in GAMMA_GAMMA_PARAMETERS)
    rate = rng.gamma(r, 1.0 / alpha, customers)
    dropout = rng.beta(a, b, customers)
    nu = rng.gamma(q, 1.0 / gamma, customers)
    time = rng.uniform(0.0, entry_weeks, customers)
    who = [np.arange(customers)]
    when = [time.copy()]
    active = np.arange(customers)
    while active.size:
        time[active] += rng.exponential(1.0, active.size) / rate[active]
        active = active[time[active] <= horizon_weeks]
        who.append(active)
        when.append(time[active])
        # after a repeat purchase the customer leaves for good with its own probability
        active = active[rng.random(active.size) >= dropout[active]]
    ids = np.concatenate(who)
    weeks = np.concatenate(when)
    amounts = rng.gamma(spend_shape, 1.0 / nu[ids])
    dates = pd.Timestamp(start) + pd.to_timedelta(np.floor(weeks * 7.0), unit="D")
    log = pd.DataFrame({"customer": pd.Series(ids).map("c{:06d}".format), "date": dates,
                        "amount": np.round(amounts, 2).clip(min=0.01)})
    return log.groupby(["customer", "date"], sort=True)["amount"].sum().round(2).reset_index()
