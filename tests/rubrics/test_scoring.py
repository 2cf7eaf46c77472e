"""Scoring: exact totals, explanations that add up, and precise assessment errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from rubrics import Answer, AssessmentError, Rubric, Scorer, parse_rubric, score
from tests.rubrics.examples import base

COMMENT = "Asked good follow-up questions."


def rubric(mode: str = "points") -> Rubric:
    data = base()
    data["scoring_mode"] = mode
    return parse_rubric(data)


def answers(**overrides: Answer) -> list[Answer]:
    chosen = {
        "listening": Answer("listening", "proficient"),
        "questions": Answer("questions", "novice"),
        "coaching-conversation": Answer("coaching-conversation", "proficient", comment=COMMENT),
    }
    chosen.update(overrides)
    return list(chosen.values())


def errors(rubric: Rubric, given: list[Any]) -> list[str]:
    with pytest.raises(AssessmentError) as caught:
        score(rubric, given)
    return [problem.message for problem in caught.value.problems]


def test_points_mode_sums_weighted_points_and_explains_each_line() -> None:
    result = score(rubric(), answers())
    assert (result.total, result.max_possible, result.percentage) == (
        Decimal(8),
        Decimal(12),
        Decimal("66.67"),
    )
    assert result.explanation == (
        "Listening: 'Proficient' = 2 of 2 points",
        "Questions: 'Novice' = 0 of 2 points",
        "Coaching conversation: 'Proficient' = 3 of 4 points × weight 2 = 6 of 8",
        "Total: 8 of 12 points = 66.67%",
    )
    line = result.criteria[2]
    assert (line.level, line.level_number, line.level_count, line.comment) == ("proficient", 3, 4, COMMENT)


def test_points_inside_a_range_are_exact_and_default_to_the_top() -> None:
    chosen = answers(
        **{"coaching-conversation": Answer("coaching-conversation", "developing", "1.75", COMMENT)}
    )
    result = score(rubric(), chosen)
    assert result.total == Decimal("5.5")  # 2 + 0 + 1.75 x 2
    default = answers(
        **{"coaching-conversation": Answer("coaching-conversation", "developing", None, COMMENT)}
    )
    assert score(rubric(), default).criteria[2].points == Decimal("2.5")


def test_weighted_percentage_uses_each_criterions_share() -> None:
    result = score(rubric("weighted_percentage"), answers())
    # listening 2/2 x 25% + questions 0 + coaching 3/4 x 50% = 25 + 0 + 37.5
    assert (result.total, result.max_possible, result.percentage) == (Decimal("62.5"), 100, Decimal("62.5"))
    assert result.explanation == (
        "Listening: 'Proficient' = 2 of 2 points (100%) × weight share 25% = 25 of 25",
        "Questions: 'Novice' = 0 of 2 points (0%) × weight share 25% = 0 of 25",
        "Coaching conversation: 'Proficient' = 3 of 4 points (75%) × weight share 50% = 37.5 of 50",
        "Total: 62.5 of 100 = 62.5%",
    )


def test_weighted_percentage_says_when_rounded_lines_do_not_add_up() -> None:
    data = {
        "title": "Thirds",
        "scoring_mode": "weighted_percentage",
        "criteria": [
            {
                "identifier": key,
                "title": key.upper(),
                "levels": [
                    {"identifier": "low", "title": "Low", "points": 0},
                    {"identifier": "high", "title": "High", "points": 3},
                ],
            }
            for key in ("a", "b", "c")
        ],
    }
    result = score(parse_rubric(data), [Answer(key, "high") for key in ("a", "b", "c")])
    assert result.total == Decimal("100.00")
    assert result.explanation[-2:] == (
        "Total: 100 of 100 = 100%",
        "Lines are rounded to 2 decimal places; the total is rounded once, after adding.",
    )


def test_levels_only_lists_levels_and_no_numbers() -> None:
    data = base()
    data["scoring_mode"] = "levels_only"
    for criterion in data["criteria"]:
        for level in criterion["levels"]:
            for name in ("points", "min_points", "max_points"):
                level.pop(name, None)
    result = score(parse_rubric(data), answers())
    assert (result.total, result.max_possible, result.percentage) == (None, None, None)
    assert result.explanation == (
        "Listening: 'Proficient' (level 2 of 2)",
        "Questions: 'Novice' (level 1 of 2)",
        "Coaching conversation: 'Proficient' (level 3 of 4)",
        "This rubric records levels only, so there is no points total.",
    )
    assert errors(parse_rubric(data), answers(listening=Answer("listening", "novice", 1))) == [
        "criterion 1 'Listening', level 1 'Novice': this rubric records levels only; leave points out"
    ]


def test_scorer_accepts_plain_mappings_and_gives_a_dict() -> None:
    scorer = Scorer(rubric())
    result = scorer.score([answer._asdict() for answer in answers()])
    assert result.to_dict()["total"] == "8"
    assert result.to_dict()["criteria"][2]["contribution"] == "6"
    assert result.to_dict()["explanation"][-1] == "Total: 8 of 12 points = 66.67%"


ERROR_CASES = [
    (
        "missing criterion",
        [Answer("listening", "proficient"), Answer("questions", "novice")],
        ["criterion 3 'Coaching conversation': no level chosen"],
    ),
    (
        "unknown criterion",
        answers() + [Answer("empathy", "high")],
        ["criterion 'empathy' is not in this rubric"],
    ),
    (
        "chosen twice",
        answers() + [Answer("listening", "novice")],
        ["criterion 1 'Listening': chosen more than once"],
    ),
    (
        "unknown level",
        answers(listening=Answer("listening", "expert")),
        [
            "criterion 1 'Listening': level 'expert' is not one of "
            "this criterion's levels (novice, proficient)"
        ],
    ),
    (
        "points outside range",
        answers(**{"coaching-conversation": Answer("coaching-conversation", "developing", "3", COMMENT)}),
        [
            "criterion 3 'Coaching conversation', level 2 'Developing': "
            "points 3 are outside this level's range 1.5 to 2.5"
        ],
    ),
    (
        "points differ from a fixed level",
        answers(listening=Answer("listening", "proficient", 1)),
        ["criterion 1 'Listening', level 2 'Proficient': this level is worth exactly 2 points, not 1"],
    ),
    (
        "points not a number",
        answers(listening=Answer("listening", "proficient", "two")),
        ["criterion 1 'Listening', level 2 'Proficient': points must be a number, got 'two'"],
    ),
    (
        "comment required",
        answers(**{"coaching-conversation": Answer("coaching-conversation", "expert", None, "  ")}),
        ["criterion 3 'Coaching conversation': a comment is required"],
    ),
    (
        "comment too long",
        answers(listening=Answer("listening", "novice", None, "x" * 5001)),
        ["criterion 1 'Listening': comment is 5,001 characters long; the limit is 5,000"],
    ),
    (
        "comment not text",
        [*answers()[:2], {"criterion": "coaching-conversation", "level": "expert", "comment": 5}],
        ["criterion 3 'Coaching conversation': comment must be text, got 5"],
    ),
    (
        "answer not an object",
        [*answers(), "listening=novice"],
        ["answer 4: expected an object with criterion and level, got 'listening=novice'"],
    ),
    (
        "answer without level",
        [*answers()[:2], {"criterion": "coaching-conversation"}],
        ["answer 3: level is missing", "criterion 3 'Coaching conversation': no level chosen"],
    ),
]


@pytest.mark.parametrize(("given", "expected"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_assessment_error_message(given: list[Any], expected: list[str]) -> None:
    assert errors(rubric(), given) == expected


def test_fixed_level_accepts_its_own_points() -> None:
    assert score(rubric(), answers(listening=Answer("listening", "proficient", "2.00"))).total == 8


def test_every_problem_is_reported_with_a_path() -> None:
    with pytest.raises(AssessmentError) as caught:
        score(rubric(), [Answer("listening", "zzz"), Answer("questions", "novice", "x")])
    assert [problem.path for problem in caught.value.problems] == [
        ("criteria", "listening", "level"),
        ("criteria", "questions", "points"),
        ("criteria", "coaching-conversation"),
    ]
