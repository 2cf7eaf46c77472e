"""Cadre's own session after a launch: who is here, in which course, with which role.

A validated launch is a :class:`~lti_tool.models.Launch` row; its id is the **launch token**. It never
travels in a URL a server, a proxy or a Referer sees. Carriers, because an LMS iframe may lose cookies:

* the Flask session cookie (``SameSite=None; Secure; Partitioned``) holds the id of the latest launch and
  a random **browser secret**, made at the browser's first launch and kept by later ones; each launch
  row keeps the secret's hash (``Launch.browser_hash``);
* forms carry the token of *their* launch in the hidden field ``lt`` (POST bodies: ``launch_fields()`` of
  ``_forms.html``); scripts send it in the header ``X-Cadre-Launch``. Links carry nothing
  (``launch_url`` is ``url_for``);
* after the launch, the redirect goes to ``/home#lt=TOKEN``: the fragment never reaches a server.
  ``static/cadre-launch.js`` keeps it in this tab's ``sessionStorage`` and, when a page comes back
  without this tab's launch (cookie refused, or another tab launched since), fetches it again with
  ``X-Cadre-Launch`` and replaces the document.

**Binding**: a token that arrives with the Cadre cookie of another browser secret is refused (403, nothing
stored, the cookie's session left as it was): ``/home`` with someone else's token cannot make a victim's
browser act as someone else. Without any Cadre cookie (third-party cookies refused), a token is accepted
from the header (a cross-site page cannot set it: CORS preflight, which Cadre never grants) or from a
form posted from Cadre's own origin (``check_csrf`` refuses a foreign ``Origin``); see docs/security.md.

A launch is valid until ``Launch.expires_at`` (``settings.launch_token_minutes`` after the launch), and so
is the session cookie (``PERMANENT_SESSION_LIFETIME``): a Cadre session lasts as long as its launch.
Responses of a request with a launch carry ``Cache-Control: no-store`` (they hold the launch and CSRF
tokens).

CSRF: every POST/PUT/PATCH/DELETE outside the LTI endpoints the platform posts (``/lti/login``,
``/lti/launch``, ``/lti/register``) must carry ``csrf_token()`` — an HMAC of the launch id with the
``SECRET_KEY`` — in form field ``csrf_token`` or header ``X-CSRF-Token``; views the platform or a machine
calls can opt out with :func:`csrf_exempt`. A request whose ``Origin`` is not Cadre's is refused before
any token is read. Tokens never leave Cadre's origin (``Referrer-Policy: same-origin``) and never reach the
logs (``lt`` and ``csrf_token`` are redacted from every log line).

API for views and templates::

    @blueprint.get("/thing")
    @permission(may_do_the_thing)                              # lti_tool.permissions decides who
    def thing():
        launch = current_launch()                              # never None under @permission
        return render_template("thing.html")                  # launch_url(), csrf_token(), launch_token()
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import RequestRedirect

from lti_tool import cache_versions
from lti_tool.db import get_session, utcnow
from lti_tool.lti import errors
from lti_tool.models import Launch, ResourceLink
from lti_tool.web import error_page

log = logging.getLogger("cadre.session")

LAUNCH_TOKEN_FIELD = "lt"  # noqa: S105 - a field name, not a secret
BROWSER_KEY = "browser"
BROWSER_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
FOREIGN_LAUNCH_TITLE = "Not your Cadre session"
FOREIGN_LAUNCH = (
    "This page came with the Cadre session of another person or another browser, so Cadre refused it and "
    "kept yours as it was. Open the activity again from your course."
)
FOREIGN_ORIGIN = (
    "This form was sent from another website, so Cadre refused it and changed nothing. "
    "Use the forms on Cadre's own pages."
)
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



def browser_hash(secret: str) -> str:
    return hashlib.sha256(b"cadre-browser:" + secret.encode()).hexdigest()


def _browser_secret() -> str | None:
    """The browser secret of the Cadre cookie this request came with, if any."""
    secret = session.get(BROWSER_KEY)
    return secret if isinstance(secret, str) and BROWSER_SECRET_PATTERN.fullmatch(secret) else None


def start(launch: Launch) -> None:
    """Make ``launch`` the current one: in the session cookie, and for the rest of this request; bind it to
    this browser (the secret of its cookie, kept from an earlier launch, so its other tabs stay valid)."""
    secret = _browser_secret() or secrets.token_urlsafe(32)
    session.clear()
    session[SESSION_KEY] = launch.id
    session[BROWSER_KEY] = secret
    session.permanent = True
    launch.browser_hash = browser_hash(secret)
    g.cadre_launch = launch


def _token_from_request() -> str | None:
    """The launch token the request names explicitly: header, or the form field of a posted form (never
    the query string: a URL reaches logs, proxies and Referer headers)."""
    token = request.headers.get(LAUNCH_TOKEN_HEADER)
    if not token and request.method in UNSAFE_METHODS and request.mimetype in FORM_MIMETYPES:
        token = request.form.get(LAUNCH_TOKEN_FIELD)
    return token or None


@functools.cache
def _launch_lookup() -> Select[tuple[Launch, str | None]]:
    """A launch with what its pages read: the person, the course, the resource link and its activity, and
    the ``platform_origins`` stamp every framed page's headers compare (lti_tool.security): one statement."""
    return (
        select(Launch, cache_versions.current_column(cache_versions.PLATFORM_ORIGINS))
        .where(Launch.id == bindparam("token"))
        .options(joinedload(Launch.user), joinedload(Launch.context),
                 joinedload(Launch.resource_link).joinedload(ResourceLink.activity))
    )


