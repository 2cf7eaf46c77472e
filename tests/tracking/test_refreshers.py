"""Spaced refreshers on SQLite and PostgreSQL: a weak score on a criterion or competency schedules the steps,
a better revision or a withdrawal stops them, a weak revision again starts anew, the designer's input and the
learner's "done" are checked, e-mails follow the settings and the opt-out, and every refusal."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lti_tool import mail
from lti_tool.feedback import content, services
from lti_tool.invitations.models import ReminderOptOut
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    ManagerLink,
    Membership,
    OutboxMessage,
    RosterMember,
    User,
)
from lti_tool.permissions import (
    ACTIVITY_DESIGNERS_ONLY,
    NO_REFRESHERS_HERE,
    NOT_YOUR_PERSON,
    REFRESHER_NOT_DUE,
    REFRESHER_NOT_FOUND,
    REFRESHER_STOPPED,
    REFRESHERS_NEED_A_RUBRIC,
    Actor,
    PermissionDenied,
    can_read_person_refreshers,
)
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind, Assessors, CadreRole, FeedbackRelease, RefresherStatus
from lti_tool.tracking import refreshers
from lti_tool.tracking.refresher_models import Refresher, ScheduledRefresher
from tests.feedback.conftest import Course, complete_answers

NOW = datetime.now(UTC)
CRITERION = "criterion:effect-on-results"
"""Omar's complete answers put it at level "starting": 1 of 3 points, 33.33%."""
COMPETENCY = "competency:cadre:transfer.results"


def submit(course: Course, activity: Activity, learner: User | None = None, actor: Actor | None = None,
           based_on: int = 0, **overrides: str) -> None:
    learner, actor = learner or course.ana, actor or course.omar
    draft = content.read_content(complete_answers(**overrides), services.rubric_of(activity))
    services.submit(course.db, actor, activity, learner, draft, based_on=based_on)


def omars_assessment(course: Course, activity: Activity) -> Assessment:
    return course.db.scalars(select(Assessment).where(Assessment.activity_id == activity.id,
                                                      Assessment.learner_id == course.ana.id,
                                                      Assessment.assessor_id == course.omar.user_id)).one()


def add(course: Course, activity: Activity, target: str = CRITERION, **fields: str) -> Refresher:
    typed = refreshers.RefresherInput(target=target, title=fields.get("title", "Show the result"),
                                      body=fields.get("body", "Name the **number** that moved."),
                                      link_url=fields.get("link_url", "https://intranet.example/results"),
                                      threshold=fields.get("threshold", ""))
    return refreshers.save_refresher(course.db, course.designer, activity, typed)


def steps(db: Session, learner: User | None = None) -> list[ScheduledRefresher]:
    query = select(ScheduledRefresher).order_by(ScheduledRefresher.trigger_revision_id,
                                                ScheduledRefresher.step)
    if learner is not None:
        query = query.where(ScheduledRefresher.learner_id == learner.id)
    return list(db.scalars(query.execution_options(populate_existing=True)))


def test_a_weak_criterion_score_schedules_the_steps_once(course: Course) -> None:
    activity = course.activity()
    refresher = add(course, activity)
    submit(course, activity)
    report = refreshers.schedule(course.db, NOW)
    assert report.scheduled == 4 and report.stopped == 0
    made = steps(course.db)
    assert [row.step for row in made] == [1, 2, 3, 4] and {row.step_count for row in made} == {4}
    assert {row.learner_id for row in made} == {course.ana.id}
    assert {row.refresher_id for row in made} == {refresher.id}
    assert made[0].trigger_percent == Decimal("33.33") and made[0].threshold_percent == Decimal("60.00")
    # Counted from the later of the score and the refresher's creation: 1, 3, 7, 21 days.
    submitted_at = course.db.get(AssessmentRevision, made[0].trigger_revision_id).submitted_at
    assert submitted_at >= refresher.created_at
    assert [row.due_at - submitted_at for row in made] == [timedelta(days=day) for day in (1, 3, 7, 21)]
    # Again, and again later: nothing more.
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    assert refreshers.schedule(course.db, NOW + timedelta(days=2)).scheduled == 0
    assert len(steps(course.db)) == 4


