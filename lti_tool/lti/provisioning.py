"""What a valid launch writes: user, course, membership, activity, manager links and the launch itself.

:func:`record_launch` takes the request's session and never commits: the launch view commits once, so a
launch is recorded entirely or not at all. Personal data is updated only from claims the platform sent
(a platform whose privacy settings withhold the name must not erase the one Cadre already has).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from lti_tool.db import Base, insert_with_conflicts, utcnow
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
from lti_tool.relationships import groups
from lti_tool.settings import Settings
from lti_tool.states import GroupSource, ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus

MENTOR_SOURCE = ManagerLinkSource.LTI_MENTOR
PERSONAL_CLAIMS = ("name", "given_name", "family_name", "email")


def _upsert(session: Session, model: type[Base], keys: Mapping[str, Any], values: Mapping[str, Any],
            update: Collection[str] = (), *, update_to: Mapping[str, Any] | None = None) -> int:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET <update> = <the values given> … RETURNING id``: the row's
    id, new or not, in one statement.

    One statement per row instead of a SELECT, an INSERT or UPDATE and the ORM's flush, and safe when two
    launches race to create the same row (the database settles it; no savepoint dance). The statement is
    built once per shape (which columns are given and updated), its values bound at execution: building
    and keying a fresh statement each time cost several times what running it does. ``update_to``:
    SQL expressions to update with instead (rare: no cached statement).
    """
    table: Table = model.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    if update_to is not None:
        statement = insert_with_conflicts(dialect)(table).values({**keys, **values})
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=dict(update_to))
        return session.execute(statement.returning(table.c.id)).scalar_one()
    prepared = _upsert_statement(dialect, table, tuple(keys), tuple(values), tuple(update))
    return session.execute(prepared, {**keys, **values}).scalar_one()


@functools.cache
def _upsert_statement(dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...],
                      update: tuple[str, ...]) -> ReturningInsert[tuple[int]]:
    """One upsert statement per shape; few shapes exist (which personal claims a platform sends)."""
    insert = insert_with_conflicts(dialect)
    statement = insert(table).values({name: bindparam(name) for name in (*keys, *columns)})
    # DO UPDATE even with nothing to change: DO NOTHING would return no row, so no id, for an existing one.
    assignments = {name: statement.excluded[name] for name in (update or keys)}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=assignments).returning(table.c.id)


def _sent(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def upsert_user(session: Session, platform_id: int, claims: dict[str, Any], now: datetime) -> int:
    personal = {field: value for field in PERSONAL_CLAIMS if (value := _sent(claims, field)) is not None}
    changes = {**personal, "is_admin": is_platform_admin(claims.get(CLAIM_ROLES, [])), "last_seen_at": now}
    return _upsert(session, User, {"platform_id": platform_id, "sub": claims["sub"]}, changes, changes.keys())


def upsert_context(session: Session, launch: ValidatedLaunch) -> int | None:
    claim = launch.claims.get(CLAIM_CONTEXT)
    if not claim:
        return None
    changes: dict[str, Any] = {"deployment_id": launch.deployment.id}
    if title := _sent(claim, "title"):
        changes["title"] = title
    if label := _sent(claim, "label"):
        changes["label"] = label
    if isinstance(claim.get("type"), list):
        changes["types"] = [str(value) for value in claim["type"]]
    keys = {"platform_id": launch.platform.id, "context_id": str(claim["id"])}
    return _upsert(session, Context, keys, {"types": [], **changes}, changes.keys())


def upsert_membership(session: Session, user_id: int, context_id: int, lti_roles: list[str],
                      now: datetime) -> int:
    changes = {"lti_roles": list(lti_roles), "role": map_roles(lti_roles).value, "updated_at": now}
    return _upsert(session, Membership, {"user_id": user_id, "context_id": context_id}, changes,
                   changes.keys())


def upsert_resource_link(session: Session, context_id: int, claims: dict[str, Any]) -> int | None:
    claim = claims.get(CLAIM_RESOURCE_LINK)
    if not isinstance(claim, dict) or not claim.get("id"):
        return None
    changes = {"title": title} if (title := _sent(claim, "title")) else {}
    keys = {"context_id": context_id, "resource_link_id": str(claim["id"])}
    return _upsert(session, ResourceLink, keys, changes, changes.keys())


def record_mentor_scope(session: Session, platform_id: int, manager_id: int, manager_sub: str,
                        context_id: int, learner_subs: Iterable[str]) -> None:
    """Canvas observers: link the mentor to each observed learner (users created by sub when new).

    The claim is the platform's current list, so ``lti_mentor`` links for learners no longer in it are
    marked ``ended`` (and reactivated if they come back); links from other sources are left alone.
    """
    links = ManagerLink.__table__.c
    wanted: set[int] = set()
    for sub in sorted({str(sub) for sub in learner_subs if sub and str(sub) != manager_sub}):
        learner_id = _upsert(session, User, {"platform_id": platform_id, "sub": sub}, {})
        _upsert(session, ManagerLink,
                {"context_id": context_id, "manager_id": manager_id, "learner_id": learner_id},
                {"source": MENTOR_SOURCE, "status": ManagerLinkStatus.ACTIVE,
                 "relation": ManagerLinkRelation.MENTOR},
                update_to={"status": case((links.source == MENTOR_SOURCE, ManagerLinkStatus.ACTIVE.value),
                                          else_=links.status)})
        wanted.add(learner_id)
    session.execute(
        update(ManagerLink)
        .where(ManagerLink.context_id == context_id, ManagerLink.manager_id == manager_id,
               ManagerLink.source == MENTOR_SOURCE, ManagerLink.learner_id.not_in(wanted))
        .values(status=ManagerLinkStatus.ENDED)
    )


def record_launch(session: Session, launch: ValidatedLaunch, settings: Settings,
                  now: datetime | None = None) -> Launch:
    """Upsert everything the launch tells Cadre and add the :class:`Launch` row (not committed)."""
    now = now or utcnow()
    claims = launch.claims
    lti_roles: list[str] = list(claims.get(CLAIM_ROLES, []))
    role = map_roles(lti_roles)
    user_id = upsert_user(session, launch.platform.id, claims, now)
    context_id = upsert_context(session, launch)
    resource_link_id = None
    if context_id is not None:
        upsert_membership(session, user_id, context_id, lti_roles, now)
        resource_link_id = upsert_resource_link(session, context_id, claims)
        mentor_scope = claims.get(CLAIM_ROLE_SCOPE_MENTOR)
        if is_mentor(lti_roles) and isinstance(mentor_scope, list):
            record_mentor_scope(session, launch.platform.id, user_id, claims["sub"], context_id, mentor_scope)
        if (names := groups.groups_in_launch(claims)) is not None:
            groups.replace_groups(session, context_id, GroupSource.PLATFORM, {user_id: names},
                                  only_people=[user_id], now=now)
    row = Launch(
        id=secrets.token_urlsafe(32),
        platform_id=launch.platform.id,
        user_id=user_id,
        context_id=context_id,
        resource_link_id=resource_link_id,
        message_type=claims[CLAIM_MESSAGE_TYPE],
        role=role.value,
        claims=claims,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.launch_token_minutes),
    )
    session.add(row)
    return row

