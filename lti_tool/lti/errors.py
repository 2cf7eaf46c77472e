"""Every message Cadre shows when it refuses a login, a launch or a page, in one place.

Status policy (the same for login and launch):

* **400** — the request or the id_token is malformed or lacks something the LTI spec requires: a missing
  parameter or claim, a wrong LTI version, a message type Cadre does not handle. The platform sent a bad
  message; retrying will not help.
* **401** — the token cannot be trusted for this browser now: bad or missing signature, unknown ``kid``,
  expired or future-dated token, replayed nonce, a login that began elsewhere or expired, a browser that
  refused Cadre's cookies, or a Platform Storage secret that does not match the login's. Opening the
  activity again usually fixes it.
* **403** — the token is fine but Cadre was not told to trust its sender: issuer + client_id or deployment
  not registered. An administrator must register it (the page names the ``cadre`` command).
* **502** — the platform's public keys could not be fetched.

Tests assert on :func:`rejection_message` and on the constants below, never on copied strings.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rejection:
    status: int
    title: str
    message: str
    """Formatted with the details of the rejection (``issuer``, ``client_id``, ``claim`` …)."""
    action: str | None = None
    """What the reader can do about it, formatted like ``message``."""


_REOPEN = "Open the activity again from your course."
_REGISTER = (
    "An administrator of Cadre can register it: cadre platform add --name NAME --issuer {q_issuer} "
    "--client-id {q_client_id} --login-url URL --token-url URL --jwks-url URL --deployment-id DEPLOYMENT_ID"
)

REJECTIONS: dict[str, Rejection] = {
    # --- OIDC login initiation -----------------------------------------------------------------------
    "login_missing_param": Rejection(
        400, "Incomplete login request",
        "The platform's login request has no {param} parameter.",
        "Check the tool configuration on the platform: the login initiation URL is {login_url}.",
    ),
    "login_client_id_required": Rejection(
        400, "Which registration?",
        "Issuer {issuer} has several registrations in Cadre, and its login request did not say which "
        "client_id it is for.",
        "Configure the platform to send client_id in the login request.",
    ),
    # --- registration (403) --------------------------------------------------------------------------
    "unknown_registration": Rejection(
        403, "Platform not registered",
        "Issuer {issuer} with client_id {client_id} is not registered in Cadre.",
        _REGISTER,
    ),
    "unknown_deployment": Rejection(
        403, "Deployment not registered",
        "Deployment {deployment_id} of {issuer} (client_id {client_id}) is not registered in Cadre.",
        "An administrator of Cadre can register it: cadre platform add-deployment --issuer {q_issuer} "
        "--client-id {q_client_id} {q_deployment_id}",
    ),
    # --- the launch request (400) --------------------------------------------------------------------
    "missing_id_token": Rejection(
        400, "Not a launch", "The launch request has no id_token.", _REOPEN,
    ),
    "missing_state": Rejection(
        400, "Not a launch", "The launch request has no state parameter.", _REOPEN,
    ),
    "malformed_token": Rejection(
        400, "Unreadable launch", "The id_token is not a readable JWT ({detail}).", None,
    ),
    "missing_claim": Rejection(
        400, "Incomplete launch",
        "The id_token has no {claim} claim, which an LTI 1.3 {message_type} must carry.",
        "Check the platform's LTI 1.3 configuration for this tool.",
    ),
    "wrong_version": Rejection(
        400, "Unsupported LTI version",
        "The id_token says LTI version {version}; Cadre speaks LTI 1.3.0.",
        "Configure the tool on the platform as an LTI 1.3 (LTI Advantage) tool.",
    ),
    "unsupported_message_type": Rejection(
        400, "Unsupported launch type",
        "Cadre handles LtiResourceLinkRequest and LtiDeepLinkingRequest, not {message_type}.",
        None,
    ),
    "invalid_claim": Rejection(
        400, "Invalid launch", "The id_token's {claim} claim is invalid: {detail}.",
        "Check the platform's LTI 1.3 configuration for this tool.",
    ),
    "invalid_deep_linking_settings": Rejection(
        400, "Cannot place activities here",
        "The deep-linking request cannot be answered: {detail}.",
        None,
    ),
    # --- trust in the token (401) --------------------------------------------------------------------
    "unknown_state": Rejection(
        401, "Login not found",
        "This launch does not match a login started in Cadre, or the login expired.", _REOPEN,
    ),
    "cookies_blocked": Rejection(
        401, "Your browser blocked Cadre's cookies",
        "This browser did not send back the cookie Cadre set when the login began, so Cadre cannot tell "
        "the launch came from you. Browsers that block third-party cookies do this inside a course page.",
        "Open Cadre in a new tab (the link below), or allow cookies for this site.",
    ),
    "storage_mismatch": Rejection(
        401, "Launch not bound to this browser",
        "The value the platform kept for this login (LTI Platform Storage) does not match the one Cadre "
        "gave it, so Cadre cannot tell the launch came from you.",
        "Open the activity again from your course, or open Cadre in a new tab (the link below).",
    ),
    "issuer_mismatch": Rejection(
        401, "Launch from another platform",
        "The id_token was issued by {issuer}, but the login began with {login_issuer}.", _REOPEN,
    ),
    "audience_mismatch": Rejection(
        401, "Launch for another tool",
        "The id_token is for audience {audience}, but the login began for client_id {client_id} "
        "of {issuer}.",
        None,
    ),
    "azp_mismatch": Rejection(
        401, "Launch for another tool",
        "The id_token has several audiences and its authorized party (azp) is {azp}, not Cadre's "
        "client_id {client_id}.",
        None,
    ),
    "missing_kid": Rejection(
        401, "Unsigned launch",
        "The id_token header has no key id (kid), so its signature cannot be checked.", None,
    ),
    "unsupported_alg": Rejection(
        401, "Unsupported signature", "The id_token is signed with {alg}; Cadre accepts RS256.", None,
    ),
    "unknown_kid": Rejection(
        401, "Unknown signing key",
        "The id_token is signed with key {kid}, which is not in the key set of {issuer} at {jwks_url}.",
        "Check the platform's public keyset URL in Cadre: cadre platform show --issuer {q_issuer} "
        "--client-id {q_client_id}",
    ),
    "bad_signature": Rejection(
        401, "Invalid signature", "The id_token's signature does not verify with the platform's key {kid}.",
        None,
    ),
    "expired_token": Rejection(
        401, "Launch expired", "The id_token has expired (the platform's clock and Cadre's may disagree).",
        _REOPEN,
    ),
    "token_from_future": Rejection(
        401, "Launch from the future",
        "The id_token was issued in the future (iat); the platform's clock and Cadre's disagree.",
        None,
    ),
    "nonce_mismatch": Rejection(
        401, "Launch does not match its login", "The id_token's nonce is not the one issued at login.",
        _REOPEN,
    ),
    "nonce_used": Rejection(
        401, "Launch already used", "This launch was already used.", _REOPEN,
    ),
    "nonce_expired": Rejection(
        401, "Launch too late", "The login for this launch expired before the launch arrived.", _REOPEN,
    ),
    # --- platform unreachable (502) ------------------------------------------------------------------
    "jwks_unavailable": Rejection(
        502, "Platform keys unavailable",
        "Cadre could not fetch the public keys of {issuer} from {jwks_url}: {detail}.",
        "Check the platform's public keyset URL in Cadre: cadre platform show --issuer {q_issuer} "
        "--client-id {q_client_id}",
    ),
}


class _Details(dict[str, Any]):
    """Missing placeholders render as "?" rather than raising while building an error page."""

    def __missing__(self, key: str) -> str:
        return "?"


def _details(details: dict[str, Any]) -> _Details:
    values = _Details({key: value for key, value in details.items() if value is not None})
    for key in ("issuer", "client_id", "deployment_id"):
        if key in values:
            values[f"q_{key}"] = shlex.quote(str(values[key]))
    return values


def rejection_message(reason: str, **details: Any) -> str:
    """The message a rejection shows (and the e2e tests look for)."""
    return REJECTIONS[reason].message.format_map(_details(details))


def rejection_action(reason: str, **details: Any) -> str | None:
    action = REJECTIONS[reason].action
    return action.format_map(_details(details)) if action else None


class LaunchRejected(Exception):
    """A login or launch Cadre refuses; carries what the error page and the log line need."""

    def __init__(self, reason: str, **details: Any) -> None:
        self.reason = reason
        self.rejection = REJECTIONS[reason]
        self.details = {key: value for key, value in details.items() if value is not None}
        self.issuer: str | None = details.get("issuer")
        self.client_id: str | None = details.get("client_id")
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return self.rejection.status

    @property
    def message(self) -> str:
        return rejection_message(self.reason, **self.details)

    @property
    def action(self) -> str | None:
        return rejection_action(self.reason, **self.details)


# --- Cadre's own pages -------------------------------------------------------------------------------

SESSION_EXPIRED = (
    "Your Cadre session has expired: open the activity again from your course. Invited by e-mail? Open the "
    "link in that e-mail again: the page it shows sends you a fresh one."
)
NO_LAUNCH = (
    "Cadre opens from your course: choose a Cadre activity in your LMS (Moodle or Canvas) and Cadre "
    "opens inside it."
)
ROLE_NOT_ALLOWED = "This page is for {allowed}; you are signed in to Cadre as {role} in this course."
CSRF_FAILED = "The form expired or came from another site; reload the page."
NUL_IN_FORM = (
    "A field of this form holds a NUL character (\\0), which no text can hold, so nothing was saved. Go "
    "back, type the text again (a NUL comes with text pasted from a binary file), and send the form again."
)
DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH = (
    "This page places activities in a course; open it with your course's \"add activity\" (deep linking) "
    "button."
)
DEEP_LINK_UNKNOWN_KIND = "Choose one of the activity kinds listed."
DEEP_LINK_EMPTY_TITLE = "Give the activity a title."
DEEP_LINK_TITLE_TOO_LONG = "The title can be at most {max_length} characters long."
