"""``relsim validate``: the suite passes on the model, fails on deliberately broken models,
its command line behaves, and the analytic helpers are the published formulas.

The broken models are monkeypatched into this process, so those checks run with
``workers=1`` and at reduced sizes (``sizes=``): a broken mechanism misses its
target by far more than the Monte-Carlo error of a small run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from relsim.cli import main
from relsim.market import rules
from relsim.market.model import MarketModel
from relsim.studies import analytic
from relsim.validation import checks
from relsim.validation.checks import run_validation


# --------------------------------------------------------------------------
# the whole quick suite, through the command line
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_quick_suite_passes_and_writes_its_report(tmp_path, capsys):
    out = tmp_path / "validation"
    assert main(["validate", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "FAIL" not in printed
    assert f"{len(checks.CHECKS)} of {len(checks.CHECKS)} checks pass" in printed
    for name in ("validation.html", "validation.md", "bass.png", "ltv.png", "sbg.png", "bgnbd.png",
                 "docking.png", "bass.csv", "corners.csv"):
        assert (out / name).is_file(), name
    page = (out / "validation.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "FAIL" not in page
    assert page.count("class='pass'") == len(checks.CHECKS)
    assert "Fader" in page and "Bass" in page and "Gupta" in page


# --------------------------------------------------------------------------
# a deliberately broken model fails the matching check
# --------------------------------------------------------------------------
SMALL_BASS = {"bass_customers": 4000, "bass_runs": 2, "bass_weeks": 20}


def test_word_of_mouth_that_ignores_the_adopter_share_fails_the_bass_check(monkeypatch):
    listen = rules.listen

    def everyone_hears_an_adopter(positive, negative, draw):
        # as if every contact were an adopter: word of mouth no longer grows with F
        return listen(np.full_like(positive, positive.max()), negative, draw)

    monkeypatch.setattr(rules, "listen", everyone_hears_an_adopter)
    (check,) = run_validation(only=["bass"], sizes=SMALL_BASS).checks
    assert not check.passed
    assert np.max(np.abs(check.table["gap"])) > 0.1


def test_conversations_instead_of_listening_fail_the_bass_check(monkeypatch):
    """The model's default word of mouth (each talker tells one contact) gives 1 − e^{−qF} and a
    week's lag: 0.03–0.05 away from the Bass map, which is why the special case listens."""
    build = analytic.bass_scenario

    def talking(p, q, customers, weeks=30, engine="arrays"):
        scenario = build(p, q, customers, weeks, engine)
        wom = scenario.word_of_mouth.model_copy(update={"listening": False})
        return scenario.model_copy(update={"word_of_mouth": wom})

    monkeypatch.setattr(analytic, "bass_scenario", talking)
    (check,) = run_validation(only=["bass"], sizes=SMALL_BASS).checks
    assert not check.passed
    assert np.max(np.abs(check.table["gap"])) > 0.02


def test_lifetime_value_that_ignores_discounting_fails_the_ltv_check(monkeypatch):
    monkeypatch.setattr(rules, "discount_factor", lambda week, annual_rate: 1.0 + 0.0 * week)
    (check,) = run_validation(only=["ltv"], sizes={"ltv_customers": 2000}).checks
    assert not check.passed
    # the model now matches the undiscounted formula instead
    table = check.table
    assert np.all(np.abs(table["simulated_mean"] / table["undiscounted_closed_form"] - 1) < 0.1)


def test_churn_without_heterogeneity_fails_the_sbg_check(monkeypatch):
    hazard = MarketModel.hazard

    def mean_churn_for_everyone(self, state, index):
        # every customer gets the cohort's mean churn probability: geometric, not sBG
        saved = self.dropout
        self.dropout = np.full_like(saved, float(saved.mean()))
        try:
            return hazard(self, state, index)
        finally:
            self.dropout = saved

    monkeypatch.setattr(MarketModel, "hazard", mean_churn_for_everyone)
    (check,) = run_validation(only=["sbg"], sizes={"sbg_customers": 20_000}).checks
    assert not check.passed
    assert check.table["z"].abs().max() > 10


def test_the_correct_model_passes_the_small_checks():
    """The same reduced sizes pass on the model as built (the failures above are the breakage)."""
    validation = run_validation(only=["ltv", "sbg"], sizes={"ltv_customers": 2000, "sbg_customers": 20_000})
    assert validation.passed, [c.measured for c in validation.checks]


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------
def test_unknown_check_exits_2_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["validate", "--only", "bass,nonsense", "--out", str(tmp_path / "v")])
    assert stop.value.code == 2
    assert "unknown check 'nonsense'; allowed: bass" in capsys.readouterr().err
    assert not (tmp_path / "v").exists()


