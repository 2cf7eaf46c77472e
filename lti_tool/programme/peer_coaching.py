"""Peer coaching: the course's learners coach each other in pairs or triads, and log each session with a
reflection template taken from the source (peer coaching "begins with reflection on recent managerial
experiences in light of conceptual input"): *a recent managerial experience* (whose, and what happened),
*the course's idea* it is read in the light of (one of the designer's list, or the member's own words),
*the reflection* (what the idea shows about the experience) and *the next step*.

Rules, decided here and in ``lti_tool.permissions`` (the peer-coaching section):

* **Groups** are formed by the designer (two or three learners they choose) or at random (:func:`form_groups`,
  seeded: the designer's group size, 2 or 3; a remainder never leaves anyone alone: a pair becomes a triad,
  or two triads two pairs and a triad). Forming at random again places only learners in no group: a newcomer
  joins a pair (making a triad), or waits for a second newcomer. A learner is in one group per activity.
* **Who sees a session**: its group's members and the course's designers and administrators; nobody in
  another group (a guessed id is "not found"). Only its author changes or deletes it, while in the group.
* **Leaving**: the designer may take a member out of a group (their sessions stay in the group's log) and
  dissolve a group that has no sessions.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.feedback.peers import activity_under, participants
from lti_tool.models import Activity, User, audit
from lti_tool.permissions import (
    PEER_GROUP_NOT_FOUND,
    Actor,
    PermissionDenied,
    can_change_peer_session,
    can_join_peer_coaching,
    can_manage_peer_groups,
    can_read_peer_group,
    ensure,
    refuse,
)
from lti_tool.programme import form_fields, peer_coaching_events
from lti_tool.programme.errors import ProgrammeError
from lti_tool.programme.peer_coaching_models import (
    PeerCoachingGroup,
    PeerCoachingMember,
    PeerCoachingSession,
    PeerCoachingSettings,
)
from lti_tool.states import PeerGroupSource

MAX_TEXT = 4000
MAX_IDEA = 200
MAX_IDEAS = 30
EARLIEST = form_fields.EARLIEST_SESSION
FIELDS = ("held_on", "presenter_id", "experience", "idea", "own_idea", "reflection", "next_step")
OWN_IDEA = "__own__"
NOT_LEARNERS = "Choose two or three learners of this course who are in no group yet."
GROUP_HAS_SESSIONS = "This group has logged sessions, so it stays: take members out of it instead."
NOT_A_MEMBER = "This person is not a member of this group."


class CoachingProblems(ProgrammeError):
    """What was typed cannot be stored; ``problems`` by field name."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("Nothing was saved: " + " ".join(problems.values()))


# -- forming groups (pure)


def form_groups(people: Sequence[int], size: int, seed: int) -> list[list[int]]:
    """``people`` in groups of ``size`` (2 or 3), in a seeded random order; nobody alone (one person alone
    forms no group), every group of two or three."""
    if size not in (2, 3):
        raise ValueError(f"peer-coaching groups are pairs or triads, not {size}")
    order = sorted(set(people))
    random.Random(f"{seed}:groups").shuffle(order)
    if len(order) < 2:
        return []
    groups = [order[index : index + size] for index in range(0, len(order), size)]
    if len(groups[-1]) == 1:
        alone = groups.pop()
        if size == 2:
            groups[-1].extend(alone)  # the last pair becomes a triad
        else:  # a triad and one person become two pairs
            last = groups.pop() + alone
            groups.extend([last[:2], last[2:]])
    return groups


