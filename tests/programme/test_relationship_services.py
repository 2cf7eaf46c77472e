"""The strategic-relationships services: a learner's map with its dated history, goals and their progress,
sharing for review (the manager's rubric review waits for it), who may read or change a map (a test for
each refusal), bad input refused field by field with nothing stored, and the designers' overview."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.feedback import services as feedback
from lti_tool.feedback.content import Draft
from lti_tool.models import Activity, User
from lti_tool.permissions import (
    RELATIONSHIP_MAP_NOT_FOUND,
    Actor,
    PermissionDenied,
    can_change_relationship_map,
    can_keep_relationship_map,
    can_read_relationship_map,
    can_read_relationship_overview,
)
from lti_tool.programme import relationship_chart
from lti_tool.programme import relationship_map as maps
from lti_tool.programme.relationship_models import (
    MappedRelationship,
    RelationshipChange,
    RelationshipGoal,
    RelationshipMap,
    RelationshipMapShare,
)
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import ActivityKind, Assessors, CadreRole, RelationshipType
from tests.feedback.conftest import TEMPLATE, complete_answers
from tests.programme.conftest import Course

DAY = date(2026, 9, 1)


def relationship(**changes: str) -> dict[str, str]:
    return {"name": "Dana Ortiz", "is_role": "", "relation_type": "mentor", "strength": "3",
            "last_contact_on": "2026-08-20", "purpose": "Perspective on the next role", **changes}


@pytest.fixture
def activity(course: Course) -> Activity:
    rubric = rubric_library.create_from_template(course.db, course.designer, TEMPLATE)
    return course.activity(ActivityKind.RELATIONSHIP_MAP, title="Your network",
                           rubric_version_id=rubric.current_version_id, assessors=Assessors.LINE_MANAGER)


def ana_map(course: Course, activity: Activity) -> RelationshipMap:
    return maps.own_map(course.db, course.ana_actor, activity)


def test_adding_changing_and_ending_keeps_a_dated_history(course: Course, activity: Activity) -> None:
    ana = course.ana_actor
    first = maps.add_relationship(course.db, ana, activity, relationship(relation_type="operational"),
                                  today=DAY)
    maps.add_relationship(course.db, ana, activity, relationship(name="Head of procurement", is_role="1",
                                                                 relation_type="strategic_partner"),
                          today=DAY + timedelta(days=3))
    found = ana_map(course, activity)
    maps.change_relationship(course.db, ana, found, first, relationship(relation_type="mentor", strength="4"),
                             today=DAY + timedelta(days=20))
    maps.change_relationship(course.db, ana, found, first,  # a purpose alone is no change of history
                             relationship(relation_type="mentor", strength="4", purpose="Career advice"),
                             today=DAY + timedelta(days=21))
    second = maps.relationships_on(course.db, found)[1]
    maps.end_relationship(course.db, ana, found, second, today=DAY + timedelta(days=40))

    changes = maps.changes_of(course.db, found)
    assert [(change.changed_on - DAY).days for change in changes] == [0, 3, 20, 40]
    assert maps.counts_on(changes, DAY)[RelationshipType.OPERATIONAL] == 1
    on_day_10 = maps.counts_on(changes, DAY + timedelta(days=10))
    assert (on_day_10[RelationshipType.OPERATIONAL], on_day_10[RelationshipType.STRATEGIC_PARTNER]) == (1, 1)
    on_day_30 = maps.counts_on(changes, DAY + timedelta(days=30))
    assert (on_day_30[RelationshipType.OPERATIONAL], on_day_30[RelationshipType.MENTOR]) == (0, 1)
    assert sum(maps.counts_on(changes, DAY + timedelta(days=41)).values()) == 1
    assert [row.name for row in maps.relationships_on(course.db, found)] == ["Dana Ortiz"]
    assert first.purpose == "Career advice" and first.strength == 4

    weeks = maps.weekly_history(changes, today=DAY + timedelta(days=45))
    assert weeks[-1].day == DAY + timedelta(days=45) and weeks[-1].strategic == 1
    assert [(week.day - DAY).days for week in weeks] == [-4, 3, 10, 17, 24, 31, 38, 45]
    assert [week.strategic for week in weeks] == [0, 1, 1, 1, 2, 2, 2, 1]
    assert maps.weekly_history([], today=DAY) == []


def test_a_goal_counts_relationships_that_became_of_its_type_in_its_dates(course: Course,
                                                                        activity: Activity) -> None:
    ana = course.ana_actor
    maps.add_relationship(course.db, ana, activity, relationship(name="Old mentor"), today=DAY)
    early = maps.add_relationship(course.db, ana, activity,
                                  relationship(name="Colleague", relation_type="operational"), today=DAY)
    maps.add_goal(course.db, ana, activity, {"goal_type": "strategic", "target": "2",
                                             "starts_on": (DAY + timedelta(days=10)).isoformat(),
                                             "ends_on": (DAY + timedelta(days=100)).isoformat(), "note": ""})
    found = ana_map(course, activity)
    (goal,) = maps.goals_of(course.db, found)

    def reached(on: date) -> int:
        return maps.goal_progress(goal, maps.changes_of(course.db, found), today=on).reached

    assert reached(DAY + timedelta(days=20)) == 0  # the mentor mapped before the goal does not count
    maps.change_relationship(course.db, ana, found, early, relationship(name="Colleague",
                                                                        relation_type="sponsor"),
                             today=DAY + timedelta(days=30))
    gone = maps.add_relationship(course.db, ana, activity, relationship(name="Short-lived",
                                                                        relation_type="mentee"),
                                 today=DAY + timedelta(days=31))
    maps.end_relationship(course.db, ana, found, gone, today=DAY + timedelta(days=35))
    assert reached(DAY + timedelta(days=40)) == 1
    maps.add_relationship(course.db, ana, activity, relationship(name="Peer at Nordwind",
                                                                 relation_type="peer_other_company"),
                          today=DAY + timedelta(days=50))
    progress = maps.goal_progress(goal, maps.changes_of(course.db, found), today=DAY + timedelta(days=60))
    assert (progress.reached, progress.met, progress.status, progress.percent) == (2, True, "met", 100)
    assert maps.goal_progress(goal, [], today=DAY + timedelta(days=200)).status == "missed"
    assert maps.goal_progress(goal, [], today=DAY).status == "not started"

    # A goal of one type counts that type only.
    maps.add_goal(course.db, ana, activity, {"goal_type": "mentee", "target": "1",
                                             "starts_on": DAY.isoformat(),
                                             "ends_on": (DAY + timedelta(days=90)).isoformat(), "note": "x"})
    mentee_goal = next(each for each in maps.goals_of(course.db, found) if each.relation_type)
    assert maps.goal_progress(mentee_goal, maps.changes_of(course.db, found),
                              today=DAY + timedelta(days=60)).reached == 0


@pytest.mark.parametrize(("changes", "fields"), [
    ({"name": "  "}, ["name"]),
    ({"name": "x" * 201}, ["name"]),
    ({"name": "Bad\x00name"}, ["name"]),
    ({"relation_type": "friend"}, ["relation_type"]),
    ({"strength": "9"}, ["strength"]),
    ({"strength": "three"}, ["strength"]),
    ({"last_contact_on": "yesterday"}, ["last_contact_on"]),
    ({"last_contact_on": "2099-01-01"}, ["last_contact_on"]),
    ({"last_contact_on": "1999-12-31"}, ["last_contact_on"]),
    ({"purpose": "p" * 2001}, ["purpose"]),
    ({"name": "", "relation_type": "", "strength": ""}, ["name", "relation_type", "strength"]),
])
def test_bad_relationships_are_refused_field_by_field_and_nothing_is_stored(
        course: Course, activity: Activity, changes: dict[str, str], fields: list[str]) -> None:
    with pytest.raises(maps.RelationshipProblems) as refused:
        maps.add_relationship(course.db, course.ana_actor, activity, relationship(**changes), today=DAY)
    assert list(refused.value.problems) == fields
    assert course.db.scalar(select(func.count(MappedRelationship.id))) == 0
    assert course.db.scalar(select(func.count(RelationshipMap.id))) == 0


@pytest.mark.parametrize(("changes", "fields"), [
    ({"goal_type": "friends"}, ["goal_type"]),
    ({"target": "0"}, ["target"]),
    ({"target": "51"}, ["target"]),
    ({"target": "2.5"}, ["target"]),
    ({"starts_on": ""}, ["starts_on"]),
    ({"ends_on": "2026-02-30"}, ["ends_on"]),
    ({"starts_on": "2026-10-01", "ends_on": "2026-09-01"}, ["ends_on"]),
    ({"starts_on": "2026-01-01", "ends_on": "2027-06-01"}, ["ends_on"]),
    ({"note": "n" * 301}, ["note"]),
])
def test_bad_goals_are_refused_field_by_field(course: Course, activity: Activity, changes: dict[str, str],
                                             fields: list[str]) -> None:
    typed = {"goal_type": "strategic", "target": "2", "starts_on": "2026-09-01", "ends_on": "2026-11-30",
             "note": "", **changes}
    with pytest.raises(maps.RelationshipProblems) as refused:
        maps.add_goal(course.db, course.ana_actor, activity, typed)
    assert list(refused.value.problems) == fields
    assert course.db.scalar(select(func.count(RelationshipGoal.id))) == 0


def test_the_managers_review_waits_for_the_shared_map(course: Course, activity: Activity,
                                                     app: object) -> None:
    """(``app``: the app's start registers the map's check with the feedback service.)"""
    omar, ana = course.omar, course.ana

    def submit() -> Any:
        return feedback.submit(course.db, omar, activity, ana, Draft(complete_answers()), based_on=0)

    with pytest.raises(maps.RelationshipError) as empty:
        maps.share(course.db, course.ana_actor, activity)
    assert empty.value.status == 409 and empty.value.message == maps.NOTHING_TO_SHARE
    with pytest.raises(feedback.DraftProblems) as waiting:
        submit()
    assert waiting.value.message == maps.NOT_SHARED_YET.format(name="Ana Lima")

    maps.add_relationship(course.db, course.ana_actor, activity, relationship(), today=DAY)
    maps.add_relationship(course.db, course.ana_actor, activity, relationship(name="Ops lead",
                                                                             relation_type="operational"))
    snapshot = maps.share(course.db, course.ana_actor, activity)
    assert (snapshot.relationships, snapshot.strategic) == (2, 1)
    assert ana_map(course, activity).shared_at is not None
    revision = submit()
    assert revision.number == 1 and revision.rubric_version_id == activity.rubric_version_id
    maps.share(course.db, course.ana_actor, activity)
    assert course.db.scalar(select(func.count(RelationshipMapShare.id))) == 2
    assert maps.map_view(course.db, ana_map(course, activity)).shares == 2


def test_who_may_read_and_change_a_map(course: Course, activity: Activity) -> None:
    ana = course.ana_actor
    maps.add_relationship(course.db, ana, activity, relationship())
    found = ana_map(course, activity)
    rita = course.managers[1]  # a manager of the course, not Ana's
    ben = Actor(course.ben.id, "Ben", course.platform.id, course.context.id, CadreRole.LEARNER)
    admin = Actor(course.designer.user_id, "Admin", course.platform.id, course.context.id, CadreRole.ADMIN)

    def reads(actor: Actor, *, staff: bool = False) -> bool:
        return bool(can_read_relationship_map(actor, found, staff_may_read=staff))

    assert reads(ana) and can_change_relationship_map(ana, found)
    assert not reads(course.omar)  # not shared yet
    for refused in (ben, rita, course.stranger, course.other_designer, course.designer, admin):
        decision = can_read_relationship_map(refused, found, staff_may_read=False)
        assert (decision.status, decision.message) == (404, RELATIONSHIP_MAP_NOT_FOUND)
    maps.share(course.db, ana, activity)
    assert reads(course.omar)
    assert not reads(rita) and not reads(ben) and not reads(course.stranger)
    assert reads(course.designer, staff=True) and reads(admin, staff=True)
    assert not reads(course.other_designer, staff=True)
    for refused in (course.omar, ben, course.designer, course.stranger):
        assert can_change_relationship_map(refused, found).status == 404
    assert not can_change_relationship_map(ana, None)
    with pytest.raises(PermissionDenied):
        maps.readable_map(course.db, ben, activity, found.id)
    with pytest.raises(PermissionDenied):
        maps.readable_map(course.db, course.omar, activity, found.id + 1000)

    # Changing someone else's relationship or goal, or one of another map, is "not found".
    (row,) = maps.relationships_on(course.db, found)
    maps.add_relationship(course.db, ben, activity, relationship(name="Ben's mentor"))
    ben_map = maps.own_map(course.db, ben, activity)
    with pytest.raises(PermissionDenied) as other_row:
        maps.own_relationship(course.db, ben, ben_map, row.id)
    assert other_row.value.decision.status == 404
    with pytest.raises(PermissionDenied):
        maps.change_relationship(course.db, ben, found, row, relationship())
    with pytest.raises(PermissionDenied):
        maps.end_relationship(course.db, course.omar, found, row)
    maps.add_goal(course.db, ana, activity, maps.empty_goal_form())
    (goal,) = maps.goals_of(course.db, found)
    with pytest.raises(PermissionDenied):
        maps.remove_goal(course.db, ben, ben_map, goal.id)
    with pytest.raises(PermissionDenied):
        maps.remove_goal(course.db, ben, found, goal.id)
    assert maps.goals_of(course.db, found) == [goal]


def test_a_moodle_manager_who_launches_as_a_learner_reads_their_persons_shared_map(
        course: Course, activity: Activity) -> None:
    chloe_row = course.db.scalars(select(User).where(User.sub == "chloe")).one()
    chloe = Actor(chloe_row.id, chloe_row.display_name, course.platform.id, course.context.id,
                  CadreRole.LEARNER)
    maps.add_relationship(course.db, chloe, activity, relationship())
    found = maps.own_map(course.db, chloe, activity)
    assert not can_read_relationship_map(course.lena, found, staff_may_read=False)  # not shared yet
    maps.share(course.db, chloe, activity)
    assert can_read_relationship_map(course.lena, found, staff_may_read=False)
    assert can_change_relationship_map(course.lena, found).status == 404
    assert not can_read_relationship_map(course.lena, ana_map_of(course, activity), staff_may_read=False)


def ana_map_of(course: Course, activity: Activity) -> RelationshipMap:
    maps.add_relationship(course.db, course.ana_actor, activity, relationship())
    maps.share(course.db, course.ana_actor, activity)
    return ana_map(course, activity)


def test_who_keeps_a_map_and_reads_the_overview(course: Course, activity: Activity) -> None:
    other_kind = course.activity(ActivityKind.COACHING_LOG)
    elsewhere = course.activity(ActivityKind.RELATIONSHIP_MAP, context=course.other_context)
    assert can_keep_relationship_map(course.ana_actor, activity)
    assert can_keep_relationship_map(course.omar, activity).status == 403
    assert can_keep_relationship_map(course.designer, activity).status == 403
    assert can_keep_relationship_map(course.ana_actor, other_kind).status == 404
    assert can_keep_relationship_map(course.ana_actor, elsewhere).status == 404
    assert can_read_relationship_overview(course.designer, activity)
    assert can_read_relationship_overview(course.omar, activity).status == 403
    assert can_read_relationship_overview(course.ana_actor, activity).status == 403
    assert can_read_relationship_overview(course.other_designer, activity).status == 404
    assert can_read_relationship_overview(course.designer, other_kind).status == 404
    with pytest.raises(PermissionDenied):
        maps.map_activity(course.db, course.ana_actor, other_kind.id)
    with pytest.raises(PermissionDenied):
        maps.map_activity(course.db, course.ana_actor, elsewhere.id)
    with pytest.raises(PermissionDenied):
        maps.save_settings(course.db, course.omar, activity, staff_may_read=True)


def test_the_overview_shows_figures_only_with_the_setting(
        course: Course, activity: Activity, app: object, count_queries: Callable[[], Any]) -> None:
    def learner(number: int) -> Actor:
        row = User(platform_id=course.platform.id, sub=f"learner-{number}", name=f"Learner {number:02}")
        course.db.add(row)
        course.db.flush()
        return Actor(row.id, row.display_name, course.platform.id, course.context.id, CadreRole.LEARNER)

    def add_learners(count: int, start: int) -> None:
        for number in range(start, start + count):
            actor = learner(number)
            maps.add_relationship(course.db, actor, activity, relationship())
            maps.add_relationship(course.db, actor, activity, relationship(relation_type="operational"))

    add_learners(2, 0)
    hidden = maps.overview(course.db, course.designer, activity)
    assert (hidden.maps, hidden.shared, hidden.learners) == (2, 0, None)
    maps.save_settings(course.db, course.designer, activity, staff_may_read=True)
    with count_queries() as few:
        shown = maps.overview(course.db, course.designer, activity)
    assert [(row.relationships, row.strategic) for row in shown.learners or []] == [(2, 1), (2, 1)]
    add_learners(6, 10)
    with count_queries() as many:
        assert len(maps.overview(course.db, course.designer, activity).learners or []) == 8
    assert many.count == few.count


def test_the_network_picture_and_the_history_chart(course: Course, activity: Activity) -> None:
    ana = course.ana_actor
    for name, kind, strength in (("Mentor A", "mentor", "5"), ("Ops B", "operational", "1"),
                                 ("Ops C", "operational", "3")):
        maps.add_relationship(course.db, ana, activity, relationship(name=name, relation_type=kind,
                                                                     strength=strength), today=DAY)
    view = maps.map_view(course.db, ana_map(course, activity), today=DAY + timedelta(days=14))
    picture = relationship_chart.network_picture("net", "The network", view.relationships)
    assert [node.strategic for node in picture.nodes] == [False, False, True]
    assert [sector.text for sector in picture.sectors] == ["Operational (2)", "Mentor (1)"]
    assert picture.description.startswith("3 relationships: 1 strategic, 2 operational.")
    centre = (picture.centre_x, picture.centre_y)
    weak, mentor = picture.nodes[0], picture.nodes[2]
    distance = [((node.x - centre[0]) ** 2 + (node.y - centre[1]) ** 2) ** 0.5 for node in (mentor, weak)]
    assert distance[0] < distance[1]  # stronger is nearer the centre
    assert relationship_chart.network_picture("net", "Empty", []).empty

    chart = relationship_chart.history_chart("history", "Over time", view.history)
    assert [point.label for point in chart.series[0].points][-1].endswith(": 1")
    assert [tick.label for tick in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert "strategic relationships went from 1 to 1" in chart.description
    assert course.db.scalar(select(func.count(RelationshipChange.id))) == 3
