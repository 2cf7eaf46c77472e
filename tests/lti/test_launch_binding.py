"""Launch tokens stay out of URLs, are bound to the browser that launched, and pages holding them are never
stored by a cache (issue 7, §3.4, §3.5, §3.7, §3.8)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.db import session_scope, utcnow
from lti_tool.lti import session as cadre_session
from lti_tool.lti.launch import DEEP_LINKING_REQUEST
from lti_tool.models import Launch, Rubric
from tests.lti.conftest import INSTRUCTOR, InProcessLms

HEADER = "X-Cadre-Launch"
# A rubric as the "New rubric" form posts it: the one form that creates something in the library.
NEW_RUBRIC = {
    "title": "Stakeholder map",
    "scoring_mode": "levels_only",
    "criteria-0-title": "Breadth",
    "criteria-0-levels-0-title": "Narrow",
    "criteria-0-levels-1-title": "Wide",
    "action": "save",
}


def landing(response_location: str) -> tuple[str, str]:
    """The page a launch redirects to and the token in its fragment."""
    match = re.fullmatch(r"(/[^?#]*)#lt=([A-Za-z0-9_-]+)", response_location)
    assert match, response_location
    return match.group(1), match.group(2)


def launched(client: FlaskClient, lms: InProcessLms, **claims: object) -> str:
    response = lms.launch_as(client, **claims)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return landing(response.headers["Location"])[1]


def role_on_home(client: FlaskClient, **kwargs: object) -> str | None:
    page = client.get("/home", **kwargs).get_data(as_text=True)  # type: ignore[arg-type]
    match = re.search(r'data-testid="user-role" data-role="([a-z]+)"', page)
    return match.group(1) if match else None


# -- the token never rides in a URL ------------------------------------------------------------------------


def test_the_launch_redirect_hands_the_token_over_in_the_fragment_only(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    response = in_process_lms.launch_as(app.test_client())
    path, token = landing(response.headers["Location"])
    assert path == "/home" and "?" not in response.headers["Location"]
    assert response.headers["Cache-Control"] == "no-store"  # the Location holds the token
    deep = in_process_lms.launch_as(app.test_client(), roles=[INSTRUCTOR], message_type=DEEP_LINKING_REQUEST)
    assert landing(deep.headers["Location"])[0] == "/lti/deep-link"
    with session_scope(app) as session:
        assert session.get(Launch, token) is not None


def test_a_token_in_the_query_string_is_ignored(app: Flask, in_process_lms: InProcessLms) -> None:
    token = launched(app.test_client(), in_process_lms)
    cookieless = app.test_client()
    response = cookieless.get(f"/home?lt={token}")
    assert response.status_code == 401
    assert '<meta name="cadre-no-launch"' in response.get_data(as_text=True)  # the script may retry
    assert role_on_home(cookieless, headers={HEADER: token}) == "learner"  # the header is the carrier


def test_pages_link_without_the_token_and_forms_post_it(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    token = launched(client, in_process_lms, roles=[INSTRUCTOR])
    for path in ("/rubrics/", "/rubrics/import"):
        page = client.get(path).get_data(as_text=True)
        hrefs = re.findall(r'(?:href|action)="([^"]*)"', page)
        assert hrefs and not [href for href in hrefs if token in href or "lt=" in href], path
        assert "cadre-launch.js" in page
    assert f'name="lt" value="{token}"' in page  # the import form: in its POST body


# -- bound to the browser that launched ------------------------------------------------------------------


def test_someone_elses_token_with_the_victims_cookie_is_refused_and_keeps_the_victims_session(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    attacker = launched(app.test_client(), in_process_lms, sub="attacker", roles=[INSTRUCTOR])
    victim = app.test_client()
    launched(victim, in_process_lms, sub="victim")
    assert role_on_home(victim) == "learner"
    victims_cookie = victim.get_cookie("cadre_session").value  # type: ignore[union-attr]
    with session_scope(app) as session:
        launches_before = session.scalar(select(func.count()).select_from(Launch))

    refused = victim.get("/home", headers={HEADER: attacker})
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert cadre_session.FOREIGN_LAUNCH in page and "attacker" not in page
    assert victim.get_cookie("cadre_session").value == victims_cookie  # type: ignore[union-attr]
    # a form posted with the attacker's token and CSRF token is refused the same way, and stores nothing
    with app.test_request_context():
        csrf = cadre_session.csrf_token_for(attacker, app.config["SECRET_KEY"])
    posted = victim.post("/rubrics/new", data={"lt": attacker, "csrf_token": csrf, **NEW_RUBRIC})
    assert posted.status_code == 403
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Rubric)) == 0
        assert session.scalar(select(func.count()).select_from(Launch)) == launches_before
    assert role_on_home(victim) == "learner"  # still the victim, on the victim's own launch


def test_two_launches_of_one_browser_both_stay_usable(app: Flask, in_process_lms: InProcessLms) -> None:
    """Two tabs, two courses: the browser secret outlives a launch, so the first tab's token still works."""
    browser = app.test_client()
    first = launched(browser, in_process_lms, sub="designer-1", roles=[INSTRUCTOR])
    launched(browser, in_process_lms, sub="designer-1")
    assert role_on_home(browser) == "learner"  # the cookie names the latest launch
    assert role_on_home(browser, headers={HEADER: first}) == "designer"


