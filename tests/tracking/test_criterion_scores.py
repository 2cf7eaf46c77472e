"""The per-criterion rows the dashboards group by follow every assessment's in-force submission: written
when feedback is submitted through the feedback services, replaced by the next revision, removed by a
withdrawal and written again by the next submission (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from lti_tool.feedback import services
from lti_tool.tracking.models import CriterionScore, CriterionScoreTally, percent_of, tally_deltas, week_of
from tests.feedback.conftest import LEVELS, Course
from tests.feedback.test_services import draft


def rows(course: Course) -> list[CriterionScore]:
    return list(
        course.db.scalars(
            select(CriterionScore)
            .order_by(CriterionScore.criterion)
            .execution_options(populate_existing=True)
        )
    )


def assert_tallies_match_the_scores(course: Course) -> None:
    """The tallies hold what the in-force rows sum to, nothing more (emptied keys count zero)."""
    expected = {
        tuple(
            delta[name]
            for name in ("activity_id", "criterion", "assessor_role", "level_number", "submitted_on")
        ): (delta["scores"], delta["scored"], delta["hundredths"])
        for delta in tally_deltas(
            [
                {
                    name: getattr(row, name)
                    for name in (
                        "activity_id",
                        "rubric_version_id",
                        "criterion",
                        "assessor_role",
                        "level_number",
                        "submitted_at",
                        "percent",
                    )
                }
                for row in rows(course)
            ]
        )
    }
    stored = {
        (
            tally.activity_id,
            tally.criterion,
            tally.assessor_role.value,
            tally.level_number,
            tally.submitted_on,
        ): (tally.scores, tally.scored, tally.hundredths)
        for tally in course.db.scalars(select(CriterionScoreTally).execution_options(populate_existing=True))
        if tally.scores
    }
    assert stored == expected and expected


def test_a_submission_writes_a_row_per_criterion_and_the_next_revision_replaces_them(course: Course) -> None:
    activity = course.activity()
    first = services.submit(course.db, course.omar, activity, course.ana, draft(course, activity), based_on=0)
    written = rows(course)
    assert sorted(row.criterion for row in written) == sorted(LEVELS)
    assert {
        (row.revision_id, row.learner_id, row.assessor_id, row.assessor_role.value) for row in written
    } == {(first.id, course.ana.id, course.omar.user_id, "manager")}
    by_criterion = {row.criterion: row for row in written}
    for line in first.criteria:  # the revision's own numbers, not recomputed
        row = by_criterion[line["criterion"]]
        assert (row.level_number, row.level_count) == (line["level_number"], line["level_count"])
        assert row.points == Decimal(line["points"]) and row.max_points == Decimal(line["max_points"])
        assert row.percent == percent_of(Decimal(line["points"]), Decimal(line["max_points"]))
    assert written[0].week_start == week_of(first.submitted_at)
    levels_before = {row.criterion: row.level_number for row in written}

    second = services.submit(
        course.db,
        course.omar,
        activity,
        course.ana,
        draft(course, activity, consistency__level="starting"),
        based_on=1,
    )
    replaced = rows(course)
    assert len(replaced) == len(LEVELS) and {row.revision_id for row in replaced} == {second.id}
    assert {row.criterion: row.level_number for row in replaced}["consistency"] < levels_before["consistency"]
    assert_tallies_match_the_scores(course)


def test_a_withdrawal_removes_the_rows_and_submitting_again_brings_them_back(course: Course) -> None:
    activity = course.activity()
    services.submit(course.db, course.omar, activity, course.ana, draft(course, activity), based_on=0)
    own = services.submit(
        course.db, course.ana_actor, activity, course.ana, draft(course, activity), based_on=0
    )
    assessment = course.db.get(type(own.assessment), own.assessment_id)
    manager_assessment = services.find_assessment(course.db, activity, course.ana, course.omar.user_id)
    assert manager_assessment is not None and assessment is not None
    services.withdraw(course.db, course.omar, manager_assessment, "Wrong person.")
    course.db.flush()
    assert {row.assessor_role.value for row in rows(course)} == {"self"}
    assert_tallies_match_the_scores(course)
    services.submit(
        course.db,
        course.omar,
        activity,
        course.ana,
        draft(course, activity),
        based_on=manager_assessment.draft_revision,
    )
    assert sorted(row.assessor_role.value for row in rows(course)) == ["manager"] * 4 + ["self"] * 4
    assert_tallies_match_the_scores(course)


def test_weeks_start_on_monday_and_percentages_round_to_hundredths() -> None:
    assert week_of(datetime.fromisoformat("2026-12-06T23:59:00+00:00")) == date(2026, 11, 30)  # a Sunday
    assert week_of(datetime.fromisoformat("2026-11-30T00:00:00+00:00")) == date(2026, 11, 30)
    assert percent_of(Decimal(2), Decimal(3)) == Decimal("66.67")
    assert percent_of(Decimal(1), None) is None and percent_of(None, Decimal(3)) is None