def test_a_submission_schedules_and_a_revision_stops_in_their_own_commit(course: Course) -> None:
    activity = course.activity()
    add(course, activity)
    course.db.commit()
    submit(course, activity)
    assert steps(course.db) == []  # not before the commit
    course.db.commit()
    assert [row.status for row in steps(course.db)] == [RefresherStatus.SCHEDULED] * 4
    submit(course, activity, based_on=1, **{"effect-on-results__level": "role-model"})
    course.db.commit()
    assert [row.status for row in steps(course.db)] == [RefresherStatus.STOPPED] * 4
    assert {row.stopped_percent for row in steps(course.db)} == {Decimal("100.00")}
    assert refreshers.schedule(course.db, NOW) == refreshers.ScheduleReport()  # nothing left for the job


def test_a_competency_counts_its_criteria_and_a_good_score_schedules_nothing(course: Course) -> None:
    activity = course.activity()
    add(course, activity, COMPETENCY)
    add(course, activity, "criterion:uses-the-training")  # "consistent": 2 of 3, 66.67%: above 60
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    (target,) = {row.refresher.target for row in steps(course.db)}
    assert target == "cadre:transfer.results"


def test_self_assessments_and_unreleased_feedback_schedule_nothing(course: Course) -> None:
    activity = course.activity(release=FeedbackRelease.WHEN_RELEASED, assessors=Assessors.ANY_MANAGER)
    add(course, activity)
    submit(course, activity, actor=course.ana_actor)  # Ana's own self-assessment
    submit(course, activity)  # Omar's, not released yet
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    services.release(course.db, course.designer, omars_assessment(course, activity))
    assert refreshers.schedule(course.db, NOW).scheduled == 4


def test_a_better_revision_stops_the_rest_and_a_weak_one_later_starts_anew(course: Course) -> None:
    activity = course.activity()
    add(course, activity)
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    first = steps(course.db)
    # Step 1 came and was done; then Omar revises: "consistent" (66.67%) is above the threshold.
    first[0].due_at = NOW - timedelta(hours=1)
    refreshers.complete(course.db, course.ana_actor, first[0].id, now=NOW)
    submit(course, activity, based_on=1, **{"effect-on-results__level": "consistent"})
    report = refreshers.schedule(course.db, NOW)
    assert report == refreshers.ScheduleReport(scheduled=0, stopped=3)
    rows = steps(course.db)
    assert [row.status for row in rows] == [RefresherStatus.DONE] + [RefresherStatus.STOPPED] * 3
    assert {row.stopped_percent for row in rows[1:]} == {Decimal("66.67")}
    page = refreshers.learner_page(course.db, course.ana_actor, NOW)
    (stopped,) = page.stopped
    assert "scored 66.67%" in stopped.reason and "at or above the 60% threshold" in stopped.reason
    assert page.due == [] and page.upcoming == []
    # Weak again in a third revision: a new schedule of four.
    submit(course, activity, based_on=2, **{"effect-on-results__level": "starting"})
    assert refreshers.schedule(course.db, NOW).scheduled == 4
    assert len(steps(course.db)) == 8
    # Still weak in a fourth while that one runs: nothing more.
    submit(course, activity, based_on=3, **{"effect-on-results__level": "not-yet"})
    assert refreshers.schedule(course.db, NOW).scheduled == 0


def test_a_withdrawn_assessment_stops_its_refreshers(course: Course) -> None:
    activity = course.activity()
    add(course, activity)
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    services.withdraw(course.db, course.omar, omars_assessment(course, activity), "Scored the wrong person.")
    assert refreshers.schedule(course.db, NOW).stopped == 4
    states = refreshers.refreshers_for(course.db, [course.ana.id], course.context)[course.ana.id]
    assert {item.state for item in states} == {"stopped"}
    assert states[0].reason == "Stopped: the assessment that called for it was withdrawn."


