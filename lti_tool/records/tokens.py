"""API tokens for the xAPI statement resource: made and revoked by administrators (``cadre api-token``, the
records admin page), scoped to one platform or to every platform.

A token is shown once, when it is made; only its SHA-256 is kept (tokens are 256 random bits, so a fast
hash is enough: nothing to guess from it). Callers send it as ``Authorization: Bearer <token>`` or, as
LRS clients do, as the password of HTTP Basic (any user name). ``last_used_at`` is written at most once a
minute per token, so polling clients do not turn every GET into a write.

The table lives beside the feature; ``lti_tool.models`` imports this module at its end.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, g, jsonify, request
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, utcnow
from lti_tool.models import Platform

TOKEN_PREFIX = "cadre_"  # noqa: S105 - how every token starts, not a token
TOKEN_BYTES = 32
HINT_LENGTH = len(TOKEN_PREFIX) + 6
LAST_USED_GRANULARITY = timedelta(minutes=1)
MAX_NAME_LENGTH = 200
REALM = "Cadre xAPI"
XAPI_VERSION = "1.0.3"

NO_CREDENTIALS = ("This resource needs an API token: send Authorization: Bearer <token> (or HTTP Basic "
                  "with the token as password). An administrator makes one with `cadre api-token create` "
                  "or on the records admin page.")
WRONG_CREDENTIALS = "This API token is unknown or was revoked."


class ApiToken(Base):
    """A credential for the statement resource: its hash, what it is for, and what it may read."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    """What the token is for, as its maker wrote it (``Power BI``, ``company LRS sync``)."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(HINT_LENGTH))
    """The token's first characters, so an administrator can tell tokens apart (never enough to use)."""
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"),
                                                    index=True)
    """The one platform whose records it reads; None: every platform (only from the command line)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))

    platform: Mapped[Platform | None] = relationship()

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_label(self) -> str:
        return "every platform" if self.platform is None else self.platform.issuer


class TokenError(ValueError):
    """A token cannot be made or revoked as asked; the message says why."""


@dataclass(frozen=True)
class MadeToken:
    token: ApiToken
    secret: str
    """The token itself: shown once, never stored."""


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, *, name: str, platform_id: int | None, created_by: str) -> MadeToken:
    """A new token for ``platform_id`` (None: every platform); the secret is in the answer only."""
    name = " ".join(name.split())
    if not name:
        raise TokenError("Give the token a name that says what it is for (for example: Power BI).")
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"The name is longer than {MAX_NAME_LENGTH} characters.")
    if platform_id is not None and session.get(Platform, platform_id) is None:
        raise TokenError(f"There is no platform {platform_id}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(name=name, token_hash=hash_of(secret), hint=secret[:HINT_LENGTH],
                     platform_id=platform_id, created_by=created_by[:200])
    session.add(token)
    session.flush()
    return MadeToken(token, secret)


def tokens(session: Session, *, platform_id: int | None = None, everything: bool = True) -> list[ApiToken]:
    """Tokens, newest first: every one (``everything``), or those scoped to ``platform_id``."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if not everything:
        query = query.where(ApiToken.platform_id == platform_id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, revoked_by: str,
                 platform_id: int | None = None, any_platform: bool = True) -> ApiToken:
    """Revoke a token (from its next request on). An administrator of one platform revokes only that
    platform's tokens (``any_platform=False``); another's is "no such token"."""
    token = session.get(ApiToken, token_id)
    if token is None or (not any_platform and token.platform_id != platform_id):
        raise TokenError(f"There is no API token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_by = revoked_by[:200]
    return token


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token ``secret`` is, noting when it was used (at most once a minute)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_of(secret)))
    if token is None or not token.live:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                        .execution_options(synchronize_session=False))
    return token


def credential_from_header(header: str | None) -> str | None:
    """The token of an ``Authorization`` header: ``Bearer <token>``, or Basic whose password is it."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, colon, password = decoded.partition(":")
        return password if colon and password else None
    return None


# -- requests ----------------------------------------------------------------------------------------------


def current_api_caller():  # type: ignore[no-untyped-def]  # -> ApiCaller | None (import cycle)
    """The caller of this request by its API token (None without a valid one). Looks at the
    ``Authorization`` header only: a browser's launch or cookie is no API credential."""
    from lti_tool.db import get_session
    from lti_tool.permissions import ApiCaller

    secret = credential_from_header(request.headers.get("Authorization"))
    g.cadre_api_credentials_sent = secret is not None
    if secret is None:
        return None
    token = authenticate(get_session(), secret)
    return None if token is None else ApiCaller(token_id=token.id, platform_id=token.platform_id)


def xapi_error(status: int, message: str) -> Response:
    """An error of the statement resource: JSON with the message, and xAPI's version header."""
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    response.headers["X-Experience-API-Version"] = XAPI_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


def caller_refused(decision):  # type: ignore[no-untyped-def]  # (Decision | None) -> Response
    """401 with ``WWW-Authenticate`` without a valid token; the rule's own status when it refused one."""
    if decision is not None:
        return xapi_error(decision.status, decision.message)
    sent = g.get("cadre_api_credentials_sent", False)
    response = xapi_error(401, WRONG_CREDENTIALS if sent else NO_CREDENTIALS)
    response.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}", Basic realm="{REALM}"'
    return response
