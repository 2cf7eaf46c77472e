"""CASE 1.1 fidelity, checked against 1EdTech's JSON schema and by moving rubrics between Cadres.

Found from outside: level ``extensions`` were objects (the schema wants an array there), so every template's
export failed validation; importing re-derived identifiers from the host; CFItemURI identifiers were not
UUIDs; URIs pointed at addresses Cadre does not serve; numbers as strings, CFItemURI as a string, NUL and
lone surrogates were accepted; a bad ``extensions.cadre.identifier`` was reported at ``$.identifier``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from rubrics import (
    CompetencyFramework,
    CompetencyItem,
    RubricImportError,
    export_case_rubric,
    get_template,
    import_case_rubric,
    list_templates,
    parse_rubric,
    read_case_rubric,
)
from tests.rubrics.examples import base

SCHEMA = json.loads((Path(__file__).parent / "data" / "case_v1p1_cfrubric-jsonschema1.json").read_text())
VALIDATOR = Draft201909Validator(SCHEMA, format_checker=FormatChecker())
CHANGED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOST_A = "https://cadre-a.example/rubrics/7/case"
HOST_B = "https://cadre-b.example/rubrics/301/case"
OPENSALT_ITEM = "https://opensalt.net/uri/5b9f0f6e-2c6a-4f0b-9d3a-7e1c2b4a5d60"
FRAMEWORK = CompetencyFramework(
    identifier="f1",
    uri="https://case.example/CFDocuments/f1",
    title="Coaching competencies",
    items=(CompetencyItem("c1", "https://case.example/CFItems/c1", "Listens actively.", "COACH.1"),),
)


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in VALIDATOR.iter_errors(document)]


@pytest.mark.parametrize("slug", [template.slug for template in list_templates()])
def test_every_template_exports_valid_case(slug: str) -> None:
    document = export_case_rubric(
        get_template(slug), base_uri=HOST_A, changed_at=CHANGED_AT, frameworks=[FRAMEWORK]
    )
    assert schema_errors(document) == []
    level = document["CFRubricCriteria"][0]["CFRubricCriterionLevels"][0]
    assert isinstance(level["extensions"], list)


def test_the_schema_check_catches_the_old_level_extensions() -> None:
    document = export_case_rubric(parse_rubric(base()), base_uri=HOST_A, changed_at=CHANGED_AT)
    level = document["CFRubricCriteria"][0]["CFRubricCriterionLevels"][0]
    level["extensions"] = level["extensions"][0]
    assert any("is not of type 'array'" in error for error in schema_errors(document))


def identifiers(document: dict[str, Any]) -> list[str]:
    found = [document["identifier"]]
    for criterion in document["CFRubricCriteria"]:
        found.append(criterion["identifier"])
        found.extend(level["identifier"] for level in criterion["CFRubricCriterionLevels"])
    return found


def test_a_rubric_moved_between_two_cadres_keeps_its_identifiers() -> None:
    data = base()
    data["identifier"] = ""  # as made on the edit form
    first = export_case_rubric(parse_rubric(data), base_uri=HOST_A, changed_at=CHANGED_AT)
    moved = import_case_rubric(json.dumps(first))
    again = export_case_rubric(moved, base_uri=HOST_B, changed_at=CHANGED_AT)
    assert identifiers(again) == identifiers(first)
    assert [item["uri"] for item in [again, *again["CFRubricCriteria"]]] == [
        f"urn:uuid:{item['identifier']}" for item in [first, *first["CFRubricCriteria"]]
    ]
    assert (
        export_case_rubric(import_case_rubric(json.dumps(again)), base_uri=HOST_A, changed_at=CHANGED_AT)
        == again
    )


def test_criteria_and_levels_keep_their_uuids_whatever_the_host() -> None:
    """Even when the rubric's own identifier is a Cadre slug, its criteria's UUIDs hang off the rubric's."""
    rubric = parse_rubric(base())
    one = export_case_rubric(rubric, base_uri=HOST_A, changed_at=CHANGED_AT)
    two = export_case_rubric(rubric, base_uri=HOST_A, changed_at=CHANGED_AT)
    assert identifiers(one) == identifiers(two)


def test_foreign_uuids_are_kept_even_in_upper_case() -> None:
    document = export_case_rubric(parse_rubric(base()), base_uri=HOST_A, changed_at=CHANGED_AT)
    foreign = str(uuid.uuid4())
    document["identifier"] = foreign.upper()
    document.pop("extensions")
    for criterion in document["CFRubricCriteria"]:
        criterion["rubricId"] = foreign.upper()
    imported = import_case_rubric(json.dumps(document))
    assert export_case_rubric(imported, base_uri=HOST_B, changed_at=CHANGED_AT)["identifier"] == foreign


def test_cfitemuri_identifiers_are_uuids() -> None:
    data = base()
    data["criteria"][0]["competency_tags"] = [OPENSALT_ITEM]
    data["criteria"][1]["competency_tags"] = ["https://example.org/standards/COM.2"]
    document = export_case_rubric(parse_rubric(data), base_uri=HOST_A, changed_at=CHANGED_AT)
    links = [criterion.get("CFItemURI") for criterion in document["CFRubricCriteria"]]
    assert links[0] == {
        "title": OPENSALT_ITEM,
        "identifier": OPENSALT_ITEM.rsplit("/", 1)[1],
        "uri": OPENSALT_ITEM,
    }
    assert links[1]["identifier"] == str(
        uuid.uuid5(uuid.NAMESPACE_URL, "https://example.org/standards/COM.2")
    )
    assert schema_errors(document) == []