def finish(course: Course, rows: list[ScheduledRefresher]) -> None:
    """The learner marks every step done, each on its day."""
    for row in rows:
        row.due_at = NOW - timedelta(hours=1)
        refreshers.complete(course.db, course.ana_actor, row.id, now=NOW)


@pytest.mark.parametrize("finished", ["done", "missed"])
def test_a_revision_still_as_weak_continues_a_finished_or_missed_schedule(course: Course,
                                                                          finished: str) -> None:
    activity = course.activity()
    add(course, activity)
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    first = steps(course.db)
    if finished == "done":
        finish(course, first)
    else:
        for row in first:
            row.due_at = NOW - timedelta(days=30)
    # Omar revises a comment only: the criterion still scores 33.33%.
    submit(course, activity, based_on=1, strengths="Listens well, and summarises.")
    assert refreshers.schedule(course.db, NOW) == refreshers.ScheduleReport()
    assert [row.id for row in steps(course.db)] == [row.id for row in first]
    page = refreshers.learner_page(course.db, course.ana_actor, NOW)
    assert len(page.done if finished == "done" else page.due) == 4 and page.upcoming == []


@pytest.mark.parametrize("target", [CRITERION, COMPETENCY])
def test_weaker_again_continues_but_weak_after_reaching_the_threshold_starts_anew(course: Course,
                                                                                 target: str) -> None:
    activity = course.activity()
    add(course, activity, target)
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    finish(course, steps(course.db))
    # Weaker (0%) after the learner finished: the same weak finding, no new schedule.
    submit(course, activity, based_on=1, **{"effect-on-results__level": "not-yet"})
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    # At the threshold: nothing is left to stop, but the weak finding is over...
    submit(course, activity, based_on=2, **{"effect-on-results__level": "consistent"})
    assert refreshers.schedule(course.db, NOW) == refreshers.ScheduleReport()
    # ...so weak again is a new one: a new schedule, then nothing more.
    submit(course, activity, based_on=3, **{"effect-on-results__level": "starting"})
    assert refreshers.schedule(course.db, NOW).scheduled == 4
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    assert [row.status for row in steps(course.db)] == \
        [RefresherStatus.DONE] * 4 + [RefresherStatus.SCHEDULED] * 4


def test_a_revision_that_makes_another_criterion_weak_schedules_only_its_refresher(course: Course) -> None:
    activity = course.activity()
    results = add(course, activity)
    training = add(course, activity, "criterion:uses-the-training", title="Use it")  # 66.67%: above 60
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    finish(course, steps(course.db))
    submit(course, activity, based_on=1, **{"uses-the-training__level": "starting"})
    assert refreshers.schedule(course.db, NOW).scheduled == 4
    made = [row for row in steps(course.db) if row.status is RefresherStatus.SCHEDULED]
    assert {row.refresher_id for row in made} == {training.id}
    done = [row for row in steps(course.db) if row.status is RefresherStatus.DONE]
    assert {row.refresher_id for row in done} == {results.id}


