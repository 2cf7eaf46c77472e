"""LTI Dynamic Registration 1.0: a platform admin pastes Cadre's /lti/register URL, Cadre does the rest.

pylti1p3's ``DynamicRegistration`` shows the shape of the exchange, but it sends requests through
``requests`` without a timeout, checks the platform's answers with ``assert`` (gone under ``python -O``) and
does not compare the issuer with the configuration URL; Cadre needs all three, so the exchange lives here,
through Cadre's outbound client (:mod:`lti_tool.outbound`), and the payload in ``tool_configuration``.

The platform is called with no database transaction open: a platform that takes its time (or an attacker's
URL that never answers) must not hold a database connection. :func:`register` ends the read-only
transaction of the checks before calling out and stores the answer in a fresh one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from egress import (
    AddressRefused,
    OutboundClient,
    OutboundError,
    OutboundResponse,
    OutboundTimeout,
    ResponseTooLarge,
)
from egress.policy import same_origin, shown_url
from lti_tool import outbound
from lti_tool.models import Platform
from lti_tool.ops import audit
from lti_tool.ops.platforms import (
    InvalidUrl,
    PlatformEndpoints,
    PlatformRegistrationError,
    add_platform,
    require_http_url,
)
from lti_tool.ops.tool_configuration import TOOL_CONFIGURATION_CLAIM

PLATFORM_CONFIGURATION_CLAIM = "https://purl.imsglobal.org/spec/lti-platform-configuration"
MAX_RESPONSE_BYTES = 256 * 1024
ERROR_EXCERPT_CHARS = 300


class RegistrationFailed(Exception):
    """The registration stopped; ``status`` is 400 for what the request or platform got wrong, 502 for the
    platform being unreachable or refusing.

    ``message`` is shown to the administrator and logged; ``platform_said`` (an excerpt of the platform's
    answer, which may echo the registration token) is shown but never logged.
    """

    def __init__(self, message: str, status: int, platform_said: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.platform_said = platform_said

    @property
    def shown(self) -> str:
        return f"{self.message}: {self.platform_said}" if self.platform_said else self.message


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's openid-configuration Cadre stores."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family: str | None
    audience: str | None


@dataclass(frozen=True)
class RegisteredPlatform:
    platform: Platform
    deployment_id: str | None


def issuer_matches_configuration_url(issuer: str, configuration_url: str) -> bool:
    """The configuration must be served under its issuer: same scheme and host, and the issuer's path a
    prefix (on a segment boundary) of the configuration URL's path (LTI-DR §3.5.1)."""
    issuer_parts, url_parts = urlsplit(issuer), urlsplit(configuration_url)
    if (issuer_parts.scheme, issuer_parts.netloc.lower()) != (url_parts.scheme, url_parts.netloc.lower()):
        return False
    issuer_path = issuer_parts.path.rstrip("/")
    return url_parts.path == issuer_path or url_parts.path.startswith(issuer_path + "/")


def fetch_platform_configuration(
    client: OutboundClient, configuration_url: str, registration_token: str | None
) -> PlatformConfiguration:
    try:
        configuration_url = require_http_url("openid_configuration", configuration_url)
    except InvalidUrl:
        raise RegistrationFailed(
            f"openid_configuration must be an absolute http(s) URL, got {shown_url(configuration_url)!r}", 400
        ) from None
    # Canvas wants the registration token on this request too; Moodle ignores it.
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    answer = _exchange(client, "GET", configuration_url, headers=headers, what="its configuration")
    shown = shown_url(configuration_url)
    if answer.status_code != 200:
        raise RegistrationFailed(
            f"The platform answered HTTP {answer.status_code} for its configuration at {shown}.", 502
        )
    document = _parse_json_object(answer.content, f"The platform's configuration at {shown}")

    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise RegistrationFailed(f"The platform's configuration at {shown} has no issuer.", 400)
    if not issuer_matches_configuration_url(issuer, configuration_url):
        raise RegistrationFailed(
            f"The platform's configuration names the issuer {issuer[:200]}, but it was served from "
            f"{shown}. Cadre only accepts a configuration served under its own issuer.",
            400,
        )
    endpoints = {}
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        value = document.get(field)
        try:
            endpoints[field] = require_http_url(
                f"The configuration's {field}", value if isinstance(value, str) else ""
            )
        except InvalidUrl:
            raise RegistrationFailed(
                f"The platform's configuration lacks a usable {field} (got {str(value)[:200]!r}).", 400
            ) from None
    # Cadre posts its registration, with the platform's registration token, to this endpoint and shows
    # what it answers: it must be the platform that served the configuration, not a host it names.
    if not same_origin(endpoints["registration_endpoint"], configuration_url):
        raise RegistrationFailed(
            f"The platform's registration_endpoint {shown_url(endpoints['registration_endpoint'])} is not "
            f"on the origin of its configuration ({shown}). Cadre only registers with the platform that "
            "served the configuration.",
            400,
        )
    audience = document.get("authorization_server")
    return PlatformConfiguration(
        issuer=issuer,
        product_family=_product_family(document),
        audience=audience if isinstance(audience, str) and audience else None,
        **endpoints,
    )


