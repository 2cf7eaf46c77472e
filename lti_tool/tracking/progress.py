"""Progress per person: scores per competency over time, what is due, what improved, where refreshers stand.

Read by the manager's team view (their people: :mod:`lti_tool.tracking.team`) and the learner's progress
view (themself), both through :func:`build`, which takes *who* and *which scores* as SQL conditions from
:mod:`lti_tool.permissions` (``team_members`` with ``team_scores_visible``; the learner alone with
``own_progress_visible``), so a page never holds a score its reader may not see.

The statements are as many for one person as for a team of hundreds (``tests/tracking/test_progress.py``
counts them):

1. the course's feedback activities with their rubric versions (criterion titles, competency tags);
2. the people's names;
3. one ``GROUP BY`` over :class:`~lti_tool.tracking.models.CriterionScore` by person, rubric version,
   criterion and week (the in-force scores only), from which each competency's weekly mean is summed;
4. the people's line managers in the course (who gives the feedback in a line-manager activity);
5. the people's assessments in those activities (their state, not their scores): what is due;
6. the revised assessments with their first and in-force percentages;
7. the six-month rubric follow-ups the reader answered, against the assessment they followed up
   (managers only: the learner's view has no follow-ups, whose answers are the manager's and the staff's);
8. the people's refreshers, every step (:func:`lti_tool.tracking.refreshers.refreshers_for`).

A competency's mean is over the per-criterion percentages of the criteria tagged with it (levels-only
rubrics have none and do not count), the same as the staff dashboard's; *improved* compares a
competency's latest week with its first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.models import Activity, Assessment, AssessmentRevision, Context, ManagerLink, User
from lti_tool.programme.models import FollowUp
from lti_tool.states import (
    AssessmentStatus,
    AssessorRole,
    Assessors,
    FollowUpStatus,
    ManagerLinkRelation,
    ManagerLinkStatus,
)
from lti_tool.tracking.dashboard import ActivityRow, mean
from lti_tool.tracking.dashboard import _activities as course_activities
from lti_tool.tracking.models import CriterionScore
from lti_tool.tracking.refreshers import RefresherState, RefresherSummary, refreshers_for, summarise

# -- what a page shows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One week of a competency: the mean of the scores submitted that week, and how many."""

    week: date
    mean: Decimal
    scores: int
    hundredths: int
    """The sum of the scores' percentages in hundredths (exact, for means over several people)."""


@dataclass
class CompetencyTrend:
    tag: str
    criteria: set[str] = field(default_factory=set)
    """The titles of the criteria tagged with it (in the rubrics the scores came from)."""
    points: list[Point] = field(default_factory=list)

    @property
    def first(self) -> Point | None:
        return self.points[0] if self.points else None

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def change(self) -> Decimal | None:
        """Percentage points from the first week to the latest; None with fewer than two weeks."""
        if len(self.points) < 2:
            return None
        return self.points[-1].mean - self.points[0].mean


class DueState:
    DONE = "done"
    DRAFT = "draft"
    DUE = "due"
    OVERDUE = "overdue"
    WAITING = "waiting"
    """Someone else's part (the line manager's, the learner's): shown for information."""


@dataclass(frozen=True)
class DueItem:
    """One activity for one person: whose part it is, and where it stands."""

    activity: ActivityRow
    part: str
    """Who acts: ``you``, ``self`` (the learner's self-assessment), ``line_manager`` (another manager's)."""
    state: str
    now: datetime

    @property
    def overdue_days(self) -> int | None:
        if self.state != DueState.OVERDUE or self.activity.due_at is None:
            return None
        return max(1, math.ceil((self.now - self.activity.due_at).total_seconds() / 86400))


@dataclass(frozen=True)
class Revision:
    """An assessment submitted again: its first submission's percentage and the one in force."""

    activity_title: str
    revisions: int
    first_percent: Decimal | None
    latest_percent: Decimal | None
    submitted_at: datetime

    @property
    def change(self) -> Decimal | None:
        if self.first_percent is None or self.latest_percent is None:
            return None
        return self.latest_percent - self.first_percent


@dataclass(frozen=True)
class FollowUpChange:
    """A six-month follow-up answered with the rubric, against the assessment it followed up."""

    activity_title: str
    before_percent: Decimal | None
    after_percent: Decimal | None
    answered_at: datetime | None

    @property
    def change(self) -> Decimal | None:
        if self.before_percent is None or self.after_percent is None:
            return None
        return self.after_percent - self.before_percent


