"""The demo course's peer activities (``make demo``), seeded through their services:

=========================  =====================================================  ============================
activity                   done already                                           left to do
=========================  =====================================================  ============================
peer feedback              peers drawn (seeded; each of the four learners gives   Ben: finish his draft;
                           and receives two, anonymously); Ana reviewed both her   Chloé and Dev: review; Omar
                           peers, Chloé one; Ben has a draft; Omar gave Ana his    and Rita: their people
                           feedback; Ana assessed herself: her page shows all
peer coaching              Ana and Ben a pair, Chloé and Dev a pair (the          Chloé and Dev: their first
                           designer's); Ana and Ben logged two sessions            session
=========================  =====================================================  ============================
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from lti_tool.db import utcnow
from lti_tool.deliverables import services as activities
from lti_tool.feedback import peers
from lti_tool.feedback import services as feedback
from lti_tool.feedback.content import Draft
from lti_tool.feedback.peer_models import PeerAssignment
from lti_tool.models import Activity
from lti_tool.permissions import Actor
from lti_tool.programme import peer_coaching
from lti_tool.states import ActivityKind, Assessors, CadreRole, FeedbackRelease

if TYPE_CHECKING:
    from lti_tool.demo.seed import DemoCourse

PEER_TITLE = "Peer feedback on a customer call"
PEER_TEMPLATE = "skill-assessment-customer-conversation"
PEER_INSTRUCTIONS = (
    "Listen to the recorded calls of the two peers Cadre gives you and review each with the "
    "rubric. Your reviews are anonymous; you read your peers' reviews of you beside your "
    "manager's feedback and your own self-assessment."
)
PEER_BRIEFING = "Give your own feedback as usual: your people also read their peers' reviews."
COACHING_TITLE = "Peer coaching: lead by asking"
COACHING_INSTRUCTIONS = (
    "Meet your peer every two weeks. Bring a recent managerial experience, reflect on it "
    "in the light of one of the course's ideas, and log the session for your group."
)
IDEAS = "Coach before you tell\nThe 80/20 model of coaching and mentoring\nTie the training to a result"
SEED = 2026
"""The peer draw's seed: the demo draws the same pairs every time."""


def seed_peer_activities(
    demo: DemoCourse, designer: Actor, peer_activity: Activity, omar: Actor, answers: Callable[..., Draft]
) -> Activity:
    """Draw peers and give some reviews in ``peer_activity`` (set up by ``demo.seed`` with its rubric);
    place and seed the peer-coaching activity; returns the latter."""
    session = demo.session
    peers.save_settings(
        session, designer, peer_activity, {"reviews_per_learner": "2", "scope": "course", "anonymous": "1"}
    )
    peers.run_assignment(session, designer, peer_activity, seed=SEED)
    rubric = feedback.rubric_of(peer_activity)
    learners = {
        sub: demo.actor(sub, CadreRole.LEARNER)
        for sub in ("learner-ana", "learner-ben", "learner-chloe", "learner-dev")
    }
    pairs = session.execute(
        select(PeerAssignment.reviewer_id, PeerAssignment.reviewee_id)
        .where(PeerAssignment.activity_id == peer_activity.id)
        .order_by(PeerAssignment.reviewer_id, PeerAssignment.reviewee_id)
    ).all()
    users = {user.id: user for user in demo.users.values()}
    done = {"learner-ana": 2, "learner-chloe": 1}
    for number, (sub, count) in enumerate(done.items()):
        actor = learners[sub]
        for reviewee in [reviewee for reviewer, reviewee in pairs if reviewer == actor.user_id][:count]:
            feedback.submit(
                session,
                actor,
                peer_activity,
                users[reviewee],
                answers(rubric, number + 1, "Summarise the customer's need before the offer."),
                based_on=0,
            )
    ben = learners["learner-ben"]
    first = next(reviewee for reviewer, reviewee in pairs if reviewer == ben.user_id)
    feedback.save_draft(session, ben, peer_activity, users[first], answers(rubric, 0, ""), based_on=0)
    ana = demo.users["learner-ana"]
    feedback.submit(
        session, omar, peer_activity, ana, answers(rubric, 1, "Lead the next call review."), based_on=0
    )
    feedback.submit(
        session,
        learners["learner-ana"],
        peer_activity,
        ana,
        answers(rubric, 2, "Ask one more open question."),
        based_on=0,
    )

    coaching = activities.create_activity(session, designer, ActivityKind.PEER_COACHING, COACHING_TITLE)
    activities.update_settings(
        session,
        designer,
        coaching.id,
        activities.ActivitySettings(
            title=COACHING_TITLE,
            instructions=COACHING_INSTRUCTIONS,
            manager_briefing="",
            rubric_id=None,
            due_at=None,
            due_timezone="Europe/Paris",
            points_possible=None,
            grades_to_lms=False,
            assessors=Assessors.LINE_MANAGER,
            work_product_required=False,
            feedback_release=FeedbackRelease.ON_SUBMISSION,
        ),
        expected_lock_version=coaching.lock_version,
    )
    peer_coaching.save_settings(session, designer, coaching, {"group_size": "2", "ideas": IDEAS})
    peer_coaching.create_group(
        session, designer, coaching, [str(learners["learner-ana"].user_id), str(ben.user_id)]
    )
    peer_coaching.create_group(
        session,
        designer,
        coaching,
        [str(learners["learner-chloe"].user_id), str(learners["learner-dev"].user_id)],
    )
    today = utcnow().date()
    for days_ago, author, presenter, experience, idea, reflection in (
        (
            16,
            learners["learner-ana"],
            ben,
            "A customer escalated a late repair to the director.",
            "Coach before you tell",
            "Ben solved it himself; I would have taken it over. Asking first showed he knew the way.",
        ),
        (
            2,
            ben,
            learners["learner-ana"],
            "Ana's new starter keeps asking her to check every quote.",
            "The 80/20 model of coaching and mentoring",
            "Mostly telling so far; we agreed she asks what the starter would do before she answers.",
        ),
    ):
        peer_coaching.log_session(
            session,
            author,
            coaching,
            {
                "held_on": (today - timedelta(days=days_ago)).isoformat(),
                "presenter_id": str(presenter.user_id),
                "experience": experience,
                "idea": idea,
                "own_idea": "",
                "reflection": reflection,
                "next_step": "Try it this week and bring what happened.",
            },
        )
    return coaching
