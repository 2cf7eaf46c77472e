"""``cadre worker`` (in-process and as a real process stopped by SIGTERM), the in-process background worker,
one worker per SQLite database, and the admin commands ``cadre outbox status|dead|retry-dead``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool.cli import main
from lti_tool.db import session_scope, utcnow
from lti_tool.models import AuditEntry, OutboxMessage
from lti_tool.outbox import AnotherWorkerRunning, enqueue, handlers, start_background_worker, worker_slot
from lti_tool.states import OutboxStatus
from tests.fixtures.live_server import TEST_SECRET_KEY
from tests.outbox.conftest import FAST_RETRY, SINK_TOPIC, Sink, post_to_sink
from tests.outbox.worker_process import SLOW_TOPIC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sink_topic() -> Iterator[None]:
    handlers.register(SINK_TOPIC, post_to_sink, retry=FAST_RETRY)
    yield
    handlers.unregister(SINK_TOPIC)


def states(app: Flask) -> dict[str, tuple[OutboxStatus, int]]:
    with session_scope(app) as session:
        return {m.dedupe_key: (m.status, m.attempts) for m in session.scalars(select(OutboxMessage))}


def test_cadre_worker_once_drains_and_exits(committed_app: Flask, sink: Sink, sink_topic: None) -> None:
    with session_scope(committed_app) as session:
        for key in ("a", "b"):
            enqueue(session, SINK_TOPIC, key, {"url": sink.url})
    sink.answers["b"] = [(404, {}, "no such user")]
    result = committed_app.test_cli_runner().invoke(main, ["worker", "--once", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert result.output == "Outbox: delivered 1, to retry 0, dead 1.\n"
    assert states(committed_app) == {"a": (OutboxStatus.DELIVERED, 1), "b": (OutboxStatus.DEAD, 1)}


def test_cadre_worker_refuses_an_unknown_topic(committed_app: Flask, sink_topic: None) -> None:
    result = committed_app.test_cli_runner().invoke(main, ["worker", "--once", "--topic", "ags.scroe"])
    assert result.exit_code == 2
    assert "No handler for the topic(s) ags.scroe; known: " in result.output and SINK_TOPIC in result.output


def test_one_worker_per_sqlite_database(committed_app: Flask, sink_topic: None) -> None:
    sqlite = committed_app.extensions["cadre.engine"].dialect.name == "sqlite"
    with worker_slot(committed_app):
        result = committed_app.test_cli_runner().invoke(main, ["worker", "--once"])
        if sqlite:
            assert result.exit_code == 1
            assert "Another outbox worker already runs on the SQLite database" in result.output
            assert "SQLite allows one" in result.output
            with pytest.raises(AnotherWorkerRunning):
                start_background_worker(committed_app)
        else:  # PostgreSQL: as many workers as you like
            assert result.exit_code == 0, result.output
    # Released with the first worker: the next one starts.
    assert committed_app.test_cli_runner().invoke(main, ["worker", "--once"]).exit_code == 0


def test_the_background_worker_is_woken_by_the_commit(
    committed_app: Flask, sink: Sink, sink_topic: None
) -> None:
    worker = start_background_worker(committed_app, idle_seconds=60)
    try:
        started = time.monotonic()
        response = committed_app.test_client().post("/outbox-test/201", data={"key": "now", "url": sink.url})
        assert response.status_code == 201
        while not sink.received and time.monotonic() - started < 10:
            time.sleep(0.02)
        assert time.monotonic() - started < 10  # well before its 60 s poll: the commit woke it
        assert sink.received == Counter({"now": 1})
    finally:
        worker.stop()
    assert not worker._thread.is_alive()  # noqa: SLF001


def test_sigterm_stops_cadre_worker_after_the_message_in_hand(
    committed_app: Flask, sink: Sink, database_url: str, tmp_path: Path
) -> None:
    with session_scope(committed_app) as session:
        for key in ("first", "second", "third"):
            enqueue(session, SLOW_TOPIC, key, {"url": sink.url, "seconds": 1.0})
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("CADRE_")},
        "CADRE_DATABASE_URL": database_url, "CADRE_SECRET_KEY": TEST_SECRET_KEY, "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.outbox.worker_process", "worker", "--idle-seconds", "0.2"],
        cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not sink.received and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert sink.received == Counter({"first": 1}), process.stderr.read() if process.poll() else ""
        process.send_signal(signal.SIGTERM)  # while the first message is in hand
        output, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, errors
    assert "test.slow" in output.splitlines()[0]  # among every topic the installed features deliver
    assert output.rstrip().endswith("Outbox worker stopped: delivered 1, to retry 0, dead 0, handed back 2.")
    assert sink.received == Counter({"first": 1})
    assert states(committed_app) == {"first": (OutboxStatus.DELIVERED, 1),
                                     "second": (OutboxStatus.PENDING, 0), "third": (OutboxStatus.PENDING, 0)}


def _outbox_in_every_state(app: Flask) -> None:
    with session_scope(app) as session:
        grades = [("test.grades", key) for key in ("p1", "p2", "f1", "d1", "ok")]
        for topic, key in [*grades, ("test.mail", "d2"), ("test.mail", "d3")]:
            enqueue(session, topic, key, {})
        session.flush()
        for key, status in [("f1", OutboxStatus.FAILED), ("d1", OutboxStatus.DEAD), ("d2", OutboxStatus.DEAD),
                            ("d3", OutboxStatus.DEAD), ("ok", OutboxStatus.DELIVERED)]:
            session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == key)
                            .values(status=status, attempts=3, last_error=f"HTTP 400 for {key}"))
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "p1")
                        .values(created_at=utcnow() - timedelta(hours=2, minutes=5)))


def test_cadre_outbox_status_counts_per_topic(committed_app: Flask, sink_topic: None) -> None:
    runner = committed_app.test_cli_runner()
    assert runner.invoke(main, ["outbox", "status"]).output == "The outbox is empty.\n"
    _outbox_in_every_state(committed_app)
    result = runner.invoke(main, ["outbox", "status"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert lines[0] == ["TOPIC", "PENDING", "FAILED", "DEAD", "DELIVERED", "OLDEST", "WAITING"]
    assert lines[2] == ["test.grades", "(no", "handler)", "2", "1", "1", "1", "2h", "05m"]
    assert lines[3] == ["test.mail", "(no", "handler)", "0", "0", "2", "0", "-"]


def test_cadre_outbox_dead_and_retry_dead(committed_app: Flask) -> None:
    _outbox_in_every_state(committed_app)
    runner = committed_app.test_cli_runner()
    listed = runner.invoke(main, ["outbox", "dead", "--topic", "test.mail"])
    assert [line.split()[1:4] for line in listed.output.splitlines()[2:]] == [["test.mail", "d3", "3"],
                                                                             ["test.mail", "d2", "3"]]
    assert "HTTP 400 for d3" in listed.output

    result = runner.invoke(main, ["outbox", "retry-dead", "--topic", "test.mail"])
    assert result.output == "2 dead message(s) will be delivered again (test.mail).\n"
    found = states(committed_app)
    assert found["d2"] == found["d3"] == (OutboxStatus.PENDING, 0)
    assert found["d1"] == (OutboxStatus.DEAD, 3)  # another topic: untouched
    with session_scope(committed_app) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry_dead")).one()
        assert (entry.actor_label, entry.details) == ("cli", {"topic": "test.mail", "count": 2})

    assert runner.invoke(main, ["outbox", "retry-dead", "--topic", "test.mail"]).output == (
        "No dead message to retry for test.mail.\n")
    with session_scope(committed_app) as session:  # one message by its id: the others stay dead
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key.in_(["d2", "d3"]))
                        .values(status=OutboxStatus.DEAD))
        d3 = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "d3"))
    one = runner.invoke(main, ["outbox", "retry-dead", "--id", str(d3)])
    assert one.output == "1 dead message(s) will be delivered again.\n"
    found = states(committed_app)
    assert found["d3"] == (OutboxStatus.PENDING, 0) and found["d2"][0] is OutboxStatus.DEAD
    assert runner.invoke(main, ["outbox", "retry-dead", "--id", "0"]).exit_code == 2
    with session_scope(committed_app) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry_dead")
                                .order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.details["ids"] == [d3]
    assert runner.invoke(main, ["outbox", "retry-dead", "--topic", "test.mail"]).output == (
        "1 dead message(s) will be delivered again (test.mail).\n")
    retried = runner.invoke(main, ["outbox", "retry-dead"])
    assert retried.output == "1 dead message(s) will be delivered again.\n"