def test_level_extensions_written_as_an_object_by_older_cadres_still_import() -> None:
    document = export_case_rubric(parse_rubric(base()), base_uri=HOST_A, changed_at=CHANGED_AT)
    for criterion in document["CFRubricCriteria"]:
        for level in criterion["CFRubricCriterionLevels"]:
            level["extensions"] = level["extensions"][0]
    assert import_case_rubric(json.dumps(document)) == parse_rubric(base())


def refused(document: dict[str, Any] | str) -> list[str]:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(RubricImportError) as caught:
        import_case_rubric(text)
    return [str(problem) for problem in caught.value.problems]


def exported() -> dict[str, Any]:
    return export_case_rubric(
        parse_rubric(base()), base_uri=HOST_A, changed_at=CHANGED_AT, frameworks=[FRAMEWORK]
    )


def test_a_string_where_a_cfitemuri_belongs_is_refused_even_with_cadre_tags() -> None:
    document = exported()
    document["CFRubricCriteria"][0]["CFItemURI"] = "COACH.1"
    assert refused(document) == [
        "$.CFRubricCriteria[0].CFItemURI: expected a link object with a uri, got 'COACH.1'"
    ]


def test_numbers_given_as_strings_are_refused() -> None:
    document = exported()
    document["CFRubricCriteria"][2]["CFRubricCriterionLevels"][1]["extensions"][0]["cadre"]["minScore"] = "1"
    document["CFRubricCriteria"][0]["weight"] = "1"
    assert refused(document) == [
        "$.CFRubricCriteria[0].weight: expected a number, got '1'",
        "$.CFRubricCriteria[2].CFRubricCriterionLevels[1].extensions[0].cadre.minScore: "
        "expected a number, got '1'",
    ]


@pytest.mark.parametrize(
    ("bad", "kind"), [("\\u0000", "a NUL character"), ("\\ud800", "a lone surrogate (U+D800)")]
)
def test_nul_and_lone_surrogates_are_refused_at_their_path(bad: str, kind: str) -> None:
    text = json.dumps(exported())
    text = text.replace('"category": "Listening"', f'"category": "Listen{bad}ing"', 1)
    text = text.replace('"COACH.1"]', f'"COACH{bad}"]', 1)
    problems = refused(text)
    assert [problem.split(": ", 1)[0] for problem in problems] == [
        "$.CFRubricCriteria[0].category",
        "$.CFRubricCriteria[0].extensions.cadre.competencyTags[0]",
    ]
    assert all(kind in problem for problem in problems)


def test_a_bad_extension_identifier_is_reported_where_it_was_read() -> None:
    document = exported()
    document["CFRubricCriteria"][1]["extensions"]["cadre"]["identifier"] = "not an identifier!"
    document["CFRubricCriteria"][0]["CFRubricCriterionLevels"][0]["extensions"][0]["cadre"]["identifier"] = (
        "?"
    )
    locations = [problem.split(": ", 1)[0] for problem in refused(document)]
    assert locations == [
        "$.CFRubricCriteria[0].CFRubricCriterionLevels[0].extensions[0].cadre.identifier",
        "$.CFRubricCriteria[1].extensions.cadre.identifier",
    ]


def test_a_template_rubric_keeps_its_case_identity_on_another_host() -> None:
    """A slug identifier (templates, the form) used to give a UUID from the host's base URI."""
    identity = str(uuid.uuid4())
    template = get_template(list_templates()[0].slug)
    first = export_case_rubric(template, base_uri=HOST_A, changed_at=CHANGED_AT, case_identifier=identity)
    read = read_case_rubric(json.dumps(first))
    assert read.case_identifier == identity and read.rubric == template
    again = export_case_rubric(
        read.rubric, base_uri=HOST_B, changed_at=CHANGED_AT, case_identifier=read.case_identifier
    )
    assert identifiers(again) == identifiers(first)
    assert identifiers(first)[0] == identity
    # Without the identity the host still decides, which is what the library's stored identity avoids.
    assert identifiers(export_case_rubric(template, base_uri=HOST_B, changed_at=CHANGED_AT))[0] != identity


def test_a_cfrubric_identifier_that_is_not_a_uuid_gives_the_same_identity_everywhere() -> None:
    document = export_case_rubric(parse_rubric(base()), base_uri=HOST_A, changed_at=CHANGED_AT)
    document["identifier"] = "RUBRIC-42"
    for criterion in document["CFRubricCriteria"]:
        criterion["rubricId"] = "RUBRIC-42"
    read = read_case_rubric(json.dumps(document))
    assert read.case_identifier == str(uuid.uuid5(uuid.NAMESPACE_URL, "RUBRIC-42"))
    assert read_case_rubric(json.dumps(document)).case_identifier == read.case_identifier
