"""Spaced refreshers: short reminders of what the training taught, sent back to a learner who scored low.

A designer attaches **refreshers** (a text in Markdown, a link, or both) to a criterion or to a competency
tag of an activity's pinned rubric. When an assessment of a learner there (by a manager, a coach or a peer:
not the learner's own self-assessment), once the learner may read it, scores below the threshold on that
criterion (or, for a competency, on the mean of the criteria tagged with it), the refresher is **scheduled**
on the activity's spacing schedule: one :class:`ScheduledRefresher` per step, due 1, 3, 7 and 21 days (by
default) after the weak score, or after the refresher was made if that is later. Scores are read from the
dashboards' in-force table (``tracking.models.CriterionScore``); a levels-only criterion counts its level
as a share of the way from the first level (0%) to the last (100%).

The learner sees due refreshers on their next launch and on their refreshers page, marks each one done
(an xAPI ``completed`` statement), and gets each by e-mail when the activity says so, unless they opted out
of the course's e-mail (``invitations.reminders``: the same opt-out as managers' reminders). Their
managers see where their people's refreshers stand (:func:`refreshers_for`).

A **revised** assessment scoring at or above the threshold stops the steps still scheduled (a withdrawn one
stops them too), and says so on the learner's page. One weak finding gets one schedule: a revision still
below the threshold (the same score with a comment changed, a weaker score, or a better one still below)
continues the schedule it started, whatever its steps' state (to come, done or missed), and adds nothing.
A new schedule starts only for a new weak finding: a revision weak again after one at or above the threshold
ended the last finding (whether or not it had steps left to stop), another criterion or competency weak
(its own refresher), or another assessment weak when no schedule of that refresher runs for the learner.

Feedback **waiting for release** (the activity has staff release it, even when its designer chose that after
a schedule started) pauses its refreshers, and is never told as a withdrawal: nothing is scheduled from it,
what it scheduled is shown to nobody (the learner, their managers), e-mailed or marked done, and a revision
of it at or above the threshold still stops the steps left, silently until the release. Once released, the
schedule resumes rather than starting over (its steps done stay done): the steps not done count their days
again from the release, so the learner gets them spaced from when they may read the feedback, not all at
once (an activity switched back to showing feedback on submission shows them on their first days: no
release says when the pause ended). The course's designers see the paused steps in their counts.

The scheduler is the ``refreshers`` job of ``cadre jobs run`` (every ten minutes): it schedules, stops and
queues e-mails (outbox key ``refresher:<scheduled id>``). It is idempotent: the rows' unique key (refresher,
learner, revision, step) is written with ``ON CONFLICT DO NOTHING``, and a period is done once however
many hosts run the command (``outbox.jobs``). Saving the settings or a refresher runs the same scheduling
for that activity at once, and so does a submission, revision, withdrawal or release of an assessment, just
before its transaction commits: the learner's next page already says what a revision did.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session

from lti_tool import mail, permissions
from lti_tool.db import utcnow
from lti_tool.form_values import whole_number
from lti_tool.invitations.models import ReminderOptOut
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    Context,
    RosterMember,
    RubricVersion,
    RubricVersionCompetency,
    User,
    audit,
)
from lti_tool.outbox import Period, periodic
from lti_tool.permissions import Actor, ensure
from lti_tool.states import AssessorRole, RefresherStatus, RefresherTarget
from lti_tool.tracking.models import CriterionScore, decimal_of, percent_of
from lti_tool.tracking.refresher_models import Refresher, RefresherSettings, ScheduledRefresher
from lti_tool.web.markdown import render_markdown

DEFAULT_THRESHOLD = Decimal(60)
DEFAULT_SPACING = (1, 3, 7, 21)
MAX_STEPS = 10
MAX_DAYS = 365
MAX_TITLE = 200
MAX_BODY = 5000
MAX_URL = 2000
MAIL_KIND = "refresher"
JOB_EVERY = timedelta(minutes=10)
EMAIL_WITHIN = timedelta(days=7)
"""A step whose day passed longer ago than this (cron stopped for a week) is shown, not e-mailed."""
STOPPED_SHOWN_FOR = timedelta(days=30)
"""How long the learner's page says that a schedule was stopped, and why."""
HUNDRED = Decimal(100)


class RefresherProblems(Exception):
    """A form's problems, by field; nothing was saved."""

    def __init__(self, problems: dict[str, str], message: str = "Nothing was saved: see the messages "
                                                                 "beside the fields.") -> None:
        super().__init__(message)
        self.problems = problems
        self.message = message


class RefresherConflict(Exception):
    """What the learner asked no longer fits the refresher's state (stopped, not due yet)."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


# -- what a refresher may watch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: RefresherTarget
    key: str
    label: str

    @property
    def choice(self) -> str:
        """The value of the form's option: ``criterion:<id>`` or ``competency:<tag>``."""
        return f"{self.kind.value}:{self.key}"


def targets_of(session: Session, activity: Activity) -> list[Target]:
    """The pinned rubric version's criteria, then its competency tags (none without a rubric)."""
    version = session.get(RubricVersion, activity.rubric_version_id) if activity.rubric_version_id else None
    if version is None:
        return []
    found = [Target(RefresherTarget.CRITERION, str(criterion["identifier"]), str(criterion["title"]))
             for criterion in version.content.get("criteria", [])]
    tags = sorted({row.competency_tag for row in session.scalars(
        select(RubricVersionCompetency).where(RubricVersionCompetency.version_id == version.id))})
    return found + [Target(RefresherTarget.COMPETENCY, tag, tag) for tag in tags]


def configurable_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """The activity whose refreshers ``actor`` sets up: a rubric-assessed activity of their course."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise permissions.PermissionDenied(
            permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    ensure(permissions.can_configure_refreshers(actor, activity))
    return activity


# -- settings ----------------------------------------------------------------------------------------------


def settings_of(session: Session, activity: Activity) -> RefresherSettings:
    """The activity's settings, or the defaults (not added to the session)."""
    found = session.get(RefresherSettings, activity.id)
    return found or RefresherSettings(activity_id=activity.id, threshold_percent=DEFAULT_THRESHOLD,
                                      spacing_days=list(DEFAULT_SPACING), send_email=True)


