"""Peer coaching's services: groups formed at random are pairs or triads with nobody left alone (hypothesis),
newcomers join without breaking a group, the designer's groups, sessions with the reflection template and
their bad input, who reads and changes what, and the xAPI statement per member."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lti_tool.db import utcnow
from lti_tool.models import Activity, Membership, User
from lti_tool.permissions import (
    NOT_PEER_COACHING,
    PEER_COACHING_LEARNERS_ONLY,
    PEER_GROUP_NOT_FOUND,
    PEER_GROUPS_DESIGNERS_ONLY,
    PEER_SESSION_NOT_FOUND,
    Actor,
    PermissionDenied,
    can_join_peer_coaching,
    can_manage_peer_groups,
    may_peer_coach,
)
from lti_tool.programme import peer_coaching
from lti_tool.programme.errors import ProgrammeError
from lti_tool.programme.peer_coaching_models import PeerCoachingMember
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind, CadreRole
from tests.feedback.conftest import Course, course  # noqa: F401 - the fixture
from xapi.vocabulary import Verb


@settings(max_examples=200, deadline=None)
@given(people=st.sets(st.integers(1, 500), max_size=40), size=st.sampled_from([2, 3]),
       seed=st.integers(0, 2**32))
def test_random_groups_are_pairs_or_triads_and_nobody_is_alone_or_twice(people: set[int], size: int,
                                                                       seed: int) -> None:
    groups = peer_coaching.form_groups(sorted(people), size, seed)
    members = [person for group in groups for person in group]
    assert sorted(members) == (sorted(people) if len(people) >= 2 else [])
    assert all(len(group) in (2, 3) for group in groups)
    if size == 2:
        assert sum(len(group) == 3 for group in groups) <= 1
    assert groups == peer_coaching.form_groups(sorted(people, reverse=True), size, seed)


@settings(max_examples=150, deadline=None)
@given(existing=st.lists(st.integers(2, 3), max_size=8), newcomers=st.integers(0, 7),
       size=st.sampled_from([2, 3]), seed=st.integers(0, 2**32))
def test_newcomers_join_pairs_or_form_groups_and_no_group_exceeds_three(existing: list[int], newcomers: int,
                                                                         size: int, seed: int) -> None:
    groups, person = {}, 0
    for group_id, count in enumerate(existing):
        groups[group_id] = list(range(person, person + count))
        person += count
    arriving = list(range(1000, 1000 + newcomers))
    joins, new_groups = peer_coaching.place_newcomers(groups, arriving, size, seed)
    placed = [p for group in new_groups for p in group] + [p for people in joins.values() for p in people]
    assert len(placed) == len(set(placed)) and set(placed) <= set(arriving)
    assert all(len(groups[group_id]) + len(people) <= 3 for group_id, people in joins.items())
    left = len(arriving) - len(placed)
    assert left <= 1 and (left == 0 or not any(len(members) == 2 for members in groups.values()))


def test_groups_of_four_or_one_are_refused() -> None:
    with pytest.raises(ValueError, match="pairs or triads"):
        peer_coaching.form_groups([1, 2, 3, 4], 4, 1)


def _learners(course: Course, count: int) -> list[User]:  # noqa: F811
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


def _actor(course: Course, user: User) -> Actor:  # noqa: F811
    return Actor(user.id, user.display_name, course.platform.id, course.context.id, CadreRole.LEARNER)


def _activity(course: Course) -> Activity:  # noqa: F811
    return course.activity(kind=ActivityKind.PEER_COACHING, points=None, line_item_url=None)


def fields(presenter: User, **changes: str) -> dict[str, str]:
    return {"held_on": utcnow().date().isoformat(), "presenter_id": str(presenter.id),
            "experience": "A team member missed a deadline twice.", "idea": "Coach before you tell",
            "own_idea": "", "reflection": "I told instead of asking.", "next_step": "Ask first.", **changes}


def test_forming_at_random_then_placing_a_newcomer(course: Course) -> None:  # noqa: F811
    _learners(course, 5)
    activity = _activity(course)
    peer_coaching.save_settings(course.db, course.designer, activity, {"group_size": "2", "ideas": ""})
    result = peer_coaching.form_at_random(course.db, course.designer, activity, seed=5)
    assert (result.new_groups, result.waiting) == (2, 0)  # a pair and a triad
    groups, waiting = peer_coaching.overview(course.db, course.designer, activity)
    assert sorted(len(summary.members) for summary in groups) == [2, 3] and waiting == []
    late = User(platform_id=course.platform.id, sub="late", name="Late Joiner")
    course.db.add(late)
    course.db.flush()
    course.db.add(Membership(user_id=late.id, context_id=course.context.id, role=CadreRole.LEARNER))
    course.db.flush()
    again = peer_coaching.form_at_random(course.db, course.designer, activity, seed=5)
    assert (again.new_groups, again.joined, again.waiting) == (0, 1, 0)
    groups, _ = peer_coaching.overview(course.db, course.designer, activity)
    assert sorted(len(summary.members) for summary in groups) == [3, 3]


def test_the_designers_group_and_its_bad_input(course: Course) -> None:  # noqa: F811
    people = _learners(course, 4)
    activity = _activity(course)
    ids = [str(user.id) for user in people]
    group = peer_coaching.create_group(course.db, course.designer, activity, ids[:2])
    assert group.number == 1
    for chosen in ([ids[2]], ids, [ids[0], ids[2]], [ids[2], ids[2]], [ids[2], "x"], [ids[2], "999999"]):
        with pytest.raises(peer_coaching.CoachingProblems) as refused:
            peer_coaching.create_group(course.db, course.designer, activity, chosen)
        assert refused.value.problems == {"members": peer_coaching.NOT_LEARNERS}
    with pytest.raises(peer_coaching.CoachingProblems):
        peer_coaching.save_settings(course.db, course.designer, activity, {"group_size": "4", "ideas": ""})
    with pytest.raises(peer_coaching.CoachingProblems) as refused:
        peer_coaching.save_settings(course.db, course.designer, activity,
                                    {"group_size": "2", "ideas": "x" * 201})
    assert list(refused.value.problems) == ["ideas"]


def test_a_session_is_logged_with_the_template_read_by_the_group_and_staff_only(course: Course,  # noqa: F811
                                                                              app: Flask) -> None:
    ana, ben, chloe = _learners(course, 3)
    activity = _activity(course)
    peer_coaching.save_settings(course.db, course.designer, activity,
                                {"group_size": "2", "ideas": "Coach before you tell\nThe 80/20 model"})
    group = peer_coaching.create_group(course.db, course.designer, activity, [str(ana.id), str(ben.id)])
    with app.app_context():
        row = peer_coaching.log_session(course.db, _actor(course, ana), activity, fields(ben))
    assert (row.idea, row.presenter_id, row.author_id) == ("Coach before you tell", ben.id, ana.id)
    statements = course.db.scalars(select(Statement).where(Statement.verb == Verb.ATTENDED.iri)).all()
    assert sorted(statement.person_id for statement in statements) == sorted([ana.id, ben.id])
    assert all("missed a deadline" not in str(statement.body) for statement in statements)
    assert [len(s.body["context"]["team"]["member"]) for s in statements] == [1, 1]

    assert peer_coaching.sessions_of(course.db, _actor(course, ben), group) == [row]
    assert peer_coaching.sessions_of(course.db, course.designer, group) == [row]
    with pytest.raises(PermissionDenied) as refused:
        peer_coaching.sessions_of(course.db, _actor(course, chloe), group)
    assert refused.value.decision.message == PEER_GROUP_NOT_FOUND
    with pytest.raises(PermissionDenied) as refused:
        peer_coaching.readable_group(course.db, course.omar, activity, group.id)
    # only its author changes it
    with pytest.raises(PermissionDenied) as refused:
        peer_coaching.own_session(course.db, _actor(course, ben), activity, row.id)
    assert refused.value.decision.message == PEER_SESSION_NOT_FOUND
    changed = peer_coaching.change_session(course.db, _actor(course, ana), row,
                                           fields(ana, idea=peer_coaching.OWN_IDEA, own_idea="Listening"))
    assert (changed.idea, changed.presenter_id) == ("Listening", ana.id)
    # once out of the group, the author no longer changes it; it stays in the group's log
    peer_coaching.remove_member(course.db, course.designer, activity, group.id, ana.id)
    with pytest.raises(PermissionDenied):
        peer_coaching.own_session(course.db, _actor(course, ana), activity, row.id)
    assert peer_coaching.sessions_of(course.db, _actor(course, ben), group) == [row]
    with pytest.raises(peer_coaching.CoachingProblems) as kept:
        peer_coaching.dissolve_group(course.db, course.designer, activity, group.id)
    assert kept.value.problems == {"members": peer_coaching.GROUP_HAS_SESSIONS}


@pytest.mark.parametrize(("changes", "wrong"), [
    ({"held_on": "yesterday"}, ["held_on"]),
    ({"held_on": (utcnow().date() + timedelta(days=3)).isoformat()}, ["held_on"]),
    ({"held_on": "1999-12-31"}, ["held_on"]),
    ({"presenter_id": "999999"}, ["presenter_id"]),
    ({"experience": "  "}, ["experience"]),
    ({"experience": "x" * 4001}, ["experience"]),
    ({"idea": "Something else"}, ["idea"]),
    ({"idea": peer_coaching.OWN_IDEA, "own_idea": ""}, ["idea"]),
    ({"reflection": ""}, ["reflection"]),
    ({"next_step": "bad\x00byte"}, ["next_step"]),
])
def test_bad_sessions_are_refused_by_field_and_nothing_is_stored(course: Course, changes: dict[str, str],  # noqa: F811
                                                                 wrong: list[str]) -> None:
    ana, ben = _learners(course, 2)
    activity = _activity(course)
    peer_coaching.save_settings(course.db, course.designer, activity,
                                {"group_size": "2", "ideas": "Coach before you tell"})
    group = peer_coaching.create_group(course.db, course.designer, activity, [str(ana.id), str(ben.id)])
    with pytest.raises(peer_coaching.CoachingProblems) as refused:
        peer_coaching.log_session(course.db, _actor(course, ana), activity, fields(ben, **changes))
    assert list(refused.value.problems) == wrong
    assert peer_coaching.sessions_of(course.db, _actor(course, ana), group) == []


def test_every_refusal(course: Course) -> None:  # noqa: F811
    ana, ben, chloe = _learners(course, 3)
    activity = _activity(course)
    feedback = course.activity()
    assert may_peer_coach(course.omar).message == PEER_COACHING_LEARNERS_ONLY
    assert may_peer_coach(course.designer).message == PEER_COACHING_LEARNERS_ONLY
    assert can_join_peer_coaching(_actor(course, ana), feedback).message == NOT_PEER_COACHING
    assert can_join_peer_coaching(course.omar, activity).status == 403
    other = Actor(ana.id, "Ana", course.platform.id, course.other_context.id, CadreRole.LEARNER)
    assert can_join_peer_coaching(other, activity).status == 404
    assert can_manage_peer_groups(_actor(course, ana), activity).message == PEER_GROUPS_DESIGNERS_ONLY
    assert can_manage_peer_groups(course.omar, activity).message == PEER_GROUPS_DESIGNERS_ONLY
    assert can_manage_peer_groups(course.designer, feedback).message == NOT_PEER_COACHING
    for call in (lambda: peer_coaching.form_at_random(course.db, _actor(course, ana), activity),
                 lambda: peer_coaching.create_group(course.db, course.omar, activity, []),
                 lambda: peer_coaching.save_settings(course.db, _actor(course, ana), activity, {}),
                 lambda: peer_coaching.overview(course.db, course.omar, activity),
                 lambda: peer_coaching.my_group(course.db, course.omar, activity)):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(ProgrammeError, match="no peer-coaching group"):
        peer_coaching.log_session(course.db, _actor(course, chloe), activity, fields(chloe))
    with pytest.raises(PermissionDenied):
        peer_coaching.remove_member(course.db, course.designer, activity, 999999, ana.id)
    group = peer_coaching.create_group(course.db, course.designer, activity, [str(ana.id), str(ben.id)])
    with pytest.raises(peer_coaching.CoachingProblems):
        peer_coaching.remove_member(course.db, course.designer, activity, group.id, chloe.id)
    peer_coaching.dissolve_group(course.db, course.designer, activity, group.id)
    assert course.db.scalars(select(PeerCoachingMember)).all() == []


def test_the_groups_overview_takes_as_many_queries_for_many_groups(
    course: Course, count_queries: Callable[[], Any]  # noqa: F811
) -> None:
    _learners(course, 4)
    activity = _activity(course)
    peer_coaching.form_at_random(course.db, course.designer, activity, seed=1)
    course.db.flush()
    with count_queries() as few:
        groups, waiting = peer_coaching.overview(course.db, course.designer, activity)
    assert (len(groups), waiting) == (2, [])
    for number in range(20):
        user = User(platform_id=course.platform.id, sub=f"newcomer-{number}", name=f"Newcomer {number:02d}")
        course.db.add(user)
        course.db.flush()
        course.db.add(Membership(user_id=user.id, context_id=course.context.id, role=CadreRole.LEARNER))
    peer_coaching.form_at_random(course.db, course.designer, activity, seed=2)
    course.db.flush()
    with count_queries() as many:
        groups, waiting = peer_coaching.overview(course.db, course.designer, activity)
    assert (len(groups), waiting) == (12, [])
    assert many.count == few.count
