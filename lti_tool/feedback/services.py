"""Feedback: assessments of a learner in an activity, their drafts, revisions and withdrawals.

Every function takes the request's session and an :class:`~lti_tool.permissions.Actor`, asks
:mod:`lti_tool.permissions` (``can_assess``, ``can_read_feedback``) and never commits: the unit of work
does, with the outbox message of an AGS score in the same transaction.

* **Drafts** are saved over and over (the form's *Save draft*, and the script's autosave). Each save names
  the draft revision it started from; a save from an older one is refused with :class:`DraftConflict`,
  which carries the server's copy, so a second tab or device never silently overwrites the first. The
  check is a conditional ``UPDATE … WHERE draft_revision = :seen``, safe between concurrent requests.
* **Submitting** scores the draft with the activity's pinned rubric version through ``rubrics.Scorer``,
  appends an :class:`~lti_tool.models.AssessmentRevision` (never changed afterwards) with the total, its
  explanation and the activity's settings, freezes the rubric version, and enqueues the score for the
  LMS (``lti_tool.feedback.grades``) when the activity sends grades and the learner may see it.
* Editing after submission opens a new draft; submitting it makes the next revision. **Withdrawing** a
  submission needs a reason, kept in :class:`~lti_tool.models.AssessmentWithdrawal`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, bindparam, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, object_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningUpdate

import rubrics
from lti_tool import permissions
from lti_tool.db import losable_on_crash, losable_on_crash_returning, utcnow
from lti_tool.deliverables import work_products
from lti_tool.feedback import content, grades
from lti_tool.feedback.content import Draft
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    AssessmentWithdrawal,
    ManagerLink,
    User,
    audit,
    display_name_of,
)
from lti_tool.permissions import Actor, ensure
from lti_tool.records import events as learning_records
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import AssessmentStatus, AssessorRole, Assessors, FeedbackRelease
from rubrics.exact_numbers import format_decimal

MAX_REASON = 2000
MAX_REPLY = 5000
NOT_SET_UP = (
    "This activity has no rubric yet: the course's designer has not finished setting it up. "
    "Come back to it later."
)

NOTHING_TO_RELEASE = (
    "Learners in this activity see their feedback as soon as it is submitted, so there is nothing to release."
)
RELEASE_SUBMITTED_ONLY = "Only submitted feedback is released; this feedback is a draft or was withdrawn."


class FeedbackError(Exception):
    status = 400
    title = "Not possible"
    message = "Cadre cannot do that with this feedback."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class NotSetUp(FeedbackError):
    status = 409
    title = "Not set up yet"
    message = NOT_SET_UP


class DraftConflict(FeedbackError):
    """The draft was saved (from another tab or device) after the one being saved was opened."""

    status = 409
    title = "Changed elsewhere"

    def __init__(self, assessment: Assessment) -> None:
        self.assessment = assessment
        when = f"{assessment.draft_saved_at:%H:%M} UTC" if assessment.draft_saved_at else "a moment ago"
        super().__init__(
            f"This feedback was saved from another tab or device at {when}, after you opened it. Nothing "
            "of yours was saved over it: compare the two below, then keep yours or take the saved one."
        )


class DraftProblems(FeedbackError):
    """What was typed cannot be saved or submitted as it is; ``draft.problems`` says why, by field."""

    def __init__(self, draft: Draft, message: str = "Some answers need your attention: see the messages "
                                                       "beside them.") -> None:
        self.draft = draft
        super().__init__(message)


# -- finding ---------------------------------------------------------------------------------------------


def feedback_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """An activity assessed with a rubric, of the actor's course."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise permissions.PermissionDenied(
            permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    ensure(permissions.can_view_activity(actor, activity))
    if activity.kind not in permissions.FEEDBACK_KINDS:
        ensure(permissions.refuse(400, "No feedback here", permissions.NOT_A_FEEDBACK_ACTIVITY))
    return activity


