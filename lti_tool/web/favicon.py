"""Cadre's icon: ``static/favicon.svg``, linked from every page, and answered at ``/favicon.ico`` too.

Browsers ask for ``/favicon.ico`` on their own (a page opened as a file, a PDF, the JSON of an export); a
404 there is noise in every console, so the same SVG is served at that address.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, send_from_directory

from lti_tool.permissions import public

ICON = "favicon.svg"
ICON_MAX_AGE = 24 * 60 * 60  # a day: the icon seldom changes, and a stale one harms nobody


@public("the browser's tab icon, the same for everyone")
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", ICON, mimetype="image/svg+xml", max_age=ICON_MAX_AGE
    )


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon, methods=["GET"])
