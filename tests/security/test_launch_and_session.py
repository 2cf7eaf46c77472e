"""Launch, session, launch token and CSRF: hostile input is refused cleanly, roles come from the id_token.

Regression tests for the security review: NUL bytes and non-ASCII tokens used to reach PostgreSQL or
``hmac.compare_digest`` and answer 500; a deep-linking ``deep_link_return_url`` with a ``javascript:`` URL
was auto-posted by Cadre's page.
"""

from __future__ import annotations

import re
import urllib.parse

from flask.testing import FlaskClient

from lti_tool.demo.platform import DEEP_LINKING_REQUEST
from lti_tool.lti.errors import CSRF_FAILED, NO_LAUNCH, SESSION_EXPIRED
from tests.fixtures.platform import RunningPlatform, submit_form
from tests.fixtures.visitors import Visitor

ADMIN_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


def csp_directives(policy: str) -> dict[str, str]:
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


# -- hostile values never reach the database -----------------------------------------------------------


def test_a_login_with_a_nul_byte_is_refused_not_a_server_error(
    client: FlaskClient, platform: RunningPlatform
) -> None:
    for data in (
        {"iss": platform.issuer + "\x00", "login_hint": "x", "client_id": platform.client_id},
        {"iss": platform.issuer, "login_hint": "x", "client_id": platform.client_id + "\x00"},
        {"iss": platform.issuer, "login_hint": "x", "client_id": platform.client_id,
         "lti_deployment_id": "\x00"},
    ):
        response = client.post("/lti/login", data=data)
        assert response.status_code in {302, 400, 403}, (data, response.status_code)


def test_a_launch_with_a_nul_byte_in_its_state_is_refused(platform: RunningPlatform) -> None:
    pending = platform.begin_launch("learner")
    token = pending.sign(pending.claims())
    for state in ("state-\x00" + pending.state, "a" * 300, "state-é"):
        response = pending.post(token, state=state)
        assert response.status_code in {400, 401}, (state, response.status_code)
    assert pending.post(token).status_code == 200  # the genuine state still works, once


def test_a_malformed_launch_token_is_a_plain_session_expired(client: FlaskClient) -> None:
    for token in ("\x00abc", "x" * 5000, "ünïcode-token-ünïcode"):
        header = {"X-Cadre-Launch": token.encode("utf-8").decode("latin-1")}
        response = client.get("/home", headers=header)
        assert response.status_code == 401, token
        assert SESSION_EXPIRED in response.get_data(as_text=True)
        posted = client.post("/rubrics/new", data={"lt": token, "title": "x"})
        assert posted.status_code == 401, token
        assert SESSION_EXPIRED in posted.get_data(as_text=True)
        # In the query string a token is not even read (URLs reach logs): the page says how to open Cadre.
        response = client.get("/home", query_string={"lt": token})
        assert response.status_code == 401, token
        assert NO_LAUNCH in response.get_data(as_text=True)
    empty = client.get("/home", headers={"X-Cadre-Launch": ""})
    assert empty.status_code == 401 and NO_LAUNCH in empty.get_data(as_text=True)


def test_a_non_ascii_csrf_token_is_refused_not_a_server_error(designer: Visitor) -> None:
    for token in ("é" * 64, "\u2603", "a\x00b"):
        page = designer.post("/rubrics/new", {"template": "communication"}, csrf=token)
        assert page.status == 400, (token, page.status)
        assert page.texts("error-message") == [CSRF_FAILED]
    refused = designer.post("/rubrics/new", {"template": "communication"}, csrf="é" * 64)
    assert refused.status == 400


def test_a_csrf_token_is_bound_to_its_own_launch(designer: Visitor, other_designer: Visitor) -> None:
    """Someone else's CSRF token (from another launch) does not go with my launch token."""
    page = designer.post(
        "/rubrics/new", {"template": "communication"}, csrf=other_designer.csrf_token
    )
    assert page.status == 400 and page.texts("error-message") == [CSRF_FAILED]


