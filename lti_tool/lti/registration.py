"""Platform registrations from the database, and the platforms' public keys.

Canvas gives every cloud customer the same issuer, so a registration is always found by
**(issuer, client_id)**, never by issuer alone: :class:`DatabaseToolConf` answers pylti1p3 in
"many clients per issuer" mode only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.exception import ToolConfException
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from egress import OutboundClient, OutboundError
from lti_tool import outbound
from lti_tool.db import utcnow
from lti_tool.lti import keys
from lti_tool.lti.errors import LaunchRejected
from lti_tool.models import Deployment, Platform, ToolKey
from lti_tool.settings import Settings

log = logging.getLogger("cadre.lti")


class CadreRegistration(Registration):
    """A pylti1p3 registration built from a :class:`Platform` row, signing with Cadre's current key.

    The tool key is read only when something signs (deep linking, service tokens): a login or a launch
    verifies the platform's signature and never needs Cadre's private key.
    """

    def __init__(self, platform: Platform, session: Session) -> None:
        super().__init__()
        self.platform = platform
        self.platform_id = platform.id
        self._db = session
        self._tool_key: ToolKey | None = None
        self.set_issuer(platform.issuer)
        self.set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.auth_token_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)
        self.set_key_set_url(platform.key_set_url)

    @property
    def tool_key(self) -> ToolKey:
        if self._tool_key is None:
            self._tool_key = keys.signing_key(self._db)
        return self._tool_key

    def get_tool_private_key(self) -> str:
        return self.tool_key.private_key_pem

    def get_kid(self) -> str:
        return self.tool_key.kid

    def get_jwks(self) -> list[dict[str, Any]]:
        return [self.tool_key.public_jwk]


class DatabaseToolConf(ToolConfAbstract[Any]):
    """pylti1p3's tool configuration from ``platforms`` and ``deployments``, looked up by (iss, client_id)."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self._db = session
        self._settings = settings

    # One issuer may hold several client_ids (Canvas): pylti1p3 must always pass the client_id.
    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise ToolConfException("Cadre finds registrations by issuer and client_id, never by issuer alone")

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        raise ToolConfException("Cadre finds deployments by issuer, client_id and deployment_id")

    def find_platform(self, iss: str, client_id: str) -> Platform | None:
        return self._db.scalars(
            select(Platform).where(Platform.issuer == iss, Platform.client_id == client_id)
        ).first()

    def platforms_of_issuer(self, iss: str) -> list[Platform]:
        return list(self._db.scalars(select(Platform).where(Platform.issuer == iss).order_by(Platform.id)))

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> CadreRegistration | None:
        platform = self.find_platform(iss, client_id) if client_id else None
        if platform is None:
            return None
        return CadreRegistration(platform, self._db)

    def find_deployment_row(self, platform_id: int, deployment_id: str) -> Deployment | None:
        return self._db.scalars(
            select(Deployment).where(
                Deployment.platform_id == platform_id, Deployment.deployment_id == deployment_id
            )
        ).first()

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        platform = self.find_platform(iss, client_id)
        if platform is None or self.find_deployment_row(platform.id, deployment_id) is None:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Cadre's public keys: the same for every registration (current key plus recently rotated ones)."""
        keys.signing_key(self._db)
        return keys.jwks(self._db, timedelta(days=self._settings.key_grace_days))


class JwksUnavailable(Exception):
    pass


JWKS_MAX_BYTES = 256 * 1024
"""A platform's key set is a few KiB; a bigger answer is refused before it is all read."""


def fetch_jwks(client: OutboundClient, url: str) -> dict[str, Any]:
    """GET a JSON Web Key Set; :class:`JwksUnavailable` with a readable reason on any failure.

    Through Cadre's outbound policy: redirects followed (platforms move their keys behind one) but only on
    http(s), never from https down to http and at most three; the answer read up to :data:`JWKS_MAX_BYTES`;
    timeouts and retries as for every idempotent call.
    """
    try:
        response = client.get(url, headers={"Accept": "application/json"}, follow_redirects=True,
                              max_bytes=JWKS_MAX_BYTES)
    except OutboundError as error:
        raise JwksUnavailable(error.reason) from None
    if not response.ok:
        raise JwksUnavailable(f"HTTP {response.status_code}")
    try:
        key_set = json.loads(response.content)
    except (ValueError, RecursionError):
        raise JwksUnavailable("the response is not JSON") from None
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise JwksUnavailable('the response has no "keys" list')
    return key_set


