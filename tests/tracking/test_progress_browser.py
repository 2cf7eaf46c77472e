"""The manager's team view and the learner's progress view in Debian's chromium, at an LMS frame's width:
reached from the home page, charts drawn inside the frame, a screenshot of each, and no WCAG 2.2 AA
violation that axe-core finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from lti_tool.db import session_scope
from lti_tool.models import Assessment, Launch, ManagerLink
from lti_tool.states import ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus
from lti_tool.tracking.models import CriterionScore
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor
from tests.rubric_library.test_browser_first_use import open_as
from tests.tracking.test_pages import fill

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _user_of(app: Flask, visitor: Visitor) -> int:
    with session_scope(app) as session:
        launch = session.get(Launch, visitor.launch_token)
        assert launch is not None
        return launch.user_id


def _take_over(app: Flask, designer: Visitor, manager: Visitor, learner: Visitor) -> None:
    """A seeded course in the visitors' course: the manager visitor becomes the first seeded manager (their
    links and the feedback they gave), the learner visitor the first seeded learner (their scores)."""
    seeded = fill(app, designer, learners=24, activities=4).written
    manager_id, learner_id = _user_of(app, manager), _user_of(app, learner)
    with session_scope(app) as session:
        seeded_manager, seeded_learner = seeded.manager_ids[0], seeded.learner_ids[0]
        for model in (Assessment, CriterionScore):
            session.execute(
                update(model).where(model.assessor_id == seeded_manager).values(assessor_id=manager_id)
            )
            session.execute(
                update(model).where(model.learner_id == seeded_learner).values(learner_id=learner_id)
            )
            session.execute(
                update(model).where(model.assessor_id == seeded_learner).values(assessor_id=learner_id)
            )
        session.execute(
            update(ManagerLink).where(ManagerLink.learner_id == seeded_learner).values(learner_id=learner_id)
        )
        linked = set(
            session.scalars(select(ManagerLink.learner_id).where(ManagerLink.manager_id == manager_id))
        )
        for link in session.scalars(select(ManagerLink).where(ManagerLink.manager_id == seeded_manager)):
            if link.learner_id not in linked:
                session.add(
                    ManagerLink(
                        context_id=link.context_id,
                        manager_id=manager_id,
                        learner_id=link.learner_id,
                        relation=ManagerLinkRelation.LINE_MANAGER,
                        source=ManagerLinkSource.DESIGNER,
                        status=ManagerLinkStatus.ACTIVE,
                    )
                )


def test_the_team_and_progress_views_read_at_an_iframes_width_and_pass_axe(
    page: Page,
    app: Flask,
    designer: Visitor,
    manager: Visitor,
    learner: Visitor,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    _take_over(app, designer, manager, learner)
    page.set_viewport_size({"width": 700, "height": 900})
    open_as(page, live_server, manager, "/home")
    page.get_by_test_id("team-progress-link").click()
    expect(page.locator("main h1")).to_have_text("Your people's progress")
    expect(page.get_by_test_id("team-person").first).to_be_visible()
    assert page.get_by_test_id("team-person").count() >= 10  # the seeded manager's people
    chart = page.locator("svg.chart")
    expect(chart).to_have_count(1)
    box = chart.first.bounding_box()
    assert box is not None and 0 < box["width"] <= 700 and box["height"] > 100, box
    assert page.locator("svg.chart polyline").count() >= 2  # a line per competency
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    shot = tmp_path / "team-700.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert_accessible(page)

    page.get_by_test_id("person-link").first.click()
    expect(page.get_by_test_id("progress-title")).to_contain_text("'s progress")
    expect(page.get_by_test_id("row-due").first).to_be_visible()  # their activities, with their state
    assert page.locator("svg.chart").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    assert_accessible(page)

    open_as(page, live_server, learner, "/home")
    page.get_by_test_id("my-progress-link").click()
    expect(page.get_by_test_id("progress-title")).to_have_text("Your progress")
    expect(page.locator("svg.chart circle").first).to_be_visible()  # a point per week and competency
    page.emulate_media(media="print")
    expect(page.locator("svg.chart").first).to_be_visible()
    page.emulate_media(media="screen")
    shot = tmp_path / "progress-700.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert_accessible(page)
