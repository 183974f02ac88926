"""The validation suite behind ``relsim validate``.

Each check runs the model in a special case whose answer is known from a
published formula or fit, or checks the model against itself in ways any
correct implementation must pass (docking, corner cases), and returns a
:class:`Check`: source, setup, target, measured value with its Monte-Carlo
interval, pass or fail, and what a failure would mean. The checks follow
Rand & Rust (2011)'s *verification* (docking, corner cases) and the analytic
limits of MODEL.md; ``docs/validation.md`` explains each one and the mapping
from scenario levers to formula parameters (helpers in
:mod:`relsim.studies.analytic`).

The simulations of all checks are independent jobs; with ``workers > 1`` they
run in a process pool. Each job's seed is fixed, so a suite gives the same
numbers every time (and in any process).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from relsim.calibration import btyd
from relsim.market.model import MarketModel
from relsim.market.runner import simulate
from relsim.scenario.errors import ScenarioError
from relsim.scenario.schema import from_dict, load_scenario
from relsim.studies import analytic
from relsim.studies.pool import process_pool
from relsim.util.errors import RelsimError
from relsim.validation import docking


class ValidationError(RelsimError):
    """The validation suite was asked for something it cannot do (exit 2)."""


@dataclass
class Check:
    """One check of the suite and its outcome.

    Attributes
    ----------
    key, title : str
        Short name (``bass``, ``ltv``, …) and heading.
    source : str
        The published formula, fit or method it rests on (citation).
    setup : str
        The special case run: scenario levers, sizes, seeds.
    target : str
        What must hold for a pass.
    measured : str
        The value found, with its Monte-Carlo interval.
    passed : bool
    meaning : str
        What a failure would mean for the model.
    table : DataFrame
        Details (per step, per year, per parameter, per output, per case).
    figure : callable or None
        ``figure(ax)`` draws the check's figure on a matplotlib axis.
    seconds : float
        CPU time of the check's simulations.
    """

    key: str
    title: str
    source: str
    setup: str
    target: str
    measured: str
    passed: bool
    meaning: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    figure: Callable | None = None
    seconds: float = 0.0
    figure_size: tuple[float, float] = (8.0, 4.2)


#: Sizes of the two modes. ``quick`` runs in under two minutes on two cores.
SETTINGS = {
    "quick": {
        "bass_customers": 50_000, "bass_runs": 6, "bass_weeks": 26,
        "ltv_customers": 4000, "ltv_weeks": 200, "ltv_retentions": (0.8, 0.93),
        "sbg_customers": 200_000,
        "bgnbd_customers": 23_570,
        "dock_scenarios": ("ecommerce",), "dock_customers": 400, "dock_weeks": 52, "dock_runs": 10,
        "corner_engines": ("agents", "arrays"),
    },
    "full": {
        "bass_customers": 100_000, "bass_runs": 16, "bass_weeks": 26,
        "ltv_customers": 20_000, "ltv_weeks": 200, "ltv_retentions": (0.8, 0.93, 0.98),
        "sbg_customers": 500_000,
        "bgnbd_customers": 47_140,
        "dock_scenarios": ("ecommerce", "b2b", "alliance"), "dock_customers": 1000, "dock_weeks": 104,
        "dock_runs": 30,
        "corner_engines": ("agents", "arrays"),
    },
}
CHECKS = ("bass", "ltv", "sbg", "bgnbd", "docking", "corners")
#: Order in which a pool receives the checks' jobs (the longest single jobs first).
SUBMIT_ORDER = ("bgnbd", "sbg", "bass", "docking", "ltv", "corners")

#: Bass: the target of issue 12 — every step of the mean adoption curve within 0.01 of the map.
BASS_TOLERANCE = 0.01
#: LTV and sBG survivors: a correct model lies within this many standard errors (two-sided
#: 6e-5 per comparison).
Z_LIMIT = 4.0
#: sBG refit: α and β recovered within 5 %.
SBG_RELATIVE = 0.05


# ==========================================================================
# jobs (top-level functions: they run in worker processes)
# ==========================================================================
def _bass_job(p: float, q: float, customers: int, weeks: int, seed: int) -> np.ndarray:
    steps = simulate(analytic.bass_scenario(p, q, customers, weeks), seed=seed).steps
    return steps["new_customers"].cumsum().to_numpy() / customers


def ltv_weeks(retention: float, weeks: int) -> int:
    """Horizon of the LTV run: at least ``weeks``, and a year more than the weeks after which a
    customer's remaining value is negligible (r^k < 1e-4), so that early customers count whole."""
    return max(weeks, analytic.ceil_weeks(retention) + 52)


