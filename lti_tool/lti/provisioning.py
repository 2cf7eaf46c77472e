"""What a valid launch writes: user, course, membership, activity, manager links and the launch itself.

:func:`record_launch` takes the request's session and never commits: the launch view commits once, so a
launch is recorded entirely or not at all. Personal data is updated only from claims the platform sent
(a platform whose privacy settings withhold the name must not erase the one Cadre already has).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import Base, utcnow
from lti_tool.lti.launch import (
    CLAIM_CONTEXT,
    CLAIM_MESSAGE_TYPE,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLE_SCOPE_MENTOR,
    CLAIM_ROLES,
    ValidatedLaunch,
)
from lti_tool.lti.roles import is_mentor, is_platform_admin, map_roles
from lti_tool.models import Context, Launch, ManagerLink, Membership, ResourceLink, User
from lti_tool.settings import Settings

MENTOR_SOURCE = "lti_mentor"
PERSONAL_CLAIMS = ("name", "given_name", "family_name", "email")

Row = TypeVar("Row", bound=Base)


def _get_or_create(session: Session, model: type[Row], defaults: dict[str, Any] | None = None,
                   **keys: Any) -> Row:
    """The row with these unique keys, inserted (with ``defaults``) if missing.

    The insert runs in a savepoint, so a concurrent launch inserting the same row makes this one read it
    instead of failing.
    """
    row = session.scalars(select(model).filter_by(**keys)).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(**keys, **(defaults or {}))
            session.add(row)
        return row
    except IntegrityError:
        return session.scalars(select(model).filter_by(**keys)).one()


def _sent(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def upsert_user(session: Session, platform_id: int, claims: dict[str, Any], now: datetime) -> User:
    user = _get_or_create(session, User, platform_id=platform_id, sub=claims["sub"])
    for field in PERSONAL_CLAIMS:
        if (value := _sent(claims, field)) is not None:
            setattr(user, field, value)
    user.is_admin = is_platform_admin(claims.get(CLAIM_ROLES, []))
    user.last_seen_at = now
    return user


def upsert_context(session: Session, launch: ValidatedLaunch) -> Context | None:
    claim = launch.claims.get(CLAIM_CONTEXT)
    if not claim:
        return None
    context = _get_or_create(session, Context, defaults={"deployment_id": launch.deployment.id},
                             platform_id=launch.platform.id, context_id=str(claim["id"]))
    context.deployment_id = launch.deployment.id
    if title := _sent(claim, "title"):
        context.title = title
    if label := _sent(claim, "label"):
        context.label = label
    if isinstance(claim.get("type"), list):
        context.types = [str(value) for value in claim["type"]]
    return context


def upsert_membership(session: Session, user: User, context: Context, lti_roles: list[str]) -> Membership:
    role = map_roles(lti_roles).value
    membership = _get_or_create(session, Membership, defaults={"role": role, "lti_roles": list(lti_roles)},
                                user_id=user.id, context_id=context.id)
    membership.lti_roles = list(lti_roles)
    membership.role = role
    return membership


def upsert_resource_link(session: Session, context: Context, claims: dict[str, Any]) -> ResourceLink | None:
    claim = claims.get(CLAIM_RESOURCE_LINK)
    if not isinstance(claim, dict) or not claim.get("id"):
        return None
    link = _get_or_create(session, ResourceLink, context_id=context.id, resource_link_id=str(claim["id"]))
    if title := _sent(claim, "title"):
        link.title = title
    return link


def record_mentor_scope(
    session: Session, manager: User, context: Context, learner_subs: Iterable[str]
) -> None:
    """Canvas observers: link the mentor to each observed learner (users created by sub when new).

    The claim is the platform's current list, so ``lti_mentor`` links for learners no longer in it are
    marked ``ended`` (and reactivated if they come back); links from other sources are left alone.
    """
    wanted: set[int] = set()
    for sub in sorted({str(sub) for sub in learner_subs if sub and str(sub) != manager.sub}):
        learner = _get_or_create(session, User, platform_id=manager.platform_id, sub=sub)
        link = _get_or_create(session, ManagerLink, defaults={"source": MENTOR_SOURCE},
                              context_id=context.id, manager_id=manager.id, learner_id=learner.id)
        if link.source == MENTOR_SOURCE:
            link.status = "active"
        wanted.add(learner.id)
    existing = session.scalars(
        select(ManagerLink).where(ManagerLink.context_id == context.id, ManagerLink.manager_id == manager.id,
                                  ManagerLink.source == MENTOR_SOURCE)
    )
    for link in existing:
        if link.learner_id not in wanted:
            link.status = "ended"


def record_launch(session: Session, launch: ValidatedLaunch, settings: Settings,
                  now: datetime | None = None) -> Launch:
    """Upsert everything the launch tells Cadre and add the :class:`Launch` row (flushed, not committed)."""
    now = now or utcnow()
    claims = launch.claims
    lti_roles: list[str] = list(claims.get(CLAIM_ROLES, []))
    role = map_roles(lti_roles)
    user = upsert_user(session, launch.platform.id, claims, now)
    session.flush()
    context = upsert_context(session, launch)
    resource_link = None
    if context is not None:
        session.flush()
        upsert_membership(session, user, context, lti_roles)
        resource_link = upsert_resource_link(session, context, claims)
        mentor_scope = claims.get(CLAIM_ROLE_SCOPE_MENTOR)
        if is_mentor(lti_roles) and isinstance(mentor_scope, list):
            record_mentor_scope(session, user, context, mentor_scope)
    session.flush()
    row = Launch(
        id=secrets.token_urlsafe(32),
        platform_id=launch.platform.id,
        user_id=user.id,
        context_id=context.id if context else None,
        resource_link_id=resource_link.id if resource_link else None,
        message_type=claims[CLAIM_MESSAGE_TYPE],
        role=role.value,
        claims=claims,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.launch_token_minutes),
    )
    session.add(row)
    session.flush()
    return row
