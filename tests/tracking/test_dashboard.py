"""The dashboard's figures against the same figures computed here, in plain Python, from the seeder's plan
(seeded random courses, on SQLite and PostgreSQL): completion, managers' participation and reminders,
levels and means per criterion and per competency, weekly trends and self-against-manager gaps, with and
without each filter; the statements stay the same in number whatever the size of the course; bad filters
are refused with the reason."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy.orm import Session

from lti_tool.models import Activity, Context
from lti_tool.permissions import Actor, PermissionDenied
from lti_tool.states import ActivityKind, AssessmentStatus, AssessorRole, Assessors, CadreRole
from lti_tool.tracking import dashboard, seed
from lti_tool.tracking.dashboard import FilterError, Filters
from lti_tool.tracking.models import week_of
from tests.fixtures.database import CountQueries

NOW = datetime.fromisoformat("2026-11-18T10:30:00+00:00")


@dataclass
class Seeded:
    plan: seed.Plan
    written: seed.Seeded
    context: Context
    designer: Actor


def make(
    db: Session,
    learners: int,
    activities: int,
    random_seed: int,
    criteria: int = 3,
    beside: Seeded | None = None,
) -> Seeded:
    """A generated course on a platform of its own, or in a new course of ``beside``'s platform."""
    plan = seed.generate(
        learners=learners, activities=activities, criteria=criteria, seed=random_seed, now=NOW
    )
    context_id = None
    if beside is not None:
        course = Context(
            platform_id=beside.context.platform_id, context_id=f"other-{random_seed}", title="Another course"
        )
        db.add(course)
        db.flush()
        context_id = course.id
    written = seed.write(db, plan, context_id=context_id)
    db.flush()
    context = db.get(Context, written.context_id)
    assert context is not None
    return Seeded(
        plan,
        written,
        context,
        Actor(written.designer_id, "Designer", context.platform_id, context.id, CadreRole.DESIGNER),
    )


def hundredths_mean(values: list[int]) -> Decimal | None:
    """The mean percentage of per-criterion levels (level n of 4 is n x 25 %), rounded half up."""
    if not values:
        return None
    return (Decimal(sum(level * 2500 for level in values)) / len(values) / 100).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def in_range(moment: datetime | None, since: date | None, until: date | None) -> bool:
    if moment is None:
        return False
    day = moment.date()
    return (since is None or day >= since) and (until is None or day <= until)


def managers_learners(plan: seed.Plan, manager: int) -> set[int]:
    return {link.learner for link in plan.links if link.manager == manager}


