"""The per-criterion scores the dashboards aggregate (``lti_tool.tracking``), kept beside the feature;
``lti_tool.models`` imports this module at its end so that ``Base.metadata`` has the table.

A revision keeps its criteria as JSON (``AssessmentRevision.criteria``), which no database groups quickly
or in the same way on SQLite and PostgreSQL. :class:`CriterionScore` holds one row per criterion of each
assessment's *in-force* submission: a ``GROUP BY`` over plain columns gives distributions, means, trends
and gaps. The rows follow the assessments by mapper events below, whoever appends the revision (the
feedback services, an import, a test): a new revision replaces its assessment's rows, a withdrawal
removes them. The revisions stay the record; these rows are derived and can be rebuilt from them
(:func:`rows_of_revision`, and migration 0020's backfill).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, enum_column
from lti_tool.models import Assessment, AssessmentRevision
from lti_tool.states import AssessmentStatus, AssessorRole

HUNDRED = Decimal(100)


class CriterionScore(Base):
    """One criterion of an assessment's in-force submission, with what the dashboards group by."""

    __tablename__ = "criterion_scores"
    __table_args__ = (
        # The dashboards' one scan: a course's activities, grouped by criterion, role, level and week.
        Index("ix_criterion_scores_activity", "activity_id", "criterion", "assessor_role"),
        Index("ix_criterion_scores_assessment", "assessment_id"),
        Index("ix_criterion_scores_learner", "learner_id", "activity_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("assessment_revisions.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assessor_role: Mapped[AssessorRole] = mapped_column(
        enum_column(AssessorRole, name="assessor_role", length=20)
    )
    rubric_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubric_versions.id", ondelete="SET NULL")
    )
    criterion: Mapped[str] = mapped_column(String(100))
    """The criterion's identifier in the rubric version."""
    level_number: Mapped[int]
    """1 for the rubric's first level of the criterion."""
    level_count: Mapped[int]
    points: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_points: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    """``points`` out of ``max_points`` as 0..100 (None in levels-only rubrics)."""
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    week_start: Mapped[date] = mapped_column(Date)
    """The Monday (UTC) of ``submitted_at``'s week, kept so that trends group the same way everywhere."""


def week_of(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def percent_of(points: Decimal | None, max_points: Decimal | None) -> Decimal | None:
    if points is None or max_points is None or max_points <= 0:
        return None
    return (points * HUNDRED / max_points).quantize(Decimal("0.01"))


def _decimal(text: Any) -> Decimal | None:
    return None if text is None or text == "" else Decimal(str(text))


def rows_of_revision(*, revision_id: int, assessment_id: int, activity_id: int, learner_id: int,
                     assessor_id: int, assessor_role: str, rubric_version_id: int | None,
                     criteria: list[dict[str, Any]], submitted_at: datetime) -> list[dict[str, Any]]:
    """The :class:`CriterionScore` rows of one revision (``criteria`` as the revision stores them)."""
    rows = []
    for line in criteria:
        points, max_points = _decimal(line.get("points")), _decimal(line.get("max_points"))
        rows.append({
            "assessment_id": assessment_id, "revision_id": revision_id, "activity_id": activity_id,
            "learner_id": learner_id, "assessor_id": assessor_id, "assessor_role": assessor_role,
            "rubric_version_id": rubric_version_id, "criterion": str(line["criterion"])[:100],
            "level_number": int(line["level_number"]), "level_count": int(line["level_count"]),
            "points": points, "max_points": max_points, "percent": percent_of(points, max_points),
            "submitted_at": submitted_at, "week_start": week_of(submitted_at),
        })
    return rows


@event.listens_for(AssessmentRevision, "after_insert")
def _score_the_new_revision(_mapper: Any, connection: Connection, revision: AssessmentRevision) -> None:
    """A submission: its criteria replace the assessment's previous in-force rows, in the same flush."""
    found = connection.execute(
        select(Assessment.activity_id, Assessment.learner_id, Assessment.assessor_id,
               Assessment.assessor_role)
        .where(Assessment.id == revision.assessment_id)
    ).one()
    connection.execute(delete(CriterionScore).where(CriterionScore.assessment_id == revision.assessment_id))
    rows = rows_of_revision(
        revision_id=revision.id, assessment_id=revision.assessment_id, activity_id=found.activity_id,
        learner_id=found.learner_id, assessor_id=found.assessor_id, assessor_role=str(found.assessor_role),
        rubric_version_id=revision.rubric_version_id, criteria=revision.criteria or [],
        submitted_at=revision.submitted_at,
    )
    if rows:
        connection.execute(insert(CriterionScore), rows)


@event.listens_for(Assessment, "after_update")
def _forget_a_withdrawn_submission(_mapper: Any, connection: Connection, assessment: Assessment) -> None:
    """A withdrawn submission no longer counts anywhere (submitting again writes the rows anew)."""
    history = inspect_state(assessment).attrs.status.history
    if history.added and assessment.status is AssessmentStatus.WITHDRAWN:
        connection.execute(delete(CriterionScore).where(CriterionScore.assessment_id == assessment.id))
