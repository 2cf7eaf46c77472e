"""``make demo`` seeds the strategic-relationships activity: graded with its rubric, placed in the demo LMS
with a gradebook column; Ana's map spread over the quarter (a relationship taken off, a mentor grown), two
goals (one met), shared so that Omar can review it; Ben's map not shared; Ana's share is a learning
record that names none of her relationships."""

from __future__ import annotations

import json

from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.demo.seed_relationships import TITLE
from lti_tool.models import Activity, User
from lti_tool.programme import relationship_map as maps
from lti_tool.programme.relationship_models import RelationshipMap
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind
from tests.demo.test_seed import Demo, demo  # noqa: F401 - the fixture

__all__ = ["demo"]


def test_the_relationship_map_is_seeded_with_a_quarter_of_history(demo: Demo) -> None:  # noqa: F811
    with session_scope(demo.app) as session:
        activity = session.scalars(select(Activity).where(Activity.title == TITLE)).one()
        assert activity.kind is ActivityKind.RELATIONSHIP_MAP
        assert activity.rubric_version_id and activity.grades_to_lms and activity.line_item_url
        subs = {user.id: user.sub for user in session.scalars(select(User))}
        found = {subs[row.owner_id]: row for row in session.scalars(
            select(RelationshipMap).where(RelationshipMap.activity_id == activity.id))}
        assert set(found) == {"learner-ana", "learner-ben"}
        ana, ben = found["learner-ana"], found["learner-ben"]
        assert ana.shared_at is not None and ben.shared_at is None

        view = maps.map_view(session, ana)
        assert (len(view.relationships), view.strategic, view.operational) == (5, 3, 2)
        assert [week.strategic for week in view.history][0] == 0 and view.history[-1].strategic == 3
        assert sorted(progress.status for progress in view.goals) == ["met", "under way"]
        assert maps.map_view(session, ben).strategic == 0

        bodies = [json.dumps(row.body) for row in session.scalars(select(Statement).where(
            Statement.activity_kind == "relationship_map", Statement.verb == "http://activitystrea.ms/submit"))]
        assert len(bodies) == 1 and "Dana Ortiz" not in bodies[0]
    assert TITLE in {activity.title for activity in demo.platform.course.activities}
    assert TITLE in {item["label"] for item in demo.platform.line_items}
