"""Writing outbox messages in the caller's transaction, and waking in-process workers after its commit."""

from __future__ import annotations

import functools
import json
import threading
import weakref
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Insert, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from lti_tool.db import after_commit, utcnow
from lti_tool.models import OutboxMessage
from lti_tool.states import OutboxStatus

MAX_PAYLOAD_BYTES = 64 * 1024
"""A message carries identifiers and values, not documents: a handler loads big things when it sends."""
table = OutboxMessage.__table__
_WAKE_REGISTERED = "cadre.outbox.wake_registered"


class Wakeable(Protocol):
    def wake(self) -> None: ...


_workers: weakref.WeakSet[Wakeable] = weakref.WeakSet()
_workers_lock = threading.Lock()


def listen_for_commits(worker: Wakeable) -> None:
    """Have ``worker`` woken after every commit in this process that enqueued something."""
    with _workers_lock:
        _workers.add(worker)


def stop_listening(worker: Wakeable) -> None:
    with _workers_lock:
        _workers.discard(worker)


def wake_workers() -> None:
    """Nudge the in-process workers (the demo's thread); a worker in another process finds the message
    at its next poll. Only sets an event: nothing is sent from the committing thread."""
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.wake()


def enqueue(session: Session, topic: str, dedupe_key: str, payload: dict[str, Any], *,
            not_before: datetime | None = None) -> bool:
    """Add a message to ``topic`` in ``session``'s transaction; True if it is new.

    ``dedupe_key`` names the event (``"score:<assessment id>:<revision>"``): a second message with the same
    topic and key is not stored (``INSERT … ON CONFLICT DO NOTHING``), so an event retried by a user, a
    platform or a job is delivered once. The message leaves only once the transaction commits (a worker
    is woken then), never if it rolls back. ``not_before`` delays the first attempt.
    """
    if not topic or len(topic) > 100:
        raise ValueError("an outbox topic is named with 1 to 100 characters")
    if not dedupe_key or len(dedupe_key) > 255:
        raise ValueError("an outbox dedupe key has 1 to 255 characters")
    try:
        encoded = json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the payload of an outbox message must be plain JSON: {error}") from None
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(
            f"the payload of an outbox message is limited to {MAX_PAYLOAD_BYTES // 1024} KB of JSON")
    now = utcnow()
    values = {
        "topic": topic, "dedupe_key": dedupe_key, "payload": payload, "status": OutboxStatus.PENDING,
        "attempts": 0, "next_attempt_at": max(now, not_before) if not_before else now, "created_at": now,
    }
    inserted = session.execute(_insert_ignoring_duplicates(session.get_bind().dialect.name), values).first()
    _wake_after_commit(session)
    return inserted is not None


@functools.cache
def _insert_ignoring_duplicates(dialect: str) -> Insert:
    """One statement per dialect, the values passed at execution: compiled once, not per message.
    RETURNING, not rowcount, tells an insert from a skipped duplicate (drivers report those differently)."""
    index = ["topic", "dedupe_key"]
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=index)
    else:  # pragma: no cover - Cadre runs on the two above
        statement = insert(table)
    return statement.returning(table.c.id)


def _wake_after_commit(session: Session) -> None:
    # One wake-up per transaction, however many messages it enqueues.
    if not session.info.get(_WAKE_REGISTERED):
        session.info[_WAKE_REGISTERED] = True
        after_commit(session, wake_workers)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WAKE_REGISTERED, None)
