"""Cadre's own session after a launch: who is here, in which course, with which role.

A validated launch is a :class:`~lti_tool.models.Launch` row; its id is the **launch token**. Two carriers,
because an LMS iframe may lose cookies:

* the Flask session cookie (``SameSite=None; Secure; Partitioned``) holds the id of the latest launch;
* every page carries the token of *its* launch: form field / query parameter ``lt`` or header
  ``X-Cadre-Launch``. Build links with ``launch_url()`` and forms with the ``launch_fields()`` macro of
  ``_forms.html`` and navigation works with cookies blocked. An explicit token wins over the cookie, so two
  tabs on two launches each keep theirs.

A launch is valid until ``Launch.expires_at`` (``settings.launch_token_minutes`` after the launch).

CSRF: every POST/PUT/PATCH/DELETE outside the LTI endpoints the platform posts (``/lti/login``,
``/lti/launch``, ``/lti/register``) must carry ``csrf_token()`` — an HMAC of the launch id with the
``SECRET_KEY`` — in form field ``csrf_token`` or header ``X-CSRF-Token``; views the platform or a machine
calls can opt out with :func:`csrf_exempt`. Tokens never leave Cadre's origin (``Referrer-Policy:
same-origin``) and never reach the logs (``lt`` and ``csrf_token`` are dropped from logged query keys).

API for views and templates::

    @blueprint.get("/thing")
    @require_launch(CadreRole.MANAGER, CadreRole.DESIGNER)   # no roles: anyone with a launch
    def thing():
        launch = current_launch()                              # never None under require_launch
        return render_template("thing.html")                  # launch_url(), csrf_token(), launch_token()
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lti_tool.db import get_session, utcnow
from lti_tool.lti import errors
from lti_tool.models import CadreRole, Launch
from lti_tool.web import error_page

LAUNCH_TOKEN_FIELD = "lt"  # noqa: S105 - a field name, not a secret
LAUNCH_TOKEN_HEADER = "X-Cadre-Launch"  # noqa: S105
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_KEY = "launch"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
CSRF_EXEMPT_PATHS = frozenset({"/lti/login", "/lti/launch", "/lti/register"})
# Launch ids are ``secrets.token_urlsafe(32)``: anything else is not looked up (a NUL byte or a megabyte of
# garbage must not reach the database, where it would fail the query and land in an error log).
LAUNCH_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")

View = TypeVar("View", bound=Callable[..., Any])

ROLE_LABELS = {
    CadreRole.ADMIN: "an administrator",
    CadreRole.DESIGNER: "a designer",
    CadreRole.MANAGER: "a manager",
    CadreRole.LEARNER: "a learner",
}


def start(launch: Launch) -> None:
    """Make ``launch`` the current one: in the session cookie, and for the rest of this request."""
    session.clear()
    session[SESSION_KEY] = launch.id
    session.permanent = True
    g.cadre_launch = launch


def _token_from_request() -> str | None:
    token = request.headers.get(LAUNCH_TOKEN_HEADER) or request.args.get(LAUNCH_TOKEN_FIELD)
    if not token and request.method in UNSAFE_METHODS and request.mimetype in FORM_MIMETYPES:
        token = request.form.get(LAUNCH_TOKEN_FIELD)
    return token or None


def current_launch() -> Launch | None:
    """The launch this request acts under (explicit token first, then the cookie), if still valid."""
    if "cadre_launch" not in g:
        g.cadre_launch = None
        for token in (_token_from_request(), session.get(SESSION_KEY)):
            if not isinstance(token, str) or not LAUNCH_TOKEN_PATTERN.fullmatch(token):
                continue
            launch = get_session().scalars(
                select(Launch)
                .where(Launch.id == token)
                .options(
                    joinedload(Launch.user), joinedload(Launch.context), joinedload(Launch.resource_link)
                )
            ).first()
            if launch is not None and launch.expires_at > utcnow():
                g.cadre_launch = launch
                break
    return g.cadre_launch


def launch_token() -> str:
    launch = current_launch()
    return launch.id if launch else ""


def csrf_token_for(launch_id: str, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"cadre-csrf:" + launch_id.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    launch = current_launch()
    return csrf_token_for(launch.id, current_app.config["SECRET_KEY"]) if launch else ""


def launch_url(endpoint: str, **values: Any) -> str:
    """``url_for`` plus the launch token, so the link works without cookies."""
    token = launch_token()
    if token:
        values.setdefault(LAUNCH_TOKEN_FIELD, token)
    return url_for(endpoint, **values)


def session_expired() -> Response:
    return error_page(401, "Session expired", errors.SESSION_EXPIRED)


def require_launch(*roles: CadreRole) -> Callable[[View], View]:
    """Only with a valid launch (401 page otherwise) and, when roles are given, one of those roles (403)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            launch = current_launch()
            if launch is None:
                return session_expired()
            if roles and launch.role not in roles:
                allowed = " or ".join(ROLE_LABELS[role] for role in roles)
                message = errors.ROLE_NOT_ALLOWED.format(
                    allowed=allowed, role=ROLE_LABELS.get(CadreRole(launch.role), launch.role)
                )
                return error_page(403, "Not for your role", message)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def csrf_exempt(view: View) -> View:
    """For views a platform or a machine calls with its own credentials (never for a browser form)."""
    view.cadre_csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _csrf_is_exempt() -> bool:
    if request.path in CSRF_EXEMPT_PATHS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return view is None or getattr(view, "cadre_csrf_exempt", False)


def check_csrf() -> Response | None:
    """before_request: refuse unsafe methods without the CSRF token of the current launch."""
    if request.method not in UNSAFE_METHODS or _csrf_is_exempt():
        return None
    launch = current_launch()
    if launch is None:  # no form of a live session can be valid: say the session is what expired
        return session_expired()
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.mimetype in FORM_MIMETYPES:
        sent = request.form.get(CSRF_FIELD)
    expected = csrf_token_for(launch.id, current_app.config["SECRET_KEY"])
    # Compared as bytes: hmac.compare_digest raises TypeError on a str with non-ASCII characters.
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        return error_page(400, "Form expired", errors.CSRF_FAILED)
    return None


def init_app(app: Flask) -> None:
    settings = app.config["CADRE"]
    app.config.update(
        SESSION_COOKIE_NAME="cadre_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_PARTITIONED=True,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.launch_token_minutes),
    )
    app.before_request(check_csrf)
    app.jinja_env.globals.update(
        current_launch=current_launch, launch_token=launch_token, csrf_token=csrf_token,
        launch_url=launch_url,
    )
