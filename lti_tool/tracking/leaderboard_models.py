"""Tables of a course's leaderboard (``lti_tool.tracking.leaderboards``): the designer's settings and each
person's choice to appear on it.

Kept beside the feature; ``lti_tool.models`` imports this module at its end so that ``Base.metadata`` has
these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.states import LeaderboardDisplay, LeaderboardMetric, LeaderboardSubject


class LeaderboardSettings(Base):
    """What the course's designer set: a course without a row, or with ``enabled`` false, has none."""

    __tablename__ = "leaderboard_settings"

    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    metric: Mapped[LeaderboardMetric] = mapped_column(
        enum_column(LeaderboardMetric, name="metric", length=20), default=LeaderboardMetric.COMPLETION
    )
    subject: Mapped[LeaderboardSubject] = mapped_column(
        enum_column(LeaderboardSubject, name="subject", length=10), default=LeaderboardSubject.LEARNER
    )
    display: Mapped[LeaderboardDisplay] = mapped_column(
        enum_column(LeaderboardDisplay, name="display", length=12), default=LeaderboardDisplay.PSEUDONYMS
    )
    show_values: Mapped[bool] = mapped_column(default=False)
    """Learners and managers see the others' figures; otherwise only the ranks and their own figure."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class LeaderboardPresence(Base):
    """One person's choice about a course's leaderboard. Nobody appears without a row saying
    ``opted_in``: the default is to stay off it."""

    __tablename__ = "leaderboard_presences"
    __table_args__ = (
        UniqueConstraint("context_id", "user_id"),
        UniqueConstraint("context_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    opted_in: Mapped[bool] = mapped_column(default=False)
    number: Mapped[int]
    """The person's number in the course ("Learner 7"), kept when they opt out and in again."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
