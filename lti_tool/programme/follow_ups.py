"""Six-month follow-ups ("course correct"): managers asked again about what they answered, and a report
of what changed.

A follow-up **activity** (kind ``six_month_follow_up``) names its source: a manager insight survey of the
course, or an activity assessed with a rubric (manager feedback, skill assessment, work-product review).
Every submitted answer there gets one :class:`FollowUp` row, due ``offset_days`` (182 by default) after
the answer's first submission, or after one course date the designer gives:

* a survey answer: the manager answers the same survey again (its known mistakes, scale and currency);
* a manager's assessment of a learner: the manager assesses the learner again with the rubric version
  they used, for that learner.

Both add "What changed?". Rows are made at once when a survey answer is submitted and when the designer
saves the follow-up's settings; for feedback submissions (``lti_tool.feedback``, which knows nothing of
follow-ups) the hourly job makes them, so a follow-up is never more than an hour late to exist and the
feedback feature needs no hook. The same job e-mails the manager when a follow-up falls due and weekly
after that for four weeks while it is not answered (outbox key ``follow-up:<id>:<due date>:<occasion>``:
once per follow-up, due date and occasion however often, and from however many hosts, the job runs; a due
date moved by new settings is a new occasion), through the course's reminder opt-out
(``lti_tool.invitations.reminders``).

A follow-up is cancelled, not deleted, when its feedback is withdrawn or the designer points the follow-up
at another activity; it is scheduled again (the same row, due from its answer once more) when the feedback
is submitted again or the designer points the follow-up back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import rubrics
from lti_tool import mail, permissions
from lti_tool.db import utcnow
from lti_tool.form_values import whole_number
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    AssessmentWithdrawal,
    RubricVersion,
    User,
    audit,
)
from lti_tool.outbox import Period, periodic
from lti_tool.permissions import Actor, ensure
from lti_tool.programme import events, survey
from lti_tool.programme.models import FollowUp, FollowUpSettings, SurveyResponse
from lti_tool.states import (
    AssessmentStatus,
    AssessorRole,
    FollowUpAnchor,
    FollowUpStatus,
    SurveyResponseStatus,
)

DEFAULT_OFFSET_DAYS = 182
OFFSET_RANGE = (1, 1000)
REMINDER_WEEKS = 4
MAX_WHAT_CHANGED = 5000
MAIL_KIND = "follow-up"
SOURCE_KINDS = permissions.SURVEY_KINDS | permissions.FEEDBACK_KINDS


class FollowUpError(survey.SurveyError):
    pass


person_name = survey.person_name


# -- settings ----------------------------------------------------------------------------------------------


def settings_of(session: Session, activity: Activity) -> FollowUpSettings | None:
    return session.get(FollowUpSettings, activity.id)


def source_choices(session: Session, activity: Activity) -> list[Activity]:
    """The course's surveys and rubric-assessed activities a follow-up may follow."""
    return list(session.scalars(
        select(Activity).where(Activity.context_id == activity.context_id, Activity.id != activity.id,
                               Activity.kind.in_(SOURCE_KINDS)).order_by(Activity.title, Activity.id)
    ))


@dataclass(frozen=True)
class FollowUpInput:
    source_activity_id: str = ""
    offset_days: str = str(DEFAULT_OFFSET_DAYS)
    anchor: str = FollowUpAnchor.SUBMISSION.value
    course_date: str = ""


