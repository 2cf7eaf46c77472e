"""Response headers for pages that live in an LMS iframe.

Every response: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (pages carry the
launch token in their links, which must not reach another site). HTML responses also carry a
Content-Security-Policy: framing by the registered platforms only (plus what a view allows with
:func:`allow_frame_ancestor`); scripts from Cadre's origin or inline
with this response's nonce (``<script nonce="{{ csp_nonce() }}">``); forms posting to Cadre only, plus the
origins a view allows with :func:`allow_form_action` (the deep-linking return URL).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from itertools import chain

from flask import Flask, Response, g
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lti_tool import cache_versions
from lti_tool.db import get_session
from lti_tool.models import Platform

log = logging.getLogger("cadre.security")

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


# What may precede the path of a URL whose origin goes into a policy: a scheme and an authority made of a
# host and an optional port. Userinfo (``user@``), brackets (IPv6: CSP's host-source grammar has none), a
# backslash (browsers read it as ``/``), percent-escapes and every non-ASCII character are simply not in the
# class, so such URLs are refused rather than cut down to something else.
_SCHEME_AND_AUTHORITY = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?(?=[/?#]|$)", re.IGNORECASE
)
# One DNS label as CSP's host-char allows it (letters, digits, hyphens), not starting or ending with a hyphen.
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
DEFAULT_PORTS = {"http": 80, "https": 443}
HOST_MAX = 253


def _host(host: str) -> str | None:
    """``host`` lowercased if it is a DNS name or a dotted-quad IPv4 address a browser would read the same
    way; None for anything else."""
    host = host.lower()
    if len(host) > HOST_MAX:
        return None
    labels = host.split(".")
    if not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return None  # an empty label (``a..b``, a trailing dot), ``_``, a leading or trailing hyphen
    if labels[-1].isdigit():
        # Browsers read a host ending in a number as IPv4 (``127.1``, ``0x7f.1``, ``2130706433``): only the
        # canonical dotted quad means the same in Cadre's policy and in the browser.
        try:
            return host if str(ipaddress.IPv4Address(host)) == host else None
        except ValueError:
            return None
    for label in labels:
        if label.startswith("xn--"):
            # An IDN label must decode to printable non-ASCII text that encodes back to the same label;
            # anything else is no host a browser would show or match as this one.
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return None
            if (
                decoded.isascii()
                or not decoded.isprintable()
                or decoded.encode("punycode") != label[4:].encode()
            ):
                return None
    return host


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, fit to be a CSP source; None for anything that is
    not plainly one (wildcards, userinfo, IPv6 literals, ports out of range, non-ASCII hosts, whitespace or
    control characters anywhere). The path, query and fragment are not part of an origin and are dropped; a
    default port is dropped too, so equal origins are written alike."""
    if not isinstance(url, str) or any(char.isspace() or not char.isprintable() for char in url):
        return None  # browsers drop tabs and newlines inside URLs: "ev\til.com" would become another host
    match = _SCHEME_AND_AUTHORITY.match(url)
    if match is None:
        return None
    scheme = match["scheme"].lower()
    host = _host(match["host"])
    if host is None:
        return None
    if match["port"] is None:
        return f"{scheme}://{host}"
    port = int(match["port"])
    if not 1 <= port <= 65535:
        return None
    return f"{scheme}://{host}" if port == DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


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
    """The origins in ``CADRE_FRAME_ANCESTORS`` (spaces or commas between them); malformed ones are dropped
    with a warning naming them, so a typo does not silently keep the LMS out."""
    origins = set()
    for item in setting.replace(",", " ").split():
        origin = origin_of(item)
        if origin is None:
            log.warning(
                "CADRE_FRAME_ANCESTORS: %r is not an http(s) origin such as https://lms.example.edu; ignored",
                item,
            )
        else:
            origins.add(origin)
    return sorted(origins)