def test_a_cookie_without_the_browser_secret_of_its_launch_is_refused(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    client = app.test_client()
    token = launched(client, in_process_lms)
    with session_scope(app) as session:
        session.get(Launch, token).browser_hash = cadre_session.browser_hash("x" * 43)  # type: ignore[union-attr]
    assert client.get("/home").status_code == 401


def test_a_form_from_another_origin_is_refused_before_any_token_is_read(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    client = app.test_client()
    token = launched(client, in_process_lms, roles=[INSTRUCTOR])
    with app.test_request_context():
        csrf = cadre_session.csrf_token_for(token, app.config["SECRET_KEY"])
    form = {"lt": token, "csrf_token": csrf, **NEW_RUBRIC}
    cross_site = app.test_client().post("/rubrics/new", data=form,
                                        headers={"Origin": "https://evil.invalid"})
    assert cross_site.status_code == 403
    assert cadre_session.FOREIGN_ORIGIN in html.unescape(cross_site.get_data(as_text=True))
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Rubric)) == 0


# -- caches and redirects --------------------------------------------------------------------------------


def page_routes(app: Flask, rubric_id: int) -> list[str]:
    """Every GET page of the route table, its arguments filled in."""
    values = {"rubric_id": rubric_id, "slug": "communication", "filename": "cadre.css"}
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if not set(rule.arguments) <= set(values):
            continue
        path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        paths.append(path)
    return sorted(paths)


def test_every_page_with_a_launch_is_no_store(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    token = launched(client, in_process_lms, roles=[INSTRUCTOR])
    with app.test_request_context():
        csrf = cadre_session.csrf_token_for(token, app.config["SECRET_KEY"])
    created = client.post("/rubrics/new", data={"lt": token, "csrf_token": csrf, **NEW_RUBRIC})
    assert created.status_code == 303
    rubric_id = int(re.search(r"/rubrics/(\d+)", created.headers["Location"]).group(1))  # type: ignore[union-attr]
    assert created.headers["Cache-Control"] == "no-store"
    paths = page_routes(app, rubric_id)
    assert "/home" in paths and f"/rubrics/{rubric_id}/edit" in paths and "/rubrics/" in paths
    for path in paths:
        response = client.get(path)
        body = response.get_data(as_text=True)
        if token in body or csrf in body:
            assert response.headers.get("Cache-Control") == "no-store", path
        if response.status_code < 400 and path.startswith(("/home", "/rubrics", "/lti/deep-link")):
            assert response.headers.get("Cache-Control") == "no-store", path


@pytest.mark.parametrize("path", ["/rubrics", "/rubrics?notice=saved"])
def test_the_trailing_slash_redirect_ignores_a_spoofed_host(app: Flask, path: str) -> None:
    response = app.test_client().get(path, headers={"Host": "evil.invalid"})
    assert response.status_code in (301, 308)
    location = response.headers["Location"]
    assert "evil.invalid" not in location
    assert location == "/rubrics/" + ("?notice=saved" if "?" in path else "")
    doubled = app.test_client().get("//evil.invalid/rubrics", headers={"Host": "evil.invalid"})
    assert not doubled.headers.get("Location", "/").startswith("//")


# -- how long a session lasts (§3.8) ---------------------------------------------------------------------


def test_the_session_cookie_lasts_as_long_as_the_launch(app: Flask, in_process_lms: InProcessLms) -> None:
    response = in_process_lms.launch_as(app.test_client())
    token = landing(response.headers["Location"])[1]
    cookie = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith("cadre_session="))
    cookie_expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    with session_scope(app) as session:
        launch = session.get(Launch, token)
        assert launch is not None
        launch_expires = launch.expires_at
    lifetime = timedelta(minutes=app.config["CADRE"].launch_token_minutes)
    assert abs(cookie_expires - (utcnow() + lifetime)) < timedelta(seconds=30)
    assert abs(cookie_expires - launch_expires) < timedelta(seconds=5)
    assert not hasattr(app.config["CADRE"], "session_lifetime_minutes")  # one lifetime, not two
