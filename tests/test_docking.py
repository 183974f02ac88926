"""Docking the two engines (Axtell, Axelrod, Epstein & Cohen 1996).

The agent engine (a Mesa agent per customer) and the array engine (customers as
numpy arrays) are meant to be two implementations of *one* model. They cannot
agree run by run, because they draw their random numbers in different orders,
so they are docked *distributionally*: each scenario (ecommerce, b2b,
alliance) is run ``RUNS = 30`` times per engine on independent seeds (agents
``0 … 29``, arrays ``1000 … 1029``), a fixed list of scalar outputs is taken
from every run, and for each output the two samples are compared with

* Welch's two-sample t-test (are the means equal?) and
* the two-sample Kolmogorov–Smirnov test (are the distributions equal?).

The outputs (:func:`docking_outputs`) are, for the focal firm (the first firm
of the scenario): annual retention, new customers by source over the run,
cumulative discounted profit, mean trust and commitment over the last year,
the loyalty-ladder shares at the last week, and total orders, complaints and
delivery failures; for the whole market: total orders, new customers, churned
customers, complaints, failures and cumulative discounted profit. An output
that is the same constant in every run of both engines (a source a scenario
never uses, an empty rung) carries no evidence and is left out of the family.

All p-values of a scenario (two per output) form one family; Holm's step-down
correction keeps its family-wise error rate at ``FAMILY_ALPHA = 0.01``, so
that correct engines fail the three scenarios together with probability at
most 3 %. The test fails if any output differs, naming the scenario, the
output, both means and standard deviations and the p-values.

Power
-----
Holm rejects at least what Bonferroni rejects, so the power of Bonferroni at
``α' = FAMILY_ALPHA / m`` is a lower bound. With ``m = 2 × 24`` p-values (24 is
the most outputs a scenario has), ``RUNS = 30`` runs per engine and the normal
approximation, Welch's test detects a standardised mean difference (engine
difference over the run-to-run standard deviation)

    d = (z_{1-α'/2} + z_{0.8}) · sqrt(2 / RUNS) ≈ 1.17

with 80 % power (``STATED_DETECTABLE_D``, :func:`detectable_difference`).
The normal approximation is a little optimistic at so small an ``α'``: with
the t distribution (58 degrees of freedom) the power at d = 1.17 is about
72 %, and 80 % is reached at d ≈ 1.25 (``WELCH_DETECTABLE_D``); both are
checked by Monte Carlo in ``test_stated_power``.

Smaller systematic differences may well go unnoticed: this is evidence
against engine discrepancies of about one run-to-run standard deviation or
more, not against subtle ones. For scale: on ecommerce, raising the array
engine's ``behaviour.trust_gain`` from 0.05 to 0.06 moves the focal firm's
mean trust by d ≈ 0.8 and is *not* detected, whereas 0.08 moves it by
d ≈ 2.4 and is (``test_docking_detects_a_perturbed_engine``: 12 perturbed
runs against the 30 agent runs, detectable d ≈ 1.55). Such slips are caught
exactly by the lock-step test (``tests/test_lockstep.py``): both engines share
one implementation of each event and, with keyed draws, must give identical
per-customer state. Here, the set-up draws are shared too, so both engines
must start from the same customers in the same state
(``tests/test_engines.py``, ``test_both_engines_start_from_the_same_market``).

Runs use ``CUSTOMERS = 1000`` customers (``Scenario.resized``) over
``WEEKS = 104`` weeks. Since both engines share one implementation of each
event, the agent engine's runs take almost all of the module's time: in the
fresh-clone CI run of 2026-11-29 the three scenarios took 395 s (alliance),
346 s (ecommerce) and 151 s (b2b) on a 2-core machine running the rest of the
suite beside them; the fused compiled passes merged later that day make the
agent engine about 1.7× faster (benchmarks/README.md). Results are shared
between the tests through a module-scoped fixture, so that no simulation runs
twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from relsim import load_scenario, simulate
from relsim.validation.docking import (
    FAMILY_ALPHA,
    POWER,
    detectable_difference,
    dock,
    docking_outputs,
    holm_adjusted,
    welch_p,
)

SCENARIOS = ("ecommerce", "b2b", "alliance")
CUSTOMERS = 1000
WEEKS = 104
RUNS = 30
AGENT_SEEDS = tuple(range(RUNS))
ARRAY_SEEDS = tuple(range(1000, 1000 + RUNS))
#: Most outputs a scenario can have (see docking_outputs); the power statement assumes them all.
MAX_OUTPUTS = 24
#: Smallest standardised mean difference found with 80 % power (see the module docstring).
STATED_DETECTABLE_D = 1.17
#: The same for Welch's t-test itself (t distribution, not the normal approximation).
WELCH_DETECTABLE_D = 1.25

#: The power check: the array engine with a changed trust gain, on fewer seeds of its own.
PERTURBED_SCENARIO = "ecommerce"
PERTURBATION = {"behaviour.trust_gain": 0.08}
PERTURBED_SEEDS = tuple(range(2000, 2012))


# --------------------------------------------------------------------------
# what a run is judged by
# --------------------------------------------------------------------------


def engine_sample(scenario: str, engine: str, seeds: Iterable[int], **overrides) -> pd.DataFrame:
    """Run ``scenario`` on ``engine`` once per seed and tabulate the docking outputs.

    Parameters
    ----------
    scenario : str
        A shipped scenario, resized to ``CUSTOMERS`` over ``WEEKS`` weeks.
    engine : str
        ``"agents"`` or ``"arrays"``.
    seeds : iterable of int
    **overrides
        Further dotted-path scenario overrides (the power check's perturbation).

    Returns
    -------
    DataFrame
        One row per run (index: seed), one column per output.
    """
    spec = load_scenario(scenario, **{"market.engine": engine, "market.weeks": WEEKS, **overrides})
    spec = spec.resized(CUSTOMERS)
    rows = {}
    for seed in seeds:
        rows[seed] = docking_outputs(simulate(spec, seed=seed).steps)
    return pd.DataFrame.from_dict(rows, orient="index")


# --------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------






def describe(scenario: str, table: pd.DataFrame) -> str:
    """The outputs that differ, one line each, for a failure message."""
    lines = [f"{scenario}: the engines differ on {int(table['differs'].sum())} of {len(table)} outputs"]
    for row in table[table["differs"]].itertuples():
        lines.append(
            f"  {row.output}: agents {row.mean_agents:.6g} ± {row.sd_agents:.3g} (n={row.runs_agents}), "
            f"arrays {row.mean_arrays:.6g} ± {row.sd_arrays:.3g} (n={row.runs_arrays}), d={row.d:+.2f}; "
            f"Welch p={row.p_welch:.2e} (Holm {row.p_welch_holm:.2e}), "
            f"KS p={row.p_ks:.2e} (Holm {row.p_ks_holm:.2e})")
    return "\n".join(lines)




# --------------------------------------------------------------------------
# runs, shared by all tests of the module
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def samples() -> Callable[..., pd.DataFrame]:
    """``samples(scenario, engine, seeds, **overrides)``: output samples, each simulated once."""
    cache: dict[tuple, pd.DataFrame] = {}

    def sample(scenario: str, engine: str, seeds: tuple[int, ...], **overrides) -> pd.DataFrame:
        key = (scenario, engine, seeds, tuple(sorted(overrides.items())))
        if key not in cache:
            cache[key] = engine_sample(scenario, engine, seeds, **overrides)
        return cache[key]

    return sample


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------
def test_outputs_cover_the_brief():
    """The output list is fixed and names every source, rung and total (a tiny run)."""
    steps = simulate(load_scenario("ecommerce", **{"market.weeks": 3}).resized(200), seed=0).steps
    outputs = docking_outputs(steps)
    assert len(outputs) == MAX_OUTPUTS
    for name in ("focal annual_retention", "focal new_wom", "focal new_returning",
                 "focal cumulative_discounted_profit", "focal mean_trust (last year)",
                 "focal rung_partner (end)", "focal complaints", "market orders"):
        assert name in outputs


def test_holm_and_welch_helpers():
    """Holm's adjustment and the constant-sample cases of the Welch helper."""
    adjusted = holm_adjusted(np.array([0.01, 0.04, 0.03, 0.5]))
    assert np.allclose(adjusted, [0.04, 0.09, 0.09, 0.5])
    assert welch_p(np.zeros(3), np.zeros(3)) == 1.0
    assert welch_p(np.zeros(3), np.ones(3)) == 0.0


def test_dock_on_synthetic_samples():
    """The comparison passes equal distributions, drops constant outputs and names a shifted one."""
    rng = np.random.default_rng(7)

    def sample(shift: float) -> pd.DataFrame:
        return pd.DataFrame({"focal orders": rng.normal(100.0 + shift, 10.0, RUNS),
                             "focal new_partner": np.zeros(RUNS)})

    same = dock(sample(0.0), sample(0.0))
    assert list(same["output"]) == ["focal orders"] and not same["differs"].any()
    shifted = dock(sample(0.0), sample(30.0))
    assert shifted["differs"].all()
    message = describe("synthetic", shifted)
    assert "synthetic" in message and "focal orders" in message and "Welch p=" in message and "KS p=" in message


def test_stated_power():
    """The power claimed in the module docstring, and what it is for Welch's t-test itself."""
    tests = 2 * MAX_OUTPUTS
    assert detectable_difference(RUNS, RUNS, tests) == pytest.approx(STATED_DETECTABLE_D, abs=0.005)
    # Monte Carlo with normal outputs: the normal approximation overstates the power a little
    # (t with 58 degrees of freedom at alpha' ~ 2e-4); 80 % is reached at WELCH_DETECTABLE_D.
    rng = np.random.default_rng(20240601)
    trials = 4000
    level = FAMILY_ALPHA / tests

    def power(d: float) -> float:
        first = rng.standard_normal((trials, RUNS))
        second = rng.standard_normal((trials, RUNS)) + d
        return float(np.mean(stats.ttest_ind(first, second, axis=1, equal_var=False).pvalue <= level))

    assert power(STATED_DETECTABLE_D) > 0.68
    assert power(WELCH_DETECTABLE_D) > POWER - 0.02


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engines_dock(samples, scenario):
    """Every docking output has the same distribution under both engines."""
    table = dock(samples(scenario, "agents", AGENT_SEEDS), samples(scenario, "arrays", ARRAY_SEEDS))
    assert len(table) > 0
    # the family may be smaller than the stated one (constant outputs left out): the power only grows
    assert detectable_difference(RUNS, RUNS, 2 * len(table)) <= STATED_DETECTABLE_D + 0.005
    assert not table["differs"].any(), describe(scenario, table)


@pytest.mark.slow
def test_docking_detects_a_perturbed_engine(samples):
    """The same check rejects an array engine whose trust gain is changed by a detectable amount.

    The perturbed runs are compared with the unperturbed agent sample of
    ``test_engines_dock`` (shared, not run again), on seeds of their own.
    """
    agents = samples(PERTURBED_SCENARIO, "agents", AGENT_SEEDS)
    perturbed = samples(PERTURBED_SCENARIO, "arrays", PERTURBED_SEEDS, **PERTURBATION)
    table = dock(agents, perturbed)
    trust = table.set_index("output").loc["focal mean_trust (last year)"]
    # the effect must be at least what the stated power detects, else its detection would be luck
    detectable = detectable_difference(RUNS, len(PERTURBED_SEEDS), 2 * len(table))
    assert abs(trust["d"]) >= detectable, describe(PERTURBED_SCENARIO, table)
    assert table["differs"].any(), f"perturbation {PERTURBATION} not detected:\n{table.to_string()}"
