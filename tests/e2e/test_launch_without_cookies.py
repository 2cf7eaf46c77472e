"""A Cadre session in a real browser that keeps none of Cadre's cookies (Safari, Firefox strict, or Chrome
with third-party cookies off in the LMS iframe), and a link that tries to hand a tab someone else's launch.

Cadre and the demo LMS both run on 127.0.0.1 (one site), so Chromium would keep Cadre's cookies: the test
takes ``Set-Cookie`` out of Cadre's answers, so the browser never has a Cadre cookie to send (the state
cookie of the login included: the launch is bound by Platform Storage). What Cadre's server receives is
recorded from its WSGI environ: the request line, Cookie and Referer exactly as they arrived.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Frame, Page, expect
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.lti.errors import NO_LAUNCH
from lti_tool.models import Launch, Rubric
from tests.fixtures.live_server import LiveServer
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import Visitor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TOOL_FRAME = "iframe[data-testid=tool-frame]"
TOKEN_KEY = "cadre-launch"  # the sessionStorage key of static/cadre-launch.js


@dataclass(frozen=True)
class Arrival:
    """One request as Cadre's server received it."""

    method: str
    target: str  # the request line's target: path and query, exactly as sent
    cookie: str
    referer: str
    launch_header: str


@pytest.fixture
def arrivals(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Arrival]]:
    """Every request Cadre's server receives in this test, as it arrived (before Cadre or any wrapper)."""
    received: list[Arrival] = []

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        received.append(Arrival(
            method=environ["REQUEST_METHOD"],
            target=target,
            cookie=environ.get("HTTP_COOKIE", ""),
            referer=environ.get("HTTP_REFERER", ""),
            launch_header=environ.get("HTTP_X_CADRE_LAUNCH", ""),
        ))
        return inner(environ, start_response)

    inner = live_server.app.wsgi_app
    monkeypatch.setattr(live_server.app, "wsgi_app", recording)
    yield received


