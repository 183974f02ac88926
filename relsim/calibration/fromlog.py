"""From a transaction log to a calibrated relsim scenario, and the hold-out check.

>>> from relsim.calibration.fromlog import calibrate
>>> from relsim.calibration.transactions import cdnow_log
>>> calibration = calibrate(cdnow_log(), "1997-09-30", margin=0.3,     # doctest: +SKIP
...                         zero_amounts="keep", duplicates="keep")   # as the published analyses
>>> calibration.bgnbd.params                                           # doctest: +SKIP
{'r': 0.2426, 'alpha': 4.4136, 'a': 0.7929, 'b': 2.4259}
>>> calibration.write("cdnow.toml")                                    # doctest: +SKIP
>>> calibration.holdout("1998-06-30", seeds=10).errors()               # doctest: +SKIP

The mapping from the fitted parameters to the scenario (docs/model.md,
"Calibration from a transaction log"): one segment with need_rate = r/α and
need_shape = r (so λ ~ Gamma(r, rate α)), dropout_a = a and dropout_b = b
under ``churn.model = "bgnbd"``, and Gamma-Gamma spend (spend_shape = p,
spend_scale_shape = q, spend_scale_rate = γ).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import tomli_w

from relsim.calibration import btyd
from relsim.calibration.transactions import (
    DAYS_PER_WEEK,
    LogColumns,
    read_log,
    rfm_summary,
    weekly_repeat_transactions,
)
from relsim.scenario.population import MAX_NEED_RATE
from relsim.scenario.schema import Scenario, from_dict
from relsim.scenario.strategies import PRESETS
from relsim.util.errors import RelsimError
from relsim.util.progress import progress_bar

#: What a transaction log cannot tell: these keep the scenario defaults (docs/model.md).
NOT_IDENTIFIED = (
    "relationship state (trust, commitment, reciprocity, responsiveness, satisfaction) and every "
    "[behaviour] parameter: a log records purchases, not attitudes",
    "how strategy levers (service, offers, rewards, key accounts) change purchase rates and dropout: "
    "under churn.model = 'bgnbd' a customer's dropout is its own p, whatever the firm does",
    "competitors and switching: the log shows one firm's customers only",
    "word of mouth and acquisition of new customers (switched off: the base is a closed cohort)",
    "operations and costs ([operations], [costs], supplier lead times and defects)",
    "the firm's margin: taken from --margin, not from the log",
)


class CalibrationError(RelsimError):
    """A calibration option is inconsistent with the log. The message is meant for users."""


@dataclass
class Calibration:
    """A transaction log calibrated to BG/NBD and Gamma-Gamma, and the scenario that follows.

    Attributes
    ----------
    log : DataFrame
        The validated log (customer, date, amount).
    summary : DataFrame
        RFM summary per customer in weeks (see :func:`relsim.calibration.transactions.rfm_summary`).
    calibration_end : Timestamp
    bgnbd, gamma_gamma : btyd.Fit
        The fits with standard errors.
    margin : float
        The firm's gross margin on sales, as given.
    strategy : str
        The firm's current strategy (a preset).
    per_customer : bool
        The scenario starts from the log's customers (a population file drawn
        from each customer's posterior) rather than from the fitted distributions.
    weeks : int
        Horizon of the written scenario.
    seed : int
        Seed of the per-customer draws written with the scenario.
    name : str
        Scenario name.
    firm : str
        The firm's name in the scenario.
    """

    log: pd.DataFrame
    summary: pd.DataFrame
    calibration_end: pd.Timestamp
    bgnbd: btyd.Fit
    gamma_gamma: btyd.Fit
    margin: float
    strategy: str = "reactive"
    per_customer: bool = False
    weeks: int = 52
    seed: int = 0
    name: str = "calibrated"
    firm: str = "Us"

    # -- the scenario -------------------------------------------------------
    def reference_state(self) -> dict[str, float]:
        """Satisfaction and commitment at which the fitted dropout applies.

        The log was recorded while the firm ran its current strategy, so the
        fitted dropout is the dropout of customers in the relationship state that
        strategy gives them. A pilot run of the calibrated market under that
        strategy, with the relationship's pull on dropout switched off (pure
        BG/NBD), measures it: the order-weighted mean satisfaction and commitment
        of the firm's customers over the horizon. A scenario that changes the
        strategy then moves dropout from there (``rules.relationship_dropout``,
        docs/model.md §9.3). Computed once per calibration.
        """
        cached = getattr(self, "_reference", None)
        if cached is not None and cached[0] == (self.strategy, self.weeks, self.seed):
            return cached[1]
        from relsim.market.runner import simulate
        self._reference = None
        data = self.scenario_data(weeks=max(26, min(int(self.weeks), 104)), reference=False)
        data["churn"].update(w_satisfaction=0.0, w_commitment=0.0)
        data["market"]["engine"] = "arrays"
        scenario = from_dict(data, source="calibration pilot")
        if scenario.market.customers > 3000:
            scenario = scenario.resized(3000)
        steps = simulate(scenario, seed=self.seed).steps
        mine = steps[(steps["firm"] == self.firm) & (steps["orders"] > 0)]
        weights = mine["orders"].to_numpy(dtype=float)
        state = {"reference_satisfaction": 0.0, "reference_commitment": 0.0}
        if weights.sum() > 0:
            state = {"reference_satisfaction": float(np.average(mine["mean_satisfaction"].fillna(0), weights=weights)),
                     "reference_commitment": float(np.average(mine["mean_commitment"].fillna(0), weights=weights))}
        state = {key: round(value, 4) for key, value in state.items()}
        self._reference = ((self.strategy, self.weeks, self.seed), state)
        return state

    def scenario_data(self, population_file: str | None = None, weeks: int | None = None,
                      reference: bool = True) -> dict:
        """The scenario as a dict (what :meth:`write` puts in the TOML file).

        Parameters
        ----------
        population_file : str, optional
            Name a per-customer population file (``[population] file``).
        weeks : int, optional
            Horizon; default ``self.weeks``.
        reference : bool
            Include the reference relationship state of the fitted dropout
            (:meth:`reference_state`, which needs a pilot run).

        Returns
        -------
        dict
        """
        r, alpha, a, b = (self.bgnbd.params[k] for k in btyd.BGNBD_PARAMETERS)
        p, q, gamma = (self.gamma_gamma.params[k] for k in btyd.GAMMA_GAMMA_PARAMETERS)
        # basket_mean only matters if spend_shape were 0; keep it at the population mean spend
        mean_spend = p * gamma / (q - 1) if q > 1 else float(self.summary["first_amount"].mean())
        data = {
            "name": self.name,
            "description": (f"Calibrated from a transaction log by relsim calibrate: {len(self.summary)} "
                            f"customers, calibration end {self.calibration_end.date()}; BG/NBD "
                            + ", ".join(f"{k}={v:.4g}" for k, v in self.bgnbd.params.items())
                            + "; Gamma-Gamma "
                            + ", ".join(f"{k}={v:.4g}" for k, v in self.gamma_gamma.params.items())),
            "market": {"customers": len(self.summary), "weeks": int(weeks or self.weeks),
                       "network": {"kind": "fully_mixed"},
                       # a closed cohort: no campaign reaches anyone new, whatever the strategy
                       "reference_budget": 0.0, "organic_awareness": 0.0},
            "segments": [{
                "name": "calibrated", "share": 1.0,
                "need_rate": r / alpha, "need_shape": r,
                "dropout_a": a, "dropout_b": b,
                "spend_shape": p, "spend_scale_shape": q, "spend_scale_rate": gamma,
                "basket_mean": float(mean_spend),
            }],
            "churn": {"model": "bgnbd", **(self.reference_state() if reference else {})},
            "word_of_mouth": {"enabled": False},
            # the observed margin exactly: no spot discount, volatility or shortage markup
            "suppliers": [{"name": "Supplier", "unit_cost": 1.0 - self.margin, "spot_discount": 0.0,
                           "spot_volatility": 0.0, "shortage_probability": 0.0}],
            "firms": [{"name": self.firm, "strategy": self.strategy, "supplier": "Supplier",
                       "initial_share": 1.0, "initial_awareness": 1.0}],
        }
        if population_file is not None:
            data["population"] = {"file": population_file}
        return data

    @property
    def scenario(self) -> Scenario:
        """The calibrated scenario with the population drawn from the fitted distributions."""
        return from_dict(self.scenario_data(), source="calibrated scenario")

    def population(self, rng: np.random.Generator) -> pd.DataFrame:
        """One draw of every customer's state at the calibration end (see :func:`draw_customer_states`)."""
        return draw_customer_states(self.summary, self.bgnbd.params, self.gamma_gamma.params, rng)

    def write(self, path: str | Path) -> list[Path]:
        """Write the scenario TOML (and, per customer, its population file beside it).

        Parameters
        ----------
        path : str or Path
            The scenario file, e.g. ``calibrated.toml``; the population goes
            to ``<stem>.population.csv`` in the same folder.

        Returns
        -------
        list of Path
            The files written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        written = [path]
        population_file = None
        if self.per_customer:
            population_file = f"{path.stem}.population.csv"
            rng = np.random.default_rng(np.random.SeedSequence(self.seed))
            self.population(rng).to_csv(path.parent / population_file, index=False)
            written.append(path.parent / population_file)
        data = self.scenario_data(population_file)
        header = "".join(f"# {line}\n" for line in (
            "Written by `relsim calibrate` (relsim.calibration.fromlog). The customer population follows the",
            "BG/NBD and Gamma-Gamma fits in the description; see docs/model.md, 'Calibration from a",
            "transaction log'. A log cannot identify these, which keep relsim's defaults:",
            *(f"  - {item}" for item in NOT_IDENTIFIED)))
        path.write_text(header + tomli_w.dumps(data))
        return written

    # -- evidence -----------------------------------------------------------
    @property
    def fit(self) -> dict[str, btyd.Fit]:
        """Both fits by model name: ``{"bgnbd": …, "gamma_gamma": …}``."""
        return {"bgnbd": self.bgnbd, "gamma_gamma": self.gamma_gamma}

    def fit_table(self) -> pd.DataFrame:
        """Both fits: estimate, standard error and 95 % interval per parameter."""
        table = pd.concat([self.bgnbd.table(), self.gamma_gamma.table()], ignore_index=True)
        table["log_likelihood"] = table["model"].map({"bgnbd": self.bgnbd.log_likelihood,
                                                      "gamma_gamma": self.gamma_gamma.log_likelihood})
        table["customers"] = table["model"].map({"bgnbd": self.bgnbd.customers,
                                                 "gamma_gamma": self.gamma_gamma.customers})
        return table

    def holdout(self, holdout_end: str | pd.Timestamp, seeds: int = 10, first_seed: int = 0,
                progress: bool = False) -> Holdout:
        """Simulate the calibrated customers forward over the hold-out and compare with the log.

        Every seed draws each customer's state at the calibration end from its
        BG/NBD/Gamma-Gamma posterior (:func:`draw_customer_states`), runs the
        scenario with the firm's current strategy over the whole hold-out
        weeks, and counts the firm's orders per week; all of them are repeat
        transactions of the calibration customers (the cohort is closed).

        Parameters
        ----------
        holdout_end : date
            Last day of the hold-out; only whole weeks after the calibration end are compared.
        seeds : int
            Simulated runs.
        first_seed : int
            Seeds are ``first_seed … first_seed + seeds − 1``.
        progress : bool
            Show a progress bar of the runs on stderr (``relsim calibrate --holdout-end`` does).

        Returns
        -------
        Holdout

        Raises
        ------
        CalibrationError
            If the hold-out is shorter than a week or the log stops before it ends.
        """
        from relsim.market.runner import simulate

        end = pd.Timestamp(holdout_end).normalize()
        weeks = int((end - self.calibration_end).days // DAYS_PER_WEEK)
        if weeks < 1:
            raise CalibrationError(f"--holdout-end = {end.date()}: must be at least 7 days after the "
                                   f"calibration end {self.calibration_end.date()}")
        last = self.log["date"].max()
        if last < end:
            raise CalibrationError(f"--holdout-end = {end.date()}: the log's last transaction is on "
                                   f"{last.date()}, so the hold-out would be incomplete")
        stop = self.calibration_end + pd.Timedelta(days=7 * weeks)
        actual = weekly_repeat_transactions(self.log, self.calibration_end, stop)
        runs = []
        with tempfile.TemporaryDirectory(prefix="relsim-holdout-") as folder, \
                progress_bar(seeds, f"hold-out check ({weeks} weeks)", enabled=progress) as advance:
            for seed in range(first_seed, first_seed + seeds):
                # the customers' states and the run share one seed, from separate streams
                states, run = np.random.SeedSequence([seed, 1]).spawn(2)
                population = Path(folder) / f"population-{seed}.csv"
                self.population(np.random.default_rng(states)).to_csv(population, index=False)
                scenario = from_dict(self.scenario_data(str(population), weeks=weeks),
                                     source="hold-out scenario")
                steps = simulate(scenario, seed=int(run.generate_state(1)[0])).steps
                focal = steps[steps["firm"] == self.firm]
                runs.append(focal["orders"].to_numpy(dtype=float)[:weeks])
                advance()
        simulated = np.vstack(runs)
        x, t_x, T = (self.summary[c].to_numpy() for c in ("x", "t_x", "T"))  # noqa: N806
        expected = np.array([btyd.conditional_expected_purchases(self.bgnbd.params, t, x, t_x, T).sum()
                             for t in range(weeks + 1)])
        return Holdout(self.calibration_end, weeks, actual.to_numpy(dtype=float), simulated,
                       np.diff(expected), list(range(first_seed, first_seed + seeds)))


@dataclass
class Holdout:
    """Simulated vs actual repeat transactions over the hold-out weeks.

    Attributes
    ----------
    calibration_end : Timestamp
    weeks : int
    actual : ndarray
        Repeat transactions per hold-out week in the log.
    simulated : ndarray
        Per seed (rows) and week (columns), from the relsim runs.
    expected : ndarray
        BG/NBD conditional expectation per week (FHL 2005, eq. 10), the
        analytical value the simulation's mean should approach.
    seeds : list of int
    """

    calibration_end: pd.Timestamp
    weeks: int
    actual: np.ndarray
    simulated: np.ndarray
    expected: np.ndarray
    seeds: list[int]

    def table(self) -> pd.DataFrame:
        """Per week: actual, simulated mean and 5–95 % band over seeds, BG/NBD expectation; weekly and cumulative."""
        cumulative = self.simulated.cumsum(axis=1)
        return pd.DataFrame({
            "week": np.arange(1, self.weeks + 1),
            "actual": self.actual,
            "simulated": self.simulated.mean(axis=0),
            "simulated_low": np.quantile(self.simulated, 0.05, axis=0),
            "simulated_high": np.quantile(self.simulated, 0.95, axis=0),
            "expected": self.expected,
            "cumulative_actual": self.actual.cumsum(),
            "cumulative_simulated": cumulative.mean(axis=0),
            "cumulative_low": np.quantile(cumulative, 0.05, axis=0),
            "cumulative_high": np.quantile(cumulative, 0.95, axis=0),
            "cumulative_expected": self.expected.cumsum(),
        })

    def errors(self) -> dict[str, float]:
        """Error measures of the simulated mean against the log.

        Returns
        -------
        dict
            ``end_error_pct``: (simulated − actual)/actual of the cumulative
            total at the end, in %; ``cumulative_mape_pct``: mean absolute
            percentage error of the cumulative curve over the weeks;
            ``cumulative_max_abs``: largest absolute gap of the cumulative
            curves (transactions); ``weekly_mape_pct``: MAPE of the weekly
            counts (weeks with actual > 0); ``simulation_vs_expected_pct``: the
            simulated end total against the BG/NBD expectation, in % (how
            faithfully relsim plays the fitted model).
        """
        table = self.table()
        actual, simulated = table["cumulative_actual"], table["cumulative_simulated"]
        positive = actual > 0
        weekly = table["actual"] > 0
        return {
            "actual_total": float(actual.iloc[-1]),
            "simulated_total": float(simulated.iloc[-1]),
            "expected_total": float(table["cumulative_expected"].iloc[-1]),
            "end_error_pct": float(100 * (simulated.iloc[-1] - actual.iloc[-1]) / actual.iloc[-1])
            if actual.iloc[-1] > 0 else float("nan"),
            "cumulative_mape_pct": float(100 * np.mean(np.abs(simulated[positive] - actual[positive])
                                                       / actual[positive])),
            "cumulative_max_abs": float(np.max(np.abs(simulated - actual))),
            "weekly_mape_pct": float(100 * np.mean(np.abs(table["simulated"][weekly] - table["actual"][weekly])
                                                   / table["actual"][weekly])),
            "simulation_vs_expected_pct": float(100 * (simulated.iloc[-1] - table["cumulative_expected"].iloc[-1])
                                                / table["cumulative_expected"].iloc[-1]),
        }

    def figure(self, path: str | Path) -> Path:
        """Weekly and cumulative repeat transactions, simulated (band over seeds) vs actual, as PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from relsim.studies.report import PALETTE

        table = self.table()
        fig, (weekly, cumulative) = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, prefix, ylabel in ((weekly, "", "Repeat transactions per week"),
                                   (cumulative, "cumulative_", "Cumulative repeat transactions")):
            simulated = f"{prefix}simulated" if prefix else "simulated"
            low, high = ((f"{prefix}low", f"{prefix}high") if prefix else ("simulated_low", "simulated_high"))
            ax.fill_between(table["week"], table[low], table[high], color=PALETTE[0], alpha=0.2,
                            linewidth=0, label=f"relsim, 5–95 % over {len(self.seeds)} seeds")
            ax.plot(table["week"], table[simulated], color=PALETTE[0], linewidth=2, label="relsim, mean")
            ax.plot(table["week"], table[f"{prefix}expected"], color=PALETTE[1], linewidth=1.5,
                    linestyle="--", label="BG/NBD expectation")
            ax.plot(table["week"], table[f"{prefix}actual"], color=PALETTE[7], linewidth=1.5, label="actual (log)")
            ax.set_xlabel(f"Hold-out week (weeks after {self.calibration_end.date()})")
            ax.set_ylabel(ylabel + " (count)")
            ax.set_xlim(1, self.weeks)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
        weekly.legend(frameon=False, fontsize=8)
        errors = self.errors()
        cumulative.set_title(f"End: simulated {errors['simulated_total']:.0f} vs actual "
                             f"{errors['actual_total']:.0f} ({errors['end_error_pct']:+.1f} %)", fontsize=10)
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def draw_customer_states(summary: pd.DataFrame, bgnbd: dict[str, float], gamma_gamma: dict[str, float],
                         rng: np.random.Generator) -> pd.DataFrame:
    """Draw every customer's state at the calibration end from its posterior.

    Given a customer's (x, t_x, T) and the BG/NBD fit, the posterior of its
    (λ, p) is a mixture of two independent Gamma × Beta components
    (docs/model.md, "Calibration from a transaction log"):

    * alive, with probability P(alive | x, t_x, T) (FHL 2005, eq. 11):
      λ ~ Gamma(r + x, rate α + T), p ~ Beta(a, b + x);
    * dropped out after its last purchase (only if x > 0):
      λ ~ Gamma(r + x, rate α + t_x), p ~ Beta(a + 1, b + x − 1).

    The Gamma-Gamma rate of its order values given x repeat orders of mean
    m_x is ν ~ Gamma(q + p_s·x, rate γ + x·m_x) (p_s the spend shape).

    Parameters
    ----------
    summary : DataFrame
        RFM summary (x, t_x, T, m_x), one row per customer.
    bgnbd, gamma_gamma : dict
        Fitted parameters.
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame
        A population table (relsim.scenario.population): customer, need_rate, dropout,
        spend_rate, purchases = x + 1, first_week = −T, last_purchase_week =
        −(T − t_x), alive.
    """
    r, alpha, a, b = (bgnbd[k] for k in btyd.BGNBD_PARAMETERS)
    spend_shape, q, gamma = (gamma_gamma[k] for k in btyd.GAMMA_GAMMA_PARAMETERS)
    x = summary["x"].to_numpy(dtype=float)
    t_x = summary["t_x"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)  # noqa: N806
    alive = rng.random(x.size) < btyd.p_alive(bgnbd, x, t_x, T)
    observed = np.where(alive, T, t_x)
    need_rate = rng.gamma(r + x, 1.0) / (alpha + observed)
    dropout = np.where(alive, rng.beta(a, b + x), rng.beta(a + 1, np.maximum(b + x - 1, 1e-12)))
    spend_total = x * np.nan_to_num(summary["m_x"].to_numpy(dtype=float))
    spend_rate = rng.gamma(q + spend_shape * x, 1.0) / (gamma + spend_total)
    return pd.DataFrame({
        "customer": summary.index.astype(str),
        # a rate of exactly 0 is not a valid need rate; above MAX_NEED_RATE a population file is refused
        "need_rate": np.clip(need_rate, 1e-12, MAX_NEED_RATE),
        "dropout": dropout, "spend_rate": spend_rate,
        "purchases": x.astype(np.int64) + 1, "first_week": -T, "last_purchase_week": -(T - t_x),
        "alive": alive,
    })