def save_settings(session: Session, actor: Actor, activity: Activity,
                  typed: FollowUpInput) -> FollowUpSettings:
    """The designer's follow-up settings; rows for answers already submitted are made at once, and
    unanswered follow-ups of a source no longer followed are cancelled."""
    ensure(permissions.can_configure_activity(actor, activity))
    if activity.kind not in permissions.FOLLOW_UP_KINDS:
        raise FollowUpError(permissions.NOT_A_FOLLOW_UP, status=404, title="Activity not found")
    problems: dict[str, str] = {}
    sources = {str(source.id): source for source in source_choices(session, activity)}
    source = sources.get(typed.source_activity_id.strip())
    if source is None:
        problems["source_activity_id"] = "Choose the survey or feedback activity of this course to follow up."
    offset_text = typed.offset_days.strip()
    low, high = OFFSET_RANGE
    offset = whole_number(offset_text, digits=5)
    if offset is None or not low <= offset <= high:
        problems["offset_days"] = f"Give a whole number of days from {low} to {high}."
    anchor = next((member for member in FollowUpAnchor if member.value == typed.anchor.strip()), None)
    if anchor is None:
        problems["anchor"] = "Choose what the follow-up counts from."
    course_date = None
    if typed.course_date.strip():
        try:
            course_date = date.fromisoformat(typed.course_date.strip())
        except ValueError:
            problems["course_date"] = "Give the date as year-month-day, such as 2027-03-31."
        else:
            if not 2000 <= course_date.year <= 2200:
                problems["course_date"] = "Give a date between the years 2000 and 2200."
                course_date = None
    if anchor is FollowUpAnchor.COURSE_DATE and course_date is None and "course_date" not in problems:
        problems["course_date"] = "Give the course date the follow-up counts from."
    if problems:
        raise survey.SurveyProblems(problems, "Nothing was saved: see the messages beside the fields.")
    assert source is not None and offset is not None and anchor is not None
    settings = settings_of(session, activity)
    if settings is None:
        settings = FollowUpSettings(activity_id=activity.id)
        session.add(settings)
    previous_source = settings.source_activity_id
    settings.source_activity_id, settings.offset_days, settings.anchor = source.id, offset, anchor
    settings.course_date = course_date
    settings.updated_at, settings.updated_by_id = utcnow(), actor.user_id
    if activity.configured_at is None:
        activity.configured_at = utcnow()
    session.flush()
    if previous_source is not None and previous_source != source.id:
        for row in session.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id,
                                                          FollowUp.status == FollowUpStatus.SCHEDULED)):
            row.status = FollowUpStatus.CANCELLED
    else:
        for row in session.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id,
                                                          FollowUp.status == FollowUpStatus.SCHEDULED)):
            row.due_at = due_at(settings, row.anchored_at)
    session.flush()
    audit(session, actor, "follow_up.settings", activity_id=activity.id, source_activity_id=source.id,
          offset_days=offset, anchor=anchor.value)
    schedule_missing(session, activity)
    return settings


def due_at(settings: FollowUpSettings, anchored_at: datetime) -> datetime:
    """When a follow-up of an answer given at ``anchored_at`` is due."""
    if settings.anchor is FollowUpAnchor.COURSE_DATE and settings.course_date is not None:
        start = datetime.combine(settings.course_date, time(9), tzinfo=UTC)
    else:
        start = anchored_at
    return start + timedelta(days=settings.offset_days)


# -- making follow-ups -------------------------------------------------------------------------------------


def _add(session: Session, settings: FollowUpSettings, *, source_key: str, manager_id: int,
         learner_id: int | None, anchored_at: datetime, response_id: int | None = None,
         assessment_id: int | None = None) -> FollowUp | None:
    """The follow-up of one answer, made, or scheduled again when it was cancelled (its feedback was
    withdrawn and is submitted again, or the follow-up followed another activity for a while): one row per
    answer (``source_key``), so never two live ones. None when the answer has a live follow-up already."""
    found = session.scalar(select(FollowUp).where(FollowUp.activity_id == settings.activity_id,
                                                  FollowUp.source_key == source_key))
    if found is not None and found.status is not FollowUpStatus.CANCELLED:
        return None
    if found is not None:
        found.status, found.anchored_at = FollowUpStatus.SCHEDULED, anchored_at
        found.due_at = due_at(settings, anchored_at)
        session.flush()
        return found
    row = FollowUp(activity_id=settings.activity_id, source_activity_id=settings.source_activity_id,
                   source_key=source_key, source_response_id=response_id, source_assessment_id=assessment_id,
                   manager_id=manager_id, learner_id=learner_id, status=FollowUpStatus.SCHEDULED,
                   anchored_at=anchored_at, due_at=due_at(settings, anchored_at), what_changed="",
                   created_at=utcnow())
    session.add(row)
    session.flush()
    events.follow_up_scheduled(session, row)
    return row


