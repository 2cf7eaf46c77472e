"""The manager's team view and the learner's progress view against the same figures computed here, in plain
Python, from the seeder's plan (seeded random courses, on SQLite and PostgreSQL): each person's scores per
competency and week (only the feedback the manager gave; only the learner's own self-assessments and
released feedback), what is due and overdue, the revised assessments; the statements stay as many for a
team of 60 as for a team of 3; the rules refuse a manager asking for someone not theirs, a learner, a
designer and a guessed id."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.models import Activity, Assessment, Context, ManagerLink
from lti_tool.permissions import NOT_YOUR_PERSON, Actor, PermissionDenied
from lti_tool.programme.models import FollowUp
from lti_tool.states import (
    AssessmentStatus,
    Assessors,
    CadreRole,
    FeedbackRelease,
    FollowUpStatus,
    ManagerLinkRelation,
    ManagerLinkSource,
    ManagerLinkStatus,
)
from lti_tool.tracking import charts, progress, progress_tables, refreshers, seed
from lti_tool.tracking.models import week_of
from lti_tool.tracking.progress import DueState, Progress
from tests.fixtures.database import CountQueries
from tests.tracking.test_dashboard import NOW, Seeded, hundredths_mean, make

Trends = dict[tuple[int, str], list[tuple[date, object, int]]]


def actor_in(seeded: Seeded, user_id: int, role: CadreRole) -> Actor:
    return Actor(user_id, role.value.title(), seeded.context.platform_id, seeded.context.id, role)


def manager_actor(seeded: Seeded, manager: int) -> Actor:
    return actor_in(seeded, seeded.written.manager_ids[manager], CadreRole.MANAGER)


def learner_actor(seeded: Seeded, learner: int) -> Actor:
    return actor_in(seeded, seeded.written.learner_ids[learner], CadreRole.LEARNER)


def expected_trends(seeded: Seeded, planned_scores: list[seed.PlannedAssessment]) -> Trends:
    """Per (learner, competency): each week's mean of the per-criterion percentages and their count."""
    rubric = seed.seed_rubric(seeded.plan.criteria)
    levels: dict[tuple[int, str, date], list[int]] = defaultdict(list)
    for planned in planned_scores:
        assert planned.submitted_at is not None
        for criterion, level in zip(rubric.criteria, planned.levels, strict=True):
            for tag in criterion.competency_tags:
                levels[(planned.learner, tag, week_of(planned.submitted_at))].append(level)
    found: Trends = defaultdict(list)
    for (learner, tag, week), values in sorted(levels.items()):
        found[(learner, tag)].append((week, hundredths_mean(values), len(values)))
    return dict(found)


def shown_trends(seeded: Seeded, shown: Progress) -> Trends:
    index = {user_id: number for number, user_id in enumerate(seeded.written.learner_ids)}
    return {
        (index[person.learner_id], trend.tag): [
            (point.week, point.mean, point.scores) for point in trend.points
        ]
        for person in shown.people
        for trend in person.competencies
    }


def people_of(plan: seed.Plan, manager: int) -> set[int]:
    return {link.learner for link in plan.links if link.manager == manager}


def expected_due(seeded: Seeded, manager: int) -> dict[tuple[int, int], tuple[str, str]]:
    """Per (learner, activity): whose part and its state, for ``manager``'s team view."""
    plan = seeded.plan
    status = {
        (planned.activity, planned.learner, planned.assessor): planned.status for planned in plan.assessments
    }
    due = {}
    for learner in people_of(plan, manager):
        for index, activity in enumerate(plan.activities):
            if activity.assessors is Assessors.LEARNER:
                done = status.get((index, learner, None)) is AssessmentStatus.SUBMITTED
                due[(learner, index)] = ("self", DueState.DONE if done else DueState.WAITING)
                continue
            if activity.assessors is Assessors.LINE_MANAGER and plan.line_manager_of(learner) != manager:
                continue
            found = status.get((index, learner, manager))
            if found is AssessmentStatus.SUBMITTED:
                state = DueState.DONE
            elif found is AssessmentStatus.DRAFT:
                state = DueState.DRAFT
            else:
                state = DueState.OVERDUE if activity.due_at < plan.now else DueState.DUE
            due[(learner, index)] = ("you", state)
    return due


