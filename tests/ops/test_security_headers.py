"""Content-Security-Policy frame-ancestors follows the registered platforms; nothing forbids framing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from lti_tool.db import session_scope
from lti_tool.models import Platform
from tests.fixtures.operations import Cadre


def frame_ancestors(client: FlaskClient) -> str:
    response = client.get("/no-such-page")  # Flask's HTML 404 page carries the page headers
    assert response.mimetype == "text/html"
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    [directive] = [part.strip() for part in policy.split(";") if part.strip().startswith("frame-ancestors")]
    return directive


def test_without_platforms_only_cadre_may_frame_itself(client: FlaskClient) -> None:
    assert frame_ancestors(client) == "frame-ancestors 'self'"


def test_a_platform_added_by_the_cli_may_frame_cadre_at_once(client: FlaskClient, cadre: Cadre) -> None:
    frame_ancestors(client)  # fills the cache
    result = cadre("platform", "add", "--preset", "canvas", "--client-id", "10000000000001")
    assert result.exit_code == 0
    assert frame_ancestors(client) == (
        "frame-ancestors 'self' https://*.instructure.com https://canvas.instructure.com "
        "https://sso.canvaslms.com"
    )
    cadre(
        "platform",
        "remove",
        "--issuer",
        "https://canvas.instructure.com",
        "--client-id",
        "10000000000001",
        "--yes",
    )
    assert frame_ancestors(client) == "frame-ancestors 'self'"


def test_a_platform_added_by_another_process_frames_cadre_at_once(client: FlaskClient, app: Flask) -> None:
    assert frame_ancestors(client) == "frame-ancestors 'self'"  # this process caches 'self'
    # Another process (a second worker, `cadre` on another host) registers a Moodle: it shares nothing
    # with this process but the database.
    with session_scope(app) as session:
        session.add(
            Platform(
                name="Moodle",
                issuer="https://moodle.example.edu",
                client_id="m1",
                auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
                auth_token_url="https://moodle.example.edu/mod/lti/token.php",
                key_set_url="https://moodle.example.edu/mod/lti/certs.php",
            )
        )
    assert frame_ancestors(client) == "frame-ancestors 'self' https://moodle.example.edu"


def test_json_answers_carry_no_page_policy(client: FlaskClient) -> None:
    response = client.get("/lti/config/canvas.json")
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_configured_origins_may_frame_cadre(database_url: str, migrated_engine) -> None:  # type: ignore[no-untyped-def]
    from lti_tool import create_app
    from lti_tool.settings import Settings

    settings = Settings(
        database_url=database_url,
        secret_key="frame-test",  # noqa: S106
        frame_ancestors="https://learn.example.com, https://lms.example.org/path not-a-url",
        _env_file=None,  # type: ignore[call-arg]
    )
    client = create_app(settings).test_client()
    assert frame_ancestors(client) == (
        "frame-ancestors 'self' https://learn.example.com https://lms.example.org"
    )
