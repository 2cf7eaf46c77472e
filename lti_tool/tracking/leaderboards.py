"""A course's leaderboard: opt-in per course (the designer turns it on and chooses what is ranked and how
people are named), and opt-in per person (nobody appears until they chose to; see ``LeaderboardPresence``).

What is ranked (:class:`~lti_tool.states.LeaderboardMetric`), over the course's activities assessed with
a rubric, counting the assessment that completes a learner's part (their own in a self-assessment
activity, a manager's otherwise), as the dashboard does:

* **completion**: the share of those activities whose assessment is submitted;
* **average score**: the mean percentage of the in-force per-criterion scores;
* **improvement**: the mean of the learner's latest assessed activity minus that of their first (by
  submission), in percentage points; a learner needs two assessed activities.

Who is ranked (:class:`~lti_tool.states.LeaderboardSubject`):

* **learners**, each on their own figures;
* **teams**: the people of one line manager (a learner's earliest active line-manager link), on their
  opted-in members' figures pooled (completion and score over every member's activities; improvement as
  the members' mean); a team is ranked once :data:`SMALLEST_GROUP` members chose to appear, so that a
  team's figure is never one person's;
* **managers**: on completion, the feedback they owe that they gave (the dashboard's participation,
  their own work); on scores and improvement, their opted-in people's figures as for teams.

Display (:class:`~lti_tool.states.LeaderboardDisplay`): names, initials, pseudonyms ("Learner 7", a number
each person keeps in the course), or each reader's own rank only. Learners and managers read others'
figures only where the designer allowed it (:func:`~lti_tool.permissions.may_see_leaderboard_figure`);
the course's staff read them all, but never see who chose to stay off.

Every figure comes from a few statements whatever the number of people (the page's query count is
constant, ``tests/tracking/test_leaderboards.py`` counts it). The scores come from
:class:`~lti_tool.tracking.models.AssessmentScore` (one row per in-force submission, its criteria
summed), not from the per-criterion rows: a tenth of the rows for the same sums.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, distinct, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.models import Activity, Assessment, Context, ManagerLink, User, audit
from lti_tool.permissions import Actor, ensure
from lti_tool.states import (
    AssessmentStatus,
    AssessorRole,
    Assessors,
    LeaderboardDisplay,
    LeaderboardMetric,
    LeaderboardSubject,
    ManagerLinkRelation,
    ManagerLinkStatus,
)
from lti_tool.tracking import dashboard
from lti_tool.tracking.leaderboard_models import LeaderboardPresence, LeaderboardSettings
from lti_tool.tracking.models import AssessmentScore

SMALLEST_GROUP = 3
HUNDREDTH = Decimal("0.01")
METRIC_LABELS = {
    LeaderboardMetric.COMPLETION: "Completion",
    LeaderboardMetric.AVERAGE_SCORE: "Average score",
    LeaderboardMetric.IMPROVEMENT: "Improvement",
}
METRIC_EXPLAINED = {
    LeaderboardMetric.COMPLETION: "the share of the course's assessed activities whose assessment is "
    "submitted",
    LeaderboardMetric.AVERAGE_SCORE: "the mean percentage of the in-force scores, criterion by criterion",
    LeaderboardMetric.IMPROVEMENT: "the latest assessed activity's mean score minus the first one's, in "
    "percentage points",
}
SUBJECT_LABELS = {
    LeaderboardSubject.LEARNER: "Learners",
    LeaderboardSubject.MANAGER: "Managers",
    LeaderboardSubject.TEAM: "Teams (a line manager's people)",
}
DISPLAY_LABELS = {
    LeaderboardDisplay.NAMES: "Names",
    LeaderboardDisplay.INITIALS: "Initials",
    LeaderboardDisplay.PSEUDONYMS: "Pseudonyms (“Learner 7”)",
    LeaderboardDisplay.OWN_RANK: "Only each reader's own rank",
}
NAMED = {"learner": "Learner", "manager": "Manager"}


class LeaderboardError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- settings and presence -------------------------------------------------------------------------------


def settings_of(session: Session, context_id: int) -> LeaderboardSettings | None:
    return session.get(LeaderboardSettings, context_id)


def _choice(enum: Any, value: str, message: str, field_name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise LeaderboardError(message, field_name) from None


def save_settings(session: Session, actor: Actor, context: Context, form: Any) -> LeaderboardSettings:
    """The designer's settings from a form; :class:`LeaderboardError` for a value not offered."""
    ensure(permissions.can_configure_leaderboard(actor, context))
    metric = _choice(
        LeaderboardMetric, form.get("metric", ""), "Choose what the leaderboard ranks.", "metric"
    )
    subject = _choice(
        LeaderboardSubject, form.get("subject", ""), "Choose who the leaderboard ranks.", "subject"
    )
    display = _choice(LeaderboardDisplay, form.get("display", ""), "Choose how people are named.", "display")
    enabled = form.get("enabled", "") == "on"
    show_values = form.get("show_values", "") == "on"
    settings = settings_of(session, context.id)
    if settings is None:
        settings = LeaderboardSettings(context_id=context.id)
        session.add(settings)
    settings.enabled, settings.metric, settings.subject = enabled, metric, subject
    settings.display, settings.show_values = display, show_values
    settings.updated_by_id = actor.user_id
    audit(session, actor, "leaderboard.settings_saved", context_id=context.id, enabled=enabled,
          metric=metric.value, subject=subject.value, display=display.value, show_values=show_values)
    session.flush()
    return settings


