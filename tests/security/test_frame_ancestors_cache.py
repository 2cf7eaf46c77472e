"""The frame-ancestors cache of each process follows the database's ``platform_origins`` stamp.

What each page pays for it (one primary-key read; nothing on a redirect), what stamps it (adding, removing
or re-pointing a platform, and nothing else), and what it does when the database cannot answer. The same
with two real gunicorn workers: tests/ops/test_frame_ancestors_workers.py.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lti_tool import cache_versions
from lti_tool.db import session_scope
from lti_tool.models import Platform
from lti_tool.security import FrameAncestors
from tests.fixtures.database import CountQueries

MOODLE = "https://moodle.example.edu"
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK")


def moodle(name: str = "Moodle", client_id: str = "m1") -> Platform:
    return Platform(
        name=name,
        issuer=MOODLE,
        client_id=client_id,
        auth_login_url=f"{MOODLE}/mod/lti/auth.php",
        auth_token_url=f"{MOODLE}/mod/lti/token.php",
        key_set_url=f"{MOODLE}/mod/lti/certs.php",
    )


def ancestors(client: FlaskClient, path: str = "/no-such-page") -> str:
    response = client.get(path)
    assert response.mimetype == "text/html"
    [directive] = [
        part.strip()
        for part in response.headers["Content-Security-Policy"].split(";")
        if part.strip().startswith("frame-ancestors ")
    ]
    return directive.removeprefix("frame-ancestors ")


def stamp(app: Flask) -> str | None:
    with session_scope(app) as session:
        return cache_versions.current(session.connection(), cache_versions.PLATFORM_ORIGINS)


def test_a_page_pays_one_primary_key_read_while_nothing_changes(
    client: FlaskClient, app: Flask, count_queries: CountQueries
) -> None:
    with session_scope(app) as session:
        session.add(moodle())
    with count_queries() as first:
        assert ancestors(client) == f"'self' {MOODLE}"
    assert len([s for s in first.statements if "FROM platforms" in s]) == 1  # loaded once
    for _ in range(3):
        with count_queries() as queries:
            assert ancestors(client) == f"'self' {MOODLE}"
        [statement] = [s for s in queries.statements if not s.lstrip().upper().startswith(TRANSACTION)]
        assert "FROM cache_versions" in statement and "WHERE cache_versions.name" in statement


def test_a_redirect_costs_no_query_once_the_process_knows_the_origins(
    client: FlaskClient, app: Flask, count_queries: CountQueries
) -> None:
    ancestors(client)  # fills this process's cache
    redirected = "/rubrics"  # Flask's trailing-slash redirect, an HTML 308 that runs no view
    with count_queries() as queries:
        response = client.get(redirected)
    assert 300 <= response.status_code < 400 and response.mimetype == "text/html"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert not [s for s in queries.statements if "cache_versions" in s or "platforms" in s]


def test_adding_re_pointing_and_removing_a_platform_stamp_and_nothing_else_does(
    client: FlaskClient, app: Flask
) -> None:
    assert ancestors(client) == "'self'"
    before = stamp(app)
    with session_scope(app) as session:
        session.add(moodle())
    added = stamp(app)
    assert added is not None and added != before
    assert ancestors(client) == f"'self' {MOODLE}"

    with session_scope(app) as session:  # a JWKS refresh or a rename changes no origin
        platform = session.scalars(select(Platform)).one()
        platform.key_set = {"keys": []}
        platform.name = "Moodle (renamed)"
    assert stamp(app) == added

    with session_scope(app) as session:  # the login URL moves to another host
        session.scalars(select(Platform)).one().auth_login_url = "https://sso.example.edu/auth"
    moved = stamp(app)
    assert moved != added
    assert ancestors(client) == f"'self' {MOODLE} https://sso.example.edu"

    with session_scope(app) as session:
        session.delete(session.scalars(select(Platform)).one())
    assert stamp(app) not in {moved, added}
    assert ancestors(client) == "'self'"


def test_a_registration_that_rolls_back_leaves_no_origin_behind(app: Flask, client: FlaskClient) -> None:
    frame_ancestors: FrameAncestors = app.extensions["cadre.frame_ancestors"]
    assert ancestors(client) == "'self'"
    # The registering request reads its own uncommitted stamp and platform (its page is built before the
    # commit); then the commit fails.
    with pytest.raises(RuntimeError), session_scope(app) as session:
        session.add(moodle())
        session.flush()
        assert frame_ancestors.value(session) == f"'self' {MOODLE}"
        raise RuntimeError("the commit did not happen")
    assert ancestors(client) == "'self'"


def test_without_the_database_a_page_keeps_what_the_process_last_knew(
    app: Flask, client: FlaskClient
) -> None:
    with session_scope(app) as session:
        session.add(moodle())
    assert ancestors(client) == f"'self' {MOODLE}"

    def unreachable(self: Session, *args: object, **kwargs: object) -> None:
        raise OperationalError("connect", {}, Exception("connection refused"))

    frame_ancestors: FrameAncestors = app.extensions["cadre.frame_ancestors"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Session, "connection", unreachable)
        assert frame_ancestors.last_known() == f"'self' {MOODLE}"
        assert ancestors(client) == f"'self' {MOODLE}"  # the platform's iframe still shows the error page
    frame_ancestors.invalidate()
    assert frame_ancestors.last_known() == "'self'"


def test_reading_the_origins_flushes_nothing_a_view_left_pending(app: Flask) -> None:
    # A view that answers 400 leaves its unflushed objects to the rollback: the page's headers must neither
    # write them nor fail on them.
    frame_ancestors: FrameAncestors = app.extensions["cadre.frame_ancestors"]
    with pytest.raises(RuntimeError), session_scope(app) as session:
        session.add(moodle())
        assert frame_ancestors.value(session) == "'self'"
        assert len(session.new) == 1  # still pending: nothing was flushed
        raise RuntimeError("the view answered 400")
