"""A course at dashboard scale, made fast: ``cadre tracking seed --learners 10000 --activities 20``.

Not the demo's seeding (``lti_tool.demo``, a small course to click through): this writes thousands of
learners, their managers and links, feedback activities with a rubric of ``--criteria`` criteria tagged
with competencies, and managers' and self-assessments in a seeded random mix of states (submitted, draft,
withdrawn, none) with their revisions and per-criterion rows, and the reminders delivered to managers who
are late. Rows go in with bulk inserts (PostgreSQL's ``COPY``, SQLite's ``executemany``) and ids chosen
here, so 10,000 x 20 x 10 takes a minute or so, not hours.

:func:`generate` plans everything in Python first (:class:`Plan`); :func:`write` stores the plan. Tests
compute the dashboard's figures from the plan on their own and compare them with the page's.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.orm import Session

import rubrics
from lti_tool.db import session_scope, utcnow
from lti_tool.feedback.services import settings_snapshot
from lti_tool.invitations.models import ReminderTally
from lti_tool.invitations.reminders import reminder_key
from lti_tool.mail import TOPIC as MAIL_TOPIC
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    Context,
    ManagerLink,
    Membership,
    OutboxMessage,
    Platform,
    User,
)
from lti_tool.permissions import Actor
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import (
    ActivityKind,
    AssessmentStatus,
    AssessorRole,
    Assessors,
    CadreRole,
    FeedbackRelease,
    ManagerLinkRelation,
    ManagerLinkSource,
    ManagerLinkStatus,
    OutboxStatus,
)
from lti_tool.tracking.models import (
    AssessmentScore,
    CriterionScore,
    CriterionScoreTally,
    assessment_scores,
    rows_of_revision,
    tally_deltas,
)
from lti_tool.tracking.seed_outcome import seed_leaderboard, seed_outcome

LEARNERS_PER_MANAGER = 10
COACHED_EVERY = 7
"""Every seventh learner also has a coach (a second manager link), who may assess in any-manager
activities."""
KINDS = (
    ActivityKind.MANAGER_FEEDBACK,
    ActivityKind.SKILL_ASSESSMENT,
    ActivityKind.WORK_PRODUCT_REVIEW,
    ActivityKind.SELF_ASSESSMENT,
)
COMPETENCIES = (
    "cadre:seed.listening",
    "cadre:seed.questioning",
    "cadre:seed.summarising",
    "cadre:seed.follow-through",
)
LEVELS = (
    ("beginning", "Beginning"),
    ("developing", "Developing"),
    ("consistent", "Consistent"),
    ("role-model", "Role model"),
)
WEEKS = 10
"""Submissions spread over the ten weeks before now."""
BATCH = 5000


def seed_rubric(criteria: int) -> rubrics.Rubric:
    """A points rubric of ``criteria`` criteria, four levels worth 1 to 4 points, two competencies each."""
    return rubrics.parse_rubric(
        {
            "title": f"Seeded rubric ({criteria} criteria)",
            "scoring_mode": "points",
            "criteria": [
                {
                    "identifier": f"c{number:02d}",
                    "title": f"Criterion {number:02d}",
                    "position": number,
                    "weight": "1",
                    "competency_tags": sorted(
                        {
                            COMPETENCIES[number % len(COMPETENCIES)],
                            COMPETENCIES[(number * 3 + 1) % len(COMPETENCIES)],
                        }
                    ),
                    "levels": [
                        {
                            "identifier": identifier,
                            "title": title,
                            "position": position,
                            "points": str(position),
                        }
                        for position, (identifier, title) in enumerate(LEVELS, start=1)
                    ],
                }
                for number in range(1, criteria + 1)
            ],
        }
    )


# -- the plan ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedActivity:
    number: int
    kind: ActivityKind
    assessors: Assessors
    due_at: datetime


@dataclass(frozen=True)
class PlannedAssessment:
    activity: int
    """Index into :attr:`Plan.activities`."""
    learner: int
    """Index into the learners."""
    assessor: int | None
    """Index into the managers; None for a self-assessment."""
    status: AssessmentStatus
    levels: tuple[int, ...]
    """The level number chosen per criterion (1..4), of the newest revision; empty for a draft."""
    revisions: int
    submitted_at: datetime | None


@dataclass(frozen=True)
class PlannedLink:
    manager: int
    learner: int
    relation: ManagerLinkRelation
    created_at: datetime


@dataclass
class Plan:
    learners: int
    managers: int
    criteria: int
    now: datetime
    activities: list[PlannedActivity] = field(default_factory=list)
    links: list[PlannedLink] = field(default_factory=list)
    assessments: list[PlannedAssessment] = field(default_factory=list)
    reminders: list[tuple[int, int, str]] = field(default_factory=list)
    """(activity, manager, occasion) of each reminder delivered."""

    def line_manager_of(self, learner: int) -> int:
        return learner // LEARNERS_PER_MANAGER

    def coach_of(self, learner: int) -> int | None:
        if learner % COACHED_EVERY != COACHED_EVERY - 1 or self.managers < 2:
            return None
        return (self.line_manager_of(learner) + 1) % self.managers


def generate(
    *, learners: int, activities: int, criteria: int = 10, seed: int = 1, now: datetime | None = None
) -> Plan:
    """Everything the course will hold, chosen by a random generator seeded with ``seed``."""
    randomness = random.Random(seed)
    now = now or utcnow()
    managers = max(1, -(-learners // LEARNERS_PER_MANAGER))
    plan = Plan(learners, managers, criteria, now)
    start = now - timedelta(weeks=WEEKS + 2)
    for learner in range(learners):
        plan.links.append(
            PlannedLink(
                plan.line_manager_of(learner),
                learner,
                ManagerLinkRelation.LINE_MANAGER,
                start + timedelta(seconds=learner),
            )
        )
        coach = plan.coach_of(learner)
        if coach is not None:
            plan.links.append(
                PlannedLink(
                    coach, learner, ManagerLinkRelation.COACH, start + timedelta(days=1, seconds=learner)
                )
            )
    for number in range(activities):
        kind = KINDS[number % len(KINDS)]
        assessors = (
            Assessors.LEARNER
            if kind is ActivityKind.SELF_ASSESSMENT
            else (Assessors.LINE_MANAGER, Assessors.ANY_MANAGER)[number % 2]
        )
        due_at = now - timedelta(weeks=WEEKS) + timedelta(days=number * 7 * (WEEKS + 2) // max(1, activities))
        plan.activities.append(PlannedActivity(number, kind, assessors, due_at))
    ability = [randomness.gauss(0, 0.8) for _ in range(learners)]

    def levels(learner: int, lift: float) -> tuple[int, ...]:
        return tuple(
            min(4, max(1, round(2.5 + ability[learner] + lift + randomness.gauss(0, 0.7))))
            for _ in range(criteria)
        )

    def submitted_at() -> datetime:
        return now - timedelta(seconds=randomness.randrange(WEEKS * 7 * 86400))

    for index, activity in enumerate(plan.activities):
        for learner in range(learners):
            assessors: list[int] = []
            if activity.assessors is not Assessors.LEARNER:
                assessors.append(plan.line_manager_of(learner))
                coach = plan.coach_of(learner)
                if (
                    coach is not None
                    and activity.assessors is Assessors.ANY_MANAGER
                    and randomness.random() < 0.4
                ):
                    assessors.append(coach)
            for assessor in assessors:
                draw = randomness.random()
                if draw < 0.78:
                    status = AssessmentStatus.SUBMITTED
                elif draw < 0.8:
                    status = AssessmentStatus.WITHDRAWN
                elif draw < 0.86:
                    status = AssessmentStatus.DRAFT
                else:
                    continue
                plan.assessments.append(
                    PlannedAssessment(
                        index,
                        learner,
                        assessor,
                        status,
                        () if status is AssessmentStatus.DRAFT else levels(learner, 0.0),
                        0 if status is AssessmentStatus.DRAFT else 1 + (randomness.random() < 0.05),
                        None if status is AssessmentStatus.DRAFT else submitted_at(),
                    )
                )
            self_chance = 0.85 if activity.assessors is Assessors.LEARNER else 0.3
            if randomness.random() < self_chance:
                plan.assessments.append(
                    PlannedAssessment(
                        index,
                        learner,
                        None,
                        AssessmentStatus.SUBMITTED,
                        levels(learner, 0.4),
                        1,
                        submitted_at(),
                    )
                )
    late_managers: set[tuple[int, int]] = set()
    done = {
        (planned.activity, planned.learner, planned.assessor)
        for planned in plan.assessments
        if planned.status is AssessmentStatus.SUBMITTED and planned.assessor is not None
    }
    for index, activity in enumerate(plan.activities):
        if activity.assessors is Assessors.LEARNER or activity.due_at >= now:
            continue
        for learner in range(learners):
            manager = plan.line_manager_of(learner)
            if (index, learner, manager) not in done:
                late_managers.add((index, manager))
    for index, manager in sorted(late_managers):
        weeks_late = min(8, int((now - plan.activities[index].due_at).days // 7))
        plan.reminders.append((index, manager, "due-day"))
        plan.reminders += [(index, manager, f"overdue-w{week}") for week in range(1, weeks_late + 1)]
    return plan


# -- writing -------------------------------------------------------------------------------------------------


def _value(value: Any, column_is_json: bool) -> Any:
    if column_is_json:
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, StrEnum):
        return value.value
    return value


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (every column given, ids too): ``COPY`` on PostgreSQL, batched inserts elsewhere."""
    if not rows:
        return
    columns = list(rows[0])
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), list(rows[start : start + BATCH]))
        return
    is_json = [isinstance(table.c[name].type, JSON) for name in columns]
    raw = connection.connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [_value(row[name], json_column) for name, json_column in zip(columns, is_json, strict=True)]
            )