def schedule_for_survey_response(session: Session, response: SurveyResponse) -> list[FollowUp]:
    """The follow-ups of a survey answer just submitted (none when no follow-up follows the survey)."""
    made = []
    for settings in session.scalars(select(FollowUpSettings)
                                    .where(FollowUpSettings.source_activity_id == response.activity_id)):
        assert response.first_submitted_at is not None
        row = _add(session, settings, source_key=f"survey:{response.id}", manager_id=response.respondent_id,
                   learner_id=None, anchored_at=response.first_submitted_at, response_id=response.id)
        if row is not None:
            made.append(row)
    return made


def schedule_missing(session: Session, activity: Activity | None = None) -> int:
    """Make the follow-ups that submitted answers still lack (of ``activity``, or of every follow-up), or
    schedule again the cancelled ones whose answer is in force again; cancel the unanswered ones whose
    assessment was withdrawn. Reads only answers without a live (scheduled or answered) row.

    A feedback's follow-up counts from its first submission since it was last withdrawn: the withdrawn
    submission is no longer the answer followed up."""
    query = select(FollowUpSettings)
    if activity is not None:
        query = query.where(FollowUpSettings.activity_id == activity.id)
    made = 0
    last_withdrawn = (select(AssessmentWithdrawal.assessment_id,
                             func.max(AssessmentWithdrawal.revision_number).label("number"))
                      .group_by(AssessmentWithdrawal.assessment_id).subquery())
    first_submitted = (select(AssessmentRevision.assessment_id,
                              func.min(AssessmentRevision.submitted_at).label("at"))
                       .outerjoin(last_withdrawn,
                                  last_withdrawn.c.assessment_id == AssessmentRevision.assessment_id)
                       .where(AssessmentRevision.number > func.coalesce(last_withdrawn.c.number, 0))
                       .group_by(AssessmentRevision.assessment_id).subquery())
    for settings in session.scalars(query).all():
        followed = select(FollowUp.id).where(FollowUp.activity_id == settings.activity_id,
                                             FollowUp.status != FollowUpStatus.CANCELLED)
        responses = session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.activity_id == settings.source_activity_id,
                SurveyResponse.status == SurveyResponseStatus.SUBMITTED,
                ~followed.where(FollowUp.source_response_id == SurveyResponse.id).exists())
        ).all()
        for response in responses:
            assert response.first_submitted_at is not None
            made += _add(session, settings, source_key=f"survey:{response.id}",
                         manager_id=response.respondent_id, learner_id=None,
                         anchored_at=response.first_submitted_at, response_id=response.id) is not None
        assessments = session.execute(
            select(Assessment, first_submitted.c.at)
            .join(first_submitted, first_submitted.c.assessment_id == Assessment.id)
            .where(Assessment.activity_id == settings.source_activity_id,
                   Assessment.assessor_role == AssessorRole.MANAGER,
                   Assessment.status == AssessmentStatus.SUBMITTED,
                   ~followed.where(FollowUp.source_assessment_id == Assessment.id).exists())
        ).all()
        for assessment, at in assessments:
            made += _add(session, settings, source_key=f"assessment:{assessment.id}",
                         manager_id=assessment.assessor_id, learner_id=assessment.learner_id,
                         anchored_at=_aware(at), assessment_id=assessment.id) is not None
        withdrawn = select(Assessment.id).where(Assessment.activity_id == settings.source_activity_id,
                                                Assessment.status == AssessmentStatus.WITHDRAWN)
        for row in session.scalars(select(FollowUp).where(FollowUp.activity_id == settings.activity_id,
                                                          FollowUp.status == FollowUpStatus.SCHEDULED,
                                                          FollowUp.source_assessment_id.in_(withdrawn))):
            row.status = FollowUpStatus.CANCELLED
    session.flush()
    return made


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- reminders ---------------------------------------------------------------------------------------------


