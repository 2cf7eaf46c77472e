"""The course dashboard in Debian's chromium: its charts drawn at an LMS frame's width (700 px) and on a
wide screen, a screenshot of each, the filter form working, a CSV downloaded, and no WCAG 2.2 AA violation
that axe-core finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor
from tests.rubric_library.test_browser_first_use import open_as
from tests.tracking.test_pages import fill

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_dashboard_reads_at_an_iframes_width_prints_and_passes_axe(
    page: Page, app: Flask, designer: Visitor, live_server: LiveServer, tmp_path: Path
) -> None:
    seeded = fill(app, designer, learners=30, activities=4)
    page.set_viewport_size({"width": 700, "height": 900})
    open_as(page, live_server, designer, seeded.path)
    expect(page.locator("h1")).to_contain_text("Dashboard of")
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(5)
    for index in range(5):  # every chart fits the frame: no sideways scrolling for a chart
        box = charts.nth(index).bounding_box()
        assert box is not None and 0 < box["width"] <= 700 and box["height"] > 60, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    narrow = tmp_path / "dashboard-700.png"
    page.screenshot(path=str(narrow), full_page=True)
    assert narrow.stat().st_size > 20_000
    assert_accessible(page)

    # The filter form (a GET, with the launch carried by the page's script) narrows the figures.
    before = page.get_by_test_id("row-managers").count()
    page.select_option("#filter-manager", index=1)
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("row-managers")).to_have_count(1)
    assert before > 1
    assert "manager=" in page.url
    with page.expect_download() as download_info:
        page.get_by_test_id("csv-criteria").click()
    download = download_info.value
    assert download.suggested_filename == f"course-{seeded.context_id}-criteria.csv"
    saved = tmp_path / "criteria.csv"
    download.save_as(str(saved))
    assert saved.read_text().startswith("Criterion,Assessed by,Assessments,Mean %,Level 1")

    # The script downloads the CSV, then goes back to the dashboard (cookieless, it is fetched again).
    expect(page.locator("main h1")).to_contain_text("Dashboard of")
    expect(page.locator("svg.chart")).to_have_count(5)
    page.set_viewport_size({"width": 1400, "height": 900})
    wide = tmp_path / "dashboard-wide.png"
    page.screenshot(path=str(wide), full_page=True)
    assert wide.stat().st_size > 20_000
    page.emulate_media(media="print")
    expect(page.locator("form.filters")).to_be_hidden()
    expect(charts.first).to_be_visible()
    page.emulate_media(media="screen")
    assert_accessible(page)
