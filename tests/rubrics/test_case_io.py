"""1EdTech CASE 1.1 JSON: CFRubric round trips, foreign files, errors by JSON path."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from rubrics import (
    CompetencyFramework,
    CompetencyItem,
    RubricImportError,
    ScoringMode,
    export_case_framework,
    export_case_rubric,
    import_case_framework,
    import_case_rubric,
    parse_rubric,
)
from tests.rubrics.examples import base

BASE_URI = "https://cadre.example/case/v1p1"
CHANGED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FRAMEWORK = CompetencyFramework(
    identifier="f1",
    uri="https://case.example/CFDocuments/f1",
    title="Coaching competencies",
    creator="Cadre",
    items=(
        CompetencyItem(
            "c1", "https://case.example/CFItems/c1", "Listens actively.", "COACH.1", last_change=CHANGED_AT
        ),
        CompetencyItem(
            "c2", "https://case.example/CFItems/c2", "Asks open questions.", last_change=CHANGED_AT
        ),
    ),
    last_change=CHANGED_AT,
)


def exported() -> dict[str, Any]:
    return export_case_rubric(
        parse_rubric(base()), base_uri=BASE_URI, changed_at=CHANGED_AT, frameworks=[FRAMEWORK]
    )


def problems(document: Any, **options: int) -> list[str]:
    source = document if isinstance(document, str | bytes) else json.dumps(document)
    with pytest.raises(RubricImportError) as caught:
        import_case_rubric(source, **options)
    return [str(problem) for problem in caught.value.problems]


def test_export_uses_case_names_and_stable_uuids() -> None:
    document = exported()
    criterion = document["CFRubricCriteria"][0]
    level = criterion["CFRubricCriterionLevels"][1]
    assert document["uri"] == f"urn:uuid:{document['identifier']}"
    assert document["lastChangeDateTime"] == "2026-11-30T12:00:00+00:00"
    assert (criterion["category"], criterion["weight"], criterion["position"]) == ("Listening", 1, 1)
    assert criterion["rubricId"] == document["identifier"]
    assert criterion["CFItemURI"] == {
        "title": "COACH.1",
        "identifier": str(uuid.uuid5(uuid.NAMESPACE_URL, "https://case.example/CFItems/c1")),
        "uri": "https://case.example/CFItems/c1",
    }
    assert (level["quality"], level["score"], level["rubricCriterionId"]) == (
        "Proficient",
        2,
        criterion["identifier"],
    )
    assert criterion["extensions"]["cadre"]["identifier"] == "listening"
    assert exported() == document  # identifiers are UUIDv5s, not random


def test_a_range_keeps_its_bottom_in_the_extension() -> None:
    level = exported()["CFRubricCriteria"][2]["CFRubricCriterionLevels"][1]
    assert (level["score"], level["extensions"][0]["cadre"]["minScore"]) == (2.5, 1.5)


def test_foreign_file_without_extensions_imports_sensibly() -> None:
    document = exported()
    for entity in [document, *document["CFRubricCriteria"]]:
        entity.pop("extensions")
    for criterion in document["CFRubricCriteria"]:
        for level in criterion["CFRubricCriterionLevels"]:
            level.pop("extensions")
    rubric = import_case_rubric(json.dumps(document))
    assert rubric.scoring_mode is ScoringMode.POINTS
    assert rubric.identifier == document["identifier"]
    first = rubric.criteria[0]
    assert first.identifier == document["CFRubricCriteria"][0]["identifier"]
    assert first.competency_tags == ("https://case.example/CFItems/c1",)
    assert first.levels[1].guidance == ""
    assert rubric.criteria[2].levels[1].max_points == Decimal("2.5")


def test_package_with_one_rubric_and_fractional_scores_stay_exact() -> None:
    document = exported()
    document["CFRubricCriteria"][0]["CFRubricCriterionLevels"][1]["score"] = 0.1
    rubric = import_case_rubric(json.dumps({"CFDocument": {}, "CFRubrics": [document]}))
    assert rubric.criteria[0].levels[1].max_points == Decimal("0.1")


def test_changed_at_needs_a_time_zone_and_is_stored_in_utc() -> None:
    with pytest.raises(ValueError, match="time zone"):
        export_case_rubric(parse_rubric(base()), base_uri=BASE_URI, changed_at=datetime(2026, 1, 1))  # noqa: DTZ001
    moment = datetime(2026, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert (
        export_case_rubric(parse_rubric(base()), base_uri=BASE_URI, changed_at=moment)["lastChangeDateTime"]
        == "2026-01-01T12:00:00+00:00"
    )


def mutated(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(exported())
    change(document)
    return document


def crit(document: dict[str, Any], index: int) -> dict[str, Any]:
    return document["CFRubricCriteria"][index]


def lvl(document: dict[str, Any], index: int, level: int) -> dict[str, Any]:
    return crit(document, index)["CFRubricCriterionLevels"][level]


ERROR_CASES = [
    (
        "bad json",
        '{"title": "x",\n  "CFRubricCriteria": [}',
        ["line 2, column 24: invalid JSON: Expecting value"],
    ),
    (
        "NaN",
        mutated(lambda d: crit(d, 0).update(weight=float("nan"))),
        ["$.CFRubricCriteria[0].weight: criterion 1 'Listening': weight must be a number, got NaN"],
    ),
    ("not an object", "[1, 2]", ["$: expected a CFRubric object, got a list"]),
    (
        "missing identifier",
        mutated(lambda d: crit(d, 1).pop("identifier")),
        ["$.CFRubricCriteria[1].identifier: identifier is missing"],
    ),
    (
        "wrong type weight",
        mutated(lambda d: crit(d, 0).update(weight="heavy")),
        ["$.CFRubricCriteria[0].weight: expected a number, got 'heavy'"],
    ),
    (
        "fractional position",
        mutated(lambda d: lvl(d, 0, 0).update(position=1.5)),
        ["$.CFRubricCriteria[0].CFRubricCriterionLevels[0].position: expected a whole number, got 1.5"],
    ),
    (
        "criteria not a list",
        mutated(lambda d: d.update(CFRubricCriteria={})),
        ["$.CFRubricCriteria: expected a list, got an object"],
    ),
    (
        "criterion not an object",
        mutated(lambda d: d["CFRubricCriteria"].append(7)),
        ["$.CFRubricCriteria[3]: expected a CFRubricCriterion object, got 7"],
    ),
    (
        "text field of wrong type",
        mutated(lambda d: lvl(d, 2, 0).update(quality=3)),
        ["$.CFRubricCriteria[2].CFRubricCriterionLevels[0].quality: expected text, got 3"],
    ),
    (
        "unknown criterion reference",
        mutated(lambda d: lvl(d, 2, 1).update(rubricCriterionId="elsewhere")),
        [
            "$.CFRubricCriteria[2].CFRubricCriterionLevels[1].rubricCriterionId: "
            "refers to criterion 'elsewhere', "
            f"but the level sits in criterion '{exported()['CFRubricCriteria'][2]['identifier']}'"
        ],
    ),
    (
        "unknown rubric reference",
        mutated(lambda d: crit(d, 0).update(rubricId="other")),
        [
            f"$.CFRubricCriteria[0].rubricId: refers to rubric 'other', but the criterion sits in rubric "
            f"'{exported()['identifier']}'"
        ],
    ),
    (
        "duplicate positions",
        mutated(lambda d: crit(d, 2).update(position=1)),
        [
            "$.CFRubricCriteria[2].position: "
            "criterion 3 'Coaching conversation': position 1 is already used by criterion 1"
        ],
    ),
    (
        "min above max",
        mutated(lambda d: lvl(d, 2, 1)["extensions"][0]["cadre"].update(minScore=3)),
        [
            "$.CFRubricCriteria[2].CFRubricCriterionLevels[1].extensions[0].cadre.minScore: "
            "criterion 3 'Coaching conversation', level 2 'Developing': min 3 is above max 2.5"
        ],
    ),
    (
        "bad extension",
        mutated(lambda d: crit(d, 1).update(extensions=[])),
        ["$.CFRubricCriteria[1].extensions: expected an object, got a list"],
    ),
    (
        "bad CFItemURI",
        mutated(lambda d: (crit(d, 0).update(CFItemURI="c1"), crit(d, 0).pop("extensions"))),
        ["$.CFRubricCriteria[0].CFItemURI: expected a link object with a uri, got 'c1'"],
    ),
    (
        "package with two rubrics",
        {"CFRubrics": [{}, {}]},
        ["$.CFRubrics: expected a list with exactly one CFRubric, got 2"],
    ),
]


@pytest.mark.parametrize(
    ("document", "expected"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_import_error_names_the_json_path(document: Any, expected: list[str]) -> None:
    assert problems(document) == expected


def test_huge_file_is_refused_before_parsing() -> None:
    assert problems("{" + " " * 200 + "}", max_bytes=100) == ["file: the file is 202 bytes; the limit is 100"]


def test_framework_round_trip_and_lookup() -> None:
    package = export_case_framework(FRAMEWORK, changed_at=CHANGED_AT)
    text = json.dumps(package)
    framework = import_case_framework(text)
    assert framework == FRAMEWORK
    assert export_case_framework(framework, changed_at=CHANGED_AT) == package
    assert framework.find("COACH.1") == FRAMEWORK.items[0]
    assert framework.find("https://case.example/CFItems/c2") == FRAMEWORK.items[1]
    assert framework.unknown_tags(parse_rubric(base())) == ()
    assert CompetencyFramework.from_dict(framework.to_dict()) == framework


def test_framework_errors() -> None:
    package = export_case_framework(FRAMEWORK, changed_at=CHANGED_AT)
    package["CFItems"][1]["identifier"] = "c1"
    package["CFItems"][0].pop("fullStatement")
    package["CFDocument"]["title"] = 4
    with pytest.raises(RubricImportError) as caught:
        import_case_framework(json.dumps(package))
    assert [str(problem) for problem in caught.value.problems] == [
        "$.CFDocument.title: expected text, got 4",
        "$.CFItems[0].fullStatement: fullStatement is missing",
        "$.CFItems[1].identifier: identifier 'c1' is already used by $.CFItems[0]",
    ]
    with pytest.raises(RubricImportError, match=r"\$\.CFDocument: expected a CFDocument object, got nothing"):
        import_case_framework("{}")
