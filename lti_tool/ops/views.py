from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from lti_tool.db import get_engine, get_session
from lti_tool.migrate import pending_revisions

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    try:
        get_session().execute(text("SELECT 1"))
        pending = pending_revisions(get_engine())
    except Exception as error:  # noqa: BLE001 - report any database failure as unhealthy
        return jsonify(status="error", database="unreachable", error=type(error).__name__), 503
    if pending:
        return jsonify(status="error", database="ok", pending_migrations=pending,
                       hint="run `cadre db upgrade`"), 503
    return jsonify(status="ok", database="ok", pending_migrations=[])
