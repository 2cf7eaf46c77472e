"""In Chromium: the stricter page policy (script nonce, form-action limited to Cadre and the platform's
deep-link return) still lets a designer place an activity from inside the LMS frame."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.fixtures.platform import RunningPlatform

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_deep_linking_round_trip_under_the_page_policy(platform: RunningPlatform, page: Page) -> None:
    violations: list[str] = []
    page.on("console", lambda message: _keep_violation(message, violations))

    page.goto(platform.url + "/")
    page.get_by_test_id("add-activity").click()
    tool = page.frame_locator("iframe[data-testid=tool-frame]")
    tool.get_by_test_id("title").fill("Feedback from your manager")
    tool.get_by_test_id("place-activity").click()

    # Cadre's return page auto-posts the signed response to the platform, inside the frame.
    expect(tool.get_by_test_id("activity-added")).to_contain_text("Feedback from your manager")
    assert [item.title for item in platform.lti.course.activities][-1] == "Feedback from your manager"
    assert not violations, violations


def _keep_violation(message: ConsoleMessage, violations: list[str]) -> None:
    if "Content Security Policy" in message.text:
        violations.append(message.text)