def _ltv_job(retention: float, customers: int, weeks: int, seed: int) -> dict:
    weeks = ltv_weeks(retention, weeks)
    customers_table = simulate(analytic.ltv_scenario(retention, customers, weeks), seed=seed).customers
    horizon = analytic.ceil_weeks(retention)
    observed = customers_table.loc[customers_table["first_week"] <= weeks - horizon, "ltv"].to_numpy()
    if observed.size < 2:
        raise ValidationError(f"lifetime-value check: no customer acquired {horizon} weeks before the "
                              f"horizon of {weeks} weeks")
    return {"n": int(observed.size), "mean": float(observed.mean()), "weeks": weeks,
            "se": float(observed.std(ddof=1) / math.sqrt(observed.size))}


def _sbg_job(alpha: float, beta: float, customers: int, years: int, seed: int) -> np.ndarray:
    scenario = analytic.sbg_scenario(alpha, beta, customers, years)
    steps = simulate(scenario, seed=seed).steps
    per_year = round(52 / scenario.market.step_weeks)
    counts = steps["customers"].to_numpy()
    return np.array([counts[per_year * year - 1] for year in range(1, years + 1)], dtype=float)


def _bgnbd_job(customers: int, weeks: int, seed: int) -> dict:
    """Simulate the CDNOW-fitted cohort, take each customer's (x, t_x, T), refit BG/NBD."""
    params = analytic.CDNOW_BGNBD
    scenario = analytic.bgnbd_scenario(params["r"], params["alpha"], params["a"], params["b"],
                                       customers, weeks)
    model = MarketModel(scenario, seed=seed)
    population = model.population.state   # shared per-dyad RFM arrays (market/state.py)
    before = population.purchases[:, 0].astype(float).copy()
    model.run()
    x = population.purchases[:, 0].astype(float) - before
    t_x = np.where(x > 0, population.last_purchase[:, 0].astype(float), 0.0)
    T = np.full(x.size, float(weeks))   # noqa: N806 (the paper's name)
    fit = btyd.fit_bgnbd(x, t_x, T)
    return {"params": fit.params, "std_errors": fit.std_errors, "converged": fit.converged,
            "customers": int(x.size), "repeaters": int((x > 0).sum()), "mean_x": float(x.mean())}


def _dock_job(scenario: str, engine: str, customers: int, weeks: int, seed: int) -> dict:
    spec = load_scenario(scenario, **{"market.engine": engine, "market.weeks": weeks}).resized(customers)
    return docking.docking_outputs(simulate(spec, seed=seed).steps)


def corner_scenarios() -> dict[str, tuple[str, dict]]:
    """The corner cases: name → (description, scenario data or None if it must be refused)."""
    base = load_scenario("ecommerce").resized(300).model_dump()
    base["market"]["weeks"] = 26

    def variant(**changes) -> dict:
        data: dict[str, Any] = {key: (value.copy() if isinstance(value, dict) else
                      [dict(item) for item in value] if isinstance(value, list) else value)
                for key, value in base.items()}
        for path, value in changes.items():
            section, _, name = path.partition(".")
            if section == "firms":
                for firm in data["firms"]:
                    if name == "levers":
                        firm["levers"] = {**firm["levers"], **value}
                    else:
                        firm[name] = value
            elif section == "firms_only_focal":
                data["firms"] = data["firms"][:1]
            else:
                data[section] = {**data[section], name: value}
        return data

    return {
        "no customers at all": ("market.customers = 0: refused with a clear scenario error",
                                variant(**{"market.customers": 0})),
        "one customer": ("market.customers = 1", variant(**{"market.customers": 1})),
        "nobody is anyone's customer": (
            "no initial customers, no awareness, no campaigns, no organic awareness: nothing happens",
            variant(**{"firms.initial_share": 0.0, "firms.initial_awareness": 0.0,
                       "firms.levers": {"acquisition_budget": 0.0}, "market.organic_awareness": 0.0})),
        "one firm": ("only the focal firm (no competitor)", variant(**{"firms_only_focal.": None})),
        "zero budget": ("every firm's acquisition_budget = 0",
                        variant(**{"firms.levers": {"acquisition_budget": 0.0}})),
        "zero desk": ("every firm's service_capacity = 0 (no desk agents: tickets go unanswered)",
                      variant(**{"firms.levers": {"service_capacity": 0.0}})),
        "horizon of one week": ("market.weeks = 1", variant(**{"market.weeks": 1})),
    }


