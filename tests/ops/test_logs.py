"""One JSON line per request, with its request id, and never a token, state, launch token or CSRF value."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from lti_tool.observability import APP_LOGGERS, JsonFormatter, RequestIdFilter
from tests.fixtures.live_server import LiveServer

SECRETS = {
    "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtU1VCIn0.SECRET-SIGNATURE",
    "state": "STATE-SECRET-42",
    "lt": "LAUNCH-TOKEN-SECRET",
    "csrf_token": "CSRF-SECRET-99",
}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(name) for name in APP_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def test_launch_post_is_logged_once_without_secrets(
    live_server: LiveServer, app: object, log_lines: io.StringIO
) -> None:
    response = httpx.post(
        f"{live_server.url}/lti/launch",
        params={"lt": SECRETS["lt"], "state": SECRETS["state"], "course": "7"},
        data={
            "id_token": SECRETS["id_token"],
            "state": SECRETS["state"],
            "csrf_token": SECRETS["csrf_token"],
        },
    )
    request_id = response.headers["X-Request-Id"]

    text = log_lines.getvalue()
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} leaked into the logs"
    entries = [json.loads(line) for line in text.splitlines()]
    [request_line] = [e for e in entries if e["logger"] == "cadre.request" and e["path"] == "/lti/launch"]
    assert request_line["request_id"] == request_id
    assert request_line["method"] == "POST" and request_line["status"] == response.status_code
    assert request_line["query"] == ["course"]
    assert all(e.get("request_id") == request_id for e in entries if e.get("path") == "/lti/launch")


def test_a_sane_incoming_request_id_is_kept(
    live_server: LiveServer, app: object, log_lines: io.StringIO
) -> None:
    kept = httpx.get(f"{live_server.url}/healthz", headers={"X-Request-Id": "abc123"})
    replaced = httpx.get(f"{live_server.url}/healthz", headers={"X-Request-Id": "bad id; with spaces"})
    assert kept.headers["X-Request-Id"] == "abc123"
    assert replaced.headers["X-Request-Id"] != "bad id; with spaces"
    ids = [json.loads(line)["request_id"] for line in log_lines.getvalue().splitlines()]
    assert ids == ["abc123", replaced.headers["X-Request-Id"]]