def expected_figures(
    seeded: Seeded,
    *,
    manager: int | None = None,
    since: date | None = None,
    until: date | None = None,
    kind: ActivityKind | None = None,
    only: set[int] | None = None,
) -> dict[str, object]:
    """Every figure of the dashboard, computed from the plan alone (``only``: a group's learners)."""
    plan = seeded.plan
    learners = set(range(plan.learners)) if manager is None else managers_learners(plan, manager)
    if only is not None:
        learners &= only
    activities = [
        index for index, activity in enumerate(plan.activities) if kind is None or activity.kind is kind
    ]
    submitted = [
        planned
        for planned in plan.assessments
        if planned.status is AssessmentStatus.SUBMITTED and planned.activity in activities
    ]
    dated = [planned for planned in submitted if in_range(planned.submitted_at, since, until)]

    completion = {}
    for index in activities:
        self_kind = plan.activities[index].assessors is Assessors.LEARNER
        completion[index] = len(
            {
                planned.learner
                for planned in dated
                if planned.activity == index
                and planned.learner in learners
                and (planned.assessor is None) == self_kind
            }
        )

    scored = [planned for planned in dated if planned.learner in learners]
    levels: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    values: dict[tuple[str, str], list[int]] = defaultdict(list)
    competency_values: dict[tuple[str, str], list[int]] = defaultdict(list)
    weekly: dict[tuple[date, str], list[int]] = defaultdict(list)
    submissions: dict[tuple[date, str], int] = defaultdict(int)
    rubric = seed.seed_rubric(plan.criteria)
    for planned in scored:
        role = "self" if planned.assessor is None else "manager"
        assert planned.submitted_at is not None
        week = week_of(planned.submitted_at)
        submissions[(week, role)] += 1
        for criterion, level in zip(rubric.criteria, planned.levels, strict=True):
            levels[(criterion.identifier, role)][level] += 1
            values[(criterion.identifier, role)].append(level)
            weekly[(week, role)].append(level)
            for tag in criterion.competency_tags:
                competency_values[(tag, role)].append(level)

    participation = {}
    for manager_index in range(plan.managers):
        if manager is not None and manager_index != manager:
            continue
        pairs, done, late, oldest, people = 0, 0, 0, None, set()
        for index in activities:
            activity = plan.activities[index]
            if activity.assessors is Assessors.LEARNER:
                continue
            for learner in managers_learners(plan, manager_index) & learners:
                line = plan.line_manager_of(learner) == manager_index
                if not line and activity.assessors is not Assessors.ANY_MANAGER:
                    continue
                pairs += 1
                people.add(learner)
                if any(
                    planned.activity == index
                    and planned.learner == learner
                    and planned.assessor == manager_index
                    for planned in submitted
                ):
                    done += 1
                elif activity.due_at < plan.now:
                    late += 1
                    oldest = activity.due_at if oldest is None else min(oldest, activity.due_at)
        if pairs:
            reminders = sum(
                1
                for index, reminded, _ in plan.reminders
                if reminded == manager_index and index in activities
            )
            days = None if oldest is None else max(1, math.ceil((plan.now - oldest).total_seconds() / 86400))
            participation[manager_index] = (len(people), pairs, done, late, days, reminders)
    return {
        "expected": len(learners),
        "completion": completion,
        "levels": {key: dict(counts) for key, counts in levels.items()},
        "means": {key: hundredths_mean(found) for key, found in values.items()},
        "competencies": {key: hundredths_mean(found) for key, found in competency_values.items()},
        "weeks": {key: (submissions[key], hundredths_mean(found)) for key, found in weekly.items()},
        "gaps": {
            identifier: values_gap
            for identifier in {key[0] for key in values}
            if (values_gap := gap(values, identifier)) is not None
        },
        "participation": participation,
    }


def gap(values: dict[tuple[str, str], list[int]], identifier: str) -> Decimal | None:
    own, managers = (
        hundredths_mean(values.get((identifier, "self"), [])),
        hundredths_mean(values.get((identifier, "manager"), [])),
    )
    return None if own is None or managers is None else own - managers


def shown_figures(seeded: Seeded, board: dashboard.Dashboard) -> dict[str, object]:
    """The same figures as the dashboard has them, in the plan's indexes."""
    activity_index = {activity_id: index for index, activity_id in enumerate(seeded.written.activity_ids)}
    manager_index = {user_id: index for index, user_id in enumerate(seeded.written.manager_ids)}
    roles = {AssessorRole.MANAGER: "manager", AssessorRole.SELF: "self"}
    return {
        "expected": board.expected_learners,
        "completion": {activity_index[row.activity.id]: row.completed for row in board.completion},
        "levels": {
            (summary.identifier, roles[role]): {level: count for level, count in counts.items() if count}
            for summary in board.criteria
            for role, counts in summary.levels.items()
            if counts
        },
        "means": {
            (summary.identifier, roles[role]): tally.mean
            for summary in board.criteria
            for role, tally in summary.tallies.items()
            if tally.count
        },
        "competencies": {
            (competency.tag, roles[role]): tally.mean
            for competency in board.competencies
            for role, tally in competency.tallies.items()
            if tally.count
        },
        "weeks": {
            (week.week_start, roles[role]): (week.submissions[role], tally.mean)
            for week in board.weeks
            for role, tally in week.tallies.items()
            if tally.count
        },
        "gaps": {summary.identifier: summary.gap for summary in board.gaps},
        "participation": {
            manager_index[row.manager_id]: (
                row.people,
                row.expected,
                row.submitted,
                row.overdue,
                row.overdue_days,
                row.reminders_sent,
            )
            for row in board.participation
        },
    }


