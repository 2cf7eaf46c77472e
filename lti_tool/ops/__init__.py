"""Operations: health check, migration guard, registration configuration for platforms."""

from __future__ import annotations

from flask import Flask

from lti_tool.ops import migration_guard, views


def init_app(app: Flask) -> None:
    migration_guard.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(views.lti_setup_blueprint)
