"""What the course's staff see of an activity's feedback: every learner and every assessment of them, where
each stands (not started, draft, submitted, released, withdrawn), its score, assessor, submission time and
lateness, the delivery of its score to the gradebook (the ``ags.score`` outbox message), and each
assessment's revisions with what changed between them.

Reading the overview costs a fixed number of queries whatever the number of learners: the course's people,
its links, the activity's assessments, their newest revisions, and their outbox messages. Releasing and
retrying are :func:`lti_tool.feedback.services.release` and the outbox's ``retry_dead``, behind
:func:`~lti_tool.permissions.can_release_feedback`, with an audit entry each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.feedback import grades, services
from lti_tool.feedback.services import Learner
from lti_tool.form_values import whole_number
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    ManagerLink,
    Membership,
    OutboxMessage,
    RosterMember,
    User,
    audit,
)
from lti_tool.outbox import retry_dead
from lti_tool.permissions import Actor, ensure
from lti_tool.states import (
    AssessmentStatus,
    AssessorRole,
    CadreRole,
    FeedbackRelease,
    ManagerLinkRelation,
    ManagerLinkStatus,
    OutboxStatus,
)
from rubrics.exact_numbers import format_decimal

Person = User | Learner
"""Someone shown on the page: an entity where it was loaded anyway (an assessment's people), else columns."""
STATES = ("not_started", "draft", "submitted", "released", "withdrawn")
STATE_LABELS = {"not_started": "Not started", "draft": "Draft", "submitted": "Submitted, not released",
                "released": "Released", "withdrawn": "Withdrawn"}
SORTS = ("name", "state", "submitted", "score", "overdue")
NOT_DEAD = "This score is not waiting for a retry: only a delivery the platform refused for good is retried."


def activity_for_staff(session: Session, actor: Actor, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_oversee_feedback(actor, activity))
    if activity.kind not in permissions.FEEDBACK_KINDS:
        ensure(permissions.refuse(400, "No feedback here", permissions.NOT_A_FEEDBACK_ACTIVITY))
    return activity


def assessment_for_staff(session: Session, actor: Actor, activity: Activity,
                         assessment_id: int) -> Assessment:
    """An assessment of ``activity``; another activity's, or a guessed id, is "not found"."""
    assessment = session.get(Assessment, assessment_id)
    if assessment is None or assessment.activity_id != activity.id:
        ensure(permissions.refuse(404, "Feedback not found", permissions.FEEDBACK_NOT_FOUND))
    assert assessment is not None
    ensure(permissions.can_release_feedback(actor, assessment))
    return assessment


# -- grade delivery --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Where one revision's score stands on its way to the gradebook."""

    state: str
    """``not_graded``, ``waiting_release``, ``not_sent``, ``pending``, ``retrying``, ``delivered`` or
    ``dead``."""
    message: OutboxMessage | None = None

    @property
    def label(self) -> str:
        message = self.message
        if self.state == "delivered" and message is not None and message.delivered_at is not None:
            return f"Delivered {message.delivered_at:%Y-%m-%d %H:%M} UTC"
        return {
            "not_graded": "Not graded in the LMS", "waiting_release": "Sent once released",
            "not_sent": "Not sent", "pending": "Waiting to be sent",
            "retrying": f"Failed {message.attempts if message else 0} time(s); will try again",
            "dead": "Refused by the platform", "delivered": "Delivered",
        }[self.state]

    @property
    def reason(self) -> str | None:
        """The platform's reason (redacted by the outbox) for a failed or dead delivery."""
        if self.state in ("retrying", "dead") and self.message is not None:
            return self.message.last_error
        return None


def score_key(assessment: Assessment, revision_number: int) -> str:
    return f"{assessment.id}:{revision_number}"


def _score_messages(session: Session, keys: list[str]) -> dict[str, OutboxMessage]:
    if not keys:
        return {}
    return {message.dedupe_key: message for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == grades.TOPIC, OutboxMessage.dedupe_key.in_(keys))
    )}


