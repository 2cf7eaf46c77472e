"""The strategic-relationships pages over real HTTP from the demo platform: the learner maps, changes and
takes off relationships, sets a goal and shares the map; the manager reads it and reviews it with the
rubric (refused before it is shared, a score to the gradebook after); bad input comes back beside the
fields with what was typed kept; every other person is refused; the landing page leads to the pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.models import User
from lti_tool.outbox import Worker
from lti_tool.permissions import RELATIONSHIP_MAP_LEARNERS_ONLY, RELATIONSHIP_MAP_NOT_FOUND
from lti_tool.programme.relationship_map import NOT_SHARED_YET, NOTHING_TO_SHARE
from lti_tool.programme.relationship_models import MappedRelationship, RelationshipGoal, RelationshipMap
from lti_tool.records.models import Statement
from tests.audit.helpers import create_from_template
from tests.deliverables.test_activities import activities, place, save_settings
from tests.feedback.conftest import TEMPLATE
from tests.feedback.test_pages import AGS_ENDPOINT, filled
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, visitor_from

SUBMIT = "http://activitystrea.ms/submit"


@dataclass
class Placed:
    platform: RunningPlatform
    app: Flask
    link: str
    activity_id: int
    endpoint: dict[str, Any]

    def open(self, role: str, *, user: str | None = None, **options: Any) -> Visitor:
        claims = {AGS_ENDPOINT: self.endpoint, **options.pop("claims", {})}
        return visitor_from(self.platform.launch_as(role, activity=self.link, user=user, claims=claims,
                                                    **options), role)

    @property
    def path(self) -> str:
        return f"/activities/{self.activity_id}/relationships"

    def map_id(self, sub: str) -> int:
        with session_scope(self.app) as session:
            found = session.scalar(select(RelationshipMap.id).join(User, User.id == RelationshipMap.owner_id)
                                   .where(User.sub == sub))
        assert found is not None
        return found

    def user_id(self, sub: str) -> int:
        with session_scope(self.app) as session:
            found = session.scalar(select(User.id).where(User.sub == sub))
        assert found is not None
        return found


@pytest.fixture
def placed(platform: RunningPlatform, app: Flask) -> Placed:
    """A strategic-relationships activity out of 10 points, reviewed by line managers with the template
    rubric; its line item on the demo platform."""
    link = place(platform, kind="relationship_map", title="Your strategic network", points="10")
    course = platform.lti.course
    endpoint = {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                          "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": platform.lti.url(f"/api/contexts/{course.context_id}/lineitems"),
                "lineitem": platform.lti.url(f"/api/contexts/{course.context_id}/lineitems/1")}
    designer = visitor_from(platform.launch_as("designer", activity=link, claims={AGS_ENDPOINT: endpoint}),
                            "designer")
    rubric_id, _ = create_from_template(designer, TEMPLATE)
    (activity,) = activities(app)
    saved = save_settings(designer, activity.id, title="Your strategic network", rubric_id=str(rubric_id),
                          assessors="line_manager", feedback_release="on_submission",
                          work_product_required="", due_date="", due_time="", points_possible="10",
                          grades_to_lms="1")
    assert saved.status == 200, saved.text[:1500]
    return Placed(platform, app, link, activity.id, endpoint)


def relationship(**changes: str) -> dict[str, str]:
    return {"name": "Dana Ortiz", "relation_type": "mentor", "strength": "4", "last_contact_on": "2026-11-20",
            "purpose": "Perspective on the regional role", **changes}


def fields_of(page: Page, testid: str, **values: str) -> dict[str, str]:
    form = page.form(testid)
    return {**form.fields, **values}


def test_the_learner_maps_sets_a_goal_shares_and_the_manager_reviews(placed: Placed, app: Flask) -> None:
    ana = placed.open("learner", user="learner-ana")
    mine = ana.get(ana.home.link("my-map-link"))
    assert mine.status == 200 and mine.texts("relationships-empty") and mine.texts("history-empty")
    refused_share = ana.post(f"{placed.path}/share", fields_of(mine, "share-form"))
    assert refused_share.status == 409 and NOTHING_TO_SHARE in refused_share.text

    added = ana.post(placed.path, relationship())
    assert added.status == 200 and added.texts("notice") == ["Relationship added to your map."]
    ana.post(placed.path, relationship(name="Rota planner", relation_type="operational", strength="2",
                                       last_contact_on=""))
    ana.post(placed.path, relationship(name="Head of procurement", is_role="1",
                                       relation_type="strategic_partner", strength="1"))
    page = ana.get(placed.path)
    assert page.texts("map-counts") == ["3 relationships: 2 strategic, 1 operational"]
    assert [row["data-type"] for row in page.attributes("relationship-row")] == [
        "mentor", "strategic_partner", "operational"]
    assert len(page.attributes("network-node")) == 3 and "(a role)" in page.text
    assert page.texts("history-strategic")[-1] == "2"

    goal = ana.post(f"{placed.path}/goals", fields_of(page, "goal-form", goal_type="strategic", target="2"))
    assert goal.texts("notice") == ["Goal set."]
    assert goal.texts("goal-reached") == ["2"] and goal.attributes("goal")[0]["data-status"] == "met"

    omar = placed.open("manager")
    people_path = f"/activities/{placed.activity_id}/relationship-maps"
    assert omar.home.texts("maps-people-link") == ["Open your people's maps"]
    before = omar.get(people_path)
    assert before.status == 200 and "Not shared yet" in before.text
    form_path = f"/activities/{placed.activity_id}/people/{placed.user_id('learner-ana')}/feedback"
    form = omar.get(form_path)
    assert form.status == 200 and form.texts("map-not-shared")
    early = omar.submit(form, "feedback-form", filled(), button=("action", "submit"))
    assert early.status == 400
    assert NOT_SHARED_YET.format(name="Ana").replace("Ana", "").split(":")[0] in early.text
    map_path = f"/activities/{placed.activity_id}/relationship-maps/{placed.map_id('learner-ana')}"
    assert omar.get(map_path).status == 404  # not shared: the map does not exist for the manager

    shared = ana.post(f"{placed.path}/share", fields_of(page, "share-form"))
    assert shared.texts("notice") == ["Your map is shared with your manager for review."]
    with session_scope(app) as session:
        submitted = [row for row in session.scalars(select(Statement)) if row.verb == SUBMIT
                     and row.activity_kind == "relationship_map"]
        assert len(submitted) == 1 and "Dana Ortiz" not in str(submitted[0].body)

    listed = omar.get(people_path)
    assert listed.texts("read-map-link") and listed.texts("review-link")
    read = omar.get(map_path)
    assert read.status == 200 and read.texts("map-counts") == ["3 relationships: 2 strategic, 1 operational"]
    assert "Dana Ortiz" in read.text and read.texts("review-link")
    form = omar.get(form_path)
    assert form.texts("map-for-review") and "Dana Ortiz" in form.text
    submitted = omar.submit(form, "feedback-form", filled(), button=("action", "submit"))
    assert submitted.status == 200 and submitted.texts("notice") == ["Feedback submitted."]
    Worker(app).drain()
    (score,) = placed.platform.lti.scores
    assert score["userId"] == "learner-ana" and score["scoreGiven"] == 6.67

    feedback = ana.get(ana.home.link("my-review-link"))
    assert feedback.status == 200 and feedback.texts("explanation")[0].endswith("= 66.67%")


def test_changing_and_taking_off_a_relationship(placed: Placed, app: Flask) -> None:
    ana = placed.open("learner", user="learner-ana")
    ana.post(placed.path, relationship())
    with session_scope(app) as session:
        row_id = session.scalar(select(MappedRelationship.id))
    path = f"{placed.path}/{row_id}"
    edit = ana.get(path)
    assert edit.status == 200 and edit.form("relationship-form").fields["name"] == "Dana Ortiz"
    refused = ana.post(path, relationship(strength="7", name=""))
    assert refused.status == 400
    assert [item["data-field"] for item in refused.attributes("problems")] == ["name", "strength"]
    assert refused.form("relationship-form").fields["purpose"] == "Perspective on the regional role"
    changed = ana.post(path, relationship(relation_type="sponsor", strength="5"))
    assert changed.texts("notice") == ["Relationship changed."]
    assert changed.attributes("relationship-row")[0]["data-type"] == "sponsor"
    ended = ana.post(path, {**relationship(), "action": "end"})
    assert ended.texts("notice")[0].startswith("Relationship taken off your map.")
    assert ended.texts("relationships-empty")
    assert ana.get(path).status == 404  # off the map: not editable any more
    with session_scope(app) as session:
        assert session.scalar(select(func.count(MappedRelationship.id))) == 1  # kept for the history


def test_bad_input_comes_back_beside_the_fields_and_nothing_is_stored(placed: Placed, app: Flask) -> None:
    ana = placed.open("learner", user="learner-ana")
    refused = ana.post(placed.path, relationship(name="x" * 201, relation_type="friend", strength="",
                                                 last_contact_on="last week", purpose="ok"))
    assert refused.status == 400
    assert [item["data-field"] for item in refused.attributes("problems")] == [
        "name", "relation_type", "strength", "last_contact_on"]
    assert refused.form("relationship-form").fields["last_contact_on"] == "last week"
    page = ana.get(placed.path)
    goal = ana.post(f"{placed.path}/goals", fields_of(page, "goal-form", goal_type="strategic", target="zero",
                                                      starts_on="2026-12-01", ends_on="2026-11-01", note=""))
    assert goal.status == 400
    assert [item["data-field"] for item in goal.attributes("problems")] == ["target", "ends_on"]
    assert goal.form("goal-form").fields["target"] == "zero"
    with session_scope(app) as session:
        assert session.scalar(select(func.count(MappedRelationship.id))) == 0
        assert session.scalar(select(func.count(RelationshipMap.id))) == 0
    settings = placed.open("designer").post(f"/activities/{placed.activity_id}/relationship-maps/settings",
                                            {"staff_may_read": "yes"})
    assert settings.status == 400


def test_everyone_else_is_refused(placed: Placed) -> None:
    ana = placed.open("learner", user="learner-ana")
    ana.post(placed.path, relationship())
    ana.post(f"{placed.path}/share", fields_of(ana.get(placed.path), "share-form"))
    ana.post(f"{placed.path}/goals", fields_of(ana.get(placed.path), "goal-form"))
    map_path = f"/activities/{placed.activity_id}/relationship-maps/{placed.map_id('learner-ana')}"

    ben = placed.open("learner", user="learner-ben")
    assert ben.get(map_path).status == 404 and RELATIONSHIP_MAP_NOT_FOUND in ben.get(map_path).text
    with session_scope(placed.app) as session:
        row_id = session.scalar(select(MappedRelationship.id))
    for page in (ben.get(f"{placed.path}/{row_id}"), ben.post(f"{placed.path}/{row_id}", relationship()),
                 ben.post(f"{placed.path}/{row_id}", {"action": "end"})):
        assert page.status == 404
    manager = placed.open("manager")
    assert manager.get(placed.path).status == 403 and RELATIONSHIP_MAP_LEARNERS_ONLY in manager.get(
        placed.path).text
    assert manager.post(placed.path, relationship()).status == 403
    designer = placed.open("designer")
    assert designer.get(map_path).status == 404  # maps are private unless the setting says otherwise
    overview = designer.get(f"/activities/{placed.activity_id}/relationship-maps")
    assert overview.texts("map-totals") == ["1 learner has started a map; 1 shared it for review."]
    assert "Dana Ortiz" not in overview.text and not overview.texts("map-overview-row")
    turned_on = designer.submit(overview, "map-settings-form", {"staff_may_read": "1"})
    assert turned_on.texts("notice") == ["Setting saved."] and len(turned_on.texts("map-overview-row")) == 1
    assert designer.get(map_path).status == 200
    for link in ("staff-feedback-link",):  # the reviews and the dashboard of the activity open for staff
        assert designer.get(turned_on.link(link)).status == 200
    assert designer.get(f"/activities/{placed.activity_id}/dashboard").status == 200
    with session_scope(placed.app) as session:
        goal_id = session.scalar(select(RelationshipGoal.id))
    assert goal_id is not None
    for someone in (ben, manager):  # another learner's goal, or a manager's guess: "not found" or not theirs
        refused_goal = someone.post(f"{placed.path}/goals/{goal_id}/remove", {})
        assert refused_goal.status in (403, 404)
    assert ben.post(f"{placed.path}/goals/{goal_id}/remove", {}).status == 404
    assert manager.post(f"{placed.path}/share", {}).status == 403
    assert ana.post(f"{placed.path}/goals/{goal_id + 99}/remove", {}).status == 404
    assert ana.post(f"/activities/{placed.activity_id}/relationship-maps/settings",
                    {"staff_may_read": ""}).status == 403
    other_course = placed.open("designer", claims={"context": OTHER_COURSE})
    assert other_course.get(map_path).status == 404
    assert other_course.get(f"/activities/{placed.activity_id}/relationship-maps").status == 404
    other_learner = placed.open("learner", user="learner-ana", claims={"context": OTHER_COURSE})
    assert other_learner.get(placed.path).status == 404
    assert ana.home.texts("my-map-link") == ["Open your relationship map"]
    assert designer.home.texts("maps-overview-link") == ["Open the overview"]
