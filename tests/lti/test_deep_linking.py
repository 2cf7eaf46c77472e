"""The designer's deep-linking page and the signed LtiDeepLinkingResponse it returns."""

from __future__ import annotations

import html
import re

import jwt
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.lti.activity_kinds import ACTIVITY_KINDS
from lti_tool.lti.errors import (
    DEEP_LINK_EMPTY_TITLE,
    DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH,
    DEEP_LINK_UNKNOWN_KIND,
)
from lti_tool.lti.launch import DEEP_LINKING_REQUEST
from tests.lti.conftest import CLIENT_ID, DEPLOYMENT_ID, INSTRUCTOR, ISSUER, InProcessLms


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, page
    return html.unescape(match.group(1))


def open_deep_link_page(app: Flask, in_process_lms: InProcessLms) -> tuple[FlaskClient, str]:
    client = app.test_client()
    response = in_process_lms.launch_as(client, roles=[INSTRUCTOR], message_type=DEEP_LINKING_REQUEST)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return client, page.get_data(as_text=True)


def test_designer_places_an_activity(app: Flask, in_process_lms: InProcessLms) -> None:
    client, page = open_deep_link_page(app, in_process_lms)
    for kind in ACTIVITY_KINDS:
        assert f'value="{kind.key}"' in page and html.escape(kind.label) in page
    form = {
        "lt": hidden(page, "lt"),
        "csrf_token": hidden(page, "csrf_token"),
        "kind": "manager_insight_survey",
        "title": "What do you see?",
    }
    response = client.post("/lti/deep-link", data=form)
    assert response.status_code == 200
    returned = response.get_data(as_text=True)
    assert f'action="{in_process_lms.lti.deep_link_return_url}"' in returned
    token = hidden(returned, "JWT")

    jwks = client.get("/lti/jwks").get_json()
    header = jwt.get_unverified_header(token)
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=ISSUER)
    assert claims["iss"] == CLIENT_ID
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == DEPLOYMENT_ID
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["title"] == "What do you see?"
    assert item["url"].endswith("/lti/launch")
    assert item["custom"]["cadre_kind"] == "manager_insight_survey"
    assert set(item["custom"]) == {"cadre_kind", "cadre_activity"} and "lineItem" not in item


def test_invalid_form_is_a_400_and_sends_nothing(app: Flask, in_process_lms: InProcessLms) -> None:
    client, page = open_deep_link_page(app, in_process_lms)
    base = {"lt": hidden(page, "lt"), "csrf_token": hidden(page, "csrf_token")}
    for fields, message in (
        ({"kind": "karaoke", "title": "x"}, DEEP_LINK_UNKNOWN_KIND),
        ({"kind": "self_assessment", "title": "   "}, DEEP_LINK_EMPTY_TITLE),
    ):
        response = client.post("/lti/deep-link", data={**base, **fields})
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and message in text and 'name="JWT"' not in text


def test_deep_link_page_needs_a_deep_linking_launch(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    response = in_process_lms.launch_as(client, roles=[INSTRUCTOR])
    token = response.headers["Location"].split("#lt=")[1]
    page = app.test_client().get("/lti/deep-link", headers={"X-Cadre-Launch": token})
    assert page.status_code == 400
    assert DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH in html.unescape(page.get_data(as_text=True))


def test_missing_deep_linking_settings_is_rejected(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    claims = in_process_lms.claims(params["nonce"], message_type=DEEP_LINKING_REQUEST, roles=[INSTRUCTOR])
    del claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    response = in_process_lms.launch(client, state=params["state"], token=in_process_lms.key.sign(claims))
    assert response.status_code == 400
    assert "deep_linking_settings" in response.get_data(as_text=True)
