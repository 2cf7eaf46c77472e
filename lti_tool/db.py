"""Engine, the per-request session, and the declarative base with a constraint naming convention."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    Enum,
    MetaData,
    create_engine,
    event,
    exc,
    literal_column,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class: type[enum.StrEnum], *, name: str, length: int) -> Enum:
    """``enum_class`` stored as its values in a ``VARCHAR(length)`` with a CHECK constraint named
    ``ck_<table>_<name>``: the same on SQLite and PostgreSQL, and a new value is one migration away (no
    native PostgreSQL type to alter)."""
    return Enum(
        enum_class,
        name=name,
        length=length,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def build_engine(database_url: str) -> Engine:
    """An engine for the URL; SQL parameters (launch tokens, states, nonces) never appear in its errors."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "savepoint")
        def _begin_before_first_savepoint(connection, _name):  # type: ignore[no-untyped-def]
            # pysqlite opens a transaction only before the first INSERT/UPDATE/DELETE. A SAVEPOINT sent
            # before any of them opens one of SQLite's own, which its RELEASE commits: a request that
            # rolled back afterwards would keep what the savepoint wrapped. Open the transaction first.
            dbapi_connection = connection.connection.dbapi_connection
            if dbapi_connection is not None and not dbapi_connection.in_transaction:
                dbapi_connection.execute("BEGIN")

        return engine
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)
    ping_when_idle(engine)
    return engine


PING_WHEN_IDLE_SECONDS = 10.0


def ping_when_idle(engine: Engine, idle_seconds: float = PING_WHEN_IDLE_SECONDS) -> None:
    """Check a pooled connection before use when it sat idle longer than ``idle_seconds`` (the server may
    have closed it: a restart, an idle timeout, a failover), and replace it if it is dead.

    ``pool_pre_ping`` would ping at every checkout, a round trip on each request; a connection used a
    moment ago is alive. One whose server went away in that moment fails its request once, and the pool,
    seeing the disconnect, replaces all its connections for the next."""

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in <= idle_seconds:
            return  # new, or used a moment ago
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            raise exc.DisconnectionError("the database closed an idle connection") from error

    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()


_CHECKED_IN = "cadre.checked_in"


