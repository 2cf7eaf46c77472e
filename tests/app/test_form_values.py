"""Whole numbers as people type them: ASCII digits only, bounded in length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lti_tool.form_values import whole_number


@pytest.mark.parametrize(("text", "digits", "expected"), [
    ("0", 1, 0), ("42", 2, 42), ("007", 3, 7),
    ("", 3, None), ("123", 2, None), (" 1", 3, None), ("-1", 3, None), ("+1", 3, None), ("1.0", 3, None),
    ("²", 3, None), ("１", 3, None), ("٣", 3, None), ("1_000", 5, None),
])
def test_only_ascii_digits_within_the_length_are_a_number(
    text: str, digits: int, expected: int | None
) -> None:
    assert whole_number(text, digits=digits) == expected


@given(st.text(max_size=12))
def test_any_text_gives_a_number_or_none_never_an_error(text: str) -> None:
    number = whole_number(text, digits=9)
    assert number is None or (0 <= number < 10**9 and str(number) == text.lstrip("0").rjust(1, "0"))


@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_every_number_written_in_ascii_reads_back(number: int) -> None:
    assert whole_number(str(number), digits=9) == number
