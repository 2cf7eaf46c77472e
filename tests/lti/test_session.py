"""Cadre's session after a launch: launch token, cookie, roles, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.db import session_scope, utcnow
from lti_tool.lti import session as cadre_session
from lti_tool.lti.errors import CSRF_FAILED, NO_LAUNCH, SESSION_EXPIRED
from lti_tool.lti.launch import DEEP_LINKING_REQUEST
from lti_tool.models import Launch
from tests.lti.conftest import INSTRUCTOR, InProcessLms

HEADER = cadre_session.LAUNCH_TOKEN_HEADER


def launch_token_of(response_location: str) -> str:
    """The token a launch hands over in the fragment of its redirect (never in the query string)."""
    match = re.fullmatch(r"/[^?#]*#lt=([A-Za-z0-9_-]+)", response_location)
    assert match, response_location
    return match.group(1)


@pytest.fixture
def learner(app: Flask, in_process_lms: InProcessLms) -> str:
    """A learner's launch token (the launch id)."""
    return launch_token_of(in_process_lms.launch_as(app.test_client()).headers["Location"])


def test_token_from_header_or_cookie_never_from_the_query(
    app: Flask, in_process_lms: InProcessLms, learner: str
) -> None:
    cookieless = app.test_client()
    never_launched = cookieless.get("/home")
    assert never_launched.status_code == 401 and NO_LAUNCH in never_launched.get_data(as_text=True)
    assert cookieless.get("/home", headers={HEADER: learner}).status_code == 200
    in_query = cookieless.get(f"/home?lt={learner}")  # a URL reaches logs, proxies and Referer headers
    assert in_query.status_code == 401 and NO_LAUNCH in in_query.get_data(as_text=True)
    unknown = cookieless.get("/home", headers={HEADER: "not-a-launch"})
    assert unknown.status_code == 401 and SESSION_EXPIRED in unknown.get_data(as_text=True)

    browser = app.test_client()
    in_process_lms.launch_as(browser)
    assert browser.get("/home").status_code == 200  # the session cookie alone


def test_an_explicit_token_of_another_browser_is_refused_and_the_cookie_keeps_its_launch(
    app: Flask, in_process_lms: InProcessLms, learner: str
) -> None:
    """The learner launched in another browser: their token sent with this browser's cookie is someone
    else's session (login CSRF), not a choice of launch."""
    browser = app.test_client()
    designer = launch_token_of(
        in_process_lms.launch_as(browser, sub="designer-1", roles=[INSTRUCTOR]).headers["Location"]
    )
    assert 'data-role="designer"' in browser.get("/home").get_data(as_text=True)
    refused = browser.get("/home", headers={HEADER: learner})
    assert refused.status_code == 403
    assert cadre_session.FOREIGN_LAUNCH in refused.get_data(as_text=True)
    assert 'data-role="designer"' in browser.get("/home").get_data(as_text=True)
    assert 'data-role="designer"' in browser.get("/home", headers={HEADER: designer}).get_data(as_text=True)


def test_expired_launch_is_a_401(app: Flask, learner: str) -> None:
    with session_scope(app) as session:
        session.get(Launch, learner).expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    response = app.test_client().get("/home", headers={HEADER: learner})
    assert response.status_code == 401 and SESSION_EXPIRED in response.get_data(as_text=True)


def test_role_not_allowed_is_a_403(app: Flask, learner: str) -> None:
    response = app.test_client().get("/lti/deep-link", headers={HEADER: learner})
    assert response.status_code == 403
    assert (
        "This page is for a designer or an administrator; you are signed in to Cadre as a learner"
        in response.get_data(as_text=True)
    )


def deep_link_launch(app: Flask, in_process_lms: InProcessLms, client: FlaskClient) -> str:
    response = in_process_lms.launch_as(client, roles=[INSTRUCTOR], message_type=DEEP_LINKING_REQUEST)
    assert response.headers["Location"].startswith("/lti/deep-link#lt=")
    return launch_token_of(response.headers["Location"])


def test_csrf_is_required_on_unsafe_methods(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    token = deep_link_launch(app, in_process_lms, client)
    form = {"lt": token, "kind": "self_assessment", "title": "Rate yourself"}
    with app.test_request_context():
        good = cadre_session.csrf_token_for(token, app.config["SECRET_KEY"])

    for sent in (
        {},
        {"csrf_token": "forged"},
        {"csrf_token": cadre_session.csrf_token_for(token, "other-key")},
    ):
        response = client.post("/lti/deep-link", data={**form, **sent})
        assert response.status_code == 400 and CSRF_FAILED in response.get_data(as_text=True)

    assert client.post("/lti/deep-link", data={**form, "csrf_token": good}).status_code == 200
    assert client.post("/lti/deep-link", data=form, headers={"X-CSRF-Token": good}).status_code == 200
    # No launch at all: the form is not the problem, there is no session to post in.
    never_launched = app.test_client().post("/lti/deep-link", data={"csrf_token": good})
    assert never_launched.status_code == 401 and NO_LAUNCH in never_launched.get_data(as_text=True)
    expired = app.test_client().post("/lti/deep-link", data={"lt": "not-a-launch", "csrf_token": good})
    assert expired.status_code == 401 and SESSION_EXPIRED in expired.get_data(as_text=True)
    # The token in the form, without the cookie of its browser (third-party cookies refused), still works.
    assert app.test_client().post("/lti/deep-link", data={**form, "csrf_token": good}).status_code == 200


def test_lti_endpoints_the_platform_posts_are_exempt(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/lti/launch", data={}).status_code == 400  # a launch error, not a CSRF error
    assert CSRF_FAILED not in client.post("/lti/login", data={}).get_data(as_text=True)


def test_template_helpers(app: Flask, learner: str) -> None:
    with app.test_request_context("/home", headers={HEADER: learner}):
        assert cadre_session.current_launch() is not None
        assert cadre_session.launch_token() == learner
        assert cadre_session.launch_url("pages.home") == "/home"  # links never carry the token
        assert cadre_session.csrf_token() == cadre_session.csrf_token_for(learner, app.config["SECRET_KEY"])
    with app.test_request_context("/home"):
        assert cadre_session.current_launch() is None
        assert cadre_session.launch_token() == "" and cadre_session.csrf_token() == ""
        assert cadre_session.launch_url("pages.home") == "/home"


def test_session_cookie_configuration(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    assert app.config["SESSION_COOKIE_PARTITIONED"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
