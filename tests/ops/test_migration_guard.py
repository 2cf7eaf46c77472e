"""A database that lacks migrations: every page says which command to run, /healthz lists what is pending."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.cli import main
from lti_tool.db import get_engine
from lti_tool.migrate import PENDING_MIGRATIONS_MESSAGE
from lti_tool.observability import JsonFormatter
from lti_tool.ops import migration_guard
from lti_tool.settings import Settings
from tests.fixtures.database import BACKENDS, database_of_its_own

MESSAGE = "Cadre's database needs upgrading: run `cadre db upgrade`"


@pytest.fixture(params=BACKENDS)
def unmigrated_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    with database_of_its_own(request.param, tmp_path) as database_url:
        yield from _app_on(database_url)


def _app_on(database_url: str) -> Iterator[Flask]:
    app = create_app(
        Settings(
            database_url=database_url,
            secret_key="test-secret-key-not-for-production",
            public_url="http://cadre.test",
            _env_file=None,
        )
    )  # type: ignore[call-arg]
    app.config["TESTING"] = True
    yield app
    get_engine(app).dispose()


def test_every_page_answers_503_naming_the_command(unmigrated_app: Flask) -> None:
    assert PENDING_MIGRATIONS_MESSAGE == MESSAGE
    client = unmigrated_app.test_client()
    for path in ("/", "/lti/config/canvas.json", "/lti/register", "/lti/launch"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.get_data(as_text=True).strip() == MESSAGE
        assert response.headers["Retry-After"] == "30"

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["pending_migrations"] and health.get_json()["hint"] == "run `cadre db upgrade`"


def test_upgrade_heals_a_running_app(unmigrated_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = unmigrated_app.test_client()
    assert client.get("/lti/config/canvas.json").status_code == 503

    result = unmigrated_app.test_cli_runner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0 and "the database is up to date" in result.output

    monkeypatch.setattr(migration_guard, "RECHECK_SECONDS", 0.0)
    response = client.get("/lti/config/canvas.json")
    assert response.status_code == 200
    assert response.get_json()["target_link_uri"] == "http://cadre.test/lti/launch"
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_startup_logs_the_same_message(unmigrated_app: Flask) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cadre.migrations")
    logger.addHandler(handler)
    try:
        pending = migration_guard.report_pending_migrations(unmigrated_app)
    finally:
        logger.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["msg"] == MESSAGE
    assert entry["pending_migrations"] == pending and pending