def shown_due(seeded: Seeded, shown: Progress) -> dict[tuple[int, int], tuple[str, str]]:
    learners = {user_id: number for number, user_id in enumerate(seeded.written.learner_ids)}
    activities = {activity_id: number for number, activity_id in enumerate(seeded.written.activity_ids)}
    return {
        (learners[person.learner_id], activities[item.activity.id]): (item.part, item.state)
        for person in shown.people
        for item in person.due
    }


@pytest.mark.parametrize("random_seed", [3, 8])
def test_a_managers_team_view_matches_the_figures_computed_from_the_generated_course(
    db: Session, random_seed: int
) -> None:
    seeded = make(db, learners=34, activities=6, random_seed=random_seed)
    plan = seeded.plan
    manager = 1  # line manager of learners 10..19, coach of some of the others
    shown = progress.team_of(db, manager_actor(seeded, manager), seeded.context, now=NOW)
    people = people_of(plan, manager)
    assert {seeded.written.learner_ids.index(person.learner_id) for person in shown.people} == people
    assert len(people) > 10  # coached people too
    mine = [
        planned
        for planned in plan.assessments
        if planned.assessor == manager and planned.status is AssessmentStatus.SUBMITTED
    ]
    expected = expected_trends(seeded, mine)
    assert shown_trends(seeded, shown) == expected
    assert shown_due(seeded, shown) == expected_due(seeded, manager)
    # Not vacuous: overdue feedback, drafts and done work, and weeks to compare.
    states = {state for _part, state in expected_due(seeded, manager).values()}
    assert {DueState.DONE, DueState.OVERDUE, DueState.WAITING} <= states
    assert any(len(points) > 3 for points in expected.values())
    # The revised assessments: the seeder submits the same levels again, so nothing changed.
    revised = {
        (seeded.written.learner_ids[planned.learner], planned.revisions)
        for planned in mine
        if planned.revisions > 1
    }
    assert {
        (person.learner_id, revision.revisions) for person in shown.people for revision in person.revisions
    } == revised
    assert all(revision.change == 0 for person in shown.people for revision in person.revisions)
    # The team's chart sums every person's scores, one rounding.
    team = {trend.tag: trend for trend in shown.team_competencies}
    for tag, trend in team.items():
        weekly: dict[date, list[int]] = defaultdict(list)
        rubric = seed.seed_rubric(plan.criteria)
        for planned in mine:
            assert planned.submitted_at is not None
            for criterion, level in zip(rubric.criteria, planned.levels, strict=True):
                if tag in criterion.competency_tags:
                    weekly[week_of(planned.submitted_at)].append(level)
        assert [(point.week, point.mean) for point in trend.points] == [
            (week, hundredths_mean(values)) for week, values in sorted(weekly.items())
        ]


def test_a_learner_sees_their_own_self_assessments_and_released_feedback_only(db: Session) -> None:
    seeded = make(db, learners=24, activities=4, random_seed=5)
    plan = seeded.plan
    # The first manager activity waits for the staff to release its feedback: its scores stay hidden.
    held = next(
        index for index, activity in enumerate(plan.activities) if activity.assessors is not Assessors.LEARNER
    )
    db.execute(
        update(Activity)
        .where(Activity.id == seeded.written.activity_ids[held])
        .values(feedback_release=FeedbackRelease.WHEN_RELEASED)
    )
    learner = 13
    shown = progress.own_progress(db, learner_actor(seeded, learner), seeded.context, now=NOW)
    assert [person.learner_id for person in shown.people] == [seeded.written.learner_ids[learner]]
    own = [
        planned
        for planned in plan.assessments
        if planned.learner == learner
        and planned.status is AssessmentStatus.SUBMITTED
        and not (planned.assessor is not None and planned.activity == held)
    ]
    assert shown_trends(seeded, shown) == expected_trends(seeded, own)
    assert any(
        planned.activity == held and planned.assessor is not None
        for planned in plan.assessments
        if planned.learner == learner and planned.status is AssessmentStatus.SUBMITTED
    )
    # What is due: their self-assessments (to do or done), their line manager's feedback (for information).
    status = {
        (planned.activity, planned.assessor): planned.status
        for planned in plan.assessments
        if planned.learner == learner
    }
    line = plan.line_manager_of(learner)
    expected = {}
    for index, activity in enumerate(plan.activities):
        if activity.assessors is Assessors.LEARNER:
            done = status.get((index, None)) is AssessmentStatus.SUBMITTED
            state = (
                DueState.DONE if done else DueState.OVERDUE if activity.due_at < plan.now else DueState.DUE
            )
            expected[(learner, index)] = ("self", state)
        else:
            done = status.get((index, line)) is AssessmentStatus.SUBMITTED
            expected[(learner, index)] = ("line_manager", DueState.DONE if done else DueState.WAITING)
    assert shown_due(seeded, shown) == expected
    assert shown.people[0].follow_ups == []


