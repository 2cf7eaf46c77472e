"""An app that commits for real (workers race on committed rows), a loopback HTTP receiver that counts what
reaches it through ``lti_tool.outbound``, and a topic delivering to it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask import Flask, Request, Response
from sqlalchemy import Engine, delete
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool import create_app, outbound
from lti_tool.db import get_engine, get_session, utcnow
from lti_tool.lti.session import csrf_exempt
from lti_tool.models import AuditEntry, JobRun, OutboxMessage
from lti_tool.outbox import HandlerRegistry, OutboxItem, Outcome, RetryPolicy, enqueue, outcome_of_response
from lti_tool.permissions import public
from lti_tool.settings import Settings
from tests.fixtures.live_server import TEST_SECRET_KEY, free_port

SINK_TOPIC = "test.sink"


@dataclass
class Sink:
    """Counts POSTs by ``key``; ``answers[key]`` lists (status, headers, body) to give before a 204."""

    url: str = ""
    received: Counter[str] = field(default_factory=Counter)
    answers: dict[str, list[tuple[int, dict[str, str], str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        key = request.get_json()["key"]
        with self.lock:
            self.received[key] += 1
            queued = self.answers.get(key)
            status, headers, body = queued.pop(0) if queued else (204, {}, "")
        return Response(body, status=status, headers=headers)(environ, start_response)


@pytest.fixture(scope="session")
def sink_server() -> Iterator[tuple[Sink, BaseWSGIServer]]:
    sink = Sink()
    port = free_port()
    server = make_server("127.0.0.1", port, sink, threaded=True)
    threading.Thread(target=server.serve_forever, name="outbox-sink", daemon=True).start()
    sink.url = f"http://127.0.0.1:{port}/receive"
    yield sink, server
    server.shutdown()


@pytest.fixture
def sink(sink_server: tuple[Sink, BaseWSGIServer]) -> Sink:
    found = sink_server[0]
    found.received.clear()
    found.answers.clear()
    return found


def post_to_sink(item: OutboxItem) -> Outcome:
    """The test topic's handler: what a feature's would look like (payload, shared client, dedupe key)."""
    response = outbound.client().post(item.payload["url"], json={"key": item.dedupe_key},
                                      headers={"Idempotency-Key": item.dedupe_key})
    return outcome_of_response(response)


FAST_RETRY = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=60)


@pytest.fixture
def registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register(SINK_TOPIC, post_to_sink, retry=FAST_RETRY)
    return registry


def build_app(database_url: str) -> Flask:
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, public_url="http://localhost",
                        _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    app.config["TESTING"] = True

    @app.post("/outbox-test/<int:status>")
    @public("a test route: enqueues a message and answers the status asked for")
    @csrf_exempt
    def enqueue_then_answer(status: int) -> tuple[str, int]:
        from flask import request

        enqueue(get_session(), SINK_TOPIC, request.form["key"], {"url": request.form["url"]})
        return "answered", status

    return app


@pytest.fixture(scope="module")
def app_of_module(migrated_engine: Engine, database_url: str) -> Iterator[Flask]:
    app = build_app(database_url)
    yield app
    get_engine(app).dispose()


@pytest.fixture
def committed_app(app_of_module: Flask, migrated_engine: Engine) -> Iterator[Flask]:
    """The app on the test database, committing for real; the outbox's tables are emptied afterwards."""
    yield app_of_module
    with migrated_engine.begin() as connection:
        connection.execute(delete(OutboxMessage))
        connection.execute(delete(JobRun))
        connection.execute(delete(AuditEntry).where(AuditEntry.action.like("outbox.%")))


class Clock:
    """A clock the test moves: workers and policies read it instead of the time."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