#: Columns that are NaN where their denominator is empty (docs/model.md, Section 5.1), with the
#: condition that makes them undefined (None: not checked beyond being one of these columns).
_UNDEFINED_WHEN = {
    **{f"mean_{name}": (lambda steps: steps["customers"] == 0)
       for name in ("trust", "commitment", "satisfaction", "reciprocity", "responsiveness")},
    "nps": lambda steps: steps["customers"] == 0,
    "referral_share": lambda steps: steps["orders"] == 0,
    "retention_rate": None,
    "mean_response_time": None,
}


def _corner_job(case: str, engine: str) -> dict:
    _, data = corner_scenarios()[case]
    data = {**data, "market": {**data["market"], "engine": engine}}
    try:
        scenario = from_dict(data, source=case)
    except ScenarioError as error:
        return {"case": case, "engine": engine, "refused": True, "message": str(error).splitlines()[-1]}
    result = simulate(scenario, seed=3)
    steps, customers = result.steps, result.customers
    numeric = steps.select_dtypes("number")
    problems = []
    # NaN is the documented mark of an undefined ratio (docs/model.md, Section 5.1), allowed only there
    undefined = numeric.isna()
    for column, empty in _UNDEFINED_WHEN.items():
        if column in undefined:
            where = empty(steps) if empty is not None else undefined[column]
            if not undefined[column].equals(where):
                problems.append(f"{column} NaN where it is defined, or a number where it is not")
            undefined[column] = False
    if undefined.any().any():
        problems.append("NaN in " + ", ".join(numeric.columns[undefined.any()]))
    if not np.isfinite(numeric.to_numpy(dtype=float)[~numeric.isna().to_numpy()]).all():
        problems.append("infinite values")
    if len(steps) != scenario.market.weeks * len(scenario.firms):
        problems.append(f"{len(steps)} weekly rows, expected {scenario.market.weeks * len(scenario.firms)}")
    if (steps["customers"] < 0).any() or (steps["customers"] > scenario.market.customers).any():
        problems.append("customers outside [0, market size]")
    for line in ("cogs", "acquisition", "relationship", "service_desk", "partner_fees", "rewards"):
        if line in steps and (steps[line] < -1e-9).any():
            problems.append(f"negative cost line {line}")
    if "market_share" in steps and ((steps["market_share"] < -1e-9) | (steps["market_share"] > 1 + 1e-9)).any():
        problems.append("market share outside [0, 1]")
    if customers.select_dtypes("number").isna().any().any():
        problems.append("NaN in the customer table")
    if "budget" in case and steps["acquisition"].abs().sum() != 0:
        problems.append("acquisition spent with a zero budget")
    if "desk" in case and steps["service_desk"].abs().sum() != 0:
        problems.append("desk cost with no desk")
    if case.startswith("nobody") and (steps["customers"].sum() != 0 or steps["revenue"].sum() != 0):
        problems.append("customers or revenue where nobody can buy")
    return {"case": case, "engine": engine, "refused": False, "rows": len(steps),
            "customers_end": int(steps.groupby("firm")["customers"].last().sum()),
            "orders": int(steps["orders"].sum()), "profit": float(
                steps.groupby("firm")["cumulative_discounted_profit"].last().sum()),
            "problems": "; ".join(problems)}


# ==========================================================================
# the checks
# ==========================================================================
def _interval(mean: float, se: float) -> str:
    return f"95 % interval [{mean - 1.96 * se:.4g}, {mean + 1.96 * se:.4g}]"


def jobs_bass(settings: dict) -> list:
    p, q = analytic.BASS_TEXTBOOK["p"], analytic.BASS_TEXTBOOK["q"]
    return [(_bass_job, (p, q, settings["bass_customers"], settings["bass_weeks"], 100 + seed))
            for seed in range(settings["bass_runs"])]


