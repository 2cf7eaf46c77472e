"""Six-month follow-ups: made from survey answers and from managers' feedback (at once, or by the hourly
job), due after the offset or a course date, reminded once per occasion, answered again with "what
changed?", refused to everyone but their manager, and the change report per gap, criterion and learner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from lti_tool.db import session_scope
from lti_tool.feedback import content
from lti_tool.feedback import services as feedback
from lti_tool.invitations import reminders
from lti_tool.models import Activity, AssessmentRevision, OutboxMessage
from lti_tool.outbox import run_due_jobs
from lti_tool.permissions import FOLLOW_UP_NOT_FOUND, PermissionDenied
from lti_tool.programme import follow_ups, survey
from lti_tool.programme.models import FollowUp
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import ActivityKind, Assessors, FollowUpStatus
from tests.feedback.conftest import complete_answers
from tests.programme.conftest import Course, mistake

TEMPLATE = "manager-feedback-on-training-transfer"


def follow_up_of(course: Course, source: Activity, **changes: str) -> Activity:
    activity = course.activity(ActivityKind.SIX_MONTH_FOLLOW_UP, configured=False, title="Six months on")
    typed = {"source_activity_id": str(source.id), **changes}
    follow_ups.save_settings(course.db, course.designer, activity, follow_ups.FollowUpInput(**typed))
    return activity


def make_due(course: Course, activity: Activity) -> None:
    course.db.execute(update(FollowUp).where(FollowUp.activity_id == activity.id)
                      .values(due_at=datetime.now(UTC) - timedelta(hours=1)))
    course.db.expire_all()


def feedback_activity(course: Course) -> Activity:
    rubric = rubric_library.create_from_template(course.db, course.designer, TEMPLATE)
    return course.activity(ActivityKind.MANAGER_FEEDBACK, rubric_version_id=rubric.current_version_id,
                           assessors=Assessors.LINE_MANAGER, title="Feedback from your manager")


def give_feedback(course: Course, activity: Activity, **levels: str) -> Any:
    rubric = feedback.rubric_of(activity)
    answers = {f"{criterion}__level": level for criterion, level in levels.items()}
    return feedback.submit(course.db, course.omar, activity, course.ana,
                           content.read_content(complete_answers(**answers), rubric), based_on=0)


def test_a_survey_answer_gets_a_follow_up_due_after_182_days(course: Course) -> None:
    source = course.activity()
    activity = follow_up_of(course, source)
    assert activity.configured_at is not None  # saving the follow-up's settings sets it up
    response = course.answer(course.omar, source, mistake("Late"))
    (row,) = follow_ups.my_follow_ups(course.db, course.omar, activity)
    assert row.source_response_id == response.id and row.learner_id is None
    assert row.due_at - row.anchored_at == timedelta(days=182)
    course.answer(course.omar, source, mistake("Later"))  # a revision: still one follow-up
    assert len(follow_ups.my_follow_ups(course.db, course.omar, activity)) == 1
    assert follow_ups.my_follow_ups(course.db, course.managers[1], activity) == []


def test_answers_given_before_the_follow_up_existed_and_a_course_date(course: Course) -> None:
    source = course.activity()
    course.answer(course.omar, source, mistake("Late"))
    activity = follow_up_of(course, source, anchor="course_date", course_date="2027-01-15", offset_days="90")
    (row,) = course.db.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id)).all()
    assert row.due_at == datetime(2027, 1, 15, 9, tzinfo=UTC) + timedelta(days=90)


@pytest.mark.parametrize(("changes", "field"), [
    ({"source_activity_id": ""}, "source_activity_id"),
    ({"source_activity_id": "999999"}, "source_activity_id"),
    ({"offset_days": "0"}, "offset_days"), ({"offset_days": "1001"}, "offset_days"),
    ({"offset_days": "six months"}, "offset_days"), ({"anchor": "whenever"}, "anchor"),
    ({"anchor": "course_date", "course_date": ""}, "course_date"),
    ({"course_date": "31/12/2027"}, "course_date"), ({"course_date": "1999-01-01"}, "course_date"),
])
def test_bad_follow_up_settings_store_nothing(course: Course, changes: dict[str, str], field: str) -> None:
    source = course.activity()
    activity = course.activity(ActivityKind.SIX_MONTH_FOLLOW_UP, configured=False)
    typed = {"source_activity_id": str(source.id), **changes}
    with pytest.raises(survey.SurveyProblems) as refused:
        follow_ups.save_settings(course.db, course.designer, activity, follow_ups.FollowUpInput(**typed))
    assert field in refused.value.problems
    assert follow_ups.settings_of(course.db, activity) is None and activity.configured_at is None


def test_another_courses_activity_cannot_be_followed_and_managers_cannot_configure(course: Course) -> None:
    elsewhere = course.activity(context=course.other_context)
    activity = course.activity(ActivityKind.SIX_MONTH_FOLLOW_UP)
    with pytest.raises(survey.SurveyProblems):
        follow_ups.save_settings(course.db, course.designer, activity,
                                 follow_ups.FollowUpInput(source_activity_id=str(elsewhere.id)))
    with pytest.raises(PermissionDenied):
        follow_ups.save_settings(course.db, course.omar, activity,
                                 follow_ups.FollowUpInput(source_activity_id=str(course.activity().id)))


def test_the_manager_answers_the_survey_again_and_the_report_compares_each_gap(course: Course) -> None:
    source = course.activity()
    omar, rita = course.managers[:2]
    course.answer(omar, source, mistake("Late to calls", impact="4"), mistake("No summary", impact="2"))
    course.answer(rita, source, mistake("late to calls", frequency="daily", impact="5"))
    survey.merge(course.db, course.designer, source, ["late to calls"], name="Punctuality")
    activity = follow_up_of(course, source)
    (row,) = follow_ups.my_follow_ups(course.db, omar, activity)
    with pytest.raises(follow_ups.FollowUpError) as early:
        follow_ups.answer_survey_again(course.db, omar, row, [mistake("Late to calls")], "Better",
                                       based_on=0, submitting=True)
    assert early.value.status == 409
    make_due(course, activity)
    row = follow_ups.follow_up_of(course.db, omar, activity, row.id)
    with pytest.raises(survey.SurveyProblems) as no_words:
        follow_ups.answer_survey_again(course.db, omar, row, [mistake("Late to calls", impact="1")], " ",
                                       based_on=0, submitting=True)
    assert "what_changed" in no_words.value.problems
    follow_ups.answer_survey_again(course.db, omar, row, [mistake("Late to calls", impact="1")],
                                   "Calls start on time since the new rota.", based_on=0, submitting=True)
    assert row.status is FollowUpStatus.ANSWERED and row.response_id is not None

    report = follow_ups.change_report(course.db, course.designer, activity)
    assert (report.scheduled, report.answered) == (2, 1)
    by_name = {change.name: change for change in report.gaps}
    punctuality = by_name["Punctuality"]
    assert punctuality.before is not None and punctuality.after is not None
    assert (punctuality.before.score, punctuality.after.score, punctuality.change) == (
        Decimal("29.00"), Decimal("1.00"), Decimal("-28.00"))
    assert by_name["No summary"].after is None
    assert report.what_changed == ["Calls start on time since the new rota."]
    overview = follow_ups.follow_up_overview(course.db, course.designer, activity)
    assert overview is not None
    assert {entry.manager.name for entry in overview} == {"Omar Haddad", "Rita Nowak"}


def test_an_anonymous_surveys_follow_up_hides_names_and_figures_below_k(course: Course) -> None:
    source = course.activity()
    survey.save_settings(course.db, course.designer, source,
                         survey.SettingsInput(anonymous=True, min_answers="3"))
    for manager in course.managers[:3]:
        course.answer(manager, source, mistake("Late"))
    activity = follow_up_of(course, source)
    make_due(course, activity)
    row = follow_ups.my_follow_ups(course.db, course.omar, activity)[0]
    follow_ups.answer_survey_again(course.db, course.omar, row, [mistake("Late")], "Less often",
                                   based_on=0, submitting=True)
    report = follow_ups.change_report(course.db, course.designer, activity)
    assert report.hidden_reason is not None and report.gaps == [] and report.what_changed == []
    assert follow_ups.follow_up_overview(course.db, course.designer, activity) is None


def test_follow_ups_are_only_their_managers(course: Course) -> None:
    source = course.activity()
    course.answer(course.omar, source, mistake("Late"))
    activity = follow_up_of(course, source)
    (row,) = follow_ups.my_follow_ups(course.db, course.omar, activity)
    for actor in (course.managers[1], course.designer, course.ana_actor, course.stranger):
        with pytest.raises(PermissionDenied) as refused:
            follow_ups.follow_up_of(course.db, actor, activity, row.id)
        assert (refused.value.decision.status, refused.value.decision.message) == (404, FOLLOW_UP_NOT_FOUND)
    other = follow_up_of(course, course.activity())
    with pytest.raises(PermissionDenied):  # the right id under another activity: a guess
        follow_ups.follow_up_of(course.db, course.omar, other, row.id)
    with pytest.raises(PermissionDenied):
        follow_ups.follow_up_of(course.db, course.omar, activity, 2_000_000_000)
    with pytest.raises(PermissionDenied):
        follow_ups.change_report(course.db, course.omar, activity)


def test_feedback_gets_follow_ups_from_the_job_and_the_rubric_report_compares_criteria(
    course: Course,
) -> None:
    source = feedback_activity(course)
    activity = follow_up_of(course, source)
    give_feedback(course, source)
    assert follow_ups.schedule_missing(course.db) == 1
    assert follow_ups.schedule_missing(course.db) == 0
    (row,) = follow_ups.my_follow_ups(course.db, course.omar, activity)
    assert row.learner_id == course.ana.id and row.source_assessment_id is not None
    make_due(course, activity)
    row = follow_ups.follow_up_of(course.db, course.omar, activity, row.id)
    _version, rubric, _revision = follow_ups.rubric_of(course.db, row)
    form = MultiDict({f"level-{criterion.identifier}": criterion.levels[-1].identifier
                      for criterion in rubric.criteria})
    with pytest.raises(survey.SurveyProblems) as missing:
        follow_ups.answer_rubric_again(course.db, course.omar, row, form)
    assert "what_changed" in missing.value.problems
    incomplete = MultiDict({"what_changed": "More confident"})
    with pytest.raises(survey.SurveyProblems):
        follow_ups.answer_rubric_again(course.db, course.omar, row, incomplete)
    form["what_changed"] = "She now runs the calls herself."
    form[f"comment-{rubric.criteria[-1].identifier}"] = "Keep going."
    follow_ups.answer_rubric_again(course.db, course.omar, row, form)
    assert row.status is FollowUpStatus.ANSWERED

    report = follow_ups.change_report(course.db, course.designer, activity)
    (learner,) = report.learners
    assert learner.learner.id == course.ana.id and learner.what_changed == "She now runs the calls herself."
    assert learner.before_percentage == Decimal("66.67") and learner.after_percentage == Decimal("100")
    assert all(change.after is not None and change.before is not None and change.after >= change.before
               for change in report.criteria)
    assert len(report.criteria) == len(rubric.criteria)


def test_withdrawn_feedback_cancels_its_follow_up(course: Course) -> None:
    source = feedback_activity(course)
    activity = follow_up_of(course, source)
    give_feedback(course, source)
    follow_ups.schedule_missing(course.db)
    assessment = feedback.find_assessment(course.db, source, course.ana, course.omar.user_id)
    assert assessment is not None
    feedback.withdraw(course.db, course.omar, assessment, "Wrong person")
    follow_ups.schedule_missing(course.db)
    (row,) = course.db.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id)).all()
    assert row.status is FollowUpStatus.CANCELLED
    assert follow_ups.my_follow_ups(course.db, course.omar, activity) == []


def test_feedback_withdrawn_and_submitted_again_gets_its_follow_up_back(course: Course) -> None:
    source = feedback_activity(course)
    activity = follow_up_of(course, source)
    give_feedback(course, source)
    course.db.execute(update(AssessmentRevision).values(submitted_at=datetime.now(UTC) - timedelta(days=30)))
    follow_ups.schedule_missing(course.db)
    assessment = feedback.find_assessment(course.db, source, course.ana, course.omar.user_id)
    assert assessment is not None
    feedback.withdraw(course.db, course.omar, assessment, "Wrong person")
    follow_ups.schedule_missing(course.db)
    again = feedback.submit(course.db, course.omar, source, course.ana, content.read_content(
        complete_answers(), feedback.rubric_of(source)), based_on=assessment.draft_revision)
    assert follow_ups.schedule_missing(course.db) == 1
    assert follow_ups.schedule_missing(course.db) == 0
    (row,) = course.db.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id)).all()
    assert row.status is FollowUpStatus.SCHEDULED
    # Counted from the submission in force, not from the withdrawn one.
    assert row.anchored_at == again.submitted_at and row.due_at == again.submitted_at + timedelta(days=182)
    assert follow_ups.my_follow_ups(course.db, course.omar, activity) == [row]


def test_a_follow_up_pointed_elsewhere_and_back_follows_its_answers_again(course: Course) -> None:
    first, second = course.activity(title="First survey"), course.activity(title="Second survey")
    course.answer(course.omar, first, mistake("Late"))
    course.answer(course.managers[1], second, mistake("Late"))
    activity = follow_up_of(course, first)
    (omars,) = follow_ups.my_follow_ups(course.db, course.omar, activity)
    follow_ups.save_settings(course.db, course.designer, activity,
                             follow_ups.FollowUpInput(source_activity_id=str(second.id)))
    assert follow_ups.my_follow_ups(course.db, course.omar, activity) == []
    (ritas,) = follow_ups.my_follow_ups(course.db, course.managers[1], activity)
    follow_ups.save_settings(course.db, course.designer, activity,
                             follow_ups.FollowUpInput(source_activity_id=str(first.id), offset_days="100"))
    assert follow_ups.my_follow_ups(course.db, course.omar, activity) == [omars]  # the same row, live again
    assert omars.status is FollowUpStatus.SCHEDULED
    assert omars.due_at == omars.anchored_at + timedelta(days=100)
    assert follow_ups.my_follow_ups(course.db, course.managers[1], activity) == []
    assert ritas.status is FollowUpStatus.CANCELLED
    assert course.db.scalar(select(func.count()).select_from(FollowUp)) == 2


def test_a_moved_due_date_is_reminded_again_and_an_unmoved_one_is_not(app: Flask, course: Course) -> None:
    source = course.activity()
    course.answer(course.omar, source, mistake("Late"))
    activity = follow_up_of(course, source)
    answered = datetime.now(UTC) - timedelta(days=185, hours=1)
    course.db.execute(update(FollowUp).values(anchored_at=answered, due_at=answered + timedelta(days=182)))
    course.db.expire_all()
    now = datetime.now(UTC)
    run_due_jobs(app, names=["follow-up-reminders"], now=now)  # due three days ago
    run_due_jobs(app, names=["follow-up-reminders"], now=now + timedelta(hours=1))
    follow_ups.save_settings(course.db, course.designer, activity, follow_ups.FollowUpInput(
        source_activity_id=str(source.id), offset_days="185"))  # due an hour ago now
    run_due_jobs(app, names=["follow-up-reminders"], now=now + timedelta(hours=2))
    run_due_jobs(app, names=["follow-up-reminders"], now=now + timedelta(hours=3))
    with session_scope(app) as session:
        keys = session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.topic == "email")
                               .order_by(OutboxMessage.id)).all()
        (row,) = session.scalars(select(FollowUp)).all()
    before, after = answered + timedelta(days=182), answered + timedelta(days=185)
    assert keys == [f"follow-up:{row.id}:{before:%Y-%m-%d}:due", f"follow-up:{row.id}:{after:%Y-%m-%d}:due"]


def test_reminder_occasions() -> None:
    due = datetime(2027, 6, 1, 9, tzinfo=UTC)
    row = FollowUp(due_at=due)
    assert follow_ups.occasion_of(row, due - timedelta(minutes=1)) is None
    assert follow_ups.occasion_of(row, due) == "due"
    assert follow_ups.occasion_of(row, due + timedelta(days=8)) == "week-1"
    assert follow_ups.occasion_of(row, due + timedelta(weeks=4, days=1)) == "week-4"
    assert follow_ups.occasion_of(row, due + timedelta(weeks=5, days=1)) is None


def test_the_job_reminds_each_due_follow_up_once_per_occasion(app: Flask, course: Course) -> None:
    source = course.activity()
    course.answer(course.omar, source, mistake("Late"))
    course.answer(course.managers[1], source, mistake("Late"))
    course.answer(course.managers[2], source, mistake("Late"))
    activity = follow_up_of(course, source)
    make_due(course, activity)
    reminders.opt_out(course.db, course.managers[2].user_id, course.context.id)  # asked for no more
    course.db.flush()
    now = datetime.now(UTC)
    run_due_jobs(app, names=["follow-up-reminders"], now=now)
    run_due_jobs(app, names=["follow-up-reminders"], now=now + timedelta(hours=1))  # the next period
    with session_scope(app) as session:
        keys = session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.topic == "email")
                               .order_by(OutboxMessage.id)).all()
        rows = session.scalars(select(FollowUp).order_by(FollowUp.id)).all()
        assert len(rows) == 3
        # once each; none to the opted out
        assert sorted(keys) == sorted(f"follow-up:{row.id}:{row.due_at:%Y-%m-%d}:due" for row in rows[:2])
        with app.test_request_context():
            written = follow_ups.follow_up_mail(session, {"follow_up_id": rows[0].id})
        assert written is not None and written.to == "omar@example.com"
        assert "Six months on" in written.subject and "/reminders/opt-out/" in written.text
        rows[0].status = FollowUpStatus.ANSWERED
        session.flush()
        with app.test_request_context():
            assert follow_ups.follow_up_mail(session, {"follow_up_id": rows[0].id}) is None
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 3
