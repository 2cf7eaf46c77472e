"""Errors Flask answers by itself come as Cadre's own page (or JSON for JSON clients), never a bare one."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from lti_tool import create_app
from lti_tool.settings import Settings


def test_an_unknown_address_explains_itself(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert "Open the activity again from your course." in page
    assert "Content-Security-Policy" in response.headers


def test_json_clients_get_json(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "Page not found",
        "message": "There is no page at this address in Cadre. Open the activity again from your course.",
        "status": 404,
    }


def test_a_wrong_method_names_the_allowed_ones(client: FlaskClient) -> None:
    response = client.delete("/lti/jwks")
    assert response.status_code == 405
    assert "does not accept that kind of request" in response.get_data(as_text=True)
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


def test_a_server_error_is_a_page_with_the_request_id(database_url: str, migrated_engine: Engine) -> None:
    app: Flask = create_app(
        Settings(database_url=database_url, secret_key="errors", _env_file=None)  # type: ignore[call-arg]  # noqa: S106
    )

    @app.get("/broken")
    def broken() -> str:
        raise RuntimeError("a bug")

    response = app.test_client().get("/broken", headers={"X-Request-Id": "req-123"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "It has been logged as req-123" in page
    assert "a bug" not in page  # no internals shown to the person
