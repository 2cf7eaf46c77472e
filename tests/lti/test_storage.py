"""Server-side LTI state: the lti_cache data storage and login states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.lti.storage import DatabaseDataStorage, LoginState, purge_expired
from lti_tool.models import LtiCacheEntry, Platform


@pytest.fixture
def platform_id(db: Session) -> int:
    platform = Platform(name="P", issuer="https://lms.example", client_id="c", auth_login_url="https://x/a",
                        auth_token_url="https://x/t", key_set_url="https://x/k")
    db.add(platform)
    db.flush()
    return platform.id


def test_data_storage_round_trip_and_expiry(db: Session) -> None:
    storage = DatabaseDataStorage(db)
    assert storage.get_session_cookie_name() is None and storage.can_set_keys_expiration()
    storage.set_value("launch-1", {"a": [1, 2]}, exp=60)
    storage.set_value("launch-1", {"a": [3]}, exp=60)  # overwrite, not a duplicate key
    assert storage.get_value("launch-1") == {"a": [3]} and storage.check_value("launch-1")
    assert storage.get_value("absent") is None and not storage.check_value("absent")
    db.get(LtiCacheEntry, "lti1p3-launch-1").expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    assert storage.get_value("launch-1") is None
    storage.set_value("other", "x")
    storage.delete_value("other")
    assert storage.get_value("other") is None


def test_login_state_round_trip(db: Session, platform_id: int) -> None:
    storage = DatabaseDataStorage(db)
    state = LoginState(issuer="https://i", client_id="c", platform_id=platform_id, nonce="n", login_hint="h")
    state.save(storage, "state-1", lifetime_seconds=60)
    assert LoginState.load(storage, "state-1") == state
    assert LoginState.load(storage, "state-2") is None


def test_purge_expired(db: Session, platform_id: int) -> None:
    storage = DatabaseDataStorage(db)
    storage.set_value("old", 1, exp=1)
    storage.set_value("new", 1, exp=600)
    purge_expired(db, now=utcnow() + timedelta(seconds=2))
    assert db.scalars(select(LtiCacheEntry.key)).all() == ["lti1p3-new"]