def test_feedback_waiting_for_release_pauses_its_refreshers_until_released(course: Course,
                                                                           app: Flask) -> None:
    activity = course.activity()
    add(course, activity)
    course.ana.email = "ana@example.org"
    submit(course, activity)
    scored = course.db.scalars(select(AssessmentRevision.submitted_at)).one()
    refreshers.schedule(course.db, scored)  # as the submission's commit does
    first = steps(course.db)
    come = scored + timedelta(days=1, minutes=1)  # step 1's day
    # The designer now has feedback wait for release: Ana may no longer read Omar's.
    activity.feedback_release = FeedbackRelease.WHEN_RELEASED
    course.db.flush()
    assert refreshers.schedule(course.db, come) == refreshers.ScheduleReport()  # not stopped as withdrawn
    assert {row.status for row in steps(course.db)} == {RefresherStatus.SCHEDULED}
    page = refreshers.learner_page(course.db, course.ana_actor, come)
    assert (page.due, page.upcoming, page.done, page.stopped) == ([], [], [], [])
    assert refreshers.refreshers_for(course.db, [course.ana.id], course.context, come)[course.ana.id] == []
    assert refreshers.due_count(course.db, course.ana.id, course.context.id, come) == 0
    assert refreshers.queue_emails(course.db, come) == 0
    with app.test_request_context():
        assert refreshers.refresher_mail(course.db, {"scheduled_id": first[0].id}) is None
    with pytest.raises(PermissionDenied) as refused:
        refreshers.complete(course.db, course.ana_actor, first[0].id, now=come)
    assert refused.value.decision.status == 404 and refused.value.decision.message == REFRESHER_NOT_FOUND
    # Released: the same schedule resumes, its steps counted again from the release.
    assessment = omars_assessment(course, activity)
    services.release(course.db, course.designer, assessment)
    report = refreshers.schedule(course.db, NOW)
    assert (report.scheduled, report.stopped, report.resumed) == (0, 0, 4)
    assert refreshers.schedule(course.db, NOW).resumed == 0
    resumed = steps(course.db)
    assert [row.id for row in resumed] == [row.id for row in first]
    released_at = assessment.released_at
    assert released_at is not None
    assert [row.due_at - released_at for row in resumed] == [timedelta(days=day) for day in (1, 3, 7, 21)]
    later = released_at + timedelta(days=1, minutes=1)
    page = refreshers.learner_page(course.db, course.ana_actor, later)
    assert len(page.due) == 1 and len(page.upcoming) == 3 and page.stopped == []
    assert "scored 33.33%" in page.due[0].reason
    assert refreshers.queue_emails(course.db, later) == 1


def test_the_refreshers_own_threshold_wins_over_the_activitys(course: Course) -> None:
    activity = course.activity()
    add(course, activity, threshold="30")  # 33.33% is not below 30
    submit(course, activity)
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    refreshers.save_settings(course.db, course.designer, activity, threshold="25", spacing="2, 5",
                             send_email=True)
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    other = add(course, activity, title="Another")  # no threshold of its own: the activity's 25%
    assert refreshers.schedule(course.db, NOW).scheduled == 0
    refreshers.save_settings(course.db, course.designer, activity, threshold="50", spacing="2, 5",
                             send_email=True)  # saving schedules at once
    made = steps(course.db)
    assert [(row.refresher_id, row.step, row.step_count) for row in made] == [(other.id, 1, 2),
                                                                              (other.id, 2, 2)]


def test_removing_a_refresher_cancels_the_steps_not_done(course: Course) -> None:
    activity = course.activity()
    refresher = add(course, activity)
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    assert refreshers.remove_refresher(course.db, course.designer, refresher) == 4
    assert {row.status for row in steps(course.db)} == {RefresherStatus.CANCELLED}
    assert refreshers.refreshers_of(course.db, activity) == []
    assert refreshers.schedule(course.db, NOW).scheduled == 0


@pytest.mark.parametrize(("spacing", "problem"), [
    ("", "Give at least one number of days"),
    ("1, 3, x", "Give whole numbers of days"),
    ("3, 1", "in increasing order"),
    ("1, 1", "in increasing order"),
    ("0, 3", "from 1 to 365 days"),
    ("1, 400", "from 1 to 365 days"),
    (", ".join(str(day) for day in range(1, 12)), "at most 10 steps"),
    ("-1, 3", "Give whole numbers of days"),
    ("1, ²", "Give whole numbers of days"),  # a digit to str.isdigit, not to int
    ("1, ３", "Give whole numbers of days"),
])
def test_bad_spacing_is_refused_and_nothing_is_saved(course: Course, spacing: str, problem: str) -> None:
    activity = course.activity()
    with pytest.raises(refreshers.RefresherProblems) as refused:
        refreshers.save_settings(course.db, course.designer, activity, threshold="60", spacing=spacing,
                                 send_email=True)
    assert problem in refused.value.problems["spacing"]
    assert refreshers.settings_of(course.db, activity).spacing_days == [1, 3, 7, 21]


