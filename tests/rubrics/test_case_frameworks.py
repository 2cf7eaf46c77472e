"""CASE frameworks keep what was imported: OpenSALT's sample framework, exported again, has the same 39
associations (its hierarchy and links), item types, languages, education levels and item times, and the
export validates against 1EdTech's CFPackage schema.

Found from outside: the export had no CFAssociations at all, no CFItemType, language or education level,
and gave every item the export's time; items carried a CFDocumentURI the package schema does not allow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator, FormatChecker

from rubrics import CompetencyFramework, RubricImportError, export_case_framework, import_case_framework

DATA = Path(__file__).parent / "data"
SAMPLE_TEXT = (DATA / "opensalt_what_standards_could_be.json").read_text()
SAMPLE = json.loads(SAMPLE_TEXT)
PACKAGE_SCHEMA = json.loads((DATA / "case_v1p1_cfpackage-jsonschema1.json").read_text())
VALIDATOR = Draft201909Validator(PACKAGE_SCHEMA, format_checker=FormatChecker())
EXPORTED_AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def utc(text: str) -> datetime:
    """A CASE time as an instant; OpenSALT writes UTC without a zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def exported_sample() -> dict[str, Any]:
    return export_case_framework(import_case_framework(SAMPLE_TEXT), changed_at=EXPORTED_AT)


def test_the_sample_is_opensalts_framework_with_39_associations() -> None:
    assert len(SAMPLE["CFItems"]) == 16
    assert len(SAMPLE["CFAssociations"]) == 39
    assert sum(a["associationType"] == "isChildOf" for a in SAMPLE["CFAssociations"]) == 16


def test_every_association_survives_import_and_export() -> None:
    def key(association: dict[str, Any]) -> tuple[Any, ...]:
        return (
            association["identifier"],
            association["uri"],
            association["associationType"],
            tuple(association["originNodeURI"][name] for name in ("title", "identifier", "uri")),
            tuple(association["destinationNodeURI"][name] for name in ("title", "identifier", "uri")),
            int(association["sequenceNumber"]) if "sequenceNumber" in association else None,
            utc(association["lastChangeDateTime"]),
        )

    exported = exported_sample()["CFAssociations"]
    assert [key(association) for association in exported] == [key(a) for a in SAMPLE["CFAssociations"]]


def test_items_keep_their_type_language_education_level_and_own_time() -> None:
    def key(item: dict[str, Any]) -> tuple[Any, ...]:
        levels = item["educationLevel"] if "educationLevel" in item else [item["educationalLevel"]]
        return (
            item["identifier"],
            item["uri"],
            item["fullStatement"],
            item["humanCodingScheme"],
            item["CFItemType"],
            item["CFItemTypeURI"],
            item["language"],
            levels,
            utc(item["lastChangeDateTime"]),
        )

    exported = exported_sample()
    assert [key(item) for item in exported["CFItems"]] == [key(item) for item in SAMPLE["CFItems"]]
    # The items' times differ from one another and from the export's: each kept its own.
    assert {item["lastChangeDateTime"] for item in exported["CFItems"]} == {
        "2017-05-25T18:05:33+00:00", "2017-05-25T18:05:29+00:00"
    }
    assert exported["CFDocument"]["lastChangeDateTime"] == "2017-05-25T18:05:33+00:00"


def test_the_export_validates_against_the_cfpackage_schema() -> None:
    exported = exported_sample()
    assert schema_errors(exported) == []
    # The check is real: OpenSALT's file itself (zone-less times, "sequenceNumber": "1", CFDocumentURI on
    # items) is not valid CASE 1.1, which is why the export is written anew rather than copied.
    assert schema_errors(SAMPLE) != []


def test_export_import_export_gives_the_same_package() -> None:
    exported = exported_sample()
    again = export_case_framework(import_case_framework(json.dumps(exported)), changed_at=datetime.now(UTC))
    assert again == exported


def test_the_stored_form_keeps_everything() -> None:
    framework = import_case_framework(SAMPLE_TEXT)
    stored = json.loads(json.dumps(framework.to_dict()))  # as the database's JSON column gives it back
    assert CompetencyFramework.from_dict(stored) == framework


def test_a_framework_stored_before_these_fields_still_reads() -> None:
    item = {"identifier": "i", "uri": "https://x/i", "full_statement": "S", "human_coding_scheme": ""}
    old = {"identifier": "f", "uri": "https://x/f", "title": "F", "creator": "", "items": [item]}
    framework = CompetencyFramework.from_dict(old)
    assert framework.associations == () and framework.items[0].education_levels == ()
    exported = export_case_framework(framework, changed_at=EXPORTED_AT)
    assert exported["CFItems"][0]["lastChangeDateTime"] == "2026-12-02T09:30:00+00:00"


def problems(package: dict[str, Any]) -> list[str]:
    with pytest.raises(RubricImportError) as caught:
        import_case_framework(json.dumps(package))
    return [str(problem) for problem in caught.value.problems]


def test_bad_associations_and_item_fields_are_refused_at_their_path() -> None:
    package = json.loads(SAMPLE_TEXT)
    package["CFAssociations"][0]["originNodeURI"] = "edfce0e7-dbbf-40d5-af1a-baccabef85e9"
    package["CFAssociations"][1].pop("associationType")
    package["CFAssociations"][2]["sequenceNumber"] = "first"
    package["CFAssociations"][3]["destinationNodeURI"].pop("uri")
    package["CFAssociations"][4]["identifier"] = package["CFAssociations"][3]["identifier"]
    package["CFItems"][0]["lastChangeDateTime"] = "yesterday"
    package["CFItems"][1]["educationLevel"] = ["07", 8]
    assert problems(package) == [
        "$.CFItems[0].lastChangeDateTime: expected a date and time such as 2017-05-25T18:05:33Z, "
        "got 'yesterday'",
        "$.CFItems[1].educationLevel[1]: expected text, got 8",
        "$.CFAssociations[0].originNodeURI: expected a link object with an identifier and a uri, "
        "got 'edfce0e7-dbbf-40d5-af1a-baccabef85e9'",
        "$.CFAssociations[1].associationType: associationType is missing",
        "$.CFAssociations[2].sequenceNumber: expected a whole number, got 'first'",
        "$.CFAssociations[3].destinationNodeURI.uri: uri is missing",
        f"$.CFAssociations[4].identifier: identifier '{package['CFAssociations'][3]['identifier']}' "
        "is already used by $.CFAssociations[3]",
    ]