@pytest.mark.parametrize("random_seed", [3, 11])
def test_every_figure_matches_the_one_computed_from_the_generated_course(
    db: Session, random_seed: int
) -> None:
    seeded = make(db, learners=37, activities=5, random_seed=random_seed)
    board = dashboard.build(db, seeded.designer, seeded.context, Filters(), now=NOW)
    expected = expected_figures(seeded)
    assert shown_figures(seeded, board) == expected
    # Not vacuous: the course has late managers, reminders, self-assessments and gaps to find.
    assert any(row[3] for row in expected["participation"].values())  # type: ignore[attr-defined]
    assert any(row[5] for row in expected["participation"].values())  # type: ignore[attr-defined]
    assert expected["gaps"] and len(expected["weeks"]) > 4  # type: ignore[arg-type]
    assert board.completed_pairs == sum(expected["completion"].values())  # type: ignore[attr-defined]


def test_filters_by_manager_dates_and_kind_match_the_computed_figures(db: Session) -> None:
    seeded = make(db, learners=45, activities=5, random_seed=5)
    coach_of_someone = next(link.manager for link in seeded.plan.links if link.relation.value == "coach")
    since, until = (NOW - timedelta(days=30)).date(), (NOW - timedelta(days=9)).date()
    cases = [
        ({"manager": coach_of_someone}, Filters(manager_id=seeded.written.manager_ids[coach_of_someone])),
        ({"since": since, "until": until}, Filters(since=since, until=until)),
        ({"kind": ActivityKind.SKILL_ASSESSMENT}, Filters(kind=ActivityKind.SKILL_ASSESSMENT)),
        (
            {"manager": 2, "since": since, "kind": ActivityKind.MANAGER_FEEDBACK},
            Filters(
                manager_id=seeded.written.manager_ids[2], since=since, kind=ActivityKind.MANAGER_FEEDBACK
            ),
        ),
    ]
    unfiltered = expected_figures(seeded)
    for options, filters in cases:
        expected = expected_figures(seeded, **options)  # type: ignore[arg-type]
        assert expected != unfiltered, options
        board = dashboard.build(db, seeded.designer, seeded.context, filters, now=NOW)
        assert shown_figures(seeded, board) == expected, options


def test_an_activitys_dashboard_has_that_activitys_figures_only(db: Session) -> None:
    seeded = make(db, learners=30, activities=4, random_seed=8)
    activity_id = seeded.written.activity_ids[1]
    activity = db.get(Activity, activity_id)
    board = dashboard.build(db, seeded.designer, seeded.context, Filters(), activity=activity, now=NOW)
    assert [row.activity.id for row in board.completion] == [activity_id]
    kind = seeded.plan.activities[1].kind
    alone = [index for index, planned in enumerate(seeded.plan.activities) if planned.kind is kind]
    assert alone == [1]  # four activities, four kinds: the kind filter picks this one alone
    assert shown_figures(seeded, board) == expected_figures(seeded, kind=kind)


def test_the_statements_are_as_many_for_a_small_course_as_for_a_larger_one(
    db: Session, count_queries: CountQueries
) -> None:
    counts = []
    for learners, activities, random_seed in ((6, 2, 1), (60, 7, 2)):
        seeded = make(db, learners=learners, activities=activities, random_seed=random_seed)
        for filters in (
            Filters(),
            Filters(manager_id=seeded.written.manager_ids[0], since=(NOW - timedelta(days=40)).date()),
        ):
            with count_queries() as queries:
                board = dashboard.build(db, seeded.designer, seeded.context, filters, now=NOW)
            assert board.completion and board.criteria
            counts.append(queries.count)
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[0] <= 8, counts


