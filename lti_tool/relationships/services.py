"""Who manages whom in a course: the :class:`~lti_tool.models.ManagerLink` rows, read for a page, and the
changes designers, learners and managers make to them.

A link is never deleted. Ending one (designer) or declining a nomination (manager) changes its status and
stamps ``ended_at``; the audit log says who did it, and feedback given under it stays where it is. Linking
the same two people again puts the same row back in force.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from lti_tool.db import utcnow
from lti_tool.models import ManagerLink, Membership, RosterMember, User, audit
from lti_tool.permissions import Actor, can_answer_nomination, can_change_link, ensure, note_manages_people
from lti_tool.records import events as learning_records
from lti_tool.states import CadreRole, ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus

RELATION_LABELS = {
    ManagerLinkRelation.LINE_MANAGER: "Line manager",
    ManagerLinkRelation.MENTOR: "Mentor",
    ManagerLinkRelation.COACH: "Coach",
}
STATUS_LABELS = {
    ManagerLinkStatus.ACTIVE: "Active",
    ManagerLinkStatus.ENDED: "Ended",
    ManagerLinkStatus.PENDING: "Waiting for the manager's answer",
    ManagerLinkStatus.DECLINED: "Declined",
}
SOURCE_LABELS = {
    ManagerLinkSource.LTI_MENTOR: "platform (mentor role)",
    ManagerLinkSource.ROSTER: "roster CSV",
    ManagerLinkSource.DESIGNER: "designer",
    ManagerLinkSource.NOMINATION: "learner's nomination",
}
NOT_IN_COURSE = "{what} is not in this course's roster or people: refresh the roster, or check the choice."


class RelationshipError(Exception):
    """A change that cannot be made; the message says why, for the person who asked."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- reading -------------------------------------------------------------------------------------------------


def _linked_users(session: Session, context_id: int, user_id: int, this_end: InstrumentedAttribute[int],
                  other_end: InstrumentedAttribute[int]) -> list[User]:
    """The users at ``other_end`` of the course's active links whose ``this_end`` is ``user_id``."""
    return list(session.scalars(
        select(User).join(ManagerLink, other_end == User.id)
        .where(ManagerLink.context_id == context_id, this_end == user_id,
               ManagerLink.status == ManagerLinkStatus.ACTIVE)
        .order_by(User.name, User.sub)
    ))


def learners_of(session: Session, context_id: int, manager_id: int) -> list[User]:
    """The learners ``manager_id`` is actively linked to in the course, by name."""
    return _linked_users(session, context_id, manager_id, ManagerLink.manager_id, ManagerLink.learner_id)


def managers_of(session: Session, context_id: int, learner_id: int) -> list[User]:
    """The managers actively linked to ``learner_id`` in the course, by name."""
    return _linked_users(session, context_id, learner_id, ManagerLink.learner_id, ManagerLink.manager_id)


@functools.cache
def _people_linked_to() -> Select[tuple[User, int]]:
    """Built once: every learner's home page runs it."""
    user_id = bindparam("user_id")
    return (
        select(User, ManagerLink.manager_id)
        .join(ManagerLink, or_((ManagerLink.manager_id == user_id) & (ManagerLink.learner_id == User.id),
                               (ManagerLink.learner_id == user_id) & (ManagerLink.manager_id == User.id)))
        .where(ManagerLink.context_id == bindparam("context_id"),
               ManagerLink.status == ManagerLinkStatus.ACTIVE)
        .order_by(User.name, User.sub)
    )


def people_linked_to(session: Session, context_id: int, user_id: int) -> tuple[list[User], list[User]]:
    """(:func:`learners_of`, :func:`managers_of`) ``user_id`` in the course, in one query: a learner may
    manage people too (Moodle's managers launch as learners), and the home page shows both lists."""
    learners: list[User] = []
    managers: list[User] = []
    for user, manager_id in session.execute(_people_linked_to(), {"user_id": user_id,
                                                                  "context_id": context_id}):
        (learners if manager_id == user_id else managers).append(user)
    note_manages_people(session, context_id, user_id, bool(learners))
    return learners, managers


@dataclass
class Person:
    """Someone in the course: from the roster (NRPS or earlier launches), with their role there."""

    user: User
    role: CadreRole
    email: str | None = None
    login: str | None = None
    links: list[ManagerLink] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        if self.user.is_named:
            return self.user.display_name
        return self.email or self.login or "Unnamed person"