def occasion_of(follow_up: FollowUp, now: datetime) -> str | None:
    """``due`` in the week it fell due, then ``week-1`` … ``week-4``; None before and after."""
    due = _aware(follow_up.due_at)
    if now < due:
        return None
    weeks = (now - due) // timedelta(weeks=1)
    if weeks > REMINDER_WEEKS:
        return None
    return "due" if weeks == 0 else f"week-{weeks}"


@periodic("follow-up-reminders", every=timedelta(hours=1))
def remind_follow_ups(session: Session, period: Period) -> str:
    from lti_tool.invitations import reminders

    made = schedule_missing(session)
    now = utcnow()
    queued = 0
    rows = session.scalars(
        select(FollowUp).join(User, User.id == FollowUp.manager_id)
        .where(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.due_at <= now,
               FollowUp.due_at > now - timedelta(weeks=REMINDER_WEEKS + 1), User.email.is_not(None))
        .order_by(FollowUp.id)
    )
    for row in rows:
        occasion = occasion_of(row, now)
        if occasion is None or reminders.opted_out(session, row.manager_id, row.activity.context_id):
            continue
        key = f"follow-up:{row.id}:{_aware(row.due_at):%Y-%m-%d}:{occasion}"
        queued += mail.enqueue_mail(session, MAIL_KIND, key, {"follow_up_id": row.id, "occasion": occasion})
    return f"{made} follow-up(s) made, {queued} reminder(s) queued"


