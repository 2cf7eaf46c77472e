from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("lti", __name__, url_prefix="/lti")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
