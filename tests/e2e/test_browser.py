"""A real browser (Debian's chromium, through Playwright) launches Cadre from the demo LMS page.

This is the one test where cookies, redirects, auto-submitting forms and the iframe are handled by a browser
rather than by our httpx stand-in. It runs once per database backend like every app test: the browser is
started once per session (about a second) and each run takes well under two seconds, so restricting it to
one backend would save little and hide a backend-specific failure of the launch path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.platform import RunningPlatform

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

def test_learner_launches_cadre_inside_the_lms_frame(
    platform: RunningPlatform, page: Page, tmp_path: Path
) -> None:
    learner = platform.user("learner")
    course = platform.lti.course

    page.goto(platform.url + "/")
    expect(page.get_by_test_id("course-title")).to_have_text(course.title)
    page.get_by_role("button", name=f"Launch as {learner.label}").click()

    tool = page.frame_locator("iframe[data-testid=tool-frame]")
    expect(tool.get_by_test_id("user-name")).to_have_text(learner.label)
    expect(tool.get_by_test_id("user-role")).to_have_attribute("data-role", "learner")
    expect(tool.get_by_test_id("course-title")).to_have_text(course.title)
    screenshot = tmp_path / "learner-launch.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
