"""Delivering outbox messages: claim a batch in one short transaction, run each handler with no transaction
open, record each outcome in another short transaction.

Several workers on PostgreSQL share the work: the claim locks the rows it takes with ``FOR UPDATE SKIP
LOCKED``, so two workers never claim one message, and a claim is a lease (``claimed_until``): the rows of a
worker that died are due again when it runs out. An outcome is recorded only by the claim that still holds
the row, so a worker that outlived its lease cannot overwrite the next one's result.

SQLite has one writer at a time and no row locks: run one worker per database file. ``cadre worker`` and
the in-process worker take a lock file beside the database and refuse to start when another holds it.
"""

from __future__ import annotations

import logging
import os
import random as randomlib
import socket
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import bindparam, select, update

from lti_tool.db import get_engine, session_scope, utcnow
from lti_tool.models import OutboxMessage
from lti_tool.outbox.handlers import (
    Dead,
    Delivered,
    HandlerRegistry,
    OutboxItem,
    Outcome,
    RetryLater,
    handlers,
    outcome_of_exception,
    safe_reason,
)
from lti_tool.outbox.loop import DeliveryLoop
from lti_tool.states import OutboxStatus

log = logging.getLogger("cadre.outbox")
messages = OutboxMessage.__table__
DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED)
RECORD_OUTCOME = (
    # Only the claim that still holds the message records its outcome. One statement for every outcome,
    # its values bound at execution: compiled once per worker, not once per message.
    update(messages)
    .where(messages.c.id == bindparam("message_id"), messages.c.claimed_by == bindparam("token"))
    .values(status=bindparam("new_status"), delivered_at=bindparam("new_delivered_at"),
            next_attempt_at=bindparam("new_next_attempt_at"), last_error=bindparam("new_last_error"),
            claimed_by=None, claimed_until=None)
)


class AnotherWorkerRunning(RuntimeError):  # noqa: N818 - reads as the condition it reports
    """A second worker on one SQLite database."""