@pytest.mark.parametrize(("threshold", "problem"), [
    ("", "Give a percentage from 1 to 100."), ("0", "above 0 and at most 100"), ("101", "above 0"),
    ("sixty", "number of percent"), ("NaN", "above 0"), ("60.123", "at most two decimals"),
])
def test_bad_thresholds_are_refused(course: Course, threshold: str, problem: str) -> None:
    activity = course.activity()
    with pytest.raises(refreshers.RefresherProblems) as refused:
        refreshers.save_settings(course.db, course.designer, activity, threshold=threshold, spacing="1, 3",
                                 send_email=True)
    assert problem in refused.value.problems["threshold"]
    assert course.db.get(refreshers.RefresherSettings, activity.id) is None


def test_good_settings_accept_a_percent_sign_and_a_decimal_comma(course: Course) -> None:
    activity = course.activity()
    saved = refreshers.save_settings(course.db, course.designer, activity, threshold="72,5 %",
                                     spacing="2 4 8",
                                     send_email=False)
    assert saved.threshold_percent == Decimal("72.50") and saved.spacing_days == [2, 4, 8]
    assert saved.send_email is False


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "data:text/html,hi", "ftp://files.example/guide", "intranet.example/guide",
    "https://", "https://user:secret@intranet.example/", "https://intranet.example/a b",
    "https://intranet.example:99999/", "//intranet.example/guide", "https://intranet.example/\nx",
    "https://" + "a" * 2000 + ".example",
])
def test_links_other_than_http_and_https_are_refused(course: Course, link: str) -> None:
    activity = course.activity()
    with pytest.raises(refreshers.RefresherProblems) as refused:
        add(course, activity, link_url=link)
    assert "starting with https:// or http://" in refused.value.problems["link_url"]
    assert course.db.scalar(select(func.count(Refresher.id))) == 0


def test_a_refresher_needs_a_target_a_title_and_a_text_or_a_link(course: Course) -> None:
    activity = course.activity()
    with pytest.raises(refreshers.RefresherProblems) as refused:
        add(course, activity, "criterion:no-such-criterion", title="  ", body="", link_url="")
    assert set(refused.value.problems) == {"target", "title", "body"}
    with pytest.raises(refreshers.RefresherProblems) as refused:
        add(course, activity, title="x" * 201, body="y" * 5001, threshold="0")
    assert set(refused.value.problems) == {"title", "body", "threshold"}
    only_a_link = add(course, activity, body="", link_url="http://intranet.example/guide")
    only_a_text = add(course, activity, body="Ask *one* question.", link_url="")
    assert only_a_link.body == "" and only_a_text.link_url == ""


def test_who_may_set_up_refreshers(course: Course) -> None:
    activity = course.activity()
    for actor in (course.omar, course.ana_actor):
        with pytest.raises(PermissionDenied) as refused:
            refreshers.save_refresher(course.db, actor, activity, refreshers.RefresherInput(target=CRITERION))
        assert refused.value.decision.status == 403
        assert refused.value.decision.message == ACTIVITY_DESIGNERS_ONLY
        with pytest.raises(PermissionDenied):
            refreshers.save_settings(course.db, actor, activity, threshold="60", spacing="1", send_email=True)
    other = Actor(course.designer.user_id, "Maya", course.platform.id, course.other_context.id,
                  CadreRole.DESIGNER)
    with pytest.raises(PermissionDenied) as refused:
        refreshers.configurable_activity(course.db, other, activity.id)
    assert refused.value.decision.status == 404
    with pytest.raises(PermissionDenied) as refused:
        refreshers.configurable_activity(course.db, course.designer, 999999)
    assert refused.value.decision.status == 404
    for kind in (ActivityKind.MANAGER_INSIGHT_SURVEY, ActivityKind.SELF_ASSESSMENT):
        elsewhere = course.activity(kind=kind)
        with pytest.raises(PermissionDenied) as refused:
            refreshers.configurable_activity(course.db, course.designer, elsewhere.id)
        assert refused.value.decision.status == 400 and refused.value.decision.message == NO_REFRESHERS_HERE
    activity.rubric_version_id = None
    with pytest.raises(PermissionDenied) as refused:
        refreshers.configurable_activity(course.db, course.designer, activity.id)
    assert refused.value.decision.status == 409 and refused.value.decision.message == REFRESHERS_NEED_A_RUBRIC


