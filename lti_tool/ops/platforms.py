"""Registering LTI platforms (issuer + client_id) and their deployments.

Services take a session and never commit: the CLI command or the view that calls them commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti_tool.models import Deployment, Platform
from lti_tool.ops import audit

CANVAS_ENVIRONMENTS = {
    # Instructure's cloud: one issuer per environment, shared by every customer (LTI_NOTES.md).
    "prod": ("https://canvas.instructure.com", "https://sso.canvaslms.com"),
    "beta": ("https://canvas.beta.instructure.com", "https://sso.beta.canvaslms.com"),
    "test": ("https://canvas.test.instructure.com", "https://sso.test.canvaslms.com"),
}


class PlatformRegistrationError(ValueError):
    """A registration that cannot be made; the message is meant for the administrator."""


class DuplicatePlatform(PlatformRegistrationError):
    pass


class UnknownPlatform(PlatformRegistrationError):
    pass


class InvalidUrl(PlatformRegistrationError):
    pass


@dataclass(frozen=True)
class PlatformEndpoints:
    """Where a platform signs launches and hands out service tokens."""

    issuer: str
    login_url: str
    token_url: str
    jwks_url: str
    audience: str | None = None


# The lengths of the platforms table's columns (lti_tool.models.Platform, Deployment).
NAME_MAX, ISSUER_MAX, CLIENT_ID_MAX, URL_MAX, DEPLOYMENT_ID_MAX = 200, 500, 255, 1000, 255
LARGEST_ID = 2**31 - 1


def checked_text(label: str, value: str, max_length: int) -> str:
    """``value`` without surrounding spaces, refused when longer than its column or with control characters
    (a NUL or a newline pasted along with an id would never match what the LMS sends)."""
    value = value.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise PlatformRegistrationError(f"{label} must not contain control characters.")
    if len(value) > max_length:
        raise PlatformRegistrationError(f"{label} must be at most {max_length} characters.")
    return value


def require_http_url(label: str, value: str, max_length: int = URL_MAX) -> str:
    """``value`` if it is an absolute http(s) URL with a host, else :class:`InvalidUrl` naming ``label``."""
    value = checked_text(label, value, max_length)
    try:
        parts = urlsplit(value.strip())
        usable = parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:  # e.g. "http://[": urlsplit refuses an unclosed IPv6 bracket
        usable = False
    if not usable:
        raise InvalidUrl(f"{label} must be an absolute http(s) URL, got {value!r}")
    return value


def moodle_endpoints(site: str) -> PlatformEndpoints:
    """Moodle 4.x: the issuer is the site URL (``$CFG->wwwroot``) and mod/lti serves the endpoints."""
    site = require_http_url("--site", site).rstrip("/")
    return PlatformEndpoints(
        issuer=site,
        login_url=f"{site}/mod/lti/auth.php",
        token_url=f"{site}/mod/lti/token.php",
        jwks_url=f"{site}/mod/lti/certs.php",
    )


def canvas_endpoints(environment: str = "prod") -> PlatformEndpoints:
    """Instructure-hosted Canvas; self-hosted Canvas has its own host and is added with explicit URLs."""
    try:
        issuer, sso = CANVAS_ENVIRONMENTS[environment]
    except KeyError:
        known = ", ".join(CANVAS_ENVIRONMENTS)
        raise PlatformRegistrationError(
            f"Unknown Canvas environment {environment!r} (known: {known})"
        ) from None
    return PlatformEndpoints(
        issuer=issuer,
        login_url=f"{sso}/api/lti/authorize_redirect",
        token_url=f"{sso}/login/oauth2/token",
        jwks_url=f"{sso}/api/lti/security/jwks",
    )


def find_platform(
    session: Session,
    *,
    platform_id: int | None = None,
    issuer: str | None = None,
    client_id: str | None = None,
) -> Platform:
    """One platform, by id or by (issuer, client_id); :class:`UnknownPlatform` when there is none."""
    query = select(Platform).options(selectinload(Platform.deployments))
    if platform_id is not None:
        in_range = 1 <= platform_id <= LARGEST_ID
        platform = session.scalars(query.where(Platform.id == platform_id)).first() if in_range else None
        if platform is None:
            raise UnknownPlatform(f"No platform with id {platform_id}. See `cadre platform list`.")
        return platform
    if not issuer or not client_id:
        raise PlatformRegistrationError("Give a platform id, or both --issuer and --client-id.")
    platform = session.scalars(
        query.where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if platform is None:
        raise UnknownPlatform(
            f"No platform with issuer {issuer} and client_id {client_id}. See `cadre platform list`."
        )
    return platform


def list_platforms(session: Session) -> list[Platform]:
    return list(
        session.scalars(select(Platform).options(selectinload(Platform.deployments)).order_by(Platform.id))
    )


def add_platform(
    session: Session,
    *,
    name: str,
    client_id: str,
    endpoints: PlatformEndpoints,
    deployment_ids: Iterable[str] = (),
    product_family: str | None = None,
    actor_label: str,
) -> Platform:
    """A new registration with its deployments; refuses a second registration of (issuer, client_id)."""
    name = checked_text("--name", name, NAME_MAX)
    client_id = checked_text("--client-id", client_id, CLIENT_ID_MAX)
    if not name:
        raise PlatformRegistrationError("The platform needs a name (--name).")
    if not client_id:
        raise PlatformRegistrationError("The client_id must not be empty.")
    issuer = require_http_url("The issuer", endpoints.issuer, ISSUER_MAX)
    login_url = require_http_url("The login URL", endpoints.login_url)
    token_url = require_http_url("The token URL", endpoints.token_url)
    jwks_url = require_http_url("The JWKS URL", endpoints.jwks_url)

    existing = session.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()
    if existing is not None:
        raise DuplicatePlatform(
            f"A platform with issuer {issuer} and client_id {client_id} is already registered "
            f"(id {existing.id}, {existing.name!r}). Add a deployment with `cadre platform add-deployment`, "
            "or remove it first with `cadre platform remove`."
        )

    platform = Platform(
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=login_url,
        auth_token_url=token_url,
        auth_audience=checked_text("--audience", endpoints.audience or "", URL_MAX) or None,
        key_set_url=jwks_url,
        product_family=product_family,
    )
    session.add(platform)
    session.flush()
    unique_deployment_ids = list(dict.fromkeys(map(_checked_deployment_id, deployment_ids)))
    for deployment_id in unique_deployment_ids:
        platform.deployments.append(Deployment(deployment_id=deployment_id))
    session.flush()
    audit.record(
        session,
        "platform.add",
        actor_label,
        platform_id=platform.id,
        name=platform.name,
        issuer=issuer,
        client_id=client_id,
        deployment_ids=unique_deployment_ids,
    )
    return platform


def add_deployment(
    session: Session, platform: Platform, deployment_id: str, *, actor_label: str
) -> Deployment:
    deployment_id = _checked_deployment_id(deployment_id)
    if any(existing.deployment_id == deployment_id for existing in platform.deployments):
        raise PlatformRegistrationError(
            f"Deployment {deployment_id} is already registered for platform {platform.id} "
            f"({platform.name!r})."
        )
    deployment = Deployment(deployment_id=deployment_id)
    platform.deployments.append(deployment)
    session.flush()
    audit.record(
        session,
        "platform.add_deployment",
        actor_label,
        platform_id=platform.id,
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_id=deployment_id,
    )
    return deployment


def remove_platform(session: Session, platform: Platform, *, actor_label: str) -> None:
    """Delete a registration; its deployments, users, courses and records go with it (ON DELETE CASCADE)."""
    audit.record(
        session,
        "platform.remove",
        actor_label,
        platform_id=platform.id,
        name=platform.name,
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_ids=[d.deployment_id for d in platform.deployments],
    )
    session.delete(platform)
    session.flush()


def _checked_deployment_id(deployment_id: str) -> str:
    deployment_id = checked_text("A deployment id", deployment_id, DEPLOYMENT_ID_MAX)
    if not deployment_id:
        raise PlatformRegistrationError("A deployment id must not be empty.")
    return deployment_id
