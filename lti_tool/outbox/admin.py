"""What administrators see of the outbox and what they may do to it (``cadre outbox …``, later a page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.db import after_commit, utcnow
from lti_tool.models import OutboxMessage
from lti_tool.outbox.messages import wake_workers
from lti_tool.states import OutboxStatus


@dataclass
class TopicBacklog:
    topic: str
    counts: dict[OutboxStatus, int]
    oldest_waiting_since: datetime | None
    """``created_at`` of the oldest message not yet delivered nor dead."""

    def oldest_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_waiting_since is None else now - self.oldest_waiting_since


def backlog(session: Session) -> list[TopicBacklog]:
    """Counts per topic and status, and the oldest waiting message per topic: two grouped queries."""
    by_topic: dict[str, TopicBacklog] = {}
    for topic, status, count in session.execute(
        select(OutboxMessage.topic, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.topic, OutboxMessage.status)
    ):
        entry = by_topic.setdefault(topic, TopicBacklog(topic, dict.fromkeys(OutboxStatus, 0), None))
        entry.counts[OutboxStatus(status)] = count
    for topic, oldest in session.execute(
        select(OutboxMessage.topic, func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
        .group_by(OutboxMessage.topic)
    ):
        by_topic[topic].oldest_waiting_since = oldest
    return [by_topic[name] for name in sorted(by_topic)]


def dead_messages(session: Session, topic: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
    if topic:
        query = query.where(OutboxMessage.topic == topic)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def retry_dead(session: Session, topic: str | None = None, ids: list[int] | None = None) -> int:
    """Make dead messages due now with a fresh count of attempts (their cause fixed); how many. The last
    error is kept until the next attempt replaces it."""
    statement = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
    if topic:
        statement = statement.where(OutboxMessage.topic == topic)
    if ids is not None:
        statement = statement.where(OutboxMessage.id.in_(ids))
    result = session.execute(
        statement.values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                         claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        after_commit(session, wake_workers)
    return result.rowcount

