"""Pooled PostgreSQL connections: one the server closed while it sat idle is replaced before use, without a
round trip per checkout for those used a moment ago (``lti_tool.db.ping_when_idle``)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, exc, text

from lti_tool.db import build_engine
from tests.fixtures.database import _postgres_database

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """An engine on a PostgreSQL database of this test's own, whichever backends the suite runs (SQLite
    has no server to close a connection)."""
    database = _postgres_database()
    engine = build_engine(next(database))
    yield engine
    engine.dispose()
    next(database, None)


def _close_from_the_server(engine: Engine) -> None:
    """The server ends the pooled connection's backend, as a restart or an idle timeout would."""
    with engine.connect() as connection:
        pid = connection.scalar(text("SELECT pg_backend_pid()"))
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def _age_pooled_connections(engine: Engine, seconds: float) -> None:
    for record in list(engine.pool._pool.queue):  # type: ignore[attr-defined]
        record.info["cadre.checked_in"] -= seconds


def test_an_idle_connection_the_server_closed_is_replaced_before_use(postgres_engine: Engine) -> None:
    _close_from_the_server(postgres_engine)
    _age_pooled_connections(postgres_engine, 60)
    with postgres_engine.connect() as connection:  # pinged, found dead, replaced: the query just works
        assert connection.scalar(text("SELECT 1")) == 1


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_engine: Engine) -> None:
    """No ping: the closed connection is handed out and its statement fails once (a real error, not a
    hang), and the pool, seeing the disconnect, serves the next checkout with a new one."""
    _close_from_the_server(postgres_engine)
    with pytest.raises(exc.OperationalError), postgres_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with postgres_engine.connect() as connection:
        assert connection.scalar(text("SELECT 1")) == 1