@dataclass
class PersonProgress:
    learner_id: int
    name: str
    competencies: list[CompetencyTrend] = field(default_factory=list)
    due: list[DueItem] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    follow_ups: list[FollowUpChange] = field(default_factory=list)
    refreshers: list[RefresherState] = field(default_factory=list)
    """Every step of their refreshers, in due order."""

    @property
    def improved(self) -> list[CompetencyTrend]:
        """Competencies whose latest week is above their first, the largest rise first."""
        rising = [trend for trend in self.competencies if (trend.change or 0) > 0]
        return sorted(rising, key=lambda trend: (-(trend.change or 0), trend.tag))

    @property
    def overdue(self) -> int:
        return sum(item.state == DueState.OVERDUE and item.part in ("you", "self") for item in self.due)

    @property
    def open_items(self) -> list[DueItem]:
        return [item for item in self.due if item.state in (DueState.DUE, DueState.OVERDUE, DueState.DRAFT)]

    @property
    def refresher_counts(self) -> RefresherSummary:
        return summarise(self.refreshers)


@dataclass
class Progress:
    """The people of one page, in name order, with the course's competencies over every one of them."""

    context: Context
    people: list[PersonProgress]
    weeks: list[date]
    now: datetime

    def person(self, learner_id: int) -> PersonProgress | None:
        return next((person for person in self.people if person.learner_id == learner_id), None)

    @property
    def team_competencies(self) -> list[CompetencyTrend]:
        """Every person's scores together, per competency and week (the team's chart)."""
        totals: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        criteria: dict[str, set[str]] = defaultdict(set)
        for person in self.people:
            for trend in person.competencies:
                criteria[trend.tag] |= trend.criteria
                for point in trend.points:
                    total = totals[trend.tag][point.week]
                    total[0] += point.scores
                    total[1] += point.hundredths
        return _trends(totals, criteria)


# -- building ------------------------------------------------------------------------------------------------


def _trends(totals: dict[str, dict[date, list[int]]], criteria: dict[str, set[str]]) -> list[CompetencyTrend]:
    """Trends from (count, sum of hundredths) per competency and week (exact sums: one rounding, here)."""
    trends = []
    for tag in sorted(totals, key=str.casefold):
        points = []
        for week in sorted(totals[tag]):
            count, hundredths = totals[tag][week]
            value = mean(hundredths, count)
            if value is not None:
                points.append(Point(week, value, count, hundredths))
        if points:
            trends.append(CompetencyTrend(tag, criteria[tag], points))
    return trends


Visible = Callable[[Any], ColumnElement[bool]]
"""The permission rule's SQL condition for the scores a reader may see, given the entity carrying
``learner_id`` and ``assessor_id`` (``CriterionScore`` for the scores, ``Assessment`` for the revisions)."""


def scores_statement(activity_ids: list[int], people: Select[Any], visible: Visible) -> Select[Any]:
    """Per person, version, criterion and week: how many percentages and their sum in hundredths."""
    score = CriterionScore
    return (
        select(
            score.learner_id,
            func.coalesce(score.rubric_version_id, 0),
            score.criterion,
            score.week_start,
            func.count(score.percent),
            func.coalesce(func.sum(func.round(score.percent * 100)), 0),
        )
        .join(Assessment, Assessment.id == score.assessment_id)
        .join(Activity, Activity.id == score.activity_id)
        .where(score.activity_id.in_(activity_ids), score.learner_id.in_(people), visible(score))
        .group_by(score.learner_id, score.rubric_version_id, score.criterion, score.week_start)
    )


def _competencies(
    session: Session, statement: Select[Any], contents: dict[int, dict[str, Any]]
) -> dict[int, list[CompetencyTrend]]:
    tags_of: dict[tuple[int, str], tuple[str, list[str]]] = {}
    for version_id, content in contents.items():
        for criterion in content.get("criteria") or []:
            identifier = str(criterion.get("identifier", ""))
            title = str(criterion.get("title") or identifier)
            tags_of[(version_id, identifier)] = (title, list(criterion.get("competency_tags") or []))
    totals: dict[int, dict[str, dict[date, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0, 0]))
    )
    criteria: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for learner_id, version_id, identifier, week, scored, hundredths in session.execute(statement):
        if not scored:
            continue
        title, tags = tags_of.get((version_id, identifier), (identifier, []))
        for tag in tags:
            total = totals[learner_id][tag][week]
            total[0] += int(scored)
            total[1] += int(hundredths)
            criteria[learner_id][tag].add(title)
    return {learner_id: _trends(found, criteria[learner_id]) for learner_id, found in totals.items()}


