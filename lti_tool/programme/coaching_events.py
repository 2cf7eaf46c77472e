"""The coaching log's moments that learning records are made of, one function each, called by
:mod:`lti_tool.programme.coaching_log` in the transaction of the change, once the row is flushed.

* :func:`coaching_session_logged`: a session was logged, or changed (a new statement voids the previous).
* :func:`coaching_session_deleted`: its owner deleted it (its statement is voided).

A statement carries the session's kind, day and minutes; never its topic, challenge, next step or
well-being check, which are the owner's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lti_tool.records import events as learning_records

if TYPE_CHECKING:
    from lti_tool.programme.coaching_models import CoachingSession


def coaching_session_logged(session: Session, coaching_session: CoachingSession, *,
                            replaces: datetime | None = None) -> None:
    """``coaching_session.owner_id`` logged (or changed, ``replaces`` the previous version's save time) a
    session of ``coaching_session.minutes`` minutes of ``coaching_session.kind`` on its ``held_on`` day."""
    learning_records.coaching_session_logged(session, coaching_session, replaces=replaces)


def coaching_session_deleted(session: Session, coaching_session: CoachingSession) -> None:
    learning_records.coaching_session_deleted(session, coaching_session)