def ensure_set_up(activity: Activity) -> None:
    """:class:`NotSetUp` unless the activity has its pinned rubric version (the rubric is not read)."""
    if activity.rubric_version_id is None or activity.configured_at is None:
        raise NotSetUp()


def rubric_of(activity: Activity) -> rubrics.Rubric:
    """The engine's rubric for the activity's pinned version; :class:`NotSetUp` without one."""
    ensure_set_up(activity)
    assert activity.rubric_version_id is not None
    session = object_session(activity)
    assert session is not None, "rubric_of needs an activity loaded from the database"
    return rubric_library.rubric_of_version(session, activity.rubric_version_id,
                                            content_hash=activity.loaded_rubric_content_hash())


def learner_to_assess(session: Session, actor: Actor, activity: Activity, learner_id: int) -> User:
    """The learner ``learner_id``, if the actor may assess them in ``activity`` (a guessed id is 404)."""
    learner = permissions.person_with_managers(session, activity.context_id, learner_id)
    if learner is None:
        ensure(permissions.refuse(404, "Person not found", permissions.NOT_YOUR_PERSON))
    assert learner is not None
    ensure(permissions.can_assess(actor, learner, activity))
    return learner


def find_assessment(session: Session, activity: Activity, learner: User, assessor_id: int, *,
                    with_draft: bool = True) -> Assessment | None:
    """The assessor's assessment of ``learner`` in ``activity``; ``with_draft=False`` leaves the draft's
    content unread until something asks for it (a save replaces it without looking)."""
    query = select(Assessment).where(Assessment.activity_id == activity.id,
                                     Assessment.learner_id == learner.id,
                                     Assessment.assessor_id == assessor_id)
    if not with_draft:
        query = query.options(defer(Assessment.draft_content))
    return session.scalars(query).first()


def _role_of(session: Session, actor: Actor, activity: Activity, learner: User) -> AssessorRole:
    if actor.user_id == learner.id:
        return AssessorRole.SELF
    if activity.kind in permissions.PEER_KINDS \
            and permissions.reviews_peer(session, actor, activity, learner.id):
        return AssessorRole.PEER
    return AssessorRole.MANAGER