def _line_managers(session: Session, context_id: int, people: Select[Any]) -> dict[int, int]:
    """Each person's line manager in the course (the order of ``permissions.line_manager_id``)."""
    found: dict[int, int] = {}
    for learner_id, manager_id in session.execute(
        select(ManagerLink.learner_id, ManagerLink.manager_id)
        .where(
            ManagerLink.context_id == context_id,
            ManagerLink.status == ManagerLinkStatus.ACTIVE,
            ManagerLink.learner_id.in_(people),
        )
        .order_by(
            ManagerLink.learner_id,
            ManagerLink.relation != ManagerLinkRelation.LINE_MANAGER,
            ManagerLink.created_at,
            ManagerLink.id,
        )
    ):
        found.setdefault(learner_id, manager_id)
    return found


def _due(
    session: Session,
    reader_id: int,
    as_manager: bool,
    activities: list[ActivityRow],
    people: Select[Any],
    line_managers: dict[int, int],
    person_ids: list[int],
    now: datetime,
) -> dict[int, list[DueItem]]:
    """What each person has in each activity: the reader's part (their feedback, or the learner's own
    self-assessment), and the others' parts for information, from the assessments' states alone."""
    states: dict[tuple[int, int, str], AssessmentStatus] = {}
    for activity_id, learner_id, assessor_id, role, status in session.execute(
        select(
            Assessment.activity_id,
            Assessment.learner_id,
            Assessment.assessor_id,
            Assessment.assessor_role,
            Assessment.status,
        ).where(
            Assessment.activity_id.in_([row.id for row in activities]),
            Assessment.learner_id.in_(people),
            Assessment.assessor_role.in_((AssessorRole.MANAGER, AssessorRole.SELF)),
        )
    ):
        if role is AssessorRole.SELF:
            key = (activity_id, learner_id, "self")
        elif assessor_id == reader_id or (not as_manager and assessor_id == line_managers.get(learner_id)):
            key = (activity_id, learner_id, "manager")
        else:
            continue
        states[key] = status

    def state_of(key: tuple[int, int, str], activity: ActivityRow, acting: bool) -> str:
        status = states.get(key)
        if status is AssessmentStatus.SUBMITTED:
            return DueState.DONE
        if not acting:
            return DueState.WAITING
        if status is AssessmentStatus.DRAFT:
            return DueState.DRAFT
        late = activity.due_at is not None and activity.due_at < now
        return DueState.OVERDUE if late else DueState.DUE

    due: dict[int, list[DueItem]] = {learner_id: [] for learner_id in person_ids}
    for learner_id in person_ids:
        for activity in activities:
            if activity.assessors is Assessors.LEARNER:
                part = "self"
                state = state_of((activity.id, learner_id, "self"), activity, not as_manager)
            elif as_manager:
                mine = (
                    activity.assessors is Assessors.ANY_MANAGER or line_managers.get(learner_id) == reader_id
                )
                if not mine:
                    continue  # another manager's part, whose state is theirs to read
                part = "you"
                state = state_of((activity.id, learner_id, "manager"), activity, True)
            else:
                part = "line_manager"
                state = state_of((activity.id, learner_id, "manager"), activity, False)
            due[learner_id].append(DueItem(activity, part, state, now))
    return due


def _revisions(
    session: Session, activity_ids: list[int], people: Select[Any], visible: Visible
) -> dict[int, list[Revision]]:
    first, latest = aliased(AssessmentRevision), aliased(AssessmentRevision)
    found: dict[int, list[Revision]] = defaultdict(list)
    for learner_id, title, count, first_percent, latest_percent, submitted_at in session.execute(
        select(
            Assessment.learner_id,
            Activity.title,
            Assessment.revision_count,
            first.percentage,
            latest.percentage,
            latest.submitted_at,
        )
        .join(Activity, Activity.id == Assessment.activity_id)
        .join(first, and_(first.assessment_id == Assessment.id, first.number == 1))
        .join(latest, and_(latest.assessment_id == Assessment.id, latest.number == Assessment.revision_count))
        .where(
            Assessment.activity_id.in_(activity_ids),
            Assessment.learner_id.in_(people),
            Assessment.status == AssessmentStatus.SUBMITTED,
            Assessment.revision_count > 1,
            visible(Assessment),
        )
        .order_by(latest.submitted_at, Assessment.id)
    ):
        found[learner_id].append(Revision(title, count, first_percent, latest_percent, submitted_at))
    return found