def place_newcomers(
    groups: Mapping[int, Sequence[int]], newcomers: Sequence[int], size: int, seed: int
) -> tuple[dict[int, list[int]], list[list[int]]]:
    """Newcomers joined to existing groups (``group id -> members``) or formed into new ones: the newcomers
    make groups among themselves first; one left alone joins the smallest pair (a triad then), else waits.
    Returns the additions per existing group and the new groups."""
    new_groups = form_groups(newcomers, size, seed)
    placed = {person for group in new_groups for person in group}
    left = [person for person in sorted(set(newcomers)) if person not in placed]
    joins: dict[int, list[int]] = {}
    pairs = sorted(
        (group_id for group_id, members in groups.items() if len(members) < 3),
        key=lambda group_id: (len(groups[group_id]), group_id),
    )
    for person in left:
        if pairs:
            joins.setdefault(pairs.pop(0), []).append(person)
    return joins, new_groups


# -- finding


def member_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    return activity_under(session, actor, activity_id, can_join_peer_coaching)


def managed_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    return activity_under(session, actor, activity_id, can_manage_peer_groups)


def member_ids(session: Session, group: PeerCoachingGroup) -> set[int]:
    return set(
        session.scalars(select(PeerCoachingMember.user_id).where(PeerCoachingMember.group_id == group.id))
    )


def group_of(session: Session, activity: Activity, user_id: int) -> PeerCoachingGroup | None:
    return session.scalar(
        select(PeerCoachingGroup)
        .join(PeerCoachingMember, PeerCoachingMember.group_id == PeerCoachingGroup.id)
        .where(PeerCoachingMember.activity_id == activity.id, PeerCoachingMember.user_id == user_id)
    )


def readable_group(session: Session, actor: Actor, activity: Activity, group_id: int) -> PeerCoachingGroup:
    group = session.get(PeerCoachingGroup, group_id)
    if group is not None and group.activity_id != activity.id:
        group = None
    ensure(can_read_peer_group(actor, group, member_ids(session, group) if group is not None else set()))
    assert group is not None
    return group


def own_session(session: Session, actor: Actor, activity: Activity, session_id: int) -> PeerCoachingSession:
    row = session.get(PeerCoachingSession, session_id)
    if row is not None and row.activity_id != activity.id:
        row = None
    ensure(can_change_peer_session(actor, row, member_ids(session, row.group) if row is not None else set()))
    assert row is not None
    return row


# -- settings


def settings_of(session: Session, activity: Activity) -> PeerCoachingSettings:
    return session.get(PeerCoachingSettings, activity.id) or PeerCoachingSettings(
        activity_id=activity.id, group_size=2, ideas=""
    )


def ideas_of(settings: PeerCoachingSettings) -> list[str]:
    return [line.strip() for line in settings.ideas.splitlines() if line.strip()]


def save_settings(
    session: Session, actor: Actor, activity: Activity, typed: Mapping[str, str]
) -> PeerCoachingSettings:
    ensure(can_manage_peer_groups(actor, activity))
    problems: dict[str, str] = {}
    size = {"2": 2, "3": 3}.get((typed.get("group_size") or "").strip())
    if size is None:
        problems["group_size"] = "Choose pairs (2) or triads (3)."
    ideas = [line.strip() for line in (typed.get("ideas") or "").splitlines() if line.strip()]
    if len(ideas) > MAX_IDEAS:
        problems["ideas"] = f"Give at most {MAX_IDEAS} ideas (there are {len(ideas)})."
    elif any(len(idea) > MAX_IDEA for idea in ideas):
        problems["ideas"] = f"Keep each idea to {MAX_IDEA} characters, one per line."
    elif any(ord(char) < 32 for idea in ideas for char in idea if char != "\t"):
        problems["ideas"] = "The ideas have control characters: type them again as plain text."
    if problems:
        raise CoachingProblems(problems)
    saved = session.get(PeerCoachingSettings, activity.id)
    if saved is None:
        saved = PeerCoachingSettings(activity_id=activity.id)
        session.add(saved)
    saved.group_size = size or 2
    saved.ideas = "\n".join(dict.fromkeys(ideas))
    saved.updated_at = utcnow()
    session.flush()
    audit(session, actor, "peer_coaching.settings", activity_id=activity.id, group_size=saved.group_size)
    return saved


# -- groups


