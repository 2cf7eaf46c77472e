"""The script side of the rubric library's first-use fixes, in Debian's chromium: level labels in place,
removal at once with undo, times in the browser's own zone, and no 404 (the favicon) on any page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, Response, expect
from sqlalchemy.orm import Session

import rubrics
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor
from tests.rubric_library.test_pages import TEMPLATE, create_from_template, stored

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ZONE = "Pacific/Auckland"  # 13 hours from UTC in December: a time shown in UTC is visibly wrong


def open_as(page: Page, live_server: LiveServer, visitor: Visitor, path: str) -> None:
    """Open ``path`` in a tab that holds the visitor's launch, as after the launch's hand-over
    (cadre-launch.js keeps it in sessionStorage; with no Cadre cookie it asks with the header)."""
    page.goto(f"{live_server.url}/healthz")
    page.evaluate("token => window.sessionStorage.setItem('cadre-launch', token)", visitor.launch_token)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector("main h1")


@pytest.fixture
def page_in_auckland(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=ZONE, locale="en-NZ")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_level_added_in_place_is_labelled_with_its_own_number(
    page: Page, designer: Visitor, live_server: LiveServer
) -> None:
    rubric_id, _ = create_from_template(designer)
    template = rubrics.get_template(TEMPLATE)
    levels = len(template.criteria[0].levels)
    open_as(page, live_server, designer, f"/rubrics/{rubric_id}/edit")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.locator("#field-criteria-0 [data-testid=add-level]").click()
    page.locator("#field-criteria-0 [data-testid=add-level]").click()
    labels = page.locator("#field-criteria-0 .level-fields label[for$='-title']").all_text_contents()
    assert labels == [f"Level {number}" for number in range(1, levels + 3)]
    assert page.evaluate("document.activeElement.id") == f"field-criteria-0-levels-{levels + 1}-title"

    page.click("[data-testid=add-criterion]")
    legends = page.locator(".criterion-fields > legend").all_text_contents()
    assert legends[-1] == f"Criterion {len(template.criteria) + 1}"
    assert requests == [], "adding rows must not reach the server"


def test_a_criterion_is_removed_at_once_and_undo_brings_it_back(
    page: Page, designer: Visitor, live_server: LiveServer, db: Session
) -> None:
    rubric_id, _ = create_from_template(designer)
    titles = [criterion.title for criterion in rubrics.get_template(TEMPLATE).criteria]
    open_as(page, live_server, designer, f"/rubrics/{rubric_id}/edit")
    # The deferred checkbox gives way once the page's script has run (waited for: it runs after the load).
    expect(page.locator("[data-testid=remove-criterion]").first).to_be_hidden()

    second = page.locator("#field-criteria-1")
    second.locator(".row-actions [data-testid=remove-criterion-now]").click()
    assert page.locator("#field-criteria-1").count() == 0
    notice = page.get_by_test_id("removed-row")
    assert notice.inner_text().startswith(f"Criterion 2: {titles[1]} removed.")
    assert page.evaluate("document.activeElement.dataset.testid") == "undo-remove"
    expect(page.locator("#form-announcer")).to_contain_text("removed")
    legends = page.locator(".criterion-fields > legend").all_text_contents()
    assert legends[1] == f"Criterion 2: {titles[2]}", "the rows below are renumbered"
    assert page.locator("#move-up-2").is_visible()

    page.get_by_test_id("undo-remove").click()
    assert page.locator("#field-criteria-1").count() == 1
    assert page.get_by_test_id("removed-row").count() == 0
    assert page.locator(".criterion-fields > legend").all_text_contents()[1] == f"Criterion 2: {titles[1]}"
    assert page.evaluate("document.activeElement.dataset.testid") == "remove-criterion-now"

    # Removed for good only by saving; the first criterion loses its "move up" once it is first.
    page.locator("#field-criteria-0 .row-actions [data-testid=remove-criterion-now]").click()
    assert page.locator("#move-up-1").is_hidden()
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=rubric-heading]")
    content = rubrics.Rubric.from_dict(stored(db, rubric_id).current_version.content)
    assert [criterion.title for criterion in content.criteria] == titles[1:]


def test_move_buttons_post_the_form_and_keep_the_focus_on_the_moved_row(
    page: Page, designer: Visitor, live_server: LiveServer
) -> None:
    rubric_id, _ = create_from_template(designer)
    titles = [criterion.title for criterion in rubrics.get_template(TEMPLATE).criteria]
    open_as(page, live_server, designer, f"/rubrics/{rubric_id}/edit")
    page.click("#move-down-0")
    expect(page.locator("#field-criteria-1-title")).to_have_value(titles[0])
    assert page.input_value("#field-criteria-0-title") == titles[1]
    assert page.evaluate("document.activeElement.id") == "move-down-1"


def test_times_are_shown_in_the_browsers_time_zone(
    page_in_auckland: Page, designer: Visitor, live_server: LiveServer, db: Session
) -> None:
    rubric_id, _ = create_from_template(designer)
    written = stored(db, rubric_id).current_version.changed_at
    local = written.astimezone(ZoneInfo(ZONE))
    open_as(page_in_auckland, live_server, designer, f"/rubrics/{rubric_id}/versions")
    element = page_in_auckland.get_by_test_id("version-written")
    expect(element).to_have_attribute("data-local-done", "")
    text = element.inner_text()
    assert "UTC" not in text, text
    assert str(local.day) in text and str(local.year) in text, text
    assert f"{local:%H:%M}" in text or f"{local:%-I:%M}" in text, (text, local)
    assert element.get_attribute("title") == written.strftime("%Y-%m-%d %H:%M UTC")
    assert local.utcoffset() != datetime.now(ZoneInfo("UTC")).utcoffset()


def test_no_page_of_the_library_answers_404_in_the_browser(
    page: Page, designer: Visitor, live_server: LiveServer
) -> None:
    rubric_id, _ = create_from_template(designer)
    missing: list[str] = []
    errors: list[str] = []

    def note(response: Response) -> None:
        if response.status == 404:
            missing.append(response.url)

    page.on("response", note)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    for path in (
        "/rubrics/",
        f"/rubrics/{rubric_id}",
        f"/rubrics/{rubric_id}/edit",
        f"/rubrics/new?template={TEMPLATE}",
    ):
        open_as(page, live_server, designer, path)
    icon = page.evaluate("fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])")
    assert icon[0] == 200 and icon[1].startswith("image/svg+xml"), icon
    # (A first request without the tab's launch answers 401 before cadre-launch.js asks again: not ours.)
    assert missing == [] and [error for error in errors if "404" in error] == [], (missing, errors)


def test_the_library_pages_have_no_wcag_22_aa_violation(
    page: Page, designer: Visitor, live_server: LiveServer
) -> None:
    rubric_id, _ = create_from_template(designer)
    for path in ("/rubrics/", f"/rubrics/{rubric_id}", f"/rubrics/{rubric_id}/edit",
                 f"/rubrics/new?template={TEMPLATE}"):
        open_as(page, live_server, designer, path)
        assert_accessible(page)
