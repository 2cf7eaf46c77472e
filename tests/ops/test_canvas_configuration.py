"""GET /lti/config/canvas.json: the developer-key JSON a Canvas admin loads by URL."""

from __future__ import annotations

import httpx

from tests.fixtures.live_server import LiveServer


def test_canvas_developer_key_json(live_server: LiveServer, app: object) -> None:
    base = live_server.url
    response = httpx.get(f"{base}/lti/config/canvas.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    key = response.json()

    assert key["title"] == "Cadre" and "managers in the loop" in key["description"]
    assert key["oidc_initiation_url"] == f"{base}/lti/login"
    assert key["target_link_uri"] == f"{base}/lti/launch"
    assert key["public_jwk_url"] == f"{base}/lti/jwks"
    assert key["custom_fields"] == {}
    assert set(key["scopes"]) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }

    [extension] = key["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] == "public"
    assert extension["domain"] == base.removeprefix("http://")
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    for name in ("assignment_selection", "link_selection", "module_menu_modal"):
        assert placements[name]["message_type"] == "LtiDeepLinkingRequest"
        assert placements[name]["target_link_uri"] == f"{base}/lti/launch"
    assert placements["account_navigation"]["message_type"] == "LtiResourceLinkRequest"
    assert "course_navigation" not in placements
