"""The activity settings page shows each kind only what applies to it: a survey, a follow-up, a career
conversation and a coaching log have no rubric, gradebook, due date, assessors, work product or release
(and a post naming them changes nothing of those), and each shows its own panel: the career conversation's
staff-reading setting and the coaching log's aim, with bad input refused beside the field and every person
who may not set them refused."""

from __future__ import annotations

import pytest
from flask import Flask

from lti_tool.db import session_scope
from lti_tool.models import Activity
from lti_tool.programme import career, coaching_log
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, visitor_from
from tests.programme.test_pages import place_kind

FEEDBACK_ONLY = ("rubric-choice", "grades-to-lms", "work-product-required", "due-timezone")
PANELS = {"manager_insight_survey": "survey-settings-form", "six_month_follow_up": "follow-up-settings-form",
          "career_conversation": "career-settings-form", "coaching_log": "coaching-settings-form"}
FOR_LEARNERS = {"career_conversation", "coaching_log"}


def _fields(page: Page, testid: str, **values: str) -> dict[str, str]:
    form = page.form(testid)
    return {**{name: value for name, value in form.fields.items() if name in ("lt", "csrf_token")}, **values}


@pytest.mark.parametrize("kind", list(PANELS))
def test_a_programme_kind_shows_its_own_settings_and_none_of_the_feedback_ones(
    platform: RunningPlatform, app: Flask, kind: str,
) -> None:
    _link, activity_id, designer = place_kind(platform, app, kind, "Programme activity")
    page = designer.get(f"/activities/{activity_id}/settings")
    assert page.status == 200
    for testid in FEEDBACK_ONLY:
        assert page.attributes(testid) == [], testid
    assert 'name="assessors"' not in page.text and 'name="feedback_release"' not in page.text
    assert 'name="points_possible"' not in page.text
    assert ('name="instructions"' in page.text) is (kind in FOR_LEARNERS)
    assert 'name="manager_briefing"' in page.text and 'name="title"' in page.text
    assert page.form(PANELS[kind])
    assert [panel for other, panel in PANELS.items() if other != kind and page.attributes(panel)] == []


def test_a_feedback_kind_keeps_every_field(platform: RunningPlatform, app: Flask) -> None:
    _link, activity_id, designer = place_kind(platform, app, "manager_feedback", "Feedback on calls")
    page = designer.get(f"/activities/{activity_id}/settings")
    for testid in FEEDBACK_ONLY:
        assert page.attributes(testid), testid
    assert 'name="assessors"' in page.text and 'name="instructions"' in page.text
    assert not any(page.attributes(panel) for panel in PANELS.values())


def test_a_surveys_settings_ignore_the_fields_it_does_not_show(platform: RunningPlatform, app: Flask) -> None:
    _link, activity_id, designer = place_kind(platform, app, "manager_insight_survey", "Where it goes wrong")
    page = designer.get(f"/activities/{activity_id}/settings")
    saved = designer.submit(page, "settings-form", {
        "title": "Where it really goes wrong", "manager_briefing": "Tell us what you see.",
        "points_possible": "10", "grades_to_lms": "1", "assessors": "learner", "work_product_required": "1",
        "feedback_release": "when_released", "due_date": "2027-03-01", "rubric_id": "999"})
    assert saved.status == 200 and saved.texts("notice") == ["Settings saved."], saved.text[:1500]
    with session_scope(app) as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        assert activity.title == "Where it really goes wrong"
        assert activity.manager_briefing == "Tell us what you see."
        assert activity.points_possible is None and not activity.grades_to_lms
        assert activity.rubric_version_id is None and activity.due_at is None
        assert not activity.work_product_required and activity.assessors.value == "line_manager"


def test_the_career_conversations_staff_setting_is_saved_from_the_settings_page(
    platform: RunningPlatform, app: Flask,
) -> None:
    link, activity_id, designer = place_kind(platform, app, "career_conversation", "Where next")
    page = designer.get(f"/activities/{activity_id}/settings")
    saved = designer.post(f"/activities/{activity_id}/career/settings",
                          _fields(page, "career-settings-form", staff_may_read="1"))
    assert saved.status == 200 and saved.texts("kind-notice") == ["Career conversation settings saved."]
    assert saved.attributes("career-staff-may-read")[0].get("checked") is not None
    with session_scope(app) as session:
        assert career.settings_of(session, session.get(Activity, activity_id)).staff_may_read
    overview = designer.get(f"/activities/{activity_id}/career")
    assert overview.texts("career-settings-link")[0].startswith("Staff may read a conversation whose learner")
    path = f"/activities/{activity_id}/career/settings"
    for role in ("manager", "learner"):
        someone = visitor_from(platform.launch_as(role, activity=link), role)
        assert someone.post(path, {"staff_may_read": ""}).status == 403
    other = visitor_from(platform.launch_as("designer", claims={"context": OTHER_COURSE}), "designer")
    assert other.post(path, {"staff_may_read": ""}).status == 404
    with session_scope(app) as session:
        assert career.settings_of(session, session.get(Activity, activity_id)).staff_may_read


def test_the_designer_sets_the_coaching_aim_and_everyone_sees_their_share_against_it(
    platform: RunningPlatform, app: Flask,
) -> None:
    link, activity_id, designer = place_kind(platform, app, "coaching_log", "Coach more, tell less")
    page = designer.get(f"/activities/{activity_id}/settings")
    assert page.form("coaching-settings-form").fields["aim_percent"] == "80"
    path = f"/activities/{activity_id}/coaching-log/settings"

    refused = designer.post(path, _fields(page, "coaching-settings-form", aim_percent="150"))
    assert refused.status == 400
    assert refused.form("coaching-settings-form").fields["aim_percent"] == "150"  # kept as typed
    assert [problem["data-field"] for problem in refused.attributes("problems")] == ["aim_percent"]
    assert "from 1 to 100" in refused.text
    with session_scope(app) as session:
        assert coaching_log.aim_of(session, session.get(Activity, activity_id)) == 80

    saved = designer.post(path, _fields(page, "coaching-settings-form", aim_percent="60"))
    assert saved.status == 200 and saved.texts("kind-notice") == ["Coaching log settings saved."]
    assert saved.form("coaching-settings-form").fields["aim_percent"] == "60"

    omar = visitor_from(platform.launch_as("manager", activity=link), "manager")
    log = omar.get(f"/activities/{activity_id}/coaching-log")
    assert log.texts("share-aim") == ["60"]
    logged = omar.submit(log, "coaching-form", {"minutes": "30", "topic": "Delegating", "kind": "mentoring"})
    assert logged.texts("share-verdict") == ["not met yet"] and logged.texts("share-short") == ["60"]
    assert logged.attributes("share-bar")[0]["data-aim"] == "60"
    assert designer.get(f"/activities/{activity_id}/coaching-log/overview").texts("share-aim") == ["60"]

    for visitor in (omar, visitor_from(platform.launch_as("learner", activity=link), "learner")):
        assert visitor.post(path, {"aim_percent": "10"}).status == 403
    other = visitor_from(platform.launch_as("designer", claims={"context": OTHER_COURSE}), "designer")
    assert other.post(path, {"aim_percent": "10"}).status == 404
    assert designer.post(path, {"aim_percent": "10"}, csrf="").status in (400, 403)  # no CSRF token
    with session_scope(app) as session:
        assert coaching_log.aim_of(session, session.get(Activity, activity_id)) == 60