@dataclass
class BatchReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    """Claimed but handed back unattempted (the worker was stopping)."""
    lost: int = 0
    """Whose lease ran out before their outcome was recorded: another claim now owns them."""

    def add(self, other: BatchReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Claim:
    token: str
    lease_end: datetime
    items: list[OutboxItem]


class Worker(DeliveryLoop[BatchReport]):
    """Delivers the due messages of the registry's topics (or of ``topics`` only)."""

    loop_name = "the outbox worker"

    def __init__(
        self,
        app: Flask,
        *,
        registry: HandlerRegistry = handlers,
        batch_size: int = 50,
        lease_seconds: float = 300.0,
        topics: Collection[str] | None = None,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        random: Callable[[], float] = randomlib.random,
    ) -> None:
        if batch_size < 1 or lease_seconds <= 0:
            raise ValueError("a worker needs a batch size of at least 1 and a positive lease")
        self.app = app
        self.registry = registry
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.topics = frozenset(topics) if topics else None
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.random = random
        super().__init__()

    # -- one batch -----------------------------------------------------------------------------------------

    def run_once(self) -> BatchReport:
        """Claim up to ``batch_size`` due messages and deliver them; what happened to each."""
        claim = self._claim()
        report = BatchReport(claimed=len(claim.items))
        for position, item in enumerate(claim.items):
            if self._stopping.is_set():
                report.released += self._release(claim, claim.items[position:])
                break
            if self.clock() > claim.lease_end - self.lease / 2:
                self._renew(claim, claim.items[position:])
                if item not in claim.items:
                    report.lost += 1
                    continue
            outcome = self._deliver(item)
            self._record(claim, item, outcome, report)
        return report

    def new_report(self) -> BatchReport:
        return BatchReport()

    # -- the three steps -----------------------------------------------------------------------------------

    def delivered_topics(self) -> list[str]:
        """The topics this worker claims: the registry's, or those it was given."""
        registered = sorted(topic.name for topic in self.registry)
        return [name for name in registered if self.topics is None or name in self.topics]

    def _claim(self) -> _Claim:
        now = self.clock()
        claim = _Claim(token=f"{self.name}/{uuid.uuid4().hex[:8]}", lease_end=now + self.lease, items=[])
        topics = self.delivered_topics()
        if not topics:
            return claim
        due = (
            select(messages.c.id)
            .where(messages.c.status.in_(DUE_STATUSES), messages.c.next_attempt_at <= now,
                   messages.c.topic.in_(topics))
            .order_by(messages.c.next_attempt_at, messages.c.id)
            .limit(self.batch_size)
            # PostgreSQL: rows another worker is claiming are passed over, not waited for. SQLite ignores
            # it; its single writer makes this one statement atomic anyway.
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(messages)
            .where(messages.c.id.in_(due.scalar_subquery()))
            .values(attempts=messages.c.attempts + 1, claimed_by=claim.token,
                    claimed_until=claim.lease_end, next_attempt_at=claim.lease_end)
            .returning(messages.c.id, messages.c.topic, messages.c.dedupe_key, messages.c.payload,
                       messages.c.attempts)
        )
        with session_scope(self.app) as session:
            rows = session.execute(statement).all()
        claim.items = sorted(
            (OutboxItem(id=row.id, topic=row.topic, dedupe_key=row.dedupe_key, payload=row.payload,
                        attempt=row.attempts) for row in rows),
            key=lambda item: item.id,
        )
        return claim

    def _deliver(self, item: OutboxItem) -> Outcome:
        topic = self.registry.get(item.topic)
        if topic is None:  # unregistered since the claim
            return RetryLater(f"no handler for the topic {item.topic!r} in this worker")
        try:
            # A fresh app context per message: the handler may use current_app and the outbound client,
            # and nothing it leaves in ``g`` reaches the next message.
            with self.app.app_context():
                outcome = topic.handler(item)
        except Exception as error:
            log.warning("outbox handler failed", exc_info=True, extra={"fields": {
                "topic": item.topic, "message_id": item.id, "attempt": item.attempt}})
            outcome = outcome_of_exception(error)
        if outcome is None:
            return Delivered()
        if not isinstance(outcome, Delivered | RetryLater | Dead):
            return RetryLater(f"the handler answered {type(outcome).__name__}, not an outbox outcome")
        return outcome

    def _record(self, claim: _Claim, item: OutboxItem, outcome: Outcome, report: BatchReport) -> None:
        now = self.clock()
        values: dict[str, object] = {"message_id": item.id, "token": claim.token, "new_delivered_at": None,
                                     "new_next_attempt_at": now, "new_last_error": None}
        topic = self.registry.get(item.topic)
        if isinstance(outcome, Delivered):
            values.update(new_status=OutboxStatus.DELIVERED, new_delivered_at=now)
            counter = "delivered"
        elif isinstance(outcome, Dead):
            values.update(new_status=OutboxStatus.DEAD, new_last_error=safe_reason(outcome.reason))
            counter = "dead"
        elif topic is None or item.attempt >= topic.retry.max_attempts:
            reason = f"gave up after {item.attempt} attempts; the last: {outcome.reason}"
            values.update(new_status=OutboxStatus.DEAD, new_last_error=safe_reason(reason))
            counter = "dead"
        else:
            values.update(new_status=OutboxStatus.FAILED, new_last_error=safe_reason(outcome.reason),
                          new_next_attempt_at=topic.retry.next_attempt(item.attempt, now, self.random,
                                                                       outcome.retry_after))
            counter = "retried"
        with session_scope(self.app) as session:
            result = session.execute(RECORD_OUTCOME, values)
            if result.rowcount and isinstance(outcome, Delivered) and outcome.record is not None:
                outcome.record(session)
        if result.rowcount == 0:
            # The lease ran out while the handler ran and another worker claimed the message: its
            # outcome will be the one recorded (the receiver sees the dedupe key twice).
            log.warning("outbox lease lost before the outcome was recorded", extra={"fields": {
                "topic": item.topic, "message_id": item.id, "worker": self.name}})
            report.lost += 1
            return
        setattr(report, counter, getattr(report, counter) + 1)
        if counter == "delivered":
            log.debug("outbox message delivered", extra={"fields": {
                "topic": item.topic, "message_id": item.id, "attempt": item.attempt}})
        else:
            log.warning("outbox message %s", counter, extra={"fields": {
                "topic": item.topic, "message_id": item.id, "attempt": item.attempt,
                "reason": values["new_last_error"]}})

    def _renew(self, claim: _Claim, remaining: list[OutboxItem]) -> None:
        """Extend the lease of the batch's remaining messages (slow handlers); drop those already lost."""
        lease_end = self.clock() + self.lease
        with session_scope(self.app) as session:
            kept = set(session.scalars(
                update(messages)
                .where(messages.c.id.in_([item.id for item in remaining]),
                       messages.c.claimed_by == claim.token)
                .values(claimed_until=lease_end, next_attempt_at=lease_end)
                .returning(messages.c.id)
            ))
        claim.lease_end = lease_end
        claim.items = [item for item in claim.items if item.id in kept or item not in remaining]

    def _release(self, claim: _Claim, remaining: list[OutboxItem]) -> int:
        """Hand unattempted messages back at once (not after the lease), their attempt not counted."""
        with session_scope(self.app) as session:
            result = session.execute(
                update(messages)
                .where(messages.c.id.in_([item.id for item in remaining]),
                       messages.c.claimed_by == claim.token)
                .values(claimed_by=None, claimed_until=None, next_attempt_at=self.clock(),
                        attempts=messages.c.attempts - 1)
            )
        return result.rowcount


# -- one worker per SQLite database -----------------------------------------------------------------------


@contextmanager
def worker_slot(app: Flask) -> Iterator[None]:
    """Hold the right to run a worker: always granted on PostgreSQL; on SQLite, an exclusive lock on a file
    beside the database, so a second worker on the same file is refused rather than fighting for it."""
    url = get_engine(app).url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    import fcntl  # POSIX only, like the rest of Cadre's deployment

    path = Path(url.database).with_name(Path(url.database).name + ".worker-lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherWorkerRunning(
                f"Another outbox worker already runs on the SQLite database {url.database}; SQLite allows "
                "one (stop the other, or move to PostgreSQL to run several)."
            ) from None
        yield
    finally:
        os.close(descriptor)  # releases the lock


# -- in-process ---------------------------------------------------------------------------------------------


class BackgroundWorker:
    """A worker on a daemon thread of this process (the demo; a small single-process deployment), woken by
    every commit that enqueues."""

    def __init__(self, app: Flask, *, idle_seconds: float = 5.0, **options: object) -> None:
        self.worker = Worker(app, **options)  # type: ignore[arg-type]
        self.idle_seconds = idle_seconds
        self._slot = worker_slot(app)
        self._thread = threading.Thread(target=self._run, name="cadre-outbox-worker", daemon=True)

    def start(self) -> BackgroundWorker:
        self._slot.__enter__()  # raises AnotherWorkerRunning in the caller, not in the thread
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.worker.run(self.idle_seconds)
        except Exception:
            log.exception("the in-process outbox worker stopped")

    def stop(self, timeout: float = 30.0) -> None:
        self.worker.stop()
        self._thread.join(timeout)
        self._slot.__exit__(None, None, None)


def start_background_worker(app: Flask, **options: object) -> BackgroundWorker:
    """Start delivering in this process: ``worker = start_background_worker(app)``, later
    ``worker.stop()``. Options as :class:`Worker` (and ``idle_seconds``)."""
    return BackgroundWorker(app, **options).start()  # type: ignore[arg-type]
