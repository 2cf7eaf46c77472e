"""The staff dashboard of a course, or of one activity: completion, managers' participation, score
distributions per criterion and per competency, weekly trends, and self-assessment against managers' scores.

Every figure is aggregated in SQL, in a fixed number of statements whatever the number of learners and
activities (``tests/tracking/test_dashboard_queries.py`` counts them):

1. the course's feedback activities with their rubric versions' content (criterion titles, levels, tags);
2. the managers linked in the course (names, and the manager filter's choices);
3. the learners expected (the course's learners, or the filtered manager's people);
4. completion per activity: expected learners with a submitted assessment by the activity's assessor;
5. one ``GROUP BY`` over :class:`~lti_tool.tracking.models.CriterionScore` by activity, version, criterion,
   assessor role, level and week, from which the distributions, means, competencies, trends and gaps are
   summed in Python (a few thousand rows at most, never one per learner);
6. managers' participation: each manager's people in each activity they assess, submitted or not, overdue
   and since when;
7. reminders delivered per manager (the ``email`` outbox messages of :mod:`lti_tool.invitations.reminders`).

A *mean* is over the in-force submissions' per-criterion percentages (points out of the criterion's
maximum); levels-only rubrics count in the distributions and not in the means. The *gap* of a criterion is
the self-assessments' mean minus the managers' mean, over every learner with either: not paired per
learner, and the counts behind both means are shown.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.db import UTCDateTime, utcnow
from lti_tool.form_values import whole_number
from lti_tool.invitations.models import ReminderTally
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    Context,
    ManagerLink,
    Membership,
    RosterMember,
    RubricVersion,
    User,
)
from lti_tool.permissions import Actor, ensure
from lti_tool.relationships import groups
from lti_tool.states import (
    ActivityKind,
    AssessmentStatus,
    AssessorRole,
    Assessors,
    CadreRole,
    ManagerLinkStatus,
)
from lti_tool.tracking.models import CriterionScore, CriterionScoreTally

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
KIND_CHOICES = tuple(kind for kind in ActivityKind if kind in permissions.FEEDBACK_KINDS)
HUNDREDTH = Decimal("0.01")
ROLES = (AssessorRole.MANAGER, AssessorRole.SELF)
ROLE_LABELS = {AssessorRole.MANAGER: "Managers", AssessorRole.SELF: "Self-assessments"}


# -- filters ---------------------------------------------------------------------------------------------


class FilterError(Exception):
    """The query string asks for something the dashboard cannot show; the message names each problem."""

    status = 400
    title = "Filters not understood"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.message = " ".join(problems)
        super().__init__(self.message)


def _day(text: str, name: str, problems: list[str]) -> date | None:
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        problems.append(
            f"The {name} date must be a date as YYYY-MM-DD (for example 2026-12-01), not “{text[:40]}”."
        )
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems.append(f"The {name} date {text} is not a day of the calendar.")
        return None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        problems.append(f"The {name} date must be between {EARLIEST_DAY} and {LATEST_DAY}.")
        return None
    return day


@dataclass(frozen=True)
class Filters:
    """The dashboard's query string: ``manager`` (a user id), ``group`` (a group or section's name,
    :mod:`lti_tool.relationships.groups`), ``from`` and ``to`` (days, UTC, inclusive: submissions in that
    range) and, on the course's dashboard, ``kind`` (an activity kind)."""

    manager_id: int | None = None
    since: date | None = None
    until: date | None = None
    kind: ActivityKind | None = None
    group: str | None = None

    @property
    def by_learner(self) -> bool:
        """Whether the filters pick learners (a manager's people, a group's members): the figures then
        come from those learners' scores, not from the course's tallies."""
        return self.manager_id is not None or self.group is not None

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, with_kind: bool = True) -> Filters:
        """Read the filters; :class:`FilterError` naming every bad one (an empty value is no filter)."""
        problems: list[str] = []
        manager_text = (args.get("manager") or "").strip()
        manager_id = None
        if manager_text:
            manager_id = whole_number(manager_text, digits=9)
            if manager_id is None:
                problems.append(
                    f"The manager must be chosen from the list (a number), not “{manager_text[:40]}”."
                )
        since = _day((args.get("from") or "").strip(), "from", problems)
        until = _day((args.get("to") or "").strip(), "to", problems)
        if since and until and since > until:
            problems.append(f"The from date ({since}) is after the to date ({until}).")
        kind = None
        kind_text = (args.get("kind") or "").strip() if with_kind else ""
        if kind_text:
            if kind_text in {choice.value for choice in KIND_CHOICES}:
                kind = ActivityKind(kind_text)
            else:
                problems.append(
                    f"There is no activity kind “{kind_text[:40]}” with scores; choose one from the list."
                )
        group = " ".join((args.get("group") or "").split()) or None
        if group is not None and len(group) > MAX_GROUP_NAME:
            problems.append(f"The group must be chosen from the list, not “{group[:40]}…”.")
        if problems:
            raise FilterError(problems)
        return cls(manager_id, since, until, kind, group)

    def query(self) -> dict[str, str]:
        """The query string of these filters (for the CSV links and the form)."""
        values = {
            "manager": "" if self.manager_id is None else str(self.manager_id),
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "kind": self.kind.value if self.kind else "",
            "group": self.group or "",
        }
        return {name: value for name, value in values.items() if value}

    def activity_query(self) -> dict[str, str]:
        """The filters an activity's dashboard keeps from the course's (not the kind)."""
        return {name: value for name, value in self.query().items() if name != "kind"}

    @property
    def starts_at(self) -> datetime | None:
        return datetime.combine(self.since, time(0), tzinfo=UTC) if self.since else None

    @property
    def ends_before(self) -> datetime | None:
        return datetime.combine(self.until + timedelta(days=1), time(0), tzinfo=UTC) if self.until else None


