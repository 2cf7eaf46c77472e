"""The learning record stores Cadre forwards statements to: adding, listing, pausing and resuming them,
their filters, and their passwords (kept encrypted, never shown).

The first LRS may come from the environment (``CADRE_LRS_ENDPOINT``, ``CADRE_LRS_USERNAME``,
``CADRE_LRS_PASSWORD``): it is the row named :data:`ENVIRONMENT_LRS_NAME`, made or updated when Cadre first
records a statement or the worker starts, and its password is read from the environment when sending, never
stored. More are added with ``cadre lrs add``.

Passwords are encrypted with AES-GCM under a key derived (HKDF-SHA256) from Cadre's secret key, so a copy of
the database alone does not give them away. Changing the secret key makes them unreadable: the worker then
pauses that LRS and says so, and ``cadre lrs add --replace`` sets the password again.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.records.models import LearningRecordStore
from lti_tool.settings import Settings
from lti_tool.states import DeliveryStatus, LrsStatus

ENVIRONMENT_LRS_NAME = "environment"
"""The LRS of ``CADRE_LRS_ENDPOINT``; no other may take this name."""
MAX_NAME_LENGTH = 100
_SYNCED = "cadre.records.environment_lrs_synced"
_PASSWORD_FORMAT = "v1:"  # noqa: S105 - the prefix of the encrypted form, not a password


class LrsConfigurationError(ValueError):
    """An LRS that cannot be added or changed as asked; the message says why, for the admin."""


@dataclass(frozen=True)
class LrsTarget:
    """What recording needs of an LRS: its id and filters."""

    id: int
    courses: frozenset[str]
    verbs: frozenset[str]

    def takes(self, *, verb: str, context: tuple[str, ...]) -> bool:
        """Whether a statement with this verb, in the course known by these keys, goes to this LRS."""
        if self.verbs and verb not in self.verbs:
            return False
        return not self.courses or any(key in self.courses for key in context)


# -- recording's view ---------------------------------------------------------------------------------------


def stores_for_recording(session: Session) -> list[LrsTarget]:
    """Every LRS (paused ones too: they catch up when resumed), the environment's made first if needed."""
    settings: Settings = current_app.config["CADRE"]
    if settings.lrs_endpoint and current_app.extensions.get(_SYNCED) != _environment_identity(settings):
        sync_environment_store(session, settings)
        current_app.extensions[_SYNCED] = _environment_identity(settings)
    rows = session.execute(
        select(LearningRecordStore.id, LearningRecordStore.filter_courses, LearningRecordStore.filter_verbs)
    ).all()
    return [LrsTarget(row.id, frozenset(row.filter_courses or ()), frozenset(row.filter_verbs or ()))
            for row in rows]


def sync_environment_store(session: Session, settings: Settings) -> LearningRecordStore | None:
    """Make or update the LRS of ``CADRE_LRS_ENDPOINT``; when the variable is gone, pause the one made
    from it (its statements wait rather than go dead). Safe for several processes at once."""
    existing = session.scalar(select(LearningRecordStore).where(LearningRecordStore.from_environment))
    if not settings.lrs_endpoint:
        if existing is not None and existing.status is LrsStatus.ACTIVE:
            pause(existing, "CADRE_LRS_ENDPOINT is no longer set: resume it once it is set again, or "
                            "remove it")
        return existing
    endpoint = normalized_endpoint(settings.lrs_endpoint)
    if existing is None:
        values = {"name": ENVIRONMENT_LRS_NAME, "endpoint": endpoint, "username": settings.lrs_username,
                  "password_encrypted": None, "status": LrsStatus.ACTIVE, "filter_courses": [],
                  "filter_verbs": [], "batch_size": settings.lrs_batch_size, "from_environment": True,
                  "created_at": utcnow()}
        dialect = session.get_bind().dialect.name
        table = LearningRecordStore.__table__
        statement = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))
        session.execute(statement.values(values).on_conflict_do_nothing(index_elements=["name"]))
        return session.scalar(select(LearningRecordStore).where(LearningRecordStore.from_environment))
    if (existing.endpoint, existing.username) != (endpoint, settings.lrs_username):
        existing.endpoint, existing.username = endpoint, settings.lrs_username
    return existing


def _environment_identity(settings: Settings) -> tuple[str, str]:
    return settings.lrs_endpoint, settings.lrs_username


# -- admins' changes ----------------------------------------------------------------------------------------


def normalized_endpoint(endpoint: str) -> str:
    """The endpoint without a trailing slash; refused unless it is an http(s) URL with a host and neither
    credentials, query nor fragment (credentials go in their own options, never in a URL that is shown)."""
    endpoint = endpoint.strip()
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # never its credentials
        raise LrsConfigurationError(f"The LRS endpoint must be an http(s) URL with a host, not {shown!r}.")
    if parts.username or parts.password:
        raise LrsConfigurationError("Give the LRS's credentials with --username and the password prompt, "
                                    "not in its URL.")
    if parts.query or parts.fragment:
        raise LrsConfigurationError("The LRS endpoint is a base URL without a query or fragment "
                                    "(statements go to <endpoint>/statements).")
    return endpoint.rstrip("/")


