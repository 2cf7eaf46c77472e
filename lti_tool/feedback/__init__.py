"""Feedback on learners with an activity's rubric: managers' assessments and learners' self-assessments,
drafts that autosave, append-only revisions, withdrawals, and scores back to the LMS.

``content`` reads what an assessor typed; ``services`` holds the rules (drafts with a revision check,
submission scored by the ``rubrics`` engine, withdrawal, release, acknowledgement); ``grades`` posts
scores through the outbox (topic ``ags.score``); ``views`` the manager's and the learner's pages;
``oversight`` and ``staff_views`` the staff's (every assessment, release, history, grade delivery).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti_tool.feedback import grades, live_total, peer_views, staff_views, views  # noqa: F401 - grades: the handler

    live_total.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(staff_views.blueprint)
    peer_views.init_app(app)