def register_with_platform(
    client: OutboundClient,
    configuration: PlatformConfiguration,
    registration_token: str | None,
    tool_registration: dict[str, Any],
) -> dict[str, Any]:
    """POST Cadre's registration; the platform's answer carries the client_id (and usually a deployment)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    response = _exchange(  # a POST: sent once, never retried (a second one could register Cadre twice)
        client,
        "POST",
        configuration.registration_endpoint,
        headers=headers,
        content=json.dumps(tool_registration).encode(),
        what="the registration",
    )
    if not response.ok:
        excerpt = response.text(ERROR_EXCERPT_CHARS).strip()
        raise RegistrationFailed(
            f"The platform refused the registration (HTTP {response.status_code})" + ("" if excerpt else "."),
            502,
            platform_said=excerpt or None,
        )
    answer = _parse_json_object(response.content, "The platform's answer to the registration")
    client_id = answer.get("client_id")
    if not isinstance(client_id, str | int) or not str(client_id).strip():
        raise RegistrationFailed("The platform's answer to the registration has no client_id.", 502)
    return answer


def store_registration(
    session: Session, configuration: PlatformConfiguration, answer: dict[str, Any]
) -> RegisteredPlatform:
    """Platform and deployment from the platform's answer; the caller commits."""
    tool_configuration = answer.get(TOOL_CONFIGURATION_CLAIM)
    deployment_id = None
    if isinstance(tool_configuration, dict) and tool_configuration.get("deployment_id") not in (None, ""):
        deployment_id = str(tool_configuration["deployment_id"])
    family = configuration.product_family
    host = urlsplit(configuration.issuer).netloc
    try:
        platform = add_platform(
            session,
            name=f"{family.capitalize() if family else 'LTI platform'} ({host})",
            client_id=str(answer["client_id"]),
            endpoints=PlatformEndpoints(
                issuer=configuration.issuer,
                login_url=configuration.authorization_endpoint,
                token_url=configuration.token_endpoint,
                jwks_url=configuration.jwks_uri,
                audience=configuration.audience,
            ),
            deployment_ids=[deployment_id] if deployment_id else [],
            product_family=family,
            actor_label=audit.REGISTRATION_ACTOR,
        )
    except PlatformRegistrationError as error:
        raise RegistrationFailed(
            f"The platform registered Cadre, but Cadre cannot store the registration: {error}", 400
        ) from None
    return RegisteredPlatform(platform=platform, deployment_id=deployment_id)


def register(
    session: Session,
    client: OutboundClient,
    *,
    configuration_url: str,
    registration_token: str | None,
    tool_registration: dict[str, Any],
) -> RegisteredPlatform:
    """The whole exchange; nothing is added to the session unless every step succeeded.

    ``session`` may have read (an invitation check) but not written: its transaction is ended before the
    platform is called, and the registration is stored in a new one, which the caller's unit of work
    commits or rolls back.
    """
    outbound.leave_read_transaction(session)
    configuration = fetch_platform_configuration(client, configuration_url, registration_token)
    answer = register_with_platform(client, configuration, registration_token, tool_registration)
    return store_registration(session, configuration, answer)


def _product_family(document: dict[str, Any]) -> str | None:
    # Some Moodle releases publish this claim name with a trailing space.
    for key, value in document.items():
        if key.strip() == PLATFORM_CONFIGURATION_CLAIM and isinstance(value, dict):
            family = value.get("product_family_code")
            return family if isinstance(family, str) and family else None
    return None


def _exchange(client: OutboundClient, method: str, url: str, *, what: str, **kwargs: Any) -> OutboundResponse:
    """The (size-capped) answer; redirects are not followed: the issuer check must not be sidestepped."""
    shown = shown_url(url)
    try:
        return client.request(method, url, max_bytes=MAX_RESPONSE_BYTES, **kwargs)
    except ResponseTooLarge:
        limit = f"{MAX_RESPONSE_BYTES // 1024} KiB"
        raise RegistrationFailed(
            f"The platform's answer for {what} at {shown} is larger than {limit}.", 502
        ) from None
    except OutboundTimeout:
        raise RegistrationFailed(f"The platform at {shown} did not answer in time ({what}).", 502) from None
    except AddressRefused:
        raise RegistrationFailed(
            f"Cadre does not connect to the address of {shown} (link-local and, when "
            "CADRE_HTTP_REFUSE_PRIVATE_NETWORKS is set, private addresses are refused).",
            400,
        ) from None
    except OutboundError as error:
        raise RegistrationFailed(
            f"Could not reach the platform at {shown} ({what}): {error.reason}.", 502
        ) from None


def _parse_json_object(body: bytes, label: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise RegistrationFailed(f"{label} is not valid JSON.", 502) from None
    if not isinstance(document, dict):
        raise RegistrationFailed(f"{label} is not a JSON object.", 502)
    return document
