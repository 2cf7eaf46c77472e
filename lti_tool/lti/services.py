"""The connector behind the LTI Advantage services (AGS, NRPS): access tokens cached per registration,
every call through Cadre's outbound client.

pylti1p3 keys its access-token cache by issuer and scopes only. Canvas gives every customer the same issuer,
so two customers (two client_ids) would share a token. Cadre's key is (issuer, client_id, scopes).
pylti1p3 calls the platform through ``requests`` without timeouts, size limits or a retry policy; Cadre's
connector overrides the two methods that call out.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pylti1p3.exception import LtiException
from pylti1p3.service_connector import ServiceConnector, TServiceConnectorResponse

from egress import OutboundClient, OutboundError, OutboundResponse, UnexpectedResponse
from lti_tool import outbound
from lti_tool.outbox import Dead, Outcome, RetryLater

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

    def forget(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


ACCESS_TOKENS = AccessTokenCache()


def access_token_key(issuer: str | None, client_id: str | None, scopes: Iterable[str]) -> str:
    material = "\n".join([issuer or "", client_id or "", *sorted(scopes)])
    return hashlib.sha256(material.encode()).hexdigest()


class NoRequestsSession:
    """Stands where pylti1p3 keeps a ``requests.Session`` (it builds one per launch otherwise): Cadre's
    calls to the platform go through :mod:`lti_tool.outbound`, and anything in pylti1p3 that still tried
    ``requests`` would fail here, loudly, instead of calling out without Cadre's policy."""

    def __bool__(self) -> bool:  # pylti1p3 tests ``if requests_session:``
        return True

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"pylti1p3 tried requests.Session.{name}; Cadre calls platforms through lti_tool.outbound only"
        )


NO_REQUESTS_SESSION: Any = NoRequestsSession()