NO_SUCH_MANAGER = "There is no manager with the id {id} in this course; choose one from the list."
NO_SUCH_GROUP = "There is no group “{name}” in this course; choose one from the list."
MAX_GROUP_NAME = 200


# -- results ---------------------------------------------------------------------------------------------


def mean(hundredths: int, count: int) -> Decimal | None:
    """A mean percentage from the sum of hundredths of a percent, rounded half up to two places."""
    if not count:
        return None
    return (Decimal(hundredths) / Decimal(count) / 100).quantize(HUNDREDTH, ROUND_HALF_UP)


@dataclass(frozen=True)
class ActivityRow:
    id: int
    title: str
    kind: ActivityKind
    assessors: Assessors
    due_at: datetime | None
    rubric_version_id: int | None


@dataclass(frozen=True)
class Completion:
    activity: ActivityRow
    expected: int
    completed: int

    @property
    def percent(self) -> Decimal | None:
        if not self.expected:
            return None
        return (Decimal(self.completed) * 100 / Decimal(self.expected)).quantize(HUNDREDTH, ROUND_HALF_UP)


@dataclass(frozen=True)
class Participation:
    """A manager's share of the feedback: their people in the activities they assess."""

    manager_id: int
    name: str
    people: int
    expected: int
    """(learner, activity) pairs the manager assesses."""
    submitted: int
    overdue: int
    """Pairs past their activity's due date with nothing submitted."""
    oldest_due_at: datetime | None
    reminders_sent: int
    last_reminder_at: datetime | None
    now: datetime

    @property
    def overdue_days(self) -> int | None:
        """Days since the oldest due date still unmet (rounded up, like the manager's people page)."""
        if self.oldest_due_at is None:
            return None
        return max(1, math.ceil((self.now - self.oldest_due_at).total_seconds() / 86400))


@dataclass
class Tally:
    """Counts and the sum of hundredths of percentages, for a mean."""

    count: int = 0
    scored: int = 0
    hundredths: int = 0

    def add(self, count: int, scored: int, hundredths: int) -> None:
        self.count += count
        self.scored += scored
        self.hundredths += hundredths

    @property
    def mean(self) -> Decimal | None:
        return mean(self.hundredths, self.scored)


