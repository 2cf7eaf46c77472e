"""``make demo`` seeds the peer activities: the peer assessment graded with its rubric and placed with a
gradebook column, peers drawn balanced (each of the four learners gives two and receives two), Ana's two
reviews, Chloé's one, Ben's draft, Omar's feedback and Ana's self-assessment, so that Ana's page shows every
view; the peer-coaching activity with two designer's pairs and two sessions of Ana and Ben's."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.demo.seed_peers import COACHING_TITLE, PEER_TITLE
from lti_tool.feedback import peer_assignment
from lti_tool.feedback.peer_models import PeerAssignment
from lti_tool.models import Activity, Assessment, User
from lti_tool.programme.peer_coaching_models import PeerCoachingGroup, PeerCoachingSession
from lti_tool.states import ActivityKind, AssessmentStatus, AssessorRole
from tests.demo.test_seed import Demo, demo  # noqa: F401 - the fixture

__all__ = ["demo"]


def test_the_peer_activities_are_seeded(demo: Demo) -> None:  # noqa: F811
    with session_scope(demo.app) as session:
        subs = {user.id: user.sub for user in session.scalars(select(User))}
        activity = session.scalars(select(Activity).where(Activity.title == PEER_TITLE)).one()
        assert activity.kind is ActivityKind.PEER_ASSESSMENT
        assert activity.rubric_version_id and activity.grades_to_lms and activity.line_item_url
        pairs = set(
            session.execute(
                select(PeerAssignment.reviewer_id, PeerAssignment.reviewee_id).where(
                    PeerAssignment.activity_id == activity.id
                )
            ).all()
        )
        given, received = peer_assignment.given_and_received(pairs)
        assert {subs[person] for person in given} == {
            "learner-ana",
            "learner-ben",
            "learner-chloe",
            "learner-dev",
        }
        assert set(given.values()) == set(received.values()) == {2}
        states = sorted(
            (subs[row.assessor_id], row.assessor_role.value, row.status.value)
            for row in session.scalars(select(Assessment).where(Assessment.activity_id == activity.id))
        )
        assert states.count(("learner-ana", "peer", "submitted")) == 2
        assert ("learner-chloe", "peer", "submitted") in states and ("learner-ben", "peer", "draft") in states
        assert ("manager-omar", "manager", "submitted") in states and (
            "learner-ana",
            "self",
            "submitted",
        ) in states
        peer_rows = session.scalars(
            select(Assessment).where(
                Assessment.assessor_role == AssessorRole.PEER, Assessment.status == AssessmentStatus.SUBMITTED
            )
        )
        assert all((row.assessor_id, row.learner_id) in pairs for row in peer_rows)

        coaching = session.scalars(select(Activity).where(Activity.title == COACHING_TITLE)).one()
        assert coaching.kind is ActivityKind.PEER_COACHING and coaching.configured_at is not None
        assert (
            len(
                session.scalars(
                    select(PeerCoachingGroup).where(PeerCoachingGroup.activity_id == coaching.id)
                ).all()
            )
            == 2
        )
        assert (
            len(
                session.scalars(
                    select(PeerCoachingSession).where(PeerCoachingSession.activity_id == coaching.id)
                ).all()
            )
            == 2
        )
    assert PEER_TITLE in {item["label"] for item in demo.platform.line_items}
    assert COACHING_TITLE in {activity.title for activity in demo.platform.course.activities}
