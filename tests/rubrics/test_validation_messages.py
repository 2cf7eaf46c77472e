"""Every validation message, asserted word for word: designers act on these texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rubrics import Criterion, Level, RubricLimits, RubricValidationError, parse_rubric
from tests.rubrics.examples import base

Mutation = Callable[[dict[str, Any]], object]
COACHING = "criterion 3 'Coaching conversation'"
DEVELOPING = f"{COACHING}, level 2 'Developing'"
BEGINNING = f"{COACHING}, level 1 'Beginning'"


def messages(mutate: Mutation, limits: RubricLimits | None = None) -> list[str]:
    data = base()
    mutate(data)
    with pytest.raises(RubricValidationError) as caught:
        parse_rubric(data, limits or RubricLimits())
    return [problem.message for problem in caught.value.problems]


def level3(data: dict[str, Any], index: int = 1) -> dict[str, Any]:
    return data["criteria"][2]["levels"][index]


def test_the_example_rubric_is_valid() -> None:
    rubric = parse_rubric(base())
    assert [criterion.identifier for criterion in rubric.criteria] == [
        "listening",
        "questions",
        "coaching-conversation",
    ]


def levels_only_with_points_left_on_one_level(data: dict[str, Any]) -> None:
    data["scoring_mode"] = "levels_only"
    for criterion in data["criteria"]:
        for level in criterion["levels"]:
            for name in ("points", "min_points", "max_points"):
                level.pop(name, None)
    data["criteria"][0]["levels"][0]["points"] = "1"


CASES: list[tuple[str, Mutation, str]] = [
    # rubric
    ("unknown rubric field", lambda d: d.update(titel="x"), "rubric: unknown field 'titel'"),
    ("missing title", lambda d: d.pop("title"), "rubric: title is missing"),
    ("blank title", lambda d: d.update(title="   "), "rubric: title is missing"),
    ("title not text", lambda d: d.update(title=5), "rubric: title must be text, got 5"),
    (
        "title too long",
        lambda d: d.update(title="t" * 201),
        "rubric: title is 201 characters long; the limit is 200",
    ),
    (
        "description too long",
        lambda d: d.update(description="d" * 5001),
        "rubric: description is 5,001 characters long; the limit is 5,000",
    ),
    (
        "control character",
        lambda d: d.update(description="a\x07b"),
        "rubric: description contains a control character (U+0007); remove it",
    ),
    (
        "bad rubric identifier",
        lambda d: d.update(identifier="has space"),
        "rubric: identifier 'has space' may use only letters, digits and . _ : - "
        "and must start with a letter or digit",
    ),
    (
        "missing scoring mode",
        lambda d: d.pop("scoring_mode"),
        "rubric: scoring_mode is missing; choose one of points, weighted_percentage, levels_only",
    ),
    (
        "unknown scoring mode",
        lambda d: d.update(scoring_mode="sum"),
        "rubric: scoring_mode 'sum' is not one of points, weighted_percentage, levels_only",
    ),
    ("no criteria", lambda d: d.update(criteria=[]), "rubric: add at least one criterion"),
    ("criteria missing", lambda d: d.pop("criteria"), "rubric: add at least one criterion"),
    (
        "criteria not a list",
        lambda d: d.update(criteria={"a": 1}),
        "rubric: criteria must be a list, got an object",
    ),
    (
        "frameworks not a list",
        lambda d: d.update(competency_frameworks="f1"),
        "rubric: competency_frameworks must be a list of text, got 'f1'",
    ),
    (
        "framework with space",
        lambda d: d.update(competency_frameworks=["a b"]),
        "rubric: competency framework 'a b' must not be empty or contain spaces or control characters",
    ),
    (
        "framework twice",
        lambda d: d.update(competency_frameworks=["f", "f"]),
        "rubric: competency framework 'f' is listed twice",
    ),
    # criteria
    (
        "criterion not an object",
        lambda d: d["criteria"].append("x"),
        "criterion 4: expected an object with fields, got 'x'",
    ),
    (
        "unknown criterion field",
        lambda d: d["criteria"][2].update(wieght=2),
        f"{COACHING}: unknown field 'wieght'",
    ),
    (
        "criterion identifier missing",
        lambda d: d["criteria"][2].pop("identifier"),
        f"{COACHING}: identifier is missing",
    ),
    (
        "criterion identifier too long",
        lambda d: d["criteria"][2].update(identifier="x" * 101),
        f"{COACHING}: identifier is 101 characters long; the limit is 100",
    ),
    ("criterion title missing", lambda d: d["criteria"][2].pop("title"), "criterion 3: title is missing"),
    (
        "criterion guidance too long",
        lambda d: d["criteria"][2].update(guidance="g" * 5001),
        f"{COACHING}: guidance is 5,001 characters long; the limit is 5,000",
    ),
    (
        "duplicate criterion identifier",
        lambda d: d["criteria"][2].update(identifier="listening"),
        f"{COACHING}: identifier 'listening' is already used by criterion 1",
    ),
    (
        "duplicate criterion position",
        lambda d: d["criteria"][2].update(position=1),
        f"{COACHING}: position 1 is already used by criterion 1",
    ),
    (
        "position not a number",
        lambda d: d["criteria"][2].update(position="third"),
        f"{COACHING}: position must be a whole number, got 'third'",
    ),
    (
        "position fractional",
        lambda d: d["criteria"][2].update(position=1.5),
        f"{COACHING}: position must be a whole number, got 1.5",
    ),
    (
        "position negative",
        lambda d: d["criteria"][2].update(position=-1),
        f"{COACHING}: position must be 0 or more, got -1",
    ),
    (
        "weight zero",
        lambda d: d["criteria"][2].update(weight=0),
        f"{COACHING}: weight must be above 0, got 0",
    ),
    (
        "weight negative",
        lambda d: d["criteria"][2].update(weight="-2"),
        f"{COACHING}: weight must be above 0, got -2",
    ),
    (
        "weight not a number",
        lambda d: d["criteria"][2].update(weight="heavy"),
        f"{COACHING}: weight must be a number, got 'heavy'",
    ),
    (
        "weight boolean",
        lambda d: d["criteria"][2].update(weight=True),
        f"{COACHING}: weight must be a number, got true",
    ),
    (
        "weight infinite",
        lambda d: d["criteria"][2].update(weight="Infinity"),
        f"{COACHING}: weight must be a number, got 'Infinity'",
    ),
    (
        "weight too big",
        lambda d: d["criteria"][2].update(weight=1001),
        f"{COACHING}: weight 1001 is above the limit of 1000",
    ),
    (
        "weight too precise",
        lambda d: d["criteria"][2].update(weight="0.12345"),
        f"{COACHING}: weight 0.12345 has more than 4 decimal places",
    ),
    (
        "tags not a list",
        lambda d: d["criteria"][2].update(competency_tags="COACH.1"),
        f"{COACHING}: competency_tags must be a list of text, got 'COACH.1'",
    ),
    (
        "empty tag",
        lambda d: d["criteria"][2].update(competency_tags=[""]),
        f"{COACHING}: competency tag '' must not be empty or contain spaces or control characters",
    ),
    (
        "tag twice",
        lambda d: d["criteria"][2].update(competency_tags=["A", "A"]),
        f"{COACHING}: competency tag 'A' is listed twice",
    ),
    (
        "tag too long",
        lambda d: d["criteria"][2].update(competency_tags=["t" * 501]),
        f"{COACHING}: competency tag '{'t' * 40}...' is 501 characters long; the limit is 500",
    ),
    (
        "too many tags",
        lambda d: d["criteria"][2].update(competency_tags=[f"t{i}" for i in range(51)]),
        f"{COACHING}: 51 competency tags is more than the limit of 50",
    ),
    (
        "comment_required not boolean",
        lambda d: d["criteria"][2].update(comment_required="yes"),
        f"{COACHING}: comment_required must be true or false, got 'yes'",
    ),
    (
        "levels not a list",
        lambda d: d["criteria"][2].update(levels="four"),
        f"{COACHING}: levels must be a list, got 'four'",
    ),
    (
        "one level",
        lambda d: d["criteria"][2].update(levels=d["criteria"][2]["levels"][:1]),
        f"{COACHING}: add at least two levels (found 1)",
    ),
    ("no levels", lambda d: d["criteria"][2].pop("levels"), f"{COACHING}: add at least two levels (found 0)"),
    (
        "all levels zero",
        lambda d: [lv.update(points=0) for lv in d["criteria"][0]["levels"]],
        "criterion 1 'Listening': the highest level is worth 0 points; "
        "at least one level must be worth more than 0",
    ),
    # levels
    (
        "level not an object",
        lambda d: d["criteria"][2]["levels"].append(3),
        f"{COACHING}, level 5: expected an object with fields, got 3",
    ),
    ("unknown level field", lambda d: level3(d).update(score=2), f"{DEVELOPING}: unknown field 'score'"),
    (
        "level identifier missing",
        lambda d: level3(d).pop("identifier"),
        f"{DEVELOPING}: identifier is missing",
    ),
    ("level title missing", lambda d: level3(d).pop("title"), f"{COACHING}, level 2: title is missing"),
    (
        "duplicate level identifier",
        lambda d: level3(d).update(identifier="beginning"),
        f"{DEVELOPING}: identifier 'beginning' is already used by level 1",
    ),
    (
        "duplicate level position",
        lambda d: level3(d).update(position=1),
        f"{DEVELOPING}: position 1 is already used by level 1",
    ),
    (
        "min above max",
        lambda d: level3(d).update(min_points=4, max_points=3),
        f"{DEVELOPING}: min 4 is above max 3",
    ),
    (
        "max missing",
        lambda d: level3(d).pop("max_points"),
        f"{DEVELOPING}: max_points is missing; a range needs both min_points and max_points",
    ),
    (
        "min missing",
        lambda d: level3(d).pop("min_points"),
        f"{DEVELOPING}: min_points is missing; a range needs both min_points and max_points",
    ),
    (
        "points and range",
        lambda d: level3(d).update(points=2),
        f"{DEVELOPING}: give either points or min_points and max_points, not both",
    ),
    (
        "points missing",
        lambda d: [level3(d).pop(k) for k in ("min_points", "max_points")],
        f"{DEVELOPING}: points are missing; give points or min_points and max_points",
    ),
    (
        "points negative",
        lambda d: level3(d, 0).update(points=-1),
        f"{BEGINNING}: points must be 0 or more, got -1",
    ),
    (
        "points not a number",
        lambda d: level3(d, 0).update(points="three"),
        f"{BEGINNING}: points must be a number, got 'three'",
    ),
    (
        "points too precise",
        lambda d: level3(d, 0).update(points="2.555"),
        f"{BEGINNING}: points 2.555 has more than 2 decimal places",
    ),
    (
        "points too big",
        lambda d: level3(d, 0).update(points=10001),
        f"{BEGINNING}: points 10001 is above the limit of 10000",
    ),
    (
        "level description not text",
        lambda d: level3(d, 0).update(description=["a"]),
        f"{BEGINNING}: description must be text, got a list",
    ),
    (
        "points in levels_only",
        lambda d: levels_only_with_points_left_on_one_level(d),
        "criterion 1 'Listening', level 1 'Novice': levels_only rubrics carry no points; "
        "remove points or choose another scoring mode",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_validation_message(mutate: Mutation, expected: str) -> None:
    assert messages(mutate) == [expected]


def test_levels_only_rubric_passes_with_one_level_and_no_points() -> None:
    data = base()
    data["scoring_mode"] = "levels_only"
    for criterion in data["criteria"]:
        criterion["levels"] = [{"identifier": "done", "title": "Done"}]
    rubric = parse_rubric(data)
    assert rubric.max_points is None
    assert rubric.criteria[0].levels[0].position == 1


def test_levels_only_still_needs_a_level() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["scoring_mode"] = "levels_only"
        data["criteria"] = [{"identifier": "a", "title": "A", "levels": []}]

    assert messages(mutate) == ["criterion 1 'A': add at least one level (found 0)"]


def test_rubric_that_is_not_an_object() -> None:
    with pytest.raises(RubricValidationError) as caught:
        parse_rubric(["not", "a", "rubric"])
    assert str(caught.value) == "rubric: expected an object with fields, got a list"


def test_criterion_limit_is_configurable() -> None:
    found = messages(lambda d: None, RubricLimits(max_criteria=2))
    assert found == ["rubric: 3 criteria is more than the limit of 2"]


def test_level_limit_is_configurable() -> None:
    assert messages(lambda d: None, RubricLimits(max_levels=3)) == [
        f"{COACHING}: 4 levels is more than the limit of 3"
    ]


def test_all_problems_are_reported_at_once_with_paths() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["title"] = ""
        level3(data).update(min_points=4, max_points=3)
        data["criteria"][0]["weight"] = 0

    data = base()
    mutate(data)
    with pytest.raises(RubricValidationError) as caught:
        parse_rubric(data)
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (("title",), "rubric: title is missing"),
        (("criteria", 0, "weight"), "criterion 1 'Listening': weight must be above 0, got 0"),
        (("criteria", 2, "levels", 1, "min_points"), f"{DEVELOPING}: min 4 is above max 3"),
    ]


def test_numbers_are_normalised_so_equal_values_are_equal_text() -> None:
    data = base()
    data["criteria"][0]["weight"] = "1.50"
    data["criteria"][0]["levels"][1]["points"] = 2.0
    rubric = parse_rubric(data)
    listening = rubric.criterion("listening")
    assert listening.to_dict()["weight"] == "1.5"
    assert listening.level("proficient").to_dict()["points"] == "2"


def test_level_and_criterion_from_dict_check_their_own_fields() -> None:
    level = Level.from_dict({"identifier": "a", "title": "A", "min_points": "1", "max_points": "2"})
    assert (level.min_points, level.max_points, level.is_range) == (1, 2, True)
    assert Level.from_dict(level.to_dict()) == level
    with pytest.raises(RubricValidationError) as caught:
        Level.from_dict({"identifier": "a", "title": "A", "min_points": 3, "max_points": 2})
    assert str(caught.value) == "level 1 'A': min 3 is above max 2"
    criterion = parse_rubric(base()).criteria[2]
    assert Criterion.from_dict(criterion.to_dict()) == criterion
