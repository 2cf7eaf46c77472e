"""The coaching log's rules: logging, changing and deleting one's own sessions, the 80/20 share of minutes,
bad input on every field, and who may not read what (another person's log by guessed ids, a designer and
an unshared well-being check, another course, roles)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lti_tool.db import utcnow
from lti_tool.models import Activity
from lti_tool.permissions import (
    COACHING_LOG_KEEPERS_ONLY,
    COACHING_SESSION_NOT_FOUND,
    WELLBEING_PRIVATE,
    PermissionDenied,
    can_read_wellbeing,
)
from lti_tool.programme import coaching_log
from lti_tool.states import ActivityKind
from tests.programme.conftest import Course


def typed(**changes: str) -> dict[str, str]:
    return {"held_on": utcnow().date().isoformat(), "kind": "coaching", "minutes": "40",
            "topic": "Delegating the rota", "challenge": "I keep doing it myself",
            "next_step": "Hand the rota to Ana on Monday", "stress": "", "in_control": "",
            "not_in_control": "", "wellbeing_shared": "", **changes}


@pytest.fixture
def log(course: Course) -> Activity:
    return course.activity(ActivityKind.COACHING_LOG, title="Coach more, tell less")


def test_two_sessions_give_the_share_of_coaching_minutes(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    coaching_log.log_session(course.db, course.omar, log, typed(minutes="80"))
    coaching_log.log_session(course.db, course.omar, log, typed(kind="mentoring", minutes="20"))
    coaching_log.log_session(course.db, course.managers[1], log, typed(kind="mentoring", minutes="100"))

    mine = coaching_log.my_share(course.db, course.omar, log)
    assert (mine.sessions, mine.coaching_minutes, mine.mentoring_minutes) == (2, 80, 20)
    assert mine.coaching_percent == 80 and mine.mentoring_percent == 20 and mine.meets_aim
    assert [row.minutes for row in coaching_log.my_sessions(course.db, course.omar, log)] == [20, 80]

    whole = coaching_log.course_share(course.db, course.designer, log)
    assert (whole.people, whole.sessions, whole.total_minutes, whole.coaching_percent) == (2, 3, 200, 40)
    assert not whole.meets_aim


def test_no_share_before_any_minute(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    share = coaching_log.my_share(course.db, course.omar, log)
    assert share.coaching_percent is None and share.mentoring_percent is None and not share.meets_aim


def test_a_learner_logs_the_coaching_they_receive(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    row = coaching_log.log_session(course.db, course.ana_actor, log, typed())
    assert row.owner_id == course.ana.id


def test_the_owner_changes_and_deletes_a_session(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    row = coaching_log.log_session(course.db, course.omar, log, typed())
    coaching_log.change_session(course.db, course.omar, row, typed(kind="mentoring", minutes="15"))
    assert (row.kind.value, row.minutes) == ("mentoring", 15)
    coaching_log.delete_session(course.db, course.omar, row)
    assert coaching_log.my_sessions(course.db, course.omar, log) == []


@pytest.mark.parametrize(("field", "value", "says"), [
    ("held_on", "yesterday", "as a date"),
    ("held_on", "2026-02-30", "as a date"),
    ("held_on", "1999-12-31", "from 2000"),
    ("kind", "lecturing", "coaching or mentoring"),
    ("minutes", "", "whole number"),
    ("minutes", "0", "whole number"),
    ("minutes", "601", "whole number"),
    ("minutes", "45.5", "whole number"),
    ("minutes", "-5", "whole number"),
    ("minutes", "٤٥", "whole number"),
    ("topic", "", "Say what the topic"),
    ("topic", "x" * 201, "200 characters"),
    ("challenge", "x" * 2001, "2000 characters"),
    ("next_step", "x" * 2001, "2000 characters"),
    ("stress", "6", "1 to 5"),
    ("in_control", "x" * 2001, "2000 characters"),
    ("not_in_control", "bell\x07", "control characters"),
])
def test_bad_input_is_refused_field_by_field(course: Course, log: Activity, field: str,
                                             value: str, says: str) -> None:
    with pytest.raises(coaching_log.CoachingProblems) as refused:
        coaching_log.log_session(course.db, course.omar, log, typed(**{field: value}))
    assert list(refused.value.problems) == [field]
    assert says in refused.value.problems[field]


def test_a_date_after_today_is_refused_and_today_is_not(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    today = utcnow().date()
    with pytest.raises(coaching_log.CoachingProblems) as refused:
        coaching_log.log_session(course.db, course.omar, log,
                                 typed(held_on=(today + timedelta(days=2)).isoformat()))
    assert "future" in refused.value.problems["held_on"]
    logged = coaching_log.log_session(course.db, course.omar, log, typed(held_on=today.isoformat()))
    assert logged.held_on == today


def test_another_persons_session_is_not_found_by_guessed_id(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    row = coaching_log.log_session(course.db, course.omar, log, typed())
    for someone in (course.managers[1], course.ana_actor, course.lena):
        with pytest.raises(PermissionDenied) as refused:
            coaching_log.own_session(course.db, someone, log, row.id)
        assert refused.value.decision.status == 404
        assert refused.value.decision.message == COACHING_SESSION_NOT_FOUND
        with pytest.raises(PermissionDenied):
            coaching_log.change_session(course.db, someone, row, typed(topic="mine now"))
        with pytest.raises(PermissionDenied):
            coaching_log.delete_session(course.db, someone, row)
    with pytest.raises(PermissionDenied) as refused:
        coaching_log.own_session(course.db, course.omar, log, row.id + 1000)
    assert refused.value.decision.status == 404
    assert row.topic == "Delegating the rota"


def test_a_session_of_another_activity_is_not_found_through_this_one(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    other_log = course.activity(ActivityKind.COACHING_LOG, title="Another log")
    row = coaching_log.log_session(course.db, course.omar, other_log, typed())
    with pytest.raises(PermissionDenied) as refused:
        coaching_log.own_session(course.db, course.omar, log, row.id)
    assert refused.value.decision.status == 404


def test_the_wellbeing_check_is_private_until_shared(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    private = coaching_log.log_session(course.db, course.omar, log, typed(
        stress="4", in_control="My calendar", not_in_control="The reorganisation"))
    assert can_read_wellbeing(course.omar, private)
    refused = can_read_wellbeing(course.designer, private)
    assert (refused.status, refused.message) == (403, WELLBEING_PRIVATE)
    assert can_read_wellbeing(course.managers[1], private).status == 404
    assert can_read_wellbeing(course.other_designer, private).status == 404
    assert coaching_log.shared_checks(course.db, course.designer, log) == []

    coaching_log.change_session(course.db, course.omar, private, {**coaching_log.form_of(private),
                                                                    "wellbeing_shared": "1"})
    assert can_read_wellbeing(course.designer, private)
    assert can_read_wellbeing(course.managers[1], private).status == 404  # shared with designers only
    assert [row.id for row in coaching_log.shared_checks(course.db, course.designer, log)] == [private.id]


def test_a_shared_session_without_a_wellbeing_check_shows_nothing(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    coaching_log.log_session(course.db, course.omar, log, typed(wellbeing_shared="1"))
    assert coaching_log.shared_checks(course.db, course.designer, log) == []


def test_designers_do_not_keep_a_log_and_keepers_do_not_read_the_totals(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied) as refused:
        coaching_log.log_session(course.db, course.designer, log, typed())
    assert (refused.value.decision.status, refused.value.decision.message) == (403, COACHING_LOG_KEEPERS_ONLY)
    for keeper in (course.omar, course.ana_actor):
        with pytest.raises(PermissionDenied) as refused:
            coaching_log.course_share(course.db, keeper, log)
        assert refused.value.decision.status == 403


def test_another_course_is_not_found(course: Course, log) -> None:  # type: ignore[no-untyped-def]
    for refused_call in (
        lambda: coaching_log.log_activity(course.db, course.stranger, log.id),
        lambda: coaching_log.overview_activity(course.db, course.other_designer, log.id),
        lambda: coaching_log.log_activity(course.db, course.omar, 2147483647),
    ):
        with pytest.raises(PermissionDenied) as refused:
            refused_call()
        assert refused.value.decision.status == 404


def test_a_survey_is_not_a_coaching_log(course: Course) -> None:
    survey_activity = course.activity(ActivityKind.MANAGER_INSIGHT_SURVEY)
    with pytest.raises(PermissionDenied) as refused:
        coaching_log.log_activity(course.db, course.omar, survey_activity.id)
    assert refused.value.decision.status == 404
