"""The coaching log's moment that learning records will be made of, one function per event.

:func:`coaching_session_logged` is called by :mod:`lti_tool.programme.coaching_log` in the transaction of
the change, once the row is flushed (its id exists), on the first save of a session only (an edit is not a
second session). It records nothing yet: the xAPI issue wires it to ``lti_tool.records.events``. What it
may carry then is the session's kind, date and minutes; never its topic, challenge, next step or well-being
check, which are the owner's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from lti_tool.programme.coaching_models import CoachingSession


def coaching_session_logged(session: Session, coaching_session: CoachingSession) -> None:
    """``coaching_session.owner_id`` logged a session of ``coaching_session.minutes`` minutes of
    ``coaching_session.kind`` held on ``coaching_session.held_on``."""
    del session, coaching_session  # no statement yet: the xAPI issue builds it
