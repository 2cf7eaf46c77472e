"""Tables of the programme activities (``lti_tool.programme``): the manager insight survey (settings, the
designer's known mistakes, managers' responses and their answers, the gaps a designer merges answers
into and what each gap is linked to) and six-month follow-ups (settings, and one row per follow-up due).

Kept beside their feature; ``lti_tool.models`` imports this module at its end so that ``Base.metadata``
has these tables.

Answers are rows, one per observed mistake, so that ranking gaps is one SQL ``GROUP BY``: each answer
carries its activity, its ``answer_key`` (the normalised text: what groups answers and what a gap is
made of) and its ``per_week`` occurrences, whatever way the manager gave the frequency. A response's
earlier revisions keep their rows with ``current`` false.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.models import Activity, Assessment, User
from lti_tool.states import FollowUpAnchor, FollowUpStatus, MistakeFrequency, SurveyResponseStatus


class SurveySettings(Base):
    """What the designer set for a manager insight survey beyond the common activity settings (an
    activity without a row is named, k = 5, no default currency)."""

    __tablename__ = "survey_settings"
    __table_args__ = (CheckConstraint("min_answers >= 3 AND min_answers <= 1000", name="min_answers"),)

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    """No designer sees who answered; no aggregate shows before ``min_answers`` managers answered."""
    min_answers: Mapped[int] = mapped_column(default=5)
    """k: the answers an anonymous survey needs before any aggregate shows."""
    currency: Mapped[str | None] = mapped_column(String(3))
    """The ISO 4217 code cost estimates start in, and the one gaps are ranked by cost in."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class KnownMistake(Base):
    """A mistake (or competency) the designer offers managers to pick, besides typing their own."""

    __tablename__ = "survey_known_mistakes"
    __table_args__ = (Index("ix_survey_known_mistakes_activity", "activity_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(300))
    answer_key: Mapped[str] = mapped_column(String(320))
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Taken off the list by the designer; answers that picked it keep its label."""


class SurveyResponse(Base):
    """One manager's answer to one survey (or to a follow-up's asking of it again).

    ``respondent_id`` is kept in anonymous mode too, so the manager can change their answer and be asked
    again six months later; what designers see never names it (:mod:`lti_tool.programme.survey`).
    """

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("activity_id", "respondent_id"),
        CheckConstraint("draft_revision >= 0", name="draft_revision"),
        CheckConstraint("revision_count >= 0", name="revision_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    respondent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[SurveyResponseStatus] = mapped_column(
        enum_column(SurveyResponseStatus, name="status", length=20), default=SurveyResponseStatus.DRAFT
    )
    draft_content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The form as typed; None when no unsubmitted changes are open."""
    draft_revision: Mapped[int] = mapped_column(default=0)
    revision_count: Mapped[int] = mapped_column(default=0)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    respondent: Mapped[User] = relationship()


class SurveyAnswer(Base):
    """One observed mistake of one revision of a response: what, how often, and its business impact."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_activity_current", "activity_id", "current", "answer_key"),
        Index("ix_survey_answers_response", "response_id", "revision"),
        CheckConstraint("impact >= 1 AND impact <= 5", name="impact"),
        CheckConstraint("per_week > 0", name="per_week"),
        CheckConstraint("cost IS NULL OR (cost >= 0 AND currency IS NOT NULL)", name="cost"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    revision: Mapped[int]
    current: Mapped[bool] = mapped_column(default=True)
    """Of the response's newest revision (the one aggregates count)."""
    position: Mapped[int] = mapped_column(default=0)
    known_mistake_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_known_mistakes.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(300))
    """The mistake as the manager typed it, or the label of the known mistake picked."""
    answer_key: Mapped[str] = mapped_column(String(320))
    """``text`` normalised (case, accents, punctuation, spaces): equal keys are the same mistake."""
    frequency: Mapped[MistakeFrequency] = mapped_column(
        enum_column(MistakeFrequency, name="frequency", length=20))
    per_week: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    """Occurrences per week: the manager's estimate, or what the scale step stands for."""
    impact: Mapped[int]
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    """The cost of one occurrence, in ``currency``."""
    currency: Mapped[str | None] = mapped_column(String(3))