def presence_of(session: Session, context_id: int, user_id: int) -> LeaderboardPresence | None:
    return session.scalar(
        select(LeaderboardPresence).where(
            LeaderboardPresence.context_id == context_id, LeaderboardPresence.user_id == user_id
        )
    )


def choose_presence(
    session: Session, actor: Actor, context: Context, *, opted_in: bool
) -> LeaderboardPresence:
    """The actor's own choice; a first choice gives them their number in the course."""
    ensure(permissions.can_choose_leaderboard_presence(actor, context))
    presence = presence_of(session, context.id, actor.user_id)
    if presence is None:
        highest = (
            session.scalar(
                select(func.max(LeaderboardPresence.number)).where(
                    LeaderboardPresence.context_id == context.id
                )
            )
            or 0
        )
        presence = LeaderboardPresence(context_id=context.id, user_id=actor.user_id, number=highest + 1)
        try:
            with session.begin_nested():
                session.add(presence)
                session.flush()
        except IntegrityError:
            # Someone else took that number (or this person chose in another tab) at the same moment.
            raise LeaderboardError("Someone else chose at the same moment: send your choice again.") from None
    presence.opted_in = opted_in
    presence.updated_at = utcnow()
    session.flush()
    return presence


# -- the figures -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One subject's raw figures: completion pairs, score sums and per-activity means."""

    completed: int = 0
    expected: int = 0
    hundredths: int = 0
    scored: int = 0
    improvements: list[Decimal] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        self.completed += other.completed
        self.expected += other.expected
        self.hundredths += other.hundredths
        self.scored += other.scored

    def value(self, metric: LeaderboardMetric) -> Decimal | None:
        if metric is LeaderboardMetric.COMPLETION:
            if not self.expected:
                return None
            return (Decimal(self.completed) * 100 / self.expected).quantize(HUNDREDTH, ROUND_HALF_UP)
        if metric is LeaderboardMetric.AVERAGE_SCORE:
            return dashboard.mean(self.hundredths, self.scored)
        if not self.improvements:
            return None
        return (sum(self.improvements, Decimal(0)) / len(self.improvements)).quantize(
            HUNDREDTH, ROUND_HALF_UP
        )


def _activities(session: Session, context: Context) -> list[tuple[int, Assessors]]:
    return [
        (row.id, row.assessors)
        for row in session.execute(
            select(Activity.id, Activity.assessors).where(
                Activity.context_id == context.id,
                Activity.platform_id == context.platform_id,
                Activity.kind.in_(permissions.FEEDBACK_KINDS),
                Activity.configured_at.is_not(None),
            )
        )
    ]


def _role_completes(assessors: Any, role: Any) -> Any:
    """The assessment that completes a learner's part (:attr:`Assessors.completing_role`), in SQL."""
    return or_(
        and_(assessors == Assessors.LEARNER, role == AssessorRole.SELF),
        and_(assessors != Assessors.LEARNER, role == AssessorRole.MANAGER),
    )


