"""A course with people for the feedback tests, built in the test's database: a designer, a line manager
(Omar: Ana and Ben), a mentor of Ana (Rita, linked after Omar), learners, and a second course."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from lti_tool.models import Activity, Context, ManagerLink, Platform, User
from lti_tool.permissions import Actor
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import (
    ActivityKind,
    Assessors,
    CadreRole,
    FeedbackRelease,
    ManagerLinkRelation,
    ManagerLinkSource,
)

TEMPLATE = "manager-feedback-on-training-transfer"
LEVELS = {"uses-the-training": "consistent", "effect-on-results": "starting", "consistency": "role-model",
          "next-step": "consistent"}
"""Chosen levels: 2 + 1 + 3 + 2 = 8 of 12 points (66.67%)."""


def complete_answers(**overrides: str) -> dict[str, object]:
    """A complete draft for the template's rubric (``next-step`` needs its comment); ``consistency__level``
    changes one criterion's field, ``strengths`` an overall one."""
    criteria = {criterion: {"level": level, "points": "", "comment": ""}
                for criterion, level in LEVELS.items()}
    criteria["next-step"]["comment"] = "Plan the next call together."
    overall = {"strengths": "Listens well.", "next_steps": "Summarise at the end."}
    for key, value in overrides.items():
        criterion, _, field = key.partition("__")
        if not field:
            overall[key] = value
            continue
        criteria.setdefault(criterion, {"level": "", "points": "", "comment": ""})[field] = value
    return {"criteria": criteria, **overall}


@dataclass
class Course:
    db: Session
    platform: Platform
    context: Context
    other_context: Context
    designer: Actor
    omar: Actor
    """Line manager of Ana and Ben."""
    rita: Actor
    """Mentor of Ana (linked after Omar), line manager of nobody."""
    stranger: Actor
    """A manager of the other course, linked to Ana there."""
    ana: User
    ben: User
    chloe: User
    """A learner of the course linked to nobody."""
    ana_actor: Actor
    ben_actor: Actor
    rubric_version_id: int

    def link_chloe_to_a_mentor_then_a_line_manager(self) -> None:
        """Rita becomes Chloé's mentor three days ago, Omar her line manager a day later."""
        start = datetime.now(UTC) - timedelta(days=3)
        self.db.add_all([
            ManagerLink(context_id=self.context.id, manager_id=self.rita.user_id, learner_id=self.chloe.id,
                        source=ManagerLinkSource.DESIGNER, relation=ManagerLinkRelation.MENTOR,
                        created_at=start),
            ManagerLink(context_id=self.context.id, manager_id=self.omar.user_id, learner_id=self.chloe.id,
                        source=ManagerLinkSource.DESIGNER, relation=ManagerLinkRelation.LINE_MANAGER,
                        created_at=start + timedelta(days=1)),
        ])
        self.db.flush()

    def activity(self, *, kind: ActivityKind = ActivityKind.MANAGER_FEEDBACK,
                 assessors: Assessors = Assessors.LINE_MANAGER,
                 release: FeedbackRelease = FeedbackRelease.ON_SUBMISSION, points: str | None = "10",
                 line_item_url: str | None = "https://lms.example/lineitems/1",
                 due_at: datetime | None = None, context: Context | None = None) -> Activity:
        context = context or self.context
        now = datetime.now(UTC)
        activity = Activity(
            public_id=secrets.token_hex(16), platform_id=self.platform.id,
            context_id=context.id, kind=kind, title="Feedback from your manager",
            manager_briefing="Look for **empathy**.", rubric_version_id=self.rubric_version_id,
            points_possible=Decimal(points) if points else None, grades_to_lms=points is not None,
            line_item_url=line_item_url, assessors=assessors, feedback_release=release, due_at=due_at,
            configured_at=now, created_at=now, updated_at=now,
        )
        self.db.add(activity)
        self.db.flush()
        return activity


@pytest.fixture
def course(db: Session) -> Course:
    platform = Platform(name="LMS", issuer="https://lms.example", client_id="cadre",
                        auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
                        key_set_url="https://lms.example/jwks")
    db.add(platform)
    db.flush()
    context = Context(platform_id=platform.id, context_id="LCC-101", title="Leading Customer Conversations")
    other = Context(platform_id=platform.id, context_id="OPS-202", title="Running Service Operations")
    db.add_all([context, other])
    db.flush()

    def user(sub: str, name: str) -> User:
        row = User(platform_id=platform.id, sub=sub, name=name)
        db.add(row)
        db.flush()
        return row

    def actor(row: User, role: CadreRole, where: Context = context) -> Actor:
        return Actor(row.id, row.display_name, platform.id, where.id, role)

    maya, omar, rita, sam = (user("maya", "Maya Schmidt"), user("omar", "Omar Haddad"),
                             user("rita", "Rita Nowak"), user("sam", "Sam Stranger"))
    ana, ben, chloe = user("ana", "Ana Lima"), user("ben", "Ben Okafor"), user("chloe", "Chloé Martin")
    start = datetime.now(UTC) - timedelta(days=10)
    for number, (manager, learner, where) in enumerate(
        [(omar, ana, context), (omar, ben, context), (rita, ana, context), (sam, ana, other)]
    ):
        db.add(ManagerLink(context_id=where.id, manager_id=manager.id, learner_id=learner.id,
                           source=ManagerLinkSource.ROSTER, created_at=start + timedelta(hours=number)))
    db.flush()
    designer = actor(maya, CadreRole.DESIGNER)
    rubric = rubric_library.create_from_template(db, designer, TEMPLATE)
    assert rubric.current_version_id is not None
    return Course(
        db=db, platform=platform, context=context, other_context=other,
        designer=designer, omar=actor(omar, CadreRole.MANAGER),
        rita=actor(rita, CadreRole.MANAGER), stranger=actor(sam, CadreRole.MANAGER, other),
        ana=ana, ben=ben, chloe=chloe, ana_actor=actor(ana, CadreRole.LEARNER),
        ben_actor=actor(ben, CadreRole.LEARNER), rubric_version_id=rubric.current_version_id,
    )
