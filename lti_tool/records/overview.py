"""What the records admin page shows an administrator of one platform, and the retry it offers: the backlog
per LRS, dead letters with the LRS's reasons, and recent statements with filters. Everything is limited to
statements of the administrator's platform (LRSs are shared by the deployment; their counts here are this
platform's share). Services take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.db import after_commit, utcnow
from lti_tool.models import Context, User
from lti_tool.outbox.messages import wake_workers
from lti_tool.records.models import LearningRecordStore, Statement, StatementDelivery
from lti_tool.states import DeliveryStatus

RECENT_PAGE = 50
DEAD_PAGE = 100


@dataclass
class LrsBacklog:
    id: int
    name: str
    endpoint: str
    status: str
    paused_reason: str | None
    pending: int = 0
    delivered: int = 0
    dead: int = 0
    oldest_pending: datetime | None = None


def backlogs(session: Session, platform_id: int) -> list[LrsBacklog]:
    """Per LRS: this platform's pending, delivered and dead deliveries, and the oldest pending one (one
    grouped query, plus the list of LRSs)."""
    found = {store.id: LrsBacklog(store.id, store.name, store.endpoint, store.status, store.paused_reason)
             for store in session.scalars(select(LearningRecordStore).order_by(LearningRecordStore.name))}
    pending = StatementDelivery.status == DeliveryStatus.PENDING
    rows = session.execute(
        select(StatementDelivery.lrs_id,
               func.sum(case((pending, 1), else_=0)),
               func.sum(case((StatementDelivery.status == DeliveryStatus.DELIVERED, 1), else_=0)),
               func.sum(case((StatementDelivery.status == DeliveryStatus.DEAD, 1), else_=0)),
               func.min(case((pending, StatementDelivery.created_at), else_=None)))
        .join(Statement, Statement.seq == StatementDelivery.statement_seq)
        .where(Statement.platform_id == platform_id)
        .group_by(StatementDelivery.lrs_id)
    )
    for lrs_id, waiting, delivered, dead, oldest in rows:
        entry = found[lrs_id]
        entry.pending, entry.delivered, entry.dead = int(waiting or 0), int(delivered or 0), int(dead or 0)
        entry.oldest_pending = _aware(oldest)
    return list(found.values())


def _aware(moment: datetime | str | None) -> datetime | None:
    """MIN over a CASE loses the column's type: SQLite answers text, PostgreSQL a timestamp."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class DeadLetter:
    delivery_id: int
    lrs_name: str
    statement_id: str
    verb: str
    attempts: int
    last_error: str | None
    created_at: datetime


def dead_letters(session: Session, platform_id: int, limit: int = DEAD_PAGE) -> list[DeadLetter]:
    rows = session.execute(
        select(StatementDelivery.id, LearningRecordStore.name, Statement.id, Statement.verb,
               StatementDelivery.attempts, StatementDelivery.last_error, StatementDelivery.created_at)
        .join(Statement, Statement.seq == StatementDelivery.statement_seq)
        .join(LearningRecordStore, LearningRecordStore.id == StatementDelivery.lrs_id)
        .where(StatementDelivery.status == DeliveryStatus.DEAD, Statement.platform_id == platform_id)
        .order_by(StatementDelivery.id.desc()).limit(limit)
    )
    return [DeadLetter(*row) for row in rows]


def retry_dead_letters(session: Session, platform_id: int, delivery_ids: list[int] | None = None) -> int:
    """Make this platform's dead deliveries (all, or these) due now with a fresh count of attempts; how
    many. Another platform's id is simply not among them."""
    of_platform = select(Statement.seq).where(Statement.platform_id == platform_id)
    statement = update(StatementDelivery).where(StatementDelivery.status == DeliveryStatus.DEAD,
                                                StatementDelivery.statement_seq.in_(of_platform))
    if delivery_ids is not None:
        statement = statement.where(StatementDelivery.id.in_(delivery_ids))
    result = session.execute(statement.values(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_by=None,
        claimed_until=None).execution_options(synchronize_session=False))
    if result.rowcount:
        after_commit(session, wake_workers)
    return result.rowcount


@dataclass(frozen=True)
class StatementFilters:
    verb: str = ""
    course: str = ""
    person: str = ""
    """The person's LMS user id, or part of their name."""

    def query(self) -> dict[str, str]:
        return {name: value for name, value in (("verb", self.verb), ("course", self.course),
                                                ("person", self.person)) if value}


@dataclass(frozen=True)
class RecentStatement:
    seq: int
    id: str
    stored: datetime
    verb: str
    actor_key: str
    object_id: str
    course: str | None
    person: str | None
    voided: bool


def verb_choices() -> list[tuple[str, str]]:
    """(IRI, label) of the verbs Cadre's statements use, for the filter form (no scan of the store)."""
    from xapi.vocabulary import Concept, Verb

    return sorted(((concept.iri, concept.label) for concept in vars(Verb).values()
                   if isinstance(concept, Concept)), key=lambda choice: choice[1])


def recent_statements(session: Session, platform_id: int, filters: StatementFilters,
                      limit: int = RECENT_PAGE) -> list[RecentStatement]:
    """The platform's newest statements matching the filters (keyset over ``seq``: the newest first)."""
    query = (select(Statement.seq, Statement.id, Statement.stored, Statement.verb, Statement.actor_key,
                    Statement.object_id, Context.context_id, User.name, Statement.voided)
             .outerjoin(Context, Context.id == Statement.context_id)
             .outerjoin(User, User.id == Statement.person_id)
             .where(Statement.platform_id == platform_id))
    if filters.verb:
        query = query.where(Statement.verb == filters.verb)
    if filters.course:
        query = query.where(Context.context_id == filters.course)
    if filters.person:
        named = func.lower(User.name).contains(filters.person.lower(), autoescape=True)
        people = select(User.id).where(User.platform_id == platform_id,
                                       or_(User.sub == filters.person, named))
        query = query.where(Statement.person_id.in_(people))
    rows = session.execute(query.order_by(Statement.seq.desc()).limit(limit))
    return [RecentStatement(*row) for row in rows]
