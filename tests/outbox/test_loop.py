"""The loop both delivery workers run (lti_tool.outbox.loop): on a database that cannot be reached, from the
start, each logs it and keeps trying instead of dying, and stops when told."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask

from lti_tool import create_app
from lti_tool.db import get_engine
from lti_tool.outbox.loop import DeliveryLoop
from lti_tool.outbox.worker import Worker
from lti_tool.records.delivery import StatementDeliverer
from lti_tool.settings import Settings
from tests.fixtures.live_server import TEST_SECRET_KEY, free_port

WORKERS: dict[str, Callable[[Flask], DeliveryLoop]] = {  # type: ignore[type-arg]
    "the outbox worker": lambda app: Worker(app),
    "the statement delivery worker": lambda app: StatementDeliverer(app),
}


@pytest.fixture
def unreachable_app() -> Flask:
    """Cadre on a PostgreSQL address where nothing listens (a free loopback port)."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/cadre_nowhere?connect_timeout=2"
    settings = Settings(database_url=url, secret_key=TEST_SECRET_KEY, public_url="http://localhost",
                        _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    yield app
    get_engine(app).dispose()


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_a_worker_whose_database_is_down_logs_it_keeps_trying_and_stops_when_told(
    name: str, unreachable_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    worker = WORKERS[name](unreachable_app)
    assert worker.loop_name == name
    caplog.set_level(logging.ERROR, logger="lti_tool.outbox.loop")
    thread = threading.Thread(target=worker.run, kwargs={"idle_seconds": 0.05}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        failures = [record for record in caplog.records if "cannot reach the database" in record.getMessage()]
        if len(failures) >= 2:
            break
        time.sleep(0.05)
    assert len(failures) >= 2, "the worker did not try again after the database could not be reached"
    assert failures[0].getMessage().startswith(name)
    assert thread.is_alive(), "the worker died of an unreachable database"
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the worker did not stop when told"


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_drain_on_a_database_that_is_down_raises_for_the_command_to_report(
    name: str, unreachable_app: Flask
) -> None:
    """``cadre worker --once`` runs one drain: there the error reaches the command, which exits non-zero."""
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError):
        WORKERS[name](unreachable_app).drain()
