"""Every builder's statement passes ralph's xAPI models; ids are deterministic; refusals are readable."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ralph.models.xapi.base.statements import BaseXapiStatement

from xapi import Deployment, IdentityMode, InvalidEvent, build, validate
from xapi import examples as ex
from xapi.events import (
    Activity,
    AssessorRole,
    CriterionResult,
    Evaluated,
    Launched,
    Person,
    Revised,
    Rubric,
    Score,
    Voided,
)
from xapi.statements import BUILDERS, evaluated_id, superseded_id, voided_id
from xapi.vocabulary import PROFILE_VERSION_IRI, Extension, Verb

IDENTITY_MODES = list(IdentityMode)


@pytest.mark.parametrize("mode", IDENTITY_MODES)
@pytest.mark.parametrize("name", list(ex.EXAMPLES))
def test_every_builder_passes_ralph_and_cadre_validation(name: str, mode: IdentityMode) -> None:
    deployment = dataclasses.replace(ex.DEPLOYMENT, identity=mode)
    statement = build(deployment, ex.EXAMPLES[name])
    BaseXapiStatement.model_validate(statement)
    assert validate(statement) is statement
    assert uuid.UUID(statement["id"]).version == 5
    assert statement["timestamp"].endswith("Z")


def test_every_event_class_has_an_example() -> None:
    assert {type(event) for event in ex.EXAMPLES.values()} == set(BUILDERS)


@pytest.mark.parametrize("name", list(ex.EXAMPLES))
def test_every_statement_names_the_profile_version_as_category(name: str) -> None:
    statement = build(ex.DEPLOYMENT, ex.EXAMPLES[name])
    categories = statement["context"]["contextActivities"]["category"]
    assert [category["id"] for category in categories] == [PROFILE_VERSION_IRI]


def test_the_assessment_result_carries_score_completion_and_each_criterion() -> None:
    statement = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (manager)"])
    assert statement["actor"]["account"] == {"homePage": ex.PLATFORM, "name": ex.LEARNER.lti_sub}
    assert statement["verb"]["id"] == Verb.SCORED.iri
    assert statement["result"]["score"] == {"scaled": 0.5625, "raw": 4.5, "min": 0, "max": 8}
    assert statement["result"]["completion"] is True
    assert "success" not in statement["result"]
    criteria = statement["result"]["extensions"][Extension.CRITERIA.iri]
    assert criteria[0] == {
        "criterion": "opening", "level": "clear", "levelNumber": 3, "levelCount": 4, "points": 3,
        "maxPoints": 4, "competencies": list(ex.CRITERIA[0].competencies),
    }
    assert criteria[1]["points"] == 1.5
    context = statement["context"]
    assert context["instructor"]["account"]["name"] == ex.MANAGER.lti_sub
    assert context["contextActivities"]["parent"][0]["id"] == ex.COURSE.iri
    assert context["platform"] == "Cadre"
    assert context["language"] == "en"
    assert context["extensions"] == {
        Extension.ACTIVITY_KIND.iri: "manager_feedback",
        Extension.ASSESSOR_ROLE.iri: "manager",
        Extension.ASSESSMENT_REVISION.iri: 1,
        Extension.RUBRIC_ID.iri: "customer-call",
        Extension.RUBRIC_VERSION.iri: 2,
    }


def test_a_self_assessment_has_no_instructor_and_a_levels_only_one_no_score() -> None:
    statement = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (self, levels only)"])
    assert "instructor" not in statement["context"]
    assert "score" not in statement["result"]
    assert statement["result"]["extensions"][Extension.CRITERIA.iri][0]["points"] is None


def test_success_appears_only_where_the_event_gives_it() -> None:
    statement = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (peer)"])
    assert statement["result"]["success"] is True
    assert statement["context"]["extensions"][Extension.ASSESSOR_ROLE.iri] == "peer"


def test_criteria_come_from_the_stored_breakdown() -> None:
    line = {"criterion": "c1", "title": "C1", "level": "l2", "level_title": "L2", "level_number": 2,
            "level_count": 3, "points": "2.5", "max_points": "4", "weight": "1", "contribution": "2.5",
            "max_contribution": "4", "comment": "private words"}
    result = CriterionResult.from_breakdown(line, competencies=("CODE-1",))
    assert result == CriterionResult("c1", "l2", 2, 3, Decimal("2.5"), Decimal("4"), ("CODE-1",))
    levels_only = CriterionResult.from_breakdown(line | {"points": None, "max_points": None})
    assert levels_only.points is None and levels_only.max_points is None


# --- deterministic ids -------------------------------------------------------------------------------


def test_building_an_event_twice_gives_the_same_statement() -> None:
    for event in ex.EXAMPLES.values():
        assert build(ex.DEPLOYMENT, event) == build(ex.DEPLOYMENT, event)


def test_every_example_has_its_own_id() -> None:
    ids = [build(ex.DEPLOYMENT, event)["id"] for event in ex.EXAMPLES.values()]
    assert len(set(ids)) == len(ids)


def test_two_deployments_give_two_ids_for_the_same_event() -> None:
    other = Deployment("https://cadre-staging.example.com")
    event = ex.EXAMPLES["launched"]
    assert build(ex.DEPLOYMENT, event)["id"] != build(other, event)["id"]


def test_the_identity_mode_and_the_time_do_not_change_the_id() -> None:
    event = ex.EXAMPLES["evaluated (manager)"]
    by_mail = Deployment(ex.DEPLOYMENT.public_url, identity=IdentityMode.MBOX)
    later = dataclasses.replace(event, at=event.at + timedelta(minutes=5))
    first = build(ex.DEPLOYMENT, event)["id"]
    assert build(by_mail, event)["id"] == build(ex.DEPLOYMENT, later)["id"] == first


ids = st.one_of(
    st.integers(min_value=0, max_value=10**12), st.text(min_size=1, max_size=20).filter(str.strip)
)


@given(first=ids, second=ids, first_revision=st.integers(1, 50), second_revision=st.integers(1, 50))
def test_assessment_ids_are_equal_exactly_when_the_events_are(first, second, first_revision, second_revision):
    def scored(assessment_id, revision):
        event = dataclasses.replace(ex.EXAMPLES["evaluated (manager)"], assessment_id=assessment_id,
                                    revision=revision)
        return build(ex.DEPLOYMENT, event)["id"]

    same_event = str(first) == str(second) and first_revision == second_revision
    assert (scored(first, first_revision) == scored(second, second_revision)) == same_event
    assert scored(first, first_revision) == evaluated_id(ex.DEPLOYMENT, ex.PLATFORM, first, first_revision)


@given(first=ids, second=ids)
def test_launch_ids_are_equal_exactly_when_the_launches_are(first, second):
    def launch(launch_id):
        return build(ex.DEPLOYMENT, dataclasses.replace(ex.EXAMPLES["launched"], launch_id=launch_id))["id"]

    assert (launch(first) == launch(second)) == (str(first) == str(second))


def test_references_point_at_the_statements_they_name() -> None:
    scored = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (manager)"])
    revision_two = build(ex.DEPLOYMENT, dataclasses.replace(ex.EXAMPLES["evaluated (manager)"], revision=2))
    reply = build(ex.DEPLOYMENT, ex.EXAMPLES["commented"])
    assert reply["context"]["statement"] == {"objectType": "StatementRef", "id": scored["id"]}
    assert reply["result"]["response"] == ex.EXAMPLES["commented"].text
    revised = build(ex.DEPLOYMENT, ex.EXAMPLES["revised"])
    assert revised["context"]["statement"]["id"] == revision_two["id"]
    assert superseded_id(ex.DEPLOYMENT, ex.EXAMPLES["revised"]) == scored["id"]
    nominated = build(ex.DEPLOYMENT, ex.EXAMPLES["manager nominated"])
    accepted = build(ex.DEPLOYMENT, ex.EXAMPLES["nomination accepted"])
    assert accepted["context"]["statement"]["id"] == nominated["id"]
    assert accepted["object"]["id"] == nominated["object"]["id"]
    scheduled = build(ex.DEPLOYMENT, ex.EXAMPLES["follow-up scheduled"])
    answered = build(ex.DEPLOYMENT, ex.EXAMPLES["follow-up answered"])
    assert answered["context"]["statement"]["id"] == scheduled["id"]
    assert answered["object"]["id"] == scheduled["object"]["id"] == ex.FOLLOW_UP.iri


# --- voiding -----------------------------------------------------------------------------------------


def test_a_voiding_statement_refers_to_its_target_and_carries_nothing_else() -> None:
    target = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (manager)"])["id"]
    statement = build(ex.DEPLOYMENT, Voided(ex.MANAGER, target, ex.AT))
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert statement["object"] == {"objectType": "StatementRef", "id": target}
    assert set(statement) == {"id", "actor", "verb", "object", "context", "timestamp"}
    assert "platform" not in statement["context"]  # xAPI: platform only when the object is an Activity
    assert statement["id"] == voided_id(ex.DEPLOYMENT, target) != target


def test_voiding_twice_gives_one_statement_and_cadre_voids_as_itself() -> None:
    target = str(uuid.uuid4())
    by_cadre = build(ex.DEPLOYMENT, Voided(None, target, ex.AT))
    again = build(ex.DEPLOYMENT, Voided(None, target.upper(), ex.AT + timedelta(hours=1)))
    assert by_cadre["id"] == again["id"]
    assert by_cadre["actor"] == {"objectType": "Agent",
                                 "account": {"homePage": ex.DEPLOYMENT.public_url, "name": "cadre"}}


def test_a_voided_statement_needs_a_statement_id() -> None:
    with pytest.raises(InvalidEvent, match="statement's UUID"):
        Voided(None, "evaluated:41:1", ex.AT)


# --- actor identity ----------------------------------------------------------------------------------


def test_account_mode_never_sends_the_email() -> None:
    statement = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (manager)"])
    assert "ana.lopez" not in str(statement) and "sam.okafor" not in str(statement)


def test_mbox_mode_sends_the_address_and_sha1_mode_its_hash() -> None:
    event = ex.EXAMPLES["evaluated (manager)"]
    by_mail = build(Deployment(ex.DEPLOYMENT.public_url, identity=IdentityMode.MBOX), event)
    assert by_mail["actor"] == {"objectType": "Agent", "mbox": "mailto:ana.lopez@example.com"}
    assert by_mail["context"]["instructor"]["mbox"] == "mailto:sam.okafor@example.com"
    hashed = build(Deployment(ex.DEPLOYMENT.public_url, identity="mbox_sha1sum"), event)
    assert hashed["actor"] == {
        "objectType": "Agent",
        "mbox_sha1sum": hashlib.sha1(b"mailto:ana.lopez@example.com").hexdigest(),  # noqa: S324
    }


def test_the_address_is_compared_in_lower_case() -> None:
    shouting = dataclasses.replace(ex.LEARNER, email="  Ana.Lopez@Example.COM ")
    event = dataclasses.replace(ex.EXAMPLES["launched"], actor=shouting)
    statement = build(Deployment(ex.DEPLOYMENT.public_url, identity=IdentityMode.MBOX), event)
    assert statement["actor"]["mbox"] == "mailto:ana.lopez@example.com"


@pytest.mark.parametrize("mode", [IdentityMode.MBOX, IdentityMode.MBOX_SHA1SUM])
def test_a_person_without_email_keeps_the_account_in_every_mode(mode: IdentityMode) -> None:
    event = ex.EXAMPLES["evaluated (peer)"]  # the peer has no e-mail
    statement = build(Deployment(ex.DEPLOYMENT.public_url, identity=mode), event)
    assert statement["context"]["instructor"]["account"] == {"homePage": ex.PLATFORM, "name": ex.PEER.lti_sub}


def test_an_unknown_identity_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="openid"):
        Deployment("https://cadre.example.com", identity="openid")


# --- refused input -----------------------------------------------------------------------------------


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(InvalidEvent, match=r"Launched\.at must carry a time zone"):
        Launched(ex.LEARNER, ex.COURSE, ex.FEEDBACK, 1, datetime(2026, 12, 3, 9, 30))  # noqa: DTZ001


def test_times_are_written_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    event = dataclasses.replace(ex.EXAMPLES["launched"], at=datetime(2026, 12, 3, 10, 30, 0, 123456, paris))
    assert build(ex.DEPLOYMENT, event)["timestamp"] == "2026-12-03T09:30:00.123Z"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Person("moodle.example.com", "1"), r"Person\.platform_issuer must be an absolute IRI"),
        (lambda: Person(ex.PLATFORM, "  "), r"Person\.lti_sub must be a non-empty string"),
        (lambda: Activity(ex.FEEDBACK.iri, "x", "quiz"), r"Activity\.kind 'quiz' is not a Cadre activity"),
        (lambda: Activity(ex.FEEDBACK.iri, "", "manager_feedback"), r"Activity\.title"),
        (lambda: Rubric("r", 0), r"Rubric\.version must be an integer of 1 or more"),
        (lambda: Score(9, 8), r"Score\.raw \(9\) must lie between minimum \(0\) and maximum \(8\)"),
        (lambda: Score(0, 0), r"Score\.maximum \(0\) must be greater than Score\.minimum \(0\)"),
        (lambda: Score("lots", 8), r"Score\.raw must be a number"),
        (lambda: CriterionResult("c", "l", points="NaN"), r"CriterionResult\.points must be a finite number"),
        (lambda: dataclasses.replace(ex.EXAMPLES["evaluated (manager)"], assessor_role=AssessorRole.SELF),
         r"'self' exactly when the assessor is the learner"),
        (lambda: dataclasses.replace(ex.EXAMPLES["evaluated (manager)"], assessor_role="boss"),
         r"assessor_role must be manager, peer or self"),
        (lambda: dataclasses.replace(ex.EXAMPLES["evaluated (manager)"], revision=0),
         r"Evaluated\.revision must be an integer of 1 or more"),
        (lambda: dataclasses.replace(ex.EXAMPLES["revised"], revision=1), r"Revised\.revision must be 2"),
        (lambda: dataclasses.replace(ex.EXAMPLES["launched"], launch_id=""), r"Launched\.launch_id"),
        (lambda: dataclasses.replace(ex.EXAMPLES["commented"], text=" "), r"Commented\.text"),
        (lambda: dataclasses.replace(ex.EXAMPLES["survey answered"], answers={"q": None}),
         r"answers\['q'\] must be a string or a number"),
        (lambda: dataclasses.replace(ex.EXAMPLES["survey answered"], answers={"q": float("nan")}),
         r"answers\['q'\] must be a finite number"),
        (lambda: dataclasses.replace(ex.EXAMPLES["manager nominated"], nominee=ex.LEARNER),
         r"cannot nominate themself"),
        (lambda: dataclasses.replace(ex.EXAMPLES["refresher completed"], refresher=ex.FEEDBACK),
         r"refresher\.kind must be 'refresher'"),
        (lambda: Deployment("cadre.example.com"), r"Deployment\.public_url must be an http\(s\) URL"),
    ],
)
def test_bad_events_are_refused_with_the_field_and_the_reason(make, message) -> None:
    with pytest.raises(InvalidEvent, match=message):
        make()


def test_an_unknown_event_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="no statement is built from a dict"):
        build(ex.DEPLOYMENT, {"verb": "launched"})


def test_a_self_assessment_by_the_same_account_with_another_email_is_still_self() -> None:
    same_account = dataclasses.replace(ex.LEARNER, email=None)
    event = Evaluated(ex.LEARNER, same_account, AssessorRole.SELF, ex.COURSE, ex.FEEDBACK, 1, 1, ex.AT)
    assert "instructor" not in build(ex.DEPLOYMENT, event)["context"]


def test_revised_and_superseded_agree_on_the_learners_platform() -> None:
    event = Revised(ex.MANAGER, ex.LEARNER, ex.COURSE, ex.FEEDBACK, 41, 3, ex.AT)
    assert superseded_id(ex.DEPLOYMENT, event) == evaluated_id(ex.DEPLOYMENT, ex.PLATFORM, 41, 2)


@pytest.mark.parametrize("mode", ["account", "mbox", "mbox_sha1sum"])
def test_every_identity_setting_makes_a_deployment(mode: str) -> None:
    from lti_tool.settings import Settings

    settings = Settings(actor_identity=mode, public_url="https://cadre.example.com/")
    deployment = Deployment(settings.public_url, identity=settings.actor_identity)
    assert deployment.identity == IdentityMode(mode)
    assert deployment.public_url == "https://cadre.example.com"


def test_an_unknown_identity_setting_is_refused_with_the_choices() -> None:
    from pydantic import ValidationError

    from lti_tool.settings import Settings

    with pytest.raises(ValidationError, match="'account', 'mbox' or 'mbox_sha1sum'"):
        Settings(actor_identity="openid")