def _next_number(session: Session, activity: Activity) -> int:
    return (
        int(
            session.scalar(
                select(func.coalesce(func.max(PeerCoachingGroup.number), 0)).where(
                    PeerCoachingGroup.activity_id == activity.id
                )
            )
            or 0
        )
        + 1
    )


def _new_group(
    session: Session,
    actor: Actor,
    activity: Activity,
    people: Sequence[int],
    source: PeerGroupSource,
    number: int,
) -> PeerCoachingGroup:
    group = PeerCoachingGroup(
        activity_id=activity.id,
        number=number,
        source=source,
        created_by_user_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(group)
    session.flush()
    for person in people:
        session.add(PeerCoachingMember(group_id=group.id, activity_id=activity.id, user_id=person))
    return group


def _grouped(session: Session, activity: Activity) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for group_id, user_id in session.execute(
        select(PeerCoachingMember.group_id, PeerCoachingMember.user_id).where(
            PeerCoachingMember.activity_id == activity.id
        )
    ):
        groups.setdefault(group_id, []).append(user_id)
    return groups


@dataclass(frozen=True)
class FormResult:
    new_groups: int
    joined: int
    waiting: int
    """Learners still in no group (one newcomer alone, with no pair to join)."""


def form_at_random(
    session: Session, actor: Actor, activity: Activity, *, seed: int | None = None
) -> FormResult:
    """The learners in no group yet, formed into groups (the first time: everyone)."""
    ensure(can_manage_peer_groups(actor, activity))
    settings = settings_of(session, activity)
    seed = secrets.randbits(31) if seed is None else seed
    groups = _grouped(session, activity)
    grouped = {person for members in groups.values() for person in members}
    newcomers = [person for person in participants(session, activity) if person not in grouped]
    joins, new_groups = place_newcomers(groups, newcomers, settings.group_size, seed)
    number = _next_number(session, activity)
    for members in new_groups:
        _new_group(session, actor, activity, members, PeerGroupSource.RANDOM, number)
        number += 1
    for group_id, people in joins.items():
        for person in people:
            session.add(PeerCoachingMember(group_id=group_id, activity_id=activity.id, user_id=person))
    session.flush()
    joined = sum(len(people) for people in joins.values())
    placed = joined + sum(len(members) for members in new_groups)
    audit(
        session,
        actor,
        "peer_coaching.form_random",
        activity_id=activity.id,
        groups=len(new_groups),
        joined=joined,
        seed=seed,
    )
    return FormResult(len(new_groups), joined, len(newcomers) - placed)


def _whole(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def create_group(
    session: Session, actor: Actor, activity: Activity, chosen: Sequence[str]
) -> PeerCoachingGroup:
    """The designer's own pair or triad of learners in no group yet."""
    ensure(can_manage_peer_groups(actor, activity))
    ids = [_whole(value) for value in chosen if str(value or "").strip()]
    people = set(participants(session, activity))
    grouped = {person for members in _grouped(session, activity).values() for person in members}
    if (
        None in ids
        or len(set(ids)) != len(ids)
        or not 2 <= len(ids) <= 3
        or any(person not in people or person in grouped for person in ids)
    ):
        raise CoachingProblems({"members": NOT_LEARNERS})
    group = _new_group(
        session,
        actor,
        activity,
        [person for person in ids if person is not None],
        PeerGroupSource.DESIGNER,
        _next_number(session, activity),
    )
    session.flush()
    audit(session, actor, "peer_coaching.create_group", activity_id=activity.id, group_id=group.id)
    return group


def _managed_group(session: Session, actor: Actor, activity: Activity, group_id: int) -> PeerCoachingGroup:
    ensure(can_manage_peer_groups(actor, activity))
    group = session.get(PeerCoachingGroup, group_id)
    if group is None or group.activity_id != activity.id:
        raise PermissionDenied(refuse(404, "Group not found", PEER_GROUP_NOT_FOUND))
    return group


def remove_member(session: Session, actor: Actor, activity: Activity, group_id: int, user_id: int) -> None:
    group = _managed_group(session, actor, activity, group_id)
    member = session.scalar(
        select(PeerCoachingMember).where(
            PeerCoachingMember.group_id == group.id, PeerCoachingMember.user_id == user_id
        )
    )
    if member is None:
        raise CoachingProblems({"members": NOT_A_MEMBER})
    session.delete(member)
    session.flush()
    audit(
        session,
        actor,
        "peer_coaching.remove_member",
        activity_id=activity.id,
        group_id=group.id,
        user_id=user_id,
    )


def dissolve_group(session: Session, actor: Actor, activity: Activity, group_id: int) -> None:
    group = _managed_group(session, actor, activity, group_id)
    if session.scalar(
        select(PeerCoachingSession.id).where(PeerCoachingSession.group_id == group.id).limit(1)
    ):
        raise CoachingProblems({"members": GROUP_HAS_SESSIONS})
    audit(session, actor, "peer_coaching.dissolve", activity_id=activity.id, group_id=group.id)
    session.delete(group)
    session.flush()


# -- sessions


def empty_form() -> dict[str, str]:
    return {**dict.fromkeys(FIELDS, ""), "held_on": utcnow().date().isoformat()}


def form_of(row: PeerCoachingSession, ideas: Sequence[str]) -> dict[str, str]:
    known = row.idea in ideas
    return {
        "held_on": row.held_on.isoformat(),
        "presenter_id": str(row.presenter_id or ""),
        "experience": row.experience,
        "idea": row.idea if known else OWN_IDEA,
        "own_idea": "" if known else row.idea,
        "reflection": row.reflection,
        "next_step": row.next_step,
    }


def typed_form(form: Mapping[str, Any]) -> dict[str, str]:
    return form_fields.typed_form(form, FIELDS)


@dataclass(frozen=True)
class CleanSession:
    held_on: date
    presenter_id: int
    experience: str
    idea: str
    reflection: str
    next_step: str


def clean(
    typed: Mapping[str, str], members: set[int], ideas: Sequence[str], *, today: date | None = None
) -> CleanSession:
    today = today or utcnow().date()
    problems: dict[str, str] = {}
    held_on = form_fields.session_date(typed.get("held_on", ""), today, problems)
    presenter = _whole(typed.get("presenter_id"))
    if presenter is None or presenter not in members:
        problems["presenter_id"] = "Choose the member of your group whose experience the session took up."
    experience = form_fields.plain_text(
        typed.get("experience", ""),
        MAX_TEXT,
        "experience",
        "managerial experience",
        problems,
        required="Say what happened: the managerial experience.",
    )
    choice = typed.get("idea", "").strip()
    if choice == OWN_IDEA or not ideas:
        own: dict[str, str] = {}
        idea = form_fields.plain_text(
            typed.get("own_idea", ""),
            MAX_IDEA,
            "idea",
            "idea",
            own,
            required="Give the course's idea you read the experience in the light of.",
        )
        problems.update(own)  # the idea's message, whichever of its two fields was typed in
    elif choice in ideas:
        idea = choice
    else:
        idea = ""
        problems["idea"] = "Choose one of the course's ideas, or give your own."
    reflection = form_fields.plain_text(
        typed.get("reflection", ""),
        MAX_TEXT,
        "reflection",
        "reflection",
        problems,
        required="Write the reflection: what the idea shows.",
    )
    next_step = form_fields.plain_text(
        typed.get("next_step", ""), MAX_TEXT, "next_step", "next step", problems
    )
    if problems:
        raise CoachingProblems(problems)
    assert presenter is not None
    return CleanSession(held_on, presenter, experience, idea, reflection, next_step)


def my_group(session: Session, actor: Actor, activity: Activity) -> PeerCoachingGroup | None:
    ensure(can_join_peer_coaching(actor, activity))
    return group_of(session, activity, actor.user_id)


def members_of(session: Session, group: PeerCoachingGroup) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(PeerCoachingMember, PeerCoachingMember.user_id == User.id)
            .where(PeerCoachingMember.group_id == group.id)
            .order_by(User.name, User.id)
        )
    )


