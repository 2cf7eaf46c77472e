"""Hostile numbers (huge exponents, 10,000 digits, NaN, Infinity) are refused by name, never a crash.

``1e999999999`` as points or weight used to raise ``decimal.Overflow`` (a 500 on the edit form and on a
CASE import); 10,000 digits in a CASE file raised Python's int-size ValueError with no JSON path.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from rubrics import RubricImportError, RubricValidationError, import_case_rubric, parse_rubric
from rubrics.exact_numbers import MAX_DIGITS, NotANumber, to_decimal
from rubrics.parsing import describe
from tests.rubrics.examples import base

HOSTILE = ["1e999999999", "-1e999999999", "1e-999999999", "9" * 10_000, "0." + "0" * 10_000 + "1"]


@pytest.mark.parametrize("text", HOSTILE, ids=["huge", "huge-negative", "tiny", "10k-digits", "10k-places"])
def test_to_decimal_refuses_numbers_far_outside_any_limit(text: str) -> None:
    with pytest.raises(NotANumber) as caught:
        to_decimal(text)
    assert caught.value.reason in (NotANumber.TOO_LARGE, NotANumber.TOO_PRECISE)
    with pytest.raises(NotANumber):
        to_decimal(Decimal(text))


@pytest.mark.parametrize("text", ["NaN", "-nan", "Infinity", "-Infinity", "sNaN"])
def test_to_decimal_refuses_what_is_not_a_finite_number(text: str) -> None:
    with pytest.raises(NotANumber) as caught:
        to_decimal(text)
    assert caught.value.reason == NotANumber.UNREADABLE


def test_numbers_of_reasonable_size_still_read_exactly() -> None:
    assert to_decimal("1" + "0" * (MAX_DIGITS - 1)) == Decimal(10) ** (MAX_DIGITS - 1)
    assert to_decimal("1E+2") == 100
    assert to_decimal(" 0.25 ") == Decimal("0.25")


def with_weight_and_points(weight: object, points: object) -> dict[str, Any]:
    data = base()
    data["criteria"][0]["weight"] = weight
    data["criteria"][0]["levels"][1]["points"] = points
    return data


def test_validation_names_the_field_and_never_echoes_the_whole_number() -> None:
    with pytest.raises(RubricValidationError) as caught:
        parse_rubric(with_weight_and_points("1e999999999", "9" * 10_000))
    by_path = {problem.path: problem.message for problem in caught.value.problems}
    assert by_path == {
        ("criteria", 0, "weight"): "criterion 1 'Listening': weight '1e999999999' is far too large; "
        "the limit is 1000",
        ("criteria", 0, "levels", 1, "points"): "criterion 1 'Listening', level 2 'Proficient': points '"
        + "9" * 40
        + "...' is far too large; the limit is 10000",
    }


def test_describe_stays_short_for_any_number() -> None:
    assert len(describe(Decimal("9" * 10_000))) < 50
    assert len(describe(10**10_000)) < 50
    assert len(describe("x" * 10_000)) < 50


def case_problems(text: str) -> list[str]:
    with pytest.raises(RubricImportError) as caught:
        import_case_rubric(text)
    return [str(problem) for problem in caught.value.problems]


def case_file(weight: str, score: str) -> str:
    """A foreign CFRubric with ``weight`` and ``score`` written into the JSON text as typed."""
    document = {
        "identifier": "8d7f3bb0-5d4b-4f43-a3f0-7f1b5c2a4e10",
        "title": "Hostile",
        "CFRubricCriteria": [
            {
                "identifier": "1b0a3c1e-8f0e-4a43-9a2d-0c5b7e3f2a11",
                "category": "Only",
                "weight": "WEIGHT",
                "CFRubricCriterionLevels": [
                    {"identifier": "2c1b4d2f-9a1f-4b54-8b3e-1d6c8f4a3b22", "quality": "Low", "score": 0},
                    {
                        "identifier": "3d2c5e3a-ab2a-4c65-9c4f-2e7d9a5b4c33",
                        "quality": "High",
                        "score": "SCORE",
                    },
                ],
            }
        ],
    }
    return json.dumps(document).replace('"WEIGHT"', weight).replace('"SCORE"', score)


@pytest.mark.parametrize(
    ("weight", "score", "expected"),
    [
        (
            "1e999999999",
            "2",
            ["$.CFRubricCriteria[0].weight: criterion 1 'Only': weight 1E+999999999 is far too large; "
             "the limit is 1000"],
        ),
        (
            "1",
            "9" * 10_000,
            ["$.CFRubricCriteria[0].CFRubricCriterionLevels[1].score: criterion 1 'Only', level 2 'High': "
             "points " + "9" * 40 + "... is far too large; the limit is 10000"],
        ),
        (
            "NaN",
            "Infinity",
            [
                "$.CFRubricCriteria[0].weight: criterion 1 'Only': weight must be a number, got NaN",
                "$.CFRubricCriteria[0].CFRubricCriterionLevels[1].score: criterion 1 'Only', level 2 'High': "
                "points must be a number, got Infinity",
            ],
        ),
    ],
    ids=["huge-exponent", "10k-digits", "nan-and-infinity"],
)
def test_case_import_refuses_hostile_numbers_at_their_json_path(
    weight: str, score: str, expected: list[str]
) -> None:
    assert case_problems(case_file(weight, score)) == expected