def test_the_learner_marks_a_due_refresher_done_once_with_one_statement(course: Course, app: Flask) -> None:
    activity = course.activity()
    add(course, activity)
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    first, second, *_ = steps(course.db)
    with pytest.raises(refreshers.RefresherConflict) as refused:
        refreshers.complete(course.db, course.ana_actor, first.id, now=NOW)
    assert refused.value.message == REFRESHER_NOT_DUE
    first.due_at = NOW - timedelta(minutes=5)
    with app.app_context():
        done = refreshers.complete(course.db, course.ana_actor, first.id, now=NOW)
        again = refreshers.complete(course.db, course.ana_actor, first.id, now=NOW + timedelta(hours=1))
    assert done.status is RefresherStatus.DONE and again.completed_at == NOW
    statements = course.db.scalars(select(Statement).where(Statement.verb.endswith("/completed"))).all()
    assert len(statements) == 1
    body = statements[0].body
    assert body["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"
    assert body["object"]["definition"]["name"]["en"] == "Show the result"
    assert statements[0].activity_kind == str(activity.kind)
    # Ben, Omar and another course's Ana may not; a guessed id does not exist.
    ben_in_other = Actor(course.ana.id, "Ana", course.platform.id, course.other_context.id, CadreRole.LEARNER)
    for actor, scheduled_id in ((course.ben_actor, second.id), (course.omar, second.id),
                                (ben_in_other, second.id), (course.ana_actor, 999999)):
        with pytest.raises(PermissionDenied) as denied:
            refreshers.complete(course.db, actor, scheduled_id, now=NOW)
        assert denied.value.decision.status == 404 and denied.value.decision.message == REFRESHER_NOT_FOUND
    second.status = RefresherStatus.STOPPED
    second.due_at = NOW - timedelta(minutes=5)
    with pytest.raises(refreshers.RefresherConflict) as refused:
        refreshers.complete(course.db, course.ana_actor, second.id, now=NOW)
    assert refused.value.message == REFRESHER_STOPPED


def test_who_may_read_a_persons_refreshers(course: Course) -> None:
    db = course.db
    assert can_read_person_refreshers(course.ana_actor, course.ana, db)
    assert can_read_person_refreshers(course.omar, course.ana, db)
    assert can_read_person_refreshers(course.rita, course.ana, db)  # her mentor
    assert can_read_person_refreshers(course.designer, course.ana, db)
    for actor, learner in ((course.rita, course.ben), (course.ben_actor, course.ana),
                           (course.stranger, course.ben), (course.omar, course.chloe), (course.omar, None)):
        refused = can_read_person_refreshers(actor, learner, db)
        assert not refused and refused.status == 404 and refused.message == NOT_YOUR_PERSON


def test_staff_read_only_their_own_courses_people(course: Course) -> None:
    db = course.db
    elsewhere = User(platform_id=course.platform.id, sub="olga", name="Olga Elsewhere")
    db.add(elsewhere)
    db.flush()
    db.add_all([Membership(user_id=elsewhere.id, context_id=course.other_context.id, role=CadreRole.LEARNER),
                Membership(user_id=course.chloe.id, context_id=course.context.id, role=CadreRole.LEARNER)])
    db.flush()
    admin = Actor(course.designer.user_id, "Maya", course.platform.id, course.context.id, CadreRole.ADMIN)
    other_designer = Actor(course.designer.user_id, "Maya", course.platform.id, course.other_context.id,
                           CadreRole.DESIGNER)
    # Another course's person, and a person of this course to another course's staff: not found.
    for actor, person in ((course.designer, elsewhere), (admin, elsewhere), (other_designer, course.ben)):
        refused = can_read_person_refreshers(actor, person, db)
        assert not refused and refused.status == 404 and refused.message == NOT_YOUR_PERSON
    # The course's own people: by launch (Chloé), by a manager link (Ben), by an assessment here (Ben
    # again, without his links: the staff's list of people with refreshers still shows him).
    for actor in (course.designer, admin):
        assert can_read_person_refreshers(actor, course.chloe, db)
        assert can_read_person_refreshers(actor, course.ben, db)
    assert can_read_person_refreshers(other_designer, course.ana, db)  # Sam's person there
    activity = course.activity()
    add(course, activity)
    submit(course, activity, learner=course.ben)
    refreshers.schedule(db, NOW)
    db.execute(delete(ManagerLink).where(ManagerLink.learner_id == course.ben.id))
    assert [user.id for user in refreshers.learners_with_refreshers(db, course.context.id)] == [course.ben.id]
    assert can_read_person_refreshers(course.designer, course.ben, db)
    # A manager, only for their own people in the course they launched from.
    assert can_read_person_refreshers(course.stranger, course.ana, db)
    for person in (course.ben, course.chloe, elsewhere):
        assert not can_read_person_refreshers(course.stranger, person, db)


def _emails(db: Session) -> list[str]:
    return list(db.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.topic == mail.TOPIC)
                           .order_by(OutboxMessage.id)))


