"""The edit form's script in a real browser (Debian's chromium): rows added in place, then saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy.orm import Session

import rubrics
from lti_tool.models import Rubric
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor
from tests.rubric_library.test_pages import create_from_template

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

def test_add_a_level_and_a_criterion_in_place_then_save(
    page: Page, designer: Visitor, live_server: LiveServer, db: Session
) -> None:
    rubric_id, _ = create_from_template(designer)
    template = rubrics.get_template("communication")
    levels = len(template.criteria[0].levels)
    # The tab holds the designer's launch as after the launch's hand-over (cadre-launch.js keeps it in
    # sessionStorage); this browser has no Cadre cookie, so the script fetches the page with the header.
    page.goto(f"{live_server.url}/healthz")
    page.evaluate("token => window.sessionStorage.setItem('cadre-launch', token)", designer.launch_token)
    page.goto(f"{live_server.url}/rubrics/{rubric_id}/edit")
    page.wait_for_selector("#field-criteria-0 [data-testid=add-level]")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method))

    page.locator("#field-criteria-0 [data-testid=add-level]").click()
    page.fill(f"#field-criteria-0-levels-{levels}-title", "Outstanding")
    page.fill(f"#field-criteria-0-levels-{levels}-points", "5")
    page.click("[data-testid=add-criterion]")
    new = len(template.criteria)
    page.fill(f"#field-criteria-{new}-title", "Asks for feedback")
    for index, (title, points) in enumerate([("Rarely", "0"), ("Routinely", "2")]):
        page.fill(f"#field-criteria-{new}-levels-{index}-title", title)
        page.fill(f"#field-criteria-{new}-levels-{index}-points", points)
    for extra in range(2, len(template.criteria[-1].levels)):  # removed at once, with an undo
        row = page.locator(".level-fields", has=page.locator(f"[name=criteria-{new}-levels-{extra}-title]"))
        row.get_by_test_id("remove-level-now").click()
    assert requests == [], "adding rows must not reach the server"
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=rubric-heading]")

    db.expire_all()
    stored = db.get(Rubric, rubric_id)
    assert stored is not None
    content = rubrics.Rubric.from_dict(stored.current_version.content)
    assert content.criteria[0].levels[-1].title == "Outstanding"
    assert content.criteria[-1].title == "Asks for feedback"
    assert [level.title for level in content.criteria[-1].levels] == ["Rarely", "Routinely"]
    page.close()
