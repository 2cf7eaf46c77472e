"""The designer's people page in a real browser (Debian's chromium): refresh the roster, link a manager
with the form's selects, end the link; keyboard-reachable controls with names."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.live_server import LiveServer
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import Visitor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_designer_refreshes_links_and_ends_in_the_browser(
    page: Page, platform: RunningPlatform, designer: Visitor, live_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    page.goto(f"{live_server.url}/healthz")
    page.evaluate("token => window.sessionStorage.setItem('cadre-launch', token)", designer.launch_token)
    page.goto(f"{live_server.url}/people")
    expect(page.get_by_test_id("roster-status")).to_contain_text("Not fetched from the platform yet")
    page.get_by_role("button", name="Refresh the roster from the platform").click()
    expect(page.get_by_test_id("refreshed")).to_contain_text("active member(s)")
    expect(page.get_by_test_id("learner-name")).to_have_count(4)

    page.get_by_label("Learner", exact=True).select_option(label="Chloé Martin")
    page.get_by_label("Manager", exact=True).select_option(label="Omar Haddad")
    page.get_by_label("As their").select_option(label="Coach")
    page.get_by_role("button", name="Link", exact=True).click()
    expect(page.get_by_test_id("notice")).to_have_text("Link added.")
    chloe = page.get_by_test_id("learner").filter(has_text="Chloé Martin")
    expect(chloe.get_by_test_id("link")).to_contain_text("Omar Haddad, coach")
    page.screenshot(path=str(tmp_path_factory.mktemp("shots") / "people.png"), full_page=True)

    chloe.get_by_role("button", name="End the link of Chloé Martin to Omar Haddad").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Link ended.")
    ended = page.get_by_test_id("learner").filter(has_text="Chloé Martin").get_by_test_id("link")
    expect(ended).to_have_attribute("data-status", "ended")