def ana_and_ben_scheduled(course: Course) -> Activity:
    """Ana and Ben, with e-mail addresses, each scored weak in a new activity: their steps scheduled."""
    activity = course.activity()
    add(course, activity)
    course.ana.email, course.ben.email = "ana@example.org", "ben@example.org"
    submit(course, activity)
    submit(course, activity, learner=course.ben)
    refreshers.schedule(course.db, NOW)
    return activity


def test_steps_that_have_come_are_emailed_once_unless_opted_out_or_turned_off(course: Course) -> None:
    activity = ana_and_ben_scheduled(course)
    assert refreshers.queue_emails(course.db, NOW) == 0  # nothing has come yet
    for row in steps(course.db):
        if row.step == 1:
            row.due_at = NOW - timedelta(hours=1)
        if row.step == 2 and row.learner_id == course.ben.id:
            row.due_at = NOW - timedelta(days=8)  # missed for over a week: shown, not e-mailed
    course.db.add(ReminderOptOut(user_id=course.ben.id, context_id=course.context.id))
    course.db.flush()
    assert refreshers.queue_emails(course.db, NOW) == 1
    (ana_first,) = [row for row in steps(course.db, course.ana) if row.step == 1]
    assert _emails(course.db) == [f"refresher:{ana_first.id}"] and ana_first.emailed_at is not None
    assert refreshers.queue_emails(course.db, NOW + timedelta(minutes=10)) == 0
    refreshers.save_settings(course.db, course.designer, activity, threshold="60", spacing="1, 3, 7, 21",
                             send_email=False)
    (ana_second,) = [row for row in steps(course.db, course.ana) if row.step == 2]
    ana_second.due_at = NOW - timedelta(minutes=1)
    assert refreshers.queue_emails(course.db, NOW) == 0


def test_a_learner_who_left_the_course_is_not_emailed(course: Course, app: Flask) -> None:
    """The roster says the learner left (inactive, or no longer listed): their steps stay, no e-mail goes,
    not even one queued before they left."""
    ana_and_ben_scheduled(course)
    for row in steps(course.db):
        if row.step == 1:
            row.due_at = NOW - timedelta(hours=1)
    course.db.add(RosterMember(context_id=course.context.id, user_id=course.ben.id, role=CadreRole.LEARNER,
                               active=False))
    course.db.flush()
    assert refreshers.queue_emails(course.db, NOW) == 1
    (ana_first,) = [row for row in steps(course.db, course.ana) if row.step == 1]
    assert _emails(course.db) == [f"refresher:{ana_first.id}"]
    course.db.add(RosterMember(context_id=course.context.id, user_id=course.ana.id, role=CadreRole.LEARNER,
                               active=False))
    course.db.flush()
    with app.test_request_context():
        assert refreshers.refresher_mail(course.db, {"scheduled_id": ana_first.id}) is None
    assert len(steps(course.db, course.ben)) == 4  # kept: they are still on Ben's page