def delivery_of(activity: Activity, assessment: Assessment, revision_number: int,
                message: OutboxMessage | None) -> Delivery:
    if not grades.is_graded(activity, assessment):
        return Delivery("not_graded")
    if message is None:
        if not permissions.feedback_is_released(assessment):
            return Delivery("waiting_release")
        return Delivery("not_sent")
    return Delivery({OutboxStatus.PENDING: "pending", OutboxStatus.FAILED: "retrying",
                     OutboxStatus.DEAD: "dead", OutboxStatus.DELIVERED: "delivered"}[message.status], message)


def retry_grade(session: Session, actor: Actor, assessment: Assessment) -> int:
    """Deliver the newest revision's score again, when the platform refused it for good, or send it when it
    never was though the learner sees it (the activity was switched to show feedback on submission while
    submissions waited for release); the message id."""
    ensure(permissions.can_release_feedback(actor, assessment))
    key = score_key(assessment, assessment.revision_count)
    message = _score_messages(session, [key]).get(key)
    revision = services.newest_revision(assessment)
    if message is None and revision is not None and \
            delivery_of(assessment.activity, assessment, revision.number, None).state == "not_sent":
        grades.enqueue_score(session, assessment, revision)
        session.flush()
        sent = _score_messages(session, [key])[key]
        audit(session, actor, "assessment.score_sent", message_id=sent.id, assessment_id=assessment.id,
              revision=revision.number)
        return sent.id
    if message is None or message.status is not OutboxStatus.DEAD:
        raise services.FeedbackError(NOT_DEAD)
    if retry_dead(session, grades.TOPIC, ids=[message.id]) != 1:  # retried from elsewhere meanwhile
        raise services.FeedbackError(NOT_DEAD)
    audit(session, actor, "outbox.retry_dead", topic=grades.TOPIC, message_id=message.id,
          assessment_id=assessment.id, revision=assessment.revision_count)
    return message.id


# -- the overview ----------------------------------------------------------------------------------------


def state_of(assessment: Assessment | None) -> str:
    if assessment is None:
        return "not_started"
    if assessment.status is AssessmentStatus.SUBMITTED:
        return "released" if permissions.feedback_is_released(assessment) else "submitted"
    if assessment.status is AssessmentStatus.WITHDRAWN:
        return "withdrawn"
    return "draft"


@dataclass
class AssessmentRow:
    """One learner's assessment by one assessor (or the assessment nobody has started yet)."""

    learner: Person
    learner_name: str
    """As the roster names them; empty for someone neither the roster nor a launch has named yet."""
    assessment: Assessment | None
    assessor: Person | None
    """Who assessed; for one not started, the manager expected to (None when nobody is linked)."""
    assessor_role: AssessorRole
    revision: AssessmentRevision | None
    overdue_days: int | None
    delivery: Delivery | None
    managers: list[Person] = field(default_factory=list)
    """The learner's active managers in the course (the filter by manager looks here)."""

    @property
    def state(self) -> str:
        return state_of(self.assessment)

    @property
    def state_label(self) -> str:
        if self.state == "released" and self.assessment is not None and self.assessment.released_at is None:
            return "Released on submission"
        return STATE_LABELS[self.state]

    @property
    def score(self) -> str | None:
        """``8 of 12 points (66.67%)``, ``72.5 of 100``, or the levels' rubric's word; None before any."""
        revision = self.revision
        if revision is None or self.assessment is None or self.state == "withdrawn":
            return None
        return score_text(revision)

    @property
    def submitted_at(self) -> datetime | None:
        return self.revision.submitted_at if self.revision is not None else None

    @property
    def assessor_label(self) -> str:
        if self.assessor_role is AssessorRole.SELF:
            return "Self-assessment"
        if self.assessor is None:
            return "No manager linked"
        if self.assessor_role is AssessorRole.PEER:
            return f"{self.assessor.display_name} (peer)"
        return self.assessor.display_name


def score_text(revision: AssessmentRevision) -> str:
    if revision.total is None or revision.max_possible is None:
        return "Levels only"
    unit = " points" if revision.scoring_mode == "points" else ""
    total, most = format_decimal(Decimal(revision.total)), format_decimal(Decimal(revision.max_possible))
    text = f"{total} of {most}{unit}"
    if revision.percentage is not None and unit:
        text += f" ({format_decimal(Decimal(revision.percentage))}%)"
    return text


