"""Leaderboards: their figures against figures computed independently from the generated plan (every
metric, by learner, team and manager, for random opt-ins); nobody who did not choose to appear is ever
ranked or counted; display options and hidden figures as each reader may see them; the designer's
settings; each refusal of the rules; a constant number of queries however many are ranked."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.db import session_scope
from lti_tool.models import Activity, Assessment, Context, User
from lti_tool.permissions import (
    LEADERBOARD_COURSE_NOT_FOUND,
    LEADERBOARD_DESIGNERS_ONLY,
    LEADERBOARD_NOT_FOUND,
    LEADERBOARD_NOT_RANKED,
    OUTCOME_DESIGNERS_ONLY,
    Actor,
)
from lti_tool.states import (
    AssessmentStatus,
    Assessors,
    CadreRole,
    FeedbackRelease,
    LeaderboardDisplay,
    LeaderboardMetric,
    LeaderboardSubject,
)
from lti_tool.tracking import leaderboards, seed
from lti_tool.tracking.leaderboard_models import LeaderboardPresence, LeaderboardSettings
from tests.feedback.test_pages import Placed, filled, placed  # noqa: F401 - the fixture
from tests.fixtures.database import CountQueries
from tests.fixtures.visitors import Visitor
from tests.tracking.test_pages import course_of, fill

HUNDREDTH = Decimal("0.01")


def rounded(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(HUNDREDTH, ROUND_HALF_UP)


# -- the figures, computed from the plan without Cadre's code --------------------------------------------


@dataclass
class Expected:
    completed: int = 0
    expected: int = 0
    percents: list[int] | None = None
    improvement: Decimal | None = None


def expected_figures(plan: seed.Plan) -> dict[int, Expected]:
    """Each learner's figures straight from the plan: a criterion at level n of 4 is n x 25 %."""
    found: dict[int, Expected] = {}
    for learner in range(plan.learners):
        found[learner] = Expected(expected=len(plan.activities), percents=[])
    per_activity: dict[tuple[int, int], tuple[datetime, list[int]]] = {}
    completed: dict[int, set[int]] = defaultdict(set)
    for planned in plan.assessments:
        activity = plan.activities[planned.activity]
        counts = (activity.assessors is Assessors.LEARNER) == (planned.assessor is None)
        if not counts or planned.status is not AssessmentStatus.SUBMITTED:
            continue
        completed[planned.learner].add(planned.activity)
        percents = [level * 25 for level in planned.levels]
        found[planned.learner].percents += percents  # type: ignore[operator]
        key = (planned.learner, planned.activity)
        assert planned.submitted_at is not None
        first, kept = per_activity.get(key, (planned.submitted_at, []))
        per_activity[key] = (min(first, planned.submitted_at), kept + percents)
    by_learner: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    for (learner, _activity), (first, percents) in per_activity.items():
        by_learner[learner].append((first, rounded(Fraction(sum(percents), len(percents)))))
    for learner, means in by_learner.items():
        means.sort()
        if len(means) >= 2:
            found[learner].improvement = means[-1][1] - means[0][1]
    for learner, activities in completed.items():
        found[learner].completed = len(activities)
    return found


def learner_value(figures: Expected, metric: LeaderboardMetric) -> Decimal | None:
    if metric is LeaderboardMetric.COMPLETION:
        return rounded(Fraction(figures.completed * 100, figures.expected)) if figures.expected else None
    if metric is LeaderboardMetric.AVERAGE_SCORE:
        return (
            rounded(Fraction(sum(figures.percents or []), len(figures.percents)))
            if figures.percents
            else None
        )
    return figures.improvement


def group_value(members: list[Expected], metric: LeaderboardMetric) -> Decimal | None:
    with_figure = [member for member in members if learner_value(member, metric) is not None]
    if len(with_figure) < leaderboards.SMALLEST_GROUP:
        return None
    if metric is LeaderboardMetric.COMPLETION:
        return rounded(
            Fraction(sum(m.completed for m in with_figure) * 100, sum(m.expected for m in with_figure))
        )
    if metric is LeaderboardMetric.AVERAGE_SCORE:
        percents = [percent for member in with_figure for percent in member.percents or []]
        return rounded(Fraction(sum(percents), len(percents)))
    improvements = [member.improvement for member in with_figure]
    return rounded(Fraction(sum(improvements, Decimal(0))) / len(improvements))  # type: ignore[arg-type]