def parse_threshold(text: str, *, required: bool) -> tuple[Decimal | None, str | None]:
    """A percentage above 0 and at most 100, with up to two decimals; (value, problem)."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return (None, "Give a percentage from 1 to 100.") if required else (None, None)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None, "Give the threshold as a number of percent, such as 60."
    if not value.is_finite() or not Decimal(0) < value <= HUNDRED:
        return None, "Give a percentage above 0 and at most 100."
    if value != value.quantize(Decimal("0.01")):
        return None, "Give the threshold with at most two decimals."
    return value.quantize(Decimal("0.01")), None


def parse_spacing(text: str) -> tuple[list[int], str | None]:
    """``"1, 3, 7, 21"``: whole days, increasing, 1 to 365, at most ten steps; (days, problem)."""
    parts = [part.strip() for part in text.replace(";", ",").replace(" ", ",").split(",") if part.strip()]
    if not parts:
        return [], "Give at least one number of days, such as 1, 3, 7, 21."
    if len(parts) > MAX_STEPS:
        return [], f"Give at most {MAX_STEPS} steps."
    numbers = [whole_number(part, digits=3) for part in parts]
    if None in numbers:
        return [], "Give whole numbers of days separated by commas, such as 1, 3, 7, 21."
    days = [number for number in numbers if number is not None]
    if not all(1 <= day <= MAX_DAYS for day in days):
        return [], f"Each step is from 1 to {MAX_DAYS} days after the weak score."
    if any(later <= earlier for earlier, later in zip(days, days[1:], strict=False)):
        return [], "Give the days in increasing order, each step later than the one before."
    return days, None


def save_settings(session: Session, actor: Actor, activity: Activity, *, threshold: str, spacing: str,
                  send_email: bool, now: datetime | None = None) -> RefresherSettings:
    """The designer's threshold, spacing schedule and e-mail choice; bad input stores nothing. Steps
    already scheduled keep their days; new schedules use the new ones."""
    ensure(permissions.can_configure_refreshers(actor, activity))
    problems: dict[str, str] = {}
    value, problem = parse_threshold(threshold, required=True)
    if problem:
        problems["threshold"] = problem
    days, problem = parse_spacing(spacing)
    if problem:
        problems["spacing"] = problem
    if problems:
        raise RefresherProblems(problems)
    assert value is not None
    settings = session.get(RefresherSettings, activity.id)
    if settings is None:
        settings = RefresherSettings(activity_id=activity.id)
        session.add(settings)
    settings.threshold_percent, settings.spacing_days, settings.send_email = value, days, send_email
    settings.updated_at, settings.updated_by_id = utcnow(), actor.user_id
    session.flush()
    audit(session, actor, "refresher.settings", activity_id=activity.id, threshold=str(value),
          spacing=days, send_email=send_email)
    schedule(session, now or utcnow(), activity_ids=[activity.id])
    return settings


# -- refreshers --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefresherInput:
    target: str = ""
    title: str = ""
    body: str = ""
    link_url: str = ""
    threshold: str = ""


def valid_link(url: str) -> bool:
    """An absolute http(s) URL with a host, no spaces and no credentials in it."""
    if any(character.isspace() or ord(character) < 32 for character in url) or len(url) > MAX_URL:
        return False
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port_ok \
        and parts.username is None and parts.password is None


def refreshers_of(session: Session, activity: Activity) -> list[Refresher]:
    """The activity's refreshers the designer has not removed, oldest first."""
    return list(session.scalars(select(Refresher).where(Refresher.activity_id == activity.id,
                                                         Refresher.archived_at.is_(None))
                                .order_by(Refresher.created_at, Refresher.id)))


def refresher_of_activity(session: Session, actor: Actor, activity: Activity, refresher_id: int) -> Refresher:
    refresher = session.get(Refresher, refresher_id)
    if refresher is None or refresher.activity_id != activity.id or refresher.archived_at is not None:
        raise permissions.PermissionDenied(
            permissions.refuse(404, "Refresher not found", permissions.REFRESHER_NOT_FOUND))
    ensure(permissions.can_configure_refreshers(actor, activity))
    return refresher


def save_refresher(session: Session, actor: Actor, activity: Activity, typed: RefresherInput,
                   refresher: Refresher | None = None, now: datetime | None = None) -> Refresher:
    """Add a refresher to the activity (or change ``refresher``); bad input stores nothing."""
    ensure(permissions.can_configure_refreshers(actor, activity))
    problems: dict[str, str] = {}
    choices = {target.choice: target for target in targets_of(session, activity)}
    target = choices.get(typed.target.strip())
    if target is None:
        problems["target"] = "Choose a criterion or competency of the activity's rubric."
    title = " ".join(typed.title.split())
    if not title:
        problems["title"] = "Give the refresher a title the learner recognises."
    elif len(title) > MAX_TITLE:
        problems["title"] = f"Keep the title to {MAX_TITLE} characters (it has {len(title)})."
    body = typed.body.strip().replace("\r\n", "\n")
    if len(body) > MAX_BODY:
        problems["body"] = f"Keep the text to {MAX_BODY} characters (it has {len(body)}): a refresher is " \
                           "short."
    link = typed.link_url.strip()
    if link and not valid_link(link):
        problems["link_url"] = "Give a full web address starting with https:// or http://, such as " \
                               "https://intranet.example/guide."
    if not body and not link and "body" not in problems and "link_url" not in problems:
        problems["body"] = "Write a short text, give a link, or both."
    threshold, problem = parse_threshold(typed.threshold, required=False)
    if problem:
        problems["threshold"] = problem
    if problems:
        raise RefresherProblems(problems)
    assert target is not None
    at = utcnow()
    if refresher is None:
        refresher = Refresher(activity_id=activity.id, created_by_id=actor.user_id, created_at=at)
        session.add(refresher)
    refresher.target_kind, refresher.target = target.kind, target.key
    refresher.target_label = target.label[:500]
    refresher.title, refresher.body, refresher.link_url = title, body, link
    refresher.threshold_percent, refresher.updated_at = threshold, at
    session.flush()
    audit(session, actor, "refresher.save", activity_id=activity.id, refresher_id=refresher.id,
          target=target.choice)
    schedule(session, now or utcnow(), activity_ids=[activity.id])
    return refresher