@dataclass(frozen=True)
class Filters:
    """The staff page's query string: ``state``, ``manager`` (a user id), ``overdue`` and ``sort``."""

    state: str = ""
    manager_id: int | None = None
    overdue: bool = False
    sort: str = "name"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        state = args.get("state", "")
        manager = args.get("manager", "")
        sort = args.get("sort", "name")
        return cls(state=state if state in STATES else "",
                   manager_id=whole_number(manager, digits=9),
                   overdue=args.get("overdue") == "1", sort=sort if sort in SORTS else "name")

    def query(self, **changes: Any) -> dict[str, str]:
        """The query string of these filters with ``changes`` (for links that keep the others)."""
        values = {"state": self.state, "manager": "" if self.manager_id is None else str(self.manager_id),
                  "overdue": "1" if self.overdue else "", "sort": self.sort}
        values.update({name: str(value) for name, value in changes.items()})
        return {name: value for name, value in values.items() if value and not (name == "sort" and
                                                                                  value == "name")}

    def keeps(self, row: AssessmentRow) -> bool:
        if self.state and row.state != self.state:
            return False
        if self.manager_id is not None and not (
            (row.assessor is not None and row.assessor.id == self.manager_id)
            or any(manager.id == self.manager_id for manager in row.managers)
        ):
            return False
        return not (self.overdue and row.overdue_days is None)


@dataclass
class Overview:
    activity: Activity
    rows: list[AssessmentRow]
    """The rows the filters keep, in the chosen order."""
    total: int
    """Rows before filtering."""
    counts: dict[str, int]
    """Rows per state, before filtering."""
    managers: list[Person]
    """Everyone the manager filter offers: the course's active managers and the assessors."""

    @property
    def releasable(self) -> list[AssessmentRow]:
        return [row for row in self.rows if row.state == "submitted"]


def _sort_key(sort: str):  # type: ignore[no-untyped-def]
    def name(row: AssessmentRow) -> tuple[Any, ...]:
        return (not row.learner_name, row.learner_name.casefold(), row.learner.id,
                row.assessor_role is AssessorRole.SELF)

    if sort == "state":
        return lambda row: (STATES.index(row.state), *name(row))
    if sort == "submitted":  # newest first, never submitted last
        return lambda row: (row.submitted_at is None, -(row.submitted_at.timestamp() if row.submitted_at
                                                         else 0), *name(row))
    if sort == "score":  # highest share first, no score last
        return lambda row: (row.revision is None or row.revision.percentage is None or row.score is None,
                            -(row.revision.percentage or 0) if row.revision else 0, *name(row))
    if sort == "overdue":  # most overdue first
        return lambda row: (row.overdue_days is None, -(row.overdue_days or 0), *name(row))
    return name


class CourseLearner(NamedTuple):
    learner: Person
    name: str
    """As the roster names them; empty for someone neither the roster nor a launch has named yet."""
    managers: list[Person]
    """Their active managers in the course."""
    line_manager: Person | None
    """Who assesses them where only the line manager does (the rule of ``permissions.line_manager_id``)."""


def _person(row: Any, offset: int = 0) -> Learner:
    return Learner(*row[offset:offset + 6])


