"""The staff's view of an activity's feedback as services: who may oversee it, the overview's rows and
states, what changed between revisions, and the delivery of a score as the outbox tells it."""

from __future__ import annotations

import pytest

from lti_tool.feedback import oversight, services
from lti_tool.models import OutboxMessage, User
from lti_tool.permissions import Actor, PermissionDenied, can_oversee_feedback, can_release_feedback
from lti_tool.states import Assessors, CadreRole, FeedbackRelease, OutboxStatus
from tests.feedback.conftest import Course
from tests.feedback.test_services import draft, submit


def test_who_oversees_an_activitys_feedback(course: Course) -> None:
    activity = course.activity()
    revision = submit(course, course.omar, activity)
    admin_user = User(platform_id=course.platform.id, sub="admin", name="Ada Admin")
    course.db.add(admin_user)
    course.db.flush()
    admin_elsewhere = Actor(admin_user.id, "Ada Admin", course.platform.id, course.other_context.id,
                            CadreRole.ADMIN)
    other_designer = Actor(course.designer.user_id, "Maya", course.platform.id, course.other_context.id,
                           CadreRole.DESIGNER)
    other_platform_admin = Actor(admin_user.id, "Ada Admin", course.platform.id + 1, None, CadreRole.ADMIN)

    assert can_oversee_feedback(course.designer, activity) and can_oversee_feedback(admin_elsewhere, activity)
    assert can_release_feedback(admin_elsewhere, revision.assessment)
    for actor in (course.omar, course.rita, course.ana_actor):  # in the course, but not staff
        decision = can_oversee_feedback(actor, activity)
        assert not decision and decision.status == 403
    for actor in (other_designer, course.stranger, other_platform_admin):  # as if it did not exist
        decision = can_oversee_feedback(actor, activity)
        assert not decision and decision.status == 404
        assert can_release_feedback(actor, revision.assessment).status == 404
    with pytest.raises(PermissionDenied):
        oversight.overview(course.db, course.omar, activity, oversight.Filters())
    with pytest.raises(PermissionDenied):
        oversight.history(course.db, other_designer, revision.assessment)


def test_the_overview_has_a_row_per_assessment_and_one_for_each_learner_without(course: Course) -> None:
    activity = course.activity(assessors=Assessors.ANY_MANAGER, release=FeedbackRelease.WHEN_RELEASED)
    submit(course, course.omar, activity)
    services.save_draft(course.db, course.rita, activity, course.ana, draft(course, activity), based_on=0)
    services.save_draft(course.db, course.ana_actor, activity, course.ana, draft(course, activity),
                        based_on=0)
    seen = oversight.overview(course.db, course.designer, activity, oversight.Filters())
    assert [(row.learner.id, row.assessor_label, row.state) for row in seen.rows] == [
        (course.ana.id, "Omar Haddad", "submitted"), (course.ana.id, "Rita Nowak", "draft"),
        (course.ana.id, "Self-assessment", "draft"), (course.ben.id, "Omar Haddad", "not_started")]
    assert seen.counts == {"not_started": 1, "draft": 2, "submitted": 1, "released": 0, "withdrawn": 0}
    assert [user.display_name for user in seen.managers] == ["Omar Haddad", "Rita Nowak"]
    assert seen.rows[0].score == "8 of 12 points (66.67%)"
    assert seen.rows[0].delivery is not None and seen.rows[0].delivery.state == "waiting_release"
    by_rita = oversight.overview(course.db, course.designer, activity,
                                 oversight.Filters(manager_id=course.rita.user_id))
    assert {row.learner.id for row in by_rita.rows} == {course.ana.id}  # Rita is linked to Ana only

    assert oversight.release_all_submitted(course.db, course.designer, activity) == 1
    assert oversight.release_all_submitted(course.db, course.designer, activity) == 0
    released = oversight.overview(course.db, course.designer, activity, oversight.Filters(state="released"))
    (row,) = released.rows
    assert row.delivery is not None and row.delivery.state == "pending"


