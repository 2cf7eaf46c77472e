"""Cadre as the launch benchmark serves it: the real app, plus a bare route and a Server-Timing header.

``create_app()`` is Cadre's own factory (settings from the ``CADRE_`` environment) with what exists only
here, never in a deployment: ``GET /bench/noop``, the trivial route a launch is compared with (an empty
``text/plain`` answer through Cadre's request hooks: request id, log line, unit of work; what HTML pages
add, such as the CSP and its frame-ancestors stamp, counts in the launch's pages, not in the bare GET),
and :mod:`.server_timing`'s header with the statements and the commit of each request.
"""

from __future__ import annotations

import cProfile
import os
from collections.abc import Callable, Iterable
from typing import Any

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
    if os.environ.get("BENCH_PROFILE"):
        profile_requests(app, os.environ["BENCH_PROFILE"])
    return app


WARMUP_REQUESTS = 200


def profile_requests(app: Flask, directory: str) -> None:
    """``BENCH_PROFILE=dir``: every request of this worker under cProfile, one profile per route (method and
    first two path segments), written to ``dir/<pid>-<route>.prof`` every 100 requests after the first
    200 (read with ``python -m pstats``). For finding where time goes, never in a figure."""
    profilers: dict[str, cProfile.Profile] = {}
    wsgi_app = app.wsgi_app
    served = 0

    def profiled(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        nonlocal served
        segments = [part for part in environ.get("PATH_INFO", "/").split("/") if part][:2]
        route = "-".join([environ.get("REQUEST_METHOD", "GET"), *segments]).replace(".", "_")
        profiler = profilers.setdefault(route, cProfile.Profile())
        profiler.enable()
        try:
            return list(wsgi_app(environ, start_response))
        finally:
            profiler.disable()
            served += 1
            if served == WARMUP_REQUESTS:
                for each in profilers.values():
                    each.clear()
            if served % 100 == 0:
                for name, each in profilers.items():
                    each.dump_stats(os.path.join(directory, f"{os.getpid()}-{name}.prof"))

    app.wsgi_app = profiled  # type: ignore[method-assign]
