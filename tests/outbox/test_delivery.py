"""The outbox end to end on both backends: enqueued in a request's transaction, delivered after commit by
a worker through ``lti_tool.outbound`` to a real loopback receiver, retried, given up, recovered."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from egress import OutboundTimeout
from lti_tool.db import session_scope
from lti_tool.models import OutboxMessage
from lti_tool.outbox import (
    Dead,
    Delivered,
    HandlerRegistry,
    OutboxItem,
    Retry,
    RetryLater,
    Worker,
    enqueue,
)
from lti_tool.outbox.messages import listen_for_commits, stop_listening
from lti_tool.outbox.worker import BatchReport
from lti_tool.states import OutboxStatus
from tests.outbox.conftest import FAST_RETRY, SINK_TOPIC, Clock, Sink


def messages(app: Flask) -> list[OutboxMessage]:
    with session_scope(app) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def enqueue_committed(app: Flask, sink: Sink, *keys: str) -> None:
    with session_scope(app) as session:
        for key in keys:
            enqueue(session, SINK_TOPIC, key, {"url": sink.url})


class CountingWaker:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


@pytest.fixture
def waker() -> CountingWaker:
    waker = CountingWaker()
    listen_for_commits(waker)
    yield waker
    stop_listening(waker)


def test_a_message_enqueued_by_a_committed_request_is_delivered_after_the_commit(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink, waker: CountingWaker
) -> None:
    response = committed_app.test_client().post("/outbox-test/200", data={"key": "k1", "url": sink.url})
    assert response.status_code == 200
    assert waker.woken == 1  # once, after the commit
    assert sink.received == Counter()  # nothing sent from the request
    [message] = messages(committed_app)
    assert (message.topic, message.dedupe_key, message.status, message.attempts) == (
        SINK_TOPIC, "k1", OutboxStatus.PENDING, 0)

    report = Worker(committed_app, registry=registry).run_once()

    assert (report.claimed, report.delivered) == (1, 1)
    assert sink.received == Counter({"k1": 1})
    [message] = messages(committed_app)
    assert message.status is OutboxStatus.DELIVERED and message.attempts == 1
    assert message.delivered_at is not None and message.claimed_by is None and message.last_error is None


@pytest.mark.parametrize("status", [400, 422, 500])
def test_a_request_that_fails_enqueues_nothing_and_sends_nothing(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink, waker: CountingWaker, status: int
) -> None:
    response = committed_app.test_client().post(f"/outbox-test/{status}", data={"key": "k", "url": sink.url})
    assert response.status_code == status
    assert messages(committed_app) == []
    assert waker.woken == 0
    assert Worker(committed_app, registry=registry).run_once().claimed == 0
    assert sink.received == Counter()


def test_the_same_event_twice_is_one_message_delivered_once(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    with session_scope(committed_app) as session:
        assert enqueue(session, SINK_TOPIC, "score:7:1", {"url": sink.url}) is True
        assert enqueue(session, SINK_TOPIC, "score:7:1", {"url": sink.url}) is False
    client = committed_app.test_client()
    for _ in range(2):  # the platform or the user sends the event again
        assert client.post("/outbox-test/200", data={"key": "score:7:1", "url": sink.url}).status_code == 200
    with session_scope(committed_app) as session:
        assert enqueue(session, "other.topic", "score:7:1", {}) is True  # keys are per topic
    Worker(committed_app, registry=registry).drain()
    Worker(committed_app, registry=registry).drain()
    assert sink.received == Counter({"score:7:1": 1})
    assert [(m.topic, m.status) for m in messages(committed_app)] == [
        (SINK_TOPIC, OutboxStatus.DELIVERED), ("other.topic", OutboxStatus.PENDING)]  # no handler: waits


def test_bad_messages_are_refused_at_enqueue_and_store_nothing(committed_app: Flask) -> None:
    with session_scope(committed_app) as session:
        with pytest.raises(ValueError, match="plain JSON"):
            enqueue(session, SINK_TOPIC, "k", {"when": object()})
        with pytest.raises(ValueError, match="plain JSON"):
            enqueue(session, SINK_TOPIC, "k", {"x": float("nan")})
        with pytest.raises(ValueError, match="64 KB"):
            enqueue(session, SINK_TOPIC, "k", {"x": "a" * 70_000})
        with pytest.raises(ValueError, match="dedupe key"):
            enqueue(session, SINK_TOPIC, "", {})
    assert messages(committed_app) == []


def test_a_failing_receiver_is_retried_with_backoff_then_delivered(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    sink.answers["k"] = [(503, {}, "down for maintenance"), (502, {}, "")]
    enqueue_committed(committed_app, sink, "k")
    clock = Clock()
    worker = Worker(committed_app, registry=registry, clock=clock)

    assert worker.run_once().retried == 1
    [message] = messages(committed_app)
    assert message.status is OutboxStatus.FAILED and message.attempts == 1
    assert "HTTP 503: down for maintenance" in (message.last_error or "")
    first_delay = (message.next_attempt_at - clock.now).total_seconds()
    assert FAST_RETRY.base_seconds / 2 <= first_delay <= FAST_RETRY.base_seconds  # jittered, not sooner

    assert worker.run_once().claimed == 0  # not due yet: nothing is sent
    clock.advance(first_delay + 0.001)
    assert worker.run_once().retried == 1
    [message] = messages(committed_app)
    second_delay = (message.next_attempt_at - clock.now).total_seconds()
    assert FAST_RETRY.base_seconds <= second_delay <= 2 * FAST_RETRY.base_seconds  # exponential

    clock.advance(second_delay + 0.001)
    assert worker.run_once().delivered == 1
    assert sink.received == Counter({"k": 3})
    [message] = messages(committed_app)
    assert message.status is OutboxStatus.DELIVERED and message.attempts == 3 and message.last_error is None


def test_retry_after_is_honoured(committed_app: Flask, registry: HandlerRegistry, sink: Sink) -> None:
    sink.answers["k"] = [(429, {"Retry-After": "120"}, "slow down")]
    enqueue_committed(committed_app, sink, "k")
    clock = Clock()
    Worker(committed_app, registry=registry, clock=clock).run_once()
    [message] = messages(committed_app)
    assert message.next_attempt_at == clock.now + timedelta(seconds=120)


def test_a_permanent_refusal_is_dead_with_the_receivers_reason(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    sink.answers["k"] = [(400, {}, '{"error": "line item 12 does not exist"}')]
    enqueue_committed(committed_app, sink, "k", "fine")
    clock = Clock()
    report = Worker(committed_app, registry=registry, clock=clock).run_once()
    assert (report.delivered, report.dead) == (1, 1)
    dead = {m.dedupe_key: m for m in messages(committed_app)}["k"]
    assert dead.status is OutboxStatus.DEAD
    assert dead.last_error == f'POST {sink.url} answered HTTP 400: {{"error": "line item 12 does not exist"}}'
    clock.advance(10 * 86400)
    assert Worker(committed_app, registry=registry, clock=clock).run_once().claimed == 0  # dead stays dead
    assert sink.received == Counter({"k": 1, "fine": 1})


def test_too_many_failures_make_a_message_dead(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    sink.answers["k"] = [(503, {}, "")] * FAST_RETRY.max_attempts
    enqueue_committed(committed_app, sink, "k")
    clock = Clock()
    worker = Worker(committed_app, registry=registry, clock=clock)
    for _ in range(FAST_RETRY.max_attempts):
        worker.run_once()
        clock.advance(FAST_RETRY.cap_seconds + 1)
    [message] = messages(committed_app)
    assert message.status is OutboxStatus.DEAD and message.attempts == FAST_RETRY.max_attempts
    assert message.last_error == f"gave up after 3 attempts; the last: POST {sink.url} answered HTTP 503"
    assert worker.run_once().claimed == 0


def test_errors_are_stored_without_secrets(committed_app: Flask) -> None:
    registry = HandlerRegistry()
    answers = {
        "timeout": OutboundTimeout("no answer within 10 s", method="GET",
                                   url="https://lms.example/token?client_secret=s3cr3t&x=1"),
        "retry": Retry("token endpoint said: Authorization: Bearer eyJhbGciOi.secret.part"),
        "bug": RuntimeError("password=hunter2 in a message nobody cleaned"),
        "dead": Dead("refused https://lrs.example/xAPI/statements?access_token=abc123 with 401"),
    }

    def handler(item: OutboxItem) -> None:
        answer = answers[item.dedupe_key]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    registry.register("secrets", handler)
    with session_scope(committed_app) as session:
        for key in answers:
            enqueue(session, "secrets", key, {})
    Worker(committed_app, registry=registry).run_once()
    errors = {m.dedupe_key: m.last_error or "" for m in messages(committed_app)}
    assert errors["timeout"] == "GET https://lms.example/token: no answer within 10 s"
    assert errors["retry"] == "token endpoint said: Authorization: Bearer [redacted]"
    assert errors["bug"] == "the handler raised RuntimeError (see the worker's log)"
    assert errors["dead"] == "refused https://lrs.example/xAPI/statements with 401"
    for secret in ("s3cr3t", "eyJhbGciOi", "hunter2", "abc123"):
        assert all(secret not in error for error in errors.values())


def test_handlers_run_with_no_transaction_open(committed_app: Flask) -> None:
    """The worker's own sessions are closed while a handler runs: it may call out for as long as it
    likes without holding a connection, and it may open its own short transaction to read."""
    registry = HandlerRegistry()
    seen: list[int] = []

    def handler(item: OutboxItem) -> Delivered:
        pool = committed_app.extensions["cadre.engine"].pool
        seen.append(pool.checkedout())
        with session_scope(committed_app) as session:  # a read of its own is fine
            session.scalar(select(func.count()).select_from(OutboxMessage))
        return Delivered()

    registry.register("probe", handler)
    with session_scope(committed_app) as session:
        enqueue(session, "probe", "a", {})
        enqueue(session, "probe", "b", {})
    assert Worker(committed_app, registry=registry).run_once().delivered == 2
    assert seen == [0, 0]


def test_a_crashed_workers_messages_are_delivered_after_its_lease(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    enqueue_committed(committed_app, sink, "k")
    clock = Clock()
    crashed = Worker(committed_app, registry=registry, clock=clock, lease_seconds=60, name="crashed")
    claim = crashed._claim()  # noqa: SLF001 - the claim, and then the worker dies before delivering
    assert [item.dedupe_key for item in claim.items] == ["k"]

    other = Worker(committed_app, registry=registry, clock=clock, lease_seconds=60, name="other")
    clock.advance(59)
    assert other.run_once().claimed == 0  # the lease holds
    clock.advance(2)
    assert other.run_once().delivered == 1  # the lease ran out: delivered by the other worker

    # The first worker comes back from a long pause and records its own outcome: it is refused.
    late = BatchReport()
    crashed._record(claim, claim.items[0], RetryLater("timed out"), late)  # noqa: SLF001
    assert late.lost == 1
    [message] = messages(committed_app)
    assert message.status is OutboxStatus.DELIVERED and message.attempts == 2
    assert sink.received == Counter({"k": 1})


def test_a_stopping_worker_hands_the_rest_of_its_batch_back(committed_app: Flask) -> None:
    registry = HandlerRegistry()
    worker = Worker(committed_app, registry=registry, batch_size=10)
    handled: list[str] = []

    def handler(item: OutboxItem) -> None:
        handled.append(item.dedupe_key)
        worker.stop()  # SIGTERM arrives while the first message is in hand

    registry.register("slow", handler)
    with session_scope(committed_app) as session:
        for key in "abc":
            enqueue(session, "slow", key, {})
    report = worker.run_once()
    assert (report.delivered, report.released) == (1, 2)
    assert handled == ["a"]
    states = {m.dedupe_key: (m.status, m.attempts, m.claimed_by) for m in messages(committed_app)}
    assert states == {"a": (OutboxStatus.DELIVERED, 1, None), "b": (OutboxStatus.PENDING, 0, None),
                      "c": (OutboxStatus.PENDING, 0, None)}
    # Due at once, not after a lease.
    assert Worker(committed_app, registry=registry).run_once().delivered == 2


def test_a_slow_batch_renews_its_lease(committed_app: Flask) -> None:
    registry = HandlerRegistry()
    with session_scope(committed_app) as session:
        for key in "abc":
            enqueue(session, "slow", key, {})
    clock = Clock()
    other = Worker(committed_app, registry=registry, clock=clock, name="other")
    taken_by_other: list[int] = []

    def handler(item: OutboxItem) -> None:
        clock.advance(40)  # each message takes 40 s of a 60 s lease: the batch takes two minutes
        taken_by_other.append(other.run_once().claimed)

    registry.register("slow", handler)
    report = Worker(committed_app, registry=registry, clock=clock, lease_seconds=60).run_once()
    assert (report.delivered, report.lost) == (3, 0)
    assert taken_by_other == [0, 0, 0]  # without renewal, "c" would be due again at 60 s


def test_two_workers_deliver_500_messages_each_exactly_once(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    """Two workers at once (threads, each with its own connections) against one receiver. On PostgreSQL
    SKIP LOCKED splits the batches; on SQLite the claim is one atomic statement, so even a (refused in
    production) second worker would not double-send."""
    keys = [f"m{number:03d}" for number in range(500)]
    enqueue_committed(committed_app, sink, *keys)
    workers = [Worker(committed_app, registry=registry, batch_size=20, name=f"w{n}") for n in range(2)]
    reports: list[BatchReport] = []
    start = threading.Barrier(len(workers))

    def work(worker: Worker) -> None:
        start.wait()
        reports.append(worker.drain())

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)

    assert sink.received == Counter(dict.fromkeys(keys, 1))
    assert sum(report.delivered for report in reports) == 500
    assert {(m.status, m.attempts) for m in messages(committed_app)} == {(OutboxStatus.DELIVERED, 1)}
    if committed_app.extensions["cadre.engine"].dialect.name == "postgresql":
        assert all(report.delivered > 0 for report in reports)  # both took part


def test_what_a_delivery_records_is_written_with_its_delivered_mark_never_after_a_lost_lease(
    committed_app: Flask, registry: HandlerRegistry, sink: Sink
) -> None:
    """``Delivered(record=…)`` writes in the transaction that marks the message delivered (it sees the
    mark), and not at all when the worker's lease ran out and another worker delivered the message."""
    seen: list[OutboxStatus | None] = []

    def record(session: Session) -> None:
        seen.append(session.scalar(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == "mine")))

    enqueue_committed(committed_app, sink, "mine")
    clock = Clock()
    worker = Worker(committed_app, registry=registry, clock=clock, lease_seconds=60, name="worker")
    claim = worker._claim()  # noqa: SLF001
    report = BatchReport()
    worker._record(claim, claim.items[0], Delivered(record=record), report)  # noqa: SLF001
    assert report.delivered == 1 and seen == [OutboxStatus.DELIVERED]

    enqueue_committed(committed_app, sink, "theirs")
    clock = Clock()
    paused = Worker(committed_app, registry=registry, clock=clock, lease_seconds=60, name="paused")
    late_claim = paused._claim()  # noqa: SLF001
    clock.advance(61)
    assert Worker(committed_app, registry=registry, clock=clock, name="other").run_once().delivered == 1
    late = BatchReport()
    paused._record(late_claim, late_claim.items[0], Delivered(record=record), late)  # noqa: SLF001
    assert late.lost == 1 and seen == [OutboxStatus.DELIVERED]  # not run for the lost one
