"""validate(): ralph's xAPI models plus Cadre's own rules, each refusal saying where and why."""

from __future__ import annotations

import copy
import time

import pytest

from xapi import InvalidStatement, build, validate
from xapi import examples as ex
from xapi.vocabulary import PROFILE_IRI


def scored() -> dict:
    return copy.deepcopy(build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (manager)"]))


def refusal(statement: object) -> InvalidStatement:
    with pytest.raises(InvalidStatement) as caught:
        validate(statement)  # type: ignore[arg-type]
    return caught.value


def test_a_valid_statement_is_answered_as_given() -> None:
    statement = scored()
    assert validate(statement) is statement


def test_a_bad_account_home_page_names_its_place_and_nothing_from_the_other_agent_kinds() -> None:
    statement = scored()
    statement["actor"]["account"]["homePage"] = "not an iri"
    error = refusal(statement)
    assert str(error) == ("invalid xAPI statement: actor.account.homePage: Value error, 'not an iri' is not "
                          "a valid 'IRI'.")
    assert error.problems == ("actor.account.homePage: Value error, 'not an iri' is not a valid 'IRI'.",)


def test_a_raw_score_above_the_maximum_is_refused() -> None:
    statement = scored()
    statement["result"]["score"]["raw"] = 99
    assert "result.score: Value error, raw cannot be greater than max" in str(refusal(statement))


def test_an_empty_value_is_refused() -> None:
    statement = scored()
    statement["object"]["definition"]["name"] = {}
    assert "object.definition.name" in str(refusal(statement))


def test_a_platform_beside_a_statement_ref_is_refused() -> None:
    statement = scored()
    statement["object"] = {"objectType": "StatementRef", "id": statement["id"]}
    assert "platform properties can only be used if the Statement's Object" in str(refusal(statement))


def test_a_misspelled_property_is_refused() -> None:
    statement = scored()
    statement["reslt"] = statement.pop("result")
    assert "reslt" in str(refusal(statement))


def test_a_bad_language_tag_is_refused() -> None:
    statement = scored()
    statement["context"]["language"] = "english please"
    assert "context.language" in str(refusal(statement))


def test_a_verb_outside_cadres_profile_is_refused() -> None:
    statement = scored()
    statement["verb"] = {"id": "http://adlnet.gov/expapi/verbs/scord", "display": {"en": "scord"}}
    assert str(refusal(statement)) == (
        "invalid xAPI statement: verb.id: 'http://adlnet.gov/expapi/verbs/scord' is not a verb of Cadre's "
        f"profile ({PROFILE_IRI})"
    )


def test_a_cadre_extension_outside_the_profile_is_refused_and_others_pass() -> None:
    statement = scored()
    statement["context"]["extensions"][f"{PROFILE_IRI}/extensions/rubric-versoin"] = 2
    assert "rubric-versoin' is not an extension of Cadre's profile" in str(refusal(statement))
    statement = scored()
    statement["context"]["extensions"]["https://w3id.org/xapi/lms/extensions/role"] = "learner"
    validate(statement)


def test_a_statement_without_id_is_refused_and_one_without_timestamp_left_to_the_store() -> None:
    statement = scored()
    del statement["id"]
    error = refusal(statement)
    assert error.problems == (
        "id: Cadre stores only statements with an id (deterministic: see xapi.statements)",
    )
    statement = scored()
    del statement["timestamp"]
    assert validate(statement) is statement


@pytest.mark.parametrize("stamp", ["2026-12-03T09:30:00", "2026-12-03T09:30:00.000", "2026-12-03"])
def test_a_timestamp_without_zone_is_refused(stamp: str) -> None:
    statement = scored()
    statement["timestamp"] = stamp
    assert "timestamp: must be ISO 8601 with a time zone" in str(refusal(statement))


@pytest.mark.parametrize(
    "stamp", ["2026-12-03T09:30:00Z", "2026-12-03T10:30:00+01:00", "2026-12-03T04:30:00-0500"]
)
def test_a_timestamp_with_a_zone_passes(stamp: str) -> None:
    statement = scored()
    statement["timestamp"] = stamp
    assert validate(statement) is statement


def test_many_problems_are_counted_not_all_spelled_out() -> None:
    statement = scored()
    statement.update(verb={"id": "urn:x:y", "display": {"en": "y"}}, timestamp="2026-12-03T09:30:00")
    del statement["id"]
    statement["context"]["extensions"][f"{PROFILE_IRI}/extensions/a"] = 1
    statement["context"]["extensions"][f"{PROFILE_IRI}/extensions/b"] = 1
    error = refusal(statement)
    assert len(error.problems) == 5
    assert str(error).endswith("(and 2 more)")


def test_something_else_than_an_object_is_refused() -> None:
    assert "a statement is a JSON object, not list" in str(refusal([scored()]))


def test_validation_is_fast_enough_to_run_on_every_stored_statement() -> None:
    statements = [build(ex.DEPLOYMENT, event) for event in ex.EXAMPLES.values()]
    rounds = 30
    started = time.perf_counter()
    for _ in range(rounds):
        for statement in statements:
            validate(statement)
    per_statement = (time.perf_counter() - started) / (rounds * len(statements))
    assert per_statement < 0.01, f"{per_statement * 1e6:.0f} µs per statement"