def test_output_that_is_a_file_exits_2_and_runs_nothing(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("mine")
    assert main(["validate", "--quick", "--only", "corners", "--out", str(target)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_library_errors_are_relsim_errors():
    with pytest.raises(checks.ValidationError, match="unknown size 'bass_people'"):
        run_validation(only=["bass"], sizes={"bass_people": 3})
    with pytest.raises(checks.ValidationError, match="unknown check"):
        run_validation(only=["nonsense"])


def test_a_failing_check_exits_1_and_still_writes_the_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(rules, "discount_factor", lambda week, annual_rate: 1.0 + 0.0 * week)
    monkeypatch.setitem(checks.SETTINGS["quick"], "ltv_customers", 2000)
    assert main(["validate", "--quick", "--only", "ltv", "--workers", "1", "--out", str(tmp_path)]) == 1
    assert "FAIL  Lifetime value" in capsys.readouterr().out
    assert "FAIL" in (tmp_path / "validation.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------
# the analytic helpers are the published formulas
# --------------------------------------------------------------------------
def test_bass_curve_is_the_discrete_bass_map():
    p, q = 0.03, 0.38
    curve = analytic.bass_curve(p, q, 40)
    previous = np.concatenate([[0.0], curve[:-1]])
    np.testing.assert_allclose(curve - previous, (p + q * previous) * (1 - previous), rtol=0, atol=1e-14)
    assert curve[0] == pytest.approx(p)
    # Bass's continuous solution with the same p, q is a different curve (0.07 apart at most here):
    # the target is the discrete map, as issue 12 states it
    gap = np.max(np.abs(curve - rules.bass_adopters(np.arange(1, 41), p, q)))
    assert 0.05 < gap < 0.1


def test_bass_scenario_maps_p_and_q_to_the_levers():
    p, q, customers = 0.05, 0.3, 1000
    scenario = analytic.bass_scenario(p, q, customers)
    market, wom = scenario.market, scenario.word_of_mouth
    assert rules.paid_reach(market.reference_budget, market.max_reach_share, market.half_saturation) == \
        pytest.approx(p, abs=1e-12)
    assert wom.listening and wom.talk_satisfaction == wom.talk_commitment == 0
    # independent reach and listening add up to the Bass hazard p + q·F at any adopter share
    for share in (0.0, 0.2, 0.9):
        adopters = share * customers
        hears = wom.talk_base * adopters / (customers - 1)
        assert 1 - (1 - p) * (1 - hears) == pytest.approx(p + q * share, abs=1e-12)
    with pytest.raises(ValueError, match="p \\+ q <= 1"):
        analytic.bass_scenario(0.5, 0.6, 100)


def test_bass_special_case_runs_on_the_agent_engine_too():
    size, weeks = 600, 8
    scenario = analytic.bass_scenario(0.03, 0.38, size, weeks, engine="agents")
    from relsim import simulate
    curves = np.array([simulate(scenario, seed=s).steps["new_customers"].cumsum().to_numpy() / size
                       for s in range(4)])
    expected = analytic.bass_curve(0.03, 0.38, weeks)
    spread = curves.std(axis=0, ddof=1) / 2 + 1 / size
    assert np.all(np.abs(curves.mean(axis=0) - expected) <= 5 * spread)


def test_lifetime_value_is_the_closed_form():
    assert analytic.lifetime_value(10.0, 0.9, 0.1) == pytest.approx(10 * 0.9 / 0.2)
    assert analytic.ltv_margin() == pytest.approx(0.5 * 20 * 0.4)


def test_sbg_survival_and_refit_reproduce_fader_and_hardie():
    # S(1) = β/(α+β) and the recursion S(t) = S(t−1)·(β+t−1)/(α+β+t−1) (F&H 2007)
    alpha, beta = analytic.SBG_REGULAR["alpha"], analytic.SBG_REGULAR["beta"]
    survival = analytic.sbg_survival(alpha, beta, 7)
    assert survival[0] == 1 and survival[1] == pytest.approx(beta / (alpha + beta))
    for t in range(2, 8):
        assert survival[t] == pytest.approx(survival[t - 1] * (beta + t - 1) / (alpha + beta + t - 1))
    # the published fits come back from the published survivor counts
    for name, published in (("regular", analytic.SBG_REGULAR), ("high end", analytic.SBG_HIGH_END)):
        fit = analytic.fit_sbg(np.array(analytic.SBG_PUBLISHED_SURVIVORS[name]), 1000)
        assert fit["alpha"] == pytest.approx(published["alpha"], abs=5e-4)
        assert fit["beta"] == pytest.approx(published["beta"], abs=5e-4)


def test_beta_geometric_churn_is_a_constant_per_customer_hazard():
    scenario = analytic.sbg_scenario(0.7, 1.2, 200, years=1)
    model = MarketModel(scenario, seed=2)
    index = model.population.members_of(0)
    hazard = model.hazard(model.population.relationship_state(0), index)
    theta = model.dropout[index].astype(float)
    # 13 steps of 4 weeks make one year: survival over a year is 1 − θ
    np.testing.assert_allclose((1 - hazard) ** 13, 1 - theta, rtol=1e-6)


def test_cdnow_standard_errors_are_those_of_the_cdnow_fit():
    """The standard errors the BG/NBD check uses are the CDNOW fit's (relsim's own fitter agrees)."""
    from relsim.calibration import btyd, transactions
    summary = transactions.rfm_summary(transactions.cdnow_log(), transactions.CDNOW_CALIBRATION_END)
    fit = btyd.fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    for name, error in analytic.CDNOW_BGNBD_SE.items():
        assert fit.std_errors[name] == pytest.approx(error, rel=0.01), name
        assert fit.params[name] == pytest.approx(analytic.CDNOW_BGNBD[name], rel=0.01), name


def test_corner_cases_cover_the_issue_list():
    cases = " ".join(checks.corner_scenarios())
    for words in ("no customers", "one firm", "zero budget", "zero desk", "one week"):
        assert words in cases
    assert math.isfinite(checks.z_to_p(1.0))