def find_key(key_set: dict[str, Any] | None, kid: str) -> dict[str, Any] | None:
    for key in (key_set or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None


class PlatformKeysStale(Exception):  # noqa: N818 - a request for one more step, not an error
    """The platform's key set must be fetched, but the launch's transaction has already written (it consumed
    its login): the view rolls back, calls :meth:`PlatformKeys.refresh` with no transaction open, and
    validates the launch again."""

    def __init__(self, platform_id: int) -> None:
        super().__init__(f"the key set of platform {platform_id} must be fetched outside the transaction")
        self.platform_id = platform_id


class PlatformKeys:
    """The platform's public key for a ``kid``, from ``Platform.key_set``, refetched when needed.

    The key set is refetched when it is older than ``jwks_cache_seconds`` or lacks the kid (the platform
    rotated its keys), but never more than once per ``jwks_refetch_min_seconds`` per registration, so a
    stream of tokens with made-up kids cannot make Cadre hammer the platform. The cache is written through
    its own short transaction: a rejected launch rolls the request's session back, and the rate limit must
    survive that. One instance serves one launch (it remembers what it fetched, and what failed, for it).
    """

    def __init__(self, new_session: sessionmaker[Session], settings: Settings,
                 fetch: Callable[[str], dict[str, Any]] | None = None) -> None:
        self._new_session = new_session
        self._settings = settings
        self._fetch = fetch or (lambda url: fetch_jwks(outbound.client(), url))
        self._refreshed: dict[int, datetime] = {}
        self._failed: dict[int, JwksUnavailable] = {}

    def key_for(self, platform: Platform, kid: str) -> dict[str, Any]:
        now = utcnow()
        fetched_at = platform.key_set_fetched_at
        age = (now - fetched_at).total_seconds() if fetched_at else None
        key = find_key(platform.key_set, kid)
        if key is not None and age is not None and age < self._settings.jwks_cache_seconds:
            return key
        if age is None or age >= self._settings.jwks_refetch_min_seconds:
            try:
                key_set = self._refresh(platform)
            except JwksUnavailable as error:
                if key is not None:  # a stale key the platform signed with still beats an outage
                    log.warning("platform JWKS refresh failed; using the cached key set",
                                extra={"fields": {"issuer": platform.issuer, "client_id": platform.client_id,
                                                  "error": str(error)}})
                    return key
                raise LaunchRejected("jwks_unavailable", issuer=platform.issuer, client_id=platform.client_id,
                                     jwks_url=platform.key_set_url, detail=str(error)) from error
            key = find_key(key_set, kid)
        if key is None:
            raise LaunchRejected("unknown_kid", issuer=platform.issuer, client_id=platform.client_id,
                                 kid=kid, jwks_url=platform.key_set_url)
        return key

    def _refresh(self, platform: Platform) -> dict[str, Any]:
        if platform.id in self._failed:  # already tried during this launch (see refresh())
            raise self._failed[platform.id]
        fetched_at = platform.key_set_fetched_at
        if fetched_at is not None and self._refreshed.get(platform.id) == fetched_at:
            return platform.key_set or {}  # what refresh() stored for this launch
        # No outgoing call while the request's transaction is open: a launch that has only read so far
        # (login state, registration) ends that transaction; one that has written must undo it first.
        try:
            outbound.leave_read_transaction()
        except outbound.TransactionOpen:
            raise PlatformKeysStale(platform.id) from None
        return self._fetch_and_store(platform.id, platform.key_set_url, platform)

    def refresh(self, platform_id: int) -> None:
        """Fetch and store a platform's key set; for a launch view that caught :class:`PlatformKeysStale`
        and rolled its transaction back. A failure is kept for the launch's next :meth:`key_for`, which
        then falls back on the cached key or refuses the launch, without fetching again."""
        with self._new_session() as session:
            url = session.scalar(select(Platform.key_set_url).where(Platform.id == platform_id))
        if url is None:
            return
        try:
            self._fetch_and_store(platform_id, url, None)
        except JwksUnavailable as error:
            self._failed[platform_id] = error

    def _fetch_and_store(self, platform_id: int, url: str, platform: Platform | None) -> dict[str, Any]:
        try:
            key_set = self._fetch(url)
        except JwksUnavailable as error:
            self._failed[platform_id] = error
            raise
        fetched_at = utcnow()
        with self._new_session() as session, session.begin():
            stored = session.get(Platform, platform_id)
            if stored is not None:
                stored.key_set, stored.key_set_fetched_at = key_set, fetched_at
        self._refreshed[platform_id] = fetched_at
        if platform is not None:  # keep the caller's copy in step without dirtying the request's session
            set_committed_value(platform, "key_set", key_set)
            set_committed_value(platform, "key_set_fetched_at", fetched_at)
        return key_set
