"""Operations: health check, migration guard, registration configuration for platforms."""

from __future__ import annotations

from flask import Flask

from lti_tool.ops import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
