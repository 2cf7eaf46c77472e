"""Server-side LTI state: the lti_cache data storage, login states and one-time nonces."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope, utcnow
from lti_tool.lti.storage import DatabaseDataStorage, LoginState, consume_nonce, issue_nonce, purge_expired
from lti_tool.models import LtiCacheEntry, Nonce, Platform
from tests.lti.conftest import FakePlatform


def test_data_storage_round_trip_and_expiry(app: Flask) -> None:
    with session_scope(app) as session:
        storage = DatabaseDataStorage(session)
        assert storage.get_session_cookie_name() is None and storage.can_set_keys_expiration()
        storage.set_value("launch-1", {"a": [1, 2]}, exp=60)
        storage.set_value("launch-1", {"a": [3]}, exp=60)  # overwrite, not a duplicate key
        assert storage.get_value("launch-1") == {"a": [3]} and storage.check_value("launch-1")
        assert storage.get_value("absent") is None and not storage.check_value("absent")
        session.get(LtiCacheEntry, "lti1p3-launch-1").expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
        assert storage.get_value("launch-1") is None
        storage.set_value("other", "x")
        storage.delete_value("other")
        assert storage.get_value("other") is None


def test_login_state_round_trip(app: Flask, lms: FakePlatform) -> None:
    with session_scope(app) as session:
        storage = DatabaseDataStorage(session)
        state = LoginState(issuer="https://i", client_id="c", platform_id=1, nonce="n", login_hint="h")
        state.save(storage, "state-1", lifetime_seconds=60)
        assert LoginState.load(storage, "state-1") == state
        assert LoginState.load(storage, "state-2") is None


def test_nonce_is_good_once(app: Flask, lms: FakePlatform) -> None:
    with session_scope(app) as session:
        platform_id = session.scalars(select(Platform.id)).one()
        issue_nonce(session, "n-1", platform_id, lifetime_seconds=60)
        assert consume_nonce(session, "n-1", platform_id + 1) == "used"  # another registration's
        assert consume_nonce(session, "n-1", platform_id) == "ok"
        assert consume_nonce(session, "n-1", platform_id) == "used"
        issue_nonce(session, "n-2", platform_id, lifetime_seconds=60)
        assert consume_nonce(session, "n-2", platform_id, now=utcnow() + timedelta(seconds=61)) == "expired"
        assert consume_nonce(session, "n-2", platform_id) == "used"


def test_purge_expired(app: Flask, lms: FakePlatform) -> None:
    with session_scope(app) as session:
        platform_id = session.scalars(select(Platform.id)).one()
        issue_nonce(session, "old", platform_id, lifetime_seconds=1)
        issue_nonce(session, "new", platform_id, lifetime_seconds=600)
        storage = DatabaseDataStorage(session)
        storage.set_value("old", 1, exp=1)
        storage.set_value("new", 1, exp=600)
        purge_expired(session, now=utcnow() + timedelta(seconds=2))
        assert session.scalars(select(Nonce.value)).all() == ["new"]
        assert session.scalars(select(LtiCacheEntry.key)).all() == ["lti1p3-new"]