def sessions_of(session: Session, actor: Actor, group: PeerCoachingGroup) -> list[PeerCoachingSession]:
    ensure(can_read_peer_group(actor, group, member_ids(session, group)))
    return list(
        session.scalars(
            select(PeerCoachingSession)
            .where(PeerCoachingSession.group_id == group.id)
            .order_by(PeerCoachingSession.held_on.desc(), PeerCoachingSession.id.desc())
        )
    )


def log_session(
    session: Session, actor: Actor, activity: Activity, typed: Mapping[str, str]
) -> PeerCoachingSession:
    group = my_group(session, actor, activity)
    if group is None:
        raise ProgrammeError(
            "You are in no peer-coaching group yet: the course's designer forms the groups.",
            status=409,
            title="No group yet",
        )
    members = member_ids(session, group)
    values = clean(typed, members, ideas_of(settings_of(session, activity)))
    now = utcnow()
    row = PeerCoachingSession(
        group_id=group.id,
        activity_id=activity.id,
        author_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **values.__dict__,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "peer_coaching.session_logged",
        activity_id=activity.id,
        group_id=group.id,
        session_id=row.id,
    )
    peer_coaching_events.peer_coaching_session_logged(session, row, members)
    return row


def change_session(
    session: Session, actor: Actor, row: PeerCoachingSession, typed: Mapping[str, str]
) -> PeerCoachingSession:
    members = member_ids(session, row.group)
    ensure(can_change_peer_session(actor, row, members))
    values = clean(typed, members, ideas_of(settings_of(session, row.group.activity)))
    for name, value in values.__dict__.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    audit(session, actor, "peer_coaching.session_changed", activity_id=row.activity_id, session_id=row.id)
    return row