def course_learners(session: Session, context_id: int) -> dict[int, CourseLearner]:
    """The course's learners (by the platform's latest word: a launch's role over the roster's) and anyone
    ever linked to a manager there, with their active managers. Three queries of columns, however many
    people: loading them as entities was most of the page's time."""
    person = (User.id, User.sub, User.name, User.given_name, User.family_name, User.email)
    roles: dict[int, CadreRole] = {}
    people: dict[int, Learner] = {}
    contacts: dict[int, str] = {}
    for row in session.execute(
        select(*person, RosterMember.role, RosterMember.email, RosterMember.login)
        .join(RosterMember, RosterMember.user_id == User.id)
        .where(RosterMember.context_id == context_id, RosterMember.active.is_(True))
    ):
        people[row[0]], roles[row[0]] = _person(row), row[6]
        contacts[row[0]] = row[7] or row[8] or ""
    for row in session.execute(
        select(*person, Membership.role).join(Membership, Membership.user_id == User.id)
        .where(Membership.context_id == context_id)
    ):
        people[row[0]], roles[row[0]] = _person(row), row[6]
    manager, learner = aliased(User), aliased(User)
    linked: dict[int, list[tuple[Any, ...]]] = {}
    for row in session.execute(
        select(ManagerLink.learner_id, ManagerLink.status, ManagerLink.relation, ManagerLink.created_at,
               ManagerLink.id, manager.id, manager.sub, manager.name, manager.given_name, manager.family_name,
               manager.email, learner.id, learner.sub, learner.name, learner.given_name, learner.family_name,
               learner.email)
        .join(manager, manager.id == ManagerLink.manager_id)
        .join(learner, learner.id == ManagerLink.learner_id)
        .where(ManagerLink.context_id == context_id)
    ):
        linked.setdefault(row[0], []).append(row)
        people.setdefault(row[0], _person(row, 11))
    found: dict[int, CourseLearner] = {}
    for user_id, known in people.items():
        links = linked.get(user_id, [])
        if roles.get(user_id, CadreRole.LEARNER) is not CadreRole.LEARNER and not links:
            continue
        active = sorted((link for link in links if link[1] is ManagerLinkStatus.ACTIVE),
                        key=lambda link: (link[2] is not ManagerLinkRelation.LINE_MANAGER, link[3], link[4]))
        managers = [_person(link, 5) for link in active]
        name = known.display_name if known.is_named else contacts.get(user_id, "")
        found[user_id] = CourseLearner(known, name, sorted(managers, key=_by_display_name),
                                       managers[0] if managers else None)
    return found


def _by_display_name(person: Person) -> tuple[str, int]:
    return (person.display_name.casefold(), person.id)


def overview(session: Session, actor: Actor, activity: Activity, filters: Filters, *,
             now: datetime | None = None) -> Overview:
    """Every learner of the course (and anyone assessed in the activity) with each of their assessments."""
    ensure(permissions.can_oversee_feedback(actor, activity))
    now = now or utcnow()
    learners = course_learners(session, activity.context_id)
    assessments = list(session.scalars(
        select(Assessment).where(Assessment.activity_id == activity.id).order_by(Assessment.id)
        .options(selectinload(Assessment.learner), selectinload(Assessment.assessor))
    ))
    newest = {revision.assessment_id: revision for revision in session.scalars(
        select(AssessmentRevision).join(Assessment, Assessment.id == AssessmentRevision.assessment_id)
        .where(Assessment.activity_id == activity.id, AssessmentRevision.number == Assessment.revision_count)
    )}
    messages = _score_messages(session, [score_key(a, a.revision_count) for a in assessments
                                         if a.revision_count > 0])
    by_learner: dict[int, list[Assessment]] = {}
    for assessment in assessments:
        by_learner.setdefault(assessment.learner_id, []).append(assessment)

    for assessment in assessments:  # assessed, but no longer in the roster: still shown
        if assessment.learner_id not in learners:
            learner = assessment.learner
            learners[learner.id] = CourseLearner(learner, learner.display_name if learner.is_named else "",
                                                  [], None)

    graded_role = activity.assessors.completing_role
    rows: list[AssessmentRow] = []
    for learner_id, (learner, name, managers, line_manager) in learners.items():
        own = by_learner.get(learner_id, [])
        for assessment in own:
            revision = newest.get(assessment.id)
            done = assessment.status is AssessmentStatus.SUBMITTED
            graded = assessment.assessor_role is graded_role
            late = services.overdue_days(activity, done, now) if graded else None
            rows.append(AssessmentRow(
                learner, name, assessment, assessment.assessor, assessment.assessor_role, revision, late,
                delivery_of(activity, assessment, revision.number, messages.get(
                    score_key(assessment, revision.number))) if revision is not None else None,
                managers))
        if not any(assessment.assessor_role is graded_role for assessment in own):
            expected = None if graded_role is AssessorRole.SELF else line_manager
            rows.append(AssessmentRow(learner, name, None, expected, graded_role, None,
                                      services.overdue_days(activity, False, now), None, managers))
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        counts[row.state] += 1
    offered: dict[int, Person] = {}
    for known in learners.values():
        offered.update({manager.id: manager for manager in known.managers})
    offered.update({assessment.assessor.id: assessment.assessor for assessment in assessments
                    if assessment.assessor_role is AssessorRole.MANAGER})
    kept = sorted((row for row in rows if filters.keeps(row)), key=_sort_key(filters.sort))
    return Overview(activity, kept, len(rows), counts, sorted(offered.values(), key=_by_display_name))