def init_app(app: Flask, database_url: str) -> None:
    engine = build_engine(database_url)
    app.extensions["cadre.engine"] = engine
    app.extensions["cadre.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    # Registered before every other after_request handler, so it runs after them all (Flask runs them in
    # reverse): whatever they read or write is part of the request's one transaction.
    app.after_request(_finish_request)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["cadre.engine"]


def get_session() -> Session:
    """The session of this request (or CLI command). Services never commit: the boundary does, once."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["cadre.sessionmaker"]()
    return g.db_session


# -- after-commit callbacks ---------------------------------------------------------------------------------
#
# A service that changes something with an effect outside the database (a cache to drop, a worker to wake,
# later an AGS score or an e-mail) registers the effect with ``after_commit(session, callback)``. The unit of
# work runs the callbacks once its commit has succeeded, in the order registered, and drops them when it
# rolls back: an effect never leaves for a change that did not happen.

_PENDING = "cadre.after_commit.pending"
_COMMITTED = "cadre.after_commit.committed"
log = logging.getLogger("cadre.db")


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` after ``session``'s transaction commits; never if it rolls back."""
    session.info.setdefault(_PENDING, []).append(callback)


@event.listens_for(Session, "after_commit")
def _callbacks_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _callbacks_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


# -- answers read once per unit of work -------------------------------------------------------------------
#
# A rule asked twice in one request (the view checks who may assess a learner, then the service it calls
# checks again) need not read the same rows twice. ``read_memo(session)`` keeps such answers for as long as
# the session has written nothing: every flush, every INSERT/UPDATE/DELETE it executes and the end of every
# transaction empty it, so an answer never outlives a change the session made or a transaction that could
# see another's.

_MEMO = "cadre.read_memo"


def read_memo(session: Session) -> dict[object, object]:
    """What reads of this session found since it last wrote (see above); keys name what was read. Empty
    while the session holds changes it has not flushed yet: the next query would flush them first."""
    memo: dict[object, object] | None = session.info.get(_MEMO)
    if memo is None or session.new or session.dirty or session.deleted:
        memo = session.info[_MEMO] = {}
    return memo


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")  # commit or rollback, of a savepoint too
def _forget_reads(session: Session, *_: object) -> None:
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_reads_on_write(execute_state: ORMExecuteState) -> None:
    if not execute_state.is_select:
        execute_state.session.info.pop(_MEMO, None)


def _run_committed_callbacks(session: Session) -> None:
    """Run what the last commit released. The change is stored: a failing callback is logged, and the
    others still run (an outbox row or a scheduled job is the safety net for effects that must happen)."""
    while callbacks := session.info.pop(_COMMITTED, None):
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback %s failed", getattr(callback, "__qualname__", callback))


def commit(session: Session) -> None:
    """Commit ``session`` and run the callbacks it released. Only units of work call this."""
    session.commit()
    _run_committed_callbacks(session)


def rollback(session: Session) -> None:
    session.rollback()
    session.info.pop(_PENDING, None)
    session.info.pop(_COMMITTED, None)


# -- units of work -----------------------------------------------------------------------------------------


def _finish_request(response: Response) -> Response:
    """The request's unit of work: commit when the answer is a success or a redirect, roll back when it is
    an error page (a refused launch or a form with problems stores nothing). An exception in the view never
    gets here: the teardown closes, and so rolls back, the session."""
    session: Session | None = g.get("db_session")
    if session is None:
        return response
    if response.status_code < 400 and not g.get("cadre_rollback_only"):
        commit(session)
    else:
        rollback(session)
    return response


def losable_on_crash(session: Session) -> None:
    """This transaction may be lost if the database server crashes right after it commits (it is never
    half-applied): on PostgreSQL its commit does not wait for the disk, which saves a flush per call.

    Only for writes whose loss costs nothing but a retry by the person, such as a login's state (a lost one
    makes the launch say the login expired, and opening the activity again works) or a feedback autosave
    (the open form's next save meets the older revision as a conflict that keeps what was typed). Never for
    anything that guards against replay or records what someone did (docs/operations.md, "Durability")."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_SYNCHRONOUS_COMMIT_OFF)


def losable_on_crash_returning(session: Session) -> tuple[ColumnElement[Any], ...]:
    """:func:`losable_on_crash` as columns to add to a write's ``RETURNING``, which saves the round trip of
    its own statement: the setting applies when the write returns a row (a write that changed nothing
    waits for the disk, and costs nothing to wait for). Nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return (_SYNCHRONOUS_COMMIT_OFF_COLUMN,)
    return ()


_SYNCHRONOUS_COMMIT_OFF = text("SET LOCAL synchronous_commit TO OFF")
_SYNCHRONOUS_COMMIT_OFF_COLUMN = literal_column("set_config('synchronous_commit', 'off', true)").label("_")


def insert_with_conflicts(dialect: str) -> Callable[..., Any]:
    """The ``insert`` of the database ``dialect`` names, whose statements take ``on_conflict_do_update``
    and ``on_conflict_do_nothing`` (PostgreSQL and SQLite spell them alike)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def rollback_only() -> None:
    """This request must store nothing, whatever its status (e.g. a preview built from unsaved input)."""
    g.cadre_rollback_only = True


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A unit of work outside a request (worker, CLI command): committed when the block succeeds, rolled
    back when it raises; after-commit callbacks run once the commit succeeded."""
    session: Session = app.extensions["cadre.sessionmaker"]()
    try:
        yield session
        commit(session)
    except BaseException:
        rollback(session)
        raise
    finally:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.info.pop(_PENDING, None)
        session.info.pop(_COMMITTED, None)
        session.close()