def remove_refresher(session: Session, actor: Actor, refresher: Refresher) -> int:
    """Take the refresher away: nothing new is scheduled, the steps not done yet are cancelled (what the
    learners did stays). Answers how many steps were cancelled."""
    ensure(permissions.can_configure_refreshers(actor, refresher.activity))
    refresher.archived_at = refresher.updated_at = utcnow()
    result = session.execute(
        update(ScheduledRefresher)
        .where(ScheduledRefresher.refresher_id == refresher.id,
               ScheduledRefresher.status == RefresherStatus.SCHEDULED)
        .values(status=RefresherStatus.CANCELLED, stopped_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit(session, actor, "refresher.remove", activity_id=refresher.activity_id, refresher_id=refresher.id)
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class RefresherCounts:
    scheduled: int = 0
    due: int = 0
    done: int = 0
    stopped: int = 0
    learners: int = 0


def counts_of(session: Session, activity: Activity, now: datetime) -> dict[int, RefresherCounts]:
    """Per refresher of the activity: its steps by state, and how many learners it was scheduled for."""
    status = ScheduledRefresher.status
    rows = session.execute(
        select(ScheduledRefresher.refresher_id,
               func.sum(case((and_(status == RefresherStatus.SCHEDULED, ScheduledRefresher.due_at > now), 1),
                             else_=0)),
               func.sum(case((and_(status == RefresherStatus.SCHEDULED, ScheduledRefresher.due_at <= now), 1),
                             else_=0)),
               func.sum(case((status == RefresherStatus.DONE, 1), else_=0)),
               func.sum(case((status == RefresherStatus.STOPPED, 1), else_=0)),
               func.count(func.distinct(ScheduledRefresher.learner_id)))
        .join(Refresher, Refresher.id == ScheduledRefresher.refresher_id)
        .where(Refresher.activity_id == activity.id)
        .group_by(ScheduledRefresher.refresher_id)
    )
    return {row[0]: RefresherCounts(*(int(value or 0) for value in row[1:])) for row in rows}


# -- scheduling --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A learner's in-force score on one refresher's target in one assessment."""

    refresher_id: int
    assessment_id: int
    learner_id: int
    revision_id: int
    scored_at: datetime
    percent: Decimal
    released: bool
    """Whether the learner may read it: feedback waiting for release schedules nothing yet."""


def _released_to_learner() -> ColumnElement[bool]:
    """Feedback its learner may read (``permissions.released_to_learner``), where ``Assessment`` and its
    ``Activity`` are joined."""
    return permissions.released_to_learner(Assessment.assessor_role, Activity,
                                           Assessment.released_at.is_not(None))


def _percent_expression() -> Any:
    """A criterion's percentage: its points' share, or (levels only) its level's place from first to last."""
    by_level = cast(CriterionScore.level_number - 1, Numeric(14, 4)) * 100 \
        / func.nullif(CriterionScore.level_count - 1, 0)
    return func.coalesce(CriterionScore.percent, by_level)


def _scores(session: Session, activity_ids: list[int] | None) -> list[Score]:
    """Every in-force score others gave on the live refreshers' targets, released to the learner or not (an
    unreleased one is in force all the same: not a withdrawal): two grouped queries."""
    percent = _percent_expression()
    visible = CriterionScore.assessor_role != AssessorRole.SELF
    scope = [Refresher.archived_at.is_(None)]
    if activity_ids is not None:
        scope.append(Refresher.activity_id.in_(activity_ids))
    group = (Refresher.id, CriterionScore.assessment_id, CriterionScore.learner_id,
             CriterionScore.revision_id)
    columns = (*group, func.max(CriterionScore.submitted_at), func.max(Assessment.released_at),
               func.avg(percent), func.max(case((_released_to_learner(), 1), else_=0)))
    by_criterion = (
        select(*columns)
        .join(CriterionScore, and_(CriterionScore.activity_id == Refresher.activity_id,
                                   CriterionScore.criterion == Refresher.target))
        .join(Assessment, Assessment.id == CriterionScore.assessment_id)
        .join(Activity, Activity.id == Refresher.activity_id)
        .where(*scope, Refresher.target_kind == RefresherTarget.CRITERION, visible)
        .group_by(*group)
    )
    by_competency = (
        select(*columns)
        .join(CriterionScore, CriterionScore.activity_id == Refresher.activity_id)
        .join(RubricVersionCompetency,
              and_(RubricVersionCompetency.version_id == CriterionScore.rubric_version_id,
                   RubricVersionCompetency.criterion_identifier == CriterionScore.criterion,
                   RubricVersionCompetency.competency_tag == Refresher.target))
        .join(Assessment, Assessment.id == CriterionScore.assessment_id)
        .join(Activity, Activity.id == Refresher.activity_id)
        .where(*scope, Refresher.target_kind == RefresherTarget.COMPETENCY, visible)
        .group_by(*group)
    )
    found = []
    for query in (by_criterion, by_competency):
        for refresher_id, assessment_id, learner_id, revision_id, submitted, released, mean, shown in \
                session.execute(query):
            if mean is None:
                continue
            scored_at = _aware(submitted) if released is None else max(_aware(submitted), _aware(released))
            found.append(Score(refresher_id, assessment_id, learner_id, revision_id, scored_at,
                               Decimal(str(mean)).quantize(Decimal("0.01")), bool(shown)))
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class ScheduleReport:
    scheduled: int = 0
    """Steps made."""
    stopped: int = 0
    """Steps stopped by a revision at or above the threshold, or a withdrawal."""
    resumed: int = 0
    """Steps paused while their feedback waited for release, counted again from the release."""
    emails: int = 0

    @property
    def summary(self) -> str:
        return (f"{self.scheduled} refresher step(s) scheduled, {self.stopped} stopped, "
                f"{self.resumed} resumed, {self.emails} e-mail(s) queued")


@dataclass
class _Schedule:
    """The steps one weak score (its revision) scheduled for a learner."""

    revision_id: int
    running: bool
    """A step is still scheduled (to come, or come and not done)."""
    ended: bool
    """Stopped: by a revision at or above the threshold, or a withdrawal."""


@dataclass
class _Rounds:
    """What exists for one (refresher, learner): the schedules of each assessment, oldest first."""

    by_assessment: dict[int, list[_Schedule]] = field(default_factory=lambda: defaultdict(list))

    @property
    def triggers(self) -> set[int]:
        return {item.revision_id for schedules in self.by_assessment.values() for item in schedules}

    @property
    def running(self) -> bool:
        return any(item.running for schedules in self.by_assessment.values() for item in schedules)

    def latest(self, assessment_id: int) -> _Schedule | None:
        schedules = self.by_assessment.get(assessment_id)
        return schedules[-1] if schedules else None


def _rounds_of(session: Session, refresher_ids: Iterable[int]) -> dict[tuple[int, int], _Rounds]:
    status = ScheduledRefresher.status
    rounds: dict[tuple[int, int], _Rounds] = defaultdict(_Rounds)
    group = (ScheduledRefresher.refresher_id, ScheduledRefresher.learner_id, ScheduledRefresher.assessment_id,
             ScheduledRefresher.trigger_revision_id)
    for refresher_id, learner_id, assessment_id, revision_id, running, ended in session.execute(
        select(*group, func.max(case((status == RefresherStatus.SCHEDULED, 1), else_=0)),
               func.max(case((status == RefresherStatus.STOPPED, 1), else_=0)))
        .where(ScheduledRefresher.refresher_id.in_(refresher_ids))
        .group_by(*group)
        .order_by(ScheduledRefresher.trigger_revision_id)
    ):
        rounds[(refresher_id, learner_id)].by_assessment[assessment_id].append(
            _Schedule(revision_id, bool(running), bool(ended)))
    return rounds


def _line_percent(line: dict[str, Any]) -> Decimal | None:
    """One criterion of a stored revision as :func:`_percent_expression` reads its in-force row."""
    percent = percent_of(decimal_of(line.get("points")), decimal_of(line.get("max_points")))
    levels = int(line.get("level_count") or 0)
    if percent is None and levels > 1:
        percent = Decimal(int(line["level_number"]) - 1) * HUNDRED / (levels - 1)
    return percent


def _reached_since(session: Session, candidates: list[tuple[Score, int]], refreshers: dict[int, Refresher],
                   thresholds: dict[int, Decimal]) -> set[tuple[int, int]]:
    """The (refresher, revision) of each weak score of ``candidates`` (each with the revision that started
    its assessment's last schedule) after a revision between the two that scored at or above the threshold:
    that finding ended, though the learner had no step left for it to stop. Two queries at most."""
    if not candidates:
        return set()
    revisions: dict[int, list[tuple[int, int | None, list[dict[str, Any]]]]] = defaultdict(list)
    for revision_id, assessment_id, version_id, criteria in session.execute(
        select(AssessmentRevision.id, AssessmentRevision.assessment_id, AssessmentRevision.rubric_version_id,
               AssessmentRevision.criteria)
        .where(AssessmentRevision.assessment_id.in_({score.assessment_id for score, _after in candidates}),
               AssessmentRevision.id > min(after for _score, after in candidates))
        .order_by(AssessmentRevision.id)
    ):
        revisions[assessment_id].append((revision_id, version_id, criteria or []))
    tags = {refreshers[score.refresher_id].target for score, _after in candidates
            if refreshers[score.refresher_id].target_kind is RefresherTarget.COMPETENCY}
    tagged: dict[tuple[int, str], set[str]] = defaultdict(set)
    if tags:
        versions = {version_id for found in revisions.values() for _id, version_id, _criteria in found}
        for version_id, tag, criterion in session.execute(
            select(RubricVersionCompetency.version_id, RubricVersionCompetency.competency_tag,
                   RubricVersionCompetency.criterion_identifier)
            .where(RubricVersionCompetency.version_id.in_(versions),
                   RubricVersionCompetency.competency_tag.in_(tags))
        ):
            tagged[(version_id, tag)].add(criterion)
    reached = set()
    for score, after in candidates:
        refresher = refreshers[score.refresher_id]
        for revision_id, version_id, criteria in revisions[score.assessment_id]:
            if not after < revision_id < score.revision_id:
                continue
            wanted = {refresher.target} if refresher.target_kind is RefresherTarget.CRITERION \
                else tagged.get((version_id or 0, refresher.target), set())
            percents = [percent for line in criteria if str(line.get("criterion")) in wanted
                        and (percent := _line_percent(line)) is not None]
            if percents and sum(percents) / len(percents) >= thresholds[refresher.id]:
                reached.add((score.refresher_id, score.revision_id))
                break
    return reached


def _new_finding(score: Score, entry: _Rounds, reached: set[tuple[int, int]]) -> bool:
    """Whether a weak score calls for a schedule of its own (the module's rule): the learner may read it, no
    schedule of the refresher runs for them, and its assessment's last weak finding, if any, has ended."""
    if not score.released or entry.running or score.revision_id in entry.triggers:
        return False
    latest = entry.latest(score.assessment_id)
    return latest is None or latest.ended or (score.refresher_id, score.revision_id) in reached


def schedule(session: Session, now: datetime, activity_ids: list[int] | None = None) -> ScheduleReport:
    """Schedule the refreshers new weak findings call for, stop those a better revision (or a withdrawal)
    made needless, and resume those paused until their feedback was released, for ``activity_ids`` or every
    activity (the rules: the module's docstring). Set-based: a fixed number of queries however many
    learners, plus one insert per new schedule."""
    report = ScheduleReport()
    live = select(Refresher).where(Refresher.archived_at.is_(None))
    if activity_ids is not None:
        live = live.where(Refresher.activity_id.in_(activity_ids))
    refreshers = {row.id: row for row in session.scalars(live)}
    if not refreshers:
        return report
    settings = {row.activity_id: row for row in session.scalars(
        select(RefresherSettings).where(RefresherSettings.activity_id.in_(
            {row.activity_id for row in refreshers.values()})))}
    contexts = dict(session.execute(select(Activity.id, Activity.context_id).where(
        Activity.id.in_({row.activity_id for row in refreshers.values()}))).all())
    thresholds = {row.id: row.threshold_percent or (
        settings[row.activity_id].threshold_percent if row.activity_id in settings else DEFAULT_THRESHOLD)
        for row in refreshers.values()}
    rounds = _rounds_of(session, refreshers)
    scores = sorted(_scores(session, activity_ids),
                    key=lambda score: (score.refresher_id, score.learner_id, score.revision_id))
    candidates = []  # weak scores whose assessment's last finding may have ended unseen
    for score in scores:
        entry = rounds.get((score.refresher_id, score.learner_id))
        latest = entry.latest(score.assessment_id) if entry else None
        if entry and latest and not latest.ended and score.percent < thresholds[score.refresher_id] \
                and score.released and not entry.running and score.revision_id not in entry.triggers:
            candidates.append((score, latest.revision_id))
    reached = _reached_since(session, candidates, refreshers, thresholds)
    in_force: set[tuple[int, int, int]] = set()
    to_stop: list[tuple[int, int, int, Decimal | None]] = []  # refresher, learner, assessment, percent
    new_rows: list[dict[str, Any]] = []
    for score in scores:
        refresher = refreshers[score.refresher_id]
        in_force.add((score.refresher_id, score.learner_id, score.assessment_id))
        threshold = thresholds[refresher.id]
        entry = rounds[(score.refresher_id, score.learner_id)]
        if score.percent >= threshold:
            if any(item.running and item.revision_id != score.revision_id
                   for item in entry.by_assessment.get(score.assessment_id, ())):
                to_stop.append((score.refresher_id, score.learner_id, score.assessment_id, score.percent))
            continue
        if not _new_finding(score, entry, reached):
            continue
        activity_settings = settings.get(refresher.activity_id)
        days = list(activity_settings.spacing_days) if activity_settings else list(DEFAULT_SPACING)
        anchor = max(score.scored_at, _aware(refresher.created_at))
        new_rows += [
            {"refresher_id": refresher.id, "learner_id": score.learner_id,
             "context_id": contexts[refresher.activity_id], "assessment_id": score.assessment_id,
             "trigger_revision_id": score.revision_id, "trigger_percent": score.percent,
             "threshold_percent": threshold, "step": step, "step_count": len(days),
             "due_at": anchor + timedelta(days=day), "status": RefresherStatus.SCHEDULED.value,
             "created_at": now}
            for step, day in enumerate(days, start=1)
        ]
        entry.by_assessment[score.assessment_id].append(
            _Schedule(score.revision_id, running=True, ended=False))
    # Running schedules whose assessment no longer has an in-force score: withdrawn.
    for (refresher_id, learner_id), entry in rounds.items():
        for assessment_id, schedules in entry.by_assessment.items():
            if any(item.running for item in schedules) \
                    and (refresher_id, learner_id, assessment_id) not in in_force:
                to_stop.append((refresher_id, learner_id, assessment_id, None))
    report.scheduled = _insert_steps(session, new_rows)
    for refresher_id, learner_id, assessment_id, percent in to_stop:
        result = session.execute(
            update(ScheduledRefresher)
            .where(ScheduledRefresher.refresher_id == refresher_id,
                   ScheduledRefresher.learner_id == learner_id,
                   ScheduledRefresher.assessment_id == assessment_id,
                   ScheduledRefresher.status == RefresherStatus.SCHEDULED)
            .values(status=RefresherStatus.STOPPED, stopped_at=now, stopped_percent=percent)
            .execution_options(synchronize_session=False)
        )
        report.stopped += int(result.rowcount or 0)
    report.resumed = _count_from_the_release(session, list(refreshers))
    return report


def _count_from_the_release(session: Session, refresher_ids: list[int]) -> int:
    """Resume the steps scheduled before their feedback was released (the activity began waiting for
    release after them): each not done keeps its distance from when it was scheduled, counted from the
    release instead, and the release becomes when it was scheduled (so it is resumed once)."""
    rows = session.execute(
        select(ScheduledRefresher.id, ScheduledRefresher.due_at, ScheduledRefresher.created_at,
               Assessment.released_at)
        .join(Assessment, Assessment.id == ScheduledRefresher.assessment_id)
        .where(ScheduledRefresher.refresher_id.in_(refresher_ids),
               ScheduledRefresher.status == RefresherStatus.SCHEDULED,
               Assessment.released_at > ScheduledRefresher.created_at)
    ).all()
    if rows:
        session.execute(update(ScheduledRefresher), [
            {"id": row_id, "due_at": _aware(due_at) + (_aware(released_at) - _aware(created_at)),
             "created_at": released_at}
            for row_id, due_at, created_at, released_at in rows])
    return len(rows)


def _insert_steps(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the steps, skipping any another runner inserted first (the unique step key)."""
    if not rows:
        return 0
    table = ScheduledRefresher.__table__
    dialect = session.get_bind().dialect.name
    made = 0
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(rows), 500):
        statement = insert(table).values(rows[start:start + 500]).on_conflict_do_nothing(
            index_elements=["refresher_id", "learner_id", "trigger_revision_id", "step"])
        made += len(session.execute(statement.returning(table.c.id)).all())
    return made


# A submission, a revision, a withdrawal or a release is seen in its own transaction: the activity is noted on
# the session, and the refreshers of the noted activities are scheduled (or stopped) just before the commit,
# so the learner's next page already says what the revision did. The job does the same for everything, for
# changes made where no session noted them (a database restored, a refresher made after the scores).
_NOTED = "cadre.refresher_activities"


def _note(target: Any, activity_id: int | None) -> None:
    session = object_session(target)
    if session is not None and activity_id is not None:
        session.info.setdefault(_NOTED, set()).add(activity_id)


@event.listens_for(AssessmentRevision, "after_insert")
def _note_a_submission(_mapper: Any, connection: Connection, revision: AssessmentRevision) -> None:
    _note(revision, connection.scalar(select(Assessment.activity_id)
                                      .where(Assessment.id == revision.assessment_id)))


@event.listens_for(Assessment, "after_update")
def _note_a_withdrawal_or_release(_mapper: Any, _connection: Any, assessment: Assessment) -> None:
    state = inspect_state(assessment)
    if state.attrs.status.history.added or state.attrs.released_at.history.added:
        _note(assessment, assessment.activity_id)


@event.listens_for(Session, "before_commit")
def _schedule_the_noted_activities(session: Session) -> None:
    noted = session.info.pop(_NOTED, None)
    if noted:
        schedule(session, utcnow(), activity_ids=sorted(noted))


@event.listens_for(Activity, "after_insert")
def _copy_with_the_activity(_mapper: Any, connection: Connection, activity: Activity) -> None:
    """An activity copied into another course or placement (``deliverables``' course copy) takes its source's
    refresher settings and live refreshers along, as it takes the rubric; nothing that was scheduled."""
    if activity.copied_from_id is None:
        return
    settings_table, refreshers_table = RefresherSettings.__table__, Refresher.__table__
    settings = connection.execute(select(settings_table).where(
        settings_table.c.activity_id == activity.copied_from_id)).mappings().first()
    if settings is not None:
        connection.execute(settings_table.insert().values({**settings, "activity_id": activity.id}))
    rows = connection.execute(select(refreshers_table).where(
        refreshers_table.c.activity_id == activity.copied_from_id, refreshers_table.c.archived_at.is_(None))
        .order_by(refreshers_table.c.id)).mappings().all()
    now = utcnow()
    if rows:
        connection.execute(refreshers_table.insert(), [
            {**{name: value for name, value in row.items() if name != "id"}, "activity_id": activity.id,
             "created_at": now, "updated_at": now} for row in rows])


def queue_emails(session: Session, now: datetime) -> int:
    """Queue the e-mail of every step that has come (within a week), once: the row's ``emailed_at`` and the
    outbox's key (``refresher:<id>``) both say it was queued. Learners without an address, those who opted
    out of the course's e-mail, those who left the course (:func:`left_the_course`), activities that send
    none, and feedback waiting for release are skipped."""
    opted_out = select(ReminderOptOut.id).where(ReminderOptOut.user_id == ScheduledRefresher.learner_id,
                                                ReminderOptOut.context_id == ScheduledRefresher.context_id)
    no_email = select(RefresherSettings.activity_id).where(RefresherSettings.send_email.is_(False))
    rows = session.execute(
        select(ScheduledRefresher.id)
        .join(Refresher, Refresher.id == ScheduledRefresher.refresher_id)
        .join(User, User.id == ScheduledRefresher.learner_id)
        .join(Activity, Activity.id == Refresher.activity_id)
        .join(Assessment, Assessment.id == ScheduledRefresher.assessment_id)
        .where(ScheduledRefresher.status == RefresherStatus.SCHEDULED,
               ScheduledRefresher.emailed_at.is_(None),
               ScheduledRefresher.due_at <= now, ScheduledRefresher.due_at > now - EMAIL_WITHIN,
               User.email.is_not(None), User.email != "", ~opted_out.exists(),
               ~left_the_course(ScheduledRefresher.learner_id, ScheduledRefresher.context_id).exists(),
               Refresher.archived_at.is_(None), Refresher.activity_id.not_in(no_email),
               _released_to_learner())
        .order_by(ScheduledRefresher.id)
    ).scalars().all()
    queued = 0
    for scheduled_id in rows:
        queued += mail.enqueue_mail(session, MAIL_KIND, f"refresher:{scheduled_id}",
                                    {"scheduled_id": scheduled_id})
    if rows:
        session.execute(update(ScheduledRefresher).where(ScheduledRefresher.id.in_(rows))
                        .values(emailed_at=now).execution_options(synchronize_session=False))
    return queued


def left_the_course(learner_id: Any, context_id: Any) -> Select[Any]:
    """The roster row saying the learner is no longer in the course (the platform marked them inactive, or
    no longer lists them): their steps stay on their page, and no e-mail goes to them."""
    return select(RosterMember.id).where(
        RosterMember.user_id == learner_id,
        RosterMember.context_id == context_id,
        RosterMember.active.is_(False),
    )


@periodic("refreshers", every=JOB_EVERY)
def run_refreshers(session: Session, period: Period) -> str:
    """``cadre jobs run``: schedule and stop refreshers, then queue the e-mails of those that have come."""
    now = utcnow()
    report = schedule(session, now)
    report.emails = queue_emails(session, now)
    return report.summary


@mail.composer(MAIL_KIND)
def refresher_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
    from lti_tool.invitations import reminders

    row = session.get(ScheduledRefresher, payload.get("scheduled_id"))
    if row is None or row.status is not RefresherStatus.SCHEDULED or not row.learner.email:
        return None  # done, stopped or removed since it was queued
    if not _feedback_released(session, row):
        return None  # the activity began waiting for release since: paused
    if reminders.opted_out(session, row.learner_id, row.context_id):
        return None
    if session.scalar(left_the_course(row.learner_id, row.context_id).limit(1)) is not None:
        return None  # left the course since it was queued
    refresher, learner = row.refresher, row.learner
    if refresher.archived_at is not None:
        return None
    course = session.get(Context, row.context_id)
    assert course is not None
    unsubscribe = reminders.opt_out_url(row.learner_id, row.context_id)
    parts = [f"Hello{' ' + learner.display_name if learner.is_named else ''},", "",
             f"A refresher from the course {course.display_title}, on \"{refresher.target_label}\" "
             f"({refresher.activity.title}), step {row.step} of {row.step_count}:", "",
             refresher.title, ""]
    if refresher.body:
        parts += [refresher.body, ""]
    if refresher.link_url:
        parts += [f"Read more: {refresher.link_url}", ""]
    parts += ["Open the course on your learning platform to mark it done.", "",
              f"No more e-mail from this course: {unsubscribe}"]
    return mail.Mail(to=learner.email, to_name=learner.name or "", subject=f"Refresher: {refresher.title}",
                     text="\n".join(parts) + "\n",
                     headers=(("List-Unsubscribe", f"<{unsubscribe}>"),
                              ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")))


# -- learners ----------------------------------------------------------------------------------------------


def _feedback_released(session: Session, row: ScheduledRefresher) -> bool:
    """Whether the learner may read the feedback that scheduled ``row``: a step of feedback waiting for
    release is paused, shown to nobody and e-mailed to nobody (the module's docstring)."""
    return session.scalar(
        select(Assessment.id).join(Activity, Activity.id == Assessment.activity_id)
        .where(Assessment.id == row.assessment_id, _released_to_learner())
    ) is not None


def complete(session: Session, actor: Actor, scheduled_id: int,
             now: datetime | None = None) -> ScheduledRefresher:
    """The learner marks a refresher that has come as done (again: nothing changes)."""
    from lti_tool.records import events

    row = session.get(ScheduledRefresher, scheduled_id)
    ensure(permissions.can_complete_refresher(actor, row))
    assert row is not None
    if not _feedback_released(session, row):  # paused: to the learner, it does not exist until the release
        raise permissions.PermissionDenied(
            permissions.refuse(404, "Refresher not found", permissions.REFRESHER_NOT_FOUND))
    now = now or utcnow()
    if row.status is RefresherStatus.DONE:
        return row
    if row.status is RefresherStatus.STOPPED:
        raise RefresherConflict("Refresher stopped", permissions.REFRESHER_STOPPED)
    if row.status is RefresherStatus.CANCELLED:
        raise RefresherConflict("Refresher removed", permissions.REFRESHER_REMOVED)
    if _aware(row.due_at) > now:
        raise RefresherConflict("Not due yet", permissions.REFRESHER_NOT_DUE)
    row.status, row.completed_at = RefresherStatus.DONE, now
    session.flush()
    events.refresher_completed(session, row)
    return row


def email_opted_out(session: Session, learner_id: int, context_id: int) -> bool:
    found = session.scalar(select(ReminderOptOut.id).where(ReminderOptOut.user_id == learner_id,
                                                           ReminderOptOut.context_id == context_id))
    return found is not None


def set_email(session: Session, actor: Actor, *, wanted: bool) -> None:
    """The learner's choice to get refreshers by e-mail in their course (the course's e-mail opt-out)."""
    context_id = actor.course_id
    if wanted:
        session.execute(delete(ReminderOptOut).where(ReminderOptOut.user_id == actor.user_id,
                                                     ReminderOptOut.context_id == context_id))
    elif not email_opted_out(session, actor.user_id, context_id):
        session.add(ReminderOptOut(user_id=actor.user_id, context_id=context_id))
    audit(session, actor, "refresher.email", context_id=context_id, wanted=wanted)


# -- where refreshers stand (the learner's page, managers' and the team/progress views) --------------------


@dataclass(frozen=True)
class RefresherState:
    """One step of one refresher for one learner, as the pages show it."""

    scheduled_id: int
    learner_id: int
    refresher_id: int
    activity_id: int
    activity_title: str
    title: str
    target_label: str
    body: str
    link_url: str
    step: int
    step_count: int
    due_at: datetime
    status: RefresherStatus
    trigger_percent: Decimal
    threshold_percent: Decimal
    completed_at: datetime | None
    stopped_at: datetime | None
    stopped_percent: Decimal | None
    state: str
    """``due`` (come, not done), ``upcoming``, ``done``, ``stopped`` or ``removed``."""

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def body_html(self) -> Markup:
        return render_markdown(self.body)

    @property
    def reason(self) -> str:
        """Why it was scheduled, or why it stopped, in a sentence."""
        if self.state == "stopped":
            if self.stopped_percent is None:
                return "Stopped: the assessment that called for it was withdrawn."
            return (f"Stopped: your revised assessment scored {_percent(self.stopped_percent)} on "
                    f"\"{self.target_label}\", at or above the {_percent(self.threshold_percent)} threshold, "
                    "so the remaining refreshers are no longer needed.")
        if self.state == "removed":
            return "Removed by the course's designer."
        return (f"Scheduled because an assessment scored {_percent(self.trigger_percent)} on "
                f"\"{self.target_label}\", below the {_percent(self.threshold_percent)} threshold.")


    @property
    def reason_without_scores(self) -> str:
        """The reason as a manager reads it: no percentage (the score may be another assessor's, whose
        feedback stays theirs and the learner's)."""
        if self.state == "stopped":
            if self.stopped_percent is None:
                return "Stopped: the assessment that called for it was withdrawn."
            return "Stopped: a revised assessment reached the threshold."
        if self.state == "removed":
            return "Removed by the course's designer."
        return f"Scheduled after an assessment scored below the threshold on \"{self.target_label}\"."


STATE_LABELS = {"due": "Due now", "upcoming": "Coming", "done": "Done", "stopped": "Stopped",
                "removed": "Removed"}


def _percent(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"{text}%"


def _state_of(row: ScheduledRefresher, now: datetime) -> str:
    if row.status is RefresherStatus.DONE:
        return "done"
    if row.status is RefresherStatus.STOPPED:
        return "stopped"
    if row.status is RefresherStatus.CANCELLED:
        return "removed"
    return "due" if _aware(row.due_at) <= now else "upcoming"


@functools.cache
def _refreshers_of() -> Select[tuple[ScheduledRefresher, Refresher, str]]:
    """Built once: every learner's home page runs it. Paused steps (feedback waiting for release) are left
    out."""
    return (
        select(ScheduledRefresher, Refresher, Activity.title)
        .join(Refresher, Refresher.id == ScheduledRefresher.refresher_id)
        .join(Activity, Activity.id == Refresher.activity_id)
        .join(Assessment, Assessment.id == ScheduledRefresher.assessment_id)
        .where(ScheduledRefresher.context_id == bindparam("context_id"),
               ScheduledRefresher.learner_id.in_(bindparam("learner_ids", expanding=True)),
               _released_to_learner())
        .order_by(ScheduledRefresher.learner_id, ScheduledRefresher.due_at, ScheduledRefresher.id)
    )


def refreshers_for(session: Session, learner_ids: Iterable[int], course: Context | int,
                   now: datetime | None = None) -> dict[int, list[RefresherState]]:
    """Every refresher step of ``learner_ids`` in ``course``, by learner, in due order, but those paused
    while their feedback waits for release: one query however many learners. The caller has checked that
    its viewer may see these people (``permissions``)."""
    context_id = course if isinstance(course, int) else course.id
    ids = sorted(set(learner_ids))
    found: dict[int, list[RefresherState]] = {learner_id: [] for learner_id in ids}
    if not ids:
        return found
    now = now or utcnow()
    rows = session.execute(_refreshers_of(), {"context_id": context_id, "learner_ids": ids})
    for row, refresher, activity_title in rows:
        found[row.learner_id].append(RefresherState(
            scheduled_id=row.id, learner_id=row.learner_id, refresher_id=refresher.id,
            activity_id=refresher.activity_id, activity_title=activity_title, title=refresher.title,
            target_label=refresher.target_label, body=refresher.body, link_url=refresher.link_url,
            step=row.step, step_count=row.step_count, due_at=_aware(row.due_at), status=row.status,
            trigger_percent=row.trigger_percent, threshold_percent=row.threshold_percent,
            completed_at=row.completed_at, stopped_at=row.stopped_at, stopped_percent=row.stopped_percent,
            state=_state_of(row, now)))
    return found


@dataclass(frozen=True)
class RefresherSummary:
    """A learner's refreshers in counts (a team table's cell)."""

    due: int
    upcoming: int
    done: int
    stopped: int

    @property
    def total(self) -> int:
        return self.due + self.upcoming + self.done + self.stopped


def summarise(states: list[RefresherState]) -> RefresherSummary:
    def count(state: str) -> int:
        return sum(1 for item in states if item.state == state)

    return RefresherSummary(count("due"), count("upcoming"), count("done"), count("stopped"))


@dataclass(frozen=True)
class LearnerPage:
    due: list[RefresherState]
    upcoming: list[RefresherState]
    done: list[RefresherState]
    stopped: list[RefresherState]
    email_wanted: bool


def learner_page(session: Session, actor: Actor, now: datetime | None = None, *,
                 with_email_choice: bool = True) -> LearnerPage:
    """The learner's own refreshers in their course: due, coming, done, and schedules stopped lately; and
    whether they want them by e-mail, unless ``with_email_choice`` is False (the home page does not show it,
    and reads one table less)."""
    now = now or utcnow()
    states = refreshers_for(session, [actor.user_id], actor.course_id, now)[actor.user_id]
    stopped = [item for item in states if item.state == "stopped" and item.stopped_at is not None
               and now - _aware(item.stopped_at) <= STOPPED_SHOWN_FOR]
    return LearnerPage(
        due=[item for item in states if item.state == "due"],
        upcoming=[item for item in states if item.state == "upcoming"],
        done=sorted((item for item in states if item.state == "done"),
                    key=lambda item: item.completed_at or item.due_at, reverse=True),
        stopped=_first_step_of_each_stop(stopped),
        email_wanted=with_email_choice and not email_opted_out(session, actor.user_id, actor.course_id),
    )


def _first_step_of_each_stop(states: list[RefresherState]) -> list[RefresherState]:
    """One line per stopped schedule (its first stopped step), not one per step."""
    seen: set[tuple[int, datetime | None]] = set()
    kept = []
    for item in states:
        key = (item.refresher_id, item.stopped_at)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def learners_with_refreshers(session: Session, context_id: int) -> list[User]:
    """The course's learners who have had any refresher scheduled, by name (the staff's list)."""
    return list(session.scalars(
        select(User).where(User.id.in_(select(ScheduledRefresher.learner_id)
                                       .where(ScheduledRefresher.context_id == context_id)))
        .order_by(User.name, User.id)))


def due_count(session: Session, learner_id: int, context_id: int, now: datetime | None = None) -> int:
    """How many refreshers have come for the learner in the course and are not done (the home page)."""
    now = now or utcnow()
    return int(session.scalar(
        select(func.count(ScheduledRefresher.id))
        .join(Refresher, Refresher.id == ScheduledRefresher.refresher_id)
        .join(Activity, Activity.id == Refresher.activity_id)
        .join(Assessment, Assessment.id == ScheduledRefresher.assessment_id)
        .where(ScheduledRefresher.learner_id == learner_id, ScheduledRefresher.context_id == context_id,
               ScheduledRefresher.status == RefresherStatus.SCHEDULED, ScheduledRefresher.due_at <= now,
               Refresher.archived_at.is_(None), _released_to_learner())
    ) or 0)
