"""Cadre's events become learning records in their own transaction: each event records exactly its
statements with the right verbs, withdrawals and revisions void (never edit) what they take back, and a
rolled-back request records none."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import get_session, utcnow
from lti_tool.feedback import content, services
from lti_tool.lti.session import csrf_exempt
from lti_tool.models import Launch, Membership, ResourceLink
from lti_tool.permissions import Actor, public
from lti_tool.records import events as learning_records
from lti_tool.records.models import Statement
from lti_tool.records.store import record
from lti_tool.relationships import services as relationships
from lti_tool.states import CadreRole, ManagerLinkRelation, MessageType
from tests.feedback.conftest import Course, complete_answers, course  # noqa: F401 - the fixture
from tests.records.delivery_support import build_records_app, statement
from xapi.vocabulary import Verb


@pytest.fixture
def in_app(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def recorded(db: Session) -> list[Statement]:
    return list(db.scalars(select(Statement).order_by(Statement.seq)))


def verbs(db: Session) -> list[str]:
    return [row.verb for row in recorded(db)]


def submit(course: Course, activity):  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture's name
    draft = content.read_content(complete_answers(), services.rubric_of(activity))
    existing = services.find_assessment(course.db, activity, course.ana, course.omar.user_id)
    return services.submit(course.db, course.omar, activity, course.ana, draft,
                           based_on=existing.draft_revision if existing else 0)


def test_a_submission_records_one_scored_statement_about_the_learner(course: Course, in_app: Flask) -> None:  # noqa: F811
    activity = course.activity()
    revision = submit(course, activity)
    [scored] = recorded(course.db)
    assert scored.verb == Verb.SCORED.iri and scored.person_id == course.ana.id
    assert (scored.context_id, scored.activity_kind) == (course.context.id, "manager_feedback")
    body = scored.body
    assert body["actor"]["account"] == {"homePage": "https://lms.example", "name": "ana"}
    assert body["context"]["instructor"]["account"]["name"] == "omar"
    assert body["result"]["score"] == {"raw": 8, "min": 0, "max": 12, "scaled": 0.6667}
    assert len(body["result"]["extensions"]) == 1 and revision.number == 1


def test_a_revision_records_scored_and_updated_and_voids_the_one_it_supersedes(course: Course,  # noqa: F811
                                                                                in_app: Flask) -> None:
    activity = course.activity()
    submit(course, activity)
    first = recorded(course.db)[0]
    submit(course, activity)
    assert verbs(course.db) == [Verb.SCORED.iri, Verb.SCORED.iri, Verb.UPDATED.iri, Verb.VOIDED.iri]
    rows = recorded(course.db)
    assert rows[3].voids_statement_id == first.id
    assert course.db.scalar(select(Statement.voided).where(Statement.id == first.id)) is True
    assert rows[1].voided is False


def test_a_withdrawal_voids_the_scored_statement(course: Course, in_app: Flask) -> None:  # noqa: F811
    activity = course.activity()
    submit(course, activity)
    assessment = services.find_assessment(course.db, activity, course.ana, course.omar.user_id)
    services.withdraw(course.db, course.omar, assessment, "Wrong person: I meant Ben.")
    scored, voiding = recorded(course.db)
    assert voiding.verb == Verb.VOIDED.iri and voiding.voids_statement_id == scored.id and scored.voided
    assert voiding.body["actor"]["account"]["name"] == "omar" and voiding.person_id == course.ana.id


def test_a_reply_is_a_comment_and_an_acknowledgement_without_one_records_nothing(course: Course,  # noqa: F811
                                                                                  in_app: Flask) -> None:
    activity = course.activity()
    submit(course, activity)
    assessment = services.find_assessment(course.db, activity, course.ana, course.omar.user_id)
    services.acknowledge(course.db, course.ana_actor, assessment, "")
    assert verbs(course.db) == [Verb.SCORED.iri]
    services.acknowledge(course.db, course.ana_actor, assessment, "Thank you, I will plan it.")
    services.acknowledge(course.db, course.ana_actor, assessment, "Thank you, I will plan it.")  # again
    assert verbs(course.db) == [Verb.SCORED.iri, Verb.COMMENTED.iri]
    comment = recorded(course.db)[1]
    assert comment.body["result"]["response"] == "Thank you, I will plan it."
    assert comment.body["context"]["statement"]["id"] == recorded(course.db)[0].id


def _chloe_and_rita_in_the_course(course: Course) -> Actor:  # noqa: F811
    """Chloé (a learner linked to nobody) and Rita launched from the course: both are its people."""
    for user_id, role in ((course.chloe.id, CadreRole.LEARNER), (course.rita.user_id, CadreRole.MANAGER)):
        course.db.add(Membership(user_id=user_id, context_id=course.context.id, lti_roles=[], role=role))
    course.db.flush()
    return Actor(course.chloe.id, "Chloé", course.platform.id, course.context.id, CadreRole.LEARNER)


def test_a_nomination_and_its_acceptance_each_record_one_statement(course: Course, in_app: Flask) -> None:  # noqa: F811
    chloe = _chloe_and_rita_in_the_course(course)
    link = relationships.nominate(course.db, chloe, course.rita.user_id, ManagerLinkRelation.MENTOR)
    assert verbs(course.db) == [Verb.NOMINATED.iri]
    nominated = recorded(course.db)[0]
    assert nominated.person_id == course.chloe.id and nominated.body["context"]["instructor"]["account"][
        "name"] == "rita"
    relationships.answer_nomination(course.db, course.rita, link.id, accept=True)
    assert verbs(course.db) == [Verb.NOMINATED.iri, Verb.ACCEPTED.iri]
    accepted = recorded(course.db)[1]
    assert accepted.body["actor"]["account"]["name"] == "rita" and accepted.person_id == course.chloe.id


def test_a_declined_nomination_records_no_acceptance(course: Course, in_app: Flask) -> None:  # noqa: F811
    chloe = _chloe_and_rita_in_the_course(course)
    link = relationships.nominate(course.db, chloe, course.rita.user_id, ManagerLinkRelation.MENTOR)
    relationships.answer_nomination(course.db, course.rita, link.id, accept=False)
    assert verbs(course.db) == [Verb.NOMINATED.iri]


def _launch(course: Course, resource_link_id: int | None,  # noqa: F811
            message_type: MessageType = MessageType.RESOURCE_LINK) -> Launch:
    now = utcnow()
    row = Launch(id=secrets.token_urlsafe(32), platform_id=course.platform.id, user_id=course.ana.id,
                 context_id=course.context.id, resource_link_id=resource_link_id, message_type=message_type,
                 role=CadreRole.LEARNER, claims={}, created_at=now, expires_at=now + timedelta(hours=1))
    course.db.add(row)
    course.db.flush()
    return row


def test_a_launch_of_an_activity_records_launched_once(course: Course, in_app: Flask) -> None:  # noqa: F811
    placement = ResourceLink(context_id=course.context.id, resource_link_id="rl-1", title="Feedback")
    course.db.add(placement)
    course.db.flush()
    activity = course.activity()
    activity.resource_link_id = placement.id
    launch = _launch(course, placement.id)
    learning_records.launched(course.db, launch, activity.id)
    learning_records.launched(course.db, launch, activity.id)  # the same launch again: one statement
    [launched] = recorded(course.db)
    assert launched.verb == Verb.LAUNCHED.iri and launched.person_id == course.ana.id
    assert launch.id not in str(launched.body)  # the launch token never reaches a statement
    learning_records.launched(course.db, _launch(course, None), None)  # no placement
    learning_records.launched(course.db, _launch(course, placement.id), None)  # a placement, no activity yet
    learning_records.launched(course.db, _launch(course, placement.id, MessageType.DEEP_LINKING), activity.id)
    assert len(recorded(course.db)) == 1


# -- the unit of work ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_with_test_route(migrated_engine, database_url):  # type: ignore[no-untyped-def]
    app = build_records_app(database_url)

    @app.post("/records-test/<int:status>")
    @public("a test route: records a statement and answers the status asked for")
    @csrf_exempt
    def record_then_answer(status: int) -> tuple[str, int]:
        from flask import request

        record(get_session(), statement(statement_id=request.form["id"]), platform_id=None, context_id=None,
               activity_kind=None, person_id=None)
        return "answered", status

    return app


def test_a_rolled_back_request_records_no_statement(app_with_test_route: Flask, migrated_engine) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.database import empty_all_tables

    client = app_with_test_route.test_client()
    try:
        kept, refused = statement()["id"], statement()["id"]
        assert client.post("/records-test/200", data={"id": kept}).status_code == 200
        assert client.post("/records-test/422", data={"id": refused}).status_code == 422
        with migrated_engine.connect() as connection:
            stored = set(connection.scalars(select(Statement.id)))
        assert stored == {kept}
    finally:
        empty_all_tables(migrated_engine)


def test_each_version_of_a_work_product_is_one_submitted_statement(course: Course, in_app: Flask,  # noqa: F811
                                                                    tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lti_tool.deliverables.work_products import submit_work_product
    from lti_tool.states import ActivityKind, Assessors

    settings = in_app.config["CADRE"].model_copy(update={"upload_dir": str(tmp_path / "uploads")})
    review = course.activity(kind=ActivityKind.WORK_PRODUCT_REVIEW, assessors=Assessors.ANY_MANAGER)
    review.work_product_required = True
    first = submit_work_product(course.db, course.ana_actor, review, "My call notes.", [], settings=settings)
    submit_work_product(course.db, course.ana_actor, review, "Shorter notes.", [], settings=settings)
    assert verbs(course.db) == [Verb.SUBMITTED.iri, Verb.SUBMITTED.iri]
    submitted = recorded(course.db)[0]
    assert submitted.person_id == course.ana.id and submitted.activity_kind == "work_product_review"
    assert submitted.body["actor"]["account"]["name"] == "ana" and first.number == 1