def check_bass(settings: dict, results: list) -> Check:
    p, q = analytic.BASS_TEXTBOOK["p"], analytic.BASS_TEXTBOOK["q"]
    customers, runs, weeks = settings["bass_customers"], settings["bass_runs"], settings["bass_weeks"]
    curves = np.array(results)
    mean = curves.mean(axis=0)
    se = curves.std(axis=0, ddof=1) / math.sqrt(runs)
    expected = analytic.bass_curve(p, q, weeks)
    gap = mean - expected
    worst = int(np.argmax(np.abs(gap)))
    table = pd.DataFrame({"week": np.arange(1, weeks + 1), "bass": expected, "simulated_mean": mean,
                          "standard_error": se, "gap": gap})

    def figure(ax):
        ax.plot(table["week"], expected, color="black", linewidth=1.5, label="Bass map F(t+1) = F + (p + qF)(1 − F)")
        ax.fill_between(table["week"], mean - 1.96 * se, mean + 1.96 * se, color="#0072B2", alpha=0.3,
                        linewidth=0)
        ax.plot(table["week"], mean, "o", color="#0072B2", markersize=3,
                label=f"model, mean of {runs} runs (95 % band)")
        twin = ax.twinx()
        twin.bar(table["week"], gap, color="#D55E00", alpha=0.5, label="gap (right axis)")
        twin.axhline(BASS_TOLERANCE, color="#D55E00", linestyle=":", linewidth=1)
        twin.axhline(-BASS_TOLERANCE, color="#D55E00", linestyle=":", linewidth=1)
        twin.set_ylim(-4 * BASS_TOLERANCE, 4 * BASS_TOLERANCE)
        twin.set_ylabel("Model − Bass (share)")
        ax.set(xlabel="Week", ylabel="Cumulative adopters (share)",
               title=f"Bass special case, p = {p}, q = {q}, {customers:,} customers")
        ax.legend(loc="center right", fontsize=8)
        ax.grid(alpha=0.3)

    return Check(
        key="bass", title="Bass diffusion (fully mixed, one firm, no churn)",
        source="Bass, F. M. (1969). A new product growth model for consumer durables. Management Science "
               "15(5):215–227; discrete-time form F(t+1) = F(t) + (p + qF(t))(1 − F(t)); p = 0.03, q = 0.38 "
               "(averages reported by Mahajan, Muller & Bass 1990/1995).",
        setup=f"`analytic.bass_scenario(p={p}, q={q}, customers={customers:,})`: one firm, fully mixed "
              f"network, no churn, no operations; campaign reach = p; word of mouth by listening "
              f"(`word_of_mouth.listening = true`, `talk_base` = q(N−1)/(N(1−p)) = "
              f"{analytic.bass_talk_base(p, q, customers):.5f}); {runs} runs of {weeks} weeks (array engine).",
        target=f"mean cumulative adoption within {BASS_TOLERANCE} (absolute) of the Bass map at every week",
        measured=f"largest gap {gap[worst]:+.4f} at week {worst + 1} ({_interval(gap[worst], se[worst])}); "
                 f"mean absolute gap over the {weeks} weeks {np.mean(np.abs(gap)):.4f}",
        passed=bool(np.all(np.abs(gap) <= BASS_TOLERANCE)),
        meaning="advertising and word of mouth do not add up to the Bass hazard p + qF: the campaign reach, "
                "the listening formulation or the purchase of aware customers is wrong, or word of mouth "
                "does not grow with the share of adopters.",
        table=table, figure=figure)


def jobs_ltv(settings: dict) -> list:
    return [(_ltv_job, (r, settings["ltv_customers"], settings["ltv_weeks"], 7))
            for r in settings["ltv_retentions"]]


