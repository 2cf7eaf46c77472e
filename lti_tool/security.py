"""Response headers for pages that live in an LMS iframe."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, Response
from sqlalchemy import select

from lti_tool.db import get_session
from lti_tool.models import Platform

FRAME_ANCESTORS_TTL_SECONDS = 30.0


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}"


class FrameAncestors:
    """Origins allowed to frame Cadre: those of the registered platforms, cached briefly."""

    def __init__(self) -> None:
        self._value = "'self'"
        self._loaded_at = float("-inf")

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def value(self) -> str:
        if time.monotonic() - self._loaded_at > FRAME_ANCESTORS_TTL_SECONDS:
            rows = get_session().execute(select(Platform.issuer, Platform.auth_login_url)).all()
            origins = {origin for row in rows for origin in map(origin_of, row) if origin}
            self._value = " ".join(["'self'", *sorted(origins)])
            self._loaded_at = time.monotonic()
        return self._value


def init_app(app: Flask) -> None:
    frame_ancestors = FrameAncestors()
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
            response.headers.setdefault(
                "Content-Security-Policy",
                f"frame-ancestors {ancestors}; default-src 'self'; img-src 'self' data:; "
                "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; form-action *",
            )
        return response