def manager_completion(plan: seed.Plan, manager: int) -> Decimal | None:
    """The feedback a manager owes (their line reports in every manager-assessed activity; their coached
    people too where any manager may assess), and what they submitted of it."""
    owed = {
        (learner, index)
        for learner in range(plan.learners)
        for index, activity in enumerate(plan.activities)
        if activity.assessors is not Assessors.LEARNER
        and (
            plan.line_manager_of(learner) == manager
            or (activity.assessors is Assessors.ANY_MANAGER and plan.coach_of(learner) == manager)
        )
    }
    done = {
        (planned.learner, planned.activity)
        for planned in plan.assessments
        if planned.assessor == manager and planned.status is AssessmentStatus.SUBMITTED
    } & owed
    return rounded(Fraction(len(done) * 100, len(owed))) if owed else None


def opt_in(session: Session, context_id: int, user_ids: list[int], *, first: int = 1) -> None:
    for number, user_id in enumerate(user_ids, start=first):
        session.add(LeaderboardPresence(context_id=context_id, user_id=user_id, opted_in=True, number=number))
    session.flush()


def staff(seeded: seed.Seeded) -> Actor:
    return Actor(seeded.designer_id, "Designer", seeded.platform_id, seeded.context_id, CadreRole.DESIGNER)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan_seed=st.integers(0, 10_000),
    chosen=st.lists(st.booleans(), min_size=30, max_size=30),
    declined=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_every_figure_matches_the_plan_and_only_people_who_chose_appear(
    db: Session, plan_seed: int, chosen: list[bool], declined: list[bool]
) -> None:
    plan = seed.generate(learners=30, activities=4, criteria=3, seed=plan_seed)
    written = seed.write(db, plan)
    context = db.get(Context, written.context_id)
    assert context is not None
    learners_in = [index for index in range(plan.learners) if chosen[index]]
    managers_in = [index for index in range(plan.managers) if chosen[index * 7 % 30]]
    opt_in(
        db,
        context.id,
        [written.learner_ids[i] for i in learners_in] + [written.manager_ids[i] for i in managers_in],
    )
    # People who chose, then left, and people who never chose, count nowhere.
    for index in range(plan.learners):
        if not chosen[index] and declined[index]:
            db.add(
                LeaderboardPresence(
                    context_id=context.id,
                    user_id=written.learner_ids[index],
                    opted_in=False,
                    number=1000 + index,
                )
            )
    db.flush()
    figures = expected_figures(plan)
    actor = staff(written)
    for subject in LeaderboardSubject:
        for metric in LeaderboardMetric:
            board_settings = LeaderboardSettings(
                context_id=context.id,
                enabled=True,
                metric=metric,
                subject=subject,
                display=LeaderboardDisplay.NAMES,
                show_values=False,
            )
            board = leaderboards.build(db, actor, context, board_settings)
            found = {row.key: row.value for row in board.rows}
            if subject is LeaderboardSubject.LEARNER:
                expected = {
                    written.learner_ids[i]: learner_value(figures[i], metric)
                    for i in learners_in
                    if learner_value(figures[i], metric) is not None
                }
            elif subject is LeaderboardSubject.TEAM:
                teams: dict[int, list[Expected]] = defaultdict(list)
                for i in learners_in:
                    teams[plan.line_manager_of(i)].append(figures[i])
                expected = {
                    written.manager_ids[m]: group_value(members, metric) for m, members in teams.items()
                }
                expected = {key: value for key, value in expected.items() if value is not None}
            else:
                expected = {}
                for m in managers_in:
                    if metric is LeaderboardMetric.COMPLETION:
                        value = manager_completion(plan, m)
                    else:
                        people = [
                            i for i in learners_in if plan.line_manager_of(i) == m or plan.coach_of(i) == m
                        ]
                        value = group_value([figures[i] for i in people], metric)
                    if value is not None:
                        expected[written.manager_ids[m]] = value
            assert found == expected, (subject, metric)
            # Ranks: best first, equal figures share the rank of the first of them.
            values = [row.value for row in board.rows]
            assert values == sorted(values, reverse=True)  # type: ignore[type-var]
            for position, row in enumerate(board.rows, start=1):
                assert row.rank == 1 + sum(1 for other in values if other > row.value), row  # type: ignore[operator]
                assert row.rank <= position
            assert board.ranked == len(expected)


