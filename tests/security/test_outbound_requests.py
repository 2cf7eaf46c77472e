"""What Cadre fetches from platforms (JWKS, dynamic registration): bounded, and only where it should."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from flask.testing import FlaskClient

from lti_tool.lti.registration import JWKS_MAX_BYTES, JwksUnavailable, fetch_jwks
from lti_tool.observability import APP_LOGGERS, JsonFormatter
from lti_tool.ops import dynamic_registration, invitations
from lti_tool.ops.dynamic_registration import RegistrationFailed, fetch_platform_configuration
from tests.fixtures.live_server import TEST_SECRET_KEY
from tests.ops.conftest import RunningLms

KEY_SET = {"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]}


def serve(routes: dict[str, httpx.Response]) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return routes.get(str(request.url), httpx.Response(404))

    return httpx.MockTransport(handle), seen


def moved(to: str) -> httpx.Response:
    return httpx.Response(302, headers={"Location": to})


# -- platform JWKS -------------------------------------------------------------------------------------------


def test_jwks_follows_a_short_redirect_chain() -> None:
    transport, _ = serve({
        "https://lms.example/jwks": moved("https://keys.lms.example/jwks"),
        "https://keys.lms.example/jwks": httpx.Response(200, json=KEY_SET),
    })
    assert fetch_jwks("https://lms.example/jwks", 5, transport=transport) == KEY_SET


@pytest.mark.parametrize(
    ("routes", "reason"),
    [
        ({"https://lms.example/jwks": moved("http://169.254.169.254/latest/meta-data/")}, "refused URL"),
        ({"https://lms.example/jwks": moved("file:///etc/passwd")}, "refused URL"),
        ({"https://lms.example/jwks": moved("https://lms.example/jwks")}, "redirects"),
        ({"https://lms.example/jwks": httpx.Response(200, content=b" " * (JWKS_MAX_BYTES + 1))}, "larger"),
        ({"https://lms.example/jwks": httpx.Response(500)}, "HTTP 500"),
    ],
)
def test_jwks_fetch_is_bounded(routes: dict[str, httpx.Response], reason: str) -> None:
    transport, seen = serve(routes)
    with pytest.raises(JwksUnavailable, match=reason):
        fetch_jwks("https://lms.example/jwks", 5, transport=transport)
    assert len(seen) <= 4
    assert not any(url.startswith(("http://169.254", "file:")) for url in seen)


# -- dynamic registration -------------------------------------------------------------------------------


def configuration(**changes: str) -> dict[str, str]:
    base = "https://moodle.example.edu"
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
        "http://moodle.example.edu/mod/lti/openid-registration.php",  # another scheme: another origin
        "https://moodle.example.edu:8443/mod/lti/openid-registration.php",
    ],
)
def test_registration_is_posted_only_to_the_origin_that_served_the_configuration(
    registration_endpoint: str,
) -> None:
    """The registration token and Cadre's registration go to the platform, and what the endpoint answers
    is shown on the page: an endpoint elsewhere would make Cadre a proxy into the platform's network."""
    url = "https://moodle.example.edu/mod/lti/openid-configuration.php"
    transport, seen = serve({url: httpx.Response(200, json=configuration(
        registration_endpoint=registration_endpoint))})
    with httpx.Client(transport=transport) as client, pytest.raises(RegistrationFailed) as failure:
        fetch_platform_configuration(client, url, "registration-token")
    assert failure.value.status == 400
    assert "registration_endpoint" in failure.value.message
    assert seen == [url]


def test_messages_name_urls_without_their_query() -> None:
    url = "https://moodle.example.edu/mod/lti/openid-configuration.php?registration_token=SECRET-IN-QUERY"
    transport, _ = serve({url: httpx.Response(503)})
    with httpx.Client(transport=transport) as client, pytest.raises(RegistrationFailed) as failure:
        fetch_platform_configuration(client, url, None)
    assert "SECRET-IN-QUERY" not in failure.value.message
    assert "https://moodle.example.edu/mod/lti/openid-configuration.php" in failure.value.message
    assert dynamic_registration.shown_url("https://user:pw@h.example/p?q=1#f") == "https://h.example/p"


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in APP_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_failed_registration_logs_neither_tokens_nor_the_platforms_answer(
    client: FlaskClient, lms: RunningLms, log_text: io.StringIO
) -> None:
    query = httpx.QueryParams({
        "invite": invitations.issue(TEST_SECRET_KEY),
        "openid_configuration": lms.configuration_url + "?session=SECRET-IN-CONFIGURATION-URL",
        "registration_token": "not-the-lms-token",
    })
    response = client.get(f"/lti/register?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "registration token expired" in page  # the platform's answer, for the administrator
    lines = [json.loads(line) for line in log_text.getvalue().splitlines()]
    assert any(line["msg"].startswith("dynamic registration failed") for line in lines)
    text = log_text.getvalue()
    for secret in ("SECRET-IN-CONFIGURATION-URL", "not-the-lms-token", "registration token expired",
                   query["invite"]):
        assert secret not in text


def test_the_registration_page_may_be_framed_by_the_platform_that_opens_it(
    client: FlaskClient, lms: RunningLms
) -> None:
    """Moodle opens the registration URL in a dialog frame before it is registered: a refusal must show
    there rather than be blocked by frame-ancestors, and a success names the new platform."""
    lms.behaviour.configuration = "not_json"
    query = httpx.QueryParams({"invite": invitations.issue(TEST_SECRET_KEY),
                               "openid_configuration": lms.configuration_url})
    refused = client.get(f"/lti/register?{query}")
    assert refused.status_code == 502
    ancestors = [part.strip() for part in refused.headers["Content-Security-Policy"].split(";")
                 if part.strip().startswith("frame-ancestors")]
    assert ancestors == [f"frame-ancestors 'self' {lms.url}"]
    home = client.get("/")
    assert "frame-ancestors 'self';" in home.headers["Content-Security-Policy"]  # for this page only