def _open_assessment(session: Session, actor: Actor, activity: Activity, learner: User) -> Assessment:
    """The actor's assessment of ``learner``, made on its first save. Two first saves at once (two tabs)
    both reach here: the second's insert fails on the unique key and it takes the first's row."""
    found = find_assessment(session, activity, learner, actor.user_id, with_draft=False)
    if found is not None:
        return found
    now = utcnow()
    assessment = Assessment(activity=activity, learner=learner, assessor_id=actor.user_id,
                            assessor_role=_role_of(session, actor, activity, learner),
                            status=AssessmentStatus.DRAFT, draft_revision=0, revision_count=0,
                            learner_reply="", created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(assessment)
    except IntegrityError:
        found = find_assessment(session, activity, learner, actor.user_id)
        if found is None:
            raise
        return found
    return assessment


def _ensure_assessor(actor: Actor, assessment: Assessment) -> None:
    if assessment.assessor_id != actor.user_id:
        ensure(permissions.refuse(404, "Feedback not found", permissions.FEEDBACK_NOT_FOUND))
    ensure(permissions.can_assess(actor, assessment.learner, assessment.activity))


# -- drafts ----------------------------------------------------------------------------------------------


def _write_draft(session: Session, assessment: Assessment, draft_content: dict[str, Any] | None,
                 based_on: int, **values: Any) -> None:
    """Store the draft if nobody saved since ``based_on``; otherwise :class:`DraftConflict` with the
    server's copy. Concurrent saves are serialised by the row lock of the conditional UPDATE."""
    now = utcnow()
    changes = {"draft_content": draft_content, "draft_revision": based_on + 1, "draft_saved_at": now,
               "updated_at": now, **values}
    result = session.execute(
        update(Assessment)
        .where(Assessment.id == assessment.id, Assessment.draft_revision == based_on)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(assessment)
        raise DraftConflict(assessment)
    for name, value in changes.items():
        set_committed_value(assessment, name, value)


def save_draft(session: Session, actor: Actor, activity: Activity, learner: User, draft: Draft, *,
               based_on: int) -> Assessment:
    """Save what the assessor typed (complete or not) over the draft revision ``based_on``."""
    ensure(permissions.can_assess(actor, learner, activity))
    ensure_set_up(activity)
    if draft.problems:
        raise DraftProblems(draft)
    assessment = _open_assessment(session, actor, activity, learner)
    session.flush()
    _write_draft(session, assessment, draft.content, based_on)
    return assessment


@dataclass(frozen=True)
class SavedDraft:
    """What an autosave stored: the draft's new revision and when."""

    draft_revision: int
    saved_at: datetime


def autosave(session: Session, actor: Actor, activity: Activity, learner: User, draft: Draft, *,
             based_on: int) -> SavedDraft:
    """:func:`save_draft` for the form's script, which saves every few seconds: the same checks and the
    same revision rule, in one statement when the assessment exists and nobody saved since (the conditional
    UPDATE finds it by its key and answers what it stored). Otherwise :func:`save_draft` makes the
    assessment, or raises :class:`DraftConflict` with the server's copy.

    Not worth waiting for the disk every few seconds: the save is :func:`~lti_tool.db.losable_on_crash`
    (a crash of the database server can lose the last fraction of a second of autosaves, and the open
    form's next save then meets the older revision as a conflict that keeps what was typed;
    docs/operations.md, "Durability"), set by the UPDATE itself."""
    ensure(permissions.can_assess(actor, learner, activity))
    ensure_set_up(activity)
    if draft.problems:
        raise DraftProblems(draft)
    now = utcnow()
    stored = session.execute(_autosave_update(losable_on_crash_returning(session)), {
        "of_activity": activity.id, "of_learner": learner.id, "by_assessor": actor.user_id,
        "based_on": based_on, "new_content": draft.content, "new_revision": based_on + 1, "now": now,
    }).first()
    if stored is not None:
        return SavedDraft(stored.draft_revision, stored.draft_saved_at)
    assessment = save_draft(session, actor, activity, learner, draft, based_on=based_on)
    losable_on_crash(session)
    assert assessment.draft_saved_at is not None
    return SavedDraft(assessment.draft_revision, assessment.draft_saved_at)


@functools.cache
def _autosave_update(losable: tuple[ColumnElement[Any], ...]) -> ReturningUpdate[Any]:
    """Built once (per database: ``losable`` is what its RETURNING adds): every autosave runs it."""
    table = Assessment.__table__.c  # bound names other than the columns' (SQLAlchemy reserves those)
    return (
        update(Assessment.__table__)  # the table's, not the ORM's: no bulk-update machinery per call
        .where(table.activity_id == bindparam("of_activity"), table.learner_id == bindparam("of_learner"),
               table.assessor_id == bindparam("by_assessor"), table.draft_revision == bindparam("based_on"))
        .values(draft_content=bindparam("new_content"), draft_revision=bindparam("new_revision"),
                draft_saved_at=bindparam("now"), updated_at=bindparam("now"))
        .returning(table.draft_revision, table.draft_saved_at, *losable)
    )


def draft_of(assessment: Assessment | None, activity: Activity) -> Draft:
    """What the form shows: the open draft, else the newest revision's answers, else an empty form."""
    rubric = rubric_of(activity)
    if assessment is None:
        return Draft(content.empty_content())
    if assessment.draft_content is not None:
        return Draft(content.read_content(assessment.draft_content, rubric).content)
    revision = newest_revision(assessment)
    if revision is None:
        return Draft(content.empty_content())
    return Draft(content.content_of_revision(revision.criteria, revision.strengths, revision.next_steps))


# -- submitting, withdrawing, releasing ----------------------------------------------------------------------


def settings_snapshot(activity: Activity) -> dict[str, Any]:
    """The activity's settings as they were when a revision was submitted."""
    return {
        "title": activity.title, "kind": activity.kind.value, "rubric_version_id": activity.rubric_version_id,
        "assessors": activity.assessors.value, "feedback_release": activity.feedback_release.value,
        "points_possible": None if activity.points_possible is None
        else format_decimal(Decimal(activity.points_possible)),
        "grades_to_lms": activity.grades_to_lms, "work_product_required": activity.work_product_required,
        "due_at": activity.due_at.isoformat() if activity.due_at else None,
        "due_timezone": activity.due_timezone,
    }


DeliverableCheck = Callable[[Session, Activity, User], "str | None"]
_DELIVERABLE_CHECKS: list[DeliverableCheck] = []


def before_feedback(check: DeliverableCheck) -> DeliverableCheck:
    """Register ``check(session, activity, learner)``: why a manager may not submit feedback on the learner
    yet (what the learner must hand in first, as a relationship map must be shared), or None. Features
    register theirs when the app starts, so this module imports none of them."""
    if check not in _DELIVERABLE_CHECKS:
        _DELIVERABLE_CHECKS.append(check)
    return check


def missing_deliverable(session: Session, activity: Activity, learner: User) -> str | None:
    """What the learner must still hand in before their manager's feedback is submitted: the work product
    the activity requires, or what a registered check (:func:`before_feedback`) asks for; None when
    nothing."""
    if missing := work_products.missing_before_feedback(session, activity, learner):
        return missing
    for check in _DELIVERABLE_CHECKS:
        if found := check(session, activity, learner):
            return found
    return None


def submit(session: Session, actor: Actor, activity: Activity, learner: User, draft: Draft, *,
           based_on: int) -> AssessmentRevision:
    """Score ``draft`` with the activity's rubric version and append it as the next revision.

    Refused with :class:`DraftProblems` (problems by field, nothing stored) when the engine finds the
    answers incomplete or wrong, and with :class:`DraftConflict` when the draft changed elsewhere since
    ``based_on``.
    """
    ensure(permissions.can_assess(actor, learner, activity))
    rubric = rubric_of(activity)
    if actor.user_id != learner.id and (missing := missing_deliverable(session, activity, learner)):
        draft.problems["form"] = missing
        raise DraftProblems(draft, missing)
    if draft.problems:
        raise DraftProblems(draft)
    try:
        result = rubrics.Scorer(rubric).score(content.answers(draft, rubric))
    except rubrics.AssessmentError as error:
        draft.problems.update(content.problems_by_field(error))
        raise DraftProblems(draft) from None
    assessment = _open_assessment(session, actor, activity, learner)
    session.flush()
    number = assessment.revision_count + 1
    _write_draft(session, assessment, None, based_on, status=AssessmentStatus.SUBMITTED,
                 revision_count=number)
    version = activity.rubric_version
    assert version is not None
    scored = result.to_dict()
    revision = AssessmentRevision(
        assessment=assessment, number=number, rubric_version_id=version.id, criteria=scored["criteria"],
        strengths=draft.strengths.strip(), next_steps=draft.next_steps.strip(),
        scoring_mode=result.scoring_mode.value, total=result.total, max_possible=result.max_possible,
        percentage=result.percentage, explanation=scored["explanation"],
        activity_settings=settings_snapshot(activity), submitted_by_user_id=actor.user_id,
        submitted_at=utcnow(),
    )
    session.add(revision)
    rubric_library.mark_version_used(session, version)
    session.flush()
    audit(session, actor, "assessment.submit", assessment_id=assessment.id, revision=number,
          activity_id=activity.id, learner_id=learner.id)
    grades.enqueue_score(session, assessment, revision)
    learning_records.assessment_submitted(session, assessment, revision)
    return revision


def withdraw(session: Session, actor: Actor, assessment: Assessment, reason: str) -> AssessmentWithdrawal:
    """Withdraw the submitted feedback: the learner no longer sees it; the reason is kept."""
    _ensure_assessor(actor, assessment)
    reason = (reason or "").strip()
    if assessment.status is not AssessmentStatus.SUBMITTED:
        raise FeedbackError("Only submitted feedback can be withdrawn, and this feedback is not submitted.")
    if not reason:
        raise FeedbackError("Say why you withdraw this feedback: the reason is kept with it.")
    if len(reason) > MAX_REASON:
        raise FeedbackError(f"The reason is {len(reason):,} characters long; the limit is {MAX_REASON:,}.")
    withdrawal = AssessmentWithdrawal(
        assessment_id=assessment.id, revision_number=assessment.revision_count, reason=reason,
        withdrawn_by_user_id=actor.user_id, withdrawn_at=utcnow(),
    )
    session.add(withdrawal)
    assessment.status = AssessmentStatus.WITHDRAWN
    assessment.updated_at = utcnow()
    session.flush()
    audit(session, actor, "assessment.withdraw", assessment_id=assessment.id,
          revision=assessment.revision_count)
    learning_records.assessment_withdrawn(session, assessment, withdrawal)
    return withdrawal


def release(session: Session, actor: Actor, assessment: Assessment) -> Assessment:
    """Staff release feedback that waits for them; its score goes to the LMS then."""
    ensure(permissions.can_release_feedback(actor, assessment))
    if assessment.activity.feedback_release is not FeedbackRelease.WHEN_RELEASED:
        raise FeedbackError(NOTHING_TO_RELEASE)
    if assessment.status is not AssessmentStatus.SUBMITTED:
        raise FeedbackError(RELEASE_SUBMITTED_ONLY)
    if assessment.released_at is None:
        assessment.released_at = utcnow()
        assessment.released_by_user_id = actor.user_id
        session.flush()
        audit(session, actor, "assessment.release", assessment_id=assessment.id)
        revision = newest_revision(assessment)
        if revision is not None:
            grades.enqueue_score(session, assessment, revision)
    return assessment


def acknowledge(session: Session, actor: Actor, assessment: Assessment, reply: str) -> Assessment:
    """The learner says they read the newest revision, with a reply (optional) their manager reads."""
    ensure(permissions.can_read_feedback(actor, assessment))
    if actor.user_id != assessment.learner_id:
        raise FeedbackError("Only the learner acknowledges their feedback.")
    reply = (reply or "").replace("\r\n", "\n").strip()
    if len(reply) > MAX_REPLY:
        raise FeedbackError(f"Your reply is {len(reply):,} characters long; the limit is {MAX_REPLY:,}.")
    now = utcnow()
    assessment.acknowledged_revision = assessment.revision_count
    assessment.acknowledged_at = now
    if reply:
        assessment.learner_reply = reply
        assessment.learner_reply_at = now
    session.flush()
    audit(session, actor, "assessment.acknowledge", assessment_id=assessment.id,
          revision=assessment.revision_count)
    if reply:
        learning_records.feedback_replied(session, assessment)
    return assessment


# -- reading ---------------------------------------------------------------------------------------------


def revisions_of(assessment: Assessment) -> list[AssessmentRevision]:
    session = Session.object_session(assessment)
    assert session is not None
    return list(session.scalars(
        select(AssessmentRevision).where(AssessmentRevision.assessment_id == assessment.id)
        .order_by(AssessmentRevision.number)
    ))


def newest_revision(assessment: Assessment) -> AssessmentRevision | None:
    if assessment.revision_count < 1:
        return None
    session = Session.object_session(assessment)
    assert session is not None
    return session.scalars(
        select(AssessmentRevision).where(AssessmentRevision.assessment_id == assessment.id,
                                         AssessmentRevision.number == assessment.revision_count)
    ).first()


def withdrawals_of(assessment: Assessment) -> list[AssessmentWithdrawal]:
    session = Session.object_session(assessment)
    assert session is not None
    return list(session.scalars(
        select(AssessmentWithdrawal).where(AssessmentWithdrawal.assessment_id == assessment.id)
        .order_by(AssessmentWithdrawal.id)
    ))


@dataclass(frozen=True)
class AssessmentState:
    """Where an assessment stands, as a list of people shows it: read without the draft's content, which
    a list of hundreds would otherwise load and decode only to know whether there is one."""

    id: int
    status: AssessmentStatus
    has_draft: bool


HAS_DRAFT = func.coalesce(cast(Assessment.draft_content, Text), "null") != "null"
"""Whether an assessment has a draft open, in SQL (a JSON column stores "no draft" as JSON null)."""


class Learner:
    """A learner as a list of people shows them: their columns and names, not an ORM entity (a list holds
    hundreds, and loading entities, then working their names out again for every use, was most of the
    manager's people page)."""

    __slots__ = ("id", "sub", "name", "given_name", "family_name", "email", "display_name", "is_named",
                 "shown_name")

    def __init__(self, id: int, sub: str, name: str | None, given_name: str | None,  # noqa: A002 - the column
                 family_name: str | None, email: str | None) -> None:
        self.id, self.sub, self.name, self.given_name, self.family_name, self.email = (
            id, sub, name, given_name, family_name, email)
        self.display_name = display_name_of(sub, name, given_name, family_name, email)
        """As :attr:`User.display_name`."""
        self.is_named = bool(name or given_name or family_name or email)
        """As :attr:`User.is_named`."""
        self.shown_name: str | None = self.display_name if self.is_named else None
        """The name to show, or None for someone the roster has not named (never an LTI id)."""

    def __repr__(self) -> str:
        return f"Learner(id={self.id!r}, sub={self.sub!r}, name={self.shown_name!r})"


STATE_LABELS = {"not_started": "Not started", "draft": "Draft", "submitted": "Submitted",
                "draft_changes": "Submitted (changes not submitted)", "withdrawn": "Withdrawn"}


class PersonStatus:
    """One of the manager's people in an activity, and where their feedback stands (worked out once: a list
    shows, filters and sorts hundreds)."""

    __slots__ = ("learner", "assessment", "overdue_days", "waiting_for_work_product", "state", "label")

    def __init__(self, learner: Learner, assessment: AssessmentState | None, overdue_days: int | None,
                 waiting_for_work_product: bool = False) -> None:
        self.learner = learner
        self.assessment = assessment
        self.overdue_days = overdue_days
        """Days past the due date while not submitted (None when not overdue)."""
        self.waiting_for_work_product = waiting_for_work_product
        """The activity requires a work product and the learner has not submitted one yet."""
        if assessment is None:
            state = "not_started"
        elif assessment.status is AssessmentStatus.SUBMITTED:
            state = "draft_changes" if assessment.has_draft else "submitted"
        else:
            state = assessment.status.value
        self.state = state
        label = STATE_LABELS[state]
        if waiting_for_work_product:
            label += ", waiting for work product"
        if overdue_days is not None:
            label += f", overdue by {overdue_days} day{'s' if overdue_days != 1 else ''}"
        self.label = label

    def __repr__(self) -> str:
        return f"PersonStatus({self.learner!r}, state={self.state!r}, overdue_days={self.overdue_days!r})"


def overdue_days(activity: Activity, submitted: bool, now: datetime) -> int | None:
    if activity.due_at is None or submitted or now <= activity.due_at:
        return None
    return max(1, math.ceil((now - activity.due_at).total_seconds() / 86400))


@functools.cache
def _my_people(*, line_manager_only: bool) -> Select[Any]:
    """:func:`my_people`'s query, built once per shape (building it cost a fifth of the people list)."""
    actor_id, context_id = bindparam("actor_id"), bindparam("context_id")
    query = (
        select(User.id, User.sub, User.name, User.given_name, User.family_name, User.email,
               Assessment.id, Assessment.status, HAS_DRAFT)
        .join(ManagerLink, ManagerLink.learner_id == User.id)
        .outerjoin(Assessment, (Assessment.activity_id == bindparam("activity_id"))
                   & (Assessment.learner_id == User.id) & (Assessment.assessor_id == actor_id))
        .where(permissions.active_links_of(actor_id, context_id))
        .order_by(User.name, User.sub)
    )
    if line_manager_only:
        query = query.where(permissions.line_manager_of(User.id, context_id) == actor_id)
    return query


def my_people(session: Session, actor: Actor, activity: Activity, *,
              now: datetime | None = None) -> list[PersonStatus]:
    """The learners the actor may assess in ``activity``, by name, with their status. One query whatever
    the number of people (the actor's links, each learner's line manager where only line managers assess,
    and the actor's assessment of each), and one more where a work product must come first."""
    ensure(permissions.may_give_feedback(actor))
    if activity.assessors is Assessors.LEARNER:
        return []
    now = now or utcnow()
    rows = session.execute(_my_people(line_manager_only=activity.assessors is Assessors.LINE_MANAGER), {
        "activity_id": activity.id, "context_id": activity.context_id, "actor_id": actor.user_id}).all()
    overdue = overdue_days(activity, False, now)
    with_work = None  # who submitted the work product the activity requires: one query more, only then
    if activity.work_product_required and permissions.accepts_work_products(activity):
        with_work = work_products.learners_who_submitted(session, activity.id, [row[0] for row in rows])
    people = []
    for *columns, assessment_id, status, has_draft in rows:
        learner = Learner(*columns)
        assessment = None if assessment_id is None else AssessmentState(assessment_id, status, has_draft)
        submitted = status is AssessmentStatus.SUBMITTED
        waiting = with_work is not None and learner.id not in with_work and not submitted
        people.append(PersonStatus(learner, assessment, None if submitted else overdue, waiting))
    return people


@dataclass(frozen=True)
class LearnerFeedback:
    """What a learner sees in an activity: the feedback released to them, and their self-assessment."""

    given: list[tuple[Assessment, AssessmentRevision]]
    """Their managers' (and peers') assessments they may read, each with its newest revision."""
    own: Assessment | None
    own_revision: AssessmentRevision | None
    reviewers: dict[int, str] = field(default_factory=dict)
    """How each given assessment's author is named to the learner (an anonymous peer is "Peer reviewer
    n"): pages name authors from here, never from the assessment's assessor."""

    def reviewer(self, assessment: Assessment) -> str:
        return self.reviewers.get(assessment.id, "A reviewer")


def feedback_for_learner(session: Session, actor: Actor, activity: Activity) -> LearnerFeedback:
    ensure(permissions.may_read_own_feedback(actor))
    ensure(permissions.can_view_activity(actor, activity))
    given: list[tuple[Assessment, AssessmentRevision]] = []
    own: Assessment | None = None
    for assessment in session.scalars(
        select(Assessment).where(Assessment.activity_id == activity.id,
                                 Assessment.learner_id == actor.user_id).order_by(Assessment.id)
    ):
        if assessment.assessor_role is AssessorRole.SELF:
            own = assessment
        elif permissions.can_read_feedback(actor, assessment):
            revision = newest_revision(assessment)
            if revision is not None:
                given.append((assessment, revision))
    own_revision = newest_revision(own) if own is not None else None
    from lti_tool.feedback.peers import reviewer_labels

    return LearnerFeedback(given, own, own_revision,
                           reviewer_labels(session, actor, activity, [assessment for assessment, _ in given]))


def readable_assessment(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        ensure(permissions.refuse(404, "Feedback not found", permissions.FEEDBACK_NOT_FOUND))
    assert assessment is not None
    ensure(permissions.can_read_feedback(actor, assessment))
    return assessment
