"""Tables of managers invited by e-mail (``lti_tool.invitations``): the invitation, its single-use sign-in
links (only a hash of each token is kept), and managers' opt-outs from reminders per course.

Kept beside their feature rather than in ``lti_tool.models``, which imports this module at its end so that
``Base.metadata`` (migrations, the models-match-migrations test) always has these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, utcnow
from lti_tool.models import Context, User


class ManagerInvitation(Base):
    """A manager invited by e-mail to a course to give feedback on the learners linked to them there.

    The manager is a :class:`User` of the course's platform: the one with that e-mail if Cadre knows them,
    otherwise one made for the invitation (``sub`` ``cadre-invited:…``, never an LTI id). The learners are
    their manager links in the course, made with the invitation. Revoking ends every session the
    invitation started and spends its unused links; the links to learners stay (they are the platform's
    or the designer's truth, not the invitation's).
    """

    __tablename__ = "manager_invitations"
    __table_args__ = (Index("ix_manager_invitations_context_manager", "context_id", "manager_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    """Where sign-in links go: the address the inviter typed, lower-cased."""
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    context: Mapped[Context] = relationship()
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class InvitationSignInLink(Base):
    """One e-mailed sign-in link: the SHA-256 of its token, when it stops working, and when it was used."""

    __tablename__ = "invitation_sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("manager_invitations.id", ondelete="CASCADE"),
                                               index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    launch_id: Mapped[str | None] = mapped_column(ForeignKey("launches.id", ondelete="SET NULL"))
    """The Cadre session the link was exchanged for (revoking the invitation ends it)."""

    invitation: Mapped[ManagerInvitation] = relationship()


class ReminderOptOut(Base):
    """A manager who asked for no more reminder e-mails from one course."""

    __tablename__ = "reminder_opt_outs"
    __table_args__ = (UniqueConstraint("user_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReminderSchedule(Base):
    """When managers are reminded of an activity's feedback, as its designer set it (an activity without a
    row follows the default: 3 days before, on the day, weekly for 8 weeks after)."""

    __tablename__ = "reminder_schedules"
    __table_args__ = (
        CheckConstraint("days_before >= 0 AND days_before <= 30", name="days_before"),
        CheckConstraint("weeks_after >= 0 AND weeks_after <= 12", name="weeks_after"),
    )

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    days_before: Mapped[int] = mapped_column(default=3)
    """Days before the due date for the first reminder; 0: none before the day."""
    on_due_day: Mapped[bool] = mapped_column(default=True)
    weeks_after: Mapped[int] = mapped_column(default=8)
    """Weekly reminders after the due date, for this many weeks; 0: none once it is overdue."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReminderTally(Base):
    """How many reminder e-mails one manager was sent about one activity, and the last one's time: counted
    in the transaction that marks each reminder's outbox message delivered (one the SMTP server accepted;
    not one its composer dropped because the feedback was in by then). What the dashboard shows."""

    __tablename__ = "reminder_tallies"
    __table_args__ = (CheckConstraint("sent >= 0", name="sent"),)

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