def calibrate(log: str | Path | pd.DataFrame, calibration_end: str | pd.Timestamp, *, margin: float,
              strategy: str = "reactive", columns: LogColumns | None = None,
              zero_amounts: Literal["error", "keep"] = "error",
              duplicates: Literal["error", "keep", "drop"] = "error", per_customer: bool = False,
              weeks: int = 52, seed: int = 0, name: str = "calibrated", firm: str = "Us") -> Calibration:
    """Calibrate a relsim population from a transaction log.

    Parameters
    ----------
    log : str, Path or DataFrame
        The log (CSV or Parquet file, or a table), validated with
        :func:`relsim.calibration.transactions.read_log`.
    calibration_end : date
        Last day of the calibration period; later transactions are not fitted.
    margin : float
        The firm's gross margin on sales, in (0, 1): the supplier's unit cost is 1 − margin.
    strategy : str
        The firm's current strategy (a preset name).
    columns : LogColumns, optional
        Column names and date format of the log (default: customer, date, amount; ISO dates).
    zero_amounts, duplicates : str
        How to treat zero amounts and exactly repeated rows (see ``read_log``).
    per_customer : bool
        Write a population file drawn customer by customer from the log's
        RFM (posterior draws) instead of drawing from the fitted distributions.
    weeks : int
        Horizon of the written scenario.
    seed : int
        Seed of the per-customer draws.
    name, firm : str
        Scenario and firm names.

    Returns
    -------
    Calibration

    Raises
    ------
    LogError
        If the log has bad rows.
    CalibrationError
        If an option does not fit the log (margin out of range, unknown
        strategy, calibration end outside the log, too little data).
    """
    if not 0 < margin < 1:
        raise CalibrationError(f"--margin = {margin}: must be between 0 and 1 (the share of revenue "
                               "left after the cost of goods)")
    if strategy not in PRESETS:
        raise CalibrationError(f"--strategy = {strategy!r}: unknown strategy; allowed: {', '.join(PRESETS)}")
    try:
        end = pd.Timestamp(calibration_end).normalize()
    except (ValueError, TypeError):
        raise CalibrationError(f"--calibration-end = {calibration_end!r}: not a date (use YYYY-MM-DD)") from None
    frame = read_log(log, columns or LogColumns(), zero_amounts=zero_amounts, duplicates=duplicates)
    first, last = frame["date"].min(), frame["date"].max()
    if not first <= end <= last:
        # after the last transaction, T would count weeks nobody observed
        raise CalibrationError(f"--calibration-end = {end.date()}: outside the log, which runs from "
                               f"{first.date()} to {last.date()}")
    summary = rfm_summary(frame, end)
    source = "the log" if isinstance(log, pd.DataFrame) else str(log)
    try:
        bgnbd = btyd.fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
        gamma_gamma = btyd.fit_gamma_gamma(summary["x"], summary["m_x"])
    except btyd.FitError as error:
        raise CalibrationError(f"{source}: calibration period up to {end.date()} (log {first.date()} to "
                               f"{last.date()}): {error}") from None
    for fit in (bgnbd, gamma_gamma):
        if not fit.converged:
            raise CalibrationError(
                f"{source}: {fit.model}: the maximum-likelihood fit did not converge on the calibration period "
                f"up to {end.date()} ({fit.customers} customers); the estimates would not be trustworthy — "
                "try a later --calibration-end (more repeat purchases) or check the log's dates")
    return Calibration(frame, summary, end, bgnbd, gamma_gamma, margin, strategy, per_customer,
                       weeks, seed, name, firm)