# -- the rules -------------------------------------------------------------------------------------------


def actor_in(
    context: Context,
    role: CadreRole,
    *,
    user_id: int = 9,
    context_id: int | None = -1,
    platform_id: int | None = None,
) -> Actor:
    return Actor(
        user_id,
        "Someone",
        context.platform_id if platform_id is None else platform_id,
        context.id if context_id == -1 else context_id,
        role,
    )


def test_each_refusal_of_the_leaderboard_and_outcome_rules() -> None:
    context = Context(id=5, platform_id=1, context_id="c")
    on = LeaderboardSettings(context_id=5, enabled=True, show_values=False)
    off = LeaderboardSettings(context_id=5, enabled=False, show_values=False)
    learner, manager = actor_in(context, CadreRole.LEARNER), actor_in(context, CadreRole.MANAGER)
    designer, admin = actor_in(context, CadreRole.DESIGNER), actor_in(context, CadreRole.ADMIN, context_id=77)
    elsewhere = actor_in(context, CadreRole.DESIGNER, context_id=6)
    other_platform = actor_in(context, CadreRole.ADMIN, platform_id=2)

    def refused(decision: permissions.Decision, status: int, message: str) -> None:
        assert not decision and decision.status == status and decision.message == message, decision

    # Reading: the course's members once it is on; staff before; another course or platform never.
    assert permissions.can_read_leaderboard(learner, context, on)
    refused(permissions.can_read_leaderboard(learner, context, off), 404, LEADERBOARD_NOT_FOUND)
    refused(permissions.can_read_leaderboard(manager, context, None), 404, LEADERBOARD_NOT_FOUND)
    assert permissions.can_read_leaderboard(designer, context, off) and permissions.can_read_leaderboard(
        admin, context, None
    )
    refused(
        permissions.can_read_leaderboard(actor_in(context, CadreRole.LEARNER, context_id=6), context, on),
        404,
        LEADERBOARD_COURSE_NOT_FOUND,
    )
    refused(permissions.can_read_leaderboard(other_platform, context, on), 404, LEADERBOARD_COURSE_NOT_FOUND)
    # Settings: designers and administrators of the course.
    assert permissions.can_configure_leaderboard(designer, context) and permissions.can_configure_leaderboard(
        admin, context
    )
    for who in (learner, manager):
        refused(permissions.can_configure_leaderboard(who, context), 403, LEADERBOARD_DESIGNERS_ONLY)
    refused(permissions.can_configure_leaderboard(elsewhere, context), 404, LEADERBOARD_COURSE_NOT_FOUND)
    refused(permissions.can_configure_leaderboard(other_platform, context), 404, LEADERBOARD_COURSE_NOT_FOUND)
    # Choosing to appear: learners and managers, each for themself; staff are not ranked.
    assert permissions.can_choose_leaderboard_presence(learner, context)
    assert permissions.can_choose_leaderboard_presence(manager, context)
    refused(permissions.can_choose_leaderboard_presence(designer, context), 403, LEADERBOARD_NOT_RANKED)
    refused(
        permissions.can_choose_leaderboard_presence(
            actor_in(context, CadreRole.LEARNER, context_id=6), context
        ),
        404,
        LEADERBOARD_COURSE_NOT_FOUND,
    )
    # Figures: one's own, staff, or everyone's only where the designer allowed it.
    shown = LeaderboardSettings(context_id=5, enabled=True, show_values=True)
    assert permissions.may_see_leaderboard_figure(learner, on, own=True)
    assert not permissions.may_see_leaderboard_figure(learner, on, own=False)
    assert not permissions.may_see_leaderboard_figure(manager, on, own=False)
    assert permissions.may_see_leaderboard_figure(learner, shown, own=False)
    assert permissions.may_see_leaderboard_figure(designer, on, own=False)
    # The outcome: the course's staff only.
    assert permissions.can_edit_programme_outcome(
        designer, context
    ) and permissions.can_edit_programme_outcome(admin, context)
    for who in (learner, manager):
        refused(permissions.can_edit_programme_outcome(who, context), 403, OUTCOME_DESIGNERS_ONLY)
    refused(permissions.can_edit_programme_outcome(elsewhere, context), 404, permissions.COURSE_NOT_FOUND)
    refused(
        permissions.can_edit_programme_outcome(other_platform, context), 404, permissions.COURSE_NOT_FOUND
    )