def delete_session(session: Session, actor: Actor, row: PeerCoachingSession) -> None:
    ensure(can_change_peer_session(actor, row, member_ids(session, row.group)))
    audit(session, actor, "peer_coaching.session_deleted", activity_id=row.activity_id, session_id=row.id)
    session.delete(row)
    session.flush()


@dataclass(frozen=True)
class GroupSummary:
    group: PeerCoachingGroup
    members: list[User]
    sessions: int
    last_held: date | None


def overview(session: Session, actor: Actor, activity: Activity) -> tuple[list[GroupSummary], list[User]]:
    """Every group with its members and session count (three queries), and the learners in no group."""
    ensure(can_manage_peer_groups(actor, activity))
    groups = list(
        session.scalars(
            select(PeerCoachingGroup)
            .where(PeerCoachingGroup.activity_id == activity.id)
            .order_by(PeerCoachingGroup.number)
        )
    )
    members: dict[int, list[User]] = {}
    for group_id, user in session.execute(
        select(PeerCoachingMember.group_id, User)
        .join(User, User.id == PeerCoachingMember.user_id)
        .where(PeerCoachingMember.activity_id == activity.id)
        .order_by(User.name, User.id)
    ):
        members.setdefault(group_id, []).append(user)
    counts = {
        group_id: (count, last)
        for group_id, count, last in session.execute(
            select(
                PeerCoachingSession.group_id,
                func.count(PeerCoachingSession.id),
                func.max(PeerCoachingSession.held_on),
            )
            .where(PeerCoachingSession.activity_id == activity.id)
            .group_by(PeerCoachingSession.group_id)
        )
    }
    grouped = {user.id for users in members.values() for user in users}
    people = participants(session, activity)
    waiting = (
        [
            user
            for user in session.scalars(select(User).where(User.id.in_(people)).order_by(User.name, User.id))
            if user.id not in grouped
        ]
        if people
        else []
    )
    return (
        [
            GroupSummary(group, members.get(group.id, []), *counts.get(group.id, (0, None)))
            for group in groups
        ],
        waiting,
    )
