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
