"""LTI Platform Storage (1EdTech LTI Client Side postMessages): launches bound to the browser without cookies.

The login, given ``lti_storage_target``, answers with a page that stores a secret in the platform's window;
a launch without the state cookie gets a page that fetches it back and posts the launch again with it. Here
the browser's part is played by reading the pages (the real postMessage round trip: tests/e2e).
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.lti.errors import REJECTIONS, rejection_message
from lti_tool.lti.launch import STORAGE_SECRET_FIELD
from lti_tool.lti.oidc import storage_key
from lti_tool.models import LtiCacheEntry
from tests.fixtures.html_pages import parse_forms
from tests.lti.conftest import InProcessLms
from tests.lti.test_launch_views import EMPTY, Records, assert_iframe_cookie, assert_rejected, counts


def platform_origin(lms: InProcessLms) -> str:
    """Where the platform's pages (its auth_login_url) are served from: Cadre talks to that window."""
    parts = urllib.parse.urlsplit(lms.lti.auth_login_url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def lti_log() -> Iterator[list[logging.LogRecord]]:
    handler = Records()
    logger = logging.getLogger("cadre.lti")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def js_value(page: str, name: str) -> Any:
    """A value the page's script sets with ``var name = <json>;`` or ``name: <json>``."""
    match = re.search(rf"(?:var {name} =|\b{name}:) (\"(?:[^\"\\]|\\.)*\")", page)
    assert match, f"{name} not found in the page"
    return json.loads(match.group(1))


class StorageLogin:
    """A login made with ``lti_storage_target``: the page, the auth URL it goes on to, and the secret."""

    def __init__(self, in_process_lms: InProcessLms, client: Any, target: str = "_parent") -> None:
        self.response, _ = in_process_lms.login(client, lti_storage_target=target)
        self.page = self.response.get_data(as_text=True)
        self.auth_url = js_value(self.page, "authUrl")
        self.params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.auth_url).query))
        self.state = self.params["state"]
        self.nonce = self.params["nonce"]
        self.secret = js_value(self.page, "value")


def unused_logins(app: Flask) -> int:
    """Logins no launch has consumed yet (a launch consumes its login, and with it the login's nonce)."""
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(LtiCacheEntry)
                              .where(LtiCacheEntry.key.contains("login-state-"))) or 0


def launch(app: Flask, in_process_lms: InProcessLms, login: StorageLogin, **fields: str) -> Any:
    """Post the launch from a browser that refused the state cookie (a fresh client: no cookies)."""
    token = fields.pop("id_token", None) or in_process_lms.key.sign(in_process_lms.claims(login.nonce))
    return app.test_client().post("/lti/launch", data={"id_token": token, "state": login.state, **fields})


def test_login_answers_with_the_storage_page_and_keeps_the_secret_out_of_urls(
    app: Flask, in_process_lms: InProcessLms, lti_log: list[logging.LogRecord]
) -> None:
    client = app.test_client()
    login = StorageLogin(in_process_lms, client)
    response = login.response
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert_iframe_cookie(response, "lti1p3-" + login.state)  # the cookie path may still work

    assert login.auth_url.startswith(in_process_lms.lti.auth_login_url + "?")
    assert login.params["redirect_uri"].endswith("/lti/launch") and login.params["login_hint"] == "hint-1"
    assert js_value(login.page, "platformOrigin") == platform_origin(in_process_lms)
    assert js_value(login.page, "target") == "_parent"
    assert js_value(login.page, "subject") == "lti.put_data"
    assert js_value(login.page, "key") == storage_key(login.state) == "cadre_state_" + login.state
    assert len(login.secret) >= 32
    assert login.secret not in login.auth_url
    assert all(login.secret not in header for header in response.headers.getlist("Set-Cookie"))
    assert f'href="{login.auth_url.replace("&", "&amp;")}"' in login.page  # the <noscript> link
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'<script nonce="{nonce}">' in login.page
    assert all(login.secret not in record.getMessage() for record in lti_log)


def test_login_with_a_frame_name_target(app: Flask, in_process_lms: InProcessLms) -> None:
    login = StorageLogin(in_process_lms, app.test_client(), target="post_message_forwarding")
    assert js_value(login.page, "target") == "post_message_forwarding"


def test_login_without_storage_target_still_redirects(app: Flask, in_process_lms: InProcessLms) -> None:
    response, params = in_process_lms.login(app.test_client())
    assert response.status_code == 302 and params["state"]


