"""Response headers for pages that live in an LMS iframe.

Every response: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (pages carry the
launch token in their links, which must not reach another site). HTML responses also carry a
Content-Security-Policy: framing by the registered platforms only (plus what a view allows with
:func:`allow_frame_ancestor`); scripts from Cadre's origin or inline
with this response's nonce (``<script nonce="{{ csp_nonce() }}">``); forms posting to Cadre only, plus the
origins a view allows with :func:`allow_form_action` (the deep-linking return URL).
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, Response, g
from sqlalchemy import select

from lti_tool.db import get_session
from lti_tool.models import Platform

FRAME_ANCESTORS_TTL_SECONDS = 30.0

# Canvas cloud gives every customer the same issuer but shows tools inside each customer's own domain
# (school.instructure.com, or a vanity domain: those go in CADRE_FRAME_ANCESTORS).
CANVAS_CLOUD_ISSUERS = frozenset(
    {
        "https://canvas.instructure.com",
        "https://canvas.beta.instructure.com",
        "https://canvas.test.instructure.com",
    }
)
CANVAS_CLOUD_FRAME_SOURCE = "https://*.instructure.com"


def origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return None
    except ValueError:
        return None
    netloc = parts.netloc.rpartition("@")[2]  # never user:password@ in a policy
    if not netloc or any(char in netloc for char in " ;,'\"") or not netloc.isascii():
        return None
    return f"{parts.scheme}://{netloc}"


def csp_nonce() -> str:
    """This response's script nonce (one per request), for ``<script nonce="…">``."""
    if "cadre_csp_nonce" not in g:
        g.cadre_csp_nonce = secrets.token_urlsafe(16)
    return g.cadre_csp_nonce


def allow_form_action(url: str) -> None:
    """Let this response's page post a form to ``url``'s origin (e.g. the platform's deep-link return)."""
    origin = origin_of(url)
    if origin:
        g.setdefault("cadre_form_actions", set()).add(origin)


def allow_frame_ancestor(url: str) -> None:
    """Let ``url``'s origin frame this response's page (the registration page, which a platform opens in
    its own frame before it is registered)."""
    origin = origin_of(url)
    if origin:
        g.setdefault("cadre_frame_ancestors", set()).add(origin)


def content_security_policy(frame_ancestors: str) -> str:
    form_actions = " ".join(["'self'", *sorted(g.get("cadre_form_actions", ()))])
    return (
        f"frame-ancestors {frame_ancestors}; default-src 'self'; img-src 'self' data:; "
        f"style-src 'self' 'unsafe-inline'; script-src 'self' 'nonce-{csp_nonce()}'; "
        f"form-action {form_actions}; base-uri 'self'; object-src 'none'"
    )


def configured_origins(setting: str) -> list[str]:
    """The origins in ``CADRE_FRAME_ANCESTORS`` (spaces or commas between them); malformed ones dropped."""
    return sorted({origin for item in setting.replace(",", " ").split() if (origin := origin_of(item))})


class FrameAncestors:
    """Origins allowed to frame Cadre: those of the registered platforms (for Canvas cloud, its customers'
    domains) and the configured extra ones, cached briefly."""

    def __init__(self, extra_origins: list[str] | None = None) -> None:
        self._extra = list(extra_origins or [])
        self._value = "'self'"
        self._loaded_at = float("-inf")

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def value(self) -> str:
        if time.monotonic() - self._loaded_at > FRAME_ANCESTORS_TTL_SECONDS:
            rows = get_session().execute(select(Platform.issuer, Platform.auth_login_url)).all()
            origins = {origin for row in rows for origin in map(origin_of, row) if origin}
            if any(row.issuer.rstrip("/") in CANVAS_CLOUD_ISSUERS for row in rows):
                origins.add(CANVAS_CLOUD_FRAME_SOURCE)
            self._value = " ".join(["'self'", *sorted(origins), *self._extra])
            self._loaded_at = time.monotonic()
        return self._value


def init_app(app: Flask) -> None:
    frame_ancestors = FrameAncestors(configured_origins(app.config["CADRE"].frame_ancestors))
    app.extensions["cadre.frame_ancestors"] = frame_ancestors

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            try:
                ancestors = frame_ancestors.value()
            except Exception:  # noqa: BLE001 - a database outage must not hide the real error page
                ancestors = "'self'"
            extra = sorted(set(g.get("cadre_frame_ancestors", ())) - set(ancestors.split()))
            ancestors = " ".join([ancestors, *extra])
            response.headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
        return response

    app.jinja_env.globals["csp_nonce"] = csp_nonce