def _next_ids(session: Session, tables: Iterable[Table]) -> dict[str, int]:
    return {table.name: (session.scalar(select(func.max(table.c.id))) or 0) + 1 for table in tables}


def _advance_sequences(session: Session, tables: Iterable[Table]) -> None:
    """After inserting ids by hand, PostgreSQL's sequences must move past them."""
    if session.connection().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            text(  # table names from Cadre's metadata, never from input
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table.name}"))'
            )
        )


@dataclass(frozen=True)
class Seeded:
    context_id: int
    platform_id: int
    designer_id: int
    learner_ids: list[int]
    manager_ids: list[int]
    activity_ids: list[int]
    rubric_version_id: int


def _course(session: Session, context_id: int | None, now: datetime) -> Context:
    if context_id is not None:
        context = session.get(Context, context_id)
        if context is None:
            raise click.ClickException(f"There is no course with the id {context_id}.")
        return context
    tag = secrets.token_hex(4)
    platform = Platform(
        name=f"Seeded platform {tag}",
        issuer=f"https://seed-{tag}.cadre.invalid",
        client_id="cadre-seed",
        auth_login_url=f"https://seed-{tag}.cadre.invalid/auth",
        auth_token_url=f"https://seed-{tag}.cadre.invalid/token",
        key_set_url=f"https://seed-{tag}.cadre.invalid/jwks",
        created_at=now,
    )
    session.add(platform)
    session.flush()
    context = Context(
        platform_id=platform.id,
        context_id=f"seed-{tag}",
        title=f"Seeded course {tag}",
        label=f"SEED-{tag}",
        types=[],
        created_at=now,
    )
    session.add(context)
    session.flush()
    return context


