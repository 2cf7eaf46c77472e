"""``make demo`` seeds spaced refreshers on the manager-feedback activity: two refreshers, schedules started
by the seeded weak scores, and one step of Ana's already due, which she finds on her landing page."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.db import session_scope, utcnow
from lti_tool.demo.seed_refreshers import TEXTS
from lti_tool.models import User
from lti_tool.tracking import refreshers
from lti_tool.tracking.refresher_models import Refresher, ScheduledRefresher
from tests.demo.test_seed import Demo, demo  # noqa: F401 - the fixture

__all__ = ["demo"]


def test_refreshers_are_seeded_with_one_of_anas_due(demo: Demo) -> None:  # noqa: F811
    with session_scope(demo.app) as session:
        titles = sorted(session.scalars(select(Refresher.title)))
        assert titles == sorted(title for title, _body, _link in TEXTS)
        subs = {user.id: user.sub for user in session.scalars(select(User))}
        learners = {subs[learner_id] for learner_id in session.scalars(select(ScheduledRefresher.learner_id))}
        assert "learner-ana" in learners
        ana = next(user_id for user_id, sub in subs.items() if sub == "learner-ana")
        context_id = session.scalars(select(ScheduledRefresher.context_id)).first()
        assert context_id is not None
        states = refreshers.refreshers_for(session, [ana], context_id)[ana]
        assert [item.state for item in states].count("due") >= 1
        assert {item.state for item in states} <= {"due", "upcoming"}
        # The seeded scores schedule nothing more when the job runs.
        assert refreshers.schedule(session, utcnow()).scheduled == 0
