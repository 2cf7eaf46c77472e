"""The per-criterion scores the dashboards aggregate (``lti_tool.tracking``), kept beside the feature;
``lti_tool.models`` imports this module at its end so that ``Base.metadata`` has the table.

A revision keeps its criteria as JSON (``AssessmentRevision.criteria``), which no database groups quickly
or in the same way on SQLite and PostgreSQL. :class:`CriterionScore` holds one row per criterion of each
assessment's *in-force* submission: a ``GROUP BY`` over plain columns gives distributions, means, trends
and gaps. The rows follow the assessments by mapper events below, whoever appends the revision (the
feedback services, an import, a test): a new revision replaces its assessment's rows, a withdrawal
removes them. The revisions stay the record; these rows are derived and can be rebuilt from them
(:func:`rows_of_revision`, and migration 0020's backfill).

:class:`CriterionScoreTally` sums those rows per activity, criterion, role, level and day, so that a
course's dashboard reads a few thousand tallies instead of scanning millions of scores (10,000 learners x
20 activities x 10 criteria is two million rows); the same events keep it in step, and a dashboard
filtered by manager, which needs the learners, reads the scores themselves.

:class:`AssessmentScore` sums them per assessment (one row per in-force submission with criteria), so
that the leaderboards, which rank learners, group a tenth of the rows; the same events keep it in step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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
    UniqueConstraint,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, enum_column, insert_with_conflicts
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


class CriterionScoreTally(Base):
    """The :class:`CriterionScore` rows of one activity, rubric version, criterion, role, level and day,
    counted and summed. ``rubric_version_id`` is 0 for scores without a version (a plain number, not a
    foreign key, so that the unique key the upserts rely on never holds a NULL)."""

    __tablename__ = "criterion_score_tallies"
    __table_args__ = (
        UniqueConstraint(
            "activity_id",
            "rubric_version_id",
            "criterion",
            "assessor_role",
            "level_number",
            "submitted_on",
            name="uq_criterion_score_tallies_key",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    rubric_version_id: Mapped[int]
    criterion: Mapped[str] = mapped_column(String(100))
    assessor_role: Mapped[AssessorRole] = mapped_column(
        enum_column(AssessorRole, name="assessor_role", length=20)
    )
    level_number: Mapped[int]
    submitted_on: Mapped[date] = mapped_column(Date)
    """The day (UTC) of the scores' submission: the dashboards' date range is in days."""
    week_start: Mapped[date] = mapped_column(Date)
    scores: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    scored: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    """How many of them have a percentage (levels-only rubrics have none)."""
    hundredths: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    """The sum of their percentages, in hundredths of a percent (exact, for the means)."""


class AssessmentScore(Base):
    """The :class:`CriterionScore` rows of one assessment's in-force submission, counted and summed."""

    __tablename__ = "assessment_scores"
    __table_args__ = (Index("ix_assessment_scores_learner", "learner_id", "activity_id"),)

    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assessor_role: Mapped[AssessorRole] = mapped_column(
        enum_column(AssessorRole, name="assessor_role", length=20)
    )
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scores: Mapped[int]
    scored: Mapped[int]
    """How many of them have a percentage (levels-only rubrics have none)."""
    hundredths: Mapped[int]
    """The sum of their percentages, in hundredths of a percent (exact, for the means)."""


def assessment_scores(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The :class:`AssessmentScore` rows of ``rows`` (:class:`CriterionScore` values), one per assessment
    (the rows of one assessment are one revision's: they share its submission time)."""
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        total = found.get(row["assessment_id"])
        if total is None:
            total = found[row["assessment_id"]] = {
                "assessment_id": row["assessment_id"],
                "activity_id": row["activity_id"],
                "learner_id": row["learner_id"],
                "assessor_role": str(row["assessor_role"]),
                "submitted_at": row["submitted_at"],
                "scores": 0,
                "scored": 0,
                "hundredths": 0,
            }
        total["scores"] += 1
        if row["percent"] is not None:
            total["scored"] += 1
            total["hundredths"] += int((Decimal(row["percent"]) * 100).to_integral_value())
    return list(found.values())


TALLY_KEY = ("activity_id", "rubric_version_id", "criterion", "assessor_role", "level_number", "submitted_on")


def tally_deltas(rows: list[dict[str, Any]], sign: int = 1) -> list[dict[str, Any]]:
    """What ``rows`` (:class:`CriterionScore` values) add to the tallies (``sign=-1``: take away), one
    delta per key, in key order (two transactions then lock tallies in the same order)."""
    deltas: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        day = row["submitted_at"].astimezone(UTC).date()
        key = (
            row["activity_id"],
            row["rubric_version_id"] or 0,
            row["criterion"],
            str(row["assessor_role"]),
            row["level_number"],
            day,
        )
        delta = deltas.get(key)
        if delta is None:
            delta = deltas[key] = {
                **dict(zip(TALLY_KEY, key, strict=True)),
                "week_start": week_of_day(day),
                "scores": 0,
                "scored": 0,
                "hundredths": 0,
            }
        percent = row["percent"]
        delta["scores"] += sign
        if percent is not None:
            delta["scored"] += sign
            delta["hundredths"] += sign * int((Decimal(percent) * 100).to_integral_value())
    return [deltas[key] for key in sorted(deltas, key=lambda key: tuple(str(part) for part in key))]


def add_to_tallies(connection: Connection, deltas: list[dict[str, Any]]) -> None:
    """Upsert ``deltas`` (``INSERT … ON CONFLICT DO UPDATE``, atomic between concurrent submissions)."""
    if not deltas:
        return
    upsert = insert_with_conflicts(connection.dialect.name)
    table = CriterionScoreTally.__table__
    for delta in deltas:
        statement = upsert(table).values(**delta)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=list(TALLY_KEY),
                set_={
                    name: table.c[name] + statement.excluded[name]
                    for name in ("scores", "scored", "hundredths")
                },
            )
        )


