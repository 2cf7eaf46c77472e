"""Activities designers place in a course, configured per kind, and the work products learners submit.

``services`` holds the rules of activities (deep-link creation, binding to the platform's resource link,
settings, the pinned rubric version), ``views`` the designer's pages under ``/activities``;
``work_products`` (with ``uploads`` for the files) and ``work_product_views`` the learner's submissions.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # line_items and work_products register their outbox handler and job on import
    from lti_tool.deliverables import line_items, views, work_product_views  # noqa: F401

    app.register_blueprint(views.blueprint)
    app.register_blueprint(work_product_views.blueprint)
