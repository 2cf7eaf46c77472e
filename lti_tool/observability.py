"""Structured logs: one JSON line per request, with a request id; never tokens or secrets."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from gunicorn import glogging
from werkzeug.serving import WSGIRequestHandler

from lti_tool.settings import Settings

log = logging.getLogger("cadre")
request_log = logging.getLogger("cadre.request")
access_log = logging.getLogger("cadre.access")
"""The servers' own request lines (``cadre demo``); ``cadre serve`` leaves gunicorn's access log off."""

# Form fields and query parameters that carry credentials. Cadre logs no form field and no query value at
# all; these are also left out of the list of query parameter *names* a request line carries.
SECRET_FIELDS = frozenset({
    "id_token", "JWT", "state", "nonce", "lt", "launch", "csrf", "csrf_token", "password",
    "registration_token", "token", "access_token", "client_assertion", "code",
    "invite", "lti_storage_secret", "lti_message_hint", "login_hint", "cadre_tab",
})
# Request lines written by the servers (Werkzeug in `cadre demo`, gunicorn's access log) hold raw query
# strings: the value of any of those names is cut out wherever ``name=value`` appears in a line.
CREDENTIAL_VALUE = re.compile(
    r"(?<![\w.-])(" + "|".join(sorted(map(re.escape, SECRET_FIELDS), key=len, reverse=True)) + r")"
    r"(=|%3D)[^&;#\s\"']*",
    re.IGNORECASE,
)
# Loggers that write Cadre's JSON lines: its own, and Flask's app logger (unhandled exceptions).
APP_LOGGERS = ("cadre", "lti_tool")
THIRD_PARTY_REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


# SQLAlchemy puts a failed statement's bound values in its error messages ("[parameters: ('…',)]"); they
# are launch tokens, states and nonces when the failed query looked one up, so they are cut out.
SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$|\s*\(Background on this error)", re.DOTALL)
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# Paths whose last segments are a credential (an invited manager's e-mailed sign-in link, a reminder's
# signed opt-out link): what follows the prefix is cut out of request lines too.
CREDENTIAL_PATH = re.compile(r"(/invitations/sign-in/|/reminders/opt-out/)[^\s?#\"']+")


def redact(text: str) -> str:
    """``text`` without SQL bound values, without the value of any credential written ``name=value``, and
    without the credential in a sign-in or opt-out link's path."""
    text = SQL_PARAMETERS.sub("[parameters: (redacted)]", text)
    text = CREDENTIAL_PATH.sub(lambda match: f"{match.group(1)}[redacted]", text)
    return CREDENTIAL_VALUE.sub(lambda match: f"{match.group(1)}{match.group(2)}[redacted]", text)


class RedactingFilter(logging.Filter):
    """For loggers Cadre does not format itself (``werkzeug``, ``gunicorn.access``, ``gunicorn.error``):
    the record's message, formatted, then redacted, whatever handler writes it afterwards."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RedactingRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server (``cadre demo``), logging each request through ``cadre.access``
    (Cadre's formatter: one line, JSON or text, redacted) instead of raw lines on the ``werkzeug`` logger."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        line = getattr(self, "requestline", "")
        access_log.info(
            '%s "%s" %s %s', self.address_string(), line, code, size,
            extra={"fields": {"client": self.address_string(), "request": redact(line),
                              "status": str(code), "size": str(size)}},
        )

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - Werkzeug's name
        access_log.log(logging.ERROR if type == "error" else logging.INFO, "%s %s",
                       self.address_string(), message % args if args else message)


class GunicornLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """Gunicorn's logger with credentials cut out of its access and error lines (request lines, headers,
    query strings), for ``access_log_format`` atoms such as ``%(r)s``, ``%(q)s`` and ``%({referer}i)s``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
                logger.addFilter(RedactingFilter())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        extra = getattr(record, "fields", None)
        if extra:  # redacted too: a path, a request line or an error's text can hold a credential
            entry.update({name: redact(value) if isinstance(value, str) else value
                          for name, value in extra.items()})
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``CADRE_LOG_JSON=false``: one line per record whatever a request path holds (``%0a`` decodes to a
    newline, which would forge a log line), and the same redaction as the JSON lines."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        message = super().formatMessage(record)
        return CONTROL_CHARACTERS.sub(lambda match: repr(match.group())[1:-1], redact(message))

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


class RequestIdFilter(logging.Filter):
    """Adds the request id to every line logged while a request is handled, so lines can be grouped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            fields = dict(getattr(record, "fields", None) or {})
            fields.setdefault("request_id", current_request_id())
            record.fields = fields
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if settings.log_json else TextFormatter()
    )
    handler.addFilter(RequestIdFilter())
    for name in APP_LOGGERS:
        logger = logging.getLogger(name)
        if getattr(logger, "_cadre_configured", False):
            continue
        logger.addHandler(handler)
        logger.setLevel(settings.log_level.upper())
        logger.propagate = False
        logger._cadre_configured = True  # type: ignore[attr-defined]
    # Other servers' loggers keep their own handlers, but lose credentials before any of them writes.
    for name in THIRD_PARTY_REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())


def current_request_id() -> str:
    return g.get("request_id", "-")


def init_app(app: Flask, settings: Settings) -> None:
    configure_logging(settings)

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        # ASCII letters, digits and dashes only (str.isalnum would let any Unicode letter through).
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-Id"] = current_request_id()
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        # A view whose path holds a credential (an e-mailed sign-in link) names the path to log instead.
        # Any other sign-in or opt-out path (a 404 of one with a slash more, say) loses its credential.
        path = g.get("cadre_log_path") or redact(request.path)
        request_log.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "fields": {
                    "request_id": current_request_id(),
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "ms": round(elapsed_ms, 1),
                    "query": sorted(k for k in request.args if k not in SECRET_FIELDS),
                }
            },
        )
        return response