def _take_out(connection: Connection, assessment_id: int) -> None:
    """Remove an assessment's in-force rows, their share of the tallies and their sum."""
    columns = [
        CriterionScore.__table__.c[name]
        for name in (
            "activity_id",
            "rubric_version_id",
            "criterion",
            "assessor_role",
            "level_number",
            "submitted_at",
            "percent",
        )
    ]
    old = [
        dict(row._mapping)
        for row in connection.execute(select(*columns).where(CriterionScore.assessment_id == assessment_id))
    ]
    if not old:
        return
    connection.execute(delete(CriterionScore).where(CriterionScore.assessment_id == assessment_id))
    connection.execute(delete(AssessmentScore).where(AssessmentScore.assessment_id == assessment_id))
    add_to_tallies(connection, tally_deltas(old, -1))


def week_of_day(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(moment: datetime) -> date:
    return week_of_day(moment.astimezone(UTC).date())


def percent_of(points: Decimal | None, max_points: Decimal | None) -> Decimal | None:
    if points is None or max_points is None or max_points <= 0:
        return None
    return (points * HUNDRED / max_points).quantize(Decimal("0.01"))


def decimal_of(text: Any) -> Decimal | None:
    """A number as a revision stores it (text, or empty for none)."""
    return None if text is None or text == "" else Decimal(str(text))


def rows_of_revision(
    *,
    revision_id: int,
    assessment_id: int,
    activity_id: int,
    learner_id: int,
    assessor_id: int,
    assessor_role: str,
    rubric_version_id: int | None,
    criteria: list[dict[str, Any]],
    submitted_at: datetime,
) -> list[dict[str, Any]]:
    """The :class:`CriterionScore` rows of one revision (``criteria`` as the revision stores them)."""
    rows = []
    for line in criteria:
        points, max_points = decimal_of(line.get("points")), decimal_of(line.get("max_points"))
        rows.append(
            {
                "assessment_id": assessment_id,
                "revision_id": revision_id,
                "activity_id": activity_id,
                "learner_id": learner_id,
                "assessor_id": assessor_id,
                "assessor_role": assessor_role,
                "rubric_version_id": rubric_version_id,
                "criterion": str(line["criterion"])[:100],
                "level_number": int(line["level_number"]),
                "level_count": int(line["level_count"]),
                "points": points,
                "max_points": max_points,
                "percent": percent_of(points, max_points),
                "submitted_at": submitted_at,
                "week_start": week_of(submitted_at),
            }
        )
    return rows


@event.listens_for(AssessmentRevision, "after_insert")
def _score_the_new_revision(_mapper: Any, connection: Connection, revision: AssessmentRevision) -> None:
    """A submission: its criteria replace the assessment's previous in-force rows, in the same flush."""
    found = connection.execute(
        select(
            Assessment.activity_id, Assessment.learner_id, Assessment.assessor_id, Assessment.assessor_role
        ).where(Assessment.id == revision.assessment_id)
    ).one()
    _take_out(connection, revision.assessment_id)
    rows = rows_of_revision(
        revision_id=revision.id,
        assessment_id=revision.assessment_id,
        activity_id=found.activity_id,
        learner_id=found.learner_id,
        assessor_id=found.assessor_id,
        assessor_role=str(found.assessor_role),
        rubric_version_id=revision.rubric_version_id,
        criteria=revision.criteria or [],
        submitted_at=revision.submitted_at,
    )
    if rows:
        connection.execute(insert(CriterionScore), rows)
        connection.execute(insert(AssessmentScore), assessment_scores(rows))
        add_to_tallies(connection, tally_deltas(rows))


@event.listens_for(Assessment, "after_update")
def _forget_a_withdrawn_submission(_mapper: Any, connection: Connection, assessment: Assessment) -> None:
    """A withdrawn submission no longer counts anywhere (submitting again writes the rows anew)."""
    history = inspect_state(assessment).attrs.status.history
    if history.added and assessment.status is AssessmentStatus.WITHDRAWN:
        _take_out(connection, assessment.id)
