"""Seeded courses name an outcome and have a leaderboard: the demo course (Ana and Chloé chose to appear;
its outcome before and after the programme, course-wide and per team) and ``cadre demo seed``'s."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.models import Context, User
from lti_tool.permissions import Actor
from lti_tool.states import CadreRole
from lti_tool.tracking import leaderboards, outcome
from lti_tool.tracking.leaderboard_models import LeaderboardPresence, LeaderboardSettings
from lti_tool.tracking.seed_outcome import month_ends
from tests.demo.test_seed import Demo, demo  # noqa: F401 - the fixture
from tests.fixtures.operations import Cadre

__all__ = ["demo"]


def test_month_ends_are_whole_months_before_today() -> None:
    assert month_ends(date(2026, 12, 2), 3) == [date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)]
    assert month_ends(date(2026, 3, 31), 2) == [date(2026, 1, 31), date(2026, 2, 28)]


def test_the_demo_course_names_its_outcome_and_has_a_leaderboard(demo: Demo) -> None:  # noqa: F811
    with session_scope(demo.app) as session:
        context = session.scalar(select(Context).where(Context.context_id == demo.platform.course.context_id))
        assert context is not None
        found = outcome.figures(session, context.id)
        assert found is not None and found.outcome.name == "First-call resolution"
        assert [series.label for series in found.series] == ["Course-wide", "Omar's team", "Rita's team"]
        for series in found.series:
            assert len(series.before) == 6 and len(series.after) == 3
        assert found.course_wide is not None and found.course_wide.improved is True
        settings = session.get(LeaderboardSettings, context.id)
        assert settings is not None and settings.enabled
        chosen = session.scalars(
            select(User.sub)
            .join(LeaderboardPresence, LeaderboardPresence.user_id == User.id)
            .where(LeaderboardPresence.opted_in.is_(True))
        )
        assert sorted(chosen) == ["learner-ana", "learner-chloe"]
        designer = session.scalar(select(User).where(User.sub == "designer-maya"))
        assert designer is not None
        actor = Actor(designer.id, "Maya", context.platform_id, context.id, CadreRole.DESIGNER)
        board = leaderboards.build(session, actor, context, settings)
        assert board.ranked == 2 and all(row.value is not None for row in board.rows)


def test_the_seed_command_gives_the_course_an_outcome_and_a_leaderboard(cadre: Cadre, app: Flask) -> None:
    done = cadre("demo", "seed", "--learners", "30", "--activities", "2", "--criteria", "2")
    assert done.exit_code == 0, done.output
    found = re.search(r"Course (\d+):", done.output)
    assert found, done.output
    context_id = int(found.group(1))
    with session_scope(app) as session:
        figures = outcome.figures(session, context_id)
        assert figures is not None
        assert [series.label for series in figures.series][:2] == ["Course-wide", "Team of Manager 0000"]
        presences = session.scalars(
            select(LeaderboardPresence).where(LeaderboardPresence.context_id == context_id)
        )
        assert len(list(presences)) == 15
    again = cadre(
        "demo",
        "seed",
        "--learners",
        "5",
        "--activities",
        "1",
        "--criteria",
        "1",
        "--course-id",
        str(context_id),
    )
    assert again.exit_code == 0, again.output  # a course that names an outcome keeps it
