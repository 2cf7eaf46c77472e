"""The coaching log's tables (``lti_tool.programme.coaching_log``): the designer's aim, and one row per
session a person logged in a coaching-log activity, with its optional well-being check. Imported at the end
of ``lti_tool.programme.models`` so that ``Base.metadata`` has them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.models import Activity, User
from lti_tool.states import CoachingSessionKind


class CoachingSettings(Base):
    """What the designer set for a coaching log (an activity without a row aims for 80% coaching)."""

    __tablename__ = "coaching_settings"
    __table_args__ = (CheckConstraint("aim_percent >= 1 AND aim_percent <= 100", name="aim_percent"),)

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    aim_percent: Mapped[int] = mapped_column(default=80)
    """The share of coaching (of all minutes logged) the log aims for; the rest is mentoring."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CoachingSession(Base):
    """A coaching or mentoring session, logged by its owner (who held or received it).

    The well-being fields (``stress``, ``in_control``, ``not_in_control``) are the owner's alone: nobody
    else reads them unless ``wellbeing_shared`` is set (``permissions.can_read_wellbeing``).
    """

    __tablename__ = "coaching_sessions"
    __table_args__ = (
        Index("ix_coaching_sessions_activity_owner", "activity_id", "owner_id", "held_on"),
        CheckConstraint("minutes >= 1 AND minutes <= 600", name="minutes"),
        CheckConstraint("stress IS NULL OR (stress >= 1 AND stress <= 5)", name="stress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[CoachingSessionKind] = mapped_column(
        enum_column(CoachingSessionKind, name="coaching_kind", length=20))
    minutes: Mapped[int]
    topic: Mapped[str] = mapped_column(String(200))
    challenge: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    stress: Mapped[int | None]
    in_control: Mapped[str] = mapped_column(Text, default="")
    not_in_control: Mapped[str] = mapped_column(Text, default="")
    wellbeing_shared: Mapped[bool] = mapped_column(default=False)
    """The owner shares this session's well-being check with the course's designers."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    owner: Mapped[User] = relationship()
