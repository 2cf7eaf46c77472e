"""The delivery worker's error policy, against a stand-in LRS on loopback for the answers Ralph never gives
(a 400 on one statement of a batch, 429 and 503 with Retry-After, an endpoint that is not xAPI)."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from lti_tool.db import session_scope, utcnow
from lti_tool.records import lrs as registry
from lti_tool.records.delivery import XAPI_VERSION
from lti_tool.records.models import StatementDelivery
from lti_tool.states import DeliveryStatus, LrsStatus
from tests.records.delivery_support import (
    StandInLrs,
    add_lrs,
    deliverer,
    deliveries_of,
    free_port,
    lrs_row,
    record_statements,
    statement,
)


def test_a_batch_is_one_post_with_the_xapi_version_and_basic_auth(records_app: Flask,
                                                                  stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, password="the-password", batch_size=100)
    ids = record_statements(records_app, [statement(number=n) for n in range(30)])
    report = deliverer(records_app).drain()
    assert (report.delivered, report.posts) == (30, 1)
    assert stand_in.batches == [ids] and stand_in.versions == [XAPI_VERSION]
    assert stand_in.authorizations == ["Basic Y2FkcmU6dGhlLXBhc3N3b3Jk"]  # cadre:the-password
    rows = deliveries_of(records_app, lrs_id)
    assert {row.status for row in rows} == {DeliveryStatus.DELIVERED}
    assert all(row.attempts == 1 and row.claimed_by is None and row.delivered_at for row in rows)


def test_batches_follow_the_lrs_batch_size(records_app: Flask, stand_in: StandInLrs) -> None:
    add_lrs(records_app, stand_in.url, batch_size=7)
    record_statements(records_app, [statement(number=n) for n in range(20)])
    report = deliverer(records_app).drain()
    assert report.delivered == 20 and [len(batch) for batch in stand_in.batches] == [7, 7, 6]


def test_a_400_is_split_until_the_refused_statement_is_alone(records_app: Flask,
                                                             stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url)
    ids = record_statements(records_app, [statement(number=n) for n in range(16)])
    stand_in.refuse.add(ids[5])
    report = deliverer(records_app).drain()
    assert (report.delivered, report.dead) == (15, 1)
    assert set(stand_in.stored) == set(ids) - {ids[5]}
    assert report.posts <= 1 + 2 * 4  # one per half on the way down to the one statement, no more
    dead = [row for row in deliveries_of(records_app, lrs_id) if row.status is DeliveryStatus.DEAD]
    assert len(dead) == 1 and dead[0].last_error == (
        f"The LRS refused the statement (HTTP 400): Statement {ids[5]} has a bad extension")
    assert deliverer(records_app).drain().claimed == 0  # a dead letter waits for an admin


def test_429_waits_for_retry_after_then_delivers(records_app: Flask, stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url)
    record_statements(records_app, [statement(number=n) for n in range(3)])
    stand_in.queue.append((429, {"Retry-After": "2"}, '{"detail": "slow down"}'))
    worker = deliverer(records_app)
    before = utcnow()
    first = worker.drain()
    assert (first.retried, first.delivered) == (3, 0)
    rows = deliveries_of(records_app, lrs_id)
    assert all(row.status is DeliveryStatus.PENDING for row in rows)
    assert {row.last_error for row in rows} == {"HTTP 429: slow down"}
    assert all(before + timedelta(seconds=2) <= row.next_attempt_at <= utcnow() + timedelta(seconds=2.5)
               for row in rows)
    almost = before + timedelta(seconds=1.9)
    assert deliverer(records_app, clock=lambda: almost).drain().claimed == 0  # not before the LRS said
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and worker.drain().delivered == 0:
        time.sleep(0.2)
    assert {row.status for row in deliveries_of(records_app, lrs_id)} == {DeliveryStatus.DELIVERED}
    assert stand_in.times[1] - stand_in.times[0] >= 2.0


def test_503_without_retry_after_backs_off_exponentially_with_jitter(records_app: Flask,
                                                                      stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url)
    record_statements(records_app, [statement()])
    for _ in range(3):
        stand_in.queue.append((503, {}, "down for maintenance"))
    now = utcnow()  # the worker's clock stands still: the waits are exactly the policy's
    worker = deliverer(records_app, random=lambda: 1.0, clock=lambda: now)  # the top of each jitter range
    waits = []
    for _ in range(3):
        with session_scope(records_app) as session:  # due on the worker's clock, the test does not sleep
            session.execute(update(StatementDelivery).values(next_attempt_at=now))
        assert worker.drain().retried == 1
        row = deliveries_of(records_app, lrs_id)[0]
        waits.append((row.next_attempt_at - now).total_seconds())
    # base 0.2 s doubling, capped at 1 s (the test app's settings): 0.2, 0.4, 0.8
    assert [round(wait, 3) for wait in waits] == [0.2, 0.4, 0.8]
    assert deliveries_of(records_app, lrs_id)[0].last_error == "HTTP 503: down for maintenance"
    with session_scope(records_app) as session:
        session.execute(update(StatementDelivery).values(next_attempt_at=now))
    assert worker.drain().delivered == 1


def test_an_lrs_that_cannot_be_reached_keeps_its_statements_waiting(records_app: Flask) -> None:
    lrs_id = add_lrs(records_app, f"http://127.0.0.1:{free_port()}/xapi")
    record_statements(records_app, [statement()])
    before = utcnow()
    report = deliverer(records_app).drain()
    assert report.retried == 1 and report.dead == 0
    row = deliveries_of(records_app, lrs_id)[0]
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    # Half the first wait at least (0.2 s with jitter, the test app's settings), from when it failed.
    assert row.next_attempt_at >= before + timedelta(seconds=0.1) and "127.0.0.1" in (row.last_error or "")


def test_401_pauses_the_lrs_and_hands_its_batch_back(records_app: Flask, stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url)
    record_statements(records_app, [statement(number=n) for n in range(4)])
    stand_in.queue.append((401, {}, '{"detail": "Invalid authentication credentials"}'))
    report = deliverer(records_app).drain()
    assert report.paused == ["ralph"] and report.released == 4 and report.delivered == 0
    store = lrs_row(records_app, lrs_id)
    assert store.status is LrsStatus.PAUSED and store.paused_at is not None
    assert "HTTP 401: Invalid authentication credentials" in (store.paused_reason or "")
    assert all(row.attempts == 0 and row.status is DeliveryStatus.PENDING
               for row in deliveries_of(records_app, lrs_id))
    assert deliverer(records_app).drain().posts == 0 and len(stand_in.batches) == 1  # nothing more is sent
    with records_app.app_context(), session_scope(records_app) as session:
        registry.resume(session, registry.find_store(session, "ralph"))
    assert deliverer(records_app).drain().delivered == 4


def test_an_endpoint_that_is_not_xapi_pauses_the_lrs(records_app: Flask, stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url)
    record_statements(records_app, [statement()])
    stand_in.queue.append((404, {}, "Not Found"))
    deliverer(records_app).drain()
    store = lrs_row(records_app, lrs_id)
    assert store.status is LrsStatus.PAUSED
    assert "is not an xAPI statements resource" in (store.paused_reason or "")


def test_a_password_that_no_longer_decrypts_pauses_the_lrs_with_the_fix(records_app: Flask,
                                                                        stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url)
    with session_scope(records_app) as session:
        store = session.get(registry.LearningRecordStore, lrs_id)
        store.password_encrypted = registry.encrypt_password("p", secret_key="an older secret key")
    record_statements(records_app, [statement()])
    with records_app.app_context():
        report = deliverer(records_app).drain()
    assert report.paused == ["ralph"] and stand_in.batches == []
    assert "cadre lrs add NAME" in (lrs_row(records_app, lrs_id).paused_reason or "")


def test_two_lrs_each_get_every_statement_and_one_down_does_not_hold_up_the_other(
        records_app: Flask, stand_in: StandInLrs) -> None:
    up = add_lrs(records_app, stand_in.url, name="up")
    down = add_lrs(records_app, f"http://127.0.0.1:{free_port()}/xapi", name="down")
    record_statements(records_app, [statement(number=n) for n in range(5)])
    report = deliverer(records_app).run_once()  # one pass over both (drain would retry the one down)
    assert (report.delivered, report.retried) == (5, 5)
    assert {row.status for row in deliveries_of(records_app, up)} == {DeliveryStatus.DELIVERED}
    assert {row.status for row in deliveries_of(records_app, down)} == {DeliveryStatus.PENDING}
