"""No Content-Security-Policy source is built from unvalidated input (issue 7, 3.6).

``/lti/register?openid_configuration=http://*/x`` used to put ``http://*`` into the refusal page's
``frame-ancestors``. Whatever reaches :func:`lti_tool.security.origin_of` (a query parameter, a platform's
stored URLs, ``CADRE_FRAME_ANCESTORS``), the policy holds only ``'self'``, well-formed origins and Cadre's
own constant for Canvas cloud.
"""

from __future__ import annotations

import ipaddress
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from lti_tool import create_app, security
from lti_tool.db import session_scope
from lti_tool.models import Platform
from lti_tool.settings import Settings

# An origin as Cadre may write it: lowercase http(s), LDH labels or a dotted quad, a port in range that is
# not the scheme's default. Checked label by label below; the regex only fixes the shape.
ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+)(?::(?P<port>[1-9][0-9]{0,4}))?")
LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
CONSTANT_SOURCES = {"'self'", security.CANVAS_CLOUD_FRAME_SOURCE}

HOSTILE_URLS = [
    "http://*/x",
    "https://*",
    "https://*.example.com/",
    "https://lms.example.com:*/",
    "http://*:*",
    "https://user:password@lms.example.com/",
    "https://lms.example.com@evil.example/",
    "https://lms.example.com\\@evil.example/",
    "https://lms.example.com\\evil",
    "https://lms.example.com:0/",
    "https://lms.example.com:65536/",
    "https://lms.example.com:99999999999/",
    "https://lms.example.com:-1/",
    "https://lms.example.com:/",
    "https://lms.example.com:443:443/",
    "https://lms.example.com:８０/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]:8443/",
    "https://[/",
    "https://bücher.example/",
    "https://xn--bcher-kva.example\u200b/",
    "https://lms.exаmple.com/",  # a Cyrillic а
    "https://ｌｍｓ.example.com/",  # fullwidth letters NFKC-fold to ASCII
    "https://lms.example.com\u3002evil/",  # ideographic full stop, a dot to IDNA
    "https://xn--/",
    "https://xn--a.example/",
    "https://%2A.example.com/",
    "https://lms%2eexample.com/",
    "https://'self'/",
    "'self'",
    "'unsafe-inline'",
    "'none'",
    "*",
    "self",
    "https:",
    "https://",
    "https:///path",
    "//lms.example.com/",
    "lms.example.com",
    "data:text/html,hi",
    "javascript:alert(1)",
    "blob:https://lms.example.com/1",
    "ftp://lms.example.com/",
    "ws://lms.example.com/",
    "https://lms.example.com; script-src *",
    "https://lms.example.com;script-src=*",
    "https://lms.example.com,https://evil.example",
    "https://lms.example.com https://evil.example",
    "https://lms.example.com\thttps://evil.example",
    "https://lms.exa\tmple.com/",
    "https://lms.exa\nmple.com/",
    " https://lms.example.com/",
    "https://lms.example.com/\r\nX-Injected: 1",
    "https://lms.example.com\x00.evil/",
    "https://lms.example.com\x7f/",
    "https://lms.example.com'/",
    'https://lms.example.com"/',
    "https://lms..example.com/",
    "https://.example.com/",
    "https://lms.example.com./",
    "https://-lms.example.com/",
    "https://lms-.example.com/",
    "https://lms_1.example.com/",
    "https://" + "a" * 64 + ".example/",
    "https://" + ".".join(["a" * 60] * 5) + "/",
    "http://127.1/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://2130706433/",
    "http://127.0.0.01/",
    "http://256.0.0.1/",
    "http://1.2.3.4.5/",
    "https://lms.example.com?x=https://evil.example",  # fine: the query is dropped (checked below)
]
WELL_FORMED = {
    "https://moodle.example.edu/mod/lti/auth.php": "https://moodle.example.edu",
    "HTTPS://Moodle.Example.EDU/": "https://moodle.example.edu",
    "https://moodle.example.edu:443/x": "https://moodle.example.edu",
    "http://moodle.example.edu:80": "http://moodle.example.edu",
    "http://127.0.0.1:5001/lti": "http://127.0.0.1:5001",
    "http://localhost:8080?a=b#c": "http://localhost:8080",
    "https://canvas.instructure.com": "https://canvas.instructure.com",
    "https://xn--bcher-kva.example/": "https://xn--bcher-kva.example",
    "https://lms.example.com?x=https://evil.example": "https://lms.example.com",
    "https://1password.example/": "https://1password.example",
}


def is_well_formed_origin(source: str) -> bool:
    match = ORIGIN.fullmatch(source)
    if match is None:
        return False
    host, port = match["host"], match["port"]
    if port is not None and (int(port) > 65535 or int(port) == {"http": 80, "https": 443}[match["scheme"]]):
        return False
    labels = host.split(".")
    if len(host) > 253 or not all(LABEL.fullmatch(label) for label in labels):
        return False
    if labels[-1].isdigit():
        try:
            return str(ipaddress.IPv4Address(host)) == host
        except ValueError:
            return False
    return True