def release_all_submitted(session: Session, actor: Actor, activity: Activity) -> int:
    """Release every submitted assessment of ``activity`` still waiting for staff; how many."""
    ensure(permissions.can_oversee_feedback(actor, activity))
    if activity.feedback_release is not FeedbackRelease.WHEN_RELEASED:
        raise services.FeedbackError(services.NOTHING_TO_RELEASE)
    waiting = list(session.scalars(
        select(Assessment).where(Assessment.activity_id == activity.id,
                                 Assessment.status == AssessmentStatus.SUBMITTED,
                                 Assessment.released_at.is_(None)).order_by(Assessment.id)
    ))
    for assessment in waiting:
        services.release(session, actor, assessment)
    return len(waiting)


# -- history ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionChange:
    title: str
    level: tuple[str, str] | None
    """(before, after) level titles when the level changed."""
    points: tuple[str, str] | None
    comment: tuple[str, str] | None


@dataclass(frozen=True)
class RevisionChanges:
    """What revision ``number`` changed from the one before it."""

    number: int
    criteria: list[CriterionChange]
    total: tuple[str, str] | None
    strengths: tuple[str, str] | None
    next_steps: tuple[str, str] | None
    rubric_version: tuple[int | None, int | None] | None

    @property
    def nothing(self) -> bool:
        return not (self.criteria or self.total or self.strengths or self.next_steps or self.rubric_version)


def _changed(before: Any, after: Any) -> tuple[Any, Any] | None:
    return None if before == after else (before, after)


def changes_between(older: AssessmentRevision, newer: AssessmentRevision) -> RevisionChanges:
    """Per criterion (matched by identifier): level, points and comment changed; the total; the overall
    texts. A criterion only one of them has (the rubric version moved) shows as changed from or to nothing."""
    old = {line["criterion"]: line for line in older.criteria}
    new = {line["criterion"]: line for line in newer.criteria}
    criteria = []
    for identifier in [*new, *(key for key in old if key not in new)]:
        before, after = old.get(identifier, {}), new.get(identifier, {})
        change = CriterionChange(
            (after or before).get("title", identifier),
            _changed(before.get("level_title", "—"), after.get("level_title", "—")),
            _changed(before.get("points") or "—", after.get("points") or "—"),
            _changed(before.get("comment", ""), after.get("comment", "")),
        )
        if change.level or change.points or change.comment:
            criteria.append(change)
    return RevisionChanges(
        newer.number, criteria, _changed(score_text(older), score_text(newer)),
        _changed(older.strengths, newer.strengths), _changed(older.next_steps, newer.next_steps),
        _changed(older.rubric_version_id, newer.rubric_version_id),
    )


@dataclass
class RevisionEntry:
    revision: AssessmentRevision
    changes: RevisionChanges | None
    """From the revision before (None for the first)."""
    delivery: Delivery


@dataclass
class History:
    assessment: Assessment
    entries: list[RevisionEntry]
    """Newest first."""
    withdrawals: list[Any]


def history(session: Session, actor: Actor, assessment: Assessment) -> History:
    ensure(permissions.can_release_feedback(actor, assessment))
    revisions = list(session.scalars(
        select(AssessmentRevision).where(AssessmentRevision.assessment_id == assessment.id)
        .order_by(AssessmentRevision.number).options(selectinload(AssessmentRevision.submitted_by))
    ))
    messages = _score_messages(session, [score_key(assessment, revision.number) for revision in revisions])
    entries = []
    for position, revision in enumerate(revisions):
        entries.append(RevisionEntry(
            revision, changes_between(revisions[position - 1], revision) if position else None,
            delivery_of(assessment.activity, assessment, revision.number,
                        messages.get(score_key(assessment, revision.number)))))
    return History(assessment, entries[::-1], services.withdrawals_of(assessment))
