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