class PlatformServiceError(LtiException):
    """The platform's token endpoint or an LTI service (AGS, NRPS) gave no usable answer. The message names
    the URL without its query and never carries a token."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class CadreServiceConnector(ServiceConnector):
    """pylti1p3's connector, calling the platform through Cadre's outbound client instead of ``requests``.

    Token requests and service POSTs (scores, line items) are sent once; service GETs (rosters, line items,
    results) are retried as any idempotent call. The pagination and the AGS/NRPS classes of pylti1p3 are
    used as they are: they only call :meth:`make_service_request`.
    """

    cache: AccessTokenCache = ACCESS_TOKENS

    def __init__(self, registration: Any, http: Any = None) -> None:
        # pylti1p3 passes its "requests session" positionally (NO_REQUESTS_SESSION from Cadre's launches);
        # only an OutboundClient is used, anything else means "the app's client".
        self._registration = registration
        self._http = http if isinstance(http, OutboundClient) else None

    @property
    def http(self) -> OutboundClient:
        return self._http or outbound.client()

    def _scope_key(self, scopes: Iterable[str]) -> str:
        return access_token_key(self._registration.get_issuer(), self._registration.get_client_id(), scopes)

    def forget_access_token(self, scopes: Sequence[str]) -> None:
        """Drop the cached token for ``scopes`` (the platform refused it: revoked early, or restarted)."""
        self.cache.forget(self._scope_key(sorted(scopes)))

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        return self.cache.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        self.cache.put(scope_key, access_token, expires_in)

    def get_access_token(self, scopes: Sequence[str]) -> str:
        """An access token for ``scopes`` (OAuth 2 client credentials with a signed JWT assertion,
        LTI Security Framework §4.1), from the cache or the platform's token endpoint."""
        scopes = sorted(scopes)
        scope_key = self._scope_key(scopes)
        cached = self._get_cached_access_token(scope_key)
        if cached:
            return cached
        client_id = self._registration.get_client_id()
        token_url = self._registration.get_auth_token_url()
        private_key = self._registration.get_tool_private_key()
        if not client_id or not token_url or not private_key:
            raise PlatformServiceError("The registration lacks a client_id, token URL or tool key.")
        now = int(time.time())
        assertion = self.encode_jwt(
            {
                "iss": str(client_id),
                "sub": str(client_id),
                "aud": str(self._registration.get_auth_audience() or token_url),
                "iat": now - 5,
                "exp": now + 60,
                "jti": "lti-service-token-" + str(uuid.uuid4()),
            },
            private_key,
            {"kid": kid} if (kid := self._registration.get_kid()) else {},
        )
        # A POST, sent once: the assertion's jti is single-use on platforms that check it.
        grant = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": " ".join(scopes),
        }
        response = self._send("POST", token_url, "an access token", headers={"Accept": "application/json"},
                              data=grant)
        answer = self._json(response, "access token")
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise PlatformServiceError(
                f"The platform's token endpoint {response.shown_url} answered without an access_token."
            )
        expires_in = answer.get("expires_in", 0)
        self._cache_access_token(scope_key, token, expires_in if isinstance(expires_in, int | float) else 0)
        return token

    def make_service_request(
        self,
        scopes: Sequence[str],
        url: str,
        *,
        is_post: bool = False,
        data: str | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        case_insensitive_headers: bool = False,
    ) -> TServiceConnectorResponse:
        def send(headers: dict[str, str]) -> OutboundResponse:
            headers["Accept"] = accept
            if is_post:
                headers["Content-Type"] = content_type
                return self._send("POST", url, "a service request", headers=headers,
                                  content=(data or "").encode() or None)
            return self._send("GET", url, "a service request", headers=headers)

        response = self._with_token(scopes, send)
        match = re.search(r'<([^>]*)>;\s*rel="next"', response.headers.get("link", "").replace("\n", " "),
                          re.IGNORECASE)
        return {
            "headers": response.headers if case_insensitive_headers else dict(response.headers),
            "body": self._json(response, "service") if response.content else None,
            "next_page_url": match.group(1) if match else None,
        }

    def send_json(self, scopes: Sequence[str], method: str, url: str, body: Any, *, content_type: str,
                  accept: str = "application/json") -> Any:
        """``method`` (e.g. PUT to update a line item) with ``body`` as JSON; the platform's JSON answer."""
        def send(headers: dict[str, str]) -> OutboundResponse:
            headers.update({"Accept": accept, "Content-Type": content_type})
            return self._send(method, url, "a service request", headers=headers,
                              content=json.dumps(body).encode())

        response = self._with_token(scopes, send)
        return self._json(response, "service") if response.content else None

    def _with_token(self, scopes: Sequence[str], send: Callable[[dict[str, str]], OutboundResponse]
                    ) -> OutboundResponse:
        """``send`` with a bearer token for ``scopes``; when the platform refuses a cached token (revoked
        early, or the platform restarted), once more with a fresh one."""
        try:
            return send({"Authorization": "Bearer " + self.get_access_token(scopes)})
        except PlatformServiceError as error:
            if error.status_code != 401:
                raise
        self.forget_access_token(scopes)
        return send({"Authorization": "Bearer " + self.get_access_token(scopes)})

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> OutboundResponse:
        try:
            response = self.http.request(method, url, **kwargs)
        except OutboundError as error:
            raise PlatformServiceError(f"Cadre could not get {what} from the platform: {error}") from None
        if not response.ok:
            raise PlatformServiceError(
                f"The platform answered HTTP {response.status_code} to {what} at {response.shown_url}.",
                response.status_code,
            )
        return response

    @staticmethod
    def _json(response: OutboundResponse, what: str) -> Any:
        try:
            return response.json()
        except UnexpectedResponse:
            raise PlatformServiceError(
                f"The platform's {what} answer at {response.shown_url} is not JSON.", response.status_code
            ) from None


RETRIED_STATUSES = frozenset({401, 408, 425, 429})
"""4xx answers worth another try: timeouts, throttling, and a token refused even fresh (the platform's
registration may be being fixed; the connector already asked once more with a new token)."""


def outcome_of_service_error(error: PlatformServiceError) -> Outcome:
    """A failed AGS/NRPS call as an outbox outcome: a 4xx the platform means is dead with its reason,
    anything else (5xx, throttling, no answer) is tried again later."""
    status = error.status_code
    if status is not None and 400 <= status < 500 and status not in RETRIED_STATUSES:
        return Dead(str(error))
    return RetryLater(str(error))
