"""Statistical docking of the two engines (Axtell, Axelrod, Epstein & Cohen 1996), as a library.

The same procedure as ``tests/test_docking.py`` (which documents its power):
scalar outputs of many runs per engine on independent seeds, each compared
with Student's two-sample t-test (pooled variance) and the two-sample
Kolmogorov–Smirnov test, all p-values of a scenario one family,
Holm-corrected at a family-wise ``FAMILY_ALPHA``.

Why the pooled-variance t and not Welch's: the hypothesis docked is that the
engines give the *same distribution* of every output, so under it the two
variances are equal and Student's t is exact (for normal outputs) whatever
the sample sizes; a difference in spread alone is a difference in
distribution too (KS's job, and a reason to reject either way). Welch's test
pays for robustness to unequal variances with fewer degrees of freedom,
which at the family's per-test level (≈ 2e-4) costs power most in the
unbalanced designs that save agent-engine runs.
``relsim validate`` runs it at a small size (``--quick``) or at the test's size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from relsim.market.metrics import summarize

FAMILY_ALPHA = 0.01
POWER = 0.8


def docking_outputs(steps: pd.DataFrame) -> dict[str, float]:
    """The scalar outputs of one run that the engines are docked on.

    Parameters
    ----------
    steps : DataFrame
        The run's per-week, per-firm table (``RunResult.steps``).

    Returns
    -------
    dict
        Output name to value. Focal-firm outputs (the focal firm is the
        first firm in row order) are prefixed ``focal``, market totals
        (all firms together) ``market``.
    """
    focal_name = steps["firm"].iloc[0]
    focal = steps[steps["firm"] == focal_name]
    summary = summarize(steps).set_index("firm").loc[focal_name]
    last_week = focal[focal["week"] == focal["week"].max()].iloc[0]
    # the initial customer base is in place before week 0: no spell starts with source "initial"
    sources = [column for column in steps
               if column.startswith("new_") and column not in ("new_customers", "new_initial")]
    rungs = [column for column in steps if column.startswith("rung_")]
    outputs = {
        "focal annual_retention": summary["annual_retention"],
        **{f"focal {column}": focal[column].sum() for column in sources},
        "focal cumulative_discounted_profit": summary["cumulative_discounted_profit"],
        "focal mean_trust (last year)": summary["mean_trust"],
        "focal mean_commitment (last year)": summary["mean_commitment"],
        **{f"focal {column} (end)": last_week[column] for column in rungs},
        **{f"focal {column}": focal[column].sum() for column in ("orders", "complaints", "failures")},
        **{f"market {column}": steps[column].sum()
           for column in ("orders", "new_customers", "churned", "complaints", "failures")},
        "market cumulative_discounted_profit":
            steps.groupby("firm", sort=False)["cumulative_discounted_profit"].last().sum(),
    }
    return {name: float(value) for name, value in outputs.items()}



def t_p(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sided p-value of Student's two-sample t-test (pooled variance, ``n1 + n2 - 2``
    degrees of freedom); exact answers where neither sample has spread.

    Two constant samples have equal means only if the constants are equal
    (p = 1), otherwise they certainly differ (p = 0).
    """
    if np.ptp(first) == 0 and np.ptp(second) == 0:
        return 1.0 if first[0] == second[0] else 0.0
    return float(stats.ttest_ind(first, second, equal_var=True).pvalue)


def holm_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (reject where adjusted p <= family α)."""
    p_values = np.asarray(p_values, dtype=float)
    count = p_values.size
    order = np.argsort(p_values, kind="stable")
    stepped = np.minimum(1.0, (count - np.arange(count)) * p_values[order])
    adjusted = np.empty(count)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def dock(agents: pd.DataFrame, arrays: pd.DataFrame, alpha: float = FAMILY_ALPHA) -> pd.DataFrame:
    """Compare the output samples of the two engines, output by output.

    Parameters
    ----------
    agents, arrays : DataFrame
        One row per run, one column per output (:func:`engine_sample`).
    alpha : float
        Family-wise error rate over all p-values (t-test and KS of every output).

    Returns
    -------
    DataFrame
        One row per output that varies in at least one engine: runs, mean and
        standard deviation per engine, the standardised mean difference ``d``
        (difference over the pooled standard deviation), the t-test's and KS's
        p-values, their Holm-adjusted values and whether the output differs.
    """
    assert list(agents.columns) == list(arrays.columns), "both engines must report the same outputs"
    rows = []
    for output in agents.columns:
        first, second = agents[output].to_numpy(), arrays[output].to_numpy()
        assert np.isfinite(first).all() and np.isfinite(second).all(), f"{output}: a run gave no value"
        constant = np.ptp(first) == 0 and np.ptp(second) == 0
        if constant and first[0] == second[0]:
            continue   # e.g. a source the scenario never uses: no evidence either way
        pooled = math.sqrt((first.var(ddof=1) + second.var(ddof=1)) / 2)
        difference = second.mean() - first.mean()
        rows.append({
            "output": output, "runs_agents": first.size, "runs_arrays": second.size,
            "mean_agents": first.mean(), "sd_agents": first.std(ddof=1),
            "mean_arrays": second.mean(), "sd_arrays": second.std(ddof=1),
            "d": difference / pooled if pooled > 0 else math.copysign(math.inf, difference),
            "p_t": t_p(first, second),
            "p_ks": 0.0 if constant else float(stats.ks_2samp(first, second).pvalue),
        })
    table = pd.DataFrame(rows)
    adjusted = holm_adjusted(np.concatenate([table["p_t"], table["p_ks"]]))
    table["p_t_holm"] = adjusted[:len(table)]
    table["p_ks_holm"] = adjusted[len(table):]
    table["differs"] = (table["p_t_holm"] <= alpha) | (table["p_ks_holm"] <= alpha)
    return table


def detectable_difference(runs_first: int, runs_second: int, tests: int, alpha: float = FAMILY_ALPHA,
                          power: float = POWER) -> float:
    """Smallest standardised mean difference the t-test finds with ``power``.

    Normal approximation at the Bonferroni level ``alpha / tests`` (a lower
    bound on Holm's power): ``d = (z_{1-α'/2} + z_power) · sqrt(1/n1 + 1/n2)``.
    """
    level = alpha / tests
    return float((stats.norm.ppf(1 - level / 2) + stats.norm.ppf(power))
                 * math.sqrt(1 / runs_first + 1 / runs_second))
