"""Report helpers: the compact money format and share intervals."""

from __future__ import annotations

import pytest

from relsim.studies.report import money


@pytest.mark.parametrize(("value", "signed", "text"), [
    (950.4, False, "950"),
    (38_571.0, True, "+39 k"),
    (-386_526.0, True, "−387 k"),
    (2_951_622.0, False, "2.95 M"),
    (-1_500.0, False, "−1,500"),
    (float("nan"), False, "n/a"),
])
def test_money_is_compact_and_signed(value, signed, text):
    assert money(value, signed=signed) == text


def test_one_seed_and_undefined_differences_print_no_nan():
    """--seeds 1 is allowed: its differences have no interval, and in a market of three customers no one is
    won by word of mouth; the summary and the narrative printed '95 % interval +nan pts to +nan pts'."""
    import re

    from relsim.scenario.schema import load_scenario
    from relsim.studies.compare import compare
    from relsim.studies.report import narrative, summary

    for customers, seeds in ((200, 1), (3, 2)):
        scenario = load_scenario("ecommerce", **{"market.weeks": 4}).resized(customers)
        comparison = compare(scenario, ["transactional", "relationship"], seeds=seeds, workers=1)
        text = "\n".join(summary(comparison) + narrative(comparison))
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
    assert "no 95 % interval" in text


def test_the_retention_verdict_reads_as_a_sentence_whichever_way_it_goes():
    """The narrative's retention line says "ahead of it by", "behind it by" or "not distinguishable
    from it, a difference of" before the points; it read "not distinguishable from it by +24.4 points"
    when the interval held zero. A tiny market over 2 seeds (interval wide) and its reverse order."""
    from relsim.scenario.schema import load_scenario
    from relsim.studies.compare import compare
    from relsim.studies.report import narrative

    scenario = load_scenario("ecommerce", **{"market.weeks": 8}).resized(60)
    for order in (["transactional", "relationship"], ["relationship", "transactional"]):
        line = next(t for t in narrative(compare(scenario, order, seeds=2, workers=1)) if "Retention" in t)
        phrases = ("ahead of it by", "behind it by", "not distinguishable from it, a difference of")
        assert any(f"{phrase} {sign}" in line for phrase in phrases for sign in "+−-"), line
        assert "from it by" not in line, line