def _follow_ups(
    session: Session, context_id: int, manager_id: int, people: Select[Any]
) -> dict[int, list[FollowUpChange]]:
    """The rubric follow-ups ``manager_id`` answered about the people in this course (a manager of the
    same person in two courses sees each course's on its own page), against the followed-up assessment's
    in-force percentage."""
    source = aliased(AssessmentRevision)
    found: dict[int, list[FollowUpChange]] = defaultdict(list)
    for learner_id, title, answers, before, answered_at in session.execute(
        select(
            FollowUp.learner_id,
            Activity.title,
            FollowUp.rubric_answers,
            source.percentage,
            FollowUp.answered_at,
        )
        .join(Activity, Activity.id == FollowUp.activity_id)
        .join(Assessment, Assessment.id == FollowUp.source_assessment_id)
        .join(source, and_(source.assessment_id == Assessment.id, source.number == Assessment.revision_count))
        .where(
            Activity.context_id == context_id,
            FollowUp.manager_id == manager_id,
            FollowUp.learner_id.in_(people),
            FollowUp.status == FollowUpStatus.ANSWERED,
            FollowUp.rubric_answers.is_not(None),
        )
        .order_by(FollowUp.answered_at, FollowUp.id)
    ):
        after = (answers or {}).get("percentage")
        found[learner_id].append(
            FollowUpChange(title, before, None if after in (None, "") else Decimal(str(after)), answered_at)
        )
    return found


def build(
    session: Session,
    context: Context,
    people: Select[Any],
    *,
    reader_id: int,
    as_manager: bool,
    visible: Visible,
    now: datetime | None = None,
) -> Progress:
    """The progress of ``people`` (a ``SELECT`` of learner ids, already limited by the permission rules)
    in ``context``, with only the scores ``visible`` lets through; ``as_manager`` for the team view
    (the reader's own part in each activity, their follow-ups), else the learner's own view."""
    now = now or utcnow()
    activities, contents = course_activities(session, context, None, None)
    names = {user.id: user.display_name for user in session.scalars(select(User).where(User.id.in_(people)))}
    person_ids = sorted(names, key=lambda user_id: (names[user_id].casefold(), user_id))
    ids = [row.id for row in activities]
    trends = _competencies(session, scores_statement(ids, people, visible), contents) if ids else {}
    line_managers = _line_managers(session, context.id, people)
    due = (
        _due(session, reader_id, as_manager, activities, people, line_managers, person_ids, now)
        if ids
        else {}
    )
    revisions = _revisions(session, ids, people, visible) if ids else {}
    follow_ups = _follow_ups(session, context.id, reader_id, people) if as_manager else {}
    refreshers = refreshers_for(session, person_ids, context.id, now)
    weeks = sorted({point.week for found in trends.values() for trend in found for point in trend.points})
    return Progress(
        context,
        [
            PersonProgress(
                learner_id,
                names[learner_id],
                trends.get(learner_id, []),
                due.get(learner_id, []),
                revisions.get(learner_id, []),
                follow_ups.get(learner_id, []),
                refreshers.get(learner_id, []),
            )
            for learner_id in person_ids
        ],
        weeks,
        now,
    )


def team_of(
    session: Session, actor: permissions.Actor, context: Context, *, now: datetime | None = None
) -> Progress:
    """The manager's team view: every person actively linked to ``actor`` in the course, with the scores
    of the feedback ``actor`` gave (:func:`lti_tool.permissions.team_scores_visible`)."""
    return build(
        session,
        context,
        permissions.team_members(actor),
        reader_id=actor.user_id,
        as_manager=True,
        visible=lambda entity: permissions.team_scores_visible(actor, entity),
        now=now,
    )


def person_of(
    session: Session,
    actor: permissions.Actor,
    context: Context,
    learner_id: int,
    *,
    now: datetime | None = None,
) -> Progress:
    """One of the manager's people (the progress of that person alone);
    :class:`~lti_tool.permissions.PermissionDenied` ("not found") for anyone else."""
    permissions.ensure(permissions.can_follow_person(actor, session, learner_id))
    people = permissions.team_members(actor).where(ManagerLink.learner_id == learner_id)
    progress = build(
        session,
        context,
        people,
        reader_id=actor.user_id,
        as_manager=True,
        visible=lambda entity: permissions.team_scores_visible(actor, entity),
        now=now,
    )
    assert progress.person(learner_id) is not None  # can_follow_person found the link
    return progress


def own_progress(
    session: Session, actor: permissions.Actor, context: Context, *, now: datetime | None = None
) -> Progress:
    """The learner's own progress, with their self-assessments and the feedback released to them."""
    return build(
        session,
        context,
        select(User.id).where(User.id == actor.user_id),
        reader_id=actor.user_id,
        as_manager=False,
        visible=lambda entity: permissions.own_progress_visible(actor, entity, Assessment, Activity),
        now=now,
    )
