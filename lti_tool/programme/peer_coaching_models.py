"""Peer coaching's tables (``lti_tool.programme.peer_coaching``): the designer's settings, the pairs and
triads of an activity, and the sessions their members log. Imported at the end of
``lti_tool.programme.models`` so that ``Base.metadata`` has them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.models import Activity, User
from lti_tool.states import PeerGroupSource


class PeerCoachingSettings(Base):
    __tablename__ = "peer_coaching_settings"
    __table_args__ = (CheckConstraint("group_size IN (2, 3)", name="group_size"),)

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    group_size: Mapped[int] = mapped_column(default=2)
    """Pairs (2) or triads (3), for groups formed at random."""
    ideas: Mapped[str] = mapped_column(Text, default="")
    """The course's ideas a reflection may draw on, one per line (the "conceptual input")."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PeerCoachingGroup(Base):
    """A pair or triad of learners who coach each other in one activity."""

    __tablename__ = "peer_coaching_groups"
    __table_args__ = (UniqueConstraint("activity_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    number: Mapped[int]
    """Group 1, 2, ... in the activity."""
    source: Mapped[PeerGroupSource] = mapped_column(
        enum_column(PeerGroupSource, name="group_source", length=20)
    )
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()


class PeerCoachingMember(Base):
    """One person in one group; a person is in at most one group per activity."""

    __tablename__ = "peer_coaching_members"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        Index("ix_peer_coaching_members_group", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("peer_coaching_groups.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    group: Mapped[PeerCoachingGroup] = relationship()
    user: Mapped[User] = relationship()


class PeerCoachingSession(Base):
    """A peer-coaching session, logged by one member with the reflection template: a recent managerial
    experience (``presenter``'s), reflected on in the light of one of the course's ideas."""

    __tablename__ = "peer_coaching_sessions"
    __table_args__ = (Index("ix_peer_coaching_sessions_group", "group_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("peer_coaching_groups.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The member whose experience the session took up."""
    held_on: Mapped[date] = mapped_column(Date)
    experience: Mapped[str] = mapped_column(Text)
    idea: Mapped[str] = mapped_column(String(200))
    reflection: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    group: Mapped[PeerCoachingGroup] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    presenter: Mapped[User | None] = relationship(foreign_keys=[presenter_id])
