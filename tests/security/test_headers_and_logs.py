"""Response headers on every kind of answer, and log lines that hold no token and cannot be forged."""

from __future__ import annotations

import json
import logging
import re

import httpx
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from lti_tool.observability import JsonFormatter, TextFormatter
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor

LAUNCH_TOKEN = "Zq3-launch-token-that-must-never-be-logged-0123456789"




def policy(response: httpx.Response) -> dict[str, str]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


# -- headers -------------------------------------------------------------------------------------------


def test_pages_get_a_script_nonce_instead_of_unsafe_inline(designer: Visitor) -> None:
    first, second = designer.get("/rubrics/").response, designer.get("/rubrics/").response
    for response in (first, second):
        directives = policy(response)
        assert re.fullmatch(r"'self' 'nonce-[A-Za-z0-9_-]{16,}'", directives["script-src"])
        assert directives["form-action"] == "'self'"
        assert directives["base-uri"] == "'self'" and directives["object-src"] == "'none'"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert policy(first)["script-src"] != policy(second)["script-src"]  # one nonce per response


def test_downloads_and_json_are_never_sniffed_and_never_send_a_referrer(
    designer: Visitor, client: FlaskClient
) -> None:
    library = designer.get("/rubrics/")
    created = designer.submit(designer.get(library.link("use-template-communication")), "rubric-form",
                              button=("action", "save"))
    rubric_id = int(created.response.url.path.split("/")[2])
    edit_page = designer.get(f"/rubrics/{rubric_id}/edit")
    evil_title = 'Evil"; filename="x.html\\..\\%0d%0a.html'
    saved = designer.submit(edit_page, "rubric-form", {"title": evil_title}, button=("action", "save"))
    assert saved.status == 200, saved.text[:1500]
    download = designer.get(f"/rubrics/{rubric_id}/export.csv").response
    assert download.status_code == 200
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Referrer-Policy"] == "same-origin"
    disposition = download.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename=[a-z0-9-]+-v\d+\.csv', disposition), disposition
    for path in ("/lti/jwks", "/lti/config/canvas.json", "/healthz"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path


# -- request ids and log lines -------------------------------------------------------------------------------


def test_only_ascii_request_ids_are_kept(live_server: LiveServer, app: object) -> None:
    kept = httpx.get(f"{live_server.url}/healthz", headers={"X-Request-Id": "3f2b-9c1d-Proxy-42"})
    assert kept.headers["X-Request-Id"] == "3f2b-9c1d-Proxy-42"  # a proxy's UUID-style id is kept
    for hostile in ("ªµºÀÿ", "abc\tdef", "x" * 65, "a;b"):
        headers = {"X-Request-Id": hostile.encode("latin-1")}
        response = httpx.get(f"{live_server.url}/healthz", headers=headers)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"]), hostile


def test_text_logs_cannot_be_forged_through_the_path() -> None:
    record = logging.LogRecord("cadre.request", logging.INFO, __file__, 1, "%s %s %s",
                               ("GET", "/x\n{\"level\": \"INFO\", \"msg\": \"forged\"}\r\u2028", 404), None)
    line = TextFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\u2028" not in line
    assert line.startswith("INFO cadre.request GET /x\\n")


def test_sql_parameters_never_reach_a_log_line() -> None:
    """A database error while looking up a launch names the launch token among its parameters."""
    try:
        raise OperationalError(
            "SELECT launches.id FROM launches WHERE launches.id = %(id_1)s", {"id_1": LAUNCH_TOKEN},
            Exception("server closed the connection unexpectedly"),
        )
    except OperationalError as error:
        record = logging.LogRecord("lti_tool", logging.ERROR, __file__, 1, "Exception on /home [GET]: %s",
                                   (error,), None)
        record.exc_info = (type(error), error, error.__traceback__)
    json_line = JsonFormatter().format(record)
    text_line = TextFormatter().format(record)
    for line in (json_line, text_line):
        assert LAUNCH_TOKEN not in line
        assert "[parameters: (redacted)]" in line
        assert "server closed the connection unexpectedly" in line  # the useful part stays
    assert json.loads(json_line)["level"] == "ERROR"
