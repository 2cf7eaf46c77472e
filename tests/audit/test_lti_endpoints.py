"""Audit of the endpoints the platform and the browser call without a Cadre session: ``/lti/login`` and
``/lti/launch`` with malformed requests not covered elsewhere (methods, empty and foreign bodies, huge and
non-UTF-8 values, tokens whose JSON is not what a JWT holds). Each is refused with the status and message
of ``lti_tool.lti.errors`` and stores nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.lti.errors import REJECTIONS, rejection_action, rejection_message
from tests.audit.helpers import changed_tables, stored_rows
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import read_page


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: Any, body: Any) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}.c2lnbmF0dXJl"


def message_of(response: Any) -> list[str]:
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return read_page(httpx.Response(200, text=text)).texts("error-message")


def action_of(response: Any) -> list[str]:
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return read_page(httpx.Response(200, text=text)).texts("error-action")


def assert_refused(response: Any, reason: str, **details: Any) -> None:
    status = response.status_code
    assert status == REJECTIONS[reason].status, (reason, status)
    assert message_of(response) == [rejection_message(reason, **details)]


# -- /lti/login --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_login_without_parameters_names_the_missing_one_and_the_login_url(
    method: str, client: FlaskClient, app: Flask
) -> None:
    login_url = app.config["CADRE"].url("/lti/login")
    before = stored_rows(app)
    response = client.open("/lti/login", method=method)
    assert_refused(response, "login_missing_param", param="iss")
    assert action_of(response) == [rejection_action("login_missing_param", login_url=login_url)]

    only_issuer = client.open("/lti/login", method=method, query_string={"iss": "https://lms.test"})
    assert_refused(only_issuer, "login_missing_param", param="login_hint")
    assert changed_tables(before, stored_rows(app)) == []


def test_a_login_by_get_and_by_post_lead_to_the_same_platform_authorization(
    client: FlaskClient, platform: RunningPlatform
) -> None:
    params = {"iss": platform.issuer, "login_hint": "someone", "client_id": platform.client_id}
    by_get = client.get("/lti/login", query_string=params)
    by_post = client.post("/lti/login", data=params)
    for response in (by_get, by_post):
        assert response.status_code == 302
        assert response.headers["Location"].startswith(platform.lti.auth_login_url + "?")


def test_a_login_with_non_utf8_or_huge_values_is_an_unknown_registration(
    client: FlaskClient, platform: RunningPlatform, app: Flask
) -> None:
    before = stored_rows(app)
    non_utf8 = client.post(
        "/lti/login",
        data=b"iss=%FF%FE&login_hint=x&client_id=%C3%28",
        content_type="application/x-www-form-urlencoded",
    )
    assert non_utf8.status_code == 403
    assert message_of(non_utf8)[0].startswith("Issuer ")
    assert message_of(non_utf8)[0].endswith("is not registered in Cadre.")

    huge = client.post("/lti/login", data={"iss": "https://" + "x" * 100_000, "login_hint": "x",
                                           "client_id": platform.client_id})
    assert huge.status_code == 403
    assert message_of(huge)[0].endswith(f"with client_id {platform.client_id} is not registered in Cadre.")
    assert changed_tables(before, stored_rows(app)) == []


def test_a_login_with_an_unregistered_client_id_stores_no_nonce_or_state(
    client: FlaskClient, platform: RunningPlatform, app: Flask
) -> None:
    before = stored_rows(app)
    refused = client.post(
        "/lti/login", data={"iss": platform.issuer, "login_hint": "x", "client_id": "not-cadre"}
    )
    assert_refused(refused, "unknown_registration", issuer=platform.issuer, client_id="not-cadre")
    assert not [cookie for cookie in refused.headers.getlist("Set-Cookie") if cookie.startswith("lti1p3-")]
    assert changed_tables(before, stored_rows(app)) == []


# -- /lti/launch --------------------------------------------------------------------------------------------


def test_opening_the_launch_url_by_get_names_the_allowed_method(client: FlaskClient) -> None:
    response = client.get("/lti/launch", query_string={"id_token": "a.b.c", "state": "s"})
    assert response.status_code == 405
    assert message_of(response) == ["This address does not accept that kind of request."]
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"", None),
        (b'{"id_token": "a.b.c", "state": "s"}', "application/json"),
        (b"\xff\xfe\x00", "application/octet-stream"),
    ],
    ids=["empty-form", "no-body", "json", "binary"],
)
def test_a_launch_without_a_form_body_is_not_a_launch(
    body: bytes, content_type: str | None, client: FlaskClient, app: Flask
) -> None:
    before = stored_rows(app)
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/lti/launch", data=body, headers=headers)
    assert_refused(response, "missing_id_token")
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize(
    ("id_token", "detail"),
    [
        ("a" * 400_000, "a JWT has three dot-separated parts"),
        ("x" * 200_000 + ".y.z", "header or body is not base64url JSON"),
        (f"{b64(b'[1, 2]')}.{b64(b'{}')}.sig", "header and body must be JSON objects"),
        (f"{b64(b'{}')}.{b64(b'null')}.sig", "header and body must be JSON objects"),
        (b64(b"{}") + "." + b64(b"\xff\xfe") + ".sig", "header or body is not base64url JSON"),
        ("%FF.%FE.%FD", "header or body is not base64url JSON"),
    ],
    ids=["huge-without-dots", "huge-header", "header-is-a-list", "body-is-null", "body-not-utf8",
         "percent-bytes"],
)
def test_an_unreadable_id_token_is_refused_as_unreadable(
    id_token: str, detail: str, client: FlaskClient, app: Flask
) -> None:
    before = stored_rows(app)
    response = client.post("/lti/launch", data={"id_token": id_token, "state": "state-x"})
    assert_refused(response, "malformed_token", detail=detail)
    assert changed_tables(before, stored_rows(app)) == []


def test_a_launch_posted_as_non_utf8_bytes_is_refused_as_unreadable(client: FlaskClient, app: Flask) -> None:
    before = stored_rows(app)
    response = client.post(
        "/lti/launch",
        data=b"id_token=%FF%FE.%FF.%FF&state=%FF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert message_of(response)[0].startswith("The id_token is not a readable JWT")
    assert changed_tables(before, stored_rows(app)) == []


def test_a_token_whose_issuer_is_not_a_string_is_incomplete(client: FlaskClient, app: Flask) -> None:
    before = stored_rows(app)
    for iss in ([1], {"a": 1}, "", None):
        response = client.post(
            "/lti/launch", data={"id_token": unsigned_token({"alg": "RS256", "kid": "k"}, {"iss": iss}),
                                 "state": "s"}
        )
        assert response.status_code == 400, iss
        assert message_of(response)[0].startswith("The id_token has no iss claim"), iss
    assert changed_tables(before, stored_rows(app)) == []


def test_a_key_id_or_algorithm_of_the_wrong_type_is_refused_as_untrusted(
    platform: RunningPlatform, app: Flask
) -> None:
    pending = platform.begin_launch("learner")
    body = {"iss": platform.issuer}
    before = stored_rows(app)
    no_kid = pending.post(unsigned_token({"alg": "RS256", "kid": ["k"]}, body), follow_redirects=False)
    assert no_kid.status_code == 401
    assert message_of(no_kid) == [rejection_message("missing_kid")]
    odd_alg = pending.post(unsigned_token({"alg": {"x": 1}, "kid": "k"}, body), follow_redirects=False)
    assert odd_alg.status_code == 401
    assert message_of(odd_alg) == [rejection_message("unsupported_alg", alg={"x": 1})]
    assert changed_tables(before, stored_rows(app)) == []
    genuine = pending.post(pending.sign(pending.claims()))
    assert genuine.status_code == 200  # the login those refusals rode on was not used up


def test_an_id_token_of_deeply_nested_json_is_refused_as_unreadable(
    platform: RunningPlatform, app: Flask
) -> None:
    nested = b64(b"[" * 100_000)
    before = stored_rows(app)
    with httpx.Client(base_url=platform.cadre.url) as browser:
        response = browser.post("/lti/launch", data={"id_token": f"{nested}.{nested}.sig", "state": "s"})
    assert response.status_code == 400
    assert message_of(response) == [
        rejection_message("malformed_token", detail="header or body is not base64url JSON")
    ]
    assert changed_tables(before, stored_rows(app)) == []
