"""Delivery to a real LRS: Ralph (ralph-malph, file-system backend) on loopback. Statements arrive and read
back as Cadre stored them; none is lost or arrives twice when Ralph goes down mid-run, when a worker is
killed mid-batch, or when four workers share the work on PostgreSQL; a statement Ralph refuses goes dead
with Ralph's reason while the rest of its batch arrives; wrong credentials pause the LRS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.demo.ralph import RalphLrs
from lti_tool.records.models import Statement, StatementDelivery
from lti_tool.states import DeliveryStatus, LrsStatus
from tests.fixtures.live_server import TEST_SECRET_KEY
from tests.records.delivery_support import (
    RALPH_PASSWORD,
    add_lrs,
    deliverer,
    deliveries_of,
    lrs_row,
    make_course,
    ralph_ids,
    record_statements,
    statement,
    without_lrs_fields,
)

ROOT = Path(__file__).resolve().parents[2]
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)


def status_counts(app: Flask) -> Counter[DeliveryStatus]:
    with session_scope(app) as session:
        return Counter({status: count for status, count in session.execute(
            select(StatementDelivery.status, func.count()).group_by(StatementDelivery.status))})


def ralph_get(ralph: RalphLrs, **params: str) -> httpx.Response:
    return httpx.get(f"{ralph.endpoint}/statements", params=params, auth=("cadre", RALPH_PASSWORD),
                     headers=XAPI_HEADERS, timeout=10)


def worker_process(database_url: str, cwd: Path, *arguments: str,
                   lease_seconds: float = 2.0) -> subprocess.Popen[str]:
    """``cadre worker`` as a process of its own, on the test database, with a short lease and fast retries."""
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("CADRE_")},
        "CADRE_DATABASE_URL": database_url, "CADRE_SECRET_KEY": TEST_SECRET_KEY, "PYTHONPATH": str(ROOT),
        "CADRE_LRS_LEASE_SECONDS": str(lease_seconds), "CADRE_LRS_RETRY_BASE_SECONDS": "0.2",
        "CADRE_LRS_RETRY_CAP_SECONDS": "1", "CADRE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-c", "from lti_tool.cli import main; main(prog_name='cadre')", "worker",
               "--idle-seconds", "0.2", *arguments]
    return subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_statements_reach_ralph_and_read_back_as_stored(records_app: Flask, ralph: RalphLrs) -> None:
    add_lrs(records_app, ralph.endpoint, batch_size=10)
    with session_scope(records_app) as session:
        course = make_course(session)
    ids = record_statements(records_app, [statement(course, number=n) for n in range(25)], course)

    report = deliverer(records_app).drain()

    assert (report.delivered, report.posts, report.dead) == (25, 3, 0)
    assert ralph_ids(ralph, set(ids)) == ids  # each once, in stored order
    with session_scope(records_app) as session:
        stored = {row.id: row.body for row in session.scalars(select(Statement))}
    for statement_id in ids[:5] + ids[-2:]:
        answer = ralph_get(ralph, statementId=statement_id)
        assert answer.status_code == 200
        [held] = answer.json()["statements"]  # Ralph wraps a single statement in a result (xAPI does not)
        assert without_lrs_fields(held) == without_lrs_fields(stored[statement_id])


def test_ralph_down_mid_run_loses_nothing_and_duplicates_nothing(records_app: Flask, ralph: RalphLrs) -> None:
    add_lrs(records_app, ralph.endpoint, batch_size=20)
    first = record_statements(records_app, [statement(number=n) for n in range(100)])
    worker = deliverer(records_app)
    thread = threading.Thread(target=worker.run, kwargs={"idle_seconds": 0.1}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: status_counts(records_app)[DeliveryStatus.DELIVERED] >= 20, 30, "a first batch")
        ralph.stop()
        during = record_statements(records_app, [statement(number=n) for n in range(100, 160)])
        wait_for(lambda: any(row.last_error for row in deliveries_of(records_app)), 30, "a failed attempt")
        assert status_counts(records_app)[DeliveryStatus.PENDING] >= 60
        ralph.start()
        wait_for(lambda: status_counts(records_app) == Counter({DeliveryStatus.DELIVERED: 160}), 60,
                 "every statement delivered after the restart")
    finally:
        worker.stop()
        thread.join(30)
        if ralph.process is None or ralph.process.poll() is not None:
            ralph.start()
    ours = set(first + during)
    arrived = ralph_ids(ralph, ours)
    assert Counter(arrived) == Counter(dict.fromkeys(ours, 1))


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
        records_app: Flask, fresh_ralph: RalphLrs, database_url: str, tmp_path: Path) -> None:
    add_lrs(records_app, fresh_ralph.endpoint, batch_size=25)
    ids = record_statements(records_app, [statement(number=n) for n in range(400)])
    killed_holding_a_claim = 0
    for _attempt in range(5):
        delivered = status_counts(records_app)[DeliveryStatus.DELIVERED]
        if delivered == len(ids):
            break
        process = worker_process(database_url, tmp_path)
        try:
            def progressed(before: int = delivered, running: subprocess.Popen[str] = process) -> bool:
                return (status_counts(records_app)[DeliveryStatus.DELIVERED] > before
                        or running.poll() is not None)

            wait_for(progressed, 120, "the worker delivering")  # a loaded machine starts Python slowly
            assert process.poll() is None, process.communicate()[1]
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()
        if any(row.claimed_by for row in deliveries_of(records_app)):
            killed_holding_a_claim += 1
            break
    assert killed_holding_a_claim >= 1  # at least one kill struck between claiming and recording a batch
    time.sleep(2.1)  # the dead workers' leases run out
    survivor = worker_process(database_url, tmp_path, "--once")
    _output, errors = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, errors
    assert status_counts(records_app) == Counter({DeliveryStatus.DELIVERED: len(ids)})
    assert Counter(ralph_ids(fresh_ralph, set(ids))) == Counter(dict.fromkeys(ids, 1))


def test_four_workers_at_once_deliver_each_statement_once_on_postgresql_one_on_sqlite(
        records_app: Flask, fresh_ralph: RalphLrs, database_url: str, tmp_path: Path) -> None:
    add_lrs(records_app, fresh_ralph.endpoint, batch_size=20)
    ids = record_statements(records_app, [statement(number=n) for n in range(400)])
    workers = [worker_process(database_url, tmp_path, "--once", lease_seconds=120) for _ in range(4)]
    results = [(process.communicate(timeout=180), process.returncode) for process in workers]
    if database_url.startswith("sqlite"):  # one worker per SQLite file: the others are refused
        assert sorted(code for _streams, code in results) == [0, 1, 1, 1]
        refusals = [errors for (_output, errors), code in results if code == 1]
        assert all("Another outbox worker already runs on the SQLite database" in text for text in refusals)
    else:
        assert [code for _streams, code in results] == [0, 0, 0, 0], [errors for (_o, errors), _c in results]
    rows = deliveries_of(records_app)
    assert {row.status for row in rows} == {DeliveryStatus.DELIVERED}
    assert {row.attempts for row in rows} == {1}  # each row claimed by exactly one worker, once
    assert Counter(ralph_ids(fresh_ralph, set(ids))) == Counter(dict.fromkeys(ids, 1))


def test_a_statement_ralph_refuses_goes_dead_with_its_reason_and_the_rest_arrives(
        records_app: Flask, ralph: RalphLrs) -> None:
    lrs_id = add_lrs(records_app, ralph.endpoint, batch_size=10)
    bodies = [statement(number=n) for n in range(10)]
    conflicting = dict(bodies[6], verb={"id": "http://adlnet.gov/expapi/verbs/completed"})
    placed = httpx.post(f"{ralph.endpoint}/statements", json=[conflicting], auth=("cadre", RALPH_PASSWORD),
                        headers=XAPI_HEADERS, timeout=10)
    assert placed.status_code == 200  # Ralph now holds a different statement with that id
    ids = record_statements(records_app, bodies)

    report = deliverer(records_app).drain()

    assert (report.delivered, report.dead) == (9, 1)
    rows = {row.statement_seq: row for row in deliveries_of(records_app, lrs_id)}
    dead = [row for row in rows.values() if row.status is DeliveryStatus.DEAD]
    assert len(dead) == 1
    assert dead[0].last_error == ("The LRS holds a different statement with this id (HTTP 409): Differing "
                                  f"statements already exist with the same ID: {ids[6]}")
    assert Counter(ralph_ids(ralph, set(ids))) == Counter(dict.fromkeys(ids, 1))  # the 7th is Ralph's own


def test_a_batch_ralph_already_has_counts_as_delivered(records_app: Flask, ralph: RalphLrs) -> None:
    add_lrs(records_app, ralph.endpoint)
    ids = record_statements(records_app, [statement(number=n) for n in range(5)])
    assert deliverer(records_app).drain().delivered == 5
    with session_scope(records_app) as session:  # as if the worker had died before recording the outcome
        session.execute(StatementDelivery.__table__.update().values(status=DeliveryStatus.PENDING))
    assert deliverer(records_app).drain().delivered == 5
    assert Counter(ralph_ids(ralph, set(ids))) == Counter(dict.fromkeys(ids, 1))


def test_wrong_credentials_pause_the_lrs(records_app: Flask, ralph: RalphLrs) -> None:
    lrs_id = add_lrs(records_app, ralph.endpoint, password="not-the-password")
    ids = record_statements(records_app, [statement(number=n) for n in range(3)])
    report = deliverer(records_app).drain()
    assert report.paused == ["ralph"] and report.delivered == 0
    store = lrs_row(records_app, lrs_id)
    assert store.status is LrsStatus.PAUSED
    assert "HTTP 401: Invalid authentication credentials" in (store.paused_reason or "")
    assert ralph_ids(ralph, set(ids)) == []
    assert {(row.status, row.attempts) for row in deliveries_of(records_app, lrs_id)} == {
        (DeliveryStatus.PENDING, 0)}


def test_the_lrs_of_the_environment_delivers_with_the_environments_password(
        migrated_engine, database_url: str, ralph: RalphLrs) -> None:  # type: ignore[no-untyped-def]
    from lti_tool.db import get_engine
    from tests.fixtures.database import empty_all_tables
    from tests.records.delivery_support import build_records_app

    app = build_records_app(database_url, lrs_endpoint=ralph.endpoint + "/", lrs_username="cadre",
                            lrs_password=RALPH_PASSWORD)
    try:
        ids = record_statements(app, [statement(number=n) for n in range(3)])
        assert deliverer(app).drain().delivered == 3
        assert ralph_ids(ralph, set(ids)) == ids
        [store] = [lrs_row(app, row.lrs_id) for row in deliveries_of(app)[:1]]
        assert (store.name, store.from_environment, store.password_encrypted) == ("environment", True, None)
        # The variable unset: the LRS made from it is paused (its statements wait), not forgotten.
        unset = build_records_app(database_url)
        record_statements(unset, [statement()])
        report = deliverer(unset).drain()
        assert report.delivered == 0 and lrs_row(unset, store.id).status is LrsStatus.PAUSED
        assert "CADRE_LRS_ENDPOINT is no longer set" in (lrs_row(unset, store.id).paused_reason or "")
        get_engine(unset).dispose()
    finally:
        get_engine(app).dispose()
        empty_all_tables(migrated_engine)
