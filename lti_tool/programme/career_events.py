"""The moments of the career conversation that learning records are made of, one function each.

* :func:`career_conversation_held`: the learner and their manager recorded their agreement for the first
  time. The statement says that it took place, between whom and when, never what was said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lti_tool.records import events as learning_records

if TYPE_CHECKING:
    from lti_tool.permissions import Actor
    from lti_tool.programme.career_models import CareerConversation


def career_conversation_held(session: Session, conversation: CareerConversation, actor: Actor) -> None:
    """The conversation was held (``conversation.held_on``); its manager is the one who wrote theirs."""
    learning_records.career_conversation_held(session, conversation)