class FrameAncestors:
    """Origins allowed to frame Cadre: those of the registered platforms (for Canvas cloud, its customers'
    domains) and the configured extra ones.

    Kept per process, next to the ``platform_origins`` stamp it was read at; each use compares that stamp
    with the database's (one primary-key read) and reloads when another process changed the platforms, so
    every gunicorn worker frames a platform from the moment its registration is committed.
    """

    def __init__(self, extra_origins: list[str] | None = None) -> None:
        self._extra = list(extra_origins or [])
        # (stamp, value) in one tuple, replaced whole: threads of a worker never see one without the other.
        self._cached: tuple[str | None, str] | None = None

    def invalidate(self) -> None:
        self._cached = None

    def last_known(self) -> str:
        """What this process last read, for when the database cannot be asked; ``'self'`` before that."""
        cached = self._cached
        return cached[1] if cached is not None else "'self'"

    def value(self, session: Session, *, check: bool = True) -> str:
        """The frame-ancestors sources; ``check=False`` reuses the cached value without a query."""
        cached = self._cached
        if cached is not None and not check:
            return cached[1]
        # Through the session's connection, not the ORM: no autoflush (a page's headers must never flush,
        # or fail on, what its view left pending) and less work per statement; the stamp is often read
        # already, with the request's launch (cache_versions.current_in). The stamp is read before
        # the platforms: a change committed between the two reads is then loaded under the older stamp,
        # and loaded again on the next request, never missed.
        version = cache_versions.current_in(session, cache_versions.PLATFORM_ORIGINS)
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = session.connection().execute(select(Platform.issuer, Platform.auth_login_url)).all()
        origins = {origin for row in rows for origin in map(origin_of, row) if origin}
        if any(row.issuer.rstrip("/") in CANVAS_CLOUD_ISSUERS for row in rows):
            origins.add(CANVAS_CLOUD_FRAME_SOURCE)
        value = " ".join(["'self'", *sorted(origins), *self._extra])
        self._cached = (version, value)
        return value


ORIGIN_COLUMNS = ("issuer", "auth_login_url")
"""The platform columns frame-ancestors is built from; changing another (e.g. the cached key set on a
JWKS refresh) leaves every worker's cache as it is."""


@event.listens_for(Session, "after_flush")
def _stamp_changed_platform_origins(session: Session, _flush_context: object) -> None:
    """Whatever adds, removes or re-points a platform (CLI, dynamic registration, a test) stamps
    ``platform_origins`` in the same transaction, so no writer has to remember to tell the workers."""
    if any(isinstance(obj, Platform) for obj in chain(session.new, session.deleted)) or any(
        isinstance(obj, Platform)
        and any(inspect(obj).attrs[name].history.has_changes() for name in ORIGIN_COLUMNS)
        for obj in session.dirty
    ):
        cache_versions.stamp(session.connection(), cache_versions.PLATFORM_ORIGINS)


def init_app(app: Flask) -> None:
    frame_ancestors = FrameAncestors(configured_origins(app.config["CADRE"].frame_ancestors))
    app.extensions["cadre.frame_ancestors"] = frame_ancestors

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            try:
                # Browsers check frame-ancestors on the page a navigation ends at, not on the redirects
                # before it (HTML's navigate algorithm; Chromium: crbug.com/835465), so a redirect (the
                # login's and the launch's) reuses what this process knows and costs no query.
                redirect = 300 <= response.status_code < 400
                ancestors = frame_ancestors.value(get_session(), check=not redirect)
            except SQLAlchemyError:
                # A database outage must not hide the real error page; PostgreSQL also refuses every
                # statement after a view's failed one until the rollback.
                ancestors = frame_ancestors.last_known()
            extra = sorted(set(g.get("cadre_frame_ancestors", ())) - set(ancestors.split()))
            ancestors = " ".join([ancestors, *extra])
            response.headers.setdefault("Content-Security-Policy", content_security_policy(ancestors))
        return response

    app.jinja_env.globals["csp_nonce"] = csp_nonce
