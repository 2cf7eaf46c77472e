"""What Cadre fetches from platforms (JWKS, dynamic registration): bounded, and only where it should.

The platform here is a real HTTP server on 127.0.0.1 that answers with redirects, oversized or broken
bodies and configurations pointing elsewhere.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from flask import Flask, Response, jsonify, redirect, request
from flask.testing import FlaskClient

from egress import OutboundClient, OutboundPolicy, redirect_allowed
from lti_tool.lti.registration import JWKS_MAX_BYTES, JwksUnavailable, fetch_jwks
from lti_tool.ops import dynamic_registration, invitations
from lti_tool.ops.dynamic_registration import RegistrationFailed, fetch_platform_configuration
from tests.fixtures.live_server import TEST_SECRET_KEY, free_port, serve_in_thread
from tests.fixtures.operations import RunningLms

KEY_SET = {"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]}


@dataclass
class KeysServer:
    url: str
    seen: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def keys_server() -> Iterator[KeysServer]:
    port = free_port()
    server = KeysServer(f"http://127.0.0.1:{port}")
    app = Flask("platform_keys")

    @app.before_request
    def record() -> None:
        server.seen.append(request.full_path.rstrip("?"))

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(KEY_SET)

    @app.get("/moved")
    def moved() -> Response:
        return redirect("/jwks")

    @app.get("/loop")
    def loop() -> Response:
        return redirect("/loop")

    @app.get("/to-a-file")
    def to_a_file() -> Response:
        return redirect("file:///etc/passwd")

    @app.get("/big")
    def big() -> bytes:
        return b" " * (JWKS_MAX_BYTES + 1)

    @app.get("/broken")
    def broken() -> tuple[str, int]:
        return "no", 500

    @app.get("/mod/lti/openid-configuration.php")
    def openid_configuration() -> Response | tuple[str, int]:
        if "registration_token" in request.args:
            return "unavailable", 503
        return jsonify(configuration(server.url, registration_endpoint=request.args["endpoint"]))

    http = serve_in_thread(app, port)
    yield server
    http.shutdown()


@pytest.fixture
def platform_keys(keys_server: KeysServer) -> KeysServer:
    keys_server.seen.clear()
    return keys_server


# -- platform JWKS -------------------------------------------------------------------------------------------


def outbound_client() -> OutboundClient:
    return OutboundClient(OutboundPolicy(read_timeout=5))


def test_jwks_follows_a_short_redirect_chain(platform_keys: KeysServer) -> None:
    assert fetch_jwks(outbound_client(), platform_keys.url + "/moved") == KEY_SET
    assert platform_keys.seen == ["/moved", "/jwks"]


@pytest.mark.parametrize(
    ("path", "reason", "requests"),
    [
        ("/to-a-file", "refused URL", 1),
        ("/loop", "more than 3 redirects", 4),
        ("/big", "larger than 256 KiB", 1),
        ("/broken", "HTTP 500", 1),  # an error, not "try later": not retried
    ],
)
def test_jwks_fetch_is_bounded(platform_keys: KeysServer, path: str, reason: str, requests: int) -> None:
    with pytest.raises(JwksUnavailable, match=reason):
        fetch_jwks(outbound_client(), platform_keys.url + path)
    assert len(platform_keys.seen) == requests


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("https://lms.example/jwks", "https://keys.lms.example/jwks", True),
        ("http://lms.example/jwks", "https://lms.example/jwks", True),
        ("https://lms.example/jwks", "http://169.254.169.254/latest/meta-data/", False),
        ("https://lms.example/jwks", "file:///etc/passwd", False),
        ("http://lms.example/jwks", "gopher://lms.example/", False),
    ],
)
def test_redirects_stay_on_http_and_never_downgrade(current: str, target: str, allowed: bool) -> None:
    assert redirect_allowed(current, target) is allowed


# -- dynamic registration -------------------------------------------------------------------------------


def configuration(base: str, **changes: str) -> dict[str, str]:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/mod/lti/auth.php",
        "token_endpoint": f"{base}/mod/lti/token.php",
        "jwks_uri": f"{base}/mod/lti/certs.php",
        "registration_endpoint": f"{base}/mod/lti/openid-registration.php",
        **changes,
    }


@pytest.mark.parametrize(
    "registration_endpoint",
    [
        "http://169.254.169.254/latest/api/token",
        "https://internal.example.edu/admin",
        "https://127.0.0.1:{port}/mod/lti/openid-registration.php",  # another scheme: another origin
        "http://127.0.0.1:{other_port}/mod/lti/openid-registration.php",
    ],
)
def test_registration_is_posted_only_to_the_origin_that_served_the_configuration(
    platform_keys: KeysServer, registration_endpoint: str
) -> None:
    """The registration token and Cadre's registration go to the platform, and what the endpoint answers
    is shown on the page: an endpoint elsewhere would make Cadre a proxy into the platform's network."""
    port = int(platform_keys.url.rsplit(":", 1)[1])
    endpoint = registration_endpoint.format(port=port, other_port=port + 1)
    url = f"{platform_keys.url}/mod/lti/openid-configuration.php?{httpx.QueryParams({'endpoint': endpoint})}"
    with outbound_client() as client, pytest.raises(RegistrationFailed) as failure:
        fetch_platform_configuration(client, url, "registration-token")
    assert failure.value.status == 400
    assert "registration_endpoint" in failure.value.message
    assert [path.split("?")[0] for path in platform_keys.seen] == ["/mod/lti/openid-configuration.php"]


