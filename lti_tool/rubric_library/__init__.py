"""The rubric library: designers keep their course's rubrics, versioned, with import and export.

Persistence and pages on top of the pure rubric engine (:mod:`rubrics`); see ``services`` for the rules
and ``views`` for the pages under ``/rubrics``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti_tool.rubric_library import views

    app.register_blueprint(views.blueprint)
