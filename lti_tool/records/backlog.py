"""What admins see of statement delivery (``cadre lrs status``, the admin page, the alert job): the backlog,
the oldest waiting statement and the dead letters per LRS, and retrying dead letters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, type_coerce, update
from sqlalchemy.orm import Session

from lti_tool.db import UTCDateTime, utcnow
from lti_tool.records.models import LearningRecordStore, Statement, StatementDelivery
from lti_tool.states import DeliveryStatus, LrsStatus


@dataclass(frozen=True)
class LrsBacklog:
    lrs_id: int
    name: str
    endpoint: str
    status: LrsStatus
    paused_reason: str | None
    pending: int
    dead: int
    delivered: int
    oldest_pending_at: datetime | None
    """When the oldest statement still waiting for this LRS was recorded."""
    last_error: str | None = None
    """Why the oldest waiting statement's last attempt failed (None if it was never attempted)."""

    def oldest_pending_age(self, now: datetime | None = None) -> timedelta | None:
        return None if self.oldest_pending_at is None else (now or utcnow()) - self.oldest_pending_at


def backlog(session: Session) -> list[LrsBacklog]:
    """Every LRS with its counts, in name order (one grouped query, served by the deliveries' index)."""
    status = StatementDelivery.status

    def how_many(value: DeliveryStatus):  # type: ignore[no-untyped-def]
        return func.sum(case((status == value, 1), else_=0))

    pending_since = case((status == DeliveryStatus.PENDING, StatementDelivery.created_at), else_=None)
    oldest_pending = func.min(pending_since)
    counts = (
        select(
            StatementDelivery.lrs_id,
            how_many(DeliveryStatus.PENDING).label("pending"),
            how_many(DeliveryStatus.DEAD).label("dead"),
            how_many(DeliveryStatus.DELIVERED).label("delivered"),
            # Typed as the column is, so that SQLite's text comes back as an aware UTC datetime too.
            type_coerce(oldest_pending, UTCDateTime()).label("oldest"),
        )
        .group_by(StatementDelivery.lrs_id)
        .subquery()
    )
    rows = session.execute(
        select(LearningRecordStore, counts.c.pending, counts.c.dead, counts.c.delivered, counts.c.oldest)
        .outerjoin(counts, counts.c.lrs_id == LearningRecordStore.id)
        .order_by(LearningRecordStore.name)
    ).all()
    result = []
    for store, pending, dead, delivered, oldest in rows:
        last_error = None
        if pending:
            last_error = session.scalar(
                select(StatementDelivery.last_error)
                .where(StatementDelivery.lrs_id == store.id, status == DeliveryStatus.PENDING,
                       StatementDelivery.last_error.is_not(None))
                .order_by(StatementDelivery.created_at, StatementDelivery.id).limit(1)
            )
        result.append(LrsBacklog(store.id, store.name, store.endpoint, store.status, store.paused_reason,
                                 int(pending or 0), int(dead or 0), int(delivered or 0), oldest, last_error))
    return result


@dataclass(frozen=True)
class DeadLetter:
    delivery_id: int
    lrs_name: str
    statement_id: str
    verb: str
    attempts: int
    reason: str | None
    recorded_at: datetime


def dead_letters(session: Session, lrs_id: int | None = None, limit: int = 50) -> list[DeadLetter]:
    """The latest dead deliveries with the LRS's reason, newest first."""
    query = (
        select(StatementDelivery.id, LearningRecordStore.name, Statement.id, Statement.verb,
               StatementDelivery.attempts, StatementDelivery.last_error, StatementDelivery.created_at)
        .join(LearningRecordStore, LearningRecordStore.id == StatementDelivery.lrs_id)
        .join(Statement, Statement.seq == StatementDelivery.statement_seq)
        .where(StatementDelivery.status == DeliveryStatus.DEAD)
        .order_by(StatementDelivery.id.desc())
        .limit(limit)
    )
    if lrs_id is not None:
        query = query.where(StatementDelivery.lrs_id == lrs_id)
    return [DeadLetter(*row) for row in session.execute(query)]


def retry_dead(session: Session, lrs_id: int | None = None, delivery_ids: list[int] | None = None) -> int:
    """Send dead deliveries again (once their cause is fixed), with a fresh count of attempts; how many."""
    statement = (
        update(StatementDelivery)
        .where(StatementDelivery.status == DeliveryStatus.DEAD)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if lrs_id is not None:
        statement = statement.where(StatementDelivery.lrs_id == lrs_id)
    if delivery_ids:
        statement = statement.where(StatementDelivery.id.in_(delivery_ids))
    return session.execute(statement).rowcount