def check_ltv(settings: dict, results: list) -> Check:
    customers, weeks = settings["ltv_customers"], settings["ltv_weeks"]
    retentions = settings["ltv_retentions"]
    margin = analytic.ltv_margin()
    from relsim.market import rules
    weekly = rules.weekly_rate(0.5)
    rows = []
    for retention, result in zip(retentions, results, strict=True):
        expected = analytic.lifetime_value(margin, retention, weekly)
        z = (result["mean"] - expected) / result["se"]
        rows.append({"retention": retention, "closed_form": expected, "simulated_mean": result["mean"],
                     "standard_error": result["se"], "customers": result["n"], "z": z,
                     "relative_gap": result["mean"] / expected - 1,
                     "undiscounted_closed_form": margin * retention / (1 - retention)})
    table = pd.DataFrame(rows)

    def figure(ax):
        x = np.arange(len(table))
        ax.bar(x - 0.2, table["closed_form"], width=0.4, color="#999999", label="closed form m·r/(1+i−r)")
        ax.bar(x + 0.2, table["simulated_mean"], width=0.4, yerr=1.96 * table["standard_error"],
               color="#0072B2", capsize=4, label="model: mean realised LTV (95 % interval)")
        ax.plot(x, table["undiscounted_closed_form"], "x", color="#D55E00", markersize=9,
                label="without discounting m·r/(1−r)")
        ax.set_xticks(x, [f"r = {r:g}" for r in table["retention"]])
        ax.set(ylabel="Lifetime value per customer (currency)",
               title="Lifetime value under constant weekly retention")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")

    worst = table.iloc[int(np.argmax(np.abs(table["z"])))]
    return Check(
        key="ltv", title="Lifetime value under constant retention",
        source="Berger, P. D. & Nasr, N. I. (1998). Customer lifetime value: marketing models and "
               "applications. J. Interactive Marketing 12(1):17–30; Gupta, S. & Lehmann, D. R. (2003). "
               "Customers as assets. J. Interactive Marketing 17(1):9–24: CLV = m·r/(1 + i − r).",
        setup=f"`analytic.ltv_scenario(r, customers={customers:,}, weeks)` with weeks = "
              f"{', '.join(str(ltv_weeks(r, weeks)) for r in retentions)}: everyone aware at start, "
              f"`churn.model = \"constant\"` (weekly retention r ∈ {list(retentions)}), no return, no word of "
              f"mouth, no operations; margin per week m = 0.5 × 20 × (1 − 0.6) = {margin:g}; "
              f"annual discount 50 % (weekly i = {weekly:.5f}); customers acquired early enough that r^k "
              "< 1e-4 before the horizon.",
        target=f"mean realised `ltv` within {Z_LIMIT:g} standard errors of m·r/(1 + i − r) for each r",
        measured="; ".join(f"r = {row.retention:g}: {row.simulated_mean:.3f} vs {row.closed_form:.3f} "
                           f"(z = {row.z:+.2f}, {_interval(row.simulated_mean, row.standard_error)})"
                           for row in table.itertuples()),
        passed=bool(np.all(np.abs(table["z"]) <= Z_LIMIT)),
        meaning="the books do not discount margins as documented, margins are counted from the wrong "
                "period, or churn under constant retention is not geometric: every lifetime value and "
                "discounted profit the model reports would be off. "
                f"(Worst: r = {worst['retention']:g}, z = {worst['z']:+.2f}.)",
        table=table, figure=figure)


SBG_COHORTS = {"regular": analytic.SBG_REGULAR, "high end": analytic.SBG_HIGH_END}


def jobs_sbg(settings: dict) -> list:
    return [(_sbg_job, (c["alpha"], c["beta"], settings["sbg_customers"], 7, 11 + i))
            for i, c in enumerate(SBG_COHORTS.values())]


def check_sbg(settings: dict, results: list) -> Check:
    customers, years = settings["sbg_customers"], 7
    cohorts = SBG_COHORTS
    rows, fits, passed, parts = [], {}, True, []
    for (name, params), alive in zip(cohorts.items(), results, strict=True):
        expected = analytic.sbg_survival(params["alpha"], params["beta"], years)[1:]
        share = alive / customers
        se = np.sqrt(expected * (1 - expected) / customers)
        z = (share - expected) / se
        for year in range(years):
            rows.append({"cohort": name, "year": year + 1, "sbg_survival": expected[year],
                         "simulated_share": share[year], "standard_error": se[year], "z": z[year]})
        fit = analytic.fit_sbg(alive, customers)
        fits[name] = fit
        errors = {k: fit[k] / params[k] - 1 for k in ("alpha", "beta")}
        ok = bool(np.all(np.abs(z) <= Z_LIMIT) and all(abs(e) <= SBG_RELATIVE for e in errors.values()))
        passed &= ok
        parts.append(f"{name}: survivors max |z| = {np.max(np.abs(z)):.2f}; refit α = {fit['alpha']:.3f} "
                     f"± {1.96 * fit['alpha_se']:.3f} ({100 * errors['alpha']:+.1f} %), β = {fit['beta']:.3f} "
                     f"± {1.96 * fit['beta_se']:.3f} ({100 * errors['beta']:+.1f} %)")
    table = pd.DataFrame(rows)

    def figure(ax):
        for colour, (name, params) in zip(("#0072B2", "#E69F00"), cohorts.items(), strict=True):
            part = table[table["cohort"] == name]
            curve = analytic.sbg_survival(params["alpha"], params["beta"], years)
            ax.plot(range(years + 1), curve, color=colour, label=f"sBG {name} (α={params['alpha']}, "
                    f"β={params['beta']})")
            ax.errorbar(part["year"], part["simulated_share"], yerr=1.96 * part["standard_error"], fmt="o",
                        color=colour, markersize=4, label=f"model, {name} cohort")
        ax.set(xlabel="Year", ylabel="Share of the cohort still a customer", ylim=(0, 1.02),
               title=f"Shifted-beta-geometric cohorts, {customers:,} customers each")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)

    return Check(
        key="sbg", title="Shifted-beta-geometric cohorts",
        source="Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. J. Interactive "
               "Marketing 21(1):76–90: S(t) = B(α, β + t)/B(α, β); published fits 'regular' α = 0.704, "
               "β = 1.182 and 'high end' α = 0.668, β = 3.806.",
        setup=f"`analytic.sbg_scenario(α, β, customers={customers:,})`: the whole cohort starts as customers "
              "at week 0; `churn.model = \"beta_geometric\"`, `period_weeks = 52`, each customer's yearly "
              "churn probability θ ~ Beta(`dropout_a` = α, `dropout_b` = β) as a constant hazard per "
              "4-week step; 7 years; refit by maximum likelihood (`analytic.fit_sbg`) on the yearly "
              "survivor counts.",
        target=f"survivor share in years 1–7 within {Z_LIMIT:g} binomial standard errors of S(t); refit "
               f"α and β within {100 * SBG_RELATIVE:.0f} % of the published values",
        measured="; ".join(parts), passed=passed,
        meaning="heterogeneous churn is not applied as a per-customer constant probability per period "
                "(e.g. the Beta draw, the period conversion or the cohort bookkeeping is wrong), so cohort "
                "retention curves from the model cannot be read as sBG curves.",
        table=table, figure=figure)