def refuse_cookies(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser keeps none of Cadre's cookies: Cadre's answers reach it without ``Set-Cookie``.

    Done at Cadre's server, after Cadre answered: Chromium has no switch to refuse one site's cookies, and
    a response Playwright fulfils itself counts as coming from the public internet, so Chromium's local
    network checks block the next navigation to 127.0.0.1.
    """
    inner = live_server.app.wsgi_app

    def without_set_cookie(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [(k, v) for k, v in headers if k.lower() != "set-cookie"], *rest)

        return inner(environ, start)

    monkeypatch.setattr(live_server.app, "wsgi_app", without_set_cookie)


def tool_frame(page: Page) -> Frame:
    frame = page.locator(TOOL_FRAME).element_handle().content_frame()
    assert frame is not None
    return frame


def location(frame: Frame | Page) -> urllib.parse.SplitResult:
    return urllib.parse.urlsplit(frame.evaluate("window.location.href"))


def tab_launch(frame: Frame | Page) -> str | None:
    return frame.evaluate(f"window.sessionStorage.getItem({TOKEN_KEY!r})")


def launch_from_the_course_page(platform: RunningPlatform, page: Page, role: str) -> None:
    page.goto(platform.url + "/")
    page.get_by_role("button", name=f"Launch as {platform.user(role).label}").click()


def the_launch_of(app: Flask, role: str) -> str:
    with session_scope(app) as session:
        (token,) = session.scalars(select(Launch.id).where(Launch.role == role)).all()
        return token


def test_a_browser_that_keeps_no_cadre_cookie_launches_browses_and_saves(
    platform: RunningPlatform,
    page: Page,
    app: Flask,
    arrivals: list[Arrival],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    designer = platform.user("designer")
    refuse_cookies(platform.cadre, monkeypatch)
    launch_from_the_course_page(platform, page, "designer")

    # The launch (bound by Platform Storage, the state cookie being refused too) lands on /home#lt=…;
    # the page comes back without a session and Cadre's script asks again with the handed-over token.
    tool = page.frame_locator(TOOL_FRAME)
    expect(tool.get_by_test_id("user-name")).to_have_text(designer.label)
    expect(tool.get_by_test_id("user-role")).to_have_attribute("data-role", "designer")
    token = the_launch_of(app, "designer")
    landed = location(tool_frame(page))
    assert landed.path == "/home" and landed.fragment == "" and not landed.query  # the fragment is gone
    assert tab_launch(tool_frame(page)) == token

    # To the rubric library and back, by the page's own links.
    tool.get_by_test_id("rubric-library-link").click()
    expect(tool.get_by_test_id("templates")).to_be_visible()
    assert location(tool_frame(page)).path == "/rubrics/"
    tool.get_by_role("link", name="Cadre").click()
    expect(tool.get_by_test_id("user-name")).to_have_text(designer.label)

    # A form: a new rubric, posted with the token in its body, then the page it redirects to.
    tool.get_by_test_id("rubric-library-link").click()
    tool.get_by_test_id("nav-new").click()
    tool.locator("#field-title").fill("Stakeholder map")
    tool.locator("#field-scoring_mode").select_option("levels_only")
    tool.locator("#field-criteria-0-title").fill("Breadth")
    tool.locator("#field-criteria-0-levels-0-title").fill("Narrow")
    tool.locator("#field-criteria-0-levels-1-title").fill("Wide")
    tool.get_by_test_id("save").click()
    expect(tool.get_by_test_id("rubric-heading")).to_have_text("Stakeholder map")
    with session_scope(app) as session:
        assert session.scalars(select(Rubric.title)).all() == ["Stakeholder map"]

    to_cadre = [arrival for arrival in arrivals if arrival.target.startswith("/")]
    assert len(to_cadre) > 10
    # The cookies really were refused: not one request came back with one.
    assert [arrival for arrival in to_cadre if arrival.cookie] == []
    # The token reached Cadre only in the header and in posted forms: never in a URL or a Referer.
    assert [arrival.target for arrival in to_cadre if token in arrival.target] == []
    assert [arrival.referer for arrival in to_cadre if token in arrival.referer] == []
    carried = {(arrival.method, urllib.parse.urlsplit(arrival.target).path)
               for arrival in to_cadre if arrival.launch_header == token}
    assert {("GET", "/home"), ("GET", "/rubrics/"), ("GET", "/rubrics/new")} <= carried
    assert ("POST", "/rubrics/new") in {(arrival.method, arrival.target) for arrival in to_cadre}


def test_a_link_with_someone_elses_launch_in_its_fragment_is_ignored(
    platform: RunningPlatform, page: Page, designer: Visitor, arrivals: list[Arrival]
) -> None:
    """``/home#lt=<the sender's token>`` must not make the victim's tab act as the sender (login CSRF):
    the script only keeps a handed-over token this tab's own launch produced."""
    someone_elses = designer.launch_token
    cadre = platform.cadre.url
    link = f"{cadre}/home#lt={someone_elses}"

    # A browser with no Cadre session at all: the page says how to open Cadre, and stays so.
    page.goto(link)
    expect(page.get_by_test_id("error-message")).to_have_text(NO_LAUNCH)
    page.wait_for_load_state("networkidle")
    assert location(page).fragment == ""
    assert tab_launch(page) is None

    # A learner's browser, launched from the course (cookies kept): the link shows the learner's own home.
    learner = platform.user("learner")
    launch_from_the_course_page(platform, page, "learner")
    expect(page.frame_locator(TOOL_FRAME).get_by_test_id("user-name")).to_have_text(learner.label)
    page.goto(link)
    expect(page.get_by_test_id("user-name")).to_have_text(learner.label)
    expect(page.get_by_test_id("user-role")).to_have_attribute("data-role", "learner")
    page.wait_for_load_state("networkidle")
    assert location(page).fragment == ""
    assert tab_launch(page) != someone_elses

    browser_requests = [arrival for arrival in arrivals if arrival.method == "GET" and not arrival.cookie
                        and arrival.target == "/home" and not arrival.launch_header]
    assert browser_requests, "the first visit came without any session"
    assert [arrival for arrival in arrivals if someone_elses in arrival.launch_header] == []
    assert [arrival for arrival in arrivals if someone_elses in arrival.target] == []
