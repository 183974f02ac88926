"""The compare report's "how sure, and why" (issue 12): the plausible ranges of
docs/evidence.md as data, parameter uncertainty over them, lever attribution,
the limitations written from the run, and the command-line flags.

Simulations here are tiny (a few hundred customers, a few weeks, one or two
seeds); the statistics are checked on synthetic data where the answer is known.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from relsim.cli import main
from relsim.scenario.ranges import NOT_VARIED, PLAUSIBLE, _bounds, _field, idle_rows, ranges_for, with_values
from relsim.scenario.schema import Scenario
from relsim.studies.attribution import (
    INTERACTION,
    LEVER_GROUPS,
    attribute,
    coalitions,
    differing_groups,
    mixed,
    one_at_a_time,
    sampled_shapley,
    shapley_values,
    strategy_levers,
)
from relsim.studies.compare import Comparison, compare
from relsim.studies.limitations import limitations
from relsim.studies.uncertainty import OUTCOMES as U_OUTCOMES
from relsim.studies.uncertainty import Uncertainty, _holm, latin_hypercube, parameter_uncertainty
from tests.conftest import ROOT, small
from tests.test_evidence import schema_fields


# -- the ranges are docs/evidence.md's, as data ----------------------------------------------------
def _evidence_rows() -> dict[str, tuple[float, float, str, str]]:
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8").split("## Every constant and cost default")[1]
    rows = {}
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"(-?[\d.]+)–(-?[\d.]+)", cells[4])
        if match:
            low, high = sorted((float(match.group(1)), float(match.group(2))))
            rows[cells[0].strip("`")] = (low, high, cells[2], cells[3])
    return rows


def test_plausible_ranges_are_the_evidence_pages_row_by_row():
    rows = _evidence_rows()
    table = {row.path: row for row in PLAUSIBLE}
    assert set(table) == set(rows), "docs/evidence.md and relsim/scenario/ranges.py list different fields"
    for path, (low, high, default, _) in rows.items():
        row = table[path]
        assert (row.low, row.high) == pytest.approx((low, high)), path
        ecommerce = default.split("(")[-1].rstrip(")")      # "0.5 (0.6)": the ecommerce value in brackets
        assert row.reference == pytest.approx(float(ecommerce)), path
        assert row.basis == _expected_basis(path, rows), path
        assert row.low <= row.reference <= row.high, path


def _expected_basis(path: str, rows: dict) -> str:
    """The basis the Source column states: "Assumption..." → assumption; "As other_field..." → that
    field's basis (size assumed when it adds an assumption); "Size: assumption" or another mention of
    an assumption → size assumed; "Scenario fact" → scenario fact; else sourced."""
    source = rows[path][3]
    if source.startswith("Assumption"):
        return "assumption"
    if source.startswith("As "):
        name = re.split(r"[;.,\s]", source[3:])[0]
        inherited = _expected_basis(next(p for p in rows if p.endswith("." + name)), rows)
        return "size assumed" if inherited == "sourced" and "assumption" in source.lower() else inherited
    if source.startswith("Scenario fact"):
        return "scenario fact"
    return "size assumed" if "assumption" in source.lower() else "sourced"


def test_every_schema_field_has_a_plausible_range_or_a_reason_not_to():
    """MODEL.md: every behavioural constant and cost default has a plausible range. Each field of the
    schema is in PLAUSIBLE or in NOT_VARIED (with a reason), never both: a new field fails here until
    it is classified, a deleted row fails as a field in neither."""
    fields = set(schema_fields())
    varied = [row.path for row in PLAUSIBLE]
    assert len(varied) == len(set(varied)), "a field has two rows in PLAUSIBLE"
    assert not sorted(fields - set(varied) - set(NOT_VARIED)), "schema fields neither in PLAUSIBLE nor NOT_VARIED"
    assert not sorted(set(varied) & set(NOT_VARIED)), "fields both varied and not varied"
    assert not sorted((set(varied) | set(NOT_VARIED)) - fields), "rows for fields the schema does not have"
    assert all(reason.strip() for reason in NOT_VARIED.values())
    # the fields named in session 9 and the market-response constants have ranges (the gap closed)
    for path in ("behaviour.supporter_trust", "word_of_mouth.leaver_warning_weeks", "market.initial_tenure_max_weeks",
                 "suppliers[].spot_persistence", "market.adaptation_inertia", "market.half_saturation",
                 "market.network.mean_degree", "segments[].price_sensitivity", "market.discount_rate"):
        assert path in varied, path


def test_a_list_field_is_one_constant_scaling_every_item():
    """segments[].price_sensitivity: the value is the mean over segments; a draw multiplies every
    segment's value by draw / mean (their differences kept), within the schema's bounds; integer
    items are rounded one by one."""
    from relsim import load_scenario
    scenario = load_scenario("ecommerce")
    ranges = {r.path: r for r in ranges_for(scenario, ("constant", "scenario"))}
    sensitivity = ranges["segments[].price_sensitivity"]
    assert sensitivity.value == pytest.approx((6.0 + 3.0 + 1.5) / 3) and not sensitivity.integer
    assert (sensitivity.low, sensitivity.high) == pytest.approx((1.75, 5.25))
    changed = with_values(scenario, {"segments[].price_sensitivity": 7.0, "segments[].relational": 0.7,
                                     "suppliers[].shortage_weeks": 4.4, "market.network.mean_degree": 6.6})
    assert [s.price_sensitivity for s in changed.segments] == pytest.approx([12.0, 6.0, 3.0])
    assert [s.relational for s in changed.segments] == pytest.approx([0.3, 0.6, 1.0])   # 0.8 × 1.5 capped at 1
    assert changed.suppliers[0].shortage_weeks == 4 and changed.market.network.mean_degree == 7
    assert [s.price_sensitivity for s in scenario.segments] == [6.0, 3.0, 1.5]   # the original is untouched


def test_ranges_fit_every_shipped_scenario_and_move_with_a_deliberate_value():
    for name in ("ecommerce", "b2b", "alliance", "classroom", "services"):
        from relsim import load_scenario
        scenario = load_scenario(name)
        ranges = ranges_for(scenario)
        idle = idle_rows(scenario)
        assert len(ranges) == sum(row.kind == "constant" and row.path not in idle for row in PLAUSIBLE)
        for r in ranges:
            assert r.low <= r.value <= r.high, (name, r.path)
        # both ends are valid scenarios
        with_values(scenario, {r.path: r.low for r in ranges})
        with_values(scenario, {r.path: r.high for r in ranges})
    b2b = {r.path: r for r in ranges_for(load_scenario("b2b"))}
    assert b2b["churn.base_hazard"].status == "moved"            # 0.004, below 0.005–0.015
    assert b2b["churn.base_hazard"].low == pytest.approx(0.002)  # ×0.5 … ×1.5 of the scenario's value
    assert b2b["churn.dormancy_weeks"].status == "edge"          # 52 = the top of 13–52
    assert b2b["behaviour.inertia"].status == "inside"


def test_a_switched_off_mechanism_has_no_constants_to_vary():
    """Classroom's rival never reviews its strategy (static competition): the adaptation constants
    and the price match would be drawn and move nothing, so they are not varied; switched on, they
    are; word of mouth and operations likewise."""
    from relsim import load_scenario
    adaptation = {row.path for row in PLAUSIBLE if row.path.startswith(("market.review_weeks",
                                                                         "market.adaptation_",
                                                                         "market.price_match"))}
    assert len(adaptation) == 6
    classroom = load_scenario("classroom")
    assert not adaptation & {r.path for r in ranges_for(classroom)}
    assert set(idle_rows(classroom)) == adaptation
    adaptive = load_scenario("classroom", **{"market.competition": "adaptive"})
    assert adaptation <= {r.path for r in ranges_for(adaptive)} and not idle_rows(adaptive)
    quiet = load_scenario("ecommerce", **{"word_of_mouth.enabled": False, "operations.enabled": False})
    kinds = ("constant", "scenario")
    varied = {r.path for r in ranges_for(quiet, kinds)}
    assert not any(p.startswith(("word_of_mouth.", "operations.")) for p in varied)
    assert {p for p in idle_rows(quiet)} == {row.path for row in PLAUSIBLE
                                             if row.path.startswith(("word_of_mouth.", "operations."))}


def test_with_values_sets_the_fields_and_rounds_integers():
    scenario = small(customers=100, weeks=4)
    changed = with_values(scenario, {"churn.dormancy_weeks": 30.6, "behaviour.inertia": 1.25})
    assert changed.churn.dormancy_weeks == 31 and changed.behaviour.inertia == 1.25
    assert scenario.behaviour.inertia == 2.0   # the original is untouched


def test_latin_hypercube_has_one_point_per_stratum_inside_the_ranges():
    scenario = small(customers=100, weeks=4)
    ranges = [r for r in ranges_for(scenario) if not r.integer][:6]
    draws = latin_hypercube(ranges, 20, np.random.default_rng(3))
    for r in ranges:
        unit = (draws[r.path].to_numpy() - r.low) / (r.high - r.low)
        assert ((unit >= 0) & (unit < 1)).all()
        assert sorted(np.floor(unit * 20).astype(int)) == list(range(20)), r.path
    again = latin_hypercube(ranges, 20, np.random.default_rng(3))
    pd.testing.assert_frame_equal(draws, again)


# -- the statistics of the uncertainty section, on synthetic sets ---------------------------------
def _synthetic(sets: int = 40, seed: int = 0) -> Uncertainty:
    """An Uncertainty whose profit difference is 1000·(a − 0.5) + small noise and whose retention
    difference is always +0.1: constant ``a`` decides profit, ``b`` nothing."""
    scenario = small(customers=100, weeks=4)
    ranges = [r for r in ranges_for(scenario) if not r.integer][:2]
    a = ranges[0].path
    rng = np.random.default_rng(seed)
    draws = latin_hypercube(ranges, sets, rng)
    draws.insert(0, "seed", np.arange(sets))
    draws.insert(0, "set", np.arange(sets))
    unit_a = (draws[a] - ranges[0].low) / (ranges[0].high - ranges[0].low)
    rows = []
    for i in range(sets):
        base = {"set": i, "seed": i, "annual_retention": 0.5, "cumulative_discounted_profit": 0.0}
        rows.append({**base, "run_strategy": "transactional"})
        rows.append({**base, "run_strategy": "relationship", "annual_retention": 0.6,
                     "cumulative_discounted_profit": 1000 * (unit_a[i] - 0.5) + rng.normal(0, 10)})
    return Uncertainty(scenario, ["transactional", "relationship"], ranges, draws, pd.DataFrame(rows), seed)


def test_wins_count_sets_with_an_exact_binomial_interval():
    u = _synthetic()
    wins = u.wins().set_index("metric")
    differences = u.differences()
    won = int((differences["cumulative_discounted_profit"] > 0).sum())
    assert wins.loc["cumulative_discounted_profit", "wins"] == won
    assert wins.loc["cumulative_discounted_profit", "losses"] == 40 - won
    interval = stats.binomtest(won, 40).proportion_ci(method="exact")
    assert wins.loc["cumulative_discounted_profit", "ci_low"] == pytest.approx(interval.low)
    assert wins.loc["cumulative_discounted_profit", "ci_high"] == pytest.approx(interval.high)
    assert wins.loc["annual_retention", "wins"] == 40 and wins.loc["annual_retention", "ci_high"] == 1.0
    spread = u.distribution().set_index("metric")
    assert spread.loc["annual_retention", "median"] == pytest.approx(0.1)
    assert spread.loc["cumulative_discounted_profit", "min"] == pytest.approx(
        differences["cumulative_discounted_profit"].min())


def test_drivers_name_the_planted_constant_and_only_it():
    u = _synthetic()
    drivers = u.drivers()
    profit = drivers[drivers["metric"] == "cumulative_discounted_profit"]
    assert profit.iloc[0]["constant"] == u.ranges[0].path
    assert profit.iloc[0]["rho"] > 0.9 and bool(profit.iloc[0]["decides"])
    assert not bool(profit.iloc[1]["decides"])
    # a constant difference correlates with nothing: no driver, no false "decides"
    retention = drivers[drivers["metric"] == "annual_retention"]
    assert retention["rho"].isna().all() and not retention["decides"].any()


def test_few_sets_never_decide_by_a_perfect_rank_alone():
    u = _synthetic(sets=4)
    assert not u.drivers()["decides"].any()     # 4 sets: no ranking is rarer than 2/4! = 0.083


@pytest.mark.parametrize("sets", [2, 3, 40])
def test_the_section_never_prints_nan(sets):
    """ρ is undefined below 3 sets, and the chance bound below 4 (--uncertainty 2 and 3 are allowed), and ρ is
    undefined for an outcome that does not vary (retention here): the report printed '+nan' and 'above nan'."""
    import re

    from relsim.studies.report_sections import uncertainty_markdown
    text = uncertainty_markdown(_synthetic(sets=sets))
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
    if sets < 4:
        assert "needs 4 sets or more" in text


def test_holm_adjustment():
    p = np.array([0.01, 0.04, np.nan, 0.03])
    assert np.allclose(_holm(p)[[0, 1, 3]], [0.03, 0.06, 0.06]) and np.isnan(_holm(p)[2])


def test_parameter_uncertainty_runs_are_paired_reproducible_and_vary_the_constants():
    scenario = small(customers=150, weeks=6, engine="arrays")
    first = parameter_uncertainty(scenario, ["transactional", "relationship"], sets=3, seed=7)
    again = parameter_uncertainty(scenario, ["transactional", "relationship"], sets=3, seed=7)
    pd.testing.assert_frame_equal(first.runs, again.runs)
    pd.testing.assert_frame_equal(first.sets, again.sets)
    other = parameter_uncertainty(scenario, ["transactional", "relationship"], sets=3, seed=8)
    assert not first.sets.equals(other.sets)
    # every strategy of one set runs on that set's seed; sets have different seeds
    seeds = first.runs.groupby("set")["seed"].nunique()
    assert (seeds == 1).all() and first.sets["seed"].nunique() == 3
    assert set(first.runs["run_strategy"]) == {"transactional", "relationship"}
    # the constants really vary: no set sits at the scenario's values
    for r in first.ranges[:5]:
        assert (first.sets[r.path] != r.value).all()
    assert set(U_OUTCOMES) <= set(first.differences().columns)


def test_parameter_uncertainty_refuses_what_it_cannot_do():
    from relsim.studies.uncertainty import UncertaintyError
    scenario = small(customers=100, weeks=4)
    with pytest.raises(UncertaintyError, match="two strategies"):
        parameter_uncertainty(scenario, ["relationship"], sets=3)
    with pytest.raises(UncertaintyError, match="2 to"):
        parameter_uncertainty(scenario, ["transactional", "relationship"], sets=1)


# -- lever attribution on known games -------------------------------------------------------------
GROUPS = ["a", "b", "c", "d"]


def _game(weights: dict[str, float], pair: float = 0.0):
    """Additive game plus ``pair`` when a and b are both in."""
    def value(coalition: frozenset[str]) -> float:
        return sum(weights[g] for g in coalition) + (pair if {"a", "b"} <= coalition else 0.0)
    return value


def test_a_planted_lever_that_alone_matters_gets_the_whole_difference():
    value = _game({"a": 5.0, "b": 0.0, "c": 0.0, "d": 0.0})
    assert shapley_values(GROUPS, value) == pytest.approx({"a": 5.0, "b": 0.0, "c": 0.0, "d": 0.0})
    parts = one_at_a_time(GROUPS, value)
    assert parts["a"] == pytest.approx(5.0) and parts[INTERACTION] == pytest.approx(0.0)
    assert all(parts[g] == pytest.approx(0.0) for g in "bcd")


def test_an_interaction_is_shared_by_shapley_and_left_as_remainder_by_oat():
    value = _game({"a": 1.0, "b": 0.0, "c": 2.0, "d": -1.0}, pair=3.0)
    shapley = shapley_values(GROUPS, value)
    assert shapley == pytest.approx({"a": 2.5, "b": 1.5, "c": 2.0, "d": -1.0})
    parts = one_at_a_time(GROUPS, value)
    assert parts[INTERACTION] == pytest.approx(3.0) and parts["b"] == pytest.approx(0.0)


@pytest.mark.parametrize("seed", range(5))
def test_the_parts_add_up_to_the_total_on_any_game(seed):
    rng = np.random.default_rng(seed)
    table = {frozenset(c): float(rng.normal()) for size in range(5) for c in itertools.combinations(GROUPS, size)}
    total = table[frozenset(GROUPS)] - table[frozenset()]
    assert sum(shapley_values(GROUPS, table.__getitem__).values()) == pytest.approx(total)
    assert sum(one_at_a_time(GROUPS, table.__getitem__).values()) == pytest.approx(total)
    orders = [list(rng.permutation(GROUPS)) for _ in range(7)]
    assert sum(sampled_shapley(orders, table.__getitem__).values()) == pytest.approx(total)
    # every order once: the sampled estimate is the exact value
    every = [list(p) for p in itertools.permutations(GROUPS)]
    assert sampled_shapley(every, table.__getitem__) == pytest.approx(shapley_values(GROUPS, table.__getitem__))
    assert len(coalitions(GROUPS, "shapley")) == 16 and len(coalitions(GROUPS, "oat")) == 6


def test_every_lever_is_in_exactly_one_group():
    from relsim.scenario.strategies import Strategy
    grouped = [lever for levers in LEVER_GROUPS.values() for lever in levers]
    assert sorted(grouped) == sorted(Strategy.model_fields)


def test_lever_mixes_run_the_two_strategies_at_the_ends():
    scenario = small(customers=100, weeks=4)
    base, other = strategy_levers(scenario, "transactional"), strategy_levers(scenario, "relationship")
    groups = differing_groups(base, other)
    assert "price and promotions" in groups and "pruning" not in groups
    assert mixed(scenario, base, other, frozenset()).firms[0].build_strategy() == base
    assert mixed(scenario, base, other, frozenset(groups)).firms[0].build_strategy() == other
    one = mixed(scenario, base, other, frozenset({"supplier contract"})).firms[0].build_strategy()
    assert one.supplier_contract == "long" and one.price == base.price


def test_attribution_on_runs_adds_up_to_the_comparisons_difference():
    scenario = small(customers=150, weeks=8, engine="arrays")
    seeds = [0, 1]
    result = attribute(scenario, "transactional", "relationship", seeds, method="oat")
    assert result.check_additivity() < 1e-9
    assert result.runs_per_seed == len(result.groups) + 2
    comparison = compare(scenario, ["transactional", "relationship"], seeds, workers=1)
    difference = comparison.differences().set_index("metric")
    table = result.table().set_index(["metric", "part"])
    for metric in ("cumulative_discounted_profit", "annual_retention"):
        assert table.loc[(metric, "total"), "mean"] == pytest.approx(difference.loc[metric, "difference"])


def test_attribution_of_a_single_changed_lever_gives_it_everything():
    scenario = small(customers=150, weeks=8, engine="arrays", **{"firms.0.levers.price": 1.3})
    result = attribute(scenario, "reactive", "current", [3], method="shapley")
    assert result.groups == ["price and promotions"] and result.exact
    table = result.table().set_index(["metric", "part"])
    for metric in ("cumulative_discounted_profit", "annual_retention"):
        total = table.loc[(metric, "total"), "mean"]
        assert table.loc[(metric, "price and promotions"), "mean"] == pytest.approx(total)
    assert table.loc[("cumulative_discounted_profit", "total"), "mean"] != 0


# -- limitations come from the run ----------------------------------------------------------------
def _bare(scenario: Scenario, strategies=("transactional", "relationship"), seeds=(0, 1, 2)) -> Comparison:
    empty = pd.DataFrame()
    return Comparison(scenario, list(strategies), list(seeds), empty, empty, empty, empty)


def test_limitations_follow_the_scenario_not_a_template():
    adaptive = limitations(_bare(small(customers=300, weeks=30, engine="agents")))
    static = limitations(_bare(small(customers=300, weeks=200, engine="arrays", **{
        "market.competition": "static", "word_of_mouth.enabled": False})))
    text_a, text_s = "\n".join(adaptive), "\n".join(static)
    assert "adaptive" in text_a and "static" in text_s
    assert "Engine: agents" in text_a and "Engine: arrays" in text_s
    assert "Horizon of 30 weeks" in text_a and "Horizon" not in text_s
    assert "word of mouth" in text_s.split("Mechanisms switched off")[1] and "Mechanisms switched off" not in text_a
    idle = text_s.split("switches their mechanism off")[1].split("\n")[0]
    assert "market.competition = 'static'" in idle and "word_of_mouth.enabled = false" in idle
    assert "`market.adaptation_" in idle and "switches their mechanism off" not in text_a
    assert "300 customers, against 5,000" in text_a
    assert "seed noise only (3 seeds)" in text_a and "Only 3 seed(s)" in text_a
    assert "part-time seats" in text_a
    assert "Advertising only" not in text_a              # 30 weeks: awareness has not saturated yet
    advertising = text_s.split("Advertising only makes customers aware")[1].split("\n")[0]
    assert "transactional 2×, relationship 0.7×" in advertising and "so transactional's" in advertising
    assert "built but off by default" in advertising and "--set behaviour.advertising_weight=2.2" in advertising
    same_budget = limitations(_bare(small(customers=300, weeks=200), strategies=("reactive", "accountable")))
    assert "Advertising only" not in "\n".join(same_budget)
    # advertising goodwill on (behaviour.advertising_weight > 0): the line says so, at any horizon
    goodwill = "\n".join(limitations(_bare(small(customers=300, weeks=30, **{"behaviour.advertising_weight": 1.5}))))
    assert "Advertising only" not in goodwill
    line = goodwill.split("Advertising builds goodwill in this scenario")[1].split("\n")[0]
    assert "advertising_weight = 1.5" in line and "transactional 2×, relationship 0.7×" in line
    full_time = limitations(_bare(small(customers=300, weeks=30, **{"costs.desk_agent_per_week": 800.0,
                                                                    "costs.manager_per_week": 1500.0})))
    assert "full-time seats" in "\n".join(full_time)
    edge = limitations(_bare(small(customers=300, weeks=30, **{"behaviour.inertia": 3.0})))
    assert "`behaviour.inertia`" in "\n".join(edge).split("At an end of its plausible range")[1]


def test_limitations_report_uncertainty_coverage_and_the_attribution_remainder():
    u = _synthetic(sets=4)
    text = "\n".join(limitations(_bare(u.scenario), uncertainty=u))
    assert "4 Latin-hypercube sets over 2 constants" in text and "seed noise only" not in text


# -- the command line -----------------------------------------------------------------------------
def _run(capsys, *args: str) -> tuple[int, str]:
    try:
        status = main(list(args))
    except SystemExit as stop:
        status = int(stop.code or 0)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("flags, message", [
    (["--uncertainty", "1"], "0 (off) or 2 to 10000"),
    (["--uncertainty", "-2"], "at least 0"),
    (["--uncertainty", "many"], "whole number"),
    (["--attribution", "sobol"], "invalid choice"),
    (["--attribution-seeds", "0"], "at least 1"),
    (["--strategies", "relationship", "--uncertainty", "3"], "--uncertainty needs two strategies"),
    (["--strategies", "relationship", "--uncertainty", "0", "--attribution", "oat"],
     "--attribution needs two strategies"),
    (["--strategies", "reactive,current", "--uncertainty", "0", "--attribution", "oat"], "same levers"),
    (["--uncertainty", "0", "--attribution", "oat", "--attribution-seeds", "3"],
     "--attribution-seeds 3: the attribution runs on the comparison's first K seeds, so K may be at most "
     "--seeds (2)"),
])
def test_bad_uncertainty_and_attribution_flags_exit_2_and_write_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "report"
    status, stderr = _run(capsys, "compare", "ecommerce", "--customers", "100", "--weeks", "2", "--seeds", "2",
                          "--workers", "1", "--out", str(out), *flags)
    assert status == 2
    assert message in stderr and "Traceback" not in stderr
    assert not out.exists()


def test_compare_report_answers_how_sure_and_why(tmp_path, capsys):
    out = tmp_path / "report"
    status, stderr = _run(capsys, "compare", "ecommerce", "--customers", "150", "--weeks", "6", "--seeds", "2",
                          "--workers", "1", "--engine", "arrays", "--uncertainty", "3", "--attribution", "oat",
                          "--attribution-seeds", "1", "--out", str(out))
    assert status == 0, stderr
    assert "runs per seed" in stderr            # the attribution's cost is announced before it runs
    markdown = (out / "report.md").read_text()
    for heading in ("## How sure: the verdict over plausible constants", "## Why: which levers made the difference",
                    "## Limitations of this comparison"):
        assert heading in markdown
    assert "wins in" in markdown and "Clopper–Pearson" in markdown
    assert "| **total** |" in markdown and "interaction (remainder)" in markdown
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 8 and "<h2>Limitations of this comparison</h2>" in html
    wins = pd.read_csv(out / "uncertainty_wins.csv")
    assert set(wins["metric"]) == {"cumulative_discounted_profit", "annual_retention"} and (wins["sets"] == 3).all()
    attribution = pd.read_csv(out / "attribution.csv")
    assert "total" in set(attribution["part"])
    for name in ("uncertainty_sets.csv", "uncertainty_runs.csv", "uncertainty_drivers.csv", "attribution_runs.csv"):
        assert (out / name).stat().st_size > 0


def test_compare_without_uncertainty_says_its_intervals_cover_seeds_only(tmp_path, capsys):
    out = tmp_path / "report"
    status, stderr = _run(capsys, "compare", "ecommerce", "--customers", "100", "--weeks", "3", "--seeds", "2",
                          "--workers", "1", "--engine", "arrays", "--uncertainty", "0", "--out", str(out))
    assert status == 0, stderr
    markdown = (out / "report.md").read_text()
    assert "How sure" not in markdown and "seed noise only (2 seeds)" in markdown
    assert not (out / "uncertainty_wins.csv").exists() and not (out / "attribution.csv").exists()


def test_each_set_runs_with_its_own_constants_and_seed(monkeypatch):
    """The runs get the set's constants (not the scenario's) and its seed, every strategy alike."""
    import relsim.studies.uncertainty as module
    seen = []

    def fake(tasks, **_):
        seen.extend(tasks)
        return pd.DataFrame([{"annual_retention": 0.5, "cumulative_discounted_profit": 0.0}] * len(tasks))

    monkeypatch.setattr(module, "focal_outcomes", fake)
    scenario = small(customers=100, weeks=4)
    u = parameter_uncertainty(scenario, ["transactional", "relationship", "proactive"], sets=4, seed=2)
    assert len(seen) == 12
    for i, record in enumerate(u.sets.to_dict("records")):
        for j, strategy in enumerate(["transactional", "relationship", "proactive"]):
            run, seed = seen[3 * i + j]
            assert seed == record["seed"] and run.firms[0].strategy == strategy
            for r in u.ranges:
                values, info, is_list = _field(run, r.path)
                if not is_list:
                    expected = round(record[r.path]) if r.integer else record[r.path]
                    assert values == pytest.approx([expected]), r.path
                    continue
                base = _field(scenario, r.path)[0]      # every item scaled by draw / the scenario's mean
                factor = record[r.path] / np.mean(base)
                low, high = _bounds(info)
                expected_items = [min(max(v * factor, low), high) for v in base]
                if info.annotation is int:
                    expected_items = [round(v) for v in expected_items]
                assert values == pytest.approx(expected_items), r.path
