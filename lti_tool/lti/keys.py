"""Cadre's own RSA key pairs: the newest active key signs, retired keys stay published for a grace period."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import ToolKey


def generate_key() -> ToolKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = secrets.token_urlsafe(16)
    public = json.loads(jwk.JWK.from_pem(pem.encode()).export_public())
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey(kid=kid, private_key_pem=pem, public_jwk=public)


def signing_key(session: Session) -> ToolKey:
    """The key Cadre signs with now; made on first use so a fresh install needs no extra step."""
    key = session.scalars(
        select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.id.desc()).limit(1)
    ).first()
    if key is None:
        key = generate_key()
        session.add(key)
        session.flush()
    return key


def rotate(session: Session, now: datetime | None = None) -> ToolKey:
    """Add a new signing key and retire the others; they stay in the JWKS until the grace period ends."""
    now = now or utcnow()
    for key in session.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None))):
        key.retired_at = now
    key = generate_key()
    session.add(key)
    session.flush()
    return key


def published_keys(session: Session, grace: timedelta, now: datetime | None = None) -> list[ToolKey]:
    now = now or utcnow()
    return list(
        session.scalars(
            select(ToolKey)
            .where(or_(ToolKey.retired_at.is_(None), ToolKey.retired_at > now - grace))
            .order_by(ToolKey.id)
        )
    )


def jwks(session: Session, grace: timedelta) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [key.public_jwk for key in published_keys(session, grace)]}