def test_launch_without_cookie_or_secret_asks_the_platform_and_consumes_nothing(
    app: Flask, in_process_lms: InProcessLms, lti_log: list[logging.LogRecord]
) -> None:
    login = StorageLogin(in_process_lms, app.test_client())
    token = in_process_lms.key.sign(in_process_lms.claims(login.nonce))
    response = launch(app, in_process_lms, login, id_token=token)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    (form,) = parse_forms(page)
    assert form.method == "post" and form.action == "/lti/launch"
    assert form.fields == {"id_token": token, "state": login.state, STORAGE_SECRET_FIELD: ""}
    assert js_value(page, "subject") == "lti.get_data"
    assert js_value(page, "key") == storage_key(login.state)
    assert js_value(page, "platformOrigin") == platform_origin(in_process_lms)
    assert login.secret not in page
    # what it shows if the platform does not answer: the cookies_blocked words and the new-tab link
    blocked = REJECTIONS["cookies_blocked"]
    assert blocked.title.replace("'", "&#39;") in page
    assert rejection_message("cookies_blocked").replace("'", "&#39;") in page
    assert 'data-testid="open-new-tab"' in page and "lti1p3_new_window=1" in page

    assert unused_logins(app) == 1 and counts(app) == EMPTY
    assert lti_log == []


def test_launch_with_the_wrong_secret_is_a_storage_mismatch(
    app: Flask, in_process_lms: InProcessLms, lti_log: list[logging.LogRecord]
) -> None:
    login = StorageLogin(in_process_lms, app.test_client())
    for wrong in ("not-the-secret", "", login.secret[:-1], "é" + login.secret):
        response = launch(app, in_process_lms, login, **{STORAGE_SECRET_FIELD: wrong})
        assert_rejected(response, "storage_mismatch")
        assert 'data-testid="open-new-tab"' in response.get_data(as_text=True)
    assert REJECTIONS["storage_mismatch"].status == 401
    assert unused_logins(app) == 1 and counts(app) == EMPTY
    assert [record.fields["reason"] for record in lti_log] == ["storage_mismatch"] * 4  # type: ignore[attr-defined]
    assert all(login.secret not in str(record.fields) for record in lti_log)  # type: ignore[attr-defined]


def test_launch_with_the_right_secret_lands_home_once(app: Flask, in_process_lms: InProcessLms) -> None:
    login = StorageLogin(in_process_lms, app.test_client())
    token = in_process_lms.key.sign(in_process_lms.claims(login.nonce))
    client = app.test_client()
    assert client.post("/lti/launch", data={"id_token": token, "state": login.state}).status_code == 200

    response = client.post(
        "/lti/launch", data={"id_token": token, "state": login.state, STORAGE_SECRET_FIELD: login.secret}
    )
    assert response.status_code == 303
    path, _, handed = response.headers["Location"].partition("#lt=")
    assert path == "/home" and handed
    # This browser refuses cookies (that is why it used Platform Storage): Cadre's script asks again with
    # the token of the fragment in the header.
    home = app.test_client().get(path, headers={"X-Cadre-Launch": handed})
    assert home.status_code == 200 and 'data-testid="user-name">Ada Lovelace<' in home.get_data(as_text=True)
    assert counts(app)["Launch"] == 1 and unused_logins(app) == 0

    # replays are refused by the nonce, with or without the secret
    before = counts(app)
    replay = client.post(
        "/lti/launch", data={"id_token": token, "state": login.state, STORAGE_SECRET_FIELD: login.secret}
    )
    assert_rejected(replay, "nonce_used")
    assert_rejected(launch(app, in_process_lms, login, id_token=token), "nonce_used")
    assert counts(app) == before


def test_cookie_launch_after_a_storage_login_needs_no_secret(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    client = app.test_client()
    login = StorageLogin(in_process_lms, client)
    response = in_process_lms.launch(
        client, state=login.state, token=in_process_lms.key.sign(in_process_lms.claims(login.nonce))
    )
    assert response.status_code == 303 and counts(app)["Launch"] == 1


def test_without_storage_target_a_cookieless_launch_is_still_cookies_blocked(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    _, params = in_process_lms.login(app.test_client())
    response = app.test_client().post(
        "/lti/launch",
        data={
            "id_token": in_process_lms.key.sign(in_process_lms.claims(params["nonce"])),
            "state": params["state"],
        },
    )
    assert_rejected(response, "cookies_blocked")
    assert unused_logins(app) == 1 and counts(app) == EMPTY


def test_a_secret_sent_without_a_storage_login_is_refused(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    token = in_process_lms.key.sign(in_process_lms.claims(params["nonce"]))
    response = client.post(
        "/lti/launch", data={"id_token": token, "state": params["state"], STORAGE_SECRET_FIELD: "guess"}
    )
    assert_rejected(response, "storage_mismatch")
    assert counts(app) == EMPTY


def test_storage_page_is_only_for_a_valid_token(app: Flask, in_process_lms: InProcessLms) -> None:
    """Signature and audience are checked before the page is offered (it carries the id_token back)."""
    login = StorageLogin(in_process_lms, app.test_client())
    forged = in_process_lms.key.sign({**in_process_lms.claims(login.nonce), "aud": "someone-else"})
    assert launch(app, in_process_lms, login, id_token=forged).status_code == 401
    assert unused_logins(app) == 1