def add_store(session: Session, *, name: str, endpoint: str, username: str, password: str,
              courses: list[str], verbs: list[str], batch_size: int = 100,
              replace: bool = False) -> LearningRecordStore:
    """Add an LRS (or, with ``replace``, change the one of that name); refused with
    :class:`LrsConfigurationError` for a bad name, endpoint or filter."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise LrsConfigurationError(f"An LRS is named with 1 to {MAX_NAME_LENGTH} characters.")
    if name == ENVIRONMENT_LRS_NAME:
        raise LrsConfigurationError(f"The name {ENVIRONMENT_LRS_NAME!r} is the LRS of CADRE_LRS_ENDPOINT; "
                                    "choose another.")
    if not username or not password:
        raise LrsConfigurationError("An LRS needs a username and a password (xAPI basic authentication).")
    if not 1 <= batch_size <= 1000:
        raise LrsConfigurationError("The batch size is between 1 and 1000 statements.")
    for verb in verbs:
        if urlsplit(verb).scheme not in {"http", "https"}:
            raise LrsConfigurationError(f"A verb filter is a verb IRI (http… or https…), not {verb!r}.")
    endpoint = normalized_endpoint(endpoint)
    store = session.scalar(select(LearningRecordStore).where(LearningRecordStore.name == name))
    if store is not None and not replace:
        raise LrsConfigurationError(f"An LRS named {name!r} exists already (use --replace to change it).")
    if store is None:
        store = LearningRecordStore(name=name, created_at=utcnow(), from_environment=False)
        session.add(store)
    store.endpoint, store.username = endpoint, username
    store.password_encrypted = encrypt_password(password)
    store.filter_courses = sorted({course.strip() for course in courses if course.strip()})
    store.filter_verbs = sorted(set(verbs))
    store.batch_size = batch_size
    store.status, store.paused_reason, store.paused_at = LrsStatus.ACTIVE, None, None
    session.flush()
    return store


def find_store(session: Session, name: str) -> LearningRecordStore:
    store = session.scalar(select(LearningRecordStore).where(LearningRecordStore.name == name))
    if store is None:
        names = session.scalars(select(LearningRecordStore.name).order_by(LearningRecordStore.name))
        known = ", ".join(names)
        raise LrsConfigurationError(f"No LRS named {name!r}" + (f"; known: {known}." if known else "; "
                                                                 "none is configured."))
    return store


def pause(store: LearningRecordStore, reason: str, at: datetime | None = None) -> None:
    store.status, store.paused_reason, store.paused_at = LrsStatus.PAUSED, reason[:1000], at or utcnow()


def pause_by_id(session: Session, lrs_id: int, reason: str) -> bool:
    """Pause an LRS (the worker, on a refused password); True if it was active until now."""
    result = session.execute(
        update(LearningRecordStore)
        .where(LearningRecordStore.id == lrs_id, LearningRecordStore.status == LrsStatus.ACTIVE)
        .values(status=LrsStatus.PAUSED, paused_reason=reason[:1000], paused_at=utcnow())
    )
    return bool(result.rowcount)


def resume(session: Session, store: LearningRecordStore) -> int:
    """Deliver to the LRS again, its pending statements at once; the number of those."""
    from lti_tool.records.models import StatementDelivery

    store.status, store.paused_reason, store.paused_at = LrsStatus.ACTIVE, None, None
    result = session.execute(
        update(StatementDelivery)
        .where(StatementDelivery.lrs_id == store.id, StatementDelivery.status == DeliveryStatus.PENDING,
               StatementDelivery.claimed_by.is_(None))
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# -- credentials ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never a password in a log line or a traceback's locals
        return f"Credentials(username={self.username!r}, password=***)"


def credentials_of(store: LearningRecordStore, settings: Settings,
                   secret_key: str | None = None) -> Credentials:
    """The username and password to send; :class:`LrsConfigurationError` when the password is unreadable."""
    if store.from_environment:
        return Credentials(settings.lrs_username, settings.lrs_password.get_secret_value())
    return Credentials(store.username, decrypt_password(store.password_encrypted or "", secret_key))


def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"cadre learning record store password").derive(secret_key.encode())


def encrypt_password(password: str, secret_key: str | None = None) -> str:
    nonce = os.urandom(12)
    key = _key(secret_key or current_app.config["SECRET_KEY"])
    sealed = AESGCM(key).encrypt(nonce, password.encode(), None)
    return _PASSWORD_FORMAT + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_password(stored: str, secret_key: str | None = None) -> str:
    if not stored.startswith(_PASSWORD_FORMAT):
        raise LrsConfigurationError("The LRS has no readable password: set it again with "
                                    "`cadre lrs add NAME … --replace`.")
    raw = base64.urlsafe_b64decode(stored[len(_PASSWORD_FORMAT):])
    try:
        return AESGCM(_key(secret_key or current_app.config["SECRET_KEY"])).decrypt(raw[:12], raw[12:],
                                                                                     None).decode()
    except InvalidTag:
        raise LrsConfigurationError("The LRS's password cannot be read with Cadre's current secret key (was "
                                    "CADRE_SECRET_KEY changed?): set it again with `cadre lrs add NAME … "
                                    "--replace`.") from None