def test_release_all_is_refused_where_feedback_shows_on_submission(course: Course) -> None:
    activity = course.activity()
    submit(course, course.omar, activity)
    with pytest.raises(services.FeedbackError, match="nothing to release"):
        oversight.release_all_submitted(course.db, course.designer, activity)
    with pytest.raises(PermissionDenied):
        oversight.release_all_submitted(course.db, course.omar, activity)


def test_a_score_that_failed_or_died_shows_the_platforms_reason_and_only_a_dead_one_is_retried(
    course: Course,
) -> None:
    activity = course.activity()
    revision = submit(course, course.omar, activity)
    assessment = revision.assessment
    message = course.db.query(OutboxMessage).one()
    message.status, message.attempts, message.last_error = OutboxStatus.FAILED, 2, "HTTP 503 from the LMS"
    course.db.flush()
    (row, _ben) = oversight.overview(course.db, course.designer, activity, oversight.Filters()).rows
    assert row.delivery is not None and row.delivery.state == "retrying"
    assert row.delivery.reason == "HTTP 503 from the LMS" and "2 time(s)" in row.delivery.label
    with pytest.raises(services.FeedbackError, match="not waiting for a retry"):
        oversight.retry_grade(course.db, course.designer, assessment)

    message.status, message.last_error = OutboxStatus.DEAD, "HTTP 422: user not enrolled"
    course.db.flush()
    with pytest.raises(PermissionDenied):
        oversight.retry_grade(course.db, course.omar, assessment)
    assert oversight.retry_grade(course.db, course.designer, assessment) == message.id
    course.db.refresh(message)
    assert message.status is OutboxStatus.PENDING and message.attempts == 0


def test_what_changed_between_two_revisions(course: Course) -> None:
    activity = course.activity()
    first = submit(course, course.omar, activity)
    changed = draft(course, activity, consistency__level="starting",
                           consistency__comment="Only in the first calls.", strengths="Listens very well.")
    second = services.submit(course.db, course.omar, activity, course.ana, changed, based_on=1)
    changes = oversight.changes_between(first, second)
    (criterion,) = changes.criteria
    assert criterion.title == "Consistency over time"
    assert criterion.level == ("Role model", "Starting") and criterion.points == ("3", "1")
    assert criterion.comment == ("", "Only in the first calls.")
    assert changes.total == ("8 of 12 points (66.67%)", "6 of 12 points (50%)")
    assert changes.strengths == ("Listens well.", "Listens very well.") and changes.next_steps is None
    same = services.submit(course.db, course.omar, activity, course.ana, changed, based_on=2)
    assert oversight.changes_between(second, same).nothing

    history = oversight.history(course.db, course.designer, second.assessment)
    assert [entry.revision.number for entry in history.entries] == [3, 2, 1]
    assert history.entries[-1].changes is None



def test_a_score_never_sent_though_the_learner_sees_it_is_sent_from_the_page(course: Course) -> None:
    activity = course.activity(release=FeedbackRelease.WHEN_RELEASED)
    revision = submit(course, course.omar, activity)
    assert course.db.query(OutboxMessage).count() == 0  # waiting for release: nothing sent
    with pytest.raises(services.FeedbackError):
        oversight.retry_grade(course.db, course.designer, revision.assessment)
    activity.feedback_release = FeedbackRelease.ON_SUBMISSION  # the learner sees it now
    course.db.flush()
    (row, _ben) = oversight.overview(course.db, course.designer, activity, oversight.Filters()).rows
    assert row.delivery is not None and row.delivery.state == "not_sent"
    sent = oversight.retry_grade(course.db, course.designer, revision.assessment)
    message = course.db.get(OutboxMessage, sent)
    assert message is not None and message.dedupe_key == f"{revision.assessment.id}:1"
    (row, _ben) = oversight.overview(course.db, course.designer, activity, oversight.Filters()).rows
    assert row.delivery is not None and row.delivery.state == "pending"
    with pytest.raises(services.FeedbackError):  # once is enough
        oversight.retry_grade(course.db, course.designer, revision.assessment)
