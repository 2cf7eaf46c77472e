"""``GET /xapi/profile``: Cadre's xAPI Profile document, for LRSs, profile servers and analysts.

The document is the one shipped in the ``xapi`` package (``xapi/profile.jsonld``); its ``id`` is the
stable IRI every Cadre uses (``https://w3id.org/xapi/cadre``), and each deployment also answers it here,
so anyone holding a statement can read what its verbs and extensions mean.
"""

from __future__ import annotations

import hashlib
from functools import cache

from flask import Blueprint, Flask, Response, request

from lti_tool.permissions import public
from xapi.profile import MEDIA_TYPE, shipped_profile

blueprint = Blueprint("xapi_profile", __name__)

PROFILE_MAX_AGE = 24 * 60 * 60
"""A day: the document changes only with a Cadre release."""


@cache
def _document() -> tuple[bytes, str]:
    body = shipped_profile().encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:32]


@blueprint.get("/xapi/profile")
@public("the published xAPI Profile: the meaning of Cadre's statements, the same for everyone")
def profile() -> Response:
    body, tag = _document()
    response = Response(body, mimetype=MEDIA_TYPE)
    response.set_etag(tag)
    response.cache_control.public = True
    response.cache_control.max_age = PROFILE_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"  # profile tools fetch it from their own pages
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