# -- the pages -------------------------------------------------------------------------------------------


def set_up(designer: Visitor, context_id: int, **changes: str) -> None:
    form = {
        "enabled": "on",
        "metric": "average_score",
        "subject": "learner",
        "display": "names",
        "show_values": "",
    }
    form.update(changes)
    form = {name: value for name, value in form.items() if value}
    saved = designer.post(f"/courses/{context_id}/leaderboard/settings", form)
    assert saved.status == 200 and saved.texts("notice") == ["The leaderboard's settings are saved."], (
        saved.text[:1500]
    )


def test_learners_choose_to_appear_and_see_what_the_designer_allows(
    app: Flask, designer: Visitor, learner: Visitor, manager: Visitor, other_designer: Visitor
) -> None:
    seeded = fill(app, designer, learners=12, activities=3)
    context_id = seeded.context_id
    path = f"/courses/{context_id}/leaderboard"
    # Off: learners are told there is none; the designer previews it.
    off = learner.get(path)
    assert off.status == 404 and LEADERBOARD_NOT_FOUND in off.text
    preview = designer.get(path)
    assert preview.status == 200 and preview.texts("leaderboard-off") and not preview.texts("presence")

    settings_page = designer.get(preview.link("leaderboard-settings-link"))
    assert settings_page.status == 200
    bad = designer.post(
        f"{path}/settings", {"enabled": "on", "metric": "salary", "subject": "learner", "display": "names"}
    )
    assert bad.status == 400 and "Choose what the leaderboard ranks." in bad.text
    with session_scope(app) as session:
        assert session.get(LeaderboardSettings, context_id) is None
    set_up(designer, context_id)

    assert learner.get("/home").link("leaderboard-home-link") == path
    assert designer.get("/home").link("outcome-home-link") == f"/courses/{context_id}/outcome"
    # Nobody chose: nobody is ranked, not even for the designer.
    page = learner.get(path)
    assert page.status == 200 and page.attributes("presence-state")[0]["data-opted-in"] == "no"
    assert page.texts("leaderboard-empty") and not page.texts("ranked")
    assert designer.get(path).texts("ranked") == []

    with session_scope(app) as session:
        opt_in(session, context_id, seeded.written.learner_ids[:5])
        names = dict(
            session.execute(select(User.id, User.name).where(User.id.in_(seeded.written.learner_ids))).all()
        )
    joined = learner.submit(page, "presence-form")
    assert joined.status == 200 and joined.texts("notice")[0].startswith(
        "You appear on this course's leaderboard"
    )
    assert joined.attributes("presence-state")[0]["data-opted-in"] == "yes"
    rows = joined.texts("ranked")
    assert len(rows) == 5  # the visitor has no score: ranked on average score, they have no figure
    assert joined.texts("not-ranked-yet") == ["You are not ranked yet: you have no average score figure yet."]
    assert all(row.endswith("—") for row in rows)  # others' figures hidden by default
    assert any(names[seeded.written.learner_ids[0]] in row for row in rows)
    never = set(seeded.written.learner_ids[5:])
    assert not any(names[user_id] in joined.text for user_id in never)

    # Completion ranks everyone who chose, the visitor too (no feedback yet: 0%), with their own figure only.
    set_up(designer, context_id, metric="completion")
    board = learner.get(path)
    own = [row for row in board.attributes("ranked") if row.get("aria-current") == "true"]
    assert len(own) == 1 and len(board.texts("ranked")) == 6
    assert board.texts("own-rank")[0].startswith("You are number 6 of 6, with 0.00%")
    figures = board.texts("figure")
    assert figures.count("—") == 5 and "0.00%" in figures

    # Shown figures, pseudonyms, initials, own rank only.
    set_up(designer, context_id, metric="completion", show_values="on", display="pseudonyms")
    board = learner.get(path)
    assert "—" not in board.texts("figure") and all("Learner " in row for row in board.texts("ranked"))
    assert not any(names[user_id] in board.text for user_id in seeded.written.learner_ids)
    set_up(designer, context_id, metric="completion", display="initials")
    initialled = learner.get(path).texts("ranked")
    assert all("L. 0. (" in row or "You" in row for row in initialled)  # alike initials told apart
    assert len(set(initialled)) == len(initialled)
    set_up(designer, context_id, metric="completion", display="own_rank")
    board = learner.get(path)
    assert board.texts("ranked") == [] and board.texts("own-rank")[0].startswith("You are number 6 of 6")
    staff_view = designer.get(path)
    assert len(staff_view.texts("ranked")) == 6 and "—" not in staff_view.texts("figure")
    assert manager.get(path).texts("leaderboard-others") == [
        "6 ranked. Only each person's own rank is shown, and you are not ranked: you have not chosen to "
        "appear."
    ]

    # Leaving: gone at once, for everyone.
    left = learner.submit(board, "presence-form")
    assert left.texts("notice") == ["You no longer appear on this course's leaderboard."]
    assert len(designer.get(path).texts("ranked")) == 5
    with session_scope(app) as session:
        kept = session.scalar(
            select(LeaderboardPresence).where(
                LeaderboardPresence.user_id != LeaderboardPresence.id, LeaderboardPresence.opted_in.is_(False)
            )
        )
        assert kept is not None and kept.number == 6  # the number is kept for a return

    # Refusals over HTTP: settings for learners and managers, presence for staff, another course's board.
    for visitor in (learner, manager):
        for answer in (
            visitor.get(f"{path}/settings"),
            visitor.post(f"{path}/settings", {"metric": "completion"}),
        ):
            assert answer.status == 403 and LEADERBOARD_DESIGNERS_ONLY in answer.text
    staff_choice = designer.post(f"{path}/presence", {"choice": "in"})
    assert staff_choice.status == 403 and LEADERBOARD_NOT_RANKED in staff_choice.text
    assert learner.post(f"{path}/presence", {"choice": "maybe"}).status == 400
    for answer in (
        other_designer.get(path),
        other_designer.get(f"{path}/settings"),
        other_designer.post(f"{path}/presence", {"choice": "in"}),
    ):
        assert answer.status == 404 and LEADERBOARD_COURSE_NOT_FOUND in answer.text
    assert learner.get("/courses/2000000000/leaderboard").status == 404
    assert learner.post(f"{path}/presence", {"choice": "in"}, csrf="").status in (400, 403)
    with session_scope(app) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(LeaderboardPresence)
                .where(LeaderboardPresence.opted_in.is_(True))
            )
            == 5
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metric": "salary"}, "Choose what the leaderboard ranks."),
        ({"subject": "department"}, "Choose who the leaderboard ranks."),
        ({"display": "photos"}, "Choose how people are named."),
        ({"metric": ""}, "Choose what the leaderboard ranks."),
    ],
)
def test_settings_not_offered_are_refused_and_store_nothing(
    app: Flask, designer: Visitor, changes: dict[str, str], message: str
) -> None:
    context_id = course_of(app, designer)
    form = {"enabled": "on", "metric": "completion", "subject": "learner", "display": "names", **changes}
    refused = designer.post(f"/courses/{context_id}/leaderboard/settings", form)
    assert refused.status == 400 and message in refused.texts("problem")[0]
    with session_scope(app) as session:
        assert session.get(LeaderboardSettings, context_id) is None


