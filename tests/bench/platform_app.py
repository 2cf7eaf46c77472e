"""The LTI platform of the launch benchmark: Cadre's demo platform, plus two routes for the benchmark.

Served by gunicorn with **one** worker (the platform keeps pending launches in memory), configured by
``BENCH_PLATFORM`` (JSON: ``url``, ``key`` (private JWK), ``registrations``: ``client_id``,
``deployment_id``, ``tool_url``). ``GET /bench/prepare?client_id=…&user=…`` makes a launch pending and
answers the login initiation the platform would post (``{"url": …, "fields": {…}}``): the benchmark calls
it before each timed launch, as a user's click on the course page. The grades benchmark asks ``POST
/bench/token`` for a score token (its bare baseline) and ``GET /bench/scores`` for the scores received.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request

from lti_tool.demo.app import SCOPE_SCORE, create_platform_app
from lti_tool.demo.platform import AccessToken, LtiPlatform, PlatformKey, ToolEndpoints


@dataclass(frozen=True)
class ToolRegistrationConfig:
    client_id: str
    deployment_id: str
    tool_url: str


def platform_config(url: str, key: PlatformKey, registrations: list[ToolRegistrationConfig]) -> str:
    """The ``BENCH_PLATFORM`` value for these settings."""
    return json.dumps({
        "url": url, "key": key.to_json(),
        "registrations": [vars(registration) for registration in registrations],
    })


def build_platform(config: dict[str, Any]) -> LtiPlatform:
    """The platform the config describes (the benchmark builds the same one to register it in Cadre)."""
    first, *others = [ToolRegistrationConfig(**item) for item in config["registrations"]]
    platform = LtiPlatform(
        config["url"], client_id=first.client_id, deployment_id=first.deployment_id,
        tool=ToolEndpoints(first.tool_url), key=PlatformKey.from_json(config["key"]),
    )
    for registration in others:
        platform.add_registration(registration.client_id, registration.deployment_id,
                                  ToolEndpoints(registration.tool_url))
    return platform


def create_app() -> Flask:
    platform = build_platform(json.loads(os.environ["BENCH_PLATFORM"]))
    app = create_platform_app(platform, with_course_pages=False)

    @app.get("/bench/prepare")
    def prepare() -> Any:
        launch = platform.prepare_launch(request.args["user"], client_id=request.args["client_id"])
        url, fields = platform.login_initiation(launch)
        return jsonify(url=url, fields=fields)

    @app.post("/bench/token")
    def bench_token() -> Any:
        """A score token for ``client_id`` without the client_credentials assertion: the bare baseline of the
        grades benchmark posts scores with it, as the tool would with the token it asked for."""
        issued = AccessToken(token=secrets.token_urlsafe(24), client_id=request.form["client_id"],
                             scopes=(SCOPE_SCORE,), expires_at=time.time() + 3600)
        with platform._lock:
            platform._access_tokens[issued.token] = issued
        return jsonify(access_token=issued.token, token_type="Bearer", expires_in=3600)

    @app.get("/bench/scores")
    def bench_scores() -> Any:
        """Every score the platform received, in order (what its gradebook page shows)."""
        return jsonify(platform.scores)

    @app.get("/bench/noop")
    def noop() -> Response:
        return Response("", mimetype="text/plain")  # plain: no page hooks (CSP, frame-ancestors stamp)

    return app