# -- roles only from the signed id_token -------------------------------------------------------------------


def test_custom_parameters_cannot_make_a_learner_an_admin(platform: RunningPlatform) -> None:
    result = platform.launch_as(
        "learner",
        custom={"roles": ADMIN_ROLE, "role": "admin", "cadre_role": "admin", "is_admin": "true"},
    )
    assert result.status == 200
    assert 'data-role="learner"' in result.text
    visitor_token = re.search(r'name="cadre-launch" content="([^"]+)"', result.text)
    assert visitor_token
    refused = result.client.get("/rubrics/", params={"role": "admin"},
                                headers={"X-Cadre-Launch": visitor_token.group(1)})
    assert refused.status_code == 403


def test_a_second_launch_in_the_same_browser_replaces_the_first_session(platform: RunningPlatform) -> None:
    """No session fixation: a launch clears the session, whatever the browser carried."""
    first = platform.launch_as("designer")
    assert 'data-role="designer"' in first.text
    second = platform.launch_as("learner", client=first.client)
    assert 'data-role="learner"' in second.text
    by_cookie = first.client.get("/home")  # no launch token: the cookie alone
    assert by_cookie.status_code == 200 and 'data-role="learner"' in by_cookie.text


def test_the_session_and_state_cookies_are_secure_httponly_partitioned(platform: RunningPlatform) -> None:
    pending = platform.begin_launch("learner")
    cookies = pending.login_response.headers.get_list("set-cookie")
    response = pending.post(pending.sign(pending.claims()), follow_redirects=False)
    cookies += response.headers.get_list("set-cookie")
    assert any(cookie.startswith("cadre_session=") for cookie in cookies)
    assert any(cookie.startswith("lti1p3-state-") for cookie in cookies)
    for cookie in cookies:
        flags = {flag.strip().split("=")[0].lower() for flag in cookie.split(";")[1:]}
        assert {"secure", "httponly", "partitioned"} <= flags, cookie
        assert "samesite=none" in cookie.lower().replace(" ", ""), cookie
    # The launch token travels in the redirect to Cadre's own page only.
    assert response.status_code == 303
    location = urllib.parse.urlsplit(response.headers["location"])
    assert not location.netloc and location.path == "/home"


# -- deep linking: the return URL comes from the validated claim and must be http(s) ------------------------


def test_a_deep_link_return_url_that_is_not_http_is_refused_at_launch(platform: RunningPlatform) -> None:
    for return_url in ("javascript:alert(document.domain)", "data:text/html,<script>1</script>", "/relative"):
        pending = platform.begin_launch("designer", message_type=DEEP_LINKING_REQUEST)
        claims = pending.claims()
        settings_claim = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
        claims[settings_claim] = {**claims[settings_claim], "deep_link_return_url": return_url}
        response = pending.post(pending.sign(claims))
        assert response.status_code == 400, return_url
        assert "deep_link_return_url is not an absolute http(s) URL" in response.text


def test_the_deep_link_return_page_may_post_only_to_the_platform(platform: RunningPlatform) -> None:
    result = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST)
    assert result.status == 200, result.text[:2000]
    returned = submit_form(result.client, result.response, {"title": "Feedback round"},
                           form="deep-link-form")
    assert returned.status_code == 200, returned.text[:2000]
    directives = csp_directives(returned.headers["Content-Security-Policy"])
    platform_origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(platform.url))
    assert directives["form-action"].split() == ["'self'", platform_origin]
    assert "'unsafe-inline'" not in directives["script-src"]
    nonce = re.search(r"'nonce-([^']+)'", directives["script-src"])
    assert nonce and f'<script nonce="{nonce.group(1)}">' in returned.text
    # The deep-linking page itself posts to Cadre only.
    assert csp_directives(result.response.headers["Content-Security-Policy"])["form-action"] == "'self'"
