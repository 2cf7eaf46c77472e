"""The programme outcome and the leaderboard in Debian's chromium: the designer names the outcome, imports
its values from a file and reads them on the dashboard at an LMS frame's width (chart and tables, a
screenshot, the CSV downloaded); the designer turns the leaderboard on and a learner chooses to appear;
no page has a WCAG 2.2 AA violation that axe-core finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor
from tests.rubric_library.test_browser_first_use import open_as
from tests.tracking.test_outcome import VALUES_CSV
from tests.tracking.test_pages import fill

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_outcome_is_named_imported_and_read_beside_the_learning_data(
    page: Page, app: Flask, designer: Visitor, live_server: LiveServer, tmp_path: Path
) -> None:
    seeded = fill(app, designer, learners=20, activities=3)
    page.set_viewport_size({"width": 700, "height": 900})
    open_as(page, live_server, designer, seeded.path)
    page.get_by_test_id("outcome-link").click()
    expect(page.locator("main h1")).to_contain_text("Programme outcome of")
    assert_accessible(page)

    page.fill("#outcome-name", "First-call resolution")
    page.fill("#outcome-unit", "%")
    page.fill("#outcome-baseline", "68")
    page.fill("#outcome-target", "60")  # below the baseline while higher is better: refused
    page.fill("#outcome-start", "2026-09-01")
    page.get_by_test_id("save-outcome").click()
    expect(page.get_by_test_id("problem")).to_contain_text("the target must be above the baseline")
    expect(page.locator("#outcome-target")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    page.fill("#outcome-target", "80")
    page.get_by_test_id("save-outcome").click()
    expect(page.get_by_test_id("notice")).to_have_text("The outcome is saved.")

    values = tmp_path / "values.csv"
    values.write_text(VALUES_CSV + "2026-13-01,70,,\n")
    page.set_input_files("#import-file", str(values))
    page.get_by_test_id("import-values").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("Nothing was imported")
    expect(page.locator("[data-testid=import-row][data-state=invalid]")).to_have_count(1)
    assert_accessible(page)
    values.write_text(VALUES_CSV)
    page.set_input_files("#import-file", str(values))
    page.get_by_test_id("import-values").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("Imported 6 value(s)")
    expect(page.locator("#chart-outcome-title")).to_have_count(1)
    assert_accessible(page)

    page.get_by_test_id("dashboard-link").click()
    expect(page.get_by_test_id("outcome-name")).to_have_text("First-call resolution")
    expect(page.get_by_test_id("outcome-verdict")).to_have_text("better")
    chart = page.locator("svg.chart[data-chart=lines]").first
    box = page.get_by_test_id("figure-outcome").locator("svg").bounding_box()
    assert box is not None and 0 < box["width"] <= 700 and box["height"] > 100, box
    assert chart.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    shot = tmp_path / "outcome-700.png"
    page.get_by_test_id("outcome-panel").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_test_id("csv-values").click()
    download = download_info.value
    assert download.suggested_filename == f"course-{seeded.context_id}-outcome-values.csv"
    saved = tmp_path / "downloaded.csv"
    download.save_as(str(saved))
    assert saved.read_text().startswith("date,team,value,note,period")
    page.emulate_media(media="print")
    expect(page.get_by_test_id("figure-outcome")).to_be_visible()
    page.emulate_media(media="screen")


def test_the_designer_turns_the_leaderboard_on_and_a_learner_chooses_to_appear(
    page: Page, app: Flask, designer: Visitor, learner: Visitor, live_server: LiveServer
) -> None:
    seeded = fill(app, designer, learners=12, activities=3)
    path = f"/courses/{seeded.context_id}/leaderboard"
    open_as(page, live_server, designer, "/home")
    page.get_by_test_id("leaderboard-settings-home-link").click()
    expect(page.locator("main h1")).to_contain_text("Leaderboard of")
    assert_accessible(page)
    page.check("#enabled")
    page.check("#metric-completion")
    page.check("#display-pseudonyms")
    page.get_by_test_id("save-leaderboard").click()
    expect(page.get_by_test_id("notice")).to_have_text("The leaderboard's settings are saved.")
    assert_accessible(page)

    open_as(page, live_server, learner, "/home")
    page.get_by_test_id("leaderboard-home-link").click()
    expect(page.get_by_test_id("presence-state")).to_have_attribute("data-opted-in", "no")
    expect(page.get_by_test_id("ranked")).to_have_count(0)
    assert_accessible(page)
    page.get_by_test_id("opt-in").click()
    expect(page.get_by_test_id("presence-state")).to_have_attribute("data-opted-in", "yes")
    expect(page.get_by_test_id("own-rank")).to_contain_text("You are number 1 of 1, with 0.00%")
    expect(page.locator("tr[aria-current=true]")).to_contain_text("You (Learner 1)")
    assert page.url.endswith(f"{path}?notice=in") or "notice=in" in page.url
    assert_accessible(page)
    page.get_by_test_id("opt-out").click()
    expect(page.get_by_test_id("ranked")).to_have_count(0)
    assert_accessible(page)
