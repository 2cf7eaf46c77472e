"""Generated from the route table: every route that is not public refuses a request without a launch, with
Cadre's page saying how to open Cadre, whatever the method, and stores nothing. Routes for machines with an
API token (``@api_permission``) refuse one without a valid token with 401 and ``WWW-Authenticate``, and no
launch counts for them."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.lti.errors import NO_LAUNCH
from lti_tool.permissions import API_TOKEN_CREDENTIALS, rule_of


def protected_requests(app: Flask, credentials: str | None = None) -> list[tuple[str, str]]:
    """(method, path) for every method of every non-public route that needs a launch (or, with
    ``credentials``, those credentials), with 1 for each path parameter (and the first choice for an
    ``any(...)`` one)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or isinstance(rule_of(app.view_functions[rule.endpoint]), str):
            continue
        if getattr(app.view_functions[rule.endpoint], "cadre_credentials", None) != credentials:
            continue
        path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)  # the first choice of an any(...)
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "1", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def test_there_are_protected_routes_to_check(app: Flask) -> None:
    assert len(protected_requests(app)) > 40


def test_every_protected_route_refuses_a_request_without_a_launch(app: Flask, client: FlaskClient) -> None:
    refused = {}
    for method, path in protected_requests(app):
        response = client.open(path, method=method, data={"title": "x"})
        body = response.get_data(as_text=True)
        if response.status_code != 401 or NO_LAUNCH not in body:
            refused[f"{method} {path}"] = response.status_code
    assert refused == {}, f"routes that did not refuse an anonymous request: {refused}"


@pytest.mark.parametrize("token", ["not-a-launch-token-at-all", "x" * 5000])
def test_every_protected_get_route_refuses_a_token_that_is_no_launch(
    app: Flask, client: FlaskClient, token: str
) -> None:
    for method, path in protected_requests(app):
        if method != "GET":
            continue
        response = client.get(path, headers={"X-Cadre-Launch": token})
        assert response.status_code == 401, (path, response.status_code)


def test_every_api_token_route_refuses_a_request_without_a_valid_token(
    app: Flask, client: FlaskClient
) -> None:
    routes = protected_requests(app, API_TOKEN_CREDENTIALS)
    assert routes, "the xAPI statement resource is an API-token route"
    for method, path in routes:
        for credentials in ({}, {"Authorization": "Bearer cadre_not-a-token"},
                            {"Authorization": "Basic Og=="}, {"X-Cadre-Launch": "not-a-launch-token-at-all"}):
            response = client.open(path, method=method,
                                   headers={"X-Experience-API-Version": "1.0.3", **credentials})
            assert response.status_code == 401, (method, path, credentials, response.status_code)
            assert "Bearer" in response.headers["WWW-Authenticate"], (method, path)
            assert response.get_json()["error"]["status"] == 401
