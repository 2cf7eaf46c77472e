"""The course's assessor calibration: the ratings read from the database are the doubly-assessed learners'
of the generated plan (so the figures equal rubrics.calibration's on the plan's own ratings), a generous
coach is flagged, and the page and its CSV follow the dashboard's permissions."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from lti_tool.permissions import Actor, PermissionDenied
from lti_tool.states import AssessmentStatus, Assessors, CadreRole
from lti_tool.tracking import calibration, seed
from lti_tool.tracking.dashboard import Filters
from lti_tool.tracking.models import CriterionScore
from rubrics import calibration as figures
from rubrics.calibration import Rating
from tests.fixtures.visitors import Visitor
from tests.tracking.test_dashboard import make
from tests.tracking.test_pages import SeededCourse, fill


def plan_ratings(  # type: ignore[no-untyped-def]
    seeded, activity_ids: list[int], manager_ids: list[int], within: tuple[date, date] | None = None
) -> dict[str, list[Rating]]:
    """The plan's ratings of the pairs two managers scored (both within the days ``within``, if given)."""
    plan = seeded.plan
    by_pair = defaultdict(list)
    for planned in plan.assessments:
        if planned.status is AssessmentStatus.SUBMITTED and planned.assessor is not None:
            if within is not None and not within[0] <= planned.submitted_at.date() <= within[1]:
                continue
            by_pair[(planned.activity, planned.learner)].append(planned)
    rubric = seed.seed_rubric(plan.criteria)
    ratings: dict[str, list[Rating]] = defaultdict(list)
    for (activity, learner), found in by_pair.items():
        if len({planned.assessor for planned in found}) < 2:
            continue
        for planned in found:
            for criterion, level in zip(rubric.criteria, planned.levels, strict=True):
                ratings[criterion.identifier].append(
                    Rating(
                        (activity_ids[activity], seeded.written.learner_ids[learner]),
                        manager_ids[planned.assessor],
                        level,
                        float(level),
                    )
                )
    return ratings


def test_the_figures_are_those_of_the_plans_doubly_assessed_learners(db: Session) -> None:
    seeded = make(db, learners=70, activities=4, random_seed=9)
    assert any(activity.assessors is Assessors.ANY_MANAGER for activity in seeded.plan.activities)
    found = calibration.build(db, seeded.designer, seeded.context, Filters())
    expected = plan_ratings(seeded, seeded.written.activity_ids, seeded.written.manager_ids)
    assert expected, "the generated course must have learners assessed by two managers"
    assert {row.identifier: row.agreement for row in found.criteria} == {
        identifier: figures.agreement(ratings) for identifier, ratings in expected.items()
    }
    assert all(
        row.agreement.subjects > 0 and row.agreement.pairs >= row.agreement.subjects for row in found.criteria
    )


def test_with_dates_only_pairs_scored_twice_within_them_count(db: Session) -> None:
    """A pair whose second manager scored outside the dates is no pair there: neither its rating in the
    range counts (a subject of one rating) nor its other one."""
    seeded = make(db, learners=140, activities=8, random_seed=9, criteria=6)
    pairs: dict[tuple[int, int], list[date]] = defaultdict(list)
    for planned in seeded.plan.assessments:
        if planned.status is AssessmentStatus.SUBMITTED and planned.assessor is not None:
            pairs[(planned.activity, planned.learner)].append(planned.submitted_at.date())
    last_days = sorted(max(days) for days in pairs.values() if len(days) > 1)
    # From the first day to the median pair's second scoring: half the pairs whole, others cut.
    within = (min(min(days) for days in pairs.values()), last_days[len(last_days) // 2])
    found = calibration.build(db, seeded.designer, seeded.context, Filters(since=within[0], until=within[1]))
    expected = plan_ratings(seeded, seeded.written.activity_ids, seeded.written.manager_ids, within)
    everything = plan_ratings(seeded, seeded.written.activity_ids, seeded.written.manager_ids)
    assert expected and sum(map(len, expected.values())) < sum(map(len, everything.values()))
    assert {row.identifier: row.agreement for row in found.criteria} == {
        identifier: figures.agreement(ratings) for identifier, ratings in expected.items()
    }


def test_a_coach_who_always_rates_higher_is_flagged_with_the_comparisons(db: Session) -> None:
    seeded = make(db, learners=140, activities=8, random_seed=9, criteria=6)
    ratings = plan_ratings(seeded, seeded.written.activity_ids, seeded.written.manager_ids)
    coaches = {
        seeded.written.manager_ids[link.manager]
        for link in seeded.plan.links
        if link.relation.value == "coach"
    }
    compared: dict[object, int] = defaultdict(int)
    for found_ratings in ratings.values():
        for rating in found_ratings:
            compared[rating.assessor] += rating.assessor in coaches
    generous = max(compared, key=lambda assessor: (compared[assessor], str(assessor)))
    assert compared[generous] >= 5
    db.execute(
        update(CriterionScore)
        .where(CriterionScore.assessor_id == generous)
        .values(level_number=CriterionScore.level_number + 3)
    )
    found = calibration.build(db, seeded.designer, seeded.context, Filters())
    flags = {flag.assessor: flag for flag in found.flags}
    assert flags[generous].direction == "above" and flags[generous].comparisons == compared[generous]
    assert flags[generous].same_direction == compared[generous]
    table = calibration.flags_table(found)
    assert [row[0] for row in table.rows] == [found.names[flag.assessor] for flag in found.flags]


def test_learners_and_managers_may_not_read_it(db: Session) -> None:
    seeded = make(db, learners=12, activities=2, random_seed=4)
    context = seeded.context
    for user_id, role in (
        (seeded.written.learner_ids[0], CadreRole.LEARNER),
        (seeded.written.manager_ids[0], CadreRole.MANAGER),
    ):
        actor = Actor(user_id, "Someone", context.platform_id, context.id, role)
        try:
            calibration.build(db, actor, context, Filters())
        except PermissionDenied as refused:
            assert refused.decision.status == 403
        else:
            raise AssertionError(f"{role} read the calibration")


def test_the_page_and_its_csv_over_http(app: Flask, designer: Visitor, learner: Visitor) -> None:
    seeded_course: SeededCourse = fill(app, designer, learners=40, activities=4)
    dashboard_page = designer.get(seeded_course.path)
    page = designer.get(dashboard_page.link("calibration-link"))
    assert page.status == 200, page.text[:1500]
    assert page.texts("row-agreement") or page.texts("empty-agreement")
    downloaded = designer.get(page.link("csv-agreement"))
    rows = list(csv.reader(io.StringIO(downloaded.response.text)))
    assert rows[0][:5] == [
        "Criterion",
        "Learners assessed twice or more",
        "Ratings",
        "Pairs of ratings",
        "Exact agreement %",
    ]
    assert len(rows) - 1 == len(page.texts("row-agreement"))
    assert learner.get(f"/courses/{seeded_course.context_id}/calibration").status == 403
    assert designer.get(f"/courses/{seeded_course.context_id}/calibration?to=soon").status == 400
    assert designer.get(f"/courses/{seeded_course.context_id}/calibration/payroll.csv").status == 404
