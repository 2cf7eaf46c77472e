"""The course roster from the platform's Names and Role Provisioning Service (NRPS 2.0), stored with the names
and e-mail addresses the platform shares.

Fetching follows the membership container's ``Link: <…>; rel="next"`` pages (Moodle pages with ``limit`` and
``from``, Canvas with ``limit`` and ``page``; both answer the same header) through Cadre's services connector
(access token cached per issuer, client_id and scopes; the outbound policy's timeouts and size limits).
Every page must stay on the memberships URL's origin: the bearer token is never sent elsewhere. A roster is
bounded in pages and members, so a platform that loops or grows without end is refused, not followed.

A refresh runs in three steps, so that no transaction waits on the platform: read what the call needs
(:func:`prepare_refresh`), fetch (:func:`fetch_roster`), then write (:func:`store_roster`). The designer's
button does all three in its request (ending the read transaction before the fetch); the periodic job
enqueues one ``roster.refresh`` outbox message per course, whose handler does the same from the worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import current_app
from pylti1p3.service_connector import TServiceConnectorResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import session_scope, utcnow
from lti_tool.lti.registration import CadreRegistration
from lti_tool.lti.roles import map_roles
from lti_tool.lti.services import CadreServiceConnector, PlatformServiceError
from lti_tool.models import Context, CourseRoster, Launch, Platform, RosterMember, User
from lti_tool.outbox import (
    Dead,
    OutboxItem,
    Outcome,
    Period,
    RetryLater,
    RetryPolicy,
    enqueue,
    handler,
    periodic,
)
from lti_tool.relationships.groups import groups_of_member, replace_groups
from lti_tool.states import GroupSource

SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CANVAS_LOGIN = "https://www.instructure.com/canvas_user_login_id"
MAX_PAGES = 500
MAX_MEMBERS = 50_000
REFRESH_EVERY = timedelta(hours=6)
TOPIC = "roster.refresh"
LOOKUP_CHUNK = 500
"""Users are looked up by sub this many at a time (well under SQLite's bound-parameter limit)."""


class RosterError(Exception):
    """The roster could not be fetched or read; the message is for the designer (no token, no query)."""


@dataclass(frozen=True)
class RosterEntry:
    """One member as the platform shared them; absent fields are None (privacy settings hide them)."""

    user_id: str
    roles: tuple[str, ...]
    active: bool = True
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    login: str | None = None
    groups: tuple[str, ...] = ()
    """The groups or sections the platform says the member is in (:mod:`lti_tool.relationships.groups`)."""


def _text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def _login_of(raw: Mapping[str, Any]) -> str | None:
    """The LMS username where the platform shares one: Canvas puts it in the member's ``message`` (with
    ``rlid``), Moodle as ``ext_user_username``; custom ``user_username`` substitutions elsewhere."""
    if login := _text(raw.get("ext_user_username"), 255):
        return login
    messages = raw.get("message")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, Mapping):
            continue
        if login := _text(message.get(CANVAS_LOGIN), 255):
            return login
        custom = message.get("https://purl.imsglobal.org/spec/lti/claim/custom")
        if isinstance(custom, Mapping) and (login := _text(custom.get("user_username"), 255)):
            return login
    return None


