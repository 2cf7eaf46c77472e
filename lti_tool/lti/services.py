"""The connector behind the LTI Advantage services (AGS, NRPS): access tokens cached per registration.

pylti1p3 keys its access-token cache by issuer and scopes only. Canvas gives every customer the same issuer,
so two customers (two client_ids) would share a token. Cadre's key is (issuer, client_id, scopes).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from typing import Any

import requests
from pylti1p3.service_connector import REQUESTS_USER_AGENT, ServiceConnector

EXPIRY_MARGIN_SECONDS = 30
"""Cached tokens are dropped this long before the platform says they expire, so none is sent dead."""


class AccessTokenCache:
    """Process-wide, thread-safe cache of platform access tokens, by cache key."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            cached = self._tokens.get(key)
            if cached is None:
                return None
            token, expires_at = cached
            if expires_at <= now:
                del self._tokens[key]
                return None
            return token

    def put(self, key: str, token: str, expires_in: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        lifetime = float(expires_in or 0) - EXPIRY_MARGIN_SECONDS
        if lifetime <= 0:
            return
        with self._lock:
            self._tokens[key] = (token, now + lifetime)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


ACCESS_TOKENS = AccessTokenCache()


def access_token_key(issuer: str | None, client_id: str | None, scopes: Iterable[str]) -> str:
    material = "\n".join([issuer or "", client_id or "", *sorted(scopes)])
    return hashlib.sha256(material.encode()).hexdigest()


SERVICE_TIMEOUT_SECONDS = 10.0


class TimeoutSession(requests.Session):
    """A requests session whose calls time out: pylti1p3 calls the platform (token endpoint, AGS, NRPS)
    without a timeout, so a platform that never answers would hold a worker thread forever."""

    def __init__(self, timeout: float = SERVICE_TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = REQUESTS_USER_AGENT

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class CadreServiceConnector(ServiceConnector):
    cache: AccessTokenCache = ACCESS_TOKENS

    def __init__(self, registration: Any, requests_session: requests.Session | None = None) -> None:
        super().__init__(registration, requests_session=requests_session or TimeoutSession())

    def _scope_key(self, scopes: Iterable[str]) -> str:
        return access_token_key(self._registration.get_issuer(), self._registration.get_client_id(), scopes)

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return self.cache.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        self.cache.put(scope_key, access_token, expires_in)