def test_the_email_says_what_and_why_and_is_dropped_once_done(course: Course, app: Flask) -> None:
    activity = course.activity()
    add(course, activity)
    course.ana.email = "ana@example.org"
    submit(course, activity)
    refreshers.schedule(course.db, NOW)
    first = steps(course.db)[0]
    with app.test_request_context():
        written = refreshers.refresher_mail(course.db, {"scheduled_id": first.id})
        assert written is not None and written.to == "ana@example.org"
        assert written.subject == "Refresher: Show the result"
        assert "Name the **number** that moved." in written.text
        assert "https://intranet.example/results" in written.text and "step 1 of 4" in written.text
        assert "/reminders/opt-out/" in written.text and dict(written.headers)["List-Unsubscribe"]
        first.status = RefresherStatus.DONE
        assert refreshers.refresher_mail(course.db, {"scheduled_id": first.id}) is None
        assert refreshers.refresher_mail(course.db, {"scheduled_id": 999999}) is None


def test_the_learners_email_choice(course: Course) -> None:
    refreshers.set_email(course.db, course.ana_actor, wanted=False)
    refreshers.set_email(course.db, course.ana_actor, wanted=False)
    assert refreshers.email_opted_out(course.db, course.ana.id, course.context.id)
    assert course.db.scalar(select(func.count(ReminderOptOut.id))) == 1
    refreshers.set_email(course.db, course.ana_actor, wanted=True)
    assert not refreshers.email_opted_out(course.db, course.ana.id, course.context.id)


def test_refreshers_for_reads_every_learner_in_one_query(course: Course, count_queries) -> None:  # type: ignore[no-untyped-def]
    activity = course.activity()
    add(course, activity)
    submit(course, activity)
    submit(course, activity, learner=course.ben)
    refreshers.schedule(course.db, NOW)
    with count_queries() as few:
        one = refreshers.refreshers_for(course.db, [course.ana.id], course.context.id, NOW)
    with count_queries() as more:
        both = refreshers.refreshers_for(course.db, [course.ana.id, course.ben.id, course.chloe.id],
                                         course.context, NOW)
    assert few.count == more.count == 1
    assert [item.state for item in one[course.ana.id]] == ["upcoming"] * 4
    assert len(both[course.ben.id]) == 4 and both[course.chloe.id] == []
    assert refreshers.summarise(both[course.ana.id]) == refreshers.RefresherSummary(0, 4, 0, 0)
    elsewhere = refreshers.refreshers_for(course.db, [course.ana.id], course.other_context, NOW)
    assert elsewhere[course.ana.id] == []


def test_a_copied_activity_takes_the_refreshers_and_settings_but_nothing_scheduled(course: Course) -> None:
    source = course.activity()
    kept, removed = add(course, source), add(course, source, title="Gone")
    refreshers.remove_refresher(course.db, course.designer, removed)
    refreshers.save_settings(course.db, course.designer, source, threshold="55", spacing="2, 9",
                             send_email=False)
    submit(course, source)
    refreshers.schedule(course.db, NOW)
    copy = Activity(public_id=secrets.token_hex(16), platform_id=source.platform_id,
                    context_id=course.other_context.id, kind=source.kind, title=source.title,
                    rubric_version_id=source.rubric_version_id, copied_from_id=source.id)
    course.db.add(copy)
    course.db.flush()
    (copied,) = refreshers.refreshers_of(course.db, copy)
    assert (copied.title, copied.target, copied.body, copied.link_url) == (
        kept.title, kept.target, kept.body, kept.link_url)
    settings = refreshers.settings_of(course.db, copy)
    assert (settings.threshold_percent, settings.spacing_days) == (Decimal(55), [2, 9])
    assert settings.send_email is False
    assert {row.refresher_id for row in steps(course.db)} == {kept.id}
