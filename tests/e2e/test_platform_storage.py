"""LTI Platform Storage in a real browser: Chromium refuses Cadre's cookies on the launch, and the launch is
bound to the browser by the secret Cadre's login page stored in the LMS window (``lti.put_data``) and its
launch page fetched back (``lti.get_data``), by real postMessages between the tool frame and the LMS page.

Cadre and the demo LMS both run on 127.0.0.1 (one site), so Chromium would send the cookies: the test drops
the Cookie header of every request to ``/lti/launch``, as Safari or Firefox (strict) do in a cross-site
iframe.
"""

from __future__ import annotations

import urllib.parse

import pytest
from playwright.sync_api import Page, Route, expect

from lti_tool.demo.app import create_platform_app
from lti_tool.lti.errors import REJECTIONS, rejection_message
from lti_tool.lti.launch import STORAGE_SECRET_FIELD
from tests.fixtures.platform import PlatformServer, RunningPlatform

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def refuse_cookies_on_launch(page: Page, cadre_url: str) -> list[dict[str, list[str]]]:
    """Send each launch post without cookies; returns the forms posted, as they arrive.

    Playwright's ``route.continue_(headers=...)`` cannot drop the Cookie header (Chromium adds the cookies
    from its store after the route), so the store is emptied before the request goes on.
    """
    posted: list[dict[str, list[str]]] = []

    def without_cookies(route: Route) -> None:
        posted.append(urllib.parse.parse_qs(route.request.post_data or "", keep_blank_values=True))
        page.context.clear_cookies()
        route.continue_()

    page.route(f"{cadre_url}/lti/launch", without_cookies)
    return posted


def launch_as_learner(platform: RunningPlatform, page: Page) -> None:
    page.goto(platform.url + "/")
    page.get_by_role("button", name=f"Launch as {platform.user('learner').label}").click()


def test_launch_without_cookies_is_bound_by_platform_storage(platform: RunningPlatform, page: Page) -> None:
    learner = platform.user("learner")
    posted = refuse_cookies_on_launch(page, platform.cadre.url)
    launch_as_learner(platform, page)

    tool = page.frame_locator("iframe[data-testid=tool-frame]")
    expect(tool.get_by_test_id("user-name")).to_have_text(learner.label)
    expect(tool.get_by_test_id("user-role")).to_have_attribute("data-role", "learner")
    expect(tool.get_by_test_id("course-title")).to_have_text(platform.lti.course.title)
    # first the platform's post (no secret: Cadre asked the LMS window), then Cadre's page with the secret
    assert len(posted) == 2
    assert STORAGE_SECRET_FIELD not in posted[0]
    (secret,) = posted[1][STORAGE_SECRET_FIELD]
    assert len(secret) >= 32 and posted[1]["id_token"] == posted[0]["id_token"]


@pytest.mark.parametrize(
    "app_options",
    [{"storage_responder": False}, {"storage_target": None}],
    ids=["lms-does-not-answer", "no-storage-target"],
)
def test_launch_without_cookies_or_platform_storage_is_cookies_blocked(
    platform: RunningPlatform, platform_server: PlatformServer, page: Page, app_options: dict[str, object]
) -> None:
    slot = urllib.parse.urlsplit(platform.url).path
    platform_server.mounts.apps[slot] = create_platform_app(platform.lti, **app_options)  # type: ignore[arg-type]
    refuse_cookies_on_launch(page, platform.cadre.url)
    launch_as_learner(platform, page)

    tool = page.frame_locator("iframe[data-testid=tool-frame]")
    # without an answer, the login page waits 1.5 s for lti.put_data and the launch page 3 s for lti.get_data
    expect(tool.get_by_test_id("error")).to_be_visible(timeout=15_000)
    expect(tool.get_by_test_id("error")).to_have_attribute("data-status", "401")
    expect(tool.get_by_role("heading", name=REJECTIONS["cookies_blocked"].title)).to_be_visible()
    expect(tool.get_by_test_id("error-message")).to_have_text(rejection_message("cookies_blocked"))
    new_tab = tool.get_by_test_id("open-new-tab")
    expect(new_tab).to_be_visible()
    href = new_tab.get_attribute("href") or ""
    assert href.startswith(platform.cadre.url + "/lti/login?") and "lti1p3_new_window=1" in href
    expect(tool.get_by_test_id("user-name")).to_have_count(0)