class SurveyGap(Base):
    """A named performance gap: answers the designer merged (by their keys), ranked together."""

    __tablename__ = "survey_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    keys: Mapped[list[SurveyGapKey]] = relationship(cascade="all, delete-orphan", order_by="SurveyGapKey.id")
    links: Mapped[list[SurveyGapLink]] = relationship(cascade="all, delete-orphan",
                                                      order_by="SurveyGapLink.id")


class SurveyGapKey(Base):
    """An answer key merged into a gap; a key is in at most one gap of its survey."""

    __tablename__ = "survey_gap_keys"
    __table_args__ = (UniqueConstraint("activity_id", "answer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gap_id: Mapped[int] = mapped_column(ForeignKey("survey_gaps.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    answer_key: Mapped[str] = mapped_column(String(320))


class SurveyGapLink(Base):
    """A rubric criterion (rubric and criterion identifier) or a competency tag a gap is about."""

    __tablename__ = "survey_gap_links"
    __table_args__ = (
        CheckConstraint("(rubric_id IS NOT NULL AND criterion_identifier IS NOT NULL) "
                        "OR competency_tag IS NOT NULL", name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gap_id: Mapped[int] = mapped_column(ForeignKey("survey_gaps.id", ondelete="CASCADE"), index=True)
    rubric_id: Mapped[int | None] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    criterion_identifier: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(500))
    """What the link is called on the page and in the export (the criterion's title then)."""
    competency_tag: Mapped[str | None] = mapped_column(String(500))


class FollowUpSettings(Base):
    """What a six-month follow-up activity follows up, and when it is due."""

    __tablename__ = "follow_up_settings"
    __table_args__ = (CheckConstraint("offset_days >= 1 AND offset_days <= 1000", name="offset_days"),)

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    source_activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                                    index=True)
    """The survey or the feedback activity whose submissions are followed up."""
    offset_days: Mapped[int] = mapped_column(default=182)
    anchor: Mapped[FollowUpAnchor] = mapped_column(
        enum_column(FollowUpAnchor, name="anchor", length=20), default=FollowUpAnchor.SUBMISSION)
    course_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    source_activity: Mapped[Activity] = relationship(foreign_keys=[source_activity_id])


class FollowUp(Base):
    """One manager asked again about one answer: their survey response, or their assessment of one
    learner. Made once per source answer (``source_key``), due at ``due_at``."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("activity_id", "source_key"),
        Index("ix_follow_ups_due", "status", "due_at"),
        Index("ix_follow_ups_manager", "manager_id", "activity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    source_activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(60))
    """``survey:<response id>`` or ``assessment:<assessment id>``."""
    source_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"))
    source_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus, name="status", length=20), default=FollowUpStatus.SCHEDULED)
    anchored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id", ondelete="SET NULL"))
    """The survey asked again (a survey follow-up), once the manager started it."""
    rubric_answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """A rubric follow-up's scored answer (``rubrics.ScoreResult.to_dict()`` and the version id)."""
    what_changed: Mapped[str] = mapped_column(Text, default="")
    draft_content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """A rubric follow-up's draft as the manager left it (``feedback.content.Draft.content``, with
    ``what_changed``); cleared once answered. A survey follow-up's draft is its survey response's."""
    draft_revision: Mapped[int] = mapped_column(default=0)
    """Counts the rubric draft's saves: a save from an older revision is refused (another tab saved)."""
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship(foreign_keys=[activity_id])
    source_activity: Mapped[Activity] = relationship(foreign_keys=[source_activity_id])
    source_assessment: Mapped[Assessment | None] = relationship()
    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    learner: Mapped[User | None] = relationship(foreign_keys=[learner_id])


# The coaching log's tables.
from lti_tool.programme.coaching_models import CoachingSession, CoachingSettings  # noqa: E402, F401

# Peer coaching's tables.
from lti_tool.programme.peer_coaching_models import PeerCoachingGroup, PeerCoachingSession  # noqa: E402, F401
