"""GET /xapi/profile answers the shipped profile document to anyone, cacheably."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from xapi.profile import shipped_profile
from xapi.vocabulary import PROFILE_IRI


def test_anyone_gets_the_profile_as_json_ld(client: FlaskClient) -> None:
    response = client.get("/xapi/profile")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.get_data(as_text=True) == shipped_profile()
    assert json.loads(response.get_data())["id"] == PROFILE_IRI
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"]


def test_a_client_holding_the_current_copy_gets_not_modified(client: FlaskClient) -> None:
    etag = client.get("/xapi/profile").headers["ETag"]
    again = client.get("/xapi/profile", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    stale = client.get("/xapi/profile", headers={"If-None-Match": '"an-old-version"'})
    assert stale.status_code == 200


def test_the_profile_cannot_be_changed_through_the_web(client: FlaskClient) -> None:
    assert client.post("/xapi/profile", data="{}").status_code == 405
