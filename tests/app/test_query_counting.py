"""The ``count_queries`` fixture, which pages to come use to keep their query counts in check."""

from __future__ import annotations

import httpx
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import Platform
from tests.fixtures.database import CountQueries
from tests.fixtures.live_server import LiveServer


def test_counts_the_statements_of_the_block_only(db: Session, count_queries: CountQueries) -> None:
    db.scalar(select(func.count()).select_from(Platform))  # before the block: not counted
    with count_queries() as queries:
        db.scalar(select(func.count()).select_from(Platform))
        db.scalar(select(Platform.id).where(Platform.issuer == "https://nobody.example"))
    db.scalar(select(func.count()).select_from(Platform))  # after it: not counted either
    assert queries.count == 2
    assert all("platforms" in statement for statement in queries.statements)


def test_leaves_out_the_savepoints_of_the_test_transaction(
    db: Session, count_queries: CountQueries
) -> None:
    with count_queries() as queries:
        db.add(Platform(name="P", issuer="https://counted.example", client_id="c", auth_login_url="https://x/a",
                        auth_token_url="https://x/t", key_set_url="https://x/k"))
        db.commit()  # a RELEASE SAVEPOINT here, a COMMIT in production
    assert queries.statements[0].startswith("INSERT INTO platforms")
    assert not [s for s in queries.statements if "SAVEPOINT" in s.upper()]


def test_counts_the_queries_of_an_in_process_request(
    client: FlaskClient, count_queries: CountQueries
) -> None:
    with count_queries() as queries:
        assert client.get("/healthz").json == {"status": "ok", "database": "ok", "pending_migrations": []}
    assert "SELECT 1" in queries.statements
    assert queries.count >= 2  # SELECT 1, then the migration version


def test_counts_the_queries_of_the_live_server(live_server: LiveServer, count_queries: CountQueries) -> None:
    with count_queries() as queries:
        assert httpx.get(f"{live_server.url}/healthz", timeout=10).status_code == 200
    assert "SELECT 1" in queries.statements
