"""Cadre as the launch benchmark serves it: the real app, plus a bare route and a Server-Timing header.

``create_app()`` is Cadre's own factory (settings from the ``CADRE_`` environment) with what exists only
here, never in a deployment: ``GET /bench/noop``, the trivial route a launch is compared with (an empty
``text/plain`` answer through Cadre's request hooks: request id, log line, unit of work; what HTML pages
add, such as the CSP and its frame-ancestors stamp, counts in the launch's pages, not in the bare GET),
and :mod:`.server_timing`'s header with the statements and the commit of each request.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template_string

from lti_tool import create_app as create_cadre_app
from lti_tool.db import get_engine
from lti_tool.permissions import has_launched, permission
from tests.bench.server_timing import add_server_timing, count_sql

BARE_PAGE_PATH = "/bench/page"
BARE_POST_PATH = "/bench/post"
BARE_PAGE = ('{% extends "base.html" %}{% block title %}Bare page{% endblock %}'
             '{% block content %}<section class="panel"><h1>Bare page</h1></section>{% endblock %}')


def create_app() -> Flask:
    app = create_cadre_app()

    @app.get("/bench/noop")
    def noop() -> Response:
        return Response("", mimetype="text/plain")  # plain: no page hooks (CSP, frame-ancestors stamp)

    @app.get(BARE_PAGE_PATH)
    @permission(has_launched)
    def bare_page() -> str:
        return render_template_string(BARE_PAGE)

    @app.post(BARE_POST_PATH)
    @permission(has_launched)
    def bare_post() -> Response:
        return jsonify(saved=True)

    count_sql(get_engine(app), app.extensions["cadre.sessionmaker"])
    add_server_timing(app)
    return app
