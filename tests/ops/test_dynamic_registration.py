"""LTI Dynamic Registration against a real platform over HTTP: the happy path and every way it fails."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.models import Deployment, Platform
from lti_tool.ops import invitations
from lti_tool.ops.dynamic_registration import issuer_matches_configuration_url
from tests.fixtures.live_server import TEST_SECRET_KEY, LiveServer, free_port
from tests.fixtures.lms_for_registration import LmsBehaviour
from tests.fixtures.operations import RunningLms, audit_actions

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


LMS_TOKEN = LmsBehaviour().registration_token


def register_url(configuration_url: str, token: str | None = LMS_TOKEN, invite: str | None = None) -> str:
    """The URL a platform opens: the administrator's invitation plus what the platform appends."""
    invite = invitations.issue(TEST_SECRET_KEY) if invite is None else invite
    query = httpx.QueryParams(
        {
            "invite": invite,
            "openid_configuration": configuration_url,
            **({"registration_token": token} if token else {}),
        }
    )
    return f"/lti/register?{query}"


def stored_platforms(app: Flask) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(Platform)) or 0


def test_registration_stores_the_platform_and_closes_the_window(
    live_server: LiveServer, app: Flask, registration_lms: RunningLms
) -> None:
    response = httpx.get(live_server.url + register_url(registration_lms.configuration_url), timeout=10)

    assert response.status_code == 200, response.text
    assert "window.parent).postMessage({subject: 'org.imsglobal.lti.close'}, '*')" in response.text
    assert "Cadre is registered" in response.text and "client-from-the-lms" in response.text

    with session_scope(app) as session:
        platform = session.scalars(select(Platform)).one()
        deployments = [d.deployment_id for d in platform.deployments]
        stored = (
            platform.issuer,
            platform.client_id,
            platform.auth_login_url,
            platform.auth_token_url,
            platform.key_set_url,
            platform.product_family,
            platform.name,
        )
    assert stored == (
        registration_lms.url,
        "client-from-the-lms",
        f"{registration_lms.url}/mod/lti/auth.php",
        f"{registration_lms.url}/mod/lti/token.php",
        f"{registration_lms.url}/mod/lti/certs.php",
        "moodle",
        f"Moodle ({registration_lms.url.removeprefix('http://')})",
    )
    assert deployments == ["7"]
    assert audit_actions(app) == [("platform.add", "dynamic registration")]

    # What the platform received: the tool's registration, with the registration token as bearer.
    assert registration_lms.behaviour.received_authorizations == ["Bearer registration-token-from-the-lms"]
    [registration] = registration_lms.behaviour.received_registrations
    base = live_server.url
    assert registration["application_type"] == "web"
    assert registration["response_types"] == ["id_token"]
    assert set(registration["grant_types"]) == {"implicit", "client_credentials"}
    assert registration["initiate_login_uri"] == f"{base}/lti/login"
    assert registration["redirect_uris"] == [f"{base}/lti/launch"]
    assert registration["jwks_uri"] == f"{base}/lti/jwks"
    assert registration["token_endpoint_auth_method"] == "private_key_jwt"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in registration["scope"].split()
    assert (
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
        in registration["scope"].split()
    )
    tool = registration[TOOL_CONFIGURATION]
    assert tool["domain"] == base.removeprefix("http://")
    assert tool["target_link_uri"] == f"{base}/lti/launch"
    assert "sub" in tool["claims"]
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}

    # The new platform may frame Cadre at once (the CSP cache was invalidated).
    page = httpx.get(f"{base}/no-such-page")
    assert registration_lms.url in page.headers["Content-Security-Policy"]


def test_registration_without_deployment_says_how_to_add_one(
    client: FlaskClient, app: Flask, registration_lms: RunningLms
) -> None:
    registration_lms.behaviour.registration = "no_deployment"
    response = client.get(register_url(registration_lms.configuration_url))
    assert response.status_code == 200
    assert "cadre platform add-deployment" in response.get_data(as_text=True)
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == 0
        assert session.scalar(select(func.count()).select_from(Platform)) == 1


@pytest.mark.parametrize(
    ("configuration", "registration", "token", "status", "message"),
    [
        ("not_json", "ok", "registration-token-from-the-lms", 502, "is not valid JSON"),
        (
            "wrong_issuer",
            "ok",
            "registration-token-from-the-lms",
            400,
            "names the issuer https://impostor.example.com",
        ),
        (
            "no_registration_endpoint",
            "ok",
            "registration-token-from-the-lms",
            400,
            "lacks a usable registration_endpoint",
        ),
        ("redirect", "ok", "registration-token-from-the-lms", 502, "answered HTTP 302"),
        ("ok", "ok", "expired-token", 502, "refused the registration (HTTP 401)"),
        ("ok", "ok", None, 502, "registration token expired"),
        ("ok", "no_client_id", "registration-token-from-the-lms", 502, "has no client_id"),
    ],
)
def test_platform_failures_store_nothing(
    client: FlaskClient,
    app: Flask,
    registration_lms: RunningLms,
    configuration: str,
    registration: str,
    token: str | None,
    status: int,
    message: str,
) -> None:
    registration_lms.behaviour.configuration = configuration
    registration_lms.behaviour.registration = registration
    response = client.get(register_url(registration_lms.configuration_url, token))
    body = response.get_data(as_text=True)
    assert response.status_code == status, body
    assert message in body
    assert "Nothing was saved in Cadre" in body
    assert stored_platforms(app) == 0 and audit_actions(app) == []