def learner_figures(
    session: Session,
    context: Context,
    learner_ids: Any,
    activity_ids: list[int],
    metric: LeaderboardMetric,
) -> dict[int, Figures]:
    """Each learner's figures for ``metric`` (one statement, grouped in SQL by learner, and by activity
    for the improvements, over the assessments or their score sums)."""
    found: dict[int, Figures] = defaultdict(Figures)
    if not activity_ids:
        return found
    if metric is LeaderboardMetric.COMPLETION:
        for learner_id, count in session.execute(completion_statement(learner_ids, activity_ids)):
            found[learner_id].completed = int(count)
        return found
    if metric is LeaderboardMetric.AVERAGE_SCORE:  # the sums per learner suffice: a row each
        for learner_id, hundredths, scored in session.execute(
            scores_statement(learner_ids, activity_ids, per_activity=False)
        ):
            found[learner_id].hundredths, found[learner_id].scored = int(hundredths), int(scored)
        return found
    # Each learner's first and latest scored activity (by first submission, then activity id).
    first: dict[int, tuple[datetime, int, int, int]] = {}
    latest: dict[int, tuple[datetime, int, int, int]] = {}
    for learner_id, activity_id, first_at, hundredths, scored in session.execute(
        scores_statement(learner_ids, activity_ids)
    ):
        if not scored:
            continue
        key = (first_at, activity_id, int(hundredths), int(scored))
        if learner_id not in first or key < first[learner_id]:
            first[learner_id] = key
        if learner_id not in latest or key > latest[learner_id]:
            latest[learner_id] = key
    for learner_id, (_at, activity_id, hundredths, scored) in first.items():
        _at, last_activity_id, last_hundredths, last_scored = latest[learner_id]
        if last_activity_id != activity_id:
            start, end = dashboard.mean(hundredths, scored), dashboard.mean(last_hundredths, last_scored)
            assert start is not None and end is not None  # both scored
            found[learner_id].improvements.append(end - start)
    return found


def completion_statement(learner_ids: Any, activity_ids: list[int]) -> Any:
    """Per learner, how many of ``activity_ids`` have their completing assessment submitted."""
    return (
        select(Assessment.learner_id, func.count(distinct(Assessment.activity_id)))
        .join(Activity, Activity.id == Assessment.activity_id)
        .where(
            Assessment.activity_id.in_(activity_ids),
            Assessment.status == AssessmentStatus.SUBMITTED,
            _role_completes(Activity.assessors, Assessment.assessor_role),
            Assessment.learner_id.in_(learner_ids),
        )
        .group_by(Assessment.learner_id)
    )


def scores_statement(learner_ids: Any, activity_ids: list[int], *, per_activity: bool = True) -> Any:
    """Per learner and activity (or per learner only), the completing assessments' first submission
    (per activity), sum of percentages (in hundredths) and number of scored criteria, from
    :class:`AssessmentScore` (a row per assessment): only assessments released to their learner
    (:func:`~lti_tool.permissions.released_to_learner`), so a board never tells a score, its own or
    another's, before the learner may read it."""
    score = AssessmentScore
    group = (score.learner_id, score.activity_id) if per_activity else (score.learner_id,)
    first = (func.min(score.submitted_at),) if per_activity else ()
    return (
        select(*group, *first, func.sum(score.hundredths), func.sum(score.scored))
        .join(Activity, Activity.id == score.activity_id)
        .where(
            score.activity_id.in_(activity_ids),
            _role_completes(Activity.assessors, score.assessor_role),
            score.learner_id.in_(learner_ids),
            # The assessment is only looked up where its activity waits for release.
            permissions.released_to_learner(score.assessor_role, Activity, exists().where(
                Assessment.id == score.assessment_id, Assessment.released_at.is_not(None))),
        )
        .group_by(*group)
    )


# -- the board -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    given_name: str | None
    family_name: str | None
    number: int | None
    """Their leaderboard number (None: they never chose)."""


def initials(person: Person) -> str:
    parts = [part for part in (person.given_name, person.family_name) if part] or person.name.split()
    letters = [part.strip()[0].upper() for part in parts if part.strip()]
    return ". ".join(letters[:3]) + "." if letters else "?"


@dataclass(frozen=True)
class Ranked:
    rank: int
    label: str
    value: Decimal | None
    own: bool
    figure_shown: bool
    key: int
    """The learner's or manager's user id (the team's: its manager's)."""


@dataclass
class Leaderboard:
    context: Context
    settings: LeaderboardSettings
    rows: list[Ranked]
    """What the reader may see, in rank order (empty in own-rank display for learners and managers)."""
    ranked: int
    """How many are ranked."""
    own: list[Ranked]
    """The reader's own rows (their own rank, their team's)."""
    presence: LeaderboardPresence | None
    may_choose: bool
    staff_view: bool
    waiting_teams: int = 0
    """Teams (or managers) not ranked yet: fewer than :data:`SMALLEST_GROUP` members chose to appear."""

    @property
    def metric(self) -> LeaderboardMetric:
        return self.settings.metric

    def value_text(self, value: Decimal | None) -> str:
        if value is None:
            return "no figure yet"
        if self.metric is LeaderboardMetric.IMPROVEMENT:
            return f"{'+' if value > 0 else ''}{value:.2f} points"
        return f"{value:.2f}%"


