"""Assessor calibration of a course: where two or more managers (a line manager and a coach) scored the same
learner in the same activity, how far they agree per criterion, and who sits consistently above or below
the others (``rubrics.calibration`` computes; this module reads the ratings and makes the tables).

One statement reads the in-force per-criterion scores of the (activity, learner) pairs with more than one
manager's assessment; the figures need every rating (pairs, kappa), so they are computed in Python from
those rows, which only the doubly-assessed learners contribute.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Select, and_, distinct, func, select
from sqlalchemy.orm import Session

from lti_tool.models import Context
from lti_tool.permissions import Actor
from lti_tool.states import AssessorRole
from lti_tool.tracking import dashboard
from lti_tool.tracking.dashboard import Filters
from lti_tool.tracking.models import CriterionScore
from lti_tool.tracking.tables import Table, number
from rubrics import calibration
from rubrics.calibration import Agreement, Flag, Rating


def ratings_statement(context_id: int, activity_ids: list[int], filters: Filters) -> Select[object]:
    """The managers' in-force per-criterion scores of the (activity, learner) pairs that two or more of
    them scored, both counted and read within the filters' dates (a pair scored once in the range is no
    pair there) and among the filters' learners."""
    score = CriterionScore
    chosen = [score.activity_id.in_(activity_ids), score.assessor_role == AssessorRole.MANAGER]
    if filters.by_learner:
        chosen.append(
            score.learner_id.in_(dashboard.expected_learners(context_id, filters.manager_id, filters.group))
        )
    if filters.starts_at is not None:
        chosen.append(score.submitted_at >= filters.starts_at)
    if filters.ends_before is not None:
        chosen.append(score.submitted_at < filters.ends_before)
    shared = (
        select(score.activity_id, score.learner_id)
        .where(*chosen)
        .group_by(score.activity_id, score.learner_id)
        .having(func.count(distinct(score.assessor_id)) > 1)
        .subquery()
    )
    return (
        select(
            score.activity_id,
            score.learner_id,
            score.criterion,
            score.assessor_id,
            score.level_number,
            score.points,
        )
        .join(
            shared, and_(shared.c.activity_id == score.activity_id, shared.c.learner_id == score.learner_id)
        )
        .where(*chosen)
    )


@dataclass(frozen=True)
class CriterionAgreement:
    identifier: str
    title: str
    agreement: Agreement


@dataclass(frozen=True)
class Calibration:
    board: dashboard.Frame
    criteria: list[CriterionAgreement]
    flags: list[Flag]
    names: dict[int, str]


def build(session: Session, actor: Actor, context: Context, filters: Filters) -> Calibration:
    """The calibration figures of the course's activities (permission: the course's dashboard's)."""
    board = dashboard.frame(session, actor, context, filters)
    ids = [row.id for row in board.activities]
    ratings: dict[str, list[Rating]] = defaultdict(list)
    everything: list[Rating] = []
    if ids:
        for activity_id, learner_id, criterion, assessor_id, level, points in session.execute(
            ratings_statement(context.id, ids, filters)
        ):
            value = None if points is None else float(points)
            ratings[criterion].append(Rating((activity_id, learner_id), assessor_id, int(level), value))
            everything.append(Rating((activity_id, learner_id, criterion), assessor_id, int(level), value))
    titles = board.criterion_titles
    criteria = sorted(
        (
            CriterionAgreement(identifier, titles.get(identifier, identifier), calibration.agreement(found))
            for identifier, found in ratings.items()
        ),
        key=lambda row: (row.title.casefold(), row.identifier),
    )
    return Calibration(
        board,
        criteria,
        calibration.flagged_assessors(everything),
        {choice.id: choice.name for choice in board.managers},
    )


def _figure(value: float | None, percent: bool = False) -> str:
    if value is None:
        return ""
    return f"{value * 100:.1f}" if percent else f"{value:.3f}"


def agreement_table(figures: Calibration) -> Table:
    return Table(
        "agreement",
        "Agreement per criterion between managers who assessed the same learner in an activity",
        (
            "Criterion",
            "Learners assessed twice or more",
            "Ratings",
            "Pairs of ratings",
            "Exact agreement %",
            "Fleiss' kappa",
            "ICC(1) of points",
        ),
        tuple(
            (
                row.title,
                number(row.agreement.subjects),
                number(row.agreement.ratings),
                number(row.agreement.pairs),
                _figure(row.agreement.exact_agreement, percent=True),
                _figure(row.agreement.fleiss_kappa),
                _figure(row.agreement.icc),
            )
            for row in figures.criteria
        ),
        (False, True, True, True, True, True, True),
        "No learner was assessed by two managers in these activities.",
    )


def flags_table(figures: Calibration) -> Table:
    return Table(
        "flagged",
        "Assessors consistently above or below the other assessors of the same learners",
        ("Assessor", "Direction", "Mean difference (levels)", "Comparisons", "In that direction"),
        tuple(
            (
                figures.names.get(flag.assessor, f"User {flag.assessor}"),
                flag.direction,  # type: ignore[call-overload]
                f"{flag.mean_difference:+.2f}",
                number(flag.comparisons),
                number(flag.same_direction),
            )
            for flag in figures.flags
        ),
        (False, False, True, True, True),
        "No assessor sits consistently above or below the others.",
    )


TABLES = {"agreement": agreement_table, "flagged": flags_table}