def test_teams_and_managers_appear_from_three_members_who_chose(app: Flask, designer: Visitor) -> None:
    seeded = fill(app, designer, learners=20, activities=3)
    context_id = seeded.context_id
    set_up(designer, context_id, metric="completion", subject="team", display="pseudonyms")
    with session_scope(app) as session:
        # Manager 0's team: learners 0-9; manager 1's: 10-19. Three of the first, two of the second.
        opt_in(session, context_id, [*seeded.written.learner_ids[:3], *seeded.written.learner_ids[10:12]])
    board = designer.get(f"/courses/{context_id}/leaderboard")
    assert board.texts("ranked") and len(board.texts("ranked")) == 1
    assert board.texts("waiting") == ["1 more team waits for 3 of their people to choose to appear."]
    assert "Team 1" in board.texts("ranked")[0]
    set_up(designer, context_id, metric="completion", subject="manager", display="names")
    board = designer.get(f"/courses/{context_id}/leaderboard")
    assert board.texts("leaderboard-empty")  # no manager chose to appear


@pytest.mark.parametrize(
    ("subject", "metric"), [("learner", "improvement"), ("team", "average_score"), ("manager", "completion")]
)
def test_the_leaderboard_takes_the_same_queries_however_many_are_ranked(
    app: Flask, designer: Visitor, learner: Visitor, count_queries: CountQueries, subject: str, metric: str
) -> None:
    seeded = fill(app, designer, learners=40, activities=3)
    context_id = seeded.context_id
    set_up(designer, context_id, metric=metric, subject=subject)
    path = f"/courses/{context_id}/leaderboard"
    counts = []
    ranked = []
    batches = (
        (1, seeded.written.learner_ids[:2]),
        (100, seeded.written.learner_ids[2:40] + seeded.written.manager_ids),
    )
    for first, chosen in batches:
        with session_scope(app) as session:
            opt_in(session, context_id, chosen, first=first)
        with count_queries() as queries:
            page = designer.get(path)
        assert page.status == 200
        counts.append(queries.count)
        ranked.append(len(page.texts("ranked")))
    assert counts[0] == counts[1], counts
    assert ranked[0] < ranked[1], ranked