def test_the_statements_are_as_many_for_a_team_of_sixty_as_for_a_team_of_three(
    db: Session, count_queries: CountQueries
) -> None:
    counts = []
    for learners, activities, random_seed in ((3, 2, 1), (60, 6, 2)):
        seeded = make(db, learners=learners, activities=activities, random_seed=random_seed)
        actor = manager_actor(seeded, 0)
        linked = people_of(seeded.plan, 0)
        for number, learner_id in enumerate(seeded.written.learner_ids):  # the first manager manages all
            if number in linked:
                continue
            db.add(
                ManagerLink(
                    context_id=seeded.context.id,
                    manager_id=actor.user_id,
                    learner_id=learner_id,
                    relation=ManagerLinkRelation.MENTOR,
                    source=ManagerLinkSource.DESIGNER,
                    status=ManagerLinkStatus.ACTIVE,
                )
            )
        db.flush()
        with count_queries() as queries:
            shown = progress.team_of(db, actor, seeded.context, now=NOW)
        assert len(shown.people) == learners
        counts.append(queries.count)
        learner = learner_actor(seeded, learners - 1)
        with count_queries() as queries:
            progress.own_progress(db, learner, seeded.context, now=NOW)
        counts.append(queries.count)
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[0] <= 8, counts


def test_each_refusal_of_the_team_and_progress_rules(db: Session) -> None:
    seeded = make(db, learners=24, activities=2, random_seed=6)
    omar, rita = manager_actor(seeded, 0), manager_actor(seeded, 1)
    theirs, not_theirs = seeded.written.learner_ids[3], seeded.written.learner_ids[15]
    assert progress.person_of(db, omar, seeded.context, theirs).people[0].learner_id == theirs
    # A manager asking for someone else's person, for a guessed id, for themself: "not found".
    for learner_id in (not_theirs, 2_000_000_000, omar.user_id):
        with pytest.raises(PermissionDenied) as refused:
            progress.person_of(db, omar, seeded.context, learner_id)
        assert refused.value.decision.status == 404 and refused.value.decision.message == NOT_YOUR_PERSON
    assert progress.person_of(db, rita, seeded.context, not_theirs).people[0].learner_id == not_theirs
    # An ended link ends the access.
    db.execute(
        update(ManagerLink)
        .where(ManagerLink.manager_id == omar.user_id, ManagerLink.learner_id == theirs)
        .values(status=ManagerLinkStatus.ENDED)
    )
    assert not permissions.can_follow_person(omar, db, theirs)
    # The same manager in another course sees nobody there.
    elsewhere = Actor(omar.user_id, "Omar", omar.platform_id, seeded.context.id + 1000, CadreRole.MANAGER)
    assert not permissions.can_follow_person(elsewhere, db, not_theirs)
    # Route rules: a learner is not a manager (unless linked as one), a manager reads no learner's page, a
    # designer neither.
    learner = learner_actor(seeded, 4)
    designer = seeded.designer
    assert permissions.may_follow_team(learner).message == permissions.TEAM_MANAGERS_ONLY
    assert permissions.may_follow_team(designer).status == 403
    assert permissions.may_read_own_progress(omar).message == permissions.PROGRESS_LEARNERS_ONLY
    assert permissions.may_read_own_progress(designer).status == 403
    assert permissions.may_read_own_progress(learner) and permissions.may_follow_team(omar)
    no_course = Actor(omar.user_id, "Omar", omar.platform_id, None, CadreRole.MANAGER)
    assert permissions.may_follow_team(no_course).status == 400


