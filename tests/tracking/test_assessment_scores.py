"""The per-assessment sums the leaderboards rank (``AssessmentScore``) always equal a recount of the
per-criterion rows, whatever sequence of submissions, revisions, withdrawals and releases the feedback
services go through (hypothesis-driven), and migration 0032 sums the scores already there the same way
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.feedback import services
from lti_tool.models import User
from lti_tool.permissions import Actor
from lti_tool.states import AssessmentStatus, FeedbackRelease
from lti_tool.tracking import seed
from lti_tool.tracking.models import AssessmentScore, CriterionScore, assessment_scores
from tests.bench.bench_dashboard import bench_app, database
from tests.feedback.conftest import LEVELS, Course
from tests.feedback.test_services import draft
from tests.fixtures.database import migrate_again_from

LEVEL_NAMES = ["starting", "consistent", "role-model"]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["submit", "withdraw", "release"]),
        st.integers(0, 2),  # who: Omar on Ana, Omar on Ben, Ana on herself
        st.fixed_dictionaries({f"{criterion}__level": st.sampled_from(LEVEL_NAMES) for criterion in LEVELS}),
    ),
    min_size=1,
    max_size=12,
)


def recount(course: Course) -> dict[int, tuple[int, int, str, object, int, int, int]]:
    """Each assessment's sums, computed here from its in-force criterion rows."""
    found: dict[int, list[CriterionScore]] = defaultdict(list)
    for row in course.db.scalars(select(CriterionScore).execution_options(populate_existing=True)):
        found[row.assessment_id].append(row)
    return {
        assessment_id: (
            rows[0].activity_id,
            rows[0].learner_id,
            rows[0].assessor_role.value,
            min(row.submitted_at for row in rows),
            len(rows),
            sum(1 for row in rows if row.percent is not None),
            sum(int(row.percent * 100) for row in rows if row.percent is not None),
        )
        for assessment_id, rows in found.items()
    }


def stored(course: Course) -> dict[int, tuple[int, int, str, object, int, int, int]]:
    return {
        row.assessment_id: (
            row.activity_id,
            row.learner_id,
            row.assessor_role.value,
            row.submitted_at,
            row.scores,
            row.scored,
            row.hundredths,
        )
        for row in course.db.scalars(select(AssessmentScore).execution_options(populate_existing=True))
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, released_by_staff=st.booleans())
def test_the_sums_per_assessment_equal_a_recount_after_any_sequence(
    course: Course, steps: list[tuple[str, int, dict[str, str]]], released_by_staff: bool
) -> None:
    release = FeedbackRelease.WHEN_RELEASED if released_by_staff else FeedbackRelease.ON_SUBMISSION
    activity = course.activity(release=release)
    who: list[tuple[Actor, User]] = [
        (course.omar, course.ana),
        (course.omar, course.ben),
        (course.ana_actor, course.ana),
    ]
    for action, index, levels in steps:
        actor, learner = who[index]
        assessment = services.find_assessment(course.db, activity, learner, actor.user_id)
        submitted = assessment is not None and assessment.status is AssessmentStatus.SUBMITTED
        if action == "submit":
            based_on = assessment.draft_revision if assessment is not None else 0
            services.submit(
                course.db, actor, activity, learner, draft(course, activity, **levels), based_on=based_on
            )
        elif action == "withdraw" and submitted:
            assert assessment is not None
            services.withdraw(course.db, actor, assessment, "Revised elsewhere.")
        elif action == "release" and submitted and released_by_staff:
            assert assessment is not None
            services.release(course.db, course.designer, assessment)
        course.db.flush()
        assert stored(course) == recount(course)
    in_force = {
        assessment_id for assessment_id, figures in stored(course).items() if figures[0] == activity.id
    }
    submitted_ids = {
        assessment.id
        for actor, learner in who
        if (assessment := services.find_assessment(course.db, activity, learner, actor.user_id)) is not None
        and assessment.status is AssessmentStatus.SUBMITTED
    }
    assert in_force == submitted_ids  # a row for each in-force submission, none for a withdrawn one
    assert all(figures[5] * 10_000 >= figures[6] >= 0 for figures in stored(course).values())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_sums_the_scores_already_there(backend: str, tmp_path: Path) -> None:
    """Migration 0032's backfill gives what the listeners (and the seeding) write."""
    with database(backend, tmp_path) as url:
        assert url is not None
        app, engine = bench_app(url)
        with session_scope(app) as session:
            seed.write(session, seed.generate(learners=12, activities=3, criteria=3, seed=7))
        names = (
            "assessment_id",
            "activity_id",
            "learner_id",
            "submitted_at",
            "scores",
            "scored",
            "hundredths",
        )

        def sums() -> set[tuple[object, ...]]:
            with engine.connect() as connection:
                table = AssessmentScore.__table__
                return {tuple(row) for row in connection.execute(select(*(table.c[name] for name in names)))}

        written = sums()
        with engine.connect() as connection:
            scores = [dict(row._mapping) for row in connection.execute(select(CriterionScore.__table__))]
        recounted = {tuple(row[name] for name in names) for row in assessment_scores(scores)}
        assert written == recounted and len(written) > 10
        migrate_again_from(engine, url, "0031")
        assert sums() == written
        engine.dispose()
