"""Delivering stored statements to each learning record store, in batches, exactly once in effect.

One pass (:meth:`StatementDeliverer.run_once`) takes each active LRS in turn: it claims up to the LRS's batch
size of due deliveries in one short transaction, POSTs their statements to ``<endpoint>/statements`` (xAPI
1.0.3, basic authentication) with no transaction open, and records each outcome in another. An LRS's turn is
up to :data:`BATCHES_PER_TURN` batches, pipelined: while one batch's POST is in flight (on a thread of the
turn's own), the outcome of the batch before it is recorded and the next batch is claimed, so that the
database's work hides behind the LRS's; one POST is in flight at a time, in stored order. A batch to retry
(the LRS is down or busy) ends the turn, the batch claimed ahead handed back unattempted. The claim is the
outbox's: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that several workers on several hosts share the rows,
one worker per SQLite database (``worker_slot``), and a lease (``claimed_until``) after which the rows of a
worker that died are due again. An outcome is recorded only by the claim that still holds the row.

What the LRS's answer means:

* 2xx: every statement of the batch is delivered.
* 409 Conflict on one statement: the LRS has a statement with that id. Cadre asks for it: the same statement
  (an LRS that answers 409 to a repeat, or a retry of a batch that had arrived) is delivered; a different one
  is dead, with the LRS's reason. On a batch, the batch is split to find which.
* 400 (413, 422) on a batch: split in halves until the statements the LRS refuses are alone; each goes dead
  with the LRS's reason, the others are delivered.
* 401, 403: the LRS refused Cadre's credentials. The LRS is paused with the reason (``cadre lrs status``), the
  batch handed back unattempted, and nothing more is sent to it until ``cadre lrs resume`` or a passing
  ``cadre lrs test``. 404, 405, 410 pause it too: the endpoint is not an xAPI one, which no retry mends.
* 429, 503: retried when the ``Retry-After`` says (capped), without one as any other failure.
* Anything else (5xx, a timeout, no connection): retried with exponential backoff and jitter
  (``CADRE_LRS_RETRY_BASE_SECONDS`` doubling up to ``CADRE_LRS_RETRY_CAP_SECONDS``), for as long as it
  takes: a statement is never given up because an LRS is down; the backlog alert tells admins.

Delivery is at least once towards the LRS and exactly once in the LRS: a worker killed after POSTing sends
the batch again after its lease, and the LRS keeps one statement per id (xAPI requires it to ignore a repeat).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random as randomlib
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, select, update

from egress import OutboundClient, OutboundError, OutboundResponse, shown_url
from lti_tool import outbound
from lti_tool.db import losable_on_crash, session_scope, utcnow
from lti_tool.outbox.handlers import RetryPolicy, safe_reason
from lti_tool.outbox.loop import DeliveryLoop
from lti_tool.outbox.worker import worker_slot
from lti_tool.records import lrs as registry
from lti_tool.records.models import LearningRecordStore, Statement, StatementDelivery
from lti_tool.settings import Settings
from lti_tool.states import DeliveryStatus, LrsStatus

log = logging.getLogger("cadre.records")
XAPI_VERSION = "1.0.3"
deliveries = StatementDelivery.__table__
SPLIT_STATUSES = frozenset({400, 409, 413, 422})
"""A batch answered with one of these is split: the LRS refused something in it, not the whole of it."""
REFUSED_CREDENTIALS = frozenset({401, 403})
NOT_AN_XAPI_ENDPOINT = frozenset({404, 405, 410})
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_AFTER_CAP_SECONDS = 6 * 3600.0
"""An LRS's ``Retry-After`` is honoured up to this (or the backoff cap if longer)."""
BATCHES_PER_TURN = 20
"""Batches one LRS is sent in a pass before the next LRS's turn (pipelined, see the module)."""
RECORD_OUTCOME = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("delivery_id"), deliveries.c.claimed_by == bindparam("token"))
    .values(status=bindparam("new_status"), delivered_at=bindparam("new_delivered_at"),
            next_attempt_at=bindparam("new_next_attempt_at"), last_error=bindparam("new_last_error"),
            claimed_by=None, claimed_until=None)
)


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    """Handed back unattempted (the LRS was paused, or the worker was stopping)."""
    lost: int = 0
    """Whose lease ran out before the outcome was recorded (another claim owns them now)."""
    posts: int = 0
    paused: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        for name in ("claimed", "delivered", "retried", "dead", "released", "lost", "posts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.paused.extend(other.paused)

    def summary(self) -> str:
        text = f"delivered {self.delivered}, to retry {self.retried}, dead {self.dead}"
        if self.released:
            text += f", handed back {self.released}"
        if self.lost:
            text += f", lease lost {self.lost}"
        if self.paused:
            text += f"; paused: {', '.join(self.paused)}"
        return text


@dataclass(frozen=True)
class _Target:
    id: int
    name: str
    endpoint: str
    batch_size: int
    credentials: registry.Credentials


@dataclass
class _Claim:
    token: str
    lease_end: datetime
    rows: list[tuple[int, int, int]]
    """(delivery id, statement seq, attempts) in stored order."""
    bodies: dict[int, dict[str, Any]]


@dataclass(frozen=True)
class _Outcome:
    status: DeliveryStatus | None
    """DELIVERED or DEAD; None: retry."""
    reason: str | None = None
    retry_after: float | None = None


class LrsPaused(Exception):  # noqa: N818 - raised as the condition it reports
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StatementDeliverer(DeliveryLoop[DeliveryReport]):
    """Delivers due statements to every active LRS (see the module)."""

    loop_name = "the statement delivery worker"

    def __init__(self, app: Flask, *, lease_seconds: float | None = None, name: str | None = None,
                 clock: Callable[[], datetime] = utcnow, random: Callable[[], float] = randomlib.random,
                 client: OutboundClient | None = None) -> None:
        settings: Settings = app.config["CADRE"]
        self.app = app
        self.settings = settings
        self.lease = timedelta(seconds=lease_seconds or settings.lrs_lease_seconds)
        base = settings.lrs_retry_base_seconds
        cap = max(settings.lrs_retry_cap_seconds, base)
        # No last attempt: an LRS that is down keeps its statements waiting, and the backlog alert speaks.
        self.retry = RetryPolicy(max_attempts=1_000_000, base_seconds=base, cap_seconds=cap,
                                 retry_after_cap_seconds=max(cap, RETRY_AFTER_CAP_SECONDS))
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.random = random
        self._client = client
        super().__init__()

    @property
    def client(self) -> OutboundClient:
        return self._client or outbound.client(self.app)

    # -- passes ---------------------------------------------------------------------------------------------

    def run_once(self, batches_per_turn: int = BATCHES_PER_TURN) -> DeliveryReport:
        """A turn of up to ``batches_per_turn`` batches for each active LRS that has statements due."""
        report = DeliveryReport()
        for target in self._active_targets(report):
            if self._stopping.is_set():
                break
            report.add(self._deliver_turn(target, max(1, batches_per_turn)))
        return report

    def new_report(self) -> DeliveryReport:
        return DeliveryReport()

    def prepare(self) -> None:
        self.sync_environment()

    def sync_environment(self) -> None:
        with session_scope(self.app) as session:
            registry.sync_environment_store(session, self.settings)

    # -- one LRS --------------------------------------------------------------------------------------------

    def _active_targets(self, report: DeliveryReport) -> list[_Target]:
        targets = []
        with session_scope(self.app) as session:
            stores = session.scalars(select(LearningRecordStore)
                                     .where(LearningRecordStore.status == LrsStatus.ACTIVE)
                                     .order_by(LearningRecordStore.id)).all()
            for store in stores:
                try:
                    credentials = registry.credentials_of(store, self.settings, self.app.config["SECRET_KEY"])
                except registry.LrsConfigurationError as error:
                    registry.pause(store, str(error))
                    report.paused.append(store.name)
                    log.warning("LRS paused", extra={"fields": {"lrs": store.name, "reason": str(error)}})
                    continue
                batch_size = self.settings.lrs_batch_size if store.from_environment else store.batch_size
                targets.append(_Target(store.id, store.name, store.endpoint, max(1, batch_size), credentials))
        return targets

    def _deliver_turn(self, target: _Target, batches: int) -> DeliveryReport:
        """Up to ``batches`` batches to one LRS, each POSTed on the turn's thread while this one records the
        outcome of the batch before it and claims the batch after it."""
        report = DeliveryReport()
        claim: _Claim | None = self._claim(target)
        """Claimed, not yet sent: handed back if the turn ends before sending it."""
        unrecorded: tuple[_Claim, dict[int, _Outcome]] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cadre-lrs-post") as poster:
            try:
                for number in range(1, batches + 1):
                    if claim is None or not claim.rows or (number > 1 and self._stopping.is_set()):
                        break
                    current, claim = claim, None
                    report.claimed += len(current.rows)
                    posting = DeliveryReport()
                    in_flight = poster.submit(self._send, target, current, [row[1] for row in current.rows],
                                              posting)
                    try:
                        if unrecorded is not None:
                            previous, unrecorded = unrecorded, None
                            self._record(*previous, report)
                        if number < batches and not self._stopping.is_set():
                            claim = self._claim(target)
                    finally:
                        outcomes = _result_of(in_flight)  # a database error waits for the POST, then stands
                        report.posts += posting.posts
                    if isinstance(outcomes, LrsPaused):
                        self._pause(target, outcomes.reason, report)
                        report.released += self._release(current, current.rows)
                        break
                    unrecorded = (current, outcomes)
                    if any(outcome.status is None for outcome in outcomes.values()):
                        break  # the LRS is down or busy: the rest waits for the next pass
            finally:
                if unrecorded is not None:
                    self._record(*unrecorded, report)
                if claim is not None and claim.rows:
                    report.released += self._release(claim, claim.rows)
        return report

    def _pause(self, target: _Target, reason: str, report: DeliveryReport) -> None:
        with session_scope(self.app) as session:
            if registry.pause_by_id(session, target.id, reason):
                report.paused.append(target.name)
        log.warning("LRS paused", extra={"fields": {"lrs": target.name, "reason": reason}})

    def _claim(self, target: _Target) -> _Claim:
        now = self.clock()
        claim = _Claim(token=f"{self.name}/{uuid.uuid4().hex[:8]}", lease_end=now + self.lease, rows=[],
                       bodies={})
        due = (
            select(deliveries.c.id)
            .where(deliveries.c.lrs_id == target.id, deliveries.c.status == DeliveryStatus.PENDING,
                   deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(target.batch_size)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(deliveries)
            .where(deliveries.c.id.in_(due.scalar_subquery()))
            .values(attempts=deliveries.c.attempts + 1, claimed_by=claim.token, claimed_until=claim.lease_end,
                    next_attempt_at=claim.lease_end)
            .returning(deliveries.c.id, deliveries.c.statement_seq, deliveries.c.attempts)
        )
        with session_scope(self.app) as session:
            # A claim or an outcome lost in a database crash only sends a batch again, which the LRS
            # recognises by its ids: their commits need not wait for the disk (PostgreSQL).
            losable_on_crash(session)
            rows = session.execute(statement).all()
            if rows:
                claim.bodies = dict(session.execute(
                    select(Statement.seq, Statement.body).where(Statement.seq.in_([row[1] for row in rows]))
                ).all())
        claim.rows = sorted(((row[0], row[1], row[2]) for row in rows), key=lambda row: row[1])
        return claim

    # -- sending --------------------------------------------------------------------------------------------

    def _send(self, target: _Target, claim: _Claim, seqs: list[int],
              report: DeliveryReport) -> dict[int, _Outcome]:
        """Outcome per statement seq of POSTing these; splits the batch when the LRS refuses part of it."""
        self._renew_if_needed(claim)
        report.posts += 1
        bodies = [claim.bodies[seq] for seq in seqs]
        try:
            response = self.client.post(
                target.endpoint + "/statements", content=_encode(bodies), idempotent=False,
                headers=_headers(target.credentials, content_type=True),
            )
        except OutboundError as error:
            return dict.fromkeys(seqs, _Outcome(None, str(error)))
        status = response.status_code
        if response.ok:
            return dict.fromkeys(seqs, _Outcome(DeliveryStatus.DELIVERED))
        reason = _lrs_reason(response)
        if status in REFUSED_CREDENTIALS:
            raise LrsPaused(f"The LRS refused Cadre's credentials (HTTP {status}: {reason}). Check the "
                            "username and password, then `cadre lrs test` or `cadre lrs resume`.")
        if status in NOT_AN_XAPI_ENDPOINT:
            raise LrsPaused(f"{shown_url(target.endpoint)}/statements is not an xAPI statements resource "
                            f"(HTTP {status}: {reason}). Check the endpoint, then `cadre lrs resume`.")
        if status in SPLIT_STATUSES and len(seqs) > 1:
            middle = len(seqs) // 2
            outcomes = self._send(target, claim, seqs[:middle], report)
            outcomes.update(self._send(target, claim, seqs[middle:], report))
            return outcomes
        if status == 409:
            return {seqs[0]: self._conflict(target, bodies[0], reason)}
        if status in SPLIT_STATUSES:
            return {seqs[0]: _Outcome(DeliveryStatus.DEAD, f"The LRS refused the statement (HTTP {status}): "
                                                          f"{reason}")}
        retry_after = response.retry_after if status in RETRY_AFTER_STATUSES else None
        return dict.fromkeys(seqs, _Outcome(None, f"HTTP {status}: {reason}", retry_after))

    def _conflict(self, target: _Target, body: dict[str, Any], reason: str) -> _Outcome:
        """A 409 for one statement: delivered if the LRS holds the same statement, dead if a different one."""
        try:
            response = self.client.get(f"{target.endpoint}/statements?statementId={body['id']}",
                                       headers=_headers(target.credentials))
            held = response.json() if response.ok else None
        except OutboundError:
            held = None
        if isinstance(held, dict) and isinstance(held.get("statements"), list):
            # Ralph answers a statementId query with a statement result, not the statement alone.
            held = held["statements"][0] if held["statements"] else None
        if held is None or not isinstance(held, dict):
            return _Outcome(DeliveryStatus.DELIVERED, "The LRS answered 409 (it has a statement with this "
                                                      f"id); Cadre could not compare it: {reason}")
        if same_statement(held, body):
            return _Outcome(DeliveryStatus.DELIVERED)
        return _Outcome(DeliveryStatus.DEAD, "The LRS holds a different statement with this id (HTTP 409): "
                                             f"{reason}")

    # -- recording ------------------------------------------------------------------------------------------

    def _record(self, claim: _Claim, outcomes: dict[int, _Outcome], report: DeliveryReport) -> None:
        now = self.clock()
        delivered: list[int] = []
        others = []
        for delivery_id, seq, attempts in claim.rows:
            outcome = outcomes[seq]
            reason = safe_reason(outcome.reason) if outcome.reason else None
            if outcome.status is DeliveryStatus.DELIVERED and reason is None:
                delivered.append(delivery_id)  # the usual case: one UPDATE for all of them
                continue
            values: dict[str, object] = {"delivery_id": delivery_id, "token": claim.token,
                                         "new_delivered_at": None, "new_next_attempt_at": now,
                                         "new_last_error": reason}
            if outcome.status is DeliveryStatus.DELIVERED:
                values.update(new_status=DeliveryStatus.DELIVERED, new_delivered_at=now)
            elif outcome.status is DeliveryStatus.DEAD:
                values.update(new_status=DeliveryStatus.DEAD)
            else:
                values.update(new_status=DeliveryStatus.PENDING,
                              new_next_attempt_at=self.retry.next_attempt(attempts, now, self.random,
                                                                          outcome.retry_after))
            others.append(values)
        recorded = 0
        with session_scope(self.app) as session:
            losable_on_crash(session)  # lost: the batch is sent again and the LRS keeps one of each (above)
            if delivered:
                recorded += session.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(delivered), deliveries.c.claimed_by == claim.token)
                    .values(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=now,
                            last_error=None, claimed_by=None, claimed_until=None)
                ).rowcount
            if others:
                result = session.execute(RECORD_OUTCOME, others)
                recorded += result.rowcount if result.rowcount >= 0 else len(others)
        report.delivered += len(delivered) + sum(1 for values in others
                                                 if values["new_status"] is DeliveryStatus.DELIVERED)
        report.dead += sum(1 for values in others if values["new_status"] is DeliveryStatus.DEAD)
        report.retried += sum(1 for values in others if values["new_status"] is DeliveryStatus.PENDING)
        expected = len(delivered) + len(others)
        if recorded < expected:
            # The lease ran out while sending and another worker claimed some rows: its outcome stands.
            report.lost += expected - recorded
            log.warning("statement delivery lease lost before the outcome was recorded",
                        extra={"fields": {"worker": self.name, "rows": expected - recorded}})
        if others:
            log.warning("statements not delivered at once", extra={"fields": {
                "dead": report.dead, "retried": report.retried,
                "reason": next((outcome.reason for outcome in outcomes.values() if outcome.reason), None)}})

    def _renew_if_needed(self, claim: _Claim) -> None:
        if self.clock() <= claim.lease_end - self.lease / 2:
            return
        lease_end = self.clock() + self.lease
        with session_scope(self.app) as session:
            session.execute(
                update(deliveries).where(deliveries.c.claimed_by == claim.token)
                .values(claimed_until=lease_end, next_attempt_at=lease_end)
            )
        claim.lease_end = lease_end

    def _release(self, claim: _Claim, rows: list[tuple[int, int, int]]) -> int:
        """Hand rows back at once, their attempt not counted (nothing was decided about them)."""
        with session_scope(self.app) as session:
            result = session.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([row[0] for row in rows]), deliveries.c.claimed_by == claim.token)
                .values(claimed_by=None, claimed_until=None, next_attempt_at=self.clock(),
                        attempts=deliveries.c.attempts - 1)
            )
        return result.rowcount


