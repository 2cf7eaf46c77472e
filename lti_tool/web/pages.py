"""The page Cadre shows inside the LMS frame when it refuses or cannot do something."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template


def error_page(status: int, title: str, message: str, action: str | None = None, **context: Any) -> Response:
    """The HTML error page: what happened (``title``, ``message``) and what the reader can do (``action``).

    Never cached: it may be answered to one person's launch."""
    html = render_template("error.html", status=status, title=title, message=message, action=action,
                           **context)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response
