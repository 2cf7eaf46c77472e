"""Recording statements in Cadre's store: in the caller's transaction, once per id, with the rows the queries
and the deliveries need; invalid statements refused before anything is stored."""

from __future__ import annotations

import pytest
from flask import Flask
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.records import lrs as registry
from lti_tool.records.models import Statement, StatementActivity, StatementAgent, StatementDelivery
from lti_tool.records.store import InvalidStatement, agent_key, record
from lti_tool.settings import Settings
from lti_tool.states import DeliveryStatus
from tests.records.delivery_support import COMPLETED, LAUNCHED, make_course, statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@pytest.fixture
def in_app(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield app


def _record(db: Session, body: dict, course) -> bool:  # type: ignore[no-untyped-def]
    return record(db, body, platform_id=course.platform_id, context_id=course.context_id,
                  activity_kind="manager_feedback", person_id=course.person_id)


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_statement_is_stored_whole_with_its_query_columns_and_related_rows(db: Session,
                                                                              in_app: Flask) -> None:
    course = make_course(db)
    instructor = {"objectType": "Agent", "account": {"homePage": course.issuer, "name": "manager-1"}}
    body = statement(course, verb=COMPLETED, number=3)
    body["context"]["instructor"] = instructor
    body["context"]["registration"] = "0c5c2f2a-0000-4000-8000-000000000001"

    assert _record(db, body, course) is True

    row = db.scalars(select(Statement)).one()
    assert (row.id, row.verb, row.object_id) == (body["id"], COMPLETED, body["object"]["id"])
    assert row.actor_key == f"account:{course.issuer}|learner-3"
    assert (row.context_id, row.person_id, row.activity_kind) == (course.context_id, course.person_id,
                                                                  "manager_feedback")
    assert row.registration == "0c5c2f2a-0000-4000-8000-000000000001" and row.voided is False
    assert row.body["authority"]["account"] == {"homePage": "http://localhost", "name": "cadre"}
    assert row.body["stored"].endswith("Z") and row.body["timestamp"] == "2026-12-01T09:00:00.000Z"
    assert {key: row.body[key] for key in body} == body  # the rest exactly as built
    assert set(db.execute(select(StatementActivity.activity_id, StatementActivity.role))) == {
        (body["object"]["id"], "object"), (body["context"]["contextActivities"]["parent"][0]["id"], "parent")}
    assert set(db.execute(select(StatementAgent.agent_key, StatementAgent.role))) == {
        (row.actor_key, "actor"), (agent_key(instructor), "instructor"),
        ("account:http://localhost|cadre", "authority")}


def test_the_same_statement_id_again_is_ignored(db: Session, in_app: Flask) -> None:
    course = make_course(db)
    registry.add_store(db, name="lrs", endpoint="http://127.0.0.1:9/xapi", username="u", password="p",
                       courses=[], verbs=[])
    body = statement(course)
    assert _record(db, body, course) is True
    assert _record(db, dict(body, verb={"id": COMPLETED}), course) is False
    assert _count(db, Statement) == 1 and _count(db, StatementDelivery) == 1
    assert db.scalar(select(Statement.verb)) == LAUNCHED


def test_a_voiding_statement_marks_its_target_and_is_delivered_too(db: Session, in_app: Flask) -> None:
    course = make_course(db)
    registry.add_store(db, name="lrs", endpoint="http://127.0.0.1:9/xapi", username="u", password="p",
                       courses=[], verbs=[])
    target = statement(course)
    _record(db, target, course)
    voiding = statement(course, verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    del voiding["context"]
    _record(db, voiding, course)
    rows = {row.id: row for row in db.scalars(select(Statement))}
    assert rows[target["id"]].voided is True and rows[voiding["id"]].voided is False
    assert rows[voiding["id"]].voids_statement_id == target["id"]
    assert _count(db, StatementDelivery) == 2


def test_a_voiding_statement_cannot_be_voided(db: Session, in_app: Flask) -> None:
    course = make_course(db)
    first = statement(course)
    _record(db, first, course)
    voiding = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": first["id"]})
    _record(db, voiding, course)
    _record(db, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": voiding["id"]}), course)
    assert db.scalar(select(Statement.voided).where(Statement.id == voiding["id"])) is False


@pytest.mark.parametrize(("change", "message"), [
    ({"verb": {"id": "not an iri"}}, "verb"),
    ({"actor": {"objectType": "Agent"}}, "actor"),
    ({"id": None}, "id"),
    ({"stored": "2026-12-01T09:00:00Z"}, "stored"),
    ({"authority": {"mbox": "mailto:someone@example.org"}}, "authority"),
    ({"timestamp": "yesterday"}, "timestamp"),
])
def test_invalid_statements_are_refused_before_anything_is_stored(db: Session, in_app: Flask, change: dict,
                                                                   message: str) -> None:
    course = make_course(db)
    body = {key: value for key, value in {**statement(course), **change}.items() if value is not None}
    with pytest.raises(InvalidStatement, match=message):
        _record(db, body, course)
    assert _count(db, Statement) == 0 and _count(db, StatementActivity) == 0


def test_each_lrs_gets_the_statements_its_filters_take(db: Session, in_app: Flask) -> None:
    first, second = make_course(db, "course-a"), make_course(db, "course-b")
    every = registry.add_store(db, name="every", endpoint="http://127.0.0.1:9/a", username="u", password="p",
                               courses=[], verbs=[])
    by_lms_id = registry.add_store(db, name="course-a", endpoint="http://127.0.0.1:9/b", username="u",
                                   password="p", courses=["course-a"], verbs=[])
    by_cadre_id = registry.add_store(db, name="second", endpoint="http://127.0.0.1:9/c", username="u",
                                     password="p", courses=[f"context:{second.context_id}"], verbs=[])
    completions = registry.add_store(db, name="completions", endpoint="http://127.0.0.1:9/d", username="u",
                                     password="p", courses=[], verbs=[COMPLETED])
    launch_a, done_b = statement(first), statement(second, verb=COMPLETED)
    _record(db, launch_a, first)
    _record(db, done_b, second)
    outside = statement(verb=COMPLETED)
    record(db, outside, platform_id=first.platform_id, context_id=None, activity_kind=None, person_id=None)

    joined = select(StatementDelivery.lrs_id, Statement.id).join(
        Statement, Statement.seq == StatementDelivery.statement_seq)
    sent = {(lrs_id, statement_id) for lrs_id, statement_id in db.execute(joined)}
    assert sent == {
        (every.id, launch_a["id"]), (every.id, done_b["id"]), (every.id, outside["id"]),
        (by_lms_id.id, launch_a["id"]),
        (by_cadre_id.id, done_b["id"]),
        (completions.id, done_b["id"]), (completions.id, outside["id"]),
    }
    assert set(db.scalars(select(StatementDelivery.status))) == {DeliveryStatus.PENDING}


@pytest.mark.parametrize("endpoint", [
    "htps://cadre:s3cret-pw@lrs.invalid/xapi", "https://cadre:s3cret-pw@lrs.invalid/xapi",
    "https://lrs.invalid/xapi?key=s3cret-pw", "lrs.invalid",
])
def test_an_unusable_lrs_endpoint_is_refused_at_start_up_without_its_password(endpoint: str) -> None:
    """Refused when the settings are read (every launch and submission records a statement: a bad endpoint
    found then would fail them all), with a message that names the variable and never the password."""
    with pytest.raises(ValidationError) as refused:
        Settings(lrs_endpoint=endpoint, _env_file=None)  # type: ignore[call-arg]
    assert "CADRE_LRS_ENDPOINT" in str(refused.value) and "s3cret-pw" not in str(refused.value)
    assert Settings(lrs_endpoint="  ", _env_file=None).lrs_endpoint == ""  # type: ignore[call-arg]


def test_the_environment_lrs_is_made_when_the_first_statement_is_recorded(db: Session, app: Flask) -> None:
    settings = app.config["CADRE"]
    original = (settings.lrs_endpoint, settings.lrs_username)
    settings.lrs_endpoint, settings.lrs_username = "http://127.0.0.1:9/xapi/", "env-user"
    app.extensions.pop("cadre.records.environment_lrs_synced", None)
    try:
        with app.app_context():
            course = make_course(db)
            _record(db, statement(course), course)
        store = db.scalars(select(registry.LearningRecordStore)).one()
        assert (store.name, store.endpoint, store.username, store.from_environment) == (
            "environment", "http://127.0.0.1:9/xapi", "env-user", True)
        assert store.password_encrypted is None  # read from the environment when sending
        assert _count(db, StatementDelivery) == 1
    finally:
        settings.lrs_endpoint, settings.lrs_username = original
        app.extensions.pop("cadre.records.environment_lrs_synced", None)


def test_a_voiding_statement_goes_to_every_lrs_that_has_its_target_whatever_its_filters(
    db: Session, in_app: Flask
) -> None:
    course = make_course(db)
    completions = registry.add_store(db, name="completions", endpoint="http://127.0.0.1:9/d", username="u",
                                     password="p", courses=[], verbs=[COMPLETED])
    launches = registry.add_store(db, name="launches", endpoint="http://127.0.0.1:9/e", username="u",
                                  password="p", courses=[], verbs=[LAUNCHED])
    target = statement(course, verb=COMPLETED)
    _record(db, target, course)
    voiding = statement(course, verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    del voiding["context"]
    _record(db, voiding, course)
    joined = select(StatementDelivery.lrs_id, Statement.id).join(
        Statement, Statement.seq == StatementDelivery.statement_seq)
    # The LRS that takes completions had the target, so it hears of the voiding; the one that takes only
    # launches never had it and gets neither.
    assert set(db.execute(joined)) == {(completions.id, target["id"]), (completions.id, voiding["id"])}
    assert launches.id not in set(db.scalars(select(StatementDelivery.lrs_id)))
