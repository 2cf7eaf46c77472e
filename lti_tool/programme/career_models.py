"""Tables of the career conversation (``lti_tool.programme.career``): the designer's setting, one
conversation per learner and activity (the learner's four answers, their line manager's, the next
conversation's date, the learner's consent) and the actions the two agreed.

Kept beside the feature; ``lti_tool.models`` imports this module at its end so that ``Base.metadata`` has
these tables. Answers are JSON objects keyed by question (``career.QUESTIONS``), so a question added later
needs no migration.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, utcnow
from lti_tool.models import Activity, User

ACTION_OWNERS = ("learner", "manager")


class CareerSettings(Base):
    """What the designer set for a career conversation (an activity without a row: staff never read)."""

    __tablename__ = "career_settings"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    staff_may_read: Mapped[bool] = mapped_column(default=False)
    """Course staff may read a conversation's content, where its learner also consented."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CareerConversation(Base):
    """One learner's career conversation in one activity, with their line manager."""

    __tablename__ = "career_conversations"
    __table_args__ = (UniqueConstraint("activity_id", "learner_id"),
                      Index("ix_career_conversations_next", "next_conversation_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    learner_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the learner shared their answers with their manager; a draft until then."""
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The manager who last wrote their answers (the line manager then)."""
    manager_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    held_on: Mapped[date | None] = mapped_column(Date)
    """The day the conversation took place (what staff see without consent)."""
    next_conversation_on: Mapped[date | None] = mapped_column(Date)
    next_reminded_on: Mapped[date | None] = mapped_column(Date)
    """The next conversation's date a reminder was sent for (one e-mail per date)."""
    staff_consent: Mapped[bool] = mapped_column(default=False)
    """The learner lets course staff read it (where the designer's setting allows): revocable."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    actions: Mapped[list[CareerAction]] = relationship(cascade="all, delete-orphan",
                                                       order_by="CareerAction.id")


class CareerAction(Base):
    """An action the learner and manager agreed: what, who does it, by when."""

    __tablename__ = "career_actions"
    __table_args__ = (CheckConstraint("owner IN ('learner', 'manager')", name="owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("career_conversations.id", ondelete="CASCADE"),
                                                 index=True)
    what: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
