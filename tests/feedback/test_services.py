"""Feedback services on SQLite and PostgreSQL: who may assess whom, drafts with a revision check,
submissions scored and kept as append-only revisions, withdrawal, release, and scores enqueued for the LMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lti_tool.feedback import content, services
from lti_tool.feedback.grades import TOPIC, score_of, scores_url
from lti_tool.models import (
    AssessmentRevision,
    AssessmentWithdrawal,
    ManagerLink,
    OutboxMessage,
    RubricVersion,
)
from lti_tool.permissions import (
    FEEDBACK_NOT_FOUND,
    FEEDBACK_NOT_RELEASED,
    NOT_YOUR_PERSON,
    SELF_ASSESSMENT_ONLY,
    PermissionDenied,
    can_assess,
    can_read_feedback,
)
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import (
    ActivityKind,
    AssessmentStatus,
    Assessors,
    FeedbackRelease,
    ManagerLinkStatus,
)
from tests.feedback.conftest import Course, complete_answers


def draft(course: Course, activity, **overrides: str) -> content.Draft:  # type: ignore[no-untyped-def]
    return content.read_content(complete_answers(**overrides), services.rubric_of(activity))


def submit(course: Course, actor, activity, based_on: int = 0):  # type: ignore[no-untyped-def]
    """Submit the complete answers on Ana."""
    return services.submit(course.db, actor, activity, course.ana, draft(course, activity), based_on=based_on)


def scores(course: Course) -> list[OutboxMessage]:
    return list(course.db.scalars(select(OutboxMessage).where(OutboxMessage.topic == TOPIC)
                                  .order_by(OutboxMessage.id)))


def test_the_line_manager_drafts_then_submits_a_scored_explained_revision(course: Course) -> None:
    activity = course.activity()
    saved = services.save_draft(course.db, course.omar, activity, course.ana, draft(course, activity),
                                based_on=0)
    assert saved.status is AssessmentStatus.DRAFT and saved.draft_revision == 1
    assert scores(course) == []  # a draft goes nowhere

    revision = services.submit(course.db, course.omar, activity, course.ana, draft(course, activity),
                               based_on=1)
    assert revision.number == 1 and revision.total == Decimal(8) and revision.max_possible == Decimal(12)
    assert revision.percentage == Decimal("66.67")
    assert revision.explanation[-1] == "Total: 8 of 12 points = 66.67%"
    assert revision.explanation[0].endswith("'Consistent' = 2 of 3 points")
    assert [line["level"] for line in revision.criteria] == ["consistent", "starting", "role-model",
                                                              "consistent"]
    assert revision.criteria[3]["comment"] == "Plan the next call together."
    assert revision.strengths == "Listens well." and revision.submitted_by_user_id == course.omar.user_id
    assert revision.rubric_version_id == course.rubric_version_id
    assert revision.activity_settings["assessors"] == "line_manager"
    assert revision.activity_settings["points_possible"] == "10"
    assessment = revision.assessment
    assert assessment.status is AssessmentStatus.SUBMITTED and assessment.draft_content is None
    assert course.db.get(RubricVersion, course.rubric_version_id).used_at is not None
    (message,) = scores(course)
    assert message.dedupe_key == f"{assessment.id}:1" and message.payload == {"revision_id": revision.id}
    score = score_of(revision, activity, course.ana)
    assert score["scoreGiven"] == 6.67 and score["scoreMaximum"] == 10.0 and score["userId"] == "ana"
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert score["comment"].endswith("Total: 8 of 12 points = 66.67%")


def test_editing_after_submission_appends_a_revision_and_history_never_changes(course: Course) -> None:
    activity = course.activity()
    first = submit(course, course.omar, activity)
    assessment = first.assessment
    again = services.draft_of(assessment, activity)
    assert again.answer("consistency")["level"] == "role-model"  # the form opens on the submitted answers
    services.save_draft(course.db, course.omar, activity, course.ana,
                        draft(course, activity, consistency__level="starting"),
                        based_on=assessment.draft_revision)
    second = services.submit(course.db, course.omar, activity, course.ana,
                             draft(course, activity, consistency__level="starting"),
                             based_on=assessment.draft_revision)
    assert second.number == 2 and second.total == Decimal(6)
    assert [r.number for r in services.revisions_of(assessment)] == [1, 2]
    assert services.newest_revision(assessment) is second
    assert [m.dedupe_key for m in scores(course)] == [f"{assessment.id}:1", f"{assessment.id}:2"]

    with pytest.raises(ValueError, match="history"), course.db.begin_nested():
        first.strengths = "rewritten"
        course.db.flush()
    course.db.expire_all()
    kept = course.db.get(AssessmentRevision, first.id)
    assert kept is not None and kept.strengths == "Listens well."
    with pytest.raises(ValueError, match="history"), course.db.begin_nested():
        course.db.delete(kept)
        course.db.flush()


def test_a_stale_draft_is_refused_with_the_servers_copy_and_changes_nothing(course: Course) -> None:
    activity = course.activity()
    services.save_draft(course.db, course.omar, activity, course.ana,
                        draft(course, activity, strengths="From the laptop"), based_on=0)
    with pytest.raises(services.DraftConflict) as refused:  # the phone opened the form at revision 0 too
        services.save_draft(course.db, course.omar, activity, course.ana,
                            draft(course, activity, strengths="From the phone"), based_on=0)
    server = refused.value.assessment
    assert server.draft_revision == 1 and server.draft_content["strengths"] == "From the laptop"
    assert "another tab or device" in refused.value.message
    with pytest.raises(services.DraftConflict):
        submit(course, course.omar, activity)
    assert course.db.scalar(select(func.count()).select_from(AssessmentRevision)) == 0


def test_an_incomplete_submission_names_each_field_and_stores_nothing(course: Course) -> None:
    activity = course.activity()
    incomplete = draft(course, activity, **{"consistency__level": "", "next-step__comment": " "})
    with pytest.raises(services.DraftProblems) as refused:
        services.submit(course.db, course.omar, activity, course.ana, incomplete, based_on=0)
    problems = refused.value.draft.problems
    assert problems["level-consistency"].endswith("no level chosen.")
    assert problems["comment-next-step"].endswith("a comment is required.")
    assert refused.value.draft.answer("uses-the-training")["level"] == "consistent"  # what was typed is kept
    assert services.find_assessment(course.db, activity, course.ana, course.omar.user_id) is None

    too_long = content.read_content(complete_answers(strengths="x" * 10_001), services.rubric_of(activity))
    assert too_long.problems == {"strengths": "Strengths is 10,001 characters long; the limit is 10,000."}
    with pytest.raises(services.DraftProblems):
        services.save_draft(course.db, course.omar, activity, course.ana, too_long, based_on=0)
    odd = content.read_content({"criteria": {"consistency": {"level": 7}}, "strengths": ["no"]},
                               services.rubric_of(activity))
    assert set(odd.problems) == {"level-consistency", "strengths"}


def test_who_may_assess_whom(course: Course) -> None:
    line_managed = course.activity()
    any_manager = course.activity(assessors=Assessors.ANY_MANAGER)
    self_only = course.activity(kind=ActivityKind.SELF_ASSESSMENT, assessors=Assessors.LEARNER)
    elsewhere = course.activity(context=course.other_context)

    assert can_assess(course.omar, course.ana, line_managed)
    mentor = can_assess(course.rita, course.ana, line_managed)
    assert not mentor and mentor.status == 403 and "line manager" in mentor.message
    assert can_assess(course.rita, course.ana, any_manager)
    for refused in (can_assess(course.omar, course.chloe, line_managed),   # not linked
                    can_assess(course.rita, course.ben, any_manager),      # linked to someone else
                    can_assess(course.ana_actor, course.ben, line_managed)):  # a learner on another
        assert not refused and refused.status == 404 and refused.message == NOT_YOUR_PERSON
    refused = can_assess(course.omar, course.ana, self_only)
    assert refused.status == 403 and refused.message == SELF_ASSESSMENT_ONLY
    assert can_assess(course.ana_actor, course.ana, self_only) and can_assess(course.ana_actor, course.ana,
                                                                                line_managed)
    assert can_assess(course.omar, course.ana, elsewhere).status == 404   # another course's activity
    assert can_assess(course.stranger, course.ana, line_managed).status == 404

    link = course.db.scalars(select(ManagerLink).where(ManagerLink.manager_id == course.omar.user_id,
                                                       ManagerLink.learner_id == course.ana.id)).one()
    link.status = ManagerLinkStatus.ENDED
    course.db.flush()
    assert can_assess(course.omar, course.ana, line_managed).status == 404
    assert can_assess(course.rita, course.ana, line_managed)  # the oldest active link is Rita's now
    with pytest.raises(PermissionDenied):
        services.save_draft(course.db, course.omar, line_managed, course.ana, draft(course, line_managed),
                            based_on=0)


def test_the_learner_reads_only_released_feedback_on_themself(course: Course) -> None:
    waiting = course.activity(release=FeedbackRelease.WHEN_RELEASED)
    revision = submit(course, course.omar, waiting)
    assessment = revision.assessment
    assert scores(course) == []  # not released: the gradebook would reveal it

    refused = can_read_feedback(course.ana_actor, assessment)
    assert refused.status == 404 and refused.message == FEEDBACK_NOT_RELEASED
    assert services.feedback_for_learner(course.db, course.ana_actor, waiting).given == []
    for outsider in (course.ben_actor, course.rita, course.stranger):
        decision = can_read_feedback(outsider, assessment)
        assert not decision and decision.status == 404
    assert can_read_feedback(course.ben_actor, assessment).message == FEEDBACK_NOT_FOUND
    assert can_read_feedback(course.omar, assessment) and can_read_feedback(course.designer, assessment)

    with pytest.raises(PermissionDenied):
        services.release(course.db, course.omar, assessment)
    services.release(course.db, course.designer, assessment)
    services.release(course.db, course.designer, assessment)  # twice: one score
    assert can_read_feedback(course.ana_actor, assessment)
    assert [m.dedupe_key for m in scores(course)] == [f"{assessment.id}:1"]
    (given,) = services.feedback_for_learner(course.db, course.ana_actor, waiting).given
    assert given == (assessment, revision)

    services.acknowledge(course.db, course.ana_actor, assessment, "Thank you, I will plan it.")
    assert assessment.acknowledged_revision == 1 and assessment.learner_reply == "Thank you, I will plan it."
    with pytest.raises(services.FeedbackError):
        services.acknowledge(course.db, course.ana_actor, assessment, "x" * 5001)


def test_withdrawal_needs_a_reason_hides_the_feedback_and_keeps_the_reason(course: Course) -> None:
    activity = course.activity()
    revision = submit(course, course.omar, activity)
    assessment = revision.assessment
    with pytest.raises(services.FeedbackError, match="Say why"):
        services.withdraw(course.db, course.omar, assessment, "  ")
    with pytest.raises(PermissionDenied):
        services.withdraw(course.db, course.rita, assessment, "not mine")
    services.withdraw(course.db, course.omar, assessment, "Wrong person: I meant Ben.")
    assert assessment.status is AssessmentStatus.WITHDRAWN
    (kept,) = course.db.scalars(select(AssessmentWithdrawal)).all()
    assert kept.reason == "Wrong person: I meant Ben." and kept.revision_number == 1
    assert not can_read_feedback(course.ana_actor, assessment)
    with pytest.raises(services.FeedbackError, match="not submitted"):
        services.withdraw(course.db, course.omar, assessment, "again")
    again = services.submit(course.db, course.omar, activity, course.ana, draft(course, activity),
                            based_on=assessment.draft_revision)
    assert again.number == 2 and assessment.status is AssessmentStatus.SUBMITTED


def test_scores_go_to_the_lms_only_for_the_graded_assessment(course: Course) -> None:
    ungraded = course.activity(points=None)
    submit(course, course.omar, ungraded)
    graded = course.activity()
    own = submit(course, course.ana_actor, graded)
    assert own.assessment.assessor_role.value == "self"
    assert scores(course) == []  # the self-assessment beside a manager's feedback stays in Cadre
    self_activity = course.activity(kind=ActivityKind.SELF_ASSESSMENT, assessors=Assessors.LEARNER)
    services.submit(course.db, course.ana_actor, self_activity, course.ana, draft(course, self_activity),
                    based_on=0)
    assert len(scores(course)) == 1
    assert scores_url("https://lms.example/api/lineitems/7?type_id=1") == \
        "https://lms.example/api/lineitems/7/scores?type_id=1"


def test_my_people_with_their_status(course: Course) -> None:
    activity = course.activity(assessors=Assessors.ANY_MANAGER,
                               due_at=datetime.now(UTC) - timedelta(days=2, hours=3))
    services.save_draft(course.db, course.omar, activity, course.ana, draft(course, activity), based_on=0)
    people = services.my_people(course.db, course.omar, activity)
    assert [(p.learner.name, p.label) for p in people] == [
        ("Ana Lima", "Draft, overdue by 3 days"), ("Ben Okafor", "Not started, overdue by 3 days")]
    services.submit(course.db, course.omar, activity, course.ben, draft(course, activity), based_on=0)
    people = services.my_people(course.db, course.omar, activity)
    assert [p.label for p in people] == ["Draft, overdue by 3 days", "Submitted"]
    assert [p.learner.name for p in services.my_people(course.db, course.rita, activity)] == ["Ana Lima"]
    assert services.my_people(course.db, course.rita, course.activity()) == []  # not Ana's line manager


def test_my_people_and_can_assess_agree_on_who_the_line_manager_is(course: Course) -> None:
    """Chloé's mentor (Rita) was linked before her line manager (Omar): only Omar lists and assesses her
    where only line managers assess, and both do where any linked manager may."""
    db, chloe = course.db, course.chloe
    course.link_chloe_to_a_mentor_then_a_line_manager()
    line_managers_only, any_manager = course.activity(), course.activity(assessors=Assessors.ANY_MANAGER)
    for activity, rita_may in ((line_managers_only, False), (any_manager, True)):
        omar_lists = [p.learner.id for p in services.my_people(db, course.omar, activity)]
        rita_lists = [p.learner.id for p in services.my_people(db, course.rita, activity)]
        assert (chloe.id in omar_lists, chloe.id in rita_lists) == (True, rita_may), activity.assessors
        assert bool(can_assess(course.omar, chloe, activity)) is True
        assert bool(can_assess(course.rita, chloe, activity)) is rita_may


def test_can_assess_reads_the_links_once_until_the_session_writes(course: Course) -> None:
    """The view and the service both ask on every autosave: one read of the links serves both, and a link
    ended in the same transaction is seen by the next question."""
    db, activity = course.db, course.activity()
    statements: list[str] = []
    listen = lambda _conn, _cursor, statement, *_rest: statements.append(statement)  # noqa: E731
    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert can_assess(course.omar, course.ana, activity)
        assert can_assess(course.omar, course.ana, activity)
        reads = [s for s in statements if "manager_links" in s]
        assert len(reads) == 1, reads
        link = db.scalars(select(ManagerLink).where(ManagerLink.manager_id == course.omar.user_id,
                                                    ManagerLink.learner_id == course.ana.id)).one()
        link.status = ManagerLinkStatus.ENDED
        refused = can_assess(course.omar, course.ana, activity)  # autoflush writes the change first
        assert not refused and refused.message == NOT_YOUR_PERSON
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_the_pinned_rubric_is_read_by_its_hash_once_parsed_and_follows_an_edit_in_place(
    course: Course,
) -> None:
    db, activity = course.db, course.activity()
    title = services.rubric_of(activity).title
    version_id = activity.rubric_version_id
    assert version_id is not None
    statements: list[str] = []
    listen = lambda _conn, _cursor, statement, *_rest: statements.append(statement)  # noqa: E731
    fresh = Session(bind=db.connection())  # another request's session: the version is not loaded there
    event.listen(db.get_bind(), "before_cursor_execute", listen)
    try:
        assert rubric_library.rubric_of_version(fresh, version_id).title == title
        (read,) = [s for s in statements if "rubric_versions" in s]
        assert "content_hash" in read and "rubric_versions.content," not in read, read
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listen)
    rubric_id = fresh.get(RubricVersion, version_id).rubric_id  # type: ignore[union-attr]
    fresh.close()
    rubric = rubric_library.get_rubric(db, course.designer, rubric_id)
    assert rubric_library.current_version(rubric).used_at is None  # unused: an edit replaces it in place
    edited = rubric_library.version_content(rubric_library.current_version(rubric)).to_dict()
    edited["title"] = "Edited in place"
    outcome = rubric_library.update_rubric(db, course.designer, rubric_id, edited,
                                           expected_lock_version=rubric.lock_version)
    assert not outcome.new_version and outcome.version.id == version_id
    with Session(bind=db.connection()) as other:
        assert rubric_library.rubric_of_version(other, version_id).title == "Edited in place"


def test_a_new_rubric_version_leaves_submitted_revisions_as_they_were(course: Course) -> None:
    activity = course.activity()
    revision = submit(course, course.omar, activity)
    version = course.db.get(RubricVersion, course.rubric_version_id)
    assert version is not None and version.used_at is not None
    assert rubric_library.mark_version_used(course.db, version) is False
    assert revision.rubric_version_id == version.id


def settings_of(activity, **changes):  # type: ignore[no-untyped-def]
    from lti_tool.deliverables.services import ActivitySettings

    values = dict(title=activity.title, instructions=activity.instructions or "",
                  manager_briefing=activity.manager_briefing or "",
                  rubric_id=activity.rubric_version.rubric_id, due_at=activity.due_at,
                  due_timezone=activity.due_timezone or "UTC", points_possible=activity.points_possible,
                  grades_to_lms=activity.grades_to_lms, assessors=activity.assessors,
                  work_product_required=activity.work_product_required,
                  feedback_release=activity.feedback_release)
    values.update(changes)
    return ActivitySettings(**values)


def test_scores_waiting_for_a_release_go_once_feedback_shows_on_submission(course: Course) -> None:
    from lti_tool.deliverables.services import update_settings

    waiting = course.activity(release=FeedbackRelease.WHEN_RELEASED)
    revision = submit(course, course.omar, waiting)
    assert scores(course) == []
    update_settings(course.db, course.designer, waiting.id, settings_of(waiting, title="Renamed"),
                    expected_lock_version=waiting.lock_version)
    assert scores(course) == []  # still waiting for staff
    update_settings(course.db, course.designer, waiting.id,
                    settings_of(waiting, feedback_release=FeedbackRelease.ON_SUBMISSION),
                    expected_lock_version=waiting.lock_version)
    assert [m.dedupe_key for m in scores(course)] == [f"{revision.assessment.id}:1"]
    # Back and forth: the revision already enqueued is not enqueued again.
    for release in (FeedbackRelease.WHEN_RELEASED, FeedbackRelease.ON_SUBMISSION):
        update_settings(course.db, course.designer, waiting.id,
                        settings_of(waiting, feedback_release=release),
                        expected_lock_version=waiting.lock_version)
    assert len(scores(course)) == 1


def test_an_activity_that_starts_sending_grades_sends_the_scores_already_given(course: Course) -> None:
    from lti_tool.deliverables.services import update_settings

    ungraded = course.activity(points=None)
    revision = submit(course, course.omar, ungraded)
    own = submit(course, course.ana_actor, ungraded)  # a self-assessment beside it: stays in Cadre
    assert scores(course) == [] and own.assessment.assessor_role.value == "self"
    update_settings(course.db, course.designer, ungraded.id,
                    settings_of(ungraded, points_possible=Decimal("10"), grades_to_lms=True),
                    expected_lock_version=ungraded.lock_version)
    assert [m.dedupe_key for m in scores(course)] == [f"{revision.assessment.id}:1"]
