"""The coaching log's aim, set by the designer (80% until then), and its sessions as learning records: a
logged session is one attended statement (its kind, day and minutes, never what was said or how its
owner felt); a change that a statement shows voids it and records the new version; a deletion voids it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.models import Activity, AuditEntry
from lti_tool.permissions import PermissionDenied
from lti_tool.programme import coaching_log
from lti_tool.programme.coaching_models import CoachingSettings
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind
from tests.programme.conftest import Course
from tests.programme.test_coaching_services import typed
from xapi.vocabulary import ActivityType, Extension, Verb


@pytest.fixture
def log(course: Course) -> Activity:
    return course.activity(ActivityKind.COACHING_LOG, title="Coach more, tell less")


@pytest.fixture
def in_app(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def test_the_aim_is_80_until_the_designer_sets_another_and_the_share_is_read_against_it(
    course: Course, log: Activity,
) -> None:
    coaching_log.log_session(course.db, course.omar, log, typed(minutes="70"))
    coaching_log.log_session(course.db, course.omar, log, typed(kind="mentoring", minutes="30"))
    before = coaching_log.my_share(course.db, course.omar, log)
    assert (before.aim_percent, before.coaching_percent, before.meets_aim) == (80, 70, False)
    assert before.points_short == 10
    assert coaching_log.save_aim(course.db, course.designer, log, " 65 % ") == 65
    after = coaching_log.my_share(course.db, course.omar, log)
    assert (after.aim_percent, after.meets_aim, after.points_short) == (65, True, None)
    assert coaching_log.course_share(course.db, course.designer, log).aim_percent == 65
    assert coaching_log.save_aim(course.db, course.designer, log, "100") == 100
    assert coaching_log.my_share(course.db, course.omar, log).points_short == 30
    entries = course.db.scalars(select(AuditEntry).where(AuditEntry.action == "coaching_log.aim")).all()
    assert [entry.details["aim_percent"] for entry in entries] == [65, 100]


@pytest.mark.parametrize("value", ["", "0", "101", "80.5", "-10", "eighty", "٨٠", "1e2"])
def test_a_bad_aim_is_refused_and_the_saved_one_kept(course: Course, log: Activity, value: str) -> None:
    coaching_log.save_aim(course.db, course.designer, log, "70")
    with pytest.raises(coaching_log.CoachingProblems) as refused:
        coaching_log.save_aim(course.db, course.designer, log, value)
    assert list(refused.value.problems) == ["aim_percent"]
    assert "from 1 to 100" in refused.value.problems["aim_percent"]
    assert coaching_log.aim_of(course.db, log) == 70


def test_only_the_courses_designers_set_the_aim_of_a_coaching_log(course: Course, log: Activity) -> None:
    for someone, status in ((course.omar, 403), (course.ana_actor, 403), (course.lena, 403),
                            (course.other_designer, 404), (course.stranger, 404)):
        with pytest.raises(PermissionDenied) as refused:
            coaching_log.save_aim(course.db, someone, log, "50")
        assert refused.value.decision.status == status, someone
    with pytest.raises(PermissionDenied) as refused:
        coaching_log.save_aim(course.db, course.designer, course.activity(), "50")  # a survey
    assert refused.value.decision.status == 404
    assert course.db.scalars(select(CoachingSettings)).all() == []


def _statements(course: Course) -> list[Statement]:
    return list(course.db.scalars(select(Statement).order_by(Statement.seq)))


def test_a_logged_session_is_one_attended_statement_without_what_was_said_or_felt(
    course: Course, log: Activity, in_app: Flask,
) -> None:
    row = coaching_log.log_session(course.db, course.omar, log, typed(
        minutes="45", stress="5", in_control="Which calls I join", not_in_control="The reorganisation",
        wellbeing_shared="1"))
    (statement,) = _statements(course)
    body = statement.body
    assert body["verb"]["id"] == Verb.ATTENDED.iri and statement.person_id == course.omar.user_id
    assert body["object"]["id"].endswith(f"/xapi/id/coaching-session/{row.id}")
    assert body["object"]["definition"]["type"] == ActivityType.MEETING.iri
    assert body["context"]["contextActivities"]["parent"][0]["id"].endswith(f"/activity/{log.id}")
    assert body["context"]["extensions"][Extension.COACHING_KIND.iri] == "coaching"
    assert body["result"] == {"completion": True, "duration": "PT45M"}
    assert body["timestamp"].startswith(row.held_on.isoformat())
    text = json.dumps(body)
    for private in ("Which calls I join", "The reorganisation", row.topic, row.challenge, row.next_step,
                    "stress"):
        assert private not in text


def test_a_change_voids_the_statement_of_the_version_it_replaces_and_a_deletion_the_last_one(
    course: Course, log: Activity, in_app: Flask,
) -> None:
    row = coaching_log.log_session(course.db, course.omar, log, typed(minutes="45"))
    (first,) = _statements(course)
    coaching_log.change_session(course.db, course.omar, row, {**coaching_log.form_of(row),
                                                                "topic": "A new topic", "stress": "3"})
    _, same, voiding = _statements(course)
    assert same.body["id"] != first.body["id"] and same.body["result"] == first.body["result"]
    assert voiding.body["verb"]["id"] == Verb.VOIDED.iri and voiding.body["object"]["id"] == first.body["id"]
    coaching_log.change_session(course.db, course.omar, row, {**coaching_log.form_of(row),
                                                                "kind": "mentoring", "minutes": "30"})
    *_, changed, voiding = _statements(course)
    assert changed.body["result"]["duration"] == "PT30M"
    assert changed.body["context"]["extensions"][Extension.COACHING_KIND.iri] == "mentoring"
    assert voiding.body["object"]["id"] == same.body["id"]
    coaching_log.delete_session(course.db, course.omar, row)
    deleted = _statements(course)[-1]
    assert deleted.body["verb"]["id"] == Verb.VOIDED.iri
    assert deleted.body["object"]["id"] == changed.body["id"]
    assert "A new topic" not in json.dumps([statement.body for statement in _statements(course)])
