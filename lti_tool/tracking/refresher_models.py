"""The spaced refreshers' tables (``lti_tool.tracking.refreshers``): an activity's refresher settings, the
refreshers its designer attached to a criterion or competency of its rubric, and one row per learner and
step of the spacing schedule. Imported at the end of ``lti_tool.models`` so that ``Base.metadata`` has them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.models import Activity, User
from lti_tool.states import RefresherStatus, RefresherTarget


class RefresherSettings(Base):
    """What the designer set for an activity's refreshers (an activity without a row uses the defaults:
    below 60%, after 1, 3, 7 and 21 days, by e-mail too)."""

    __tablename__ = "refresher_settings"
    __table_args__ = (
        CheckConstraint("threshold_percent > 0 AND threshold_percent <= 100", name="threshold_percent"),
    )

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    threshold_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    """A learner scoring below this (0..100) on a refresher's criterion or competency gets it."""
    spacing_days: Mapped[list[int]] = mapped_column(JSON)
    """Days after the weak score when each refresher comes back, increasing (1, 3, 7, 21)."""
    send_email: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Refresher(Base):
    """A short refresher the designer attached to a criterion or a competency tag of an activity's rubric:
    a text (safe Markdown), a link, or both. ``threshold_percent`` overrides the activity's."""

    __tablename__ = "refreshers"
    __table_args__ = (
        CheckConstraint("threshold_percent IS NULL OR (threshold_percent > 0 AND threshold_percent <= 100)",
                        name="threshold_percent"),
        Index("ix_refreshers_activity", "activity_id", "archived_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    target_kind: Mapped[RefresherTarget] = mapped_column(
        enum_column(RefresherTarget, name="target_kind", length=20)
    )
    target: Mapped[str] = mapped_column(String(500))
    """The criterion's identifier, or the competency tag."""
    target_label: Mapped[str] = mapped_column(String(500))
    """The criterion's title or the competency's name when the refresher was saved (shown to learners)."""
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    """Markdown, rendered with ``lti_tool.web.markdown``."""
    link_url: Mapped[str] = mapped_column(String(2000), default="")
    """An http(s) URL, or empty."""
    threshold_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Removed by the designer: nothing new is scheduled, and what was scheduled is cancelled."""

    activity: Mapped[Activity] = relationship()


class ScheduledRefresher(Base):
    """One step of the spacing schedule of one refresher for one learner.

    A weak score (``trigger_revision_id``: the assessment's in-force revision then) schedules one row per
    step; the unique key makes a second run (or a second host) add nothing. A later revision at or above the
    threshold stops the rows still scheduled (``stopped_percent`` says what it scored); a later revision
    still below it continues them, whatever their state.
    """

    __tablename__ = "scheduled_refreshers"
    __table_args__ = (
        UniqueConstraint("refresher_id", "learner_id", "trigger_revision_id", "step",
                         name="uq_scheduled_refreshers_step"),
        Index("ix_scheduled_refreshers_learner", "learner_id", "context_id", "due_at"),
        Index("ix_scheduled_refreshers_due", "status", "due_at"),
        CheckConstraint("step >= 1", name="step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refresher_id: Mapped[int] = mapped_column(ForeignKey("refreshers.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    trigger_revision_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_revisions.id", ondelete="CASCADE")
    )
    trigger_percent: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    threshold_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    """The threshold in force when it was scheduled (shown with the reason)."""
    step: Mapped[int]
    step_count: Mapped[int]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[RefresherStatus] = mapped_column(
        enum_column(RefresherStatus, name="status", length=20), default=RefresherStatus.SCHEDULED
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    """What the revision that stopped it scored (None: stopped because the assessment was withdrawn)."""
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When its e-mail was queued (the outbox key keeps it to one e-mail)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When it was scheduled; the release, for a step paused while its feedback waited for release (its day
    was counted again from the release: ``refreshers.schedule``)."""

    refresher: Mapped[Refresher] = relationship()
    learner: Mapped[User] = relationship()

