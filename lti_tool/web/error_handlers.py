"""Cadre's own page for every error Flask answers by itself (unknown address, wrong method, too large an
upload, a server error), so a person inside the LMS frame reads what happened and what to do, not a bare
Werkzeug page. JSON clients get JSON."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from lti_tool.observability import current_request_id
from lti_tool.web.pages import error_page

MESSAGES = {
    404: (
        "Page not found",
        "There is no page at this address in Cadre. Open the activity again from your course.",
    ),
    405: ("Not allowed here", "This address does not accept that kind of request."),
    413: ("File too large", "The upload is larger than Cadre accepts ({limit} MB). Choose a smaller file."),
}
SERVER_ERROR = (
    "Something went wrong",
    "Cadre could not finish this request. It has been logged as {request_id}: try again, and tell your "
    "administrator if it keeps happening.",
)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.endswith(".json") or best == "application/json"


def _answer(status: int, title: str, message: str) -> Response:
    if _wants_json():
        response = jsonify(error=title, message=message, status=status)
        response.status_code = status
        return response
    return error_page(status, title, message)


def init_app(app: Flask) -> None:
    limit = app.config["CADRE"].max_upload_mb

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        status = error.code or 500
        if status not in MESSAGES:
            return error  # Werkzeug's own answer for the rare rest (it keeps headers such as Allow)
        title, message = MESSAGES[status]
        response = _answer(status, title, message.format(limit=limit))
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(InternalServerError)
    def _server_error(_error: InternalServerError) -> Response:
        title, message = SERVER_ERROR
        return _answer(500, title, message.format(request_id=current_request_id()))