def course_people(session: Session, context_id: int) -> dict[int, Person]:
    """Everyone in the course by user id: the active roster members, and whoever launched from it (their
    launch role wins: it is the platform's latest word)."""
    people: dict[int, Person] = {}
    for member in session.scalars(
        select(RosterMember).where(RosterMember.context_id == context_id, RosterMember.active.is_(True))
        .options(selectinload(RosterMember.user))
    ):
        people[member.user_id] = Person(member.user, member.role, member.email, member.login)
    for membership in session.scalars(select(Membership).where(Membership.context_id == context_id)
                                      .options(selectinload(Membership.user))):
        known = people.get(membership.user_id)
        if known is None:
            people[membership.user_id] = Person(membership.user, membership.role,
                                                (membership.user.email or "").lower() or None)
        else:
            known.role = membership.role
    return people


def sorted_people(people: Iterable[Person], role: CadreRole | None = None) -> list[Person]:
    return sorted((person for person in people if role is None or person.role is role),
                  key=lambda person: (person.name.casefold(), person.id))


def links_of_course(session: Session, context_id: int) -> list[ManagerLink]:
    return list(session.scalars(
        select(ManagerLink).where(ManagerLink.context_id == context_id)
        .order_by(ManagerLink.learner_id, ManagerLink.created_at, ManagerLink.id)
        .options(selectinload(ManagerLink.manager), selectinload(ManagerLink.learner))
    ))


def learners_with_links(session: Session, context_id: int) -> list[Person]:
    """The course's learners, each with every link of theirs (active first, then the history)."""
    people = course_people(session, context_id)
    for link in links_of_course(session, context_id):
        person = people.get(link.learner_id)
        if person is None:  # linked, but no longer in the roster: still shown, with their history
            person = people[link.learner_id] = Person(link.learner, CadreRole.LEARNER)
        person.links.append(link)
    for person in people.values():
        person.links.sort(key=lambda link: (link.status is not ManagerLinkStatus.ACTIVE, link.created_at))
    return [person for person in sorted_people(people.values())
            if person.role is CadreRole.LEARNER or person.links]


# -- changing ------------------------------------------------------------------------------------------------


def _existing(session: Session, context_id: int, manager_id: int, learner_id: int) -> ManagerLink | None:
    return session.scalar(select(ManagerLink).where(
        ManagerLink.context_id == context_id, ManagerLink.manager_id == manager_id,
        ManagerLink.learner_id == learner_id))


def check_pair(people: dict[int, Person], learner_id: int | None,
               manager_id: int | None) -> tuple[Person, Person]:
    """The learner and manager of a new link, both in the course in those capacities."""
    learner = people.get(learner_id) if learner_id is not None else None
    manager = people.get(manager_id) if manager_id is not None else None
    if learner is None:
        raise RelationshipError(NOT_IN_COURSE.format(what="The learner"), "learner")
    if manager is None:
        raise RelationshipError(NOT_IN_COURSE.format(what="The manager"), "manager")
    if learner.id == manager.id:
        raise RelationshipError("A person cannot be their own manager.", "manager")
    if learner.role is not CadreRole.LEARNER:
        raise RelationshipError(f"{learner.name} is not a learner in this course.", "learner")
    if manager.role is not CadreRole.MANAGER:
        raise RelationshipError(
            f"{manager.name} has no manager role in this course (the platform's Mentor role): only they "
            "can open the manager's pages.", "manager")
    return learner, manager


def link(session: Session, actor: Actor | None, context_id: int, learner: Person, manager: Person,
         relation: ManagerLinkRelation, source: ManagerLinkSource,
         status: ManagerLinkStatus = ManagerLinkStatus.ACTIVE) -> tuple[ManagerLink, bool]:
    """Put a link in force (or pending, for a nomination); True when something changed."""
    now = utcnow()
    existing = _existing(session, context_id, manager.id, learner.id)
    if existing is not None and existing.status is status and existing.relation is relation:
        return existing, False
    if existing is None:
        existing = ManagerLink(context_id=context_id, manager_id=manager.id, learner_id=learner.id,
                               source=source, status=status, relation=relation, created_at=now)
        session.add(existing)
    else:
        if existing.status is not ManagerLinkStatus.ACTIVE or status is ManagerLinkStatus.PENDING:
            existing.created_at = now  # back in force: a new start (the audit log keeps the old one)
        existing.status, existing.relation, existing.source = status, relation, source
        existing.ended_at = None
    session.flush()
    audit(session, actor, "manager_link.set", link_id=existing.id, context_id=context_id,
          learner_id=learner.id, manager_id=manager.id, relation=relation.value, source=source.value,
          status=status.value)
    return existing, True


