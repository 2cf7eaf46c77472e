"""The programme kinds' settings in a real browser (Debian's chromium): the designer sets a coaching log's
aim (after a refused one, kept as typed) and a manager sees their share against it; the career
conversation's staff setting is ticked and saved on the activity's settings page; the follow-up's settings
page; axe-core's WCAG 2.2 AA checks on each page, with and without problems."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import visitor_from
from tests.programme.test_pages import place_kind
from tests.rubric_library.test_browser_first_use import open_as

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_designer_sets_the_coaching_aim_and_a_manager_sees_it(
    page: Page, platform: RunningPlatform, app: Flask, live_server: LiveServer,
) -> None:
    link, activity_id, designer = place_kind(platform, app, "coaching_log", "Coach more, tell less")
    open_as(page, live_server, designer, f"/activities/{activity_id}/settings")
    expect(page.get_by_test_id("rubric-choice")).to_have_count(0)
    aim = page.get_by_label("The aim: share of coaching in the time logged (%)")
    expect(aim).to_have_value("80")
    assert_accessible(page)
    aim.fill("two thirds")
    page.get_by_test_id("save-coaching-settings").click()
    expect(page.get_by_test_id("problems")).to_contain_text("from 1 to 100")
    expect(page.get_by_label("The aim: share of coaching in the time logged (%)")).to_have_value("two thirds")
    assert_accessible(page)
    page.get_by_label("The aim: share of coaching in the time logged (%)").fill("67")
    page.get_by_test_id("save-coaching-settings").click()
    expect(page.get_by_test_id("kind-notice")).to_have_text("Coaching log settings saved.")
    assert_accessible(page)

    omar = visitor_from(platform.launch_as("manager", activity=link), "manager")
    open_as(page, live_server, omar, f"/activities/{activity_id}/coaching-log")
    expect(page.get_by_test_id("share-aim")).to_have_text("67")
    page.get_by_label("Minutes").fill("30")
    page.get_by_label("Topic").fill("Asking before telling")
    page.get_by_test_id("log-session").click()
    expect(page.get_by_test_id("share-verdict")).to_have_text("met")
    expect(page.get_by_test_id("share-bar")).to_have_attribute("data-aim", "67")
    assert_accessible(page)


def test_the_career_setting_and_the_follow_up_settings_on_the_settings_page(
    page: Page, platform: RunningPlatform, app: Flask, live_server: LiveServer,
) -> None:
    _link, career_id, designer = place_kind(platform, app, "career_conversation", "Where next")
    open_as(page, live_server, designer, f"/activities/{career_id}/settings")
    expect(page.get_by_test_id("grades-to-lms")).to_have_count(0)
    assert_accessible(page)
    page.get_by_test_id("career-staff-may-read").check()
    page.get_by_test_id("save-career-settings").click()
    expect(page.get_by_test_id("kind-notice")).to_have_text("Career conversation settings saved.")
    expect(page.get_by_test_id("career-staff-may-read")).to_be_checked()
    assert_accessible(page)

    _link, follow_id, designer = place_kind(platform, app, "six_month_follow_up", "Six months on")
    open_as(page, live_server, designer, f"/activities/{follow_id}/settings")
    page.get_by_label("Days until the follow-up").fill("ten")
    page.get_by_test_id("save-follow-up-settings").click()
    expect(page.get_by_test_id("problem-summary")).to_be_visible()
    assert_accessible(page)
