"""Version stamps that keep per-process caches right when Cadre runs in several processes.

A gunicorn worker that caches something read from the database (the origins allowed to frame Cadre) cannot
be told when another worker, or a ``cadre`` command, changes it. So the change writes a new stamp in the
``cache_versions`` row of that data, in its own transaction, and each process compares its cached stamp
with the row before using the cache: one primary-key read instead of reloading, and no window during which
a worker serves what another worker already changed.

Stamps are random, not counters: a rolled-back change, a restored backup or an emptied table can never
bring back a stamp that some process still holds next to data that is no longer there.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, Label, bindparam, select
from sqlalchemy.orm import Session

from lti_tool.db import insert_with_conflicts, read_memo
from lti_tool.models import CacheVersion

PLATFORM_ORIGINS = "platform_origins"
"""Changes when a platform is added or removed, or its issuer or login URL changes (the frame-ancestors)."""


# Built once: pages read a stamp on every request, and building the statement costs as much as running it.
_CURRENT = select(CacheVersion.version).where(CacheVersion.name == bindparam("name"))


def current(connection: Connection, name: str) -> str | None:
    """The stamp of ``name`` as this transaction sees it; None before anything stamped it."""
    return connection.execute(_CURRENT, {"name": name}).scalar()


def current_column(name: str) -> Label[str | None]:
    """The stamp of ``name`` as a column of another query: a request that reads a row anyway (the launch
    lookup of :mod:`lti_tool.lti.session`) reads the stamp with it, and :func:`remember` keeps it."""
    return select(CacheVersion.version).where(CacheVersion.name == name).scalar_subquery().label(name)


def remember(session: Session, name: str, version: str | None) -> None:
    """Keep the stamp of ``name`` that ``session`` just read for :func:`current_in` (until it writes)."""
    read_memo(session)[(__name__, name)] = version


def current_in(session: Session, name: str) -> str | None:
    """The stamp of ``name`` for ``session``: the one it read with another query since it last wrote, or
    read now through its connection (no autoflush)."""
    memo = read_memo(session)
    key = (__name__, name)
    if key in memo:
        return memo[key]  # type: ignore[return-value]
    return current(session.connection(), name)


def stamp(connection: Connection, name: str) -> str:
    """Give ``name`` a new stamp in ``connection``'s transaction (it counts only if that commits)."""
    version = secrets.token_hex(16)
    insert = insert_with_conflicts(connection.dialect.name)
    statement = insert(CacheVersion.__table__).values(name=name, version=version)
    connection.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"version": version}))
    return version