def add_link(session: Session, actor: Actor, learner_id: int | None, manager_id: int | None,
             relation: ManagerLinkRelation) -> ManagerLink:
    """The designer links a manager to a learner of their course."""
    people = course_people(session, actor.course_id)
    learner, manager = check_pair(people, learner_id, manager_id)
    existing = _existing(session, actor.course_id, manager.id, learner.id)
    if existing is not None and existing.status is ManagerLinkStatus.ACTIVE and existing.relation is relation:
        raise RelationshipError(f"{manager.name} is already {RELATION_LABELS[relation].lower()} of "
                                f"{learner.name}.", "manager")
    row, _changed = link(session, actor, actor.course_id, learner, manager, relation,
                         ManagerLinkSource.DESIGNER)
    return row


def find_link(session: Session, link_id: int) -> ManagerLink | None:
    return session.get(ManagerLink, link_id)


def end_link(session: Session, actor: Actor, link_id: int) -> ManagerLink:
    """The designer ends a link: it stays, with its history and the feedback given under it."""
    row = find_link(session, link_id)
    ensure(can_change_link(actor, row))
    assert row is not None
    if row.status is not ManagerLinkStatus.ACTIVE:
        raise RelationshipError("This link is not in force, so there is nothing to end.")
    row.status, row.ended_at = ManagerLinkStatus.ENDED, utcnow()
    audit(session, actor, "manager_link.end", link_id=row.id, context_id=row.context_id,
          learner_id=row.learner_id, manager_id=row.manager_id)
    return row


def nominate(session: Session, actor: Actor, manager_id: int | None,
             relation: ManagerLinkRelation) -> ManagerLink:
    """The learner nominates a manager from the course's people; the manager accepts or declines."""
    people = course_people(session, actor.course_id)
    learner, manager = check_pair(people, actor.user_id, manager_id)
    existing = _existing(session, actor.course_id, manager.id, learner.id)
    if existing is not None and existing.status is ManagerLinkStatus.ACTIVE:
        raise RelationshipError(f"{manager.name} is already one of your managers in this course.", "manager")
    if existing is not None and existing.status is ManagerLinkStatus.PENDING:
        raise RelationshipError(f"You have nominated {manager.name} already: they have not answered yet.",
                                "manager")
    row, changed = link(session, actor, actor.course_id, learner, manager, relation,
                        ManagerLinkSource.NOMINATION, ManagerLinkStatus.PENDING)
    if changed:
        learning_records.manager_nominated(session, row)
    return row


def answer_nomination(session: Session, actor: Actor, link_id: int, *, accept: bool) -> ManagerLink:
    """The nominated manager accepts (the link is in force) or declines (kept, as declined)."""
    row = find_link(session, link_id)
    ensure(can_answer_nomination(actor, row))
    assert row is not None
    if accept:
        row.status, row.created_at = ManagerLinkStatus.ACTIVE, utcnow()
        learning_records.nomination_accepted(session, row)
    else:
        row.status, row.ended_at = ManagerLinkStatus.DECLINED, utcnow()
    audit(session, actor, "manager_link.accept" if accept else "manager_link.decline", link_id=row.id,
          context_id=row.context_id, learner_id=row.learner_id)
    return row


def nominations_for(session: Session, context_id: int, manager_id: int) -> list[ManagerLink]:
    """Nominations waiting for this manager's answer."""
    return list(session.scalars(select(ManagerLink).where(
        ManagerLink.context_id == context_id, ManagerLink.manager_id == manager_id,
        ManagerLink.status == ManagerLinkStatus.PENDING).order_by(ManagerLink.created_at)))


def links_of_learner(session: Session, context_id: int, learner_id: int) -> list[ManagerLink]:
    return list(session.scalars(select(ManagerLink).where(
        ManagerLink.context_id == context_id, ManagerLink.learner_id == learner_id)
        .order_by(ManagerLink.created_at)))
