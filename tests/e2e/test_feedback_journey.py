"""Manager feedback end to end through the stand-in platform, as the people of a course live it (issue 8):

the designer deep-links an activity (its line item made from the content item) and configures it from the
activity; the course roster comes from the platform's Names and Role Provisioning service and names people
Cadre has never met; the designer links a manager to a learner who never opened Cadre; the manager
launches, sees that learner by the roster's name, autosaves, reloads (the draft is there) and submits; the
learner reads the explained feedback and replies, and the manager reads the reply; an edit makes a second
revision; the platform's gradebook (its page too) receives exactly one score per revision, however often
the worker runs.
"""

from __future__ import annotations

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.models import User
from lti_tool.outbox import Worker
from tests.deliverables.test_activities import activities, place, save_settings
from tests.feedback.conftest import TEMPLATE
from tests.feedback.test_pages import autosave, draft_body
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import Visitor, create_from_template, visitor_from
from tests.relationships.test_people import refresh

pytestmark = pytest.mark.e2e


def user_ids(app: Flask) -> dict[str, int]:
    with session_scope(app) as session:
        return {sub: user_id for sub, user_id in session.execute(select(User.sub, User.id))}


def test_designer_roster_manager_learner_and_gradebook_through_the_platform(
    platform: RunningPlatform, app: Flask
) -> None:
    # The designer places the activity from the platform's deep-linking launch, then opens it.
    link = place(platform, kind="manager_feedback", title="Feedback on your customer call", points="10")
    (item,) = platform.lti.line_items
    assert item["scoreMaximum"] == 10 and item["label"] == "Feedback on your customer call"

    def open_activity(role: str, user: str | None = None) -> Visitor:
        return visitor_from(platform.launch_as(role, activity=link, user=user), role)

    designer = open_activity("designer")
    # The roster from NRPS: everyone in the course, named, though only the designer has opened Cadre.
    roster = refresh(designer)
    assert roster.texts("refreshed") == [
        f"Roster refreshed from the platform: {len(platform.lti.course.people)} active member(s)."]
    ids = user_ids(app)
    assert {"learner-dev", "manager-omar"} <= set(ids)
    linked = designer.post("/people/links", {"learner_id": str(ids["learner-dev"]),
                                             "manager_id": str(ids["manager-omar"])})
    assert linked.status == 200, linked.text[:1500]

    rubric_id, _ = create_from_template(designer, TEMPLATE)
    (activity,) = activities(app)
    saved = save_settings(designer, activity.id, rubric_id=str(rubric_id), assessors="line_manager",
                          feedback_release="on_submission", work_product_required="", due_date="",
                          due_time="")
    assert saved.status == 200, saved.text[:1500]

    # The manager: his mentees from the launch and the learner the designer linked, by the roster's names.
    omar = open_activity("manager", "manager-omar")
    people = omar.get(omar.home.link("people-link"))
    names = dict(zip([row["data-learner-id"] for row in people.attributes("person")],
                     [text.partition(" Not started")[0] for text in people.texts("person")], strict=True))
    assert sorted(names.values()) == ["Ana Lima", "Ben Okafor", "Dev Patel"]
    assert "learner-dev" not in people.text and not people.texts("not-met-yet")
    path = f"/activities/{activity.id}/people/{ids['learner-dev']}/feedback"

    saved_draft = autosave(omar, path, draft_body(0, next_steps="Half written on the train"))
    assert saved_draft.status_code == 200 and saved_draft.json()["draft_revision"] == 1
    reloaded = omar.get(path)
    assert reloaded.form("feedback-form").fields["next_steps"] == "Half written on the train"
    submitted = omar.submit(reloaded, "feedback-form", {"next_steps": "Summarise at the end."},
                            button=("action", "submit"))
    assert submitted.texts("notice") == ["Feedback submitted."]

    Worker(app).drain()
    Worker(app).drain()
    (first,) = platform.lti.scores
    assert (first["userId"], first["scoreGiven"], first["scoreMaximum"]) == ("learner-dev", 6.67, 10.0)
    gradebook = httpx.get(platform.url + "/gradebook", timeout=10)
    assert gradebook.status_code == 200 and "Dev Patel" in gradebook.text and "6.67" in gradebook.text

    # The learner reads the explained feedback and replies; the manager reads the reply.
    dev = open_activity("learner", "learner-dev")
    mine = dev.get(dev.home.link("my-feedback-link"))
    assert mine.texts("explanation")[0].endswith("Total: 8 of 12 points = 66.67%")
    assert "Summarise at the end." in mine.text
    replied = dev.submit(mine, "acknowledge-form", {"reply": "Thanks: I will try it on Monday's call."})
    assert replied.status == 200 and replied.texts("acknowledged")
    assert "Thanks: I will try it on Monday's call." in omar.get(path).texts("learner-reply")[0]

    # An edit after submission is a new revision, and the gradebook gets it once, with a newer timestamp.
    again = omar.get(path)
    resubmitted = omar.submit(again, "feedback-form", {"level-consistency": "starting"},
                              button=("action", "submit"))
    assert resubmitted.texts("notice") == ["Feedback submitted."]
    for _ in range(3):
        Worker(app).drain()
    assert [score["userId"] for score in platform.lti.scores] == ["learner-dev", "learner-dev"]
    second = platform.lti.scores[1]
    assert second["scoreGiven"] == 5.0 and second["timestamp"] > first["timestamp"]
    assert dev.get(f"/activities/{activity.id}/feedback").texts("explanation")[0].endswith(
        "Total: 6 of 12 points = 50%")
