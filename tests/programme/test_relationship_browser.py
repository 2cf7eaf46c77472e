"""Strategic relationships in a real browser (Debian's chromium): the learner adds relationships (one after a
refused strength, kept as typed), sees the network picture and its table, sets a goal and shares the map;
the manager reads it and opens the review form with the map above the rubric. axe-core's WCAG 2.2 AA
checks on every page: the empty map, the refused form, the map with its picture and history, the edit
page, the manager's list, the read-only map and the review form."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.programme import test_relationship_pages
from tests.programme.test_relationship_pages import Placed
from tests.rubric_library.test_browser_first_use import open_as

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

placed = test_relationship_pages.placed  # the fixture: an activity placed and set up with a rubric


def add(page: Page, name: str, kind: str, strength: str) -> None:
    page.get_by_label("Person or role").fill(name)
    page.get_by_label(kind, exact=True).check()
    page.get_by_label("Strength").select_option(strength)
    page.get_by_label("What the relationship is for").fill(f"What {name} brings")
    page.get_by_test_id("add-relationship").click()


def test_the_learner_maps_and_shares_and_the_manager_reviews(page: Page, placed: Placed,
                                                            live_server: LiveServer) -> None:
    ana = placed.open("learner", user="learner-ana")
    open_as(page, live_server, ana, placed.path)
    expect(page.get_by_test_id("relationships-empty")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Person or role").fill("Dana Ortiz")
    page.get_by_label("Mentor", exact=True).check()
    page.get_by_label("Last contact").fill("2099-01-01")
    page.get_by_test_id("add-relationship").click()
    expect(page.get_by_test_id("form-message")).to_be_visible()
    assert page.locator("[aria-invalid=true]").count() == 1
    assert page.get_by_label("Person or role").input_value() == "Dana Ortiz"
    assert_accessible(page)

    page.get_by_label("Last contact").fill("")
    page.get_by_test_id("add-relationship").click()
    expect(page.get_by_test_id("notice")).to_have_text("Relationship added to your map.")
    add(page, "Rota planner", "Operational", "2")
    add(page, "Peer at Nordwind", "Peer in another company", "4")
    expect(page.get_by_test_id("relationship-row")).to_have_count(3)
    expect(page.get_by_test_id("network-node")).to_have_count(3)
    picture = page.locator("svg[data-testid=network-picture] desc")
    expect(picture).to_contain_text("2 strategic, 1 operational")
    expect(page.get_by_test_id("figure-history")).to_be_visible()

    page.get_by_label("How many new relationships").fill("2")
    page.get_by_label("Of which kind").select_option("strategic")
    page.get_by_test_id("set-goal").click()
    expect(page.get_by_test_id("goal")).to_have_attribute("data-status", "met")
    assert_accessible(page)

    page.get_by_test_id("edit-relationship").first.click()
    page.wait_for_selector("main h1")
    assert page.get_by_label("Person or role").input_value() in ("Dana Ortiz", "Peer at Nordwind")
    assert_accessible(page)
    page.get_by_role("link", name="Back to your map").click()
    page.get_by_test_id("share-map").click()
    expect(page.get_by_test_id("notice")).to_have_text("Your map is shared with your manager for review.")

    omar = placed.open("manager")
    open_as(page, live_server, omar, f"/activities/{placed.activity_id}/relationship-maps")
    expect(page.get_by_test_id("map-person")).to_have_count(2)
    assert_accessible(page)
    page.get_by_test_id("read-map-link").first.click()
    expect(page.get_by_test_id("map-counts")).to_have_text("3 relationships: 2 strategic, 1 operational")
    assert_accessible(page)
    page.get_by_test_id("review-link").click()
    expect(page.get_by_test_id("map-for-review")).to_contain_text("Dana Ortiz")
    assert_accessible(page)