# -- checking an LRS without sending a statement ----------------------------------------------------------


@dataclass(frozen=True)
class LrsCheck:
    about: str
    """What ``/about`` said (the LRS's xAPI versions), or why it said nothing."""
    problem: str | None
    """Why Cadre cannot deliver to this LRS; None when an authenticated statements query passed."""

    @property
    def ok(self) -> bool:
        return self.problem is None


def _result_of(in_flight: Future[dict[int, _Outcome]]) -> dict[int, _Outcome] | LrsPaused:
    try:
        return in_flight.result()
    except LrsPaused as paused:
        return paused


def check_lrs(client: OutboundClient, endpoint: str, credentials: registry.Credentials) -> LrsCheck:
    """``GET /about`` (no credentials; optional in practice: Ralph has none), then an authenticated ``GET
    /statements?limit=1`` that must succeed. Sends no statement. No transaction may be open."""
    try:
        about = client.get(f"{endpoint}/about", headers={"X-Experience-API-Version": XAPI_VERSION})
        if about.ok and isinstance(versions := _json_or_none(about), dict) and versions.get("version"):
            about_text = "xAPI " + ", ".join(str(version) for version in versions["version"])
        else:
            about_text = f"no /about resource (HTTP {about.status_code}); not needed to deliver"
    except OutboundError as error:
        return LrsCheck(about=str(error), problem=f"The LRS cannot be reached: {error}")
    try:
        query = client.get(f"{endpoint}/statements?limit=1", headers=_headers(credentials))
    except OutboundError as error:
        return LrsCheck(about=about_text, problem=f"The statements query failed: {error}")
    if query.status_code in REFUSED_CREDENTIALS:
        return LrsCheck(about=about_text, problem=f"The LRS refused Cadre's credentials (HTTP "
                                                  f"{query.status_code}: {_lrs_reason(query)}).")
    if not query.ok or not isinstance(answer := _json_or_none(query), dict) or "statements" not in answer:
        return LrsCheck(about=about_text, problem=f"{shown_url(endpoint)}/statements did not answer as an "
                                                  f"xAPI statements resource (HTTP {query.status_code}: "
                                                  f"{_lrs_reason(query)}).")
    return LrsCheck(about=about_text, problem=None)


