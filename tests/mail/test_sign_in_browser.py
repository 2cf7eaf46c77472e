"""Over real HTTP: an invited manager opens the e-mailed link in Debian chromium (the page posts the
token at once, the manager lands signed in on their course, and neither the address bar nor the history
keeps the token); requests racing with one link get one session."""

from __future__ import annotations

import re
import threading

import httpx
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.invitations import services
from lti_tool.models import Launch
from lti_tool.outbox import Worker
from tests.feedback.conftest import Course
from tests.fixtures.live_server import LiveServer
from tests.mail.conftest import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_emailed_link_signs_in_at_once_and_leaves_no_token_behind(
    page: Page, live_server: LiveServer, app: Flask, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    course.activity()  # a line-manager activity: Paula is Chloé's only manager
    course.db.commit()  # the live server reads committed rows
    services.invite(course.db, course.designer, "paula@example.org", "Paula Price", [course.chloe.id])
    course.db.commit()
    Worker(app, topics=["email"]).run_once()
    (message,) = smtp.mailbox.to("paula@example.org")
    found = re.search(rf"{re.escape(live_server.url)}/invitations/sign-in/([A-Za-z0-9_-]{{43}})",
                      message.get_content())
    assert found, message.get_content()
    token = found.group(1)

    page.goto(found.group(0))
    page.wait_for_url(re.compile(r".*/invitations/home.*"))
    assert page.get_by_test_id("signed-in-as").inner_text() == "Paula Price"
    assert token not in page.url
    assert token not in str(page.evaluate("JSON.stringify([location.href, history.length])"))
    page.go_back()  # the sign-in page's history entry lost its token before the form was posted
    assert token not in page.url

    page.goto(f"{live_server.url}/invitations/home")
    page.get_by_test_id("people-link").click()  # the same manager page as from the LMS
    # expect() waits for the people page: reading the list at once could read the page being left.
    expect(page.get_by_test_id("person").first).to_contain_text("Chloé Martin")


def test_two_requests_racing_with_one_link_get_one_session(
    live_server: LiveServer, app: Flask, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    course.db.commit()
    services.invite(course.db, course.designer, "paula@example.org", "Paula Price", [course.chloe.id])
    course.db.commit()
    Worker(app, topics=["email"]).run_once()
    found = re.search(r"/invitations/sign-in/([A-Za-z0-9_-]{43})", smtp.mailbox.to("paula@example.org")[0]
                      .get_content())
    assert found
    statuses: list[int] = []
    start = threading.Barrier(8)

    def exchange() -> None:
        with httpx.Client(base_url=live_server.url) as client:
            start.wait()
            statuses.append(client.post("/invitations/sign-in", data={"token": found.group(1)}).status_code)

    threads = [threading.Thread(target=exchange) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [303] + [410] * 7
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Launch)) == 1