def _live_launch(token: object) -> Launch | None:
    if not isinstance(token, str) or not LAUNCH_TOKEN_PATTERN.fullmatch(token):
        return None
    db = get_session()
    row = db.execute(_launch_lookup(), {"token": token}).first()
    if row is None:
        return None
    launch, stamp = row
    cache_versions.remember(db, cache_versions.PLATFORM_ORIGINS, stamp)
    return launch if launch.expires_at > utcnow() else None


def _bound_to(launch: Launch, secret: str) -> bool:
    return launch.browser_hash is not None and hmac.compare_digest(launch.browser_hash, browser_hash(secret))


def _launch_of_request() -> Launch | None:
    secret = _browser_secret()
    explicit = _token_from_request()
    if explicit is not None:
        launch = _live_launch(explicit)
        if launch is None or secret is None or _bound_to(launch, secret):
            return launch  # no Cadre cookie at all: see the module docstring for why this is safe
        g.cadre_foreign_launch = True
        log.warning("launch token of another browser refused",
                    extra={"fields": {"launch_user_id": launch.user_id, "path": request.path}})
        return None
    launch = _live_launch(session.get(SESSION_KEY))
    return launch if launch is not None and secret is not None and _bound_to(launch, secret) else None


def current_launch() -> Launch | None:
    """The launch this request acts under (explicit token first, then the cookie), if valid and bound."""
    if "cadre_launch" not in g:
        g.cadre_launch = _launch_of_request()
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
    """A link within the launch: ``url_for``, without the token (the cookie or Cadre's script carries it)."""
    return url_for(endpoint, **values)


def landing_url(endpoint: str, launch: Launch) -> str:
    """Where a launch goes on: the page, with the token in the fragment for this tab's script only."""
    return f"{url_for(endpoint)}#{LAUNCH_TOKEN_FIELD}={launch.id}"


def session_expired() -> Response:
    return error_page(401, "Session expired", errors.SESSION_EXPIRED)


def launch_was_presented() -> bool:
    """Whether this request carried a launch token or a Cadre session cookie at all (valid or not)."""
    return bool(_token_from_request() or session.get(SESSION_KEY))


def no_launch_page() -> Response:
    """A page that needs a launch, requested without a valid one: "expired" only if there was one.

    The page tells Cadre's script (``cadre-no-launch``) that this tab may hold a launch token to retry with.
    """
    g.cadre_no_launch = True
    if g.get("cadre_foreign_launch"):
        return error_page(403, FOREIGN_LAUNCH_TITLE, FOREIGN_LAUNCH)
    if launch_was_presented():
        return session_expired()
    return error_page(401, "Open Cadre from your course", errors.NO_LAUNCH)


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
    origin = request.headers.get("Origin")
    if origin is not None and origin != _public_origin():
        return error_page(403, "Form from another site", FOREIGN_ORIGIN)
    launch = current_launch()
    if launch is None:  # no form can be valid without a live session
        return no_launch_page()
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.mimetype in FORM_MIMETYPES:
        sent = request.form.get(CSRF_FIELD)
    expected = csrf_token_for(launch.id, current_app.config["SECRET_KEY"])
    # Compared as bytes: hmac.compare_digest raises TypeError on a str with non-ASCII characters.
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        return error_page(400, "Form expired", errors.CSRF_FAILED)
    return None


def refuse_nul_characters() -> Response | None:
    """before_request (after :func:`check_csrf`): a form posting a NUL character in a name or a value is
    refused, whichever view it is for. No text can hold one (PostgreSQL refuses it in ``text``, and a
    feature's checks would each have to know); files are not form fields and are checked as files."""
    if request.method not in UNSAFE_METHODS or request.mimetype not in FORM_MIMETYPES:
        return None
    for name, values in request.form.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return error_page(400, "Text Cadre cannot store", errors.NUL_IN_FORM)
    return None


def _public_origin() -> str:
    parts = urlsplit(current_app.config["CADRE"].public_url)
    return f"{parts.scheme}://{parts.netloc}"


def relative_routing_redirect() -> Response | None:
    """before_request: Werkzeug answers ``/rubrics`` with a redirect to ``http://<Host header>/rubrics/``;
    a spoofed Host would send the browser elsewhere. The same redirect, relative to Cadre's own origin."""
    error = request.routing_exception
    if not isinstance(error, RequestRedirect):
        return None
    parts = urlsplit(error.new_url)
    location = "/" + parts.path.lstrip("/")  # never "//host": that is another origin
    return redirect(location + (f"?{parts.query}" if parts.query else ""), code=error.code)


def forbid_storing_tokens(response: Response) -> Response:
    """after_request: a response made under a launch holds its launch and CSRF tokens (or, after the
    launch, their fragment): no browser or proxy cache may keep it."""
    if g.get("cadre_launch") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


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
    app.before_request(relative_routing_redirect)
    app.before_request(check_csrf)
    app.before_request(refuse_nul_characters)
    app.after_request(forbid_storing_tokens)
    app.jinja_env.globals.update(
        current_launch=current_launch, launch_token=launch_token, csrf_token=csrf_token,
        launch_url=launch_url,
    )