def test_each_person_s_refreshers_show_on_their_managers_and_their_own_page_only(db: Session) -> None:
    seeded = make(db, learners=24, activities=2, random_seed=7)
    activity = db.get(Activity, seeded.written.activity_ids[0])
    assert activity is not None
    # A refresher on the first criterion, called for by any score of it below 60 % (levels 1 and 2).
    refreshers.save_refresher(
        db,
        seeded.designer,
        activity,
        refreshers.RefresherInput(
            target="criterion:c01", title="Listen first", body="Two minutes.", threshold="60"
        ),
        now=NOW,
    )
    steps = refreshers.refreshers_for(db, seeded.written.learner_ids, seeded.context.id, NOW)
    omar = manager_actor(seeded, 0)
    team = progress.team_of(db, omar, seeded.context, now=NOW)
    people = {seeded.written.learner_ids[learner] for learner in people_of(seeded.plan, 0)}
    assert {person.learner_id: person.refreshers for person in team.people} == {
        learner_id: steps[learner_id] for learner_id in people
    }
    assert any(steps[learner_id] for learner_id in people), "some of Omar's people have refreshers"
    assert any(steps[learner_id] for learner_id in set(steps) - people), "and some others"
    rows = {row[0]: row[5:8] for row in progress_tables.people_table(team).rows}
    for person in team.people:
        states = [step.state for step in person.refreshers]
        assert rows[person.name] == (
            str(states.count("due")),
            str(states.count("upcoming")),
            str(states.count("done")),
        )
    learner = next(
        number for number, learner_id in enumerate(seeded.written.learner_ids) if steps[learner_id]
    )
    own = progress.own_progress(db, learner_actor(seeded, learner), seeded.context, now=NOW)
    assert [person.refreshers for person in own.people] == [steps[seeded.written.learner_ids[learner]]]


def test_a_line_chart_legend_wraps_inside_the_frame_with_many_competencies() -> None:
    names = [f"cadre:framework.competency-number-{number}" for number in range(6)]
    chart = charts.line_chart(
        "chart-test",
        "Title",
        "Description",
        ["2026-11-02", "2026-11-09"],
        [(name, [Decimal(50), Decimal(number * 10)]) for number, name in enumerate(names)],
    )
    rows = {entry.row for entry in chart.legend}
    assert len(rows) > 1
    for entry in chart.legend:  # the line, a gap and the text: inside the 700-unit frame
        assert chart.plot_left + entry.x + 38 + 7 * len(entry.label) <= charts.WIDTH, entry
    assert chart.plot_top == charts.TOP + 26 + charts.LEGEND_ROW * max(rows)
    single = charts.line_chart("chart-one", "T", "D", ["w"], [("Managers", [Decimal(1)])])
    assert single.plot_top == charts.TOP + 26 and single.legend[0].row == 0


def test_a_managers_answered_follow_ups_show_beside_the_score_they_followed_up(db: Session) -> None:
    seeded = make(db, learners=24, activities=2, random_seed=9)
    plan = seeded.plan
    number, planned = next(
        (number, planned)
        for number, planned in enumerate(plan.assessments)
        if planned.assessor == 0
        and planned.status is AssessmentStatus.SUBMITTED
        and planned.learner in people_of(plan, 1)
    )
    assessment = db.scalars(select(Assessment).order_by(Assessment.id)).all()[number]
    assert assessment.learner_id == seeded.written.learner_ids[planned.learner]
    before = (Decimal(sum(planned.levels) * 100) / (4 * plan.criteria)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    for manager, after in ((0, "81.25"), (1, "12.50")):  # manager 1's answer is theirs alone
        db.add(
            FollowUp(
                activity_id=seeded.written.activity_ids[1],
                source_activity_id=assessment.activity_id,
                source_key=f"assessment:{assessment.id}:{manager}",
                source_assessment_id=assessment.id,
                manager_id=seeded.written.manager_ids[manager],
                learner_id=assessment.learner_id,
                status=FollowUpStatus.ANSWERED,
                anchored_at=NOW,
                due_at=NOW,
                answered_at=NOW,
                rubric_answers={"percentage": after, "criteria": []},
            )
        )
    db.flush()
    for manager, after in ((0, Decimal("81.25")), (1, Decimal("12.50"))):
        shown = progress.person_of(
            db, manager_actor(seeded, manager), seeded.context, assessment.learner_id, now=NOW
        )
        (change,) = shown.people[0].follow_ups
        assert (change.before_percent, change.after_percent, change.change) == (before, after, after - before)
    own = progress.own_progress(db, learner_actor(seeded, planned.learner), seeded.context, now=NOW)
    assert own.people[0].follow_ups == []
    # The same manager and person in another course: that course's follow-up stays on that course's page.
    other = Context(platform_id=seeded.context.platform_id, context_id="another-course", title="Another")
    db.add(other)
    db.flush()
    moved = seeded.written.activity_ids[1]
    db.execute(update(Activity).where(Activity.id == moved).values(context_id=other.id))
    db.expire_all()
    shown = progress.person_of(db, manager_actor(seeded, 0), seeded.context, assessment.learner_id, now=NOW)
    assert shown.people[0].follow_ups == []
