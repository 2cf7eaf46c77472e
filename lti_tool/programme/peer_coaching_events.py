"""Peer coaching's moment that learning records are made of: :func:`peer_coaching_session_logged` is called
by :mod:`lti_tool.programme.peer_coaching` in the transaction of the change, once the row is flushed, on the
first save of a session only (an edit is not a second session)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lti_tool.records import events as learning_records

if TYPE_CHECKING:
    from lti_tool.programme.peer_coaching_models import PeerCoachingSession


def peer_coaching_session_logged(
    session: Session, coaching_session: PeerCoachingSession, members: Collection[int]
) -> None:
    """Each member of the group attended the session (one statement each); what was said is never in it."""
    learning_records.peer_coaching_session_logged(session, coaching_session, members)
