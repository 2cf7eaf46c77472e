"""Server-side LTI state: pylti1p3's data storage in ``lti_cache``, and login states (each carrying its
login's one-time nonce).

Nothing about a login lives in the Flask session cookie, which an LMS iframe may lose. The login writes one
row, its :class:`LoginState` (which platform, which client_id, which nonce), under a ``state`` Cadre signs
with the time and the platform of the login (:func:`new_state`), so the launch finds the registration, and
checks the token's signature, before it writes anything (no outbound request, e.g. for the platform's keys,
inside a transaction that wrote). It then deletes the row and reads it in one statement
(:meth:`LoginState.consume`), so a login, and with it its nonce, is used once: of two launches racing with
the same state only the one whose DELETE returned the row goes on, and a refused launch rolls the DELETE
back. A signed state whose row is gone, within its lifetime, is a replay ("already used").
The browser is bound to the state by pylti1p3's state cookie (see :mod:`lti_tool.lti.oidc`).

Functions take the request's session and never commit.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy import ColumnElement, bindparam, delete, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from lti_tool.db import losable_on_crash_returning, utcnow
from lti_tool.models import LtiCacheEntry

DEFAULT_LIFETIME_SECONDS = 600
STATE_PATTERN = re.compile(r"[A-Za-z0-9._~-]{1,255}")
"""What a ``state`` may look like (Cadre makes them with :func:`new_state`); anything else, e.g. a NUL byte
PostgreSQL would refuse, is not looked up."""
STATE_PREFIX = "state-"
STATE_TAG_LENGTH = 22
"""Characters of the state's HMAC-SHA256 tag kept (base64url): 128 bits, beyond guessing."""


def _state_tag(body: str, secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), b"cadre-login-state:" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:STATE_TAG_LENGTH]


@dataclass(frozen=True)
class SignedState:
    """What a ``state`` made by :func:`new_state` says, once its signature is checked."""

    issued_at: int
    """Unix time of the login."""
    platform_id: int
    """The registration the login was for."""


def new_state(secret_key: str, platform_id: int, now: float | None = None) -> str:
    """A login's ``state``: random, with the login's time and platform, signed with the app's secret key."""
    issued_at = int(now if now is not None else time.time())
    body = f"{STATE_PREFIX}{secrets.token_urlsafe(24)}.{issued_at}.{platform_id}"
    return f"{body}.{_state_tag(body, secret_key)}"


def read_state(state: str, secret_key: str) -> SignedState | None:
    """What ``state`` says, or None if Cadre did not make it (or it was altered)."""
    body, _, tag = state.rpartition(".")
    parts = body.split(".")
    if (len(parts) != 3 or not parts[0].startswith(STATE_PREFIX) or not parts[1].isdigit()
            or not parts[2].isdigit() or len(tag) != STATE_TAG_LENGTH):
        return None
    if not hmac.compare_digest(tag.encode(), _state_tag(body, secret_key).encode()):
        return None
    return SignedState(issued_at=int(parts[1]), platform_id=int(parts[2]))


_CACHE = LtiCacheEntry.__table__
# Built once, run through the session's connection (no ORM bulk path): every login adds one, every launch
# pops one, and building and routing the statement cost more than running it.
_ADD = insert(_CACHE).values(key=bindparam("key"), value=bindparam("value"),
                             expires_at=bindparam("expires_at"))
_POP = delete(_CACHE).where(_CACHE.c.key == bindparam("key")).returning(_CACHE.c.value, _CACHE.c.expires_at)


@functools.cache
def _losable_add(columns: tuple[ColumnElement[Any], ...]) -> ReturningInsert[Any]:
    """:data:`_ADD` saying, in its RETURNING, that its transaction may be lost on a crash."""
    return _ADD.returning(*columns)


