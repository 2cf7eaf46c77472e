"""Audit of the endpoints anyone may call (``/healthz``, ``/lti/jwks``, ``/lti/config/canvas.json``,
``/lti/register``) and of the landing pages: a wrong method is a 405 that names the allowed ones, a
turned-off feature says how to do without it, and none of it stores anything."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.audit.helpers import changed_tables, stored_rows

WRONG_METHOD = "This address does not accept that kind of request."
GET_ONLY = ["/healthz", "/lti/jwks", "/lti/config/canvas.json", "/lti/register", "/home", "/"]


@pytest.mark.parametrize("path", GET_ONLY)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_get_only_address_answers_a_wrong_method_with_405_naming_get(
    method: str, path: str, client: FlaskClient, app: Flask
) -> None:
    before = stored_rows(app)
    response = client.open(path, method=method, data={"anything": "x"})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}
    assert "POST" not in response.headers["Allow"]
    if path.endswith(".json"):
        assert response.get_json() == {"error": "Not allowed here", "message": WRONG_METHOD, "status": 405}
    else:
        assert WRONG_METHOD in response.get_data(as_text=True)
    assert changed_tables(before, stored_rows(app)) == []


def test_json_clients_get_a_json_405_from_the_health_check(client: FlaskClient) -> None:
    response = client.post("/healthz", headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response.get_json() == {"error": "Not allowed here", "message": WRONG_METHOD, "status": 405}


def test_the_health_check_ignores_query_and_headers_it_does_not_know(client: FlaskClient) -> None:
    response = client.get("/healthz", query_string={"verbose": "1" * 10_000}, headers={"X-Evil": "\x7f"})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "pending_migrations": []}


def test_the_jwks_and_canvas_configuration_ignore_unknown_query_parameters(client: FlaskClient) -> None:
    jwks = client.get("/lti/jwks", query_string={"kid": "'; DROP TABLE tool_keys; --"})
    assert jwks.status_code == 200 and jwks.get_json()["keys"]
    canvas = client.get("/lti/config/canvas.json", query_string={"\x00": "\x00"})
    assert canvas.status_code == 200 and canvas.get_json()["title"]


def test_registration_turned_off_says_how_to_register_by_hand_and_stores_nothing(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.config["CADRE"], "dynamic_registration", "off")
    before = stored_rows(app)
    response = client.get(
        "/lti/register", query_string={"openid_configuration": "https://lms.example/.well-known/x"}
    )
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Dynamic registration is turned off on this Cadre (CADRE_DYNAMIC_REGISTRATION=off)." in page
    assert "cadre platform config" in page
    assert changed_tables(before, stored_rows(app)) == []


def test_a_registration_with_an_unknown_invitation_is_refused_before_calling_the_platform(
    client: FlaskClient, app: Flask
) -> None:
    before = stored_rows(app)
    for invite, message in (
        ("", "This Cadre registers platforms by invitation only."),
        ("nonsense", "This registration invitation is not valid"),
        ("\x00" * 10, "This registration invitation is not valid"),
        ("é" * 300, "This registration invitation is not valid"),
    ):
        response = client.get(
            "/lti/register",
            query_string={"openid_configuration": "http://127.0.0.1:9/never-called", "invite": invite},
        )
        assert response.status_code == 403, invite
        assert message in response.get_data(as_text=True), invite
    assert changed_tables(before, stored_rows(app)) == []