def test_bad_filters_are_refused_with_each_reason() -> None:
    with pytest.raises(FilterError) as refused:
        Filters.from_args({"manager": "Omar", "from": "01/12/2026", "to": "2026-02-30", "kind": "lunch"})
    problems = refused.value.problems
    assert len(problems) == 4
    assert "manager must be chosen from the list" in problems[0] and "Omar" in problems[0]
    assert "YYYY-MM-DD" in problems[1] and "2026-02-30 is not a day" in problems[2]
    assert "no activity kind “lunch”" in problems[3]
    with pytest.raises(FilterError, match="after the to date"):
        Filters.from_args({"from": "2026-12-02", "to": "2026-12-01"})
    with pytest.raises(FilterError, match="between 2000-01-01"):
        Filters.from_args({"from": "1066-10-14"})
    for manager in ("²", "１２", "٣", "1" * 10, "-3", "3.0"):  # digits to str.isdigit, or not a manager's id
        with pytest.raises(FilterError, match="manager must be chosen from the list"):
            Filters.from_args({"manager": manager})
    assert Filters.from_args({"manager": "", "from": " ", "kind": ""}) == Filters()
    assert Filters.from_args({"kind": "self_assessment"}, with_kind=False) == Filters()


def test_a_manager_of_another_course_or_nobody_is_refused_as_a_filter(db: Session) -> None:
    seeded = make(db, learners=12, activities=2, random_seed=4)
    other = make(db, learners=12, activities=2, random_seed=4)
    for manager_id in (other.written.manager_ids[0], seeded.written.learner_ids[0], 2_000_000_000):
        with pytest.raises(FilterError, match=f"no manager with the id {manager_id} in this course"):
            dashboard.build(db, seeded.designer, seeded.context, Filters(manager_id=manager_id), now=NOW)


def test_only_the_courses_designers_and_its_platforms_administrators_read_it(db: Session) -> None:
    seeded = make(db, learners=12, activities=2, random_seed=6)
    other = make(db, learners=12, activities=2, random_seed=7, beside=seeded)
    elsewhere = make(db, learners=3, activities=1, random_seed=8)
    context = seeded.context
    admin_elsewhere = Actor(
        seeded.written.designer_id, "Admin", context.platform_id, other.context.id, CadreRole.ADMIN
    )
    assert dashboard.build(db, admin_elsewhere, context, Filters(), now=NOW).expected_learners == 12
    refusals = [
        (
            Actor(
                seeded.written.learner_ids[0], "Learner", context.platform_id, context.id, CadreRole.LEARNER
            ),
            403,
        ),
        (
            Actor(
                seeded.written.manager_ids[0], "Manager", context.platform_id, context.id, CadreRole.MANAGER
            ),
            403,
        ),
        (other.designer, 404),  # another course's designer, on the same platform
        (
            Actor(
                elsewhere.written.designer_id,
                "Admin",
                elsewhere.context.platform_id,
                elsewhere.context.id,
                CadreRole.ADMIN,
            ),
            404,
        ),  # an administrator of another platform
    ]
    for actor, status in refusals:
        with pytest.raises(PermissionDenied) as refused:
            dashboard.build(db, actor, context, Filters(), now=NOW)
        assert refused.value.decision.status == status, actor
        with pytest.raises(PermissionDenied):
            dashboard.course_for_staff(db, actor, context.id)
    with pytest.raises(PermissionDenied) as guessed:
        dashboard.course_for_staff(db, seeded.designer, 2_000_000_000)
    assert guessed.value.decision.status == 404
    with pytest.raises(PermissionDenied) as guessed_activity:
        dashboard.activity_for_staff(db, seeded.designer, other.written.activity_ids[0])
    assert guessed_activity.value.decision.status == 404