class DatabaseDataStorage(LaunchDataStorage[Any]):
    """pylti1p3's key/value launch data storage, in the ``lti_cache`` table with an expiry per key.

    Keys are not prefixed with a browser session id (``get_session_cookie_name`` is None): the browser is
    bound to a login by the state cookie instead, and launches by Cadre's own session (:mod:`.session`).
    """

    def __init__(self, session: Session, default_lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS) -> None:
        super().__init__()
        self._db = session
        self._default_lifetime = default_lifetime_seconds

    def get_session_cookie_name(self) -> None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        entry = self._db.get(LtiCacheEntry, self._prepare_key(key))
        if entry is None or entry.expires_at <= utcnow():
            return None
        return entry.value

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        expires_at = utcnow() + timedelta(seconds=exp or self._default_lifetime)
        key = self._prepare_key(key)
        entry = self._db.get(LtiCacheEntry, key)
        if entry is None:
            self._db.add(LtiCacheEntry(key=key, value=value, expires_at=expires_at))
        else:
            entry.value, entry.expires_at = value, expires_at
        self._db.flush()

    def add_value(self, key: str, value: Any, exp: int | None = None, *, losable: bool = False) -> None:
        """Like ``set_value`` for a key known to be new: one INSERT, no look-up, no ORM object to flush.
        ``losable``: the transaction may be lost on a crash (``lti_tool.db.losable_on_crash``), said by the
        INSERT itself."""
        expires_at = utcnow() + timedelta(seconds=exp or self._default_lifetime)
        statement = _ADD
        if losable and (columns := losable_on_crash_returning(self._db)):
            statement = _losable_add(columns)
        self._db.connection().execute(statement, {"key": self._prepare_key(key), "value": value,
                                                  "expires_at": expires_at})

    def pop_value(self, key: str) -> Any:
        """Delete the key and return its value, in one statement; None if absent or expired."""
        row = self._db.connection().execute(_POP, {"key": self._prepare_key(key)}).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return row.value

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None

    def delete_value(self, key: str) -> None:
        self._db.execute(delete(LtiCacheEntry).where(LtiCacheEntry.key == self._prepare_key(key)))


@dataclass(frozen=True)
class LoginState:
    """What the OIDC login remembers for the launch that answers it, keyed by the ``state`` value."""

    issuer: str
    client_id: str
    platform_id: int
    nonce: str
    login_hint: str
    lti_message_hint: str | None = None
    target_link_uri: str | None = None
    storage_target: str | None = None
    """The login's ``lti_storage_target``, when the platform offered LTI Platform Storage."""
    storage_secret: str | None = None
    """The random value Cadre's login page gave the platform to keep (Platform Storage); a launch without
    the state cookie must bring it back."""

    @classmethod
    def key(cls, state: str) -> str:
        return f"login-state-{state}"

    def save(self, storage: DatabaseDataStorage, state: str, lifetime_seconds: int) -> None:
        """Store under a state just made (random, so new): an insert, without looking for an old entry. A
        login lost on a crash only makes its launch ask to open the activity again: its transaction does
        not wait for the disk (``lti_tool.db.losable_on_crash``)."""
        storage.add_value(self.key(state), asdict(self), exp=lifetime_seconds, losable=True)

    @classmethod
    def load(cls, storage: DatabaseDataStorage, state: str) -> LoginState | None:
        """The login of ``state``, left in place (see :meth:`consume`)."""
        if not STATE_PATTERN.fullmatch(state):  # not one Cadre made: don't send it to the database
            return None
        return cls._of(storage.get_value(cls.key(state)))

    @classmethod
    def consume(cls, storage: DatabaseDataStorage, state: str) -> LoginState | None:
        """The login of ``state``, deleted by the same statement: a second call finds nothing."""
        if not STATE_PATTERN.fullmatch(state):
            return None
        return cls._of(storage.pop_value(cls.key(state)))

    @classmethod
    def _of(cls, value: Any) -> LoginState | None:
        if not isinstance(value, dict):
            return None
        known = {name: value[name] for name in cls.__dataclass_fields__ if name in value}
        return cls(**known)


class ExpiredRowsPurge:
    """Runs :func:`purge_expired` at most once per interval per process, so logins do not pay for it."""

    def __init__(self, interval_seconds: float = 60.0) -> None:
        self._interval = interval_seconds
        self._last_run = float("-inf")
        self._lock = threading.Lock()

    def run_if_due(self, session: Session) -> bool:
        with self._lock:
            if time.monotonic() - self._last_run < self._interval:
                return False
            self._last_run = time.monotonic()
        purge_expired(session)
        return True


def purge_expired(session: Session, now: datetime | None = None) -> None:
    """Drop expired cache entries (logins never used, old launch data): cheap thanks to the expiry index."""
    now = now or utcnow()
    session.execute(delete(LtiCacheEntry).where(LtiCacheEntry.expires_at <= now))