def test_unreachable_platform(client: FlaskClient, app: Flask) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/mod/lti/openid-configuration.php"
    response = client.get(register_url(nobody))
    assert response.status_code == 502
    assert f"Could not reach the platform at {nobody}" in response.get_data(as_text=True)
    assert stored_platforms(app) == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://lms.example.edu/config", "lms.example.edu"])
def test_only_http_configuration_urls(client: FlaskClient, app: Flask, url: str) -> None:
    response = client.get(register_url(url))
    assert response.status_code == 400
    assert "openid_configuration must be an absolute http(s) URL" in response.get_data(as_text=True)
    assert stored_platforms(app) == 0


def test_missing_parameters_explain_the_page(client: FlaskClient) -> None:
    response = client.get("/lti/register")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "paste it into your platform" in body and "openid_configuration" in body


def test_second_registration_with_the_same_client_id_is_refused(
    client: FlaskClient, app: Flask, registration_lms: RunningLms
) -> None:
    assert client.get(register_url(registration_lms.configuration_url)).status_code == 200
    again = client.get(register_url(registration_lms.configuration_url))
    assert again.status_code == 400
    assert "already registered" in again.get_data(as_text=True)
    assert stored_platforms(app) == 1


@pytest.mark.parametrize(
    ("invite", "message"),
    [
        ("", "registers platforms by invitation only"),
        ("not-a-token", "is not valid (it was changed or made by another Cadre)"),
        (invitations.issue("another-cadre-secret"), "is not valid (it was changed or made by another Cadre)"),
    ],
    ids=["no-invitation", "not-a-token", "another-cadres-invitation"],  # stable: xdist workers compare ids
)
def test_registration_needs_a_genuine_invitation(
    client: FlaskClient, app: Flask, registration_lms: RunningLms, invite: str, message: str
) -> None:
    response = client.get(register_url(registration_lms.configuration_url, invite=invite))
    assert response.status_code == 403
    assert message in response.get_data(as_text=True)
    assert stored_platforms(app) == 0
    assert registration_lms.behaviour.received_registrations == []


def test_an_invitation_registers_once(client: FlaskClient, app: Flask, registration_lms: RunningLms) -> None:
    invite = invitations.issue(TEST_SECRET_KEY)
    assert client.get(register_url(registration_lms.configuration_url, invite=invite)).status_code == 200
    registration_lms.behaviour.client_id = "a-second-client"
    again = client.get(register_url(registration_lms.configuration_url, invite=invite))
    assert again.status_code == 403
    assert "has already been used" in again.get_data(as_text=True)
    assert stored_platforms(app) == 1


def test_an_expired_invitation_is_refused(app: Flask) -> None:
    with session_scope(app) as session, pytest.raises(invitations.InvitationRefused, match="has expired"):
        invitations.check(session, TEST_SECRET_KEY, invitations.issue(TEST_SECRET_KEY), timedelta(seconds=-1))


def test_invite_command_prints_a_working_url(
    cadre,
    live_server: LiveServer,
    app: Flask,  # type: ignore[no-untyped-def]
    registration_lms: RunningLms,
) -> None:
    result = cadre("platform", "invite")
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith(live_server.url + "/lti/register?invite=")
    assert "Valid for 72 hours, for one registration" in result.stderr
    query = httpx.QueryParams(
        {"openid_configuration": registration_lms.configuration_url, "registration_token": LMS_TOKEN}
    )
    response = httpx.get(f"{url}&{query}", timeout=10)
    assert response.status_code == 200, response.text
    assert stored_platforms(app) == 1


@pytest.mark.parametrize(
    ("issuer", "url", "matches"),
    [
        ("https://moodle.example.edu", "https://moodle.example.edu/mod/lti/openid-configuration.php", True),
        ("https://moodle.example.edu/", "https://moodle.example.edu/mod/lti/openid-configuration.php", True),
        ("https://x.edu/moodle", "https://x.edu/moodle/mod/lti/openid-configuration.php", True),
        ("https://x.edu/moodle", "https://x.edu/moodle2/mod/lti/openid-configuration.php", False),
        ("https://moodle.example.edu", "https://moodle.example.edu.evil.test/openid-configuration", False),
        ("https://moodle.example.edu", "http://moodle.example.edu/mod/lti/openid-configuration.php", False),
        ("https://moodle.example.edu", "https://moodle.example.edu:8443/openid-configuration", False),
    ],
)
def test_issuer_must_prefix_the_configuration_url(issuer: str, url: str, matches: bool) -> None:
    assert issuer_matches_configuration_url(issuer, url) is matches