def write_report(calibration: Calibration, directory: str | Path, holdout: Holdout | None = None) -> list[Path]:
    """Write the calibration evidence: fit table, RFM summary, hold-out table, figure, report.md.

    Parameters
    ----------
    calibration : Calibration
    directory : str or Path
        Folder to write into (must exist).
    holdout : Holdout, optional

    Returns
    -------
    list of Path
    """
    directory = Path(directory)
    fits = calibration.fit_table()
    written = [directory / "fit.csv", directory / "rfm.csv"]
    fits.to_csv(written[0], index=False)
    calibration.summary.to_csv(written[1])
    summary = calibration.summary
    lines = [
        f"# Calibration: {calibration.name}",
        "",
        f"{len(summary):,} customers with a first purchase on or before the calibration end "
        f"{calibration.calibration_end.date()}; {int(summary['x'].sum()):,} repeat transactions in the "
        "calibration period (purchases of one customer on one day count as one).",
        "",
        "## Fits (maximum likelihood, standard errors from the numerical Hessian)",
        "",
        "| model | parameter | estimate | std. error | 95 % interval |",
        "|---|---|---|---|---|",
        *(f"| {row.model} | {row.parameter} | {row.estimate:.4g} | {row.std_error:.3g} | "
          f"{row.ci_low:.4g} – {row.ci_high:.4g} |" for row in fits.itertuples()),
        "",
        f"BG/NBD log-likelihood {calibration.bgnbd.log_likelihood:.1f} ({calibration.bgnbd.customers:,} customers); "
        f"Gamma-Gamma log-likelihood {calibration.gamma_gamma.log_likelihood:.1f} "
        f"({calibration.gamma_gamma.customers:,} customers with a repeat purchase of positive value).",
        "",
        "## In the scenario",
        "",
        "need_rate = r/α, need_shape = r; dropout_a = a, dropout_b = b (churn.model = 'bgnbd'); "
        "spend_shape = p, spend_scale_shape = q, spend_scale_rate = γ; supplier unit_cost = "
        f"1 − margin = {1 - calibration.margin:.4g}; strategy '{calibration.strategy}'.",
        "",
        "**Not identified by a log** (scenario defaults kept):",
        "",
        *(f"- {item}" for item in NOT_IDENTIFIED),
    ]
    if holdout is not None:
        errors = holdout.errors()
        written += [directory / "holdout.csv", directory / "holdout.png"]
        holdout.table().to_csv(written[-2], index=False)
        holdout.figure(written[-1])
        lines += [
            "",
            f"## Hold-out: {holdout.weeks} weeks after {holdout.calibration_end.date()}",
            "",
            f"relsim simulated the calibrated customers forward with the firm's current strategy, "
            f"{len(holdout.seeds)} seeds, each drawing every customer's state at the calibration end from "
            "its posterior. Repeat transactions over the hold-out:",
            "",
            "| | transactions |",
            "|---|---|",
            f"| actual (log) | {errors['actual_total']:.0f} |",
            f"| relsim, mean over seeds | {errors['simulated_total']:.1f} |",
            f"| BG/NBD conditional expectation | {errors['expected_total']:.1f} |",
            "",
            f"Error of the simulated cumulative total at the end: {errors['end_error_pct']:+.1f} %; "
            f"mean absolute percentage error of the cumulative curve: {errors['cumulative_mape_pct']:.1f} %; "
            f"largest gap of the cumulative curves: {errors['cumulative_max_abs']:.0f} transactions; "
            f"weekly MAPE: {errors['weekly_mape_pct']:.1f} %. relsim vs the BG/NBD expectation: "
            f"{errors['simulation_vs_expected_pct']:+.1f} %.",
            "",
            "![Hold-out: simulated vs actual repeat transactions](holdout.png)",
        ]
    (directory / "report.md").write_text("\n".join(lines) + "\n")
    written.append(directory / "report.md")
    return written
