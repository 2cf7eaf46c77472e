"""One JSON line per request, with its request id, and never a token, state, launch token or CSRF value."""

from __future__ import annotations

import io
import json

import httpx

from tests.fixtures.live_server import LiveServer

SECRETS = {
    "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtU1VCIn0.SECRET-SIGNATURE",
    "state": "STATE-SECRET-42",
    "lt": "LAUNCH-TOKEN-SECRET",
    "csrf_token": "CSRF-SECRET-99",
}




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


def test_a_sign_in_or_opt_out_credential_in_any_path_is_cut_out_of_every_field(
    live_server: LiveServer, app: object, log_lines: io.StringIO
) -> None:
    """The views of e-mailed links name the path to log; a path their views never see (a slash more: a 404)
    is cut by the request log itself, in the line and in its JSON fields."""
    token = "SIGN-IN-SECRET-0123456789abcdef"
    answers = [
        httpx.get(f"{live_server.url}/invitations/sign-in/{token}/"),
        httpx.get(f"{live_server.url}/reminders/opt-out/{token}/extra"),
        httpx.get(f"{live_server.url}/invitations/sign-in/{token}"),
    ]
    assert [answer.status_code for answer in answers][:2] == [404, 404]
    text = log_lines.getvalue()
    assert token not in text
    paths = [json.loads(line).get("path") for line in text.splitlines()]
    assert "/invitations/sign-in/[redacted]" in paths and "/reminders/opt-out/[redacted]" in paths
