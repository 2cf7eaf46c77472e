"""Tables of Cadre's learning records (``lti_tool.records``): the statements Cadre stores (its own store,
the source of the admin pull API and export), the learning record stores it forwards them to, and one
delivery row per statement and LRS.

Kept beside their feature rather than in ``lti_tool.models``, which imports this module at its end so that
``Base.metadata`` (migrations, the models-match-migrations test) always has these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.states import DeliveryStatus, LrsStatus

BIG_ID = BigInteger().with_variant(Integer, "sqlite")
"""64-bit keys on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and the only autoincrement."""


class Statement(Base):
    """One xAPI statement as Cadre stored it, in the order stored (``seq``, what pages and exports follow).

    ``body`` is the whole statement with ``stored`` and ``authority`` set, exactly what an LRS receives
    and the pull API answers. The other columns are what the xAPI query filters and Cadre's own filters
    (course, activity kind, the person for erasure) need, copied out of the body when it is stored.
    """

    __tablename__ = "statements"
    __table_args__ = (
        Index("ix_statements_verb_seq", "verb", "seq"),
        Index("ix_statements_actor_key_seq", "actor_key", "seq"),
        Index("ix_statements_object_id_seq", "object_id", "seq"),
        Index("ix_statements_context_id_seq", "context_id", "seq"),
        Index("ix_statements_platform_id_seq", "platform_id", "seq"),
        Index("ix_statements_registration_seq", "registration", "seq"),
        Index("ix_statements_stored", "stored"),
        Index("ix_statements_person_id", "person_id"),
        Index("ix_statements_voids_statement_id", "voids_statement_id"),
        # AUTOINCREMENT on SQLite: a seq is never used again after its row goes (pages follow seq).
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    """The statement's id (a UUID, lower case, deterministic for the event that made it)."""
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id", ondelete="SET NULL"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="SET NULL"))
    activity_kind: Mapped[str | None] = mapped_column(String(50))
    verb: Mapped[str] = mapped_column(String(255))
    object_id: Mapped[str] = mapped_column(String(2048))
    """The object's ``id`` (an activity IRI); for an agent object its key, for a StatementRef its id."""
    actor_key: Mapped[str] = mapped_column(String(512))
    """:func:`lti_tool.records.store.agent_key` of the actor: ``account:<homePage>|<name>``,
    ``mbox:<mailto:…>``, ``mbox_sha1sum:<hex>`` or ``openid:<uri>``."""
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Whose personal data the statement holds (the learner it is about): erasure finds it by this."""
    registration: Mapped[str | None] = mapped_column(String(36))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    stored: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    voided: Mapped[bool] = mapped_column(default=False)
    """A later voiding statement targets this one (xAPI: it is no longer answered by default)."""
    voids_statement_id: Mapped[str | None] = mapped_column(String(36))
    """For a voiding statement, the id of the statement it voids."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class StatementActivity(Base):
    """An activity a statement refers to, and where (``related_activities`` queries)."""

    __tablename__ = "statement_activities"
    __table_args__ = (
        Index("ix_statement_activities_activity_id_statement_seq", "activity_id", "statement_seq"),
    )

    statement_seq: Mapped[int] = mapped_column(BIG_ID, ForeignKey("statements.seq", ondelete="CASCADE"),
                                               primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    """``object``, ``parent``, ``grouping``, ``category`` or ``other`` (the context activity it is in, or
    ``object`` for the statement's object, a sub-statement's included)."""


class StatementAgent(Base):
    """An agent or group a statement names, and as what (``related_agents`` queries; erasure)."""

    __tablename__ = "statement_agents"
    __table_args__ = (Index("ix_statement_agents_agent_key_statement_seq", "agent_key", "statement_seq"),)

    statement_seq: Mapped[int] = mapped_column(BIG_ID, ForeignKey("statements.seq", ondelete="CASCADE"),
                                               primary_key=True)
    agent_key: Mapped[str] = mapped_column(String(512), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    """``actor``, ``object``, ``instructor``, ``team`` or ``authority``."""


class LearningRecordStore(Base):
    """An LRS Cadre forwards statements to, with the filters that choose which.

    The password is kept encrypted with a key derived from Cadre's secret key
    (:mod:`lti_tool.records.secrets`) and is never shown or logged. The LRS of ``CADRE_LRS_ENDPOINT``
    (``from_environment``) keeps no password here: it is read from the environment when sending.
    """

    __tablename__ = "learning_record_stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    endpoint: Mapped[str] = mapped_column(String(1000))
    """The xAPI endpoint, without a trailing slash (statements go to ``<endpoint>/statements``)."""
    username: Mapped[str] = mapped_column(String(255))
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[LrsStatus] = mapped_column(enum_column(LrsStatus, name="status", length=20),
                                              default=LrsStatus.ACTIVE)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filter_courses: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Only statements of these courses (Cadre context ids or the LMS's course ids); empty: every course."""
    filter_verbs: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Only statements with these verb IRIs; empty: every verb."""
    batch_size: Mapped[int] = mapped_column(default=100)
    from_environment: Mapped[bool] = mapped_column(default=False)
    backlog_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When admins were e-mailed that its oldest waiting statement is late; cleared once it is on time."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatementDelivery(Base):
    """One statement on its way to one LRS: attempts, the next one, and how it ended.

    A worker claims a row with a lease, as the outbox does: ``claimed_by`` (that claim's token) and
    ``claimed_until``, with ``next_attempt_at`` moved to the lease's end, so the rows of a worker that died
    are due again once it runs out.
    """

    __tablename__ = "statement_deliveries"
    __table_args__ = (
        UniqueConstraint("statement_seq", "lrs_id"),
        Index("ix_statement_deliveries_due", "lrs_id", "status", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    statement_seq: Mapped[int] = mapped_column(BIG_ID, ForeignKey("statements.seq", ondelete="CASCADE"))
    lrs_id: Mapped[int] = mapped_column(ForeignKey("learning_record_stores.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, name="status", length=20),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    """Why the last attempt failed or the LRS refused the statement, redacted (safe to show admins)."""
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
