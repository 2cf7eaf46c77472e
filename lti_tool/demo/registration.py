"""Registering a platform in Cadre's database: what an admin does with ``cadre platform add``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.demo.platform import LtiPlatform
from lti_tool.models import Deployment, Platform


def register_platform(session: Session, platform: LtiPlatform, client_id: str | None = None) -> Platform:
    """Add (or bring up to date) the registration of ``platform``'s ``client_id`` and its deployment.

    Idempotent: running the demo twice, or registering per test, never duplicates rows. Flushes, never
    commits (the caller owns the transaction).
    """
    registration = platform.registrations[client_id or platform.client_id]
    row = session.scalars(
        select(Platform).where(
            Platform.issuer == platform.issuer, Platform.client_id == registration.client_id
        )
    ).first()
    if row is None:
        row = Platform(issuer=platform.issuer, client_id=registration.client_id)
        session.add(row)
    row.name = platform.profile.name
    row.auth_login_url = platform.auth_login_url
    row.auth_token_url = platform.auth_token_url
    row.auth_audience = None
    row.key_set_url = platform.jwks_url
    row.product_family = platform.profile.product_family_code
    row.key_set = None
    row.key_set_fetched_at = None
    if not any(d.deployment_id == registration.deployment_id for d in row.deployments):
        row.deployments.append(Deployment(deployment_id=registration.deployment_id))
    session.flush()
    return row
