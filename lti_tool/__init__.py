"""Cadre: the Flask application."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from lti_tool.settings import Settings, instance_dir


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__, instance_path=str(instance_dir()))
    app.config["CADRE"] = settings
    app.config["SECRET_KEY"] = settings.secret_key.get_secret_value() or _instance_secret(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024
    app.config["TEMPLATES_AUTO_RELOAD"] = False

    from lti_tool import db, observability, permissions, security

    observability.init_app(app, settings)
    db.init_app(app, settings.database_url)
    security.init_app(app)
    permissions.init_app(app)

    from lti_tool import deliverables, feedback, invitations, mail, ops, relationships, rubric_library
    from lti_tool.lti import views as lti_views
    from lti_tool.web import error_handlers, favicon

    error_handlers.init_app(app)
    favicon.init_app(app)
    ops.init_app(app)
    lti_views.init_app(app)
    rubric_library.init_app(app)
    deliverables.init_app(app)
    feedback.init_app(app)
    relationships.init_app(app)
    mail.init_app(app)
    invitations.init_app(app)
    from lti_tool import programme
    programme.init_app(app)  # the manager insight survey and six-month follow-ups
    from lti_tool.records import api as records_api
    records_api.init_app(app)  # the xAPI statement resource (API tokens) and the records admin pages
    from lti_tool.records import profile as records_profile
    records_profile.init_app(app)  # GET /xapi/profile, the xAPI Profile document
    from lti_tool.records import alerts as records_alerts
    records_alerts.init_app(app)  # the LRS delivery alerts job and its e-mail
    from lti_tool.tracking import views as tracking_views
    tracking_views.init_app(app)  # the staff dashboards of a course and of an activity, cadre tracking seed
    from lti_tool.tracking import refresher_views
    refresher_views.init_app(app)  # spaced refreshers: the designers', learners' and managers' pages, the job
    return app


def _instance_secret(app: Flask) -> str:
    """A secret made once and kept in instance/, so the demo runs with nothing configured.

    Several workers may start at once: the secret is written whole to a file of this process's own and
    linked into place, which succeeds for exactly one of them; every process then reads the one that won.
    """
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process linked its secret first: use that one
        finally:
            candidate.unlink(missing_ok=True)
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it, or set CADRE_SECRET_KEY")
    return secret