@mail.composer(MAIL_KIND)
def follow_up_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
    from lti_tool.invitations import reminders

    row = session.get(FollowUp, payload.get("follow_up_id"))
    if row is None or row.status is not FollowUpStatus.SCHEDULED or not row.manager.email:
        return None  # answered or cancelled since the reminder was queued
    activity = row.activity
    if reminders.opted_out(session, row.manager_id, activity.context_id):
        return None
    about = f" about {person_name(row.learner)}" if row.learner is not None else ""
    unsubscribe = reminders.opt_out_url(row.manager_id, activity.context_id)
    text = (
        f"Hello{' ' + row.manager.display_name if row.manager.is_named else ''},\n\n"
        f"About six months ago you answered \"{row.source_activity.title}\" in the course "
        f"{activity.context.display_title}. The course asks you again{about}, and what has changed since: "
        f"open the activity \"{activity.title}\" in the course on your learning platform.\n\n"
        f"It was due {row.due_at:%Y-%m-%d}.\n\n"
        f"No more reminders from this course: {unsubscribe}\n"
    )
    return mail.Mail(to=row.manager.email, to_name=row.manager.name or "",
                     subject=f"Six months on: {activity.title}", text=text,
                     headers=(("List-Unsubscribe", f"<{unsubscribe}>"),
                              ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")))


# -- the manager's follow-ups ------------------------------------------------------------------------------


def follow_up_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None or not permissions.can_view_activity(actor, activity) \
            or activity.kind not in permissions.FOLLOW_UP_KINDS:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    return activity


def my_follow_ups(session: Session, actor: Actor, activity: Activity) -> list[FollowUp]:
    """The actor's follow-ups in the activity (made now if the job has not yet), soonest due first."""
    ensure(permissions.may_answer_surveys(actor))
    schedule_missing(session, activity)
    return list(session.scalars(
        select(FollowUp).where(FollowUp.activity_id == activity.id, FollowUp.manager_id == actor.user_id,
                               FollowUp.status != FollowUpStatus.CANCELLED)
        .order_by(FollowUp.due_at, FollowUp.id)
    ))


def follow_up_of(session: Session, actor: Actor, activity: Activity, follow_up_id: int) -> FollowUp:
    row = session.get(FollowUp, follow_up_id)
    if row is not None and row.activity_id != activity.id:
        row = None
    ensure(permissions.can_answer_follow_up(actor, row))
    assert row is not None
    if row.status is FollowUpStatus.CANCELLED:
        raise FollowUpError("This follow-up was cancelled: the answer it followed was withdrawn, or the "
                            "course no longer follows it up.", status=409, title="Cancelled")
    return row


def ensure_due(row: FollowUp, now: datetime | None = None) -> None:
    if _aware(row.due_at) > (now or utcnow()):
        raise FollowUpError(f"This follow-up opens on {row.due_at:%Y-%m-%d}: the course asks again once time "
                            "has passed since your answer.", status=409, title="Not due yet")


def _what_changed(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise survey.SurveyProblems({"what_changed": "Say what changed since your first answer (or that "
                                                     "nothing did)."})
    if len(text) > MAX_WHAT_CHANGED:
        raise survey.SurveyProblems({"what_changed": f"Say what changed in at most {MAX_WHAT_CHANGED:,} "
                                                     f"characters (now {len(text):,})."})
    return text


def answer_survey_again(session: Session, actor: Actor, row: FollowUp, rows: list[dict[str, str]],
                        what_changed: str, *, based_on: int, submitting: bool) -> SurveyResponse:
    """Save (or submit) the manager's new answer to the survey the follow-up asks again."""
    ensure(permissions.can_answer_follow_up(actor, row))
    ensure_due(row)
    activity, source = row.activity, row.source_activity
    if not submitting:
        response = survey.store_draft(session, activity, source, actor.user_id, rows, based_on=based_on)
        row.what_changed = (what_changed or "").strip()[:MAX_WHAT_CHANGED]
        row.response_id = response.id
        session.flush()
        return response
    problems = survey.read_rows(rows, survey.known_mistakes(session, source)).problems
    try:
        text = _what_changed(what_changed)
    except survey.SurveyProblems as refused:
        problems.update(refused.problems)
    if problems:  # both checked before anything is stored, so the form shows every problem at once
        raise survey.SurveyProblems(problems)
    response = survey.store_submission(session, activity, source, actor.user_id, rows, based_on=based_on)
    _answered(session, actor, row, what_changed=text, response_id=response.id,
              anonymous=survey.settings_of(session, source).anonymous)
    return response


def _answered(session: Session, actor: Actor, row: FollowUp, *, what_changed: str, anonymous: bool,
              **values: Any) -> None:
    row.what_changed, row.status, row.answered_at = what_changed, FollowUpStatus.ANSWERED, utcnow()
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    audit(session, None if anonymous else actor, "follow_up.answer", nobody=survey.ANONYMOUS,
          follow_up_id=row.id)
    events.follow_up_answered(session, row)


def rubric_of(session: Session, row: FollowUp) -> tuple[RubricVersion, rubrics.Rubric, AssessmentRevision]:
    """The rubric version the manager used on the learner, and their newest submitted revision."""
    from lti_tool.feedback import services as feedback
    from lti_tool.rubric_library import services as rubric_library

    assessment = row.source_assessment
    revision = feedback.newest_revision(assessment) if assessment is not None else None
    version = session.get(RubricVersion, revision.rubric_version_id) if revision and \
        revision.rubric_version_id else None
    if assessment is None or revision is None or version is None:
        raise FollowUpError("The feedback this follow-up asks about is no longer there.", status=409,
                            title="Nothing to follow up")
    return version, rubric_library.version_content(version), revision


@dataclass
class RubricAnswer:
    content: dict[str, Any]
    problems: dict[str, str] = field(default_factory=dict)


class RubricDraftConflict(FollowUpError):
    """The rubric follow-up's draft was saved from another tab or device after this form was opened."""

    status = 409
    title = "Changed elsewhere"

    def __init__(self, row: FollowUp) -> None:
        self.row = row
        super().__init__("This draft was saved from another tab or device after you opened it. Nothing of "
                         "yours was saved: your answers are still in the form. Keep yours, or take the "
                         "saved copy.")


def rubric_draft_of(row: FollowUp) -> dict[str, Any] | None:
    """The manager's saved draft of a rubric follow-up (``{"criteria": …, "what_changed": …}``), if any."""
    return row.draft_content


def save_rubric_draft(session: Session, actor: Actor, row: FollowUp, raw: Any, *, based_on: int) -> FollowUp:
    """Keep a rubric follow-up's half-typed answer (from the form's Save draft, or its autosave's JSON):
    only its shape and sizes are checked, so an incomplete one is kept. Refused with
    :class:`RubricDraftConflict` when the draft moved past ``based_on`` (another tab saved since), and with
    :class:`survey.SurveyProblems` when too long; nothing is stored then."""
    from lti_tool.feedback import content

    ensure(permissions.can_answer_follow_up(actor, row))
    ensure_due(row)
    _version, rubric, _ = rubric_of(session, row)
    if based_on != row.draft_revision:
        raise RubricDraftConflict(row)
    draft = content.read_content(raw, rubric)
    what_changed = raw.get("what_changed", "") if isinstance(raw, dict) else ""
    if not isinstance(what_changed, str):
        draft.problems["what_changed"] = "Say what changed as text."
        what_changed = ""
    what_changed = what_changed.replace("\r\n", "\n").replace("\x00", "")
    if len(what_changed) > MAX_WHAT_CHANGED:
        draft.problems["what_changed"] = f"Say what changed in at most {MAX_WHAT_CHANGED:,} characters " \
                                         f"(now {len(what_changed):,})."
    if draft.problems:
        raise survey.SurveyProblems(draft.problems, "The draft was not saved: see the messages beside the "
                                                    "answers.")
    row.draft_content = {"criteria": draft.content["criteria"], "what_changed": what_changed}
    row.draft_revision += 1
    row.draft_saved_at = utcnow()
    session.flush()
    return row


def answer_rubric_again(session: Session, actor: Actor, row: FollowUp, form: Any, *,
                        based_on: int | None = None) -> FollowUp:
    """Assess the learner again with the same rubric version, and say what changed; scored by the
    rubric engine and stored on the follow-up (answering again replaces it until the report is read).
    ``based_on``: the draft revision the form was opened at (refused when another tab saved since)."""
    from lti_tool.feedback import content

    ensure(permissions.can_answer_follow_up(actor, row))
    ensure_due(row)
    version, rubric, _ = rubric_of(session, row)
    if based_on is not None and based_on != row.draft_revision:
        raise RubricDraftConflict(row)
    draft = content.read_form(form, rubric)
    problems = dict(draft.problems)
    try:
        text = _what_changed(form.get("what_changed", ""))
    except survey.SurveyProblems as refused:
        problems.update(refused.problems)
        text = ""
    result = None
    if not draft.problems:
        try:
            result = rubrics.Scorer(rubric).score(content.answers(draft, rubric))
        except rubrics.AssessmentError as error:
            problems.update(content.problems_by_field(error))
    if problems or result is None:
        raise survey.SurveyProblems(problems or {"form": "The rubric could not be scored."})
    _answered(session, actor, row, what_changed=text, anonymous=False, draft_content=None,
              draft_revision=row.draft_revision + 1,
              rubric_answers={"rubric_version_id": version.id, **result.to_dict()})
    return row


# -- the change report -------------------------------------------------------------------------------------


def report_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_read_follow_up_report(actor, activity))
    return activity


@dataclass(frozen=True)
class GapChange:
    name: str
    before: survey.GapRow | None
    after: survey.GapRow | None

    @property
    def change(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.after.score - self.before.score


@dataclass(frozen=True)
class CriterionChange:
    criterion: str
    title: str
    before: Decimal | None
    after: Decimal | None
    """Mean points (or level number where the rubric gives no points) before and after."""

    @property
    def change(self) -> Decimal | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class LearnerChange:
    learner: User
    before_percentage: Decimal | None
    after_percentage: Decimal | None
    criteria: list[CriterionChange]
    what_changed: str


@dataclass
class ChangeReport:
    activity: Activity
    source: Activity | None
    scheduled: int = 0
    answered: int = 0
    hidden_reason: str | None = None
    """Why no figures show (an anonymous survey with fewer than k answers at either end)."""
    gaps: list[GapChange] = field(default_factory=list)
    criteria: list[CriterionChange] = field(default_factory=list)
    learners: list[LearnerChange] = field(default_factory=list)
    what_changed: list[str] = field(default_factory=list)
    """For a survey follow-up: the managers' words, without names, in no particular order of who."""


def change_report(session: Session, actor: Actor, activity: Activity) -> ChangeReport:
    ensure(permissions.can_read_follow_up_report(actor, activity))
    settings = settings_of(session, activity)
    report = ChangeReport(activity, settings.source_activity if settings else None)
    if settings is None or report.source is None:
        return report
    counts = dict(session.execute(
        select(FollowUp.status, func.count()).where(FollowUp.activity_id == activity.id)
        .group_by(FollowUp.status)
    ).all())
    report.answered = counts.get(FollowUpStatus.ANSWERED, 0)
    report.scheduled = counts.get(FollowUpStatus.SCHEDULED, 0) + report.answered
    source = report.source
    if source.kind in permissions.SURVEY_KINDS:
        if not (survey.results_visible(session, source)
                and survey.results_visible(session, source, activity)):
            k = survey.settings_of(session, source).min_answers
            report.hidden_reason = survey.NOT_ENOUGH_ANSWERS.format(k=k)
            return report
        before = {(row.gap_id, row.key): row for row in survey.ranked_gaps(session, source)}
        after = {(row.gap_id, row.key): row
                 for row in survey.ranked_gaps(session, source, answers_of=activity)}
        names = {key: (before.get(key) or after[key]).name for key in {*before, *after}}
        report.gaps = sorted((GapChange(names[key], before.get(key), after.get(key)) for key in names),
                             key=lambda change: (-(change.before.score if change.before else 0), change.name))
        report.what_changed = sorted(session.scalars(
            select(FollowUp.what_changed).where(FollowUp.activity_id == activity.id,
                                                FollowUp.status == FollowUpStatus.ANSWERED)))
        return report
    rows = session.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id,
                                                  FollowUp.status == FollowUpStatus.ANSWERED)
                           .order_by(FollowUp.id)).all()
    by_criterion: dict[str, tuple[str, list[Decimal], list[Decimal]]] = {}
    for row in rows:
        try:
            _version, _rubric, revision = rubric_of(session, row)
        except FollowUpError:
            continue
        after_lines = {line["criterion"]: line for line in (row.rubric_answers or {}).get("criteria", [])}
        changes = []
        for line in revision.criteria:
            identifier = line["criterion"]
            before_value = _criterion_value(line)
            after_value = _criterion_value(after_lines.get(identifier))
            title, befores, afters = by_criterion.setdefault(identifier, (line["title"], [], []))
            if before_value is not None:
                befores.append(before_value)
            if after_value is not None:
                afters.append(after_value)
            changes.append(CriterionChange(identifier, line["title"], before_value, after_value))
        after_percentage = (row.rubric_answers or {}).get("percentage")
        assert row.learner is not None
        report.learners.append(LearnerChange(
            row.learner, Decimal(revision.percentage) if revision.percentage is not None else None,
            Decimal(after_percentage) if after_percentage is not None else None, changes, row.what_changed))
    report.criteria = [CriterionChange(identifier, title, _mean(befores), _mean(afters))
                       for identifier, (title, befores, afters) in by_criterion.items()]
    return report


def _criterion_value(line: dict[str, Any] | None) -> Decimal | None:
    if not line:
        return None
    if line.get("points") is not None:
        return Decimal(str(line["points"]))
    return Decimal(int(line.get("level_number") or 0))


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


def follow_up_overview(session: Session, actor: Actor, activity: Activity) -> list[FollowUp] | None:
    """Every follow-up of the activity for its staff, with managers' names; None for a follow-up of an
    anonymous survey (staff then see the counts of the report only)."""
    ensure(permissions.can_read_follow_up_report(actor, activity))
    settings = settings_of(session, activity)
    if settings is not None and settings.source_activity.kind in permissions.SURVEY_KINDS and \
            not permissions.may_see_respondents(
                actor, anonymous=survey.settings_of(session, settings.source_activity).anonymous):
        return None
    return list(session.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id)
                                .order_by(FollowUp.due_at, FollowUp.id)))