def _people(session: Session, context_id: int) -> dict[int, Person]:
    """Everyone who chose to appear, with their names (one statement)."""
    rows = session.execute(
        select(
            User.id,
            User.sub,
            User.name,
            User.given_name,
            User.family_name,
            User.email,
            LeaderboardPresence.number,
        )
        .join(LeaderboardPresence, LeaderboardPresence.user_id == User.id)
        .where(LeaderboardPresence.context_id == context_id, LeaderboardPresence.opted_in.is_(True))
    )
    return {
        row.id: Person(
            row.id,
            User.display_name.fget(row),
            row.given_name,
            row.family_name,  # type: ignore[attr-defined]
            row.number,
        )
        for row in rows
    }


def _links(session: Session, context_id: int) -> tuple[dict[int, int], dict[int, set[int]]]:
    """Each learner's line manager (their earliest active line-manager link) and each manager's people
    (every active link)."""
    line_manager: dict[int, int] = {}
    people: dict[int, set[int]] = defaultdict(set)
    rows = session.execute(
        select(ManagerLink.manager_id, ManagerLink.learner_id, ManagerLink.relation)
        .where(ManagerLink.context_id == context_id, ManagerLink.status == ManagerLinkStatus.ACTIVE)
        .order_by(ManagerLink.created_at, ManagerLink.id)
    )
    for manager_id, learner_id, relation in rows:
        people[manager_id].add(learner_id)
        if relation is ManagerLinkRelation.LINE_MANAGER or relation == ManagerLinkRelation.LINE_MANAGER.value:
            line_manager.setdefault(learner_id, manager_id)
    return line_manager, people


def _label(settings: LeaderboardSettings, person: Person | None, kind: str, fallback_number: int) -> str:
    display = settings.display
    if person is None:
        return f"{NAMED[kind]} {fallback_number}"
    if display is LeaderboardDisplay.NAMES:
        return person.name
    if display is LeaderboardDisplay.INITIALS:
        return initials(person)
    return f"{NAMED[kind]} {person.number}"


def _distinct(
    found: list[tuple[int, str, Decimal]], people: dict[int, Person]
) -> list[tuple[int, str, Decimal]]:
    """Two people named alike (same initials, same name) told apart by their numbers in the course."""
    seen: dict[str, int] = defaultdict(int)
    for _key, label, _value in found:
        seen[label] += 1
    return [
        (key, f"{label} ({people[key].number})" if seen[label] > 1 and key in people else label, value)
        for key, label, value in found
    ]


def _team_label(settings: LeaderboardSettings, manager: Person | None, team_number: int) -> str:
    if manager is not None and settings.display is LeaderboardDisplay.NAMES:
        return f"Team of {manager.name}"
    if manager is not None and settings.display is LeaderboardDisplay.INITIALS:
        return f"Team of {initials(manager)}"
    return f"Team {team_number}"


