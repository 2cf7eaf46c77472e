"""A stock pylti1p3next Flask tool, the yardstick of the launch benchmark.

What a tool written from the library's own example does, at its lightest: one ``ToolConfDict`` built at
start, login state and nonce in the Flask session cookie, ``FlaskOIDCLogin`` + ``FlaskMessageLaunch``,
nothing stored, the launch answering the page itself (no redirect after the POST). The platform's key
set is given in the configuration (``key_set``), so no launch fetches it: the stock tool's best case, as
Cadre reads the key set it keeps in its database.

Configured by ``BENCH_STOCK`` (JSON: ``issuer``, ``client_id``, ``deployment_id``, ``auth_login_url``,
``auth_token_url``, ``key_set``, ``url``); served by gunicorn (``tests.bench.stock_tool:create_app()``).
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, render_template_string
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict

from tests.bench.server_timing import add_server_timing

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stock tool</title></head>
<body><h1>Hello {{ name }}</h1><p>{{ course }}</p><p>{{ roles|length }} roles</p></body></html>"""


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def tool_conf(config: dict[str, Any]) -> ToolConfDict:
    conf = ToolConfDict({
        config["issuer"]: [{
            "default": True,
            "client_id": config["client_id"],
            "auth_login_url": config["auth_login_url"],
            "auth_token_url": config["auth_token_url"],
            "key_set_url": None,
            "key_set": config["key_set"],
            "deployment_ids": [config["deployment_id"]],
        }],
    })
    conf.set_private_key(config["issuer"], _private_key_pem(), client_id=config["client_id"])
    return conf


def create_app() -> Flask:
    config = json.loads(os.environ["BENCH_STOCK"])
    conf = tool_conf(config)
    launch_url = config["url"] + "/lti/launch"
    app = Flask("stock_tool")
    app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    app.config["SESSION_COOKIE_NAME"] = "stock_session"  # cookies ignore ports: never Cadre's name

    @app.route("/lti/login", methods=["GET", "POST"])
    def login() -> Any:
        return FlaskOIDCLogin(FlaskRequest(), conf).redirect(launch_url)

    @app.post("/lti/launch")
    def launch() -> Any:
        data = FlaskMessageLaunch(FlaskRequest(), conf).get_launch_data()
        context = data.get("https://purl.imsglobal.org/spec/lti/claim/context") or {}
        return render_template_string(
            PAGE, name=data.get("name", ""), course=context.get("title", ""),
            roles=data.get("https://purl.imsglobal.org/spec/lti/claim/roles", []),
        )

    @app.get("/bench/noop")
    def noop() -> Response:
        return Response("", mimetype="text/plain")  # plain: no page hooks (CSP, frame-ancestors stamp)

    add_server_timing(app)  # the same header as Cadre's, without the SQL (there is none)
    return app
