"""Manager <-> learner relationships in a course: links from Canvas mentor scopes, the course roster (LTI
Names and Role Provisioning, refreshed by a designer's button and every few hours), roster CSV imports,
the designer's assignments and learners' nominations.

``services`` reads and changes links; ``roster`` fetches and stores the NRPS roster (outbox topic
``roster.refresh``, periodic job ``roster-refresh``); ``roster_csv`` imports and exports links as CSV;
``views`` the pages; ``cli`` the ``cadre roster import`` command.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti_tool.relationships import roster, views  # noqa: F401 - roster registers its job and handler

    app.register_blueprint(views.blueprint)
