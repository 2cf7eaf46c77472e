"""Refuse to serve on a database that lacks migrations, and say which command fixes it.

A request against an old schema fails deep inside a view with an SQL error; answering 503 with the command
to run is kinder to the administrator and to the platform showing the iframe.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, Response, request

from lti_tool.db import get_engine
from lti_tool.migrate import PENDING_MIGRATIONS_MESSAGE, pending_revisions

log = logging.getLogger("cadre.migrations")

# While migrations are pending, look again this often, so `cadre db upgrade` heals a running server.
RECHECK_SECONDS = 5.0
EXEMPT_PATHS = frozenset({"/healthz"})


class MigrationGuard:
    """Knows whether the schema is at head; once it is, the answer is kept for the life of the process."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._up_to_date = False
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def pending(self) -> bool:
        if self._up_to_date:
            return False
        with self._lock:
            if not self._up_to_date and time.monotonic() - self._checked_at >= RECHECK_SECONDS:
                self._up_to_date = not pending_revisions(get_engine(self._app))
                self._checked_at = time.monotonic()
        return not self._up_to_date


def report_pending_migrations(app: Flask) -> list[str]:
    """Log (and return) the pending revisions; for `cadre serve`, `cadre demo` and other startups."""
    pending = pending_revisions(get_engine(app))
    if pending:
        log.warning(PENDING_MIGRATIONS_MESSAGE, extra={"fields": {"pending_migrations": pending}})
    return pending


def init_app(app: Flask) -> None:
    guard = MigrationGuard(app)
    app.extensions["cadre.migration_guard"] = guard

    @app.before_request
    def _refuse_when_migrations_pending() -> Response | None:
        if request.path in EXEMPT_PATHS:
            return None
        try:
            pending = guard.pending()
        except Exception:  # noqa: BLE001 - an unreachable database is reported by the view that needs it
            log.exception("could not check for pending migrations")
            return None
        if pending:
            return Response(
                PENDING_MIGRATIONS_MESSAGE + "\n",
                status=503,
                mimetype="text/plain",
                headers={"Retry-After": "30"},
            )
        return None
