"""Who manages whom in a course: the active :class:`~lti_tool.models.ManagerLink` rows, read for a page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from lti_tool.models import ManagerLink, User
from lti_tool.states import ManagerLinkStatus


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