def parse_member(raw: Any) -> RosterEntry | None:
    """A member of an NRPS page, or None for one Cadre cannot use (no ``user_id``)."""
    if not isinstance(raw, Mapping):
        return None
    user_id = raw.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 255:
        return None
    roles = raw.get("roles")
    email = _text(raw.get("email"), 320)
    login = _login_of(raw)
    return RosterEntry(
        user_id=user_id.strip(),
        roles=tuple(str(role) for role in roles if isinstance(role, str)) if isinstance(roles, list) else (),
        # NRPS: "Active" unless said otherwise; Moodle and Canvas send "Active"/"Inactive" ("Deleted" too).
        active=str(raw.get("status") or "Active").strip().lower() == "active",
        name=_text(raw.get("name"), 300),
        given_name=_text(raw.get("given_name"), 200),
        family_name=_text(raw.get("family_name"), 200),
        email=email.lower() if email else None,
        login=login.lower() if login else None,
        groups=groups_of_member(raw),
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _get_page(connector: CadreServiceConnector, url: str) -> TServiceConnectorResponse:
    try:
        return connector.make_service_request([SCOPE_NRPS], url, accept=NRPS_MEDIA_TYPE)
    except PlatformServiceError as error:
        raise RosterError(str(error)) from None


def fetch_roster(connector: CadreServiceConnector, memberships_url: str, *, max_pages: int = MAX_PAGES,
                 max_members: int = MAX_MEMBERS) -> list[RosterEntry]:
    """Every member of the course, following ``rel="next"`` pages; the same user on two pages counts once
    (the later page wins). Raises :class:`RosterError`."""
    origin = _origin(memberships_url)
    members: dict[str, RosterEntry] = {}
    seen: set[str] = set()
    url: str | None = memberships_url
    while url is not None:
        if url in seen:
            raise RosterError("The platform's roster pages point back to a page already read; Cadre stopped "
                              "there and stored nothing.")
        if len(seen) >= max_pages:
            raise RosterError(f"The platform's roster has more than {max_pages} pages; Cadre stopped and "
                              "stored nothing.")
        if _origin(url) != origin:
            raise RosterError("The platform's next roster page is on another site than its roster service; "
                              "Cadre did not follow it and stored nothing.")
        seen.add(url)
        page = _get_page(connector, url)
        body = page["body"]
        raw_members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(raw_members, list):
            raise RosterError("The platform's roster answer has no list of members.")
        for raw in raw_members:
            entry = parse_member(raw)
            if entry is not None:
                members[entry.user_id] = entry
        if len(members) > max_members:
            raise RosterError(f"The platform's roster has more than {max_members} members; Cadre stored "
                              "nothing.")
        next_url = page["next_page_url"]
        url = urljoin(url, next_url) if next_url else None
    return list(members.values())


# -- storing -------------------------------------------------------------------------------------------------


def _users_by_sub(session: Session, platform_id: int, subs: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for start in range(0, len(subs), LOOKUP_CHUNK):
        chunk = subs[start:start + LOOKUP_CHUNK]
        for user in session.scalars(select(User).where(User.platform_id == platform_id, User.sub.in_(chunk))):
            found[user.sub] = user
    return found


def store_roster(session: Session, context: Context, entries: Iterable[RosterEntry],
                 now: datetime | None = None) -> int:
    """Make the course's roster what ``entries`` say: members added or updated, those no longer listed
    kept but inactive. People Cadre has not met become users with the names the platform shared; a name
    shared by the platform also fills a user's name where Cadre had none. Answers the active count."""
    now = now or utcnow()
    entries = list(entries)
    users = _users_by_sub(session, context.platform_id, [entry.user_id for entry in entries])
    existing = {member.user_id: member for member in session.scalars(
        select(RosterMember).where(RosterMember.context_id == context.id))}
    listed: set[int] = set()
    active = 0
    for entry in entries:
        user = users.get(entry.user_id)
        if user is None:
            user = users[entry.user_id] = User(platform_id=context.platform_id, sub=entry.user_id)
            session.add(user)
        for field in ("name", "given_name", "family_name", "email"):
            value = getattr(entry, field)
            if value and not getattr(user, field):
                setattr(user, field, value)
    session.flush()  # once: the new users get their ids together
    for entry in entries:
        user = users[entry.user_id]
        member = existing.get(user.id)
        if member is None:
            member = RosterMember(context_id=context.id, user_id=user.id)
            session.add(member)
            existing[user.id] = member
        member.name, member.given_name, member.family_name = entry.name, entry.given_name, entry.family_name
        member.email, member.login = entry.email, entry.login
        member.lti_roles = list(entry.roles)
        member.role = map_roles(entry.roles)
        member.active = entry.active
        member.updated_at = now
        listed.add(user.id)
        active += entry.active
    replace_groups(session, context.id, GroupSource.PLATFORM,
                   {users[entry.user_id].id: entry.groups for entry in entries}, now=now)
    for user_id, member in existing.items():
        if user_id not in listed and member.active:
            member.active = False
            member.updated_at = now
    roster = session.get(CourseRoster, context.id) or CourseRoster(context_id=context.id)
    roster.refreshed_at = roster.last_attempt_at = now
    roster.member_count = active
    roster.last_error = None
    session.add(roster)
    session.flush()
    return active


def record_failure(session: Session, context_id: int, reason: str) -> None:
    roster = session.get(CourseRoster, context_id) or CourseRoster(context_id=context_id)
    roster.last_attempt_at = utcnow()
    roster.last_error = reason[:500]
    session.add(roster)


# -- refreshing ----------------------------------------------------------------------------------------------


def remember_memberships_url(session: Session, context_id: int, claims: Mapping[str, Any]) -> str | None:
    """Keep the course's NRPS URL from a launch (the periodic refresh has no launch to read it from)."""
    claim = claims.get(CLAIM_NRPS)
    url = _text(claim.get("context_memberships_url"), 2000) if isinstance(claim, Mapping) else None
    if url is None:
        return None
    roster = session.get(CourseRoster, context_id)
    if roster is None:
        session.add(CourseRoster(context_id=context_id, memberships_url=url))
    elif roster.memberships_url != url:
        roster.memberships_url = url
    return url


@dataclass(frozen=True)
class PreparedRefresh:
    context_id: int
    connector: CadreServiceConnector
    memberships_url: str


def prepare_refresh(session: Session, context_id: int, memberships_url: str | None = None) -> PreparedRefresh:
    """What a refresh needs from the database, read now so the fetch runs with no transaction open."""
    context = session.get(Context, context_id)
    if context is None:
        raise RosterError("The course no longer exists in Cadre.")
    if memberships_url is None:
        roster = session.get(CourseRoster, context_id)
        memberships_url = roster.memberships_url if roster else None
    if not memberships_url:
        raise RosterError("The platform did not offer its roster service (Names and Role Provisioning) in "
                          "this course's launches: ask its administrator to enable it for Cadre.")
    platform = session.get(Platform, context.platform_id)
    assert platform is not None  # the context's foreign key
    registration = CadreRegistration(platform, session)
    registration.get_tool_private_key()  # loaded now, while the session is open
    return PreparedRefresh(context_id, CadreServiceConnector(registration), memberships_url)


@periodic("roster-refresh", every=REFRESH_EVERY)
def schedule_refreshes(session: Session, period: Period) -> str:
    """One ``roster.refresh`` message per course whose roster service Cadre knows; courses launched from
    since Cadre last looked have theirs read from their launches first."""
    known = select(CourseRoster.context_id).where(CourseRoster.memberships_url.is_not(None))
    unknown = select(Launch.context_id).where(Launch.context_id.is_not(None),
                                              Launch.context_id.not_in(known)).distinct()
    for context_id in list(session.scalars(unknown)):
        if url := latest_memberships_url(session, context_id):
            roster = session.get(CourseRoster, context_id) or CourseRoster(context_id=context_id)
            roster.memberships_url = url
            session.add(roster)
    session.flush()
    count = 0
    for context_id in session.scalars(
        select(CourseRoster.context_id).where(CourseRoster.memberships_url.is_not(None))
    ):
        key = f"{context_id}:{period.start:%Y%m%dT%H%M}"
        count += enqueue(session, TOPIC, key, {"context_id": context_id})
    return f"{count} roster refresh(es) enqueued"


@handler(TOPIC, retry=RetryPolicy(max_attempts=5))
def refresh_from_outbox(item: OutboxItem) -> Outcome | None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    context_id = item.payload.get("context_id")
    if not isinstance(context_id, int):
        return Dead("the message names no course")
    try:
        with session_scope(app) as session:
            prepared = prepare_refresh(session, context_id)
    except RosterError as error:
        return Dead(str(error))
    try:
        entries = fetch_roster(prepared.connector, prepared.memberships_url)
    except RosterError as error:
        with session_scope(app) as session:
            record_failure(session, context_id, str(error))
        return RetryLater(str(error))
    with session_scope(app) as session:
        context = session.get(Context, context_id)
        if context is None:
            return Dead("the course no longer exists in Cadre")
        store_roster(session, context, entries)
    return None


def latest_memberships_url(session: Session, context_id: int) -> str | None:
    """The NRPS URL of the course's newest launch that carried one (for courses launched before Cadre
    kept it)."""
    for claims in session.scalars(
        select(Launch.claims).where(Launch.context_id == context_id).order_by(Launch.created_at.desc())
        .limit(20)
    ):
        claim = claims.get(CLAIM_NRPS) if isinstance(claims, dict) else None
        if isinstance(claim, Mapping) and (url := _text(claim.get("context_memberships_url"), 2000)):
            return url
    return None
