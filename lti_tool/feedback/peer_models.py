"""Peer assessment's tables (``lti_tool.feedback.peers``): the designer's settings of a peer-assessment
activity and who reviews whom in it. The reviews themselves are :class:`~lti_tool.models.Assessment` rows
with the role ``peer``, drafted, revised, withdrawn and released like a manager's. Imported at the end of
``lti_tool.models`` so that ``Base.metadata`` has them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.models import Activity, User
from lti_tool.states import PeerAssignmentSource, PeerScope


class PeerSettings(Base):
    """What the designer set for a peer assessment beyond the common activity settings."""

    __tablename__ = "peer_settings"
    __table_args__ = (
        CheckConstraint("reviews_per_learner >= 1 AND reviews_per_learner <= 10", name="reviews_per_learner"),
    )

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    reviews_per_learner: Mapped[int] = mapped_column(default=2)
    """k: each learner gives k reviews and receives k."""
    anonymous: Mapped[bool] = mapped_column(default=True)
    """The learner never learns who reviewed them (staff still see it)."""
    scope: Mapped[PeerScope] = mapped_column(
        enum_column(PeerScope, name="peer_scope", length=20), default=PeerScope.COURSE
    )
    seed: Mapped[int | None] = mapped_column(BigInteger)
    """The seed of the first assignment run, reused by every later one (newcomers), so a run repeats."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PeerAssignment(Base):
    """``reviewer`` reviews ``reviewee`` in a peer-assessment activity."""

    __tablename__ = "peer_assignments"
    __table_args__ = (
        UniqueConstraint("activity_id", "reviewer_id", "reviewee_id"),
        CheckConstraint("reviewer_id <> reviewee_id", name="not_oneself"),
        Index("ix_peer_assignments_reviewee", "activity_id", "reviewee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[PeerAssignmentSource] = mapped_column(
        enum_column(PeerAssignmentSource, name="peer_source", length=20)
    )
    group_key: Mapped[str] = mapped_column(String(64), default="course")
    """The group it was drawn in (``course``, or ``team:<line manager id>``)."""
    assigned_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    reviewee: Mapped[User] = relationship(foreign_keys=[reviewee_id])
