"""A six-month follow-up of managers' feedback, over real HTTP: the follow-up is made from the submitted
feedback, the manager assesses the learner again with the same rubric version and says what changed (bad
input kept), and the designer's change report compares each criterion, for the learner and the course."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from lti_tool.db import session_scope
from lti_tool.programme.models import FollowUp
from tests.feedback import test_pages as feedback_pages
from tests.feedback.conftest import LEVELS
from tests.feedback.test_pages import Placed, filled
from tests.fixtures.visitors import visitor_from
from tests.programme.test_pages import place_kind

placed = feedback_pages.placed  # a manager-feedback activity set up with the template rubric


def test_a_manager_assesses_the_learner_again_and_the_report_compares_criteria(
    placed: Placed, app: Flask,
) -> None:
    omar = placed.open("manager")
    form = omar.get(placed.form_path("learner-ana"))
    submitted = omar.submit(form, "feedback-form", filled(), button=("action", "submit"))
    assert submitted.texts("notice") == ["Feedback submitted."]

    link, follow_id, designer = place_kind(placed.platform, app, "six_month_follow_up", "Six months on")
    settings = designer.get(f"/activities/{follow_id}/settings")
    saved = designer.submit(settings, "follow-up-settings-form",
                            {"source_activity_id": str(placed.activity_id), "offset_days": "30"})
    assert saved.texts("kind-notice") == ["Follow-up settings saved."]

    omar_follow = visitor_from(placed.platform.launch_as("manager", activity=link), "manager")
    listed = omar_follow.get(f"/activities/{follow_id}/follow-ups")
    (entry,) = listed.attributes("follow-up")
    assert entry["data-due"] == "no"
    # Ana has not opened Cadre and the roster was not refreshed: named as such, never by her LTI id.
    assert "someone not in the course roster yet" in listed.text and "learner-ana" not in listed.text
    with session_scope(app) as session:
        follow_up_id = session.scalar(select(FollowUp.id))
        assert session.scalar(select(FollowUp.due_at)) - session.scalar(select(FollowUp.anchored_at)) \
            == timedelta(days=30)
    early = omar_follow.get(f"/activities/{follow_id}/follow-ups/{follow_up_id}")
    assert early.status == 409 and "opens on" in early.text
    with session_scope(app) as session:
        session.execute(update(FollowUp).values(due_at=datetime.now(UTC) - timedelta(hours=1)))

    page = omar_follow.get(f"/activities/{follow_id}/follow-ups/{follow_up_id}")
    assert page.status == 200 and len(page.texts("level-before")) == len(LEVELS)
    refused = omar_follow.submit(page, "follow-up-rubric-form", {"what_changed": ""})
    assert refused.status == 400
    fields = {problem["data-field"] for problem in refused.attributes("problems")}
    assert "what_changed" in fields and any(name.startswith("level-") for name in fields)
    better = {f"level-{criterion}": "role-model" for criterion in LEVELS}
    better.update({"comment-next-step": "Runs the calls herself.", "what_changed": "Confident on calls."})
    done = omar_follow.submit(page, "follow-up-rubric-form", better)
    assert done.status == 200 and done.texts("notice") == ["Thank you: your follow-up is submitted."]

    report = designer.get(f"/activities/{follow_id}/follow-ups/report")
    assert report.status == 200 and report.texts("report-counts")[0].endswith("1 of 1 follow-ups answered.")
    assert len(report.attributes("criterion-change")) == len(LEVELS)
    (learner,) = report.texts("learner-what-changed")
    assert learner == "What changed: Confident on calls."
    assert "66.67% then, 100% now" in report.text
    assert "Omar Haddad" in report.text  # feedback is not anonymous: staff see who was asked

    rita = visitor_from(placed.platform.launch_as("manager", activity=link, user="manager-rita"), "manager")
    assert rita.get(f"/activities/{follow_id}/follow-ups/{follow_up_id}").status == 404
    assert rita.get(f"/activities/{follow_id}/follow-ups").attributes("follow-up") == []
    learner_visit = visitor_from(placed.platform.launch_as("learner", activity=link), "learner")
    assert learner_visit.home.attributes("follow-ups-link") == []  # a learner who manages nobody
    assert omar_follow.home.attributes("follow-ups-link")
    assert learner_visit.get(f"/activities/{follow_id}/follow-ups").attributes("follow-up") == []
    assert learner_visit.get(f"/activities/{follow_id}/follow-ups/{follow_up_id}").status == 404
    assert learner_visit.get(f"/activities/{follow_id}/follow-ups/report").status == 403
    assert designer.get(f"/activities/{follow_id}/follow-ups").status == 403
