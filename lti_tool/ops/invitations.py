"""Invitations to LTI Dynamic Registration.

The spec lets whoever opens the registration URL register a platform, which on an open Cadre means anyone
on the internet, and makes Cadre fetch any URL it is given. By default Cadre therefore asks for an
invitation: ``cadre platform invite`` prints a registration URL with a signed, expiring, single-use token,
and that URL is what the LMS administrator pastes.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import LtiCacheEntry

SALT = "cadre.dynamic-registration-invite"
USED_KEY_PREFIX = "registration-invite:"
ALREADY_USED = (
    "This registration invitation has already been used. Ask the Cadre administrator for a new "
    "one (`cadre platform invite`)."
)
USED_MEANWHILE = (
    "This registration invitation was used by another registration while this one was in progress, so "
    "Cadre stored nothing. Remove the tool your platform has just added, and ask the Cadre administrator "
    "for a new invitation (`cadre platform invite`)."
)


class InvitationRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def issue(secret_key: str) -> str:
    return _serializer(secret_key).dumps({"invite": secrets.token_urlsafe(12)})


def check(session: Session, secret_key: str, token: str, max_age: timedelta) -> str:
    """The invitation's id when the token is genuine, unexpired and unused; else ``InvitationRefused``."""
    if not token:
        raise InvitationRefused(
            "This Cadre registers platforms by invitation only. Ask the Cadre administrator to run "
            "`cadre platform invite` and paste the URL it prints."
        )
    try:
        payload = _serializer(secret_key).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise InvitationRefused(
            "This registration invitation has expired. Ask the Cadre administrator for a new one "
            "(`cadre platform invite`)."
        ) from None
    except BadSignature:
        raise InvitationRefused(
            "This registration invitation is not valid (it was changed or made by another Cadre). "
            "Ask the Cadre administrator for a new one (`cadre platform invite`)."
        ) from None
    invite_id = str(payload.get("invite", "")) if isinstance(payload, dict) else ""
    if not invite_id:
        raise InvitationRefused("This registration invitation is not valid. Ask for a new one.")
    if session.get(LtiCacheEntry, USED_KEY_PREFIX + invite_id) is not None:
        raise InvitationRefused(ALREADY_USED)
    return invite_id


def claim(session: Session, invite_id: str, max_age: timedelta) -> None:
    """Record the invitation as used, in the caller's transaction, once the platform has answered.

    :func:`check` ran before the platform was called, in a transaction since ended, so another registration
    with the same invitation may have finished meanwhile: checked again here, and the insert is flushed so
    that a race lost on the primary key is refused (``InvitationRefused``) rather than failing the commit.
    After a refusal the caller rolls the session back.
    """
    if session.get(LtiCacheEntry, USED_KEY_PREFIX + invite_id) is not None:
        raise InvitationRefused(USED_MEANWHILE)
    mark_used(session, invite_id, max_age)
    try:
        session.flush()
    except IntegrityError:
        raise InvitationRefused(USED_MEANWHILE) from None


def mark_used(session: Session, invite_id: str, max_age: timedelta) -> None:
    session.add(
        LtiCacheEntry(
            key=USED_KEY_PREFIX + invite_id,
            value={"used_at": utcnow().isoformat()},
            expires_at=utcnow() + max_age,
        )
    )
