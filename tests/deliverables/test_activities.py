"""Activities from the outside: placed by deep linking (with a gradebook line item), bound at the first
launch, configured by the course's designer, pinned to a rubric version, refused to everyone else."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lti_tool.lti.launch import DEEP_LINKING_REQUEST
from lti_tool.models import Activity, OutboxMessage, Rubric
from lti_tool.outbox.worker import Worker
from lti_tool.permissions import ACTIVITY_DESIGNERS_ONLY, ACTIVITY_NOT_FOUND
from lti_tool.states import ActivityKind, Assessors, FeedbackRelease, OutboxStatus
from tests.audit.helpers import create_from_template
from tests.fixtures.platform import RunningPlatform, submit_form
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, visitor_from

CLAIM_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


def activities(app: Flask) -> list[Activity]:
    with app.extensions["cadre.sessionmaker"]() as session:
        return list(session.scalars(
            select(Activity).options(joinedload(Activity.rubric_version)).order_by(Activity.id)
        ))


def place(platform: RunningPlatform, *, kind: str = "manager_feedback",
          title: str = "Feedback from your manager", points: str = "",
          claims: dict[str, Any] | None = None) -> str:
    """Deep-link an activity into the course; the resource link id the platform gave it."""
    placing = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST, claims=claims or {})
    returned = placing.submit({"kind": kind, "title": title, "points": points})
    assert returned.status_code == 200, returned.text[:1500]
    received = submit_form(placing.client, returned)
    assert received.status_code == 200, received.text[:1500]
    return platform.lti.course.activities[-1].resource_link_id


@pytest.fixture
def open_activity(platform: RunningPlatform) -> Callable[..., Visitor]:
    def launch(role: str, resource_link_id: str, **options: Any) -> Visitor:
        return visitor_from(platform.launch_as(role, activity=resource_link_id, **options), role)

    return launch


def settings_form(**changes: str) -> dict[str, str]:
    form = {
        "title": "Feedback from your manager", "instructions": "Record a **customer call**.",
        "manager_briefing": "Look for *empathy* first.", "rubric_id": "", "due_date": "2027-03-31",
        "due_time": "17:00", "due_timezone": "Europe/Paris", "points_possible": "10", "grades_to_lms": "1",
        "assessors": "any_manager", "work_product_required": "1", "feedback_release": "when_released",
    }
    form.update(changes)
    return form


def save_settings(designer: Visitor, activity_id: int, **changes: str) -> Page:
    """Open the settings page and submit its form with the settings typed in."""
    page = designer.get(f"/activities/{activity_id}/settings")
    assert page.status == 200, page.text[:1500]
    return designer.submit(page, "settings-form", settings_form(**changes))


def test_deep_linking_creates_the_activity_and_a_line_item(platform: RunningPlatform, app: Flask) -> None:
    place(platform, kind="work_product_review", title="Review of your call notes", points="12.5")

    (activity,) = activities(app)
    assert activity.kind is ActivityKind.WORK_PRODUCT_REVIEW and activity.title == "Review of your call notes"
    assert activity.points_possible == Decimal("12.5") and activity.grades_to_lms
    assert activity.work_product_required
    assert activity.resource_link_id is None and activity.configured_at is None
    (received,) = platform.deep_link_returns
    (item,) = received.claims[CLAIM_CONTENT_ITEMS]
    assert item["custom"] == {"cadre_kind": "work_product_review", "cadre_activity": activity.public_id}
    assert item["lineItem"] == {"scoreMaximum": 12.5, "label": "Review of your call notes",
                                "resourceId": activity.public_id, "tag": "work_product_review"}


def test_an_ungraded_activity_has_no_line_item_and_bad_points_are_refused(
    platform: RunningPlatform, app: Flask
) -> None:
    place(platform, kind="self_assessment", title="Rate yourself")
    (item,) = platform.deep_link_returns[-1].claims[CLAIM_CONTENT_ITEMS]
    assert "lineItem" not in item and platform.lti.line_items == []
    (activity,) = activities(app)
    assert activity.assessors is Assessors.LEARNER and activity.points_possible is None

    placing = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST)
    for points, message in (("ten", "as a number"), ("-3", "more than 0"), ("1e999999999", "as a number"),
                            ("3.333", "two decimals")):
        refused = placing.submit({"kind": "manager_feedback", "title": "x", "points": points})
        assert refused.status_code == 400 and message in refused.text, points
        assert 'name="JWT"' not in refused.text
    assert len(activities(app)) == 1


def test_the_designers_home_page_speaks_only_of_the_settings_a_kind_has(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    coaching = open_activity("designer", place(platform, kind="coaching_log", title="Coaching log"))
    assert "choose its rubric" not in " ".join(coaching.home.texts("activity-not-set-up"))
    (activity,) = activities(app)
    assert save_settings(coaching, activity.id).status == 200
    again = open_activity("designer", activity_resource_link(app, activity.id))
    assert again.home.texts("activity-setup") and not again.home.texts("activity-rubric")
    assert "Not graded" not in " ".join(again.home.texts("activity-setup"))

    feedback = open_activity("designer", place(platform, title="Feedback"))
    assert "choose its rubric" in " ".join(feedback.home.texts("activity-not-set-up"))


def activity_resource_link(app: Flask, activity_id: int) -> str:
    with app.extensions["cadre.sessionmaker"]() as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None and activity.resource_link is not None
        return activity.resource_link.resource_link_id


def test_the_first_launch_binds_the_placement_and_a_copied_course_gets_its_own_copy(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    link = place(platform)
    designer = open_activity("designer", link)
    assert designer.home.texts("activity-not-set-up")
    (activity,) = activities(app)
    assert activity.resource_link_id is not None
    saved = save_settings(designer, activity.id)
    assert saved.status == 200 and saved.texts("notice") == ["Settings saved."]

    open_activity("learner", link)  # the same placement: still one activity
    assert len(activities(app)) == 1

    # The LMS copied the course: same content item (custom parameters), another course and resource link.
    platform.lti.course.activities.append(
        type(platform.lti.course.activities[-1])(resource_link_id="rl-copied", title="Copied",
                                                 custom=dict(platform.lti.course.activities[-1].custom))
    )
    copied = open_activity("designer", "rl-copied", claims={"context": OTHER_COURSE})
    original, copy = activities(app)
    assert copy.copied_from_id == original.id and copy.context_id != original.context_id
    assert copy.instructions == original.instructions and copy.configured_at is not None
    assert copied.home.attributes("activity-settings-link")[0]["href"].startswith(f"/activities/{copy.id}/")
    # the copy's designer cannot open the original, and the other way round
    assert copied.get(f"/activities/{original.id}/settings").status == 404
    assert designer.get(f"/activities/{copy.id}/settings").status == 404


def test_the_designer_configures_the_activity(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    link = place(platform, points="10")
    designer = open_activity("designer", link)
    (activity,) = activities(app)
    page = designer.get(designer.home.link("activity-settings-link"))
    assert page.status == 200 and page.texts("not-set-up")

    saved = designer.submit(page, "settings-form", settings_form())
    assert saved.status == 200 and saved.texts("notice") == ["Settings saved."]
    (activity,) = activities(app)
    assert activity.configured_at is not None and activity.assessors is Assessors.ANY_MANAGER
    assert activity.feedback_release is FeedbackRelease.WHEN_RELEASED
    assert activity.due_at is not None and activity.due_at.isoformat() == "2027-03-31T15:00:00+00:00"
    assert activity.due_timezone == "Europe/Paris"

    learner = open_activity("learner", link)
    assert "Record a customer call." in " ".join(learner.home.texts("activity-instructions"))
    assert "<strong>customer call</strong>" in learner.home.response.text
    manager = open_activity("manager", link)
    assert "Look for empathy first." in " ".join(manager.home.texts("activity-briefing"))


def test_bad_settings_are_refused_beside_each_field_and_keep_what_was_typed(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    link = place(platform)
    designer = open_activity("designer", link)
    (activity,) = activities(app)
    bad = dict(
        title="", instructions="x" * 20_001, rubric_id="999999", due_date="31/03/2027",
        due_timezone="Mars/Olympus", points_possible="1e999999999", assessors="the boss",
        feedback_release="never",
    )
    refused = save_settings(designer, activity.id, **bad)
    assert refused.status == 400
    fields = {problem["data-field"] for problem in refused.attributes("problems")}
    assert fields == {"title", "instructions", "rubric_id", "due_date", "due_timezone", "points_possible",
                      "assessors", "feedback_release"}
    assert "20,000 characters" in refused.text and "31/03/2027" in refused.response.text
    (unchanged,) = activities(app)
    assert unchanged.configured_at is None and unchanged.title == "Feedback from your manager"
    # grades without points, and a stale form
    no_points = save_settings(designer, activity.id, points_possible="")
    assert no_points.status == 400 and "Give the points" in no_points.text
    opened = designer.get(f"/activities/{activity.id}/settings")
    assert save_settings(designer, activity.id).status == 200
    stale = designer.submit(opened, "settings-form", settings_form(title="Later"))
    assert stale.status == 409 and stale.texts("conflict")
    missing_version = designer.post(f"/activities/{activity.id}/settings", settings_form(title="Later"))
    assert missing_version.status == 400
    assert activities(app)[0].title == "Feedback from your manager"


def test_only_the_courses_designers_open_the_settings(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor], other_designer: Visitor
) -> None:
    link = place(platform)
    (activity,) = activities(app)
    for role in ("manager", "learner"):
        visitor = open_activity(role, link)
        for page in (visitor.get(f"/activities/{activity.id}/settings"),
                     visitor.post(f"/activities/{activity.id}/settings", settings_form()),
                     visitor.get(f"/activities/{activity.id}/preview")):
            assert page.status == 403, role
            assert "for a designer or an administrator" in page.text
    for path in (f"/activities/{activity.id}/settings", "/activities/2147483647/settings"):
        refused = other_designer.get(path)
        assert refused.status == 404 and refused.texts("error-message") == [ACTIVITY_NOT_FOUND]
    assert other_designer.post(f"/activities/{activity.id}/rubric-version", {"version_id": "1"}).status == 404
    assert activities(app)[0].configured_at is None
    assert ACTIVITY_DESIGNERS_ONLY  # the object rule's words, for a role that passes the route rule


def test_the_rubric_is_pinned_until_the_designer_moves_the_activity(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    link = place(platform)
    designer = open_activity("designer", link)
    rubric_id, _edit = create_from_template(designer, "communication")
    with app.extensions["cadre.sessionmaker"]() as session:
        assert session.scalars(select(Rubric.id)).all() == [rubric_id]
    (activity,) = activities(app)
    assert save_settings(designer, activity.id, rubric_id=str(rubric_id)).status == 200
    pinned = activities(app)[0].rubric_version
    assert pinned is not None and pinned.number == 1

    # editing the rubric now makes version 2: the activity stays on version 1
    edit = designer.get(f"/rubrics/{rubric_id}/edit")
    assert "saving creates version 2" in edit.texts("used-warning")[0]
    saved = designer.submit(edit, "rubric-form", {"title": "Communication (revised)"})
    assert saved.status == 200
    settings: Page = designer.get(f"/activities/{activity.id}/settings")
    assert settings.texts("rubric-update") and activities(app)[0].rubric_version.number == 1
    assert settings.texts("rubric-changes") == ["Changed rubric title"]

    form = next(f for f in settings.parsed.forms if "rubric-version" in (f.action or ""))
    moved_page = designer.post(form.action, form.fields)
    assert moved_page.status == 200 and activities(app)[0].rubric_version.number == 2
    assert not designer.get(f"/activities/{activity.id}/settings").texts("rubric-update")


def test_the_platform_makes_the_gradebook_column_and_launches_name_it(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    link = place(platform, title="Call review", points="20")
    (column,) = platform.lti.line_items
    (activity,) = activities(app)
    assert column["scoreMaximum"] == 20 and column["label"] == "Call review"
    assert column["resourceId"] == activity.public_id and column["resourceLinkId"] == link

    open_activity("learner", link)
    assert activities(app)[0].line_item_url == column["id"]  # learned from the launch's AGS claim

    lms = platform.app.test_client()
    empty = lms.get("/gradebook").get_data(as_text=True)
    assert "Call review" in empty and "No score yet." in empty
    learner = platform.user("learner")
    platform.lti.scores.append({"lineitem": 1, "userId": learner.sub, "scoreGiven": 17.5, "scoreMaximum": 20,
                                "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                "timestamp": "2027-01-05T10:00:00.000+00:00", "comment": "Total 17.5 of 20"})
    page = lms.get("/gradebook").get_data(as_text=True)
    assert learner.label in page and "17.5 / 20" in page and "Total 17.5 of 20" in page


def test_a_change_of_points_updates_the_gradebook_column_once(
    platform: RunningPlatform, app: Flask, open_activity: Callable[..., Visitor]
) -> None:
    link = place(platform, title="Call review", points="20")
    designer = open_activity("designer", link)
    (activity,) = activities(app)
    saved = save_settings(designer, activity.id, title="Call review, part 1", points_possible="25")
    assert saved.status == 200
    Worker(app).drain()
    (column,) = platform.lti.line_items
    assert (column["scoreMaximum"], column["label"]) == (25, "Call review, part 1")
    assert column["resourceLinkId"] == link  # what the platform keeps of its own stays

    column["label"] = "Renamed in the LMS"
    again = save_settings(designer, activity.id, title="Call review, part 1", points_possible="25")
    assert again.status == 200
    Worker(app).drain()  # nothing changed in Cadre: nothing sent
    assert column["label"] == "Renamed in the LMS"
    with app.extensions["cadre.sessionmaker"]() as session:
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "ags.line_item")).all()
        assert [message.status for message in sent] == [OutboxStatus.DELIVERED]
