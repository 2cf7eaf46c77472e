"""The manager insight survey in a real browser (Debian's chromium): a manager answers it (a known mistake
picked, one typed, a cost estimate), the designer sees the ranked gaps, merges two answers into a named
gap and ranks by cost; axe-core's WCAG 2.2 AA checks on the survey form (also with its problems shown),
the settings panel, the ranked gaps and the follow-up pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from lti_tool.db import session_scope
from lti_tool.programme.models import FollowUp, KnownMistake
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import visitor_from
from tests.programme import test_pages
from tests.programme.test_pages import Placed, place_kind
from tests.rubric_library.test_browser_first_use import open_as

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

placed = test_pages.placed  # the fixture: a survey placed and set up by the designer


def test_a_manager_answers_the_survey_and_the_designer_sees_ranked_gaps(
    page: Page, placed: Placed, app: Flask, live_server: LiveServer,
) -> None:
    with session_scope(app) as session:
        listening = session.scalar(select(KnownMistake.id).where(
            KnownMistake.label == "Not listening to the customer"))
    omar = placed.open("manager")
    open_as(page, live_server, omar, f"/activities/{placed.activity_id}/survey")
    assert_accessible(page)

    page.get_by_label("Pick a known mistake").first.select_option(str(listening))
    page.get_by_label("How often does it happen?").first.select_option("daily")
    page.get_by_label("Business impact").first.select_option("4")
    page.get_by_label("Or describe it").nth(1).fill("Promising refunds we cannot give")
    page.get_by_label("How often does it happen?").nth(1).select_option("per_week")
    page.get_by_label("Times a week (for your own estimate)").nth(1).fill("lots")
    page.get_by_label("Business impact").nth(1).select_option("5")
    page.get_by_test_id("submit-survey").click()
    expect(page.get_by_test_id("form-message")).to_be_visible()
    assert page.locator("[aria-invalid=true]").count() == 1  # the estimate, kept as typed
    assert page.get_by_label("Or describe it").nth(1).input_value() == "Promising refunds we cannot give"
    assert_accessible(page)

    page.get_by_label("Times a week (for your own estimate)").nth(1).fill("2")
    page.get_by_label("Cost of one occurrence (optional)").nth(1).fill("300")
    page.get_by_label("Currency").nth(1).select_option("EUR")
    page.get_by_test_id("submit-survey").click()
    expect(page.get_by_test_id("notice")).to_contain_text("your answer is submitted")

    rita = placed.open("manager", user="manager-rita")
    rita_page = page.context.new_page()
    open_as(rita_page, live_server, rita, f"/activities/{placed.activity_id}/survey")
    rita_page.get_by_label("Or describe it").first.fill("Promising refunds that we cannot give")
    rita_page.get_by_label("How often does it happen?").first.select_option("weekly")
    rita_page.get_by_label("Business impact").first.select_option("3")
    rita_page.get_by_test_id("submit-survey").click()
    expect(rita_page.get_by_test_id("notice")).to_be_visible()
    rita_page.close()

    open_as(page, live_server, placed.designer, f"/activities/{placed.activity_id}/survey/results")
    names = page.get_by_test_id("gap-name").all_inner_texts()
    assert names == ["Not listening to the customer", "Promising refunds we cannot give",
                     "Promising refunds that we cannot give"]  # 5 × 4 = 20, then 2 × 5 = 10, then 1 × 3
    assert_accessible(page)
    page.get_by_test_id("accept-suggestion").click()
    expect(page.get_by_test_id("notice")).to_be_visible()
    assert page.get_by_test_id("gap-answers").all_inner_texts()[:2] == ["1", "2"]
    page.get_by_test_id("rank-by-cost").click()
    expect(page.get_by_test_id("rank-by-score")).to_be_visible()
    assert page.get_by_test_id("gap-name").first.inner_text().startswith("Promising refunds")
    assert page.get_by_test_id("gap-cost").first.inner_text().startswith("600.00 EUR")
    assert_accessible(page)

    open_as(page, live_server, placed.designer, f"/activities/{placed.activity_id}/settings")
    expect(page.get_by_test_id("survey-settings")).to_be_visible()
    assert_accessible(page)


def test_the_follow_up_pages_are_accessible(page: Page, placed: Placed, app: Flask,
                                            live_server: LiveServer) -> None:
    omar = placed.open("manager")
    test_pages.post_answer(omar, omar.get(f"/activities/{placed.activity_id}/survey"),
                           test_pages.row("Late to calls", impact="4"))
    link, follow_id, designer = place_kind(placed.platform, app, "six_month_follow_up", "Six months on")
    settings = designer.get(f"/activities/{follow_id}/settings")
    designer.submit(settings, "follow-up-settings-form", {"source_activity_id": str(placed.activity_id)})
    with session_scope(app) as session:
        session.execute(update(FollowUp).values(due_at=datetime.now(UTC) - timedelta(days=1)))
        follow_up_id = session.scalar(select(FollowUp.id))
    manager = visitor_from(placed.platform.launch_as("manager", activity=link), "manager")
    open_as(page, live_server, manager, f"/activities/{follow_id}/follow-ups")
    assert_accessible(page)
    page.get_by_test_id("follow-up-link").click()
    expect(page.get_by_test_id("follow-up-note")).to_be_visible()
    page.get_by_label("Business impact").first.select_option("1")
    page.get_by_label("What changed since your first answer?").fill("Calls start on time now.")
    assert_accessible(page)
    page.get_by_test_id("submit-survey").click()
    expect(page.get_by_test_id("notice")).to_contain_text("follow-up is submitted")
    open_as(page, live_server, designer, f"/activities/{follow_id}/follow-ups/report")
    assert page.get_by_test_id("gap-delta").all_inner_texts() == ["-3.00"]
    assert_accessible(page)
    assert follow_up_id is not None