def jobs_bgnbd(settings: dict) -> list:
    return [(_bgnbd_job, (settings["bgnbd_customers"], 39, 21))]


def check_bgnbd(settings: dict, results: list) -> Check:
    customers = settings["bgnbd_customers"]
    (result,) = results
    rows = []
    for name, published in analytic.CDNOW_BGNBD.items():
        estimate, own_se = result["params"][name], result["std_errors"][name]
        published_se = analytic.CDNOW_BGNBD_SE[name]
        rows.append({"parameter": name, "published": published, "published_se": published_se,
                     "refit": estimate, "refit_se": own_se,
                     "gap_in_published_se": (estimate - published) / published_se})
    table = pd.DataFrame(rows)

    def figure(ax):
        y = np.arange(len(table))[::-1]
        scaled = table["gap_in_published_se"]
        ax.errorbar(scaled, y, xerr=1.96 * table["refit_se"] / table["published_se"], fmt="o",
                    color="#0072B2", capsize=4, label="refit − published (95 % interval of the refit)")
        ax.axvspan(-1, 1, color="#009E73", alpha=0.15, label="within one published standard error")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, table["parameter"])
        ax.set_ylim(-1.6, len(table) - 0.5)   # room for the legend under the last parameter
        ax.set(xlabel="(refit − published) / published standard error", xlim=(-2, 2),
               title=f"BG/NBD round trip, {customers:,} simulated customers, 39 weeks")
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3, axis="x")

    return Check(
        key="bgnbd", title="BG/NBD round trip (CDNOW)",
        source="Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). 'Counting your customers' the easy way: "
               "an alternative to the Pareto/NBD model. Marketing Science 24(2):275–284: CDNOW fit r = 0.243, "
               "α = 4.414, a = 0.793, b = 2.426. Standard errors of that fit (0.0126, 0.378, 0.186, 0.705) "
               "as published by the lifetimes package's BG/NBD documentation (Davidson-Pilon, "
               "lifetimes 0.11, 'Quickstart').",
        setup=f"`analytic.bgnbd_scenario(r, α, a, b, customers={customers:,})`: a cohort of customers alive at "
              "week 0 with need rate λ ~ Gamma(r, α) (`need_rate` = r/α, `need_shape` = r) and "
              "`churn.model = \"bgnbd\"` with dropout ~ Beta(a, b); steps of one day for 39 weeks; each "
              "customer's repeat purchases x, time of the last t_x and T = 39 weeks are refitted with relsim's "
              "own fitter (`relsim.calibration.btyd.fit_bgnbd`).",
        target="each refitted parameter within one published standard error of the published value",
        measured="; ".join(f"{row.parameter} = {row.refit:.3f} ± {1.96 * row.refit_se:.3f} "
                           f"({row.gap_in_published_se:+.2f} published SE)" for row in table.itertuples())
                 + f" ({result['repeaters']:,} of {result['customers']:,} customers bought again)",
        passed=bool(np.all(np.abs(table["gap_in_published_se"]) <= 1.0) and result["converged"]),
        meaning="the model's purchase process (Poisson needs with gamma heterogeneity) or its BG/NBD dropout "
                "does not generate the process the fitter assumes, so a scenario calibrated with "
                "`relsim calibrate` would not reproduce the log it was calibrated on (or the fitter is wrong).",
        table=table, figure=figure)