def test_a_board_ranks_only_released_feedback_for_every_reader(placed: Placed, app: Flask) -> None:  # noqa: F811
    """Feedback that waits for release is not yet the learner's to read: the leaderboard does not tell it,
    not to the learner (their own rank) nor to anyone through them (others' values, averages); once
    released, it counts."""
    with session_scope(app) as session:
        session.execute(update(Activity).where(Activity.id == placed.activity_id)
                        .values(feedback_release=FeedbackRelease.WHEN_RELEASED))
    omar = placed.open("manager")
    given = omar.submit(omar.get(placed.form_path("learner-ana")), "feedback-form", filled(),
                        button=("action", "submit"))
    assert given.status == 200, given.text[:1500]
    ana = placed.open("learner", user="learner-ana")
    context_id = course_of(app, ana)
    set_up(placed.designer, context_id, display="pseudonyms", show_values="on")
    assert ana.post(f"/courses/{context_id}/leaderboard/presence", {"choice": "in"}).status == 200
    path = f"/courses/{context_id}/leaderboard"
    waiting = ana.get(path)
    assert waiting.status == 200 and not any("%" in text for text in waiting.texts("own-rank")), waiting.text
    assert not any("%" in text for text in placed.designer.get(path).texts("ranked"))

    released = placed.designer.post(
        f"/activities/{placed.activity_id}/assessments/{assessment_of(app, placed.activity_id)}/release", {})
    assert released.status == 200, released.text[:1500]
    after = ana.get(path)
    assert any("%" in text for text in after.texts("own-rank")), after.text[:2000]


def assessment_of(app: Flask, activity_id: int) -> int:
    with session_scope(app) as session:
        found = session.scalar(select(Assessment.id).where(Assessment.activity_id == activity_id))
        assert found is not None
        return found
