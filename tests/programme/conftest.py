"""A course for the survey and follow-up tests, built in the test's database: a designer, six managers
(Omar manages Ana and Ben), a learner-role manager as Moodle sends them (Lena manages Chloé), learners,
a survey activity and a second course with its own manager and designer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lti_tool.models import Activity, Context, ManagerLink, Platform, User
from lti_tool.permissions import Actor
from lti_tool.programme import survey
from lti_tool.states import ActivityKind, CadreRole, ManagerLinkSource


def mistake(text: str = "", *, known: str = "", frequency: str = "weekly", per_week: str = "",
            impact: str = "3", cost: str = "", currency: str = "") -> dict[str, str]:
    return {"known": known, "text": text, "frequency": frequency, "per_week": per_week, "impact": impact,
            "cost": cost, "currency": currency}


@dataclass
class Course:
    db: Session
    platform: Platform
    context: Context
    other_context: Context
    designer: Actor
    other_designer: Actor
    managers: list[Actor]
    """Six managers of the course; ``managers[0]`` is Omar, line manager of Ana and Ben."""
    lena: Actor
    """A learner-role manager (Moodle): linked to Chloé as her manager."""
    ana: User
    ben: User
    ana_actor: Actor
    """A learner who manages nobody."""
    stranger: Actor
    """A manager of the other course."""

    @property
    def omar(self) -> Actor:
        return self.managers[0]

    def activity(self, kind: ActivityKind = ActivityKind.MANAGER_INSIGHT_SURVEY, *,
                 context: Context | None = None, configured: bool = True, **values: Any) -> Activity:
        context = context or self.context
        now = datetime.now(UTC)
        activity = Activity(public_id=secrets.token_hex(16), platform_id=self.platform.id,
                            context_id=context.id, kind=kind,
                            title=values.pop("title", "Where it goes wrong"),
                            configured_at=now if configured else None, created_at=now, updated_at=now,
                            **values)
        self.db.add(activity)
        self.db.flush()
        return activity

    def answer(self, actor: Actor, activity: Activity, *rows: dict[str, str]) -> Any:
        response = survey.response_of(self.db, activity, actor.user_id)
        return survey.submit(self.db, actor, activity, list(rows),
                             based_on=response.draft_revision if response else 0)


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
        row = User(platform_id=platform.id, sub=sub, name=name, email=f"{sub}@example.com")
        db.add(row)
        db.flush()
        return row

    def actor(row: User, role: CadreRole, where: Context = context) -> Actor:
        return Actor(row.id, row.display_name, platform.id, where.id, role)

    names = ["Omar Haddad", "Rita Nowak", "Yusuf Demir", "Ines Costa", "Kenji Sato", "Priya Nair"]
    managers = [actor(user(name.split()[0].lower(), name), CadreRole.MANAGER) for name in names]
    ana, ben, chloe = user("ana", "Ana Lima"), user("ben", "Ben Okafor"), user("chloe", "Chloé Martin")
    lena = user("lena", "Lena Berg")
    sam = user("sam", "Sam Stranger")
    for manager_id, learner in ((managers[0].user_id, ana), (managers[0].user_id, ben), (lena.id, chloe)):
        db.add(ManagerLink(context_id=context.id, manager_id=manager_id, learner_id=learner.id,
                           source=ManagerLinkSource.ROSTER))
    db.add(ManagerLink(context_id=other.id, manager_id=sam.id, learner_id=ana.id,
                       source=ManagerLinkSource.ROSTER))
    db.flush()
    return Course(
        db=db, platform=platform, context=context, other_context=other,
        designer=actor(user("maya", "Maya Schmidt"), CadreRole.DESIGNER),
        other_designer=actor(user("olga", "Olga Other"), CadreRole.DESIGNER, other),
        managers=managers, lena=actor(lena, CadreRole.LEARNER), ana=ana, ben=ben,
        ana_actor=actor(ana, CadreRole.LEARNER), stranger=actor(sam, CadreRole.MANAGER, other),
    )