def _dock_arguments(settings: dict) -> list:
    return [(s, engine, settings["dock_customers"], settings["dock_weeks"],
             (0 if engine == "agents" else 1000) + seed)
            for s in settings["dock_scenarios"] for engine in ("agents", "arrays")
            for seed in range(settings["dock_runs"])]


def jobs_docking(settings: dict) -> list:
    return [(_dock_job, args) for args in _dock_arguments(settings)]


def check_docking(settings: dict, results: list) -> Check:
    scenarios, customers = settings["dock_scenarios"], settings["dock_customers"]
    weeks, runs = settings["dock_weeks"], settings["dock_runs"]
    jobs = _dock_arguments(settings)
    outputs = results
    tables, parts, passed = [], [], True
    for scenario in scenarios:
        samples = {engine: pd.DataFrame([o for job, o in zip(jobs, outputs, strict=True)
                                         if job[0] == scenario and job[1] == engine])
                   for engine in ("agents", "arrays")}
        table = docking.dock(samples["agents"], samples["arrays"]).assign(scenario=scenario)
        tables.append(table)
        differs = int(table["differs"].sum())
        passed &= differs == 0
        parts.append(f"{scenario}: {differs} of {len(table)} outputs differ (smallest Holm-adjusted p "
                     f"{min(table['p_t_holm'].min(), table['p_ks_holm'].min()):.3f}; largest |d| "
                     f"{table['d'].abs().max():.2f})")
    table = pd.concat(tables, ignore_index=True)
    detectable = docking.detectable_difference(runs, runs, 2 * int(table.groupby("scenario").size().max()))

    names = list(dict.fromkeys(table["output"]))

    def figure(ax):
        for colour, scenario in zip(("#0072B2", "#E69F00", "#009E73"), scenarios, strict=False):
            part = table[table["scenario"] == scenario]
            ax.plot(part["d"], [names.index(n) for n in part["output"]], "o", color=colour, label=scenario,
                    markersize=5)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.axvspan(-detectable, detectable, color="#999999", alpha=0.2,
                   label=f"|d| < {detectable:.2f}: not detectable with 80 % power")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set(xlabel="Standardised difference d = (arrays − agents) / pooled sd",
               title=f"Docking: {runs} runs per engine, {customers:,} customers, {weeks} weeks")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)

    return Check(
        key="docking", title="Docking of the two engines",
        source="Axtell, R., Axelrod, R., Epstein, J. M. & Cohen, M. D. (1996). Aligning simulation models: a "
               "case study and results. Computational & Mathematical Organization Theory 1(2):123–141; "
               "Rand, W. & Rust, R. T. (2011). Agent-based modeling in marketing: guidelines for rigor. "
               "IJRM 28(3):181–193 (verification). Procedure of tests/test_docking.py.",
        setup=f"{', '.join(scenarios)} resized to {customers:,} customers, {weeks} weeks; {runs} runs per engine "
              "on independent seeds; 22–24 scalar outputs per run (focal retention, new customers by source, "
              "profit, trust, commitment, rungs, orders, complaints, failures; market totals).",
        target="no output differs: Student's t-test (pooled variance) and the two-sample KS test per output, "
               f"Holm-corrected at a family-wise α = {docking.FAMILY_ALPHA} per scenario",
        measured="; ".join(parts) + f". Detectable with 80 % power: |d| ≥ {detectable:.2f}.",
        passed=passed,
        meaning="the agent engine and the array engine no longer implement the same model: a result found "
                "with one may not hold with the other; the output named in the table shows where to look.",
        table=table[["scenario", "output", "mean_agents", "sd_agents", "mean_arrays", "sd_arrays", "d",
                     "p_t_holm", "p_ks_holm", "differs"]], figure=figure, figure_size=(8.0, 7.0))


def jobs_corners(settings: dict) -> list:
    return [(_corner_job, (case, engine)) for case in corner_scenarios()
            for engine in settings["corner_engines"]]


