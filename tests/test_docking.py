"""Docking the two engines (Axtell, Axelrod, Epstein & Cohen 1996).

The agent engine (a Mesa agent per customer) and the array engine (customers as
numpy arrays) are meant to be two implementations of *one* model. They cannot
agree run by run, because they draw their random numbers in different orders,
so they are docked *distributionally*: each scenario (ecommerce, b2b,
alliance) is run ``AGENT_RUNS = 20`` times on the agent engine (seeds
``0 … 19``) and ``ARRAY_RUNS = 60`` times on the array engine (seeds
``1000 … 1059``), a fixed list of scalar outputs is taken from every run, and
for each output the two samples are compared with

* Student's two-sample t-test with pooled variance (are the means equal? — exact
  under the docked hypothesis of one distribution; with 20 against 60 runs it also
  reacts to unequal spreads, more often when the smaller agent sample is the more
  spread, so a rejection may be a difference in spread, and the stated power is
  that for a shift of the mean at equal spread) and
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
the most outputs a scenario has), ``AGENT_RUNS = 20`` and ``ARRAY_RUNS = 60``
runs and the normal approximation, the t-test detects a standardised mean
difference (engine difference over the run-to-run standard deviation)

    d = (z_{1-α'/2} + z_{0.8}) · sqrt(1 / AGENT_RUNS + 1 / ARRAY_RUNS) ≈ 1.17

with 80 % power (``STATED_DETECTABLE_D``, :func:`detectable_difference`).
The normal approximation is optimistic at so small an ``α'``: with the t
distribution (78 degrees of freedom) 80 % is reached at d ≈ 1.23
(``T_DETECTABLE_D``); both are checked by Monte Carlo in
``test_stated_power``.

The design: 30 + 30 runs with Welch's t until 2026-11-29, then 22 + 66 with
Welch's t, now 20 + 60 with the pooled-variance t
(``relsim.validation.docking``: under the docked hypothesis, one distribution,
the variances are equal and Student's t is exact). An agent-engine run costs
6–11 array-engine runs at this size (CPU seconds per run, 2026-11-29: agents
7.3 / 3.2 / 8.5, arrays 0.85 / 0.55 / 0.8 on ecommerce / b2b / alliance), and
the power depends on the sample sizes through ``1/n1 + 1/n2`` (the t-test's
mean and, asymptotically, KS's ``n1 n2 / (n1 + n2)``) and, at
``α' ≈ 2e-4``, on the t-test's degrees of freedom: Welch's shrink as the
design gets unbalanced (≈ 36 at 22 + 66), the pooled test's are
``n1 + n2 - 2``. 20 + 60 has ``1/n1 + 1/n2 = 1/15``, that of 30 + 30, so KS's
asymptotic power equals that of 30 + 30, and the pooled t's power is at
least that of both earlier designs at every d (Monte Carlo, normal outputs,
40,000 trials, at d = 1.0 / 1.17 / 1.25: 0.502 / 0.736 / 0.822 against
Welch's 0.474 / 0.714 / 0.801 at 30 + 30 and 0.492 / 0.725 / 0.810 at
22 + 66). KS's power is below that of 22 + 66, whose ``n1 n2 / (n1 + n2)`` was
16.5 (at d = 1.5, 3,000 trials: 0.816 against 0.892; 30 + 30: 0.779): the
design keeps the power stated for 30 + 30, not the margin 22 + 66 had over it.
Agent runs 20 instead of 22, array runs 60 instead of 66: about 9 % less CPU.
The comparisons are checked in ``test_stated_power``.

Smaller systematic differences may well go unnoticed: this is evidence
against engine discrepancies of about one run-to-run standard deviation or
more, not against subtle ones. For scale: on ecommerce, raising the array
engine's ``behaviour.trust_gain`` from 0.05 to 0.06 moves the focal firm's
mean trust by d ≈ 0.8 and is *not* detected, whereas 0.08 moves it by
d ≈ 2.4 and is (``test_docking_detects_a_perturbed_engine``: 12 perturbed
runs against 20 unperturbed ones, the agent sample's size, detectable
d ≈ 1.66). Such slips are caught
exactly by the lock-step test (``tests/test_lockstep.py``): both engines share
one implementation of each event and, with keyed draws, must give identical
per-customer state. Here, the set-up draws are shared too, so both engines
must start from the same customers in the same state
(``tests/test_engines.py``, ``test_both_engines_start_from_the_same_market``).

Runs use ``CUSTOMERS = 1000`` customers (``Scenario.resized``) over
``WEEKS = 104`` weeks. Since both engines share one implementation of each
event, the agent engine's runs take almost all of the module's time (CPU per
agent-engine run at this size, 2026-11-29: alliance 9 s, ecommerce 6.8 s,
b2b 3 s). The array engine's runs of a sample advance in lock step
(``relsim.market.replicates.simulate_replicates``: the same tables as separate
``simulate`` runs, bit for bit, ``tests/test_replicates.py``), which costs
about a sixth less CPU than separate runs (one garbage collection per sample
instead of one per run; ecommerce, 22 runs: 11.1 and 12.8 s against 13.4 and
15.4 s, 2026-11-29). Each test simulates what it compares itself: no simulation is
shared between tests, so none runs twice when pytest-xdist puts the tests on
different workers (a module-scoped result shared by two tests is computed once
per worker that runs one of them).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from relsim import load_scenario, simulate
from relsim.market.replicates import simulate_replicates
from relsim.validation.docking import (
    FAMILY_ALPHA,
    POWER,
    detectable_difference,
    dock,
    docking_outputs,
    holm_adjusted,
    t_p,
)

SCENARIOS = ("ecommerce", "b2b", "alliance")
CUSTOMERS = 1000
WEEKS = 104
#: Runs per engine: unbalanced, since an agent-engine run costs 6-11 array-engine runs; as
#: powerful as 30 + 30 (module docstring, "Power"; checked in test_stated_power).
AGENT_RUNS = 20
ARRAY_RUNS = 60
AGENT_SEEDS = tuple(range(AGENT_RUNS))
ARRAY_SEEDS = tuple(range(1000, 1000 + ARRAY_RUNS))
#: The balanced design (Welch's t) this one replaces, whose power it must match.
BALANCED_RUNS = 30
#: The design before this one (Welch's t), whose t-test power it must match too.
PREVIOUS_AGENT_RUNS = 22
PREVIOUS_ARRAY_RUNS = 66
#: Most outputs a scenario can have (see docking_outputs); the power statement assumes them all.
MAX_OUTPUTS = 24
#: Smallest standardised mean difference found with 80 % power (see the module docstring).
STATED_DETECTABLE_D = 1.17
#: The same for the pooled-variance t-test itself (t distribution, not the normal approximation).
T_DETECTABLE_D = 1.23

#: The power check: the array engine with a changed trust gain, on seeds of its own, against
#: unperturbed array-engine runs as many as the agent sample (the docked model's stand-in: the
#: engines dock, test_engines_dock; simulating the agent sample again here would cost 150 s).
PERTURBED_SCENARIO = "ecommerce"
PERTURBATION = {"behaviour.trust_gain": 0.08}
PERTURBED_SEEDS = tuple(range(2000, 2012))
REFERENCE_SEEDS = tuple(range(3000, 3000 + AGENT_RUNS))


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
    seeds = list(seeds)
    # the array engine's runs in lock step: the same tables as separate runs, bit for bit
    # (tests/test_replicates.py), for about a sixth less CPU (module docstring, last paragraph)
    results = simulate_replicates(spec, seeds) if engine == "arrays" else (simulate(spec, seed=seed) for seed in seeds)
    rows = {result.seed: docking_outputs(result.steps) for result in results}
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
            f"t-test p={row.p_t:.2e} (Holm {row.p_t_holm:.2e}), "
            f"KS p={row.p_ks:.2e} (Holm {row.p_ks_holm:.2e})")
    return "\n".join(lines)




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


def test_holm_and_t_helpers():
    """Holm's adjustment, the t helper's pooled variance and its constant-sample cases."""
    adjusted = holm_adjusted(np.array([0.01, 0.04, 0.03, 0.5]))
    assert np.allclose(adjusted, [0.04, 0.09, 0.09, 0.5])
    assert t_p(np.zeros(3), np.zeros(3)) == 1.0
    assert t_p(np.zeros(3), np.ones(3)) == 0.0
    # pooled variance by hand: means 1 and 3, sums of squares 2 + 10 over 3 + 5 - 2 degrees of freedom
    first, second = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    t = (3.0 - 1.0) / np.sqrt(12.0 / 6 * (1 / 3 + 1 / 5))
    assert t_p(first, second) == pytest.approx(2 * stats.t.sf(t, 6), rel=1e-12)


def test_dock_on_synthetic_samples():
    """The comparison passes equal distributions, drops constant outputs and names a shifted one."""
    rng = np.random.default_rng(7)

    def sample(shift: float) -> pd.DataFrame:
        return pd.DataFrame({"focal orders": rng.normal(100.0 + shift, 10.0, BALANCED_RUNS),
                             "focal new_partner": np.zeros(BALANCED_RUNS)})

    same = dock(sample(0.0), sample(0.0))
    assert list(same["output"]) == ["focal orders"] and not same["differs"].any()
    shifted = dock(sample(0.0), sample(30.0))
    assert shifted["differs"].all()
    message = describe("synthetic", shifted)
    assert "synthetic" in message and "focal orders" in message and "t-test p=" in message and "KS p=" in message


def test_stated_power():
    """The power claimed in the module docstring: the pooled-variance t-test's and KS's, against the
    designs this one replaces (30 + 30 and 22 + 66 runs, each with Welch's t)."""
    tests = 2 * MAX_OUTPUTS
    assert detectable_difference(AGENT_RUNS, ARRAY_RUNS, tests) == pytest.approx(STATED_DETECTABLE_D, abs=0.005)
    # KS's asymptotic power, and the normal approximation's t, depend on 1/n1 + 1/n2: that of 30 + 30
    assert 1 / AGENT_RUNS + 1 / ARRAY_RUNS <= 2 / BALANCED_RUNS + 1e-12
    # Monte Carlo with normal outputs: the normal approximation overstates the power (t with 78
    # degrees of freedom at alpha' ~ 2e-4); 80 % is reached at T_DETECTABLE_D. The same draws for
    # every design (each uses the first n1 and n2 of a row): this design must be at least as powerful
    # as 30 + 30 and as 22 + 66 (Welch) at the d that matter. 8,000 trials: the Monte-Carlo error of
    # a power near 0.75 is 0.005, of the paired difference less.
    rng = np.random.default_rng(20240601)
    trials = 8000
    level = FAMILY_ALPHA / tests
    noise_first = rng.standard_normal((trials, BALANCED_RUNS))
    noise_second = rng.standard_normal((trials, max(ARRAY_RUNS, PREVIOUS_ARRAY_RUNS, BALANCED_RUNS)))

    def power(d: float, first_runs: int = AGENT_RUNS, second_runs: int = ARRAY_RUNS, pooled: bool = True) -> float:
        first = noise_first[:, :first_runs]
        second = noise_second[:, :second_runs] + d
        return float(np.mean(stats.ttest_ind(first, second, axis=1, equal_var=pooled).pvalue <= level))

    assert power(T_DETECTABLE_D) > POWER - 0.02
    for d in (1.0, 1.17, 1.25):
        assert power(d) >= power(d, BALANCED_RUNS, BALANCED_RUNS, pooled=False) - 0.005, d
        assert power(d) >= power(d, PREVIOUS_AGENT_RUNS, PREVIOUS_ARRAY_RUNS, pooled=False) - 0.005, d
    # KS in small samples (exact p-values): at least 30 + 30's power, 1,500 trials at d = 1.5, where
    # 30 + 30 has about 0.78 (Monte-Carlo error 0.011; measured 0.816 against 0.779 with 3,000)
    ks_trials, shift = 1500, 1.5
    ks = stats.ks_2samp(noise_first[:ks_trials, :AGENT_RUNS], noise_second[:ks_trials, :ARRAY_RUNS] + shift,
                        axis=1).pvalue
    ks_balanced = stats.ks_2samp(noise_first[:ks_trials], noise_second[:ks_trials, :BALANCED_RUNS] + shift,
                                 axis=1).pvalue
    assert np.mean(ks <= level) >= np.mean(ks_balanced <= level) - 0.01


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engines_dock(scenario):
    """Every docking output has the same distribution under both engines."""
    table = dock(engine_sample(scenario, "agents", AGENT_SEEDS), engine_sample(scenario, "arrays", ARRAY_SEEDS))
    assert len(table) > 0
    # the family may be smaller than the stated one (constant outputs left out): the power only grows
    assert detectable_difference(AGENT_RUNS, ARRAY_RUNS, 2 * len(table)) <= STATED_DETECTABLE_D + 0.005
    assert not table["differs"].any(), describe(scenario, table)


@pytest.mark.slow
def test_docking_detects_a_perturbed_engine():
    """The same check rejects an array engine whose trust gain is changed by a detectable amount.

    The perturbed runs are compared, on seeds of their own, with as many unperturbed runs as the
    agent sample has (``AGENT_RUNS``), of the array engine: it docks with the agent engine
    (``test_engines_dock``), and the check's power depends on the sample sizes and the effect,
    not on which engine simulates the reference. Until 2026-11-29 the reference was the agent
    sample of ``test_engines_dock[ecommerce]`` itself, shared through a module-scoped fixture,
    which pytest-xdist computed a second time whenever the two tests ran on different workers.
    Mutation (checked 2026-11-29, again with 20 reference runs): without the perturbation the test
    fails (nothing differs, d = 0.14 against the detectable 1.65).
    """
    reference = engine_sample(PERTURBED_SCENARIO, "arrays", REFERENCE_SEEDS)
    perturbed = engine_sample(PERTURBED_SCENARIO, "arrays", PERTURBED_SEEDS, **PERTURBATION)
    table = dock(reference, perturbed)
    trust = table.set_index("output").loc["focal mean_trust (last year)"]
    # the effect must be at least what the stated power detects, else its detection would be luck
    detectable = detectable_difference(len(REFERENCE_SEEDS), len(PERTURBED_SEEDS), 2 * len(table))
    assert abs(trust["d"]) >= detectable, describe(PERTURBED_SCENARIO, table)
    assert table["differs"].any(), f"perturbation {PERTURBATION} not detected:\n{table.to_string()}"
