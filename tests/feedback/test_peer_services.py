"""Peer assessment's services on the test's database: settings and their bad input, a seeded draw that is
balanced and repeats, newcomers placed without moving a started review, the designer's pairs, the review
written with the feedback machinery (drafts, submission, withdrawal, never graded), anonymity on the
learner's side, and each refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.feedback import content, peer_assignment, peers, services
from lti_tool.feedback.content import Draft
from lti_tool.feedback.peer_models import PeerAssignment
from lti_tool.models import Activity, Assessment, Membership, OutboxMessage, User
from lti_tool.permissions import (
    NOT_A_PEER_ASSESSMENT,
    NOT_YOUR_PERSON,
    PEER_REVIEWERS_ONLY,
    PEERS_DESIGNERS_ONLY,
    Actor,
    PermissionDenied,
    can_assess,
    can_manage_peers,
    can_read_feedback,
    can_review_peers,
    may_review_peers,
)
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind, AssessmentStatus, AssessorRole, Assessors, CadreRole, PeerScope
from tests.feedback.conftest import Course, complete_answers
from xapi.vocabulary import Extension, Verb


def learners(course: Course, count: int) -> list[User]:
    """``count`` learners of the course (memberships), Ana, Ben and Chloé first."""
    people = [course.ana, course.ben, course.chloe]
    for number in range(len(people), count):
        user = User(platform_id=course.platform.id, sub=f"learner-{number}", name=f"Learner {number:02d}")
        course.db.add(user)
        course.db.flush()
        people.append(user)
    for user in people[:count]:
        course.db.add(Membership(user_id=user.id, context_id=course.context.id, role=CadreRole.LEARNER))
    course.db.flush()
    return people[:count]


def answers(activity: Activity) -> Draft:
    return content.read_content(complete_answers(), services.rubric_of(activity))


def as_learner(course: Course, user: User) -> Actor:
    return Actor(user.id, user.display_name, course.platform.id, course.context.id, CadreRole.LEARNER)


def peer_activity(course: Course, **options: object) -> Activity:
    return course.activity(kind=ActivityKind.PEER_ASSESSMENT, **options)  # type: ignore[arg-type]


def pairs_of(course: Course, activity: Activity) -> set[tuple[int, int]]:
    return {(reviewer, reviewee) for reviewer, reviewee in course.db.execute(
        select(PeerAssignment.reviewer_id, PeerAssignment.reviewee_id)
        .where(PeerAssignment.activity_id == activity.id))}


def settings(course: Course, activity: Activity, **typed: str) -> None:
    peers.save_settings(course.db, course.designer, activity,
                        {"reviews_per_learner": "2", "scope": "course", "anonymous": "1", **typed})


def test_a_seeded_draw_is_balanced_and_the_same_seed_draws_the_same_pairs(course: Course) -> None:
    people = learners(course, 7)
    first, second = peer_activity(course), peer_activity(course)
    for activity in (first, second):
        settings(course, activity, reviews_per_learner="3")
        result = peers.run_assignment(course.db, course.designer, activity, seed=42)
        assert result.first_run and result.added == 21
    pairs = pairs_of(course, first)
    assert pairs == pairs_of(course, second)
    assert pairs == peer_assignment.assign({"course": [user.id for user in people]}, 3, 42)
    given, received = peer_assignment.given_and_received(pairs)
    assert set(given.values()) == set(received.values()) == {3}
    assert all(reviewer != reviewee for reviewer, reviewee in pairs)


def test_a_newcomer_gets_k_to_give_and_k_to_receive_and_started_reviews_stay(course: Course) -> None:
    people = learners(course, 6)
    activity = peer_activity(course)
    settings(course, activity)
    peers.run_assignment(course.db, course.designer, activity, seed=7)
    reviewer, reviewee = sorted(pairs_of(course, activity))[0]
    started = as_learner(course, course.db.get(User, reviewer))
    services.save_draft(course.db, started, activity, course.db.get(User, reviewee),
                        answers(activity), based_on=0)
    newcomer = User(platform_id=course.platform.id, sub="late", name="Late Joiner")
    course.db.add(newcomer)
    course.db.flush()
    course.db.add(Membership(user_id=newcomer.id, context_id=course.context.id, role=CadreRole.LEARNER))
    course.db.flush()
    assert [learner.id for learner in peers.overview(course.db, course.designer, activity).unassigned] == \
        [newcomer.id]

    result = peers.run_assignment(course.db, course.designer, activity)
    assert result.newcomers == [newcomer.id] and result.short == 0
    pairs = pairs_of(course, activity)
    assert (reviewer, reviewee) in pairs
    given, received = peer_assignment.given_and_received(pairs)
    assert {person: given[person] for person in [*map(lambda u: u.id, people), newcomer.id]} == \
        dict.fromkeys([*map(lambda u: u.id, people), newcomer.id], 2)
    assert set(received.values()) == {2}
    assert peers.run_assignment(course.db, course.designer, activity).added == 0  # nobody new: nothing moves


def test_team_scope_draws_inside_each_line_managers_team(course: Course) -> None:
    learners(course, 3)  # Omar manages Ana and Ben; Chloé has no manager
    activity = peer_activity(course)
    settings(course, activity, scope="team")
    peers.run_assignment(course.db, course.designer, activity, seed=1)
    assert pairs_of(course, activity) == {(course.ana.id, course.ben.id), (course.ben.id, course.ana.id)}
    assert [learner.id for learner in peers.overview(course.db, course.designer, activity).unassigned] == \
        [course.chloe.id]


@pytest.mark.parametrize(("typed", "field"), [
    ({"reviews_per_learner": "0"}, "reviews_per_learner"),
    ({"reviews_per_learner": "11"}, "reviews_per_learner"),
    ({"reviews_per_learner": "two"}, "reviews_per_learner"),
    ({"reviews_per_learner": "٣"}, "reviews_per_learner"),
    ({"scope": "everyone"}, "scope"),
])
def test_bad_settings_are_refused_by_field_and_nothing_is_stored(course: Course, typed: dict[str, str],
                                                                  field: str) -> None:
    activity = peer_activity(course)
    with pytest.raises(peers.PeerProblems) as refused:
        settings(course, activity, **typed)
    assert list(refused.value.problems) == [field]
    assert peers.settings_of(course.db, activity).reviews_per_learner == peers.DEFAULT_REVIEWS


def test_k_and_scope_are_fixed_once_a_review_started_but_anonymity_is_not(course: Course) -> None:
    learners(course, 3)
    activity = peer_activity(course)
    settings(course, activity)
    peers.run_assignment(course.db, course.designer, activity, seed=3)
    services.save_draft(course.db, course.ana_actor, activity, course.db.get(User, next(
        reviewee for reviewer, reviewee in pairs_of(course, activity) if reviewer == course.ana.id)),
        answers(activity), based_on=0)
    with pytest.raises(peers.PeerProblems) as refused:
        settings(course, activity, reviews_per_learner="1")
    assert refused.value.problems == {"reviews_per_learner": peers.FIXED_ONCE_STARTED}
    settings(course, activity, anonymous="")
    assert peers.is_anonymous(course.db, activity) is False
    with pytest.raises(services.FeedbackError, match="Reviews have been started"):
        peers.clear_pairs(course.db, course.designer, activity)


def test_the_designer_adds_and_removes_pairs_and_bad_pairs_are_refused(course: Course) -> None:
    learners(course, 3)
    activity = peer_activity(course)
    pair = peers.add_pair(course.db, course.designer, activity,
                          {"reviewer_id": str(course.ana.id), "reviewee_id": str(course.chloe.id)})
    for typed, message in [
        ({"reviewer_id": str(course.ana.id), "reviewee_id": str(course.ana.id)}, peers.SAME_PERSON),
        ({"reviewer_id": str(course.ana.id), "reviewee_id": "99999"}, peers.NOT_A_PARTICIPANT),
        ({"reviewer_id": "ana", "reviewee_id": str(course.ben.id)}, peers.NOT_A_PARTICIPANT),
        ({"reviewer_id": str(course.ana.id), "reviewee_id": str(course.chloe.id)},
         "Ana Lima already reviews Chloé Martin in this activity."),
    ]:
        with pytest.raises(peers.PeerProblems) as refused:
            peers.add_pair(course.db, course.designer, activity, typed)
        assert refused.value.problems == {"pair": message}
    with pytest.raises(peers.PeerProblems):
        peers.remove_pair(course.db, course.designer, activity, pair.id + 1000)
    services.save_draft(course.db, course.ana_actor, activity, course.chloe, answers(activity),
                        based_on=0)
    with pytest.raises(peers.PeerProblems) as refused:
        peers.remove_pair(course.db, course.designer, activity, pair.id)
    assert refused.value.problems == {"pair": peers.PAIR_STARTED}
    second = peers.add_pair(course.db, course.designer, activity,
                            {"reviewer_id": str(course.ben.id), "reviewee_id": str(course.chloe.id)})
    peers.remove_pair(course.db, course.designer, activity, second.id)
    assert pairs_of(course, activity) == {(course.ana.id, course.chloe.id)}


def test_a_peer_review_uses_the_feedback_machinery_and_is_never_graded(course: Course) -> None:
    learners(course, 3)
    activity = peer_activity(course, assessors=Assessors.LINE_MANAGER)
    peers.add_pair(course.db, course.designer, activity,
                   {"reviewer_id": str(course.ana.id), "reviewee_id": str(course.ben.id)})
    revision = services.submit(course.db, course.ana_actor, activity, course.ben, answers(activity),
                               based_on=0)
    assessment = revision.assessment
    assert assessment.assessor_role is AssessorRole.PEER and assessment.status is AssessmentStatus.SUBMITTED
    assert revision.total is not None
    assert course.db.scalars(select(OutboxMessage).where(OutboxMessage.topic == "ags.score")).all() == []
    manager = services.submit(course.db, course.omar, activity, course.ben, answers(activity),
                              based_on=0)
    assert manager.assessment.assessor_role is AssessorRole.MANAGER
    assert len(course.db.scalars(select(OutboxMessage).where(OutboxMessage.topic == "ags.score")).all()) == 1
    services.withdraw(course.db, course.ana_actor, assessment, "I reviewed the wrong call.")
    assert assessment.status is AssessmentStatus.WITHDRAWN


def test_the_learner_reads_peer_reviews_beside_the_managers_and_anonymous_hides_the_reviewer(
        course: Course) -> None:
    learners(course, 3)
    activity = peer_activity(course)
    settings(course, activity)
    for reviewer in (course.ana, course.chloe):
        peers.add_pair(course.db, course.designer, activity,
                       {"reviewer_id": str(reviewer.id), "reviewee_id": str(course.ben.id)})
        services.submit(course.db, as_learner(course, reviewer), activity, course.ben,
                        answers(activity), based_on=0)
    services.submit(course.db, course.omar, activity, course.ben, answers(activity), based_on=0)
    services.submit(course.db, course.ben_actor, activity, course.ben, answers(activity), based_on=0)
    seen = services.feedback_for_learner(course.db, course.ben_actor, activity)
    assert sorted(seen.reviewers.values()) == ["Omar Haddad", "Peer reviewer 1", "Peer reviewer 2"]
    assert seen.own_revision is not None
    staff = peers.reviewer_labels(course.db, course.designer, activity, [a for a, _ in seen.given])
    assert sorted(staff.values()) == ["Ana Lima (peer)", "Chloé Martin (peer)", "Omar Haddad"]
    settings(course, activity, anonymous="")
    named = services.feedback_for_learner(course.db, course.ben_actor, activity)
    assert sorted(named.reviewers.values()) == ["Ana Lima (peer)", "Chloé Martin (peer)", "Omar Haddad"]


def test_a_peer_review_is_a_scored_statement_with_the_peer_role(course: Course, app: Flask) -> None:
    learners(course, 2)
    activity = peer_activity(course)
    peers.add_pair(course.db, course.designer, activity,
                   {"reviewer_id": str(course.ana.id), "reviewee_id": str(course.ben.id)})
    with app.app_context():
        services.submit(course.db, course.ana_actor, activity, course.ben, answers(activity), based_on=0)
    [scored] = course.db.scalars(select(Statement).where(Statement.verb == Verb.SCORED.iri)).all()
    assert scored.person_id == course.ben.id
    assert scored.body["context"]["extensions"][Extension.ASSESSOR_ROLE.iri] == "peer"


def test_every_refusal(course: Course) -> None:
    learners(course, 3)
    activity = peer_activity(course)
    feedback = course.activity()
    peers.add_pair(course.db, course.designer, activity,
                   {"reviewer_id": str(course.ana.id), "reviewee_id": str(course.ben.id)})
    # a learner who does not review Chloé, and a manager who is not hers
    assert can_assess(course.ana_actor, course.chloe, activity).message == NOT_YOUR_PERSON
    assert can_assess(course.ana_actor, course.ben, activity)
    assert can_assess(course.ben_actor, course.ana, activity).message == NOT_YOUR_PERSON
    # the route rule and the activity rule
    assert may_review_peers(course.omar).message == PEER_REVIEWERS_ONLY
    assert may_review_peers(course.designer).message == PEER_REVIEWERS_ONLY
    assert can_review_peers(course.ana_actor, feedback).message == NOT_A_PEER_ASSESSMENT
    assert can_review_peers(course.omar, activity).message == PEER_REVIEWERS_ONLY
    other = Actor(course.ana.id, "Ana", course.platform.id, course.other_context.id, CadreRole.LEARNER)
    assert can_review_peers(other, activity).status == 404
    assert can_manage_peers(course.ana_actor, activity).message == PEERS_DESIGNERS_ONLY
    assert can_manage_peers(course.omar, activity).message == PEERS_DESIGNERS_ONLY
    assert can_manage_peers(course.designer, feedback).message == NOT_A_PEER_ASSESSMENT
    for call in (lambda: peers.run_assignment(course.db, course.ana_actor, activity),
                 lambda: peers.save_settings(course.db, course.omar, activity, {}),
                 lambda: peers.add_pair(course.db, course.ana_actor, activity, {}),
                 lambda: peers.overview(course.db, course.ana_actor, activity),
                 lambda: peers.my_reviews(course.db, course.omar, activity)):
        with pytest.raises(PermissionDenied):
            call()
    # a review is the reviewer's and the reviewed learner's (once released), never a third learner's
    revision = services.submit(course.db, course.ana_actor, activity, course.ben, answers(activity),
                               based_on=0)
    chloe = as_learner(course, course.chloe)
    assert can_read_feedback(chloe, revision.assessment).status == 404
    assert can_read_feedback(course.ben_actor, revision.assessment)
    assert course.db.scalar(select(Assessment.assessor_role)) is AssessorRole.PEER
    assert peers.settings_of(course.db, activity).scope is PeerScope.COURSE


def test_the_staff_overview_and_the_reviewers_list_take_as_many_queries_for_many_learners(
    course: Course, count_queries: Callable[[], Any]
) -> None:
    learners(course, 4)
    activity = peer_activity(course)
    settings(course, activity)
    peers.run_assignment(course.db, course.designer, activity, seed=9)
    services.save_draft(course.db, course.ana_actor, activity, course.db.get(User, next(
        reviewee for reviewer, reviewee in pairs_of(course, activity) if reviewer == course.ana.id)),
        answers(activity), based_on=0)
    with count_queries() as few:
        assert len(peers.overview(course.db, course.designer, activity).reviews) == 8
        assert len(peers.my_reviews(course.db, course.ana_actor, activity)) == 2
    for number in range(20):  # twenty newcomers, placed by the next run
        user = User(platform_id=course.platform.id, sub=f"newcomer-{number}", name=f"Newcomer {number:02d}")
        course.db.add(user)
        course.db.flush()
        course.db.add(Membership(user_id=user.id, context_id=course.context.id, role=CadreRole.LEARNER))
    course.db.flush()
    assert len(peers.run_assignment(course.db, course.designer, activity).newcomers) == 20
    course.db.flush()
    given, received = peer_assignment.given_and_received(pairs_of(course, activity))
    assert len(given) == 24 and set(given.values()) == set(received.values()) == {2}  # still balanced
    with count_queries() as many:
        assert len(peers.overview(course.db, course.designer, activity).reviews) == 48
        assert len(peers.my_reviews(course.db, course.ana_actor, activity)) == 2
    assert many.count == few.count