def check_corners(settings: dict, results: list) -> Check:
    table = pd.DataFrame(results)
    table["ok"] = [(r["refused"] and r["case"] == "no customers at all" and "customers" in r["message"])
                   or (not r["refused"] and r["case"] != "no customers at all" and not r["problems"])
                   for r in results]
    descriptions = {case: description for case, (description, _) in corner_scenarios().items()}
    table.insert(1, "setup", table["case"].map(descriptions))
    failed = table[~table["ok"]]
    return Check(
        key="corners", title="Corner cases",
        source="Rand & Rust (2011), verification: extreme and degenerate inputs must run and give sensible "
               "outputs.",
        setup="ecommerce resized to 300 customers, 26 weeks, seed 3, both engines, with: "
              + "; ".join(f"{case} ({description})" for case, description in descriptions.items()),
        target="each case runs without error (or, for an impossible market, is refused with a scenario "
               "error that names the field); no NaN except the documented marks of an undefined ratio "
               "(means and NPS with no customers, referral share with no orders, retention with no "
               "customers at the start, response time with no answered ticket: docs/model.md, 5.1), and "
               "those exactly where undefined; no infinite values; one row per firm and week; "
               "customers within [0, market size]; no negative cost line; market shares in [0, 1]; no "
               "spending where the budget or desk is zero; nothing happens where nobody can buy",
        measured=(f"{int(table['ok'].sum())} of {len(table)} case × engine runs sensible"
                  + ("" if failed.empty else "; failing: " + "; ".join(
                      f"{r.case} ({r.engine}): {r.problems or r.get('message', '')}"
                      for r in failed.itertuples()))),
        passed=bool(table["ok"].all()),
        meaning="a degenerate but legal scenario crashes or produces undefined numbers: users exploring "
                "extreme levers would get a traceback or NaN in their tables.",
        table=table)


#: name → (its simulation jobs, the check made of their results)
CHECK_FUNCTIONS = {"bass": (jobs_bass, check_bass), "ltv": (jobs_ltv, check_ltv),
                   "sbg": (jobs_sbg, check_sbg), "bgnbd": (jobs_bgnbd, check_bgnbd),
                   "docking": (jobs_docking, check_docking), "corners": (jobs_corners, check_corners)}


# ==========================================================================
# running the suite
# ==========================================================================
@dataclass
class Validation:
    """The outcome of a suite: the checks, the mode and the time taken."""

    checks: list[Check]
    mode: str
    workers: int
    seconds: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def _call(job):
    function, args = job
    return function(*args)


def run_validation(quick: bool = True, workers: int = 1, only: Sequence[str] | None = None,
                   progress: Callable[[str], None] | None = None, sizes: dict | None = None) -> Validation:
    """Run the validation suite.

    Parameters
    ----------
    quick : bool
        The quick sizes (under two minutes on two cores) or the full ones.
    workers : int
        Processes for the simulations (1: all in this process).
    only : sequence of str, optional
        Run only these checks (names in :data:`CHECKS`).
    progress : callable, optional
        Called with a check's name when it starts.
    sizes : dict, optional
        Overrides of the mode's sizes (keys of :data:`SETTINGS`), e.g. for a fast test.

    Returns
    -------
    Validation
    """
    names = list(only) if only else list(CHECKS)
    unknown = [n for n in names if n not in CHECK_FUNCTIONS]
    if unknown:
        raise ValidationError(f"unknown check {unknown[0]!r}; allowed: {', '.join(CHECKS)}")
    mode = "quick" if quick else "full"
    unknown = sorted(set(sizes or {}) - set(SETTINGS[mode]))
    if unknown:
        raise ValidationError(f"unknown size {unknown[0]!r}; allowed: {', '.join(SETTINGS[mode])}")
    settings = {**SETTINGS[mode], **(sizes or {})}
    start = time.perf_counter()
    jobs = {name: CHECK_FUNCTIONS[name][0](settings) for name in names}
    checks = []
    if workers > 1:
        # every job of every check in one pool, the long single jobs first, so that the cores stay busy
        # forkserver: no fork of a process that may hold threads (BLAS, matplotlib)
        with process_pool(workers) as pool:
            futures = {name: [pool.submit(_timed, job) for job in jobs[name]]
                       for name in sorted(names, key=SUBMIT_ORDER.index)}
            for name in names:
                if progress is not None:
                    progress(name)
                checks.append(_assemble(name, settings, [future.result() for future in futures[name]]))
    else:
        for name in names:
            if progress is not None:
                progress(name)
            checks.append(_assemble(name, settings, [_timed(job) for job in jobs[name]]))
    return Validation(checks, mode, workers, time.perf_counter() - start)


def _timed(job) -> tuple[float, object]:
    began = time.process_time()
    result = _call(job)
    return time.process_time() - began, result


def _assemble(name: str, settings: dict, timed: list) -> Check:
    check = CHECK_FUNCTIONS[name][1](settings, [result for _, result in timed])
    check.seconds = sum(seconds for seconds, _ in timed)
    return check


def z_to_p(z: float) -> float:
    """Two-sided p-value of a standard normal z (for readers of the tables)."""
    return float(2 * stats.norm.sf(abs(z)))