def _ranks(entries: list[tuple[int, str, Decimal]]) -> list[tuple[int, int, str, Decimal]]:
    """Competition ranking, best first ("1, 2, 2, 4"); ties in label order."""
    ordered = sorted(entries, key=lambda entry: (-entry[2], entry[1].casefold(), entry[0]))
    ranked, previous, rank = [], None, 0
    for position, (key, label, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranked.append((rank, key, label, value))
    return ranked


def entries(
    session: Session, context: Context, settings: LeaderboardSettings
) -> tuple[list[tuple[int, str, Decimal]], dict[int, set[int]], int]:
    """The ranked subjects as (key, label as the display names them, figure); for teams, each team's
    members by manager; and how many teams or managers wait for members. Only people who chose to appear
    count, anywhere."""
    metric, subject = settings.metric, settings.subject
    people = _people(session, context.id)
    activities = _activities(session, context)
    activity_ids = [activity_id for activity_id, _assessors in activities]
    # The course's learners who chose to appear, as a subquery: never a list of ten thousand ids.
    chosen = select(LeaderboardPresence.user_id).where(
        LeaderboardPresence.context_id == context.id,
        LeaderboardPresence.opted_in.is_(True),
        LeaderboardPresence.user_id.in_(dashboard.expected_learners(context.id, None)),
    )
    learners = sorted(session.scalars(chosen))
    # Managers' completion is their own work (the participation below), not their people's figures.
    own_work = subject is LeaderboardSubject.MANAGER and metric is LeaderboardMetric.COMPLETION
    figures = (
        defaultdict(Figures) if own_work else learner_figures(session, context, chosen, activity_ids, metric)
    )
    for learner_id in learners:
        figures[learner_id].expected = len(activity_ids)
    found: list[tuple[int, str, Decimal]] = []
    members: dict[int, set[int]] = {}
    waiting = 0
    if subject is LeaderboardSubject.LEARNER:
        for learner_id in learners:
            value = figures[learner_id].value(metric)
            if value is not None:
                found.append((learner_id, _label(settings, people[learner_id], "learner", learner_id), value))
        return _distinct(found, people), members, waiting
    line_manager, managed = _links(session, context.id)
    if subject is LeaderboardSubject.TEAM:
        teams: dict[int, set[int]] = defaultdict(set)
        for learner_id in learners:
            if learner_id in line_manager:
                teams[line_manager[learner_id]].add(learner_id)
        numbers = {
            manager_id: number for number, manager_id in enumerate(sorted(set(line_manager.values())), 1)
        }
        for manager_id, team in teams.items():
            value = _pooled(figures, team, metric)
            if value is None:
                waiting += 1
                continue
            members[manager_id] = team
            found.append(
                (manager_id, _team_label(settings, people.get(manager_id), numbers[manager_id]), value)
            )
        return found, members, waiting
    managers = [user_id for user_id in people if user_id in managed]
    participation: dict[int, tuple[int, int]] = {}
    if metric is LeaderboardMetric.COMPLETION and activity_ids:
        statement = dashboard.participation_statement(context.id, dict(activities), dashboard.Filters(),
                                                      utcnow())
        participation = {row[0]: (int(row[3]), int(row[2])) for row in session.execute(statement)}
    for manager_id in managers:
        if metric is LeaderboardMetric.COMPLETION:
            done, expected = participation.get(manager_id, (0, 0))
            value = Figures(completed=done, expected=expected).value(metric)
        else:
            value = _pooled(figures, managed[manager_id] & set(learners), metric)
            if value is None:
                waiting += 1
        if value is not None:
            found.append((manager_id, _label(settings, people[manager_id], "manager", manager_id), value))
    return _distinct(found, people), members, waiting


def _pooled(figures: dict[int, Figures], team: set[int], metric: LeaderboardMetric) -> Decimal | None:
    """A group's figure from its opted-in members, once :data:`SMALLEST_GROUP` of them have one."""
    with_figure = [learner_id for learner_id in team if figures[learner_id].value(metric) is not None]
    if len(with_figure) < SMALLEST_GROUP:
        return None
    pooled = Figures()
    for learner_id in with_figure:
        pooled.add(figures[learner_id])
        pooled.improvements += figures[learner_id].improvements
    return pooled.value(metric)


def find_course(session: Session, context_id: int) -> Context:
    """The course ``context_id``; a guessed id is "not found" (the rules then decide who may use it)."""
    context = session.get(Context, context_id)
    if context is None:
        ensure(permissions.refuse(404, "Course not found", permissions.LEADERBOARD_COURSE_NOT_FOUND))
    assert context is not None
    return context


def course_for_leaderboard(
    session: Session, actor: Actor, context_id: int
) -> tuple[Context, LeaderboardSettings]:
    context = find_course(session, context_id)
    settings = settings_of(session, context.id)
    ensure(permissions.can_read_leaderboard(actor, context, settings))
    return context, settings or LeaderboardSettings(
        context_id=context.id,
        enabled=False,
        metric=LeaderboardMetric.COMPLETION,
        subject=LeaderboardSubject.LEARNER,
        display=LeaderboardDisplay.PSEUDONYMS,
        show_values=False,
    )


def build(session: Session, actor: Actor, context: Context, settings: LeaderboardSettings) -> Leaderboard:
    """The leaderboard as ``actor`` may read it."""
    ensure(permissions.can_read_leaderboard(actor, context, settings))
    found, members, waiting = entries(session, context, settings)
    staff = actor.may_edit
    presence = None if staff else presence_of(session, context.id, actor.user_id)
    rows: list[Ranked] = []
    for rank, key, label, value in _ranks(found):
        own = key == actor.user_id or actor.user_id in members.get(key, set())
        shown = permissions.may_see_leaderboard_figure(actor, settings, own=own)
        if own and settings.subject is not LeaderboardSubject.TEAM:
            label = f"You ({label})"
        elif own:
            label = f"Your team ({label})"
        if not staff and not own and settings.display is LeaderboardDisplay.OWN_RANK:
            label = ""
        rows.append(Ranked(rank, label, value if shown else None, own, shown, key))
    own_rows = [row for row in rows if row.own]
    visible = rows if staff or settings.display is not LeaderboardDisplay.OWN_RANK else own_rows
    return Leaderboard(
        context,
        settings,
        visible,
        len(rows),
        own_rows,
        presence,
        bool(permissions.can_choose_leaderboard_presence(actor, context)),
        staff,
        waiting,
    )
