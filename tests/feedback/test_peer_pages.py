"""Peer assessment's pages over real HTTP from the demo platform: the designer sets peers up and draws
them, a newcomer is placed, a learner reviews a peer with the feedback form and the reviewed learner reads
it beside their manager's feedback and self-assessment without learning who wrote it (page source
included), the staff see who reviews whom, bad input is refused with its message, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.feedback import peers
from lti_tool.feedback.peer_models import PeerAssignment
from lti_tool.models import Assessment, User
from lti_tool.permissions import PEER_REVIEWERS_ONLY, PEERS_DESIGNERS_ONLY
from lti_tool.states import AssessorRole
from tests.deliverables.test_activities import activities, place, save_settings
from tests.feedback.conftest import TEMPLATE
from tests.feedback.test_pages import filled
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, create_from_template, visitor_from

LEARNERS = ("learner-ana", "learner-ben", "learner-chloe")


@dataclass
class PlacedPeers:
    platform: RunningPlatform
    app: Flask
    activity_id: int
    designer: Visitor
    open: Callable[..., Visitor]

    def user_id(self, sub: str) -> int:
        with session_scope(self.app) as session:
            found = session.scalar(select(User.id).where(User.sub == sub))
        assert found is not None, sub
        return found

    def sub_of(self, user_id: int) -> str:
        with session_scope(self.app) as session:
            user = session.get(User, user_id)
            assert user is not None
            return user.sub

    def pairs(self) -> set[tuple[str, str]]:
        with session_scope(self.app) as session:
            rows = session.execute(
                select(PeerAssignment.reviewer_id, PeerAssignment.reviewee_id).where(
                    PeerAssignment.activity_id == self.activity_id
                )
            ).all()
        return {(self.sub_of(reviewer), self.sub_of(reviewee)) for reviewer, reviewee in rows}

    @property
    def staff_path(self) -> str:
        return f"/activities/{self.activity_id}/peers"

    def review_path(self, sub: str) -> str:
        return f"/activities/{self.activity_id}/peer-reviews/{self.user_id(sub)}/feedback"


def staff_post(designer: Visitor, placed: PlacedPeers, action: str, **fields: str) -> Page:
    page = designer.get(placed.staff_path)
    token = {
        name: value
        for name, value in page.form("peer-settings-form").fields.items()
        if name in ("lt", "csrf_token")
    }
    return designer.post(f"{placed.staff_path}/{action}", {**token, **fields})


@pytest.fixture
def placed_peers(platform: RunningPlatform, app: Flask) -> PlacedPeers:
    """A peer assessment with the template rubric, line managers assessing too, released on submission;
    Ana, Ben and Chloé have launched it (so they are the course's learners), Dev has not yet."""
    link = place(platform, kind="peer_assessment", title="Peer feedback on a customer call")

    def open_activity(role: str, *, user: str | None = None, **options: Any) -> Visitor:
        return visitor_from(platform.launch_as(role, activity=link, user=user, **options), role)

    designer = open_activity("designer")
    rubric_id, _ = create_from_template(designer, TEMPLATE)
    (activity,) = activities(app)
    saved = save_settings(
        designer,
        activity.id,
        rubric_id=str(rubric_id),
        assessors="line_manager",
        feedback_release="on_submission",
        work_product_required="",
        due_date="",
        due_time="",
        points_possible="",
        grades_to_lms="",
    )
    assert saved.status == 200, saved.text[:1500]
    for sub in LEARNERS:
        open_activity("learner", user=sub)
    return PlacedPeers(platform, app, activity.id, designer, open_activity)


def test_the_designer_draws_peers_a_learner_reviews_and_the_reviewed_learner_reads_it_anonymously(
    placed_peers: PlacedPeers,
) -> None:
    designer = placed_peers.designer
    assert placed_peers.open("designer").home.texts("peers-staff-link") == ["Who reviews whom"]
    settings = staff_post(
        designer, placed_peers, "settings", reviews_per_learner="1", scope="course", anonymous="1"
    )
    assert settings.status == 200 and settings.texts("notice") == ["Peer settings saved."]
    drawn = staff_post(designer, placed_peers, "assign")
    assert drawn.texts("notice") == ["Peers drawn: 3 reviews assigned."]
    assert len(drawn.attributes("pair")) == 3
    pairs = placed_peers.pairs()
    assert {reviewer for reviewer, _ in pairs} == {reviewee for _, reviewee in pairs} == set(LEARNERS)
    assert "Ana Lima" in " ".join(drawn.texts("pair"))  # staff see who reviews whom

    ana = placed_peers.open("learner", user="learner-ana")
    assert ana.home.texts("peer-reviews-link") == ["Open the peers you review"]
    (reviewee,) = [reviewee for reviewer, reviewee in pairs if reviewer == "learner-ana"]
    listing = ana.get(f"/activities/{placed_peers.activity_id}/peer-reviews")
    assert listing.texts("review-status") == ["Not started"]
    assert "anonymous" in listing.texts("anonymity-note")[0]
    form = ana.get(placed_peers.review_path(reviewee))
    assert form.status == 200 and "Your review of" in form.text
    done = ana.submit(
        form, "feedback-form", filled(strengths="Asked open questions."), button=("action", "submit")
    )
    assert done.status == 200 and done.texts("notice") == ["Review submitted."]
    assert done.texts("review-status") == ["Submitted"]

    them = placed_peers.open("learner", user=reviewee)
    own = them.get(f"/activities/{placed_peers.activity_id}/self-assessment")
    them.submit(own, "feedback-form", filled(), button=("action", "submit"))
    page = them.get(f"/activities/{placed_peers.activity_id}/feedback")
    assert [row["data-role"] for row in page.attributes("given-feedback")] == ["peer"]
    assert "Feedback from Peer reviewer 1" in page.text
    assert "Asked open questions." in page.text
    assert "Ana Lima" not in page.text and "learner-ana" not in page.text  # nor in the page source
    assert page.texts("comparison-row")  # every view side by side, the self-assessment included
    assert page.texts("self-level")

    # Named reviews: the same page names the reviewer once the designer says so.
    staff_post(designer, placed_peers, "settings", reviews_per_learner="1", scope="course")
    assert (
        "Feedback from Ana Lima (peer)" in them.get(f"/activities/{placed_peers.activity_id}/feedback").text
    )
    # The staff's list of every assessment names the reviewer too.
    staff = designer.get(f"/activities/{placed_peers.activity_id}/assessments")
    assert staff.status == 200 and "Ana Lima (peer)" in staff.texts("assessor")
    assert designer.get(f"/activities/{placed_peers.activity_id}/dashboard").status == 200


def test_a_newcomer_is_placed_without_moving_a_started_review(placed_peers: PlacedPeers) -> None:
    designer = placed_peers.designer
    staff_post(designer, placed_peers, "settings", reviews_per_learner="1", scope="course", anonymous="1")
    staff_post(designer, placed_peers, "assign")
    (started,) = [pair for pair in placed_peers.pairs() if pair[0] == "learner-ben"]
    ben = placed_peers.open("learner", user="learner-ben")
    ben.submit(
        ben.get(placed_peers.review_path(started[1])), "feedback-form", filled(), button=("action", "save")
    )
    placed_peers.open("learner", user="learner-dev")  # joins late
    page = designer.get(placed_peers.staff_path)
    assert "Dev Patel" in page.texts("unassigned")[0]
    assert page.texts("assign-peers") == ["Place newcomers"]
    placed = staff_post(designer, placed_peers, "assign")
    assert placed.texts("notice") == ["Newcomers placed: 2 reviews assigned."]
    pairs = placed_peers.pairs()
    assert started in pairs
    assert len(pairs) == 4
    assert (
        {reviewer for reviewer, _ in pairs}
        == {reviewee for _, reviewee in pairs}
        == {*LEARNERS, "learner-dev"}
    )
    assert not placed.texts("unassigned")


def test_the_designer_pairs_learners_by_hand_and_bad_input_is_refused(placed_peers: PlacedPeers) -> None:
    designer = placed_peers.designer
    ana, ben = placed_peers.user_id("learner-ana"), placed_peers.user_id("learner-ben")
    added = staff_post(designer, placed_peers, "pairs", reviewer_id=str(ana), reviewee_id=str(ben))
    assert added.texts("notice") == ["Pair added."] and placed_peers.pairs() == {
        ("learner-ana", "learner-ben")
    }
    for fields, message in [
        ({"reviewer_id": str(ana), "reviewee_id": str(ana)}, peers.SAME_PERSON),
        ({"reviewer_id": str(ana), "reviewee_id": "abc"}, peers.NOT_A_PARTICIPANT),
        (
            {"reviewer_id": str(ana), "reviewee_id": str(ben)},
            "Ana Lima already reviews Ben Okafor in this activity.",
        ),
    ]:
        refused = staff_post(designer, placed_peers, "pairs", **fields)
        assert refused.status == 400 and refused.texts("problems") == [message]
    refused = staff_post(designer, placed_peers, "settings", reviews_per_learner="20", scope="nowhere")
    assert refused.status == 400
    assert [row["data-field"] for row in refused.attributes("problems")] == ["reviews_per_learner", "scope"]
    assert refused.form("peer-settings-form").fields["reviews_per_learner"] == "20"  # kept as typed
    with session_scope(placed_peers.app) as session:
        pair_id = session.scalar(select(PeerAssignment.id))
    assert staff_post(designer, placed_peers, f"pairs/{pair_id + 99}/remove").status == 404
    reviewer = placed_peers.open("learner", user="learner-ana")
    reviewer.submit(
        reviewer.get(placed_peers.review_path("learner-ben")),
        "feedback-form",
        filled(),
        button=("action", "save"),
    )
    kept = staff_post(designer, placed_peers, f"pairs/{pair_id}/remove")
    assert kept.status == 409 and kept.texts("problems") == [peers.PAIR_STARTED]
    assert placed_peers.pairs() == {("learner-ana", "learner-ben")}


def test_every_refusal_of_the_peer_pages(placed_peers: PlacedPeers, app: Flask) -> None:
    designer = placed_peers.designer
    ana_id, ben_id = placed_peers.user_id("learner-ana"), placed_peers.user_id("learner-ben")
    staff_post(designer, placed_peers, "pairs", reviewer_id=str(ana_id), reviewee_id=str(ben_id))
    activity = placed_peers.activity_id
    ana = placed_peers.open("learner", user="learner-ana")
    chloe = placed_peers.open("learner", user="learner-chloe")
    omar = placed_peers.open("manager")
    # a learner reviews only the peers assigned to them, never themself
    assert chloe.get(placed_peers.review_path("learner-ben")).status == 404
    assert (
        chloe.post(
            placed_peers.review_path("learner-ben"), filled(draft_revision="0", action="submit")
        ).status
        == 404
    )
    assert ana.get(placed_peers.review_path("learner-ana")).status == 400
    assert ana.get(f"/activities/{activity}/peer-reviews/999999/feedback").status == 404
    assert ana.post(f"{placed_peers.review_path('learner-ben')}/withdraw", {"reason": "x"}).status == 400
    # managers and designers do not review peers; learners and managers do not manage them
    refused = omar.get(f"/activities/{activity}/peer-reviews")
    assert refused.status == 403 and PEER_REVIEWERS_ONLY in refused.text
    assert designer.get(f"/activities/{activity}/peer-reviews").status == 403
    refused = ana.get(placed_peers.staff_path)
    assert refused.status == 403
    for path in ("settings", "assign", "pairs", "clear"):
        assert ana.post(f"{placed_peers.staff_path}/{path}", {}).status == 403
        assert omar.post(f"{placed_peers.staff_path}/{path}", {}).status == 403
    # another course, another kind of activity, a guessed id
    other = placed_peers.open("designer", claims={"context": OTHER_COURSE})
    assert other.get(placed_peers.staff_path).status == 404
    assert designer.get("/activities/999999/peers").status == 404
    # the peer's review is not another learner's to read
    ana.submit(
        ana.get(placed_peers.review_path("learner-ben")),
        "feedback-form",
        filled(),
        button=("action", "submit"),
    )
    with session_scope(app) as session:
        assessment_id = session.scalar(
            select(Assessment.id).where(Assessment.assessor_role == AssessorRole.PEER)
        )
    assert (
        chloe.post(f"/activities/{activity}/feedback/{assessment_id}/acknowledge", {"reply": "?"}).status
        == 404
    )
    assert "Listens well." not in chloe.get(f"/activities/{activity}/feedback").text
    # nothing changed by any of them
    assert placed_peers.pairs() == {("learner-ana", "learner-ben")}
    assert PEERS_DESIGNERS_ONLY  # the staff's message, shown to a learner on the staff page
    assert PEERS_DESIGNERS_ONLY in refused.text or "designer" in refused.text
