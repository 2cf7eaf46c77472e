"""The manager's people page costs the same statements however many people and activities the course has
(the benchmark ``tests/bench/bench_feedback.py`` times it with 200 people x 20 activities)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.models import Context, User
from tests.bench.feedback_course import GrownCourse, grow_course
from tests.fixtures.database import CountQueries
from tests.fixtures.visitors import Visitor


def grow(app: Flask, people: int, activities: int) -> GrownCourse:
    with session_scope(app) as session:
        manager_id = session.scalar(select(User.id).where(User.sub == "manager-omar"))
        context_id = session.scalar(select(Context.id).where(Context.context_id == "course-lcc-101"))
        assert manager_id is not None and context_id is not None
        return grow_course(session, context_id=context_id, manager_id=manager_id, people=people,
                           activities=activities)


def test_the_people_page_costs_the_same_statements_for_7_or_62_people_and_2_or_12_activities(
    app: Flask, manager: Visitor, count_queries: CountQueries
) -> None:
    small = grow(app, people=5, activities=2)
    path = f"/activities/{small.activity_ids[0]}/people"
    with count_queries() as few:
        page = manager.get(path)
    assert page.status == 200
    # Omar's two mentees from his launch, and the five linked here: not started, draft, submitted by turns.
    states = [row["data-state"] for row in page.attributes("person")]
    assert len(states) == 7 and {"not_started", "draft", "submitted"} <= set(states)

    big = grow(app, people=60, activities=12)
    assert big.activity_ids[0] == small.activity_ids[0]
    with count_queries() as many:
        page = manager.get(path)
    assert len(page.attributes("person")) == 62
    assert many.count == few.count, many.statements
    with count_queries() as other_activity:
        assert manager.get(f"/activities/{big.activity_ids[-1]}/people").status == 200
    assert other_activity.count == few.count, other_activity.statements