def policy_sources(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} given twice in {header!r}"
        directives[name] = sources
    return directives


def assert_only_well_formed(header: str) -> list[str]:
    """The policy's frame-ancestors and form-action hold nothing but constants and well-formed origins."""
    directives = policy_sources(header)
    assert set(directives) == {
        "frame-ancestors", "default-src", "img-src", "style-src", "script-src", "form-action", "base-uri",
        "object-src",
    }, header
    for name in ("frame-ancestors", "form-action"):
        for source in directives[name]:
            assert source in CONSTANT_SOURCES or is_well_formed_origin(source), (name, source, header)
    return directives["frame-ancestors"]


# -- origin_of ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [u for u in HOSTILE_URLS if u not in WELL_FORMED])
def test_hostile_values_give_no_origin(url: str) -> None:
    assert security.origin_of(url) is None


@pytest.mark.parametrize(("url", "origin"), WELL_FORMED.items())
def test_well_formed_urls_give_their_normalised_origin(url: str, origin: str) -> None:
    assert security.origin_of(url) == origin
    assert is_well_formed_origin(origin)


URL_PIECES = st.sampled_from(
    ["http", "https", "HTTPS", "://", "/", "\\", "@", ":", "*", ".", "..", "-", "_", "%2a", "[", "]", "::1",
     "'self'", "'", '"', ";", ",", " ", "\t", "\n", "\r", "\x00", "\x7f", "\u200b", "ü", "ａ", "\u3002",
     "xn--", "0", "80", "443", "65535", "65536", "99999", "127", "0x7f", "lms", "example", "com",
     "?", "#", "="]
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(URL_PIECES, max_size=14).map("".join)))
def test_whatever_the_input_an_origin_is_well_formed_or_absent(url: str) -> None:
    origin = security.origin_of(url)
    assert origin is None or is_well_formed_origin(origin), (url, origin)


# -- the headers Cadre sends --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_registration_page_never_frames_a_hostile_origin(client: FlaskClient, url: str) -> None:
    response = client.get("/lti/register", query_string={"openid_configuration": url})
    assert response.status_code >= 400 and response.mimetype == "text/html"
    ancestors = assert_only_well_formed(response.headers["Content-Security-Policy"])
    assert ancestors[0] == "'self'"
    assert set(ancestors[1:]) <= {security.origin_of(url.strip())}  # the view strips the parameter
    assert "*" not in " ".join(ancestors)


def test_the_registration_page_may_be_framed_by_the_platform_that_opened_it(client: FlaskClient) -> None:
    response = client.get(
        "/lti/register", query_string={"openid_configuration": "https://Moodle.Example.edu:443/x?y=z"}
    )
    assert_only_well_formed(response.headers["Content-Security-Policy"])
    assert policy_sources(response.headers["Content-Security-Policy"])["frame-ancestors"] == [
        "'self'", "https://moodle.example.edu"
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), st.lists(URL_PIECES, max_size=10).map("".join)))
def test_the_registration_page_header_is_well_formed_whatever_the_parameter(
    client: FlaskClient, url: str
) -> None:
    response = client.get("/lti/register", query_string={"openid_configuration": url})
    assert_only_well_formed(response.headers["Content-Security-Policy"])


def test_a_platform_stored_with_odd_urls_adds_only_its_well_formed_origins(
    app: Flask, client: FlaskClient
) -> None:
    # Dynamic registration stores what the platform's openid-configuration says; a hostile platform may
    # claim a wildcard issuer. Its well-formed token URL is not a framing origin; its login URL is.
    with session_scope(app) as session:
        session.add(
            Platform(
                name="Hostile",
                issuer="https://*.evil.example",
                client_id="c1",
                auth_login_url="https://login.evil.example/auth",
                auth_token_url="https://token.evil.example/token",
                key_set_url="https://*.evil.example/jwks",
            )
        )
    security_header = client.get("/no-such-page").headers["Content-Security-Policy"]
    assert assert_only_well_formed(security_header) == ["'self'", "https://login.evil.example"]


def test_configured_origins_keep_the_good_and_name_the_bad(
    database_url: str, migrated_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    setting = "https://learn.example.com, http://*, https://lms.example.org/path 'unsafe-inline' https://a:b@c.d"
    with caplog.at_level(logging.WARNING, logger="cadre.security"):
        assert security.configured_origins(setting) == ["https://learn.example.com", "https://lms.example.org"]
    warned = [record.getMessage() for record in caplog.records if record.name == "cadre.security"]
    assert len(warned) == 3
    assert all("CADRE_FRAME_ANCESTORS" in message for message in warned)
    assert any("'http://*'" in message for message in warned)

    client = create_app(
        Settings(
            database_url=database_url,
            secret_key="csp-sources-test",  # noqa: S106
            frame_ancestors=setting,
            _env_file=None,  # type: ignore[call-arg]
        )
    ).test_client()
    ancestors = assert_only_well_formed(client.get("/no-such-page").headers["Content-Security-Policy"])
    assert ancestors == ["'self'", "https://learn.example.com", "https://lms.example.org"]
