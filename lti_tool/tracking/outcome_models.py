"""Tables of a course's programme outcome (``lti_tool.tracking.outcome``): the business result the course
serves, as its designer names it, and the values measured period by period, course-wide or per team.

Kept beside the feature; ``lti_tool.models`` imports this module at its end so that ``Base.metadata`` has
these tables.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.states import OutcomeDirection

VALUE_DIGITS = 18
VALUE_PLACES = 4


class ProgrammeOutcome(Base):
    """The measurable outcome a course serves: one per course (a course without a row names none)."""

    __tablename__ = "programme_outcomes"

    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    """What is measured: "Customer satisfaction (CSAT)", "First-call resolution"."""
    unit: Mapped[str] = mapped_column(String(40))
    """How a value reads: "%", "points", "EUR per rep" (shown after each value)."""
    description: Mapped[str] = mapped_column(String(1000), default="")
    """Where the values come from and how often (for the people reading the dashboard)."""
    baseline: Mapped[Decimal] = mapped_column(Numeric(VALUE_DIGITS, VALUE_PLACES))
    target: Mapped[Decimal] = mapped_column(Numeric(VALUE_DIGITS, VALUE_PLACES))
    direction: Mapped[OutcomeDirection] = mapped_column(
        enum_column(OutcomeDirection, name="direction", length=10)
    )
    programme_start: Mapped[date] = mapped_column(Date)
    """The day the programme began: values measured before it are "before", from it on "after"."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OutcomeValue(Base):
    """One measured value of a course's outcome: for a period (the day it was measured, or its period's
    last day), course-wide (``team`` empty) or for one team."""

    __tablename__ = "outcome_values"
    __table_args__ = (UniqueConstraint("context_id", "team", "measured_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(100), default="")
    """The team's name as the business reports it; empty for the whole course's population. Teams are
    named freely: a business unit, a branch or a manager's team."""
    measured_on: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(VALUE_DIGITS, VALUE_PLACES))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