def write(session: Session, plan: Plan, *, context_id: int | None = None) -> Seeded:
    """Store ``plan`` in a new course of a new platform, or in the course ``context_id``."""
    now = plan.now
    context = _course(session, context_id, now)
    tag = secrets.token_hex(4)
    designer = User(
        platform_id=context.platform_id,
        sub=f"seed-designer-{tag}",
        name="Seeded Designer",
        created_at=now,
        last_seen_at=now,
    )
    session.add(designer)
    session.flush()
    actor = Actor(designer.id, designer.display_name, context.platform_id, context.id, CadreRole.DESIGNER)
    rubric = rubric_library.create_rubric(session, actor, seed_rubric(plan.criteria), origin="form")
    version = rubric.current_version
    assert version is not None
    version.used_at = now
    content = rubric_library.version_content(version)
    scorer = rubrics.Scorer(content)
    # Each criterion's line for each level, scored once by the engine: scoring 200,000 assessments one by
    # one would be most of the seeding's time, for lines that only depend on the level chosen.
    lines = {
        (criterion.identifier, level): scorer.score(
            [{"criterion": other.identifier, "level": LEVELS[level - 1][0]} for other in content.criteria]
        ).to_dict()["criteria"][position]
        for position, criterion in enumerate(content.criteria)
        for level in range(1, len(LEVELS) + 1)
    }

    tables = [
        User.__table__,
        Membership.__table__,
        ManagerLink.__table__,
        Assessment.__table__,
        AssessmentRevision.__table__,
        CriterionScore.__table__,
        OutboxMessage.__table__,
    ]
    ids = _next_ids(session, tables)  # type: ignore[arg-type]
    learner_ids = [ids["users"] + number for number in range(plan.learners)]
    manager_ids = [ids["users"] + plan.learners + number for number in range(plan.managers)]
    users = [
        {
            "id": user_id,
            "platform_id": context.platform_id,
            "sub": f"seed-{tag}-learner-{number:05d}",
            "name": f"Learner {number:05d}",
            "given_name": "Learner",
            "family_name": f"{number:05d}",
            "email": None,
            "is_admin": False,
            "created_at": now,
            "last_seen_at": now,
        }
        for number, user_id in enumerate(learner_ids)
    ]
    users += [
        {
            "id": user_id,
            "platform_id": context.platform_id,
            "sub": f"seed-{tag}-manager-{number:04d}",
            "name": f"Manager {number:04d}",
            "given_name": "Manager",
            "family_name": f"{number:04d}",
            "email": f"manager-{number:04d}@seed.cadre.invalid",
            "is_admin": False,
            "created_at": now,
            "last_seen_at": now,
        }
        for number, user_id in enumerate(manager_ids)
    ]
    bulk_insert(session, User.__table__, users)  # type: ignore[arg-type]
    memberships = [
        {
            "id": ids["memberships"] + number,
            "user_id": user_id,
            "context_id": context.id,
            "lti_roles": [],
            "role": role,
            "created_at": now,
            "updated_at": now,
        }
        for number, (user_id, role) in enumerate(
            [(user_id, CadreRole.LEARNER) for user_id in learner_ids]
            + [(user_id, CadreRole.MANAGER) for user_id in manager_ids]
        )
    ]
    bulk_insert(session, Membership.__table__, memberships)  # type: ignore[arg-type]
    bulk_insert(
        session,
        ManagerLink.__table__,
        [  # type: ignore[arg-type]
            {
                "id": ids["manager_links"] + number,
                "context_id": context.id,
                "manager_id": manager_ids[link.manager],
                "learner_id": learner_ids[link.learner],
                "source": ManagerLinkSource.ROSTER,
                "status": ManagerLinkStatus.ACTIVE,
                "relation": link.relation,
                "created_at": link.created_at,
                "ended_at": None,
            }
            for number, link in enumerate(plan.links)
        ],
    )

    activities = []
    for planned in plan.activities:
        activity = Activity(
            public_id=secrets.token_hex(16),
            platform_id=context.platform_id,
            context_id=context.id,
            kind=planned.kind,
            title=f"Seeded activity {planned.number + 1:02d}",
            instructions="",
            manager_briefing="",
            rubric_version_id=version.id,
            due_at=planned.due_at,
            due_timezone="UTC",
            points_possible=None,
            grades_to_lms=False,
            assessors=planned.assessors,
            work_product_required=False,
            feedback_release=FeedbackRelease.ON_SUBMISSION,
            configured_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(activity)
        activities.append(activity)
    session.flush()
    snapshots = [settings_snapshot(activity) for activity in activities]

    assessments, revisions, scores = [], [], []
    revision_id = ids["assessment_revisions"]
    for number, planned in enumerate(plan.assessments):
        assessment_id = ids["assessments"] + number
        activity = activities[planned.activity]
        learner_id = learner_ids[planned.learner]
        assessor_id = learner_id if planned.assessor is None else manager_ids[planned.assessor]
        role = AssessorRole.SELF if planned.assessor is None else AssessorRole.MANAGER
        assessments.append(
            {
                "id": assessment_id,
                "activity_id": activity.id,
                "learner_id": learner_id,
                "assessor_id": assessor_id,
                "assessor_role": role,
                "status": planned.status,
                "draft_content": {"criteria": {}, "strengths": "", "next_steps": ""}
                if planned.status is AssessmentStatus.DRAFT
                else None,
                "draft_revision": planned.revisions + (planned.status is AssessmentStatus.DRAFT),
                "draft_saved_at": now,
                "revision_count": planned.revisions,
                "released_at": None,
                "released_by_user_id": None,
                "acknowledged_revision": None,
                "acknowledged_at": None,
                "learner_reply": "",
                "learner_reply_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        if planned.submitted_at is None:
            continue
        criteria = [
            lines[(criterion.identifier, level)]
            for criterion, level in zip(content.criteria, planned.levels, strict=True)
        ]
        total = sum(planned.levels)
        most = len(LEVELS) * len(planned.levels)
        for revision_number in range(1, planned.revisions + 1):
            at = planned.submitted_at - timedelta(days=planned.revisions - revision_number)
            revisions.append(
                {
                    "id": revision_id,
                    "assessment_id": assessment_id,
                    "number": revision_number,
                    "rubric_version_id": version.id,
                    "criteria": criteria,
                    "strengths": "",
                    "next_steps": "",
                    "scoring_mode": "points",
                    "total": Decimal(total),
                    "max_possible": Decimal(most),
                    "percentage": (Decimal(total * 100) / most).quantize(Decimal("0.01"), ROUND_HALF_UP),
                    "explanation": [],
                    "activity_settings": snapshots[planned.activity],
                    "submitted_by_user_id": assessor_id,
                    "submitted_at": at,
                }
            )
            revision_id += 1
        if planned.status is AssessmentStatus.SUBMITTED:
            scores += rows_of_revision(
                revision_id=revision_id - 1,
                assessment_id=assessment_id,
                activity_id=activity.id,
                learner_id=learner_id,
                assessor_id=assessor_id,
                assessor_role=role.value,
                rubric_version_id=version.id,
                criteria=criteria,
                submitted_at=planned.submitted_at,
            )
    bulk_insert(session, Assessment.__table__, assessments)  # type: ignore[arg-type]
    bulk_insert(session, AssessmentRevision.__table__, revisions)  # type: ignore[arg-type]
    for number, row in enumerate(scores):
        row["id"] = ids["criterion_scores"] + number
    bulk_insert(session, CriterionScore.__table__, scores)  # type: ignore[arg-type]
    bulk_insert(session, AssessmentScore.__table__, assessment_scores(scores))  # type: ignore[arg-type]
    tallies = tally_deltas(scores)
    tally_id = _next_ids(session, [CriterionScoreTally.__table__])["criterion_score_tallies"]  # type: ignore[list-item]
    for number, tally in enumerate(tallies):
        tally["id"] = tally_id + number
    bulk_insert(session, CriterionScoreTally.__table__, tallies)  # type: ignore[arg-type]
    bulk_insert(
        session,
        OutboxMessage.__table__,
        [  # type: ignore[arg-type]
            {
                "id": ids["outbox_messages"] + number,
                "topic": MAIL_TOPIC,
                "dedupe_key": reminder_key(activities[index], manager_ids[manager], occasion),
                "payload": {
                    "kind": "reminder",
                    "activity_id": activities[index].id,
                    "manager_id": manager_ids[manager],
                    "occasion": occasion,
                },
                "status": OutboxStatus.DELIVERED,
                "attempts": 1,
                "next_attempt_at": now,
                "claimed_by": None,
                "claimed_until": None,
                "last_error": None,
                "created_at": now,
                "delivered_at": now,
            }
            for number, (index, manager, occasion) in enumerate(plan.reminders)
        ],
    )
    sent = Counter((activities[index].id, manager_ids[manager]) for index, manager, _ in plan.reminders)
    bulk_insert(
        session,
        ReminderTally.__table__,  # type: ignore[arg-type]
        [
            {"activity_id": activity_id, "manager_id": manager_id, "sent": count, "last_sent_at": now}
            for (activity_id, manager_id), count in sorted(sent.items())
        ],
    )
    _advance_sequences(session, [*tables, CriterionScoreTally.__table__])  # type: ignore[list-item]
    if session.connection().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))  # the planner's statistics, for the rows it has never seen
    return Seeded(
        context.id,
        context.platform_id,
        designer.id,
        learner_ids,
        manager_ids,
        [activity.id for activity in activities],
        version.id,
    )


@click.group("tracking")
def tracking_commands() -> None:
    """Dashboards' data: a course at scale for trying and benchmarking them."""


@tracking_commands.command("seed")
@click.option("--learners", type=click.IntRange(1, 100_000), default=10_000, show_default=True)
@click.option("--activities", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--criteria", type=click.IntRange(1, 30), default=10, show_default=True)
@click.option(
    "--seed", "random_seed", type=int, default=1, show_default=True, help="The random generator's seed."
)
@click.option(
    "--course-id",
    type=int,
    default=None,
    help="Cadre's id of an existing course to fill (default: a new course on a new platform).",
)
@with_appcontext
def seed_command(
    learners: int, activities: int, criteria: int, random_seed: int, course_id: int | None
) -> None:
    """Fill a course with LEARNERS learners, their managers, ACTIVITIES activities and assessments."""
    started = time.perf_counter()
    plan = generate(learners=learners, activities=activities, criteria=criteria, seed=random_seed)
    with session_scope(current_app) as session:
        seeded = write(session, plan, context_id=course_id)
        teams = [f"Team of Manager {number:04d}" for number in range(min(3, plan.managers))]
        seed_outcome(session, seeded.context_id, teams=teams, seed=random_seed)
        seed_leaderboard(session, seeded.context_id, seeded.learner_ids[::2])
    click.echo(
        f"Course {seeded.context_id}: {learners} learners, {plan.managers} managers, {activities} "
        f"activities x {criteria} criteria, {len(plan.assessments)} assessments, "
        f"{len(plan.reminders)} reminders, in {time.perf_counter() - started:.1f} s."
    )


__all__ = ["Plan", "Seeded", "generate", "seed_command", "tracking_commands", "write"]