@dataclass
class CriterionSummary:
    identifier: str
    title: str
    level_titles: list[str]
    levels: dict[AssessorRole, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    tallies: dict[AssessorRole, Tally] = field(default_factory=lambda: defaultdict(Tally))

    @property
    def level_count(self) -> int:
        seen = [number for by_level in self.levels.values() for number in by_level]
        return max([len(self.level_titles), *seen])

    def level_label(self, number: int) -> str:
        if number <= len(self.level_titles):
            return f"{number}. {self.level_titles[number - 1]}"
        return f"Level {number}"

    @property
    def gap(self) -> Decimal | None:
        own, managers = self.tallies[AssessorRole.SELF].mean, self.tallies[AssessorRole.MANAGER].mean
        return None if own is None or managers is None else own - managers


@dataclass
class CompetencySummary:
    tag: str
    criteria: set[str] = field(default_factory=set)
    tallies: dict[AssessorRole, Tally] = field(default_factory=lambda: defaultdict(Tally))


@dataclass
class WeekSummary:
    week_start: date
    submissions: dict[AssessorRole, int] = field(default_factory=lambda: defaultdict(int))
    tallies: dict[AssessorRole, Tally] = field(default_factory=lambda: defaultdict(Tally))


@dataclass(frozen=True)
class ManagerChoice:
    id: int
    name: str


@dataclass
class Dashboard:
    context: Context
    activity: Activity | None
    """The activity of an activity's dashboard; None on the course's."""
    filters: Filters
    activities: list[ActivityRow]
    managers: list[ManagerChoice]
    expected_learners: int
    completion: list[Completion]
    participation: list[Participation]
    criteria: list[CriterionSummary]
    competencies: list[CompetencySummary]
    weeks: list[WeekSummary]
    now: datetime
    surveys: list[Any] = field(default_factory=list)
    """The course's insight surveys and their costliest gaps (``programme_results.SurveyGaps``)."""
    follow_ups: list[Any] = field(default_factory=list)
    """The course's six-month follow-ups and their change reports (``programme_results.FollowUpChanges``)."""
    groups: list[str] = field(default_factory=list)
    """The course's groups and sections (the group filter's choices)."""

    @property
    def completed_pairs(self) -> int:
        return sum(row.completed for row in self.completion)

    @property
    def expected_pairs(self) -> int:
        return sum(row.expected for row in self.completion)

    @property
    def completion_percent(self) -> Decimal | None:
        if not self.expected_pairs:
            return None
        return (Decimal(self.completed_pairs) * 100 / Decimal(self.expected_pairs)).quantize(
            HUNDREDTH, ROUND_HALF_UP
        )

    @property
    def gaps(self) -> list[CriterionSummary]:
        """Criteria with both self-assessments and managers' scores, the widest gap first."""
        both = [summary for summary in self.criteria if summary.gap is not None]
        return sorted(both, key=lambda summary: (-abs(summary.gap or 0), summary.title))

    def manager_name(self, manager_id: int | None) -> str | None:
        return next((choice.name for choice in self.managers if choice.id == manager_id), None)


# -- finding ---------------------------------------------------------------------------------------------


def course_for_staff(session: Session, actor: Actor, context_id: int) -> Context:
    context = session.get(Context, context_id)
    if context is None:
        ensure(permissions.refuse(404, "Course not found", permissions.COURSE_NOT_FOUND))
    assert context is not None
    ensure(permissions.can_read_course_dashboard(actor, context))
    return context


def activity_for_staff(session: Session, actor: Actor, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_read_activity_dashboard(actor, activity))
    if activity.kind not in permissions.FEEDBACK_KINDS:
        ensure(permissions.refuse(400, "No scores here", permissions.NOT_A_FEEDBACK_ACTIVITY))
    return activity


# -- the statements --------------------------------------------------------------------------------------


def expected_learners(context_id: int, manager_id: int | None, group: str | None = None) -> Select[Any]:
    """The ids of the course's learners (their launch role, else the roster's), or the filtered manager's
    people among them; only the members of ``group`` when one is given."""
    learners = union(
        select(Membership.user_id).where(
            Membership.context_id == context_id, Membership.role == CadreRole.LEARNER
        ),
        select(RosterMember.user_id).where(
            RosterMember.context_id == context_id,
            RosterMember.active.is_(True),
            RosterMember.role == CadreRole.LEARNER,
            RosterMember.user_id.not_in(
                select(Membership.user_id).where(
                    Membership.context_id == context_id, Membership.role != CadreRole.LEARNER
                )
            ),
        ),
    ).subquery()
    if group is not None:
        learners = (
            select(learners.c.user_id)
            .where(learners.c.user_id.in_(groups.members_of_group(context_id, group)))
            .subquery()
        )
    if manager_id is None:
        return select(learners.c.user_id)
    return select(ManagerLink.learner_id).where(
        ManagerLink.context_id == context_id,
        ManagerLink.manager_id == manager_id,
        ManagerLink.status == ManagerLinkStatus.ACTIVE,
        ManagerLink.learner_id.in_(select(learners.c.user_id)),
    )


def _activities(
    session: Session, context: Context, only: Activity | None, kind: ActivityKind | None
) -> tuple[list[ActivityRow], dict[int, dict[str, Any]]]:
    query = (
        select(
            Activity.id,
            Activity.title,
            Activity.kind,
            Activity.assessors,
            Activity.due_at,
            Activity.rubric_version_id,
            RubricVersion.content,
        )
        .outerjoin(RubricVersion, RubricVersion.id == Activity.rubric_version_id)
        .where(
            Activity.context_id == context.id,
            Activity.platform_id == context.platform_id,
            Activity.kind.in_(permissions.FEEDBACK_KINDS),
            Activity.configured_at.is_not(None),
        )
        .order_by(Activity.due_at.is_(None), Activity.due_at, Activity.title, Activity.id)
    )
    if only is not None:
        query = query.where(Activity.id == only.id)
    if kind is not None:
        query = query.where(Activity.kind == kind)
    rows, contents = [], {}
    for row in session.execute(query):
        rows.append(
            ActivityRow(row.id, row.title, row.kind, row.assessors, row.due_at, row.rubric_version_id)
        )
        if row.rubric_version_id is not None:
            contents[row.rubric_version_id] = row.content or {}
    return rows, contents


def _managers(session: Session, context_id: int) -> list[ManagerChoice]:
    found = session.execute(
        select(User.id, User.sub, User.name, User.given_name, User.family_name, User.email).where(
            User.id.in_(
                select(ManagerLink.manager_id).where(
                    ManagerLink.context_id == context_id, ManagerLink.status == ManagerLinkStatus.ACTIVE
                )
            )
        )
    )
    choices = [ManagerChoice(row.id, User.display_name.fget(row)) for row in found]  # type: ignore[attr-defined]
    return sorted(choices, key=lambda choice: (choice.name.casefold(), choice.id))


def _submitted_between(query: Select[Any], filters: Filters, assessment: Any = Assessment) -> Select[Any]:
    """Only assessments whose in-force revision was submitted in the filters' date range."""
    if filters.since is None and filters.until is None:
        return query
    query = query.join(
        AssessmentRevision,
        and_(
            AssessmentRevision.assessment_id == assessment.id,
            AssessmentRevision.number == assessment.revision_count,
        ),
    )
    if filters.starts_at is not None:
        query = query.where(AssessmentRevision.submitted_at >= filters.starts_at)
    if filters.ends_before is not None:
        query = query.where(AssessmentRevision.submitted_at < filters.ends_before)
    return query


SUBMITTED = literal(AssessmentStatus.SUBMITTED, Assessment.status.type, literal_execute=True)
"""``'submitted'`` written into the statement, not sent as a parameter: the partial index of submitted
assessments is then usable by every plan PostgreSQL makes of it, the generic one of a prepared statement
too."""


def completion_statement(context_id: int, assessors: Mapping[int, Assessors],
                         filters: Filters) -> Select[Any]:
    """Per activity (``assessors``: each activity's id and who assesses in it), the expected learners whose
    part is submitted. Read from the index of submitted assessments by (activity, role) pairs known before
    the query, rather than joining each of a course's submissions to its activity to learn the role."""
    pairs = [(activity_id, who.completing_role) for activity_id, who in sorted(assessors.items())]
    query = (
        select(Assessment.activity_id, func.count(distinct(Assessment.learner_id)))
        .where(
            Assessment.status == SUBMITTED,
            tuple_(Assessment.activity_id, Assessment.assessor_role).in_(pairs),
            Assessment.learner_id.in_(expected_learners(context_id, filters.manager_id, filters.group)),
        )
        .group_by(Assessment.activity_id)
    )
    return _submitted_between(query, filters)


def scores_statement(context_id: int, activity_ids: list[int], filters: Filters) -> Select[Any]:
    """The per-criterion figures, grouped finely enough for every table of the page (rubric version,
    criterion, role, level and week; not by activity, which no table needs: the activities sharing a
    rubric version share rows): from the tallies, or, filtered by manager or group (which needs the
    learners), from the scores themselves (found by the learner index)."""
    if not filters.by_learner:
        tally = CriterionScoreTally
        query = (
            select(
                tally.rubric_version_id,
                tally.criterion,
                tally.assessor_role,
                tally.level_number,
                tally.week_start,
                func.sum(tally.scores),
                func.sum(tally.scored),
                func.sum(tally.hundredths),
            )
            .where(tally.activity_id.in_(activity_ids))
            .group_by(
                tally.rubric_version_id,
                tally.criterion,
                tally.assessor_role,
                tally.level_number,
                tally.week_start,
            )
            .having(func.sum(tally.scores) > 0)
        )
        if filters.since is not None:
            query = query.where(tally.submitted_on >= filters.since)
        if filters.until is not None:
            query = query.where(tally.submitted_on <= filters.until)
        return query
    score = CriterionScore
    query = (
        select(
            func.coalesce(score.rubric_version_id, 0),
            score.criterion,
            score.assessor_role,
            score.level_number,
            score.week_start,
            func.count(),
            func.count(score.percent),
            func.coalesce(func.sum(func.round(score.percent * 100)), 0),
        )
        .where(
            score.activity_id.in_(activity_ids),
            score.learner_id.in_(expected_learners(context_id, filters.manager_id, filters.group)),
        )
        .group_by(
            score.rubric_version_id,
            score.criterion,
            score.assessor_role,
            score.level_number,
            score.week_start,
        )
    )
    if filters.starts_at is not None:
        query = query.where(score.submitted_at >= filters.starts_at)
    if filters.ends_before is not None:
        query = query.where(score.submitted_at < filters.ends_before)
    return query


def participation_statement(
    context_id: int, assessors: Mapping[int, Assessors], filters: Filters, now: datetime
) -> Select[Any]:
    """Per manager: their people, the (learner, activity) pairs they assess (the line manager only, where
    the activity says so), how many they submitted, how many are overdue and the oldest due date unmet.

    Counted, not listed: a manager's pairs in an activity are their links (or, where only the line manager
    assesses, the links that make them someone's line manager), and their submissions are counted per
    activity by one join of the submitted assessments with the links; the (manager, activity) figures
    then give the overdue pairs and the oldest due date unmet. The pairs themselves (200,000 in a course
    of 10,000 learners and 20 activities) are never made."""
    ranked = (
        select(
            ManagerLink.manager_id,
            ManagerLink.learner_id,
            func.row_number()
            .over(partition_by=ManagerLink.learner_id, order_by=(ManagerLink.created_at, ManagerLink.id))
            .label("rank"),
        )
        .where(ManagerLink.context_id == context_id, ManagerLink.status == ManagerLinkStatus.ACTIVE)
        .subquery("ranked")
    )
    if filters.group is not None:
        ranked = (
            select(ranked)
            .where(ranked.c.learner_id.in_(groups.members_of_group(context_id, filters.group)))
            .subquery("ranked_in_group")
        )
    if filters.manager_id is not None:  # ranked among all their learners' links first
        ranked = select(ranked).where(ranked.c.manager_id == filters.manager_id).subquery("ranked_of_manager")
    first = case((ranked.c.rank == 1, 1), else_=0)
    links = select(
        ranked.c.manager_id,
        func.count(distinct(ranked.c.learner_id)).label("people"),
        func.count().label("links"),
        func.sum(first).label("firsts"),
    ).group_by(ranked.c.manager_id)
    per_manager = links.subquery("per_manager")
    managed = sorted(activity_id for activity_id, who in assessors.items() if who is not Assessors.LEARNER)
    by_any_manager = sorted(activity_id for activity_id, who in assessors.items()
                            if who is Assessors.ANY_MANAGER)
    assessed = (
        select(Activity.id, Activity.assessors, Activity.due_at)
        .where(Activity.id.in_(managed))
        .subquery("assessed")
    )
    # Who assesses in each activity is known before the query: the submissions are not joined to their
    # activity to learn it (a course's 160,000 submissions, each looked up among its 20 activities).
    submitted = (
        select(ranked.c.manager_id, Assessment.activity_id, func.count().label("done"))
        .select_from(Assessment)
        .join(ranked, and_(ranked.c.learner_id == Assessment.learner_id,
                           ranked.c.manager_id == Assessment.assessor_id))
        .where(
            Assessment.activity_id.in_(managed),
            Assessment.status == SUBMITTED,
            or_(Assessment.activity_id.in_(by_any_manager), ranked.c.rank == 1),
        )
        .group_by(ranked.c.manager_id, Assessment.activity_id)
        .subquery("submitted")
    )
    any_manager = assessed.c.assessors == Assessors.ANY_MANAGER
    pairs = case((any_manager, per_manager.c.links), else_=per_manager.c.firsts)
    done = func.coalesce(submitted.c.done, 0)
    late = and_(assessed.c.due_at.is_not(None), assessed.c.due_at < now)
    # Their people are the learners of their pairs: all they are linked to once an activity lets any
    # manager assess, else those they are the line manager of.
    people = case(
        (func.max(case((any_manager, 1), else_=0)) == 1, func.max(per_manager.c.people)),
        else_=func.max(per_manager.c.firsts),
    )
    return (
        select(
            per_manager.c.manager_id,
            people,
            whole(func.sum(pairs)),
            whole(func.sum(done)),
            whole(func.sum(case((late, pairs - done), else_=0))),
            func.min(case((and_(late, pairs > done), assessed.c.due_at)), type_=UTCDateTime()),
        )
        .select_from(per_manager)
        .join(assessed, true())
        .outerjoin(submitted, and_(submitted.c.manager_id == per_manager.c.manager_id,
                                   submitted.c.activity_id == assessed.c.id))
        .group_by(per_manager.c.manager_id)
        .having(func.sum(pairs) > 0)
    )


def whole(total: Any) -> Any:
    """A SUM of whole numbers as one (PostgreSQL sums BIGINTs as NUMERIC)."""
    return cast(total, BigInteger)


def reminders_statement(activity_ids: list[int], filters: Filters) -> Select[Any]:
    """Per manager: the reminders sent about these activities, and when the last one went."""
    query = (
        select(ReminderTally.manager_id, whole(func.sum(ReminderTally.sent)),
               func.max(ReminderTally.last_sent_at, type_=UTCDateTime()))
        .where(ReminderTally.activity_id.in_(activity_ids))
        .group_by(ReminderTally.manager_id)
    )
    if filters.manager_id is not None:
        query = query.where(ReminderTally.manager_id == filters.manager_id)
    return query


def statements(
    context_id: int, assessors: Mapping[int, Assessors], filters: Filters, now: datetime
) -> dict[str, Select[Any]]:
    """The aggregate statements of a dashboard of the activities ``assessors`` names (each activity's id
    and who assesses in it), by name (the benchmark times them bare)."""
    activity_ids = sorted(assessors)
    return {
        "expected": select(func.count()).select_from(
            expected_learners(context_id, filters.manager_id, filters.group).subquery()
        ),
        "completion": completion_statement(context_id, assessors, filters),
        "scores": scores_statement(context_id, activity_ids, filters),
        "participation": participation_statement(context_id, assessors, filters, now),
        "reminders": reminders_statement(activity_ids, filters),
    }


# -- the dashboard -----------------------------------------------------------------------------------------


def _criteria_of(
    contents: dict[int, dict[str, Any]],
) -> tuple[dict[tuple[int, str], dict[str, Any]], dict[int, str]]:
    """Each (version, criterion)'s content, and each version's first criterion (counted once per
    submission)."""
    by_key, first = {}, {}
    for version_id, content in contents.items():
        for position, criterion in enumerate(content.get("criteria") or []):
            identifier = str(criterion.get("identifier", ""))
            by_key[(version_id, identifier)] = criterion
            if position == 0:
                first[version_id] = identifier
    return by_key, first


@dataclass(frozen=True)
class Frame:
    """What every tracking page of a course starts from: its activities (filtered), its managers, the
    criterion titles of the activities' rubrics, the filters checked."""

    context: Context
    filters: Filters
    activities: list[ActivityRow]
    managers: list[ManagerChoice]
    contents: dict[int, dict[str, Any]]
    groups: list[str] = field(default_factory=list)
    """The course's groups and sections (the group filter's choices)."""

    @property
    def criterion_titles(self) -> dict[str, str]:
        return {
            str(criterion.get("identifier")): str(criterion.get("title") or criterion.get("identifier"))
            for content in self.contents.values()
            for criterion in content.get("criteria") or []
        }


def frame(
    session: Session, actor: Actor, context: Context, filters: Filters, *, activity: Activity | None = None
) -> Frame:
    """The course's (or activity's) frame, as ``actor`` may read it; :class:`FilterError` for a manager
    who manages nobody in the course."""
    if activity is None:
        ensure(permissions.can_read_course_dashboard(actor, context))
    else:
        ensure(permissions.can_read_activity_dashboard(actor, activity))
    managers = _managers(session, context.id)
    if filters.manager_id is not None and all(choice.id != filters.manager_id for choice in managers):
        raise FilterError([NO_SUCH_MANAGER.format(id=filters.manager_id)])
    group_choices = groups.group_names(session, context.id)
    if filters.group is not None and filters.group not in group_choices:
        raise FilterError([NO_SUCH_GROUP.format(name=filters.group[:60])])
    activities, contents = _activities(session, context, activity, filters.kind)
    return Frame(context, filters, activities, managers, contents, group_choices)


def build(
    session: Session,
    actor: Actor,
    context: Context,
    filters: Filters,
    *,
    activity: Activity | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """The dashboard of ``context`` (or of ``activity`` in it), as ``actor`` may read it."""
    now = now or utcnow()
    found = frame(session, actor, context, filters, activity=activity)
    activities, contents, managers = found.activities, found.contents, found.managers
    ids = [row.id for row in activities]
    if not ids:
        expected = (
            session.scalar(
                select(func.count()).select_from(
                    expected_learners(context.id, filters.manager_id, filters.group).subquery()
                )
            )
            or 0
        )
        return Dashboard(
            context, activity, filters, [], managers, expected, [], [], [], [], [], now, groups=found.groups
        )
    queries = statements(context.id, {row.id: row.assessors for row in activities}, filters, now)
    expected = session.scalar(queries["expected"]) or 0
    completed = {activity_id: count for activity_id, count in session.execute(queries["completion"])}
    completion = [Completion(row, expected, int(completed.get(row.id, 0))) for row in activities]

    by_key, first_criterion = _criteria_of(contents)
    criteria: dict[str, CriterionSummary] = {}
    competencies: dict[str, CompetencySummary] = {}
    weeks: dict[date, WeekSummary] = {}
    scores = session.execute(queries["scores"])
    for version_id, identifier, role, level, week, count, scored, hundredths in scores:
        role = AssessorRole(role)
        count, scored, hundredths = int(count), int(scored), int(hundredths)
        content = by_key.get((version_id, identifier), {})
        summary = criteria.get(identifier)
        if summary is None:
            summary = criteria[identifier] = CriterionSummary(
                identifier,
                str(content.get("title") or identifier),
                [str(level_content.get("title", "")) for level_content in content.get("levels") or []],
            )
        summary.levels[role][int(level)] += count
        summary.tallies[role].add(count, scored, hundredths)
        for tag in content.get("competency_tags") or []:
            competency = competencies.setdefault(tag, CompetencySummary(tag))
            competency.criteria.add(summary.title)
            competency.tallies[role].add(count, scored, hundredths)
        week_summary = weeks.setdefault(week, WeekSummary(week))
        week_summary.tallies[role].add(count, scored, hundredths)
        if first_criterion.get(version_id) == identifier:
            week_summary.submissions[role] += count

    names = {choice.id: choice.name for choice in managers}
    reminders = {
        manager_id: (int(count), last) for manager_id, count, last in session.execute(queries["reminders"])
    }
    participation = [
        Participation(
            manager_id,
            names.get(manager_id, f"User {manager_id}"),
            int(people),
            int(pairs),
            int(done),
            int(late),
            oldest,
            *reminders.get(manager_id, (0, None)),
            now=now,
        )
        for manager_id, people, pairs, done, late, oldest in session.execute(queries["participation"])
    ]
    participation.sort(key=lambda row: (-row.overdue, -(row.overdue_days or 0), row.name.casefold()))
    ordered_criteria = sorted(
        criteria.values(), key=lambda summary: (summary.title.casefold(), summary.identifier)
    )
    return Dashboard(
        context,
        activity,
        filters,
        activities,
        managers,
        expected,
        completion,
        participation,
        ordered_criteria,
        sorted(competencies.values(), key=lambda competency: competency.tag.casefold()),
        [weeks[week] for week in sorted(weeks)],
        now,
        groups=found.groups,
    )