def _json_or_none(response: OutboundResponse) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


# -- the xAPI details ---------------------------------------------------------------------------------------


def _headers(credentials: registry.Credentials, *, content_type: bool = False) -> dict[str, str]:
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": XAPI_VERSION}
    if content_type:
        headers["Content-Type"] = "application/json"
    return headers


def _encode(bodies: list[dict[str, Any]]) -> bytes:
    return json.dumps(bodies, separators=(",", ":"), ensure_ascii=False).encode()


def _lrs_reason(response: OutboundResponse) -> str:
    """The LRS's own words: a JSON ``detail``/``message``/``error`` where it gives one, else the start of its
    answer."""
    try:
        answer = json.loads(response.content)
    except (ValueError, RecursionError):
        return response.text(300).strip() or "no reason given"
    if isinstance(answer, dict):
        for key in ("detail", "message", "error", "errorMessage"):
            if answer.get(key):
                value = answer[key]
                return value if isinstance(value, str) else json.dumps(value)[:500]
    return json.dumps(answer)[:300]


IGNORED_IN_COMPARISON = ("stored", "authority", "version")


def same_statement(held: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Whether the LRS's statement is the one Cadre sent, as xAPI compares them: ignoring what the LRS sets
    (``stored``, ``authority``, ``version``) and the spelling of the timestamp."""

    def comparable(statement: dict[str, Any]) -> dict[str, Any]:
        kept = {key: value for key, value in statement.items() if key not in IGNORED_IN_COMPARISON}
        if "timestamp" in kept:
            from lti_tool.records.store import parse_timestamp

            with suppress(ValueError):
                kept["timestamp"] = parse_timestamp(kept["timestamp"]).isoformat(timespec="milliseconds")
        return kept

    return comparable(held) == comparable(sent)


# -- in-process ---------------------------------------------------------------------------------------------


class BackgroundDeliverer:
    """The deliverer on a daemon thread of this process (the demo; beside ``cadre worker``'s loop)."""

    def __init__(self, app: Flask, *, idle_seconds: float = 5.0, hold_slot: bool = True,
                 **options: Any) -> None:
        self.deliverer = StatementDeliverer(app, **options)
        self.idle_seconds = idle_seconds
        self._slot = worker_slot(app) if hold_slot else None
        self._thread = threading.Thread(target=self._run, name="cadre-statement-deliverer", daemon=True)

    def start(self) -> BackgroundDeliverer:
        if self._slot is not None:
            self._slot.__enter__()
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.deliverer.run(self.idle_seconds)
        except Exception:
            log.exception("the in-process statement deliverer stopped")

    def stop(self, timeout: float = 30.0) -> None:
        self.deliverer.stop()
        self._thread.join(timeout)
        if self._slot is not None:
            self._slot.__exit__(None, None, None)


@contextmanager
def delivering_in_background(app: Flask, **options: Any) -> Iterator[BackgroundDeliverer]:
    background = BackgroundDeliverer(app, **options).start()
    try:
        yield background
    finally:
        background.stop()
