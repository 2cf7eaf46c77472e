"""What a valid launch writes: user, course, membership, activity, manager links and the launch itself.

:func:`record_launch` takes the request's session and never commits: the launch view commits once, so a
launch is recorded entirely or not at all. Personal data is updated only from claims the platform sent
(a platform whose privacy settings withhold the name must not erase the one Cadre already has).

Most launches are someone's return to a course Cadre already knows, with nothing changed: one SELECT
(:func:`_known`) reads the person, the course, the membership and the resource link as stored, and only
what differs from the claims is written (an upsert each, safe when two launches race). ``last_seen_at``
is written when it is older than :data:`SEEN_PRECISION`; a membership's ``updated_at`` is when its roles
last changed.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, Table, and_, bindparam, case, select, update
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
from lti_tool.models import Activity, Context, Launch, ManagerLink, Membership, ResourceLink, User
from lti_tool.relationships import groups
from lti_tool.settings import Settings
from lti_tool.states import GroupSource, ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus

MENTOR_SOURCE = ManagerLinkSource.LTI_MENTOR
PERSONAL_CLAIMS = ("name", "given_name", "family_name", "email")
SEEN_PRECISION = timedelta(minutes=15)
"""How stale a person's ``last_seen_at`` may be before a launch writes it again (a launch that changes
nothing else then writes only its own row)."""


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


def _user_changes(claims: dict[str, Any], now: datetime) -> dict[str, Any]:
    personal = {field: value for field in PERSONAL_CLAIMS if (value := _sent(claims, field)) is not None}
    return {**personal, "is_admin": is_platform_admin(claims.get(CLAIM_ROLES, [])), "last_seen_at": now}


def upsert_user(session: Session, platform_id: int, claims: dict[str, Any], now: datetime) -> int:
    changes = _user_changes(claims, now)
    return _upsert(session, User, {"platform_id": platform_id, "sub": claims["sub"]}, changes, changes.keys())


def _context_claim(claims: dict[str, Any]) -> dict[str, Any] | None:
    claim = claims.get(CLAIM_CONTEXT)
    return claim if isinstance(claim, dict) and claim.get("id") else None


def _context_changes(launch: ValidatedLaunch, claim: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {"deployment_id": launch.deployment.id}
    if title := _sent(claim, "title"):
        changes["title"] = title
    if label := _sent(claim, "label"):
        changes["label"] = label
    if isinstance(claim.get("type"), list):
        changes["types"] = [str(value) for value in claim["type"]]
    return changes


def upsert_context(session: Session, launch: ValidatedLaunch) -> int | None:
    claim = _context_claim(launch.claims)
    if claim is None:
        return None
    changes = _context_changes(launch, claim)
    keys = {"platform_id": launch.platform.id, "context_id": str(claim["id"])}
    return _upsert(session, Context, keys, {"types": [], **changes}, changes.keys())


def upsert_membership(session: Session, user_id: int, context_id: int, lti_roles: list[str],
                      now: datetime) -> int:
    changes = {"lti_roles": list(lti_roles), "role": map_roles(lti_roles).value, "updated_at": now}
    return _upsert(session, Membership, {"user_id": user_id, "context_id": context_id}, changes,
                   changes.keys())


def _resource_link_claim(claims: dict[str, Any]) -> dict[str, Any] | None:
    claim = claims.get(CLAIM_RESOURCE_LINK)
    return claim if isinstance(claim, dict) and claim.get("id") else None


def upsert_resource_link(session: Session, context_id: int, claims: dict[str, Any]) -> int | None:
    claim = _resource_link_claim(claims)
    if claim is None:
        return None
    changes = {"title": title} if (title := _sent(claim, "title")) else {}
    keys = {"context_id": context_id, "resource_link_id": str(claim["id"])}
    return _upsert(session, ResourceLink, keys, changes, changes.keys())


@functools.cache
def _known_statement() -> Select[Any]:
    """What Cadre holds of a launch's person, course, membership, resource link and its activity: one row
    (the person's) with NULLs for what it does not know yet, or none for a person it has never met."""
    users, contexts, members = User.__table__.c, Context.__table__.c, Membership.__table__.c
    links, activities = ResourceLink.__table__.c, Activity.__table__.c
    return (
        select(users.id, *(users[name] for name in PERSONAL_CLAIMS), users.is_admin, users.last_seen_at,
               contexts.id.label("context_pk"), contexts.deployment_id, contexts.title, contexts.label,
               contexts.types,
               members.id.label("membership_pk"), members.lti_roles, members.role.label("membership_role"),
               links.id.label("link_pk"), links.title.label("link_title"),
               activities.id.label("activity_pk"))
        .select_from(
            User.__table__
            .outerjoin(Context.__table__, and_(contexts.platform_id == bindparam("platform_id"),
                                               contexts.context_id == bindparam("context_id")))
            .outerjoin(Membership.__table__, and_(members.user_id == users.id,
                                                  members.context_id == contexts.id))
            .outerjoin(ResourceLink.__table__, and_(links.context_id == contexts.id,
                                                    links.resource_link_id == bindparam("link_id")))
            .outerjoin(Activity.__table__, activities.resource_link_id == links.id)
        )
        .where(users.platform_id == bindparam("platform_id"), users.sub == bindparam("sub"))
    )


def _known(session: Session, launch: ValidatedLaunch, context: dict[str, Any] | None,
           link: dict[str, Any] | None) -> Row[Any] | None:
    return session.execute(_known_statement(), {
        "platform_id": launch.platform.id, "sub": launch.claims["sub"],
        "context_id": str(context["id"]) if context else None, "link_id": str(link["id"]) if link else None,
    }).first()


def _differs(known: Row[Any], changes: Mapping[str, Any]) -> bool:
    """Whether storing ``changes`` would change the row ``known`` read (its columns keep their names)."""
    return any(getattr(known, name) != value for name, value in changes.items())


@dataclass(frozen=True)
class RecordedLaunch:
    """The launch row :func:`record_launch` added, and the id of the activity its resource link is bound
    to, if any (as the launch found it: a first launch of a placement binds one later, on its page)."""

    row: Launch
    activity_id: int | None


def _provision(session: Session, launch: ValidatedLaunch, lti_roles: list[str],
               now: datetime) -> tuple[int, int | None, int | None, int | None]:
    """Upsert what the launch changes; (user id, context id, resource link id, activity id)."""
    claims = launch.claims
    context_claim, link_claim = _context_claim(claims), _resource_link_claim(claims)
    known = _known(session, launch, context_claim, link_claim)
    if known is None:
        user_id = upsert_user(session, launch.platform.id, claims, now)
    else:
        user_id = known.id
        changes = _user_changes(claims, now)
        seen = changes.pop("last_seen_at")
        if _differs(known, changes) or not known.last_seen_at or seen - known.last_seen_at > SEEN_PRECISION:
            upsert_user(session, launch.platform.id, claims, now)
    if context_claim is None:
        return user_id, None, None, None
    if known is None or known.context_pk is None or _differs(known, _context_changes(launch, context_claim)):
        context_id = upsert_context(session, launch)
        assert context_id is not None
    else:
        context_id = known.context_pk
    if known is None or known.membership_pk is None or known.lti_roles != lti_roles \
            or known.membership_role != map_roles(lti_roles):
        upsert_membership(session, user_id, context_id, lti_roles, now)
    if link_claim is None:
        return user_id, context_id, None, None
    if known is None or known.link_pk is None:
        return user_id, context_id, upsert_resource_link(session, context_id, claims), None  # no activity yet
    if (title := _sent(link_claim, "title")) is not None and known.link_title != title:
        upsert_resource_link(session, context_id, claims)
    return user_id, context_id, known.link_pk, known.activity_pk


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
                  now: datetime | None = None) -> RecordedLaunch:
    """Upsert what the launch tells Cadre and add the :class:`Launch` row (not committed)."""
    now = now or utcnow()
    claims = launch.claims
    lti_roles: list[str] = list(claims.get(CLAIM_ROLES, []))
    role = map_roles(lti_roles)
    user_id, context_id, resource_link_id, activity_id = _provision(session, launch, lti_roles, now)
    if context_id is not None:
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
    return RecordedLaunch(row, activity_id)
