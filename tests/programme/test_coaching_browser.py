"""The coaching log in a real browser (Debian's chromium): a manager logs two sessions (one after a refused
duration, kept as typed), sees the 80/20 share as a figure and a bar, and the designer sees the totals;
axe-core's WCAG 2.2 AA checks on the log (empty, with problems, with the share), the edit page and the
designer's totals."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.programme import test_coaching_pages
from tests.programme.test_coaching_pages import PlacedLog
from tests.rubric_library.test_browser_first_use import open_as

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

placed_log = test_coaching_pages.placed_log  # the fixture: a coaching log placed and set up by the designer


def test_a_manager_logs_two_sessions_and_sees_the_80_20_share(
    page: Page, placed_log: PlacedLog, live_server: LiveServer,
) -> None:
    omar = placed_log.open("manager")
    open_as(page, live_server, omar, placed_log.path)
    expect(page.get_by_test_id("share-empty")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Kind").select_option("coaching")
    page.get_by_label("Duration in minutes").fill("an hour")
    page.get_by_label("Topic").fill("Delegating the rota")
    page.get_by_label("The agreed next step").fill("Hand the rota to Ana")
    page.get_by_test_id("log-session").click()
    expect(page.get_by_test_id("form-message")).to_be_visible()
    assert page.locator("[aria-invalid=true]").count() == 1
    assert page.get_by_label("Topic").input_value() == "Delegating the rota"
    assert page.get_by_label("Duration in minutes").input_value() == "an hour"
    assert_accessible(page)

    page.get_by_label("Duration in minutes").fill("60")
    page.get_by_test_id("log-session").click()
    expect(page.get_by_test_id("notice")).to_have_text("Session logged.")

    page.get_by_label("Kind").select_option("mentoring")
    page.get_by_label("Duration in minutes").fill("15")
    page.get_by_label("Topic").fill("How I ran budgets")
    page.get_by_label("Stress").select_option("3")
    page.get_by_label("What is in my control").fill("My diary")
    page.get_by_test_id("log-session").click()
    expect(page.get_by_test_id("share-figure")).to_contain_text("80% coaching")
    expect(page.get_by_test_id("share-figure")).to_contain_text("60 of 75 minutes")
    expect(page.get_by_test_id("share-verdict")).to_have_text("met")
    expect(page.locator("svg[data-testid=share-bar] title")).to_contain_text("80% coaching, 20% mentoring")
    expect(page.get_by_test_id("coaching-session")).to_have_count(2)
    assert_accessible(page)

    page.get_by_test_id("edit-session").first.click()
    page.wait_for_selector("main h1")
    assert page.get_by_label("What is in my control").input_value() == "My diary"
    assert_accessible(page)

    designer = placed_log.open("designer")
    open_as(page, live_server, designer, f"{placed_log.path}/overview")
    totals = page.get_by_test_id("course-totals")
    expect(totals).to_have_text("1 person logged 2 sessions, 75 minutes in all.")
    expect(page.get_by_test_id("share-figure")).to_contain_text("80% coaching")
    assert "My diary" not in page.content()
    assert_accessible(page)
