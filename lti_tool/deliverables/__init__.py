"""Activities designers place in a course, configured per kind; later, the work products learners submit.

``services`` holds the rules (deep-link creation, binding to the platform's resource link, settings, the
pinned rubric version); ``views`` the designer's pages under ``/activities``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti_tool.deliverables import line_items, views  # noqa: F401 - line_items registers its handler

    app.register_blueprint(views.blueprint)