def test_messages_name_urls_without_their_query(platform_keys: KeysServer) -> None:
    url = f"{platform_keys.url}/mod/lti/openid-configuration.php?registration_token=SECRET-IN-QUERY"
    with outbound_client() as client, pytest.raises(RegistrationFailed) as failure:
        fetch_platform_configuration(client, url, None)
    assert "SECRET-IN-QUERY" not in failure.value.message
    assert f"{platform_keys.url}/mod/lti/openid-configuration.php" in failure.value.message
    assert dynamic_registration.shown_url("https://user:pw@h.example/p?q=1#f") == "https://h.example/p"


def test_a_failed_registration_logs_neither_tokens_nor_the_platforms_answer(
    client: FlaskClient, registration_lms: RunningLms, log_lines: io.StringIO
) -> None:
    query = httpx.QueryParams({
        "invite": invitations.issue(TEST_SECRET_KEY),
        "openid_configuration": registration_lms.configuration_url + "?session=SECRET-IN-CONFIGURATION-URL",
        "registration_token": "not-the-lms-token",
    })
    response = client.get(f"/lti/register?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "registration token expired" in page  # the platform's answer, for the administrator
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert any(line["msg"].startswith("dynamic registration failed") for line in lines)
    text = log_lines.getvalue()
    for secret in ("SECRET-IN-CONFIGURATION-URL", "not-the-lms-token", "registration token expired",
                   query["invite"]):
        assert secret not in text


def test_the_registration_page_may_be_framed_by_the_platform_that_opens_it(
    client: FlaskClient, registration_lms: RunningLms
) -> None:
    """Moodle opens the registration URL in a dialog frame before it is registered: a refusal must show
    there rather than be blocked by frame-ancestors, and a success names the new platform."""
    registration_lms.behaviour.configuration = "not_json"
    query = httpx.QueryParams({"invite": invitations.issue(TEST_SECRET_KEY),
                               "openid_configuration": registration_lms.configuration_url})
    refused = client.get(f"/lti/register?{query}")
    assert refused.status_code == 502
    ancestors = [part.strip() for part in refused.headers["Content-Security-Policy"].split(";")
                 if part.strip().startswith("frame-ancestors")]
    assert ancestors == [f"frame-ancestors 'self' {registration_lms.url}"]
    home = client.get("/")
    assert "frame-ancestors 'self';" in home.headers["Content-Security-Policy"]  # for this page only
