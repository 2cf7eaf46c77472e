"""The test platform itself: its id_tokens are what a real LMS would send, and its endpoints check what a
real LMS checks. No Cadre and no database here; the launch tests rely on these guarantees.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jwcrypto import jwk, jws, jwt

from lti_tool.demo.app import create_platform_app
from lti_tool.demo.platform import (
    CLAIM_AGS_ENDPOINT,
    CLAIM_CONTENT_ITEMS,
    CLAIM_CONTEXT,
    CLAIM_CUSTOM,
    CLAIM_DEEP_LINKING_SETTINGS,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_DATA,
    CLAIM_LAUNCH_PRESENTATION,
    CLAIM_LIS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_NRPS,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLE_SCOPE_MENTOR,
    CLAIM_ROLES,
    CLAIM_TARGET_LINK_URI,
    CLAIM_TOOL_PLATFORM,
    CLAIM_VERSION,
    CLIENT_ASSERTION_TYPE,
    DEEP_LINKING_REQUEST,
    DEEP_LINKING_RESPONSE,
    MOODLE_LIKE,
    ROLE_LEARNER,
    ROLE_MENTOR,
    LmsUser,
    LtiPlatform,
    PlatformError,
    PlatformKey,
    ToolEndpoints,
    sign_jwt,
    tamper_payload,
    unverified_parts,
)

ISSUER = "https://lms.example.test"
TOOL = ToolEndpoints("https://cadre.example.test")


@pytest.fixture(scope="module")
def platform_key() -> PlatformKey:
    return PlatformKey.generate(kid="platform-key")


@pytest.fixture(scope="module")
def tool_key() -> PlatformKey:
    return PlatformKey.generate(kid="tool-key")


@pytest.fixture
def demo_lms(platform_key: PlatformKey, tool_key: PlatformKey) -> LtiPlatform:
    platform = LtiPlatform(ISSUER, client_id="cadre-client", deployment_id="dep-1", tool=TOOL,
                           key=platform_key)
    platform.use_tool_jwks_fetcher(lambda url: {"keys": [tool_key.public_jwk()]})
    return platform


def verify_with_jwks(token: str, platform: LtiPlatform) -> dict[str, Any]:
    keys = jwk.JWKSet()
    keys.import_keyset(json.dumps(platform.jwks()))
    verified = jwt.JWT(jwt=token, key=keys, algs=["RS256"])
    return json.loads(verified.claims)


def authorize_params(platform: LtiPlatform, hint: str, sub: str, **overrides: str) -> dict[str, str]:
    params = {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
        "client_id": platform.client_id, "redirect_uri": TOOL.launch_url, "login_hint": sub,
        "lti_message_hint": hint, "state": "state-123", "nonce": "nonce-456",
    }
    params.update(overrides)
    return params


def test_jwks_publishes_the_public_key_with_kid_and_no_private_part(demo_lms: LtiPlatform) -> None:
    (key,) = demo_lms.jwks()["keys"]
    assert key["kid"] == demo_lms.key.kid
    assert key["alg"] == "RS256" and key["use"] == "sig" and key["kty"] == "RSA"
    assert "d" not in key and "p" not in key


def test_resource_link_id_token_carries_every_lti_claim(demo_lms: LtiPlatform) -> None:
    learner = demo_lms.course.first_with_role("learner")
    request = demo_lms.prepare_launch(learner)
    token = demo_lms.build_id_token(request, nonce="n-1")

    header, _ = unverified_parts(token)
    claims = verify_with_jwks(token, demo_lms)

    assert header == {"alg": "RS256", "typ": "JWT", "kid": demo_lms.key.kid}
    assert claims["iss"] == ISSUER and claims["aud"] == "cadre-client" and claims["azp"] == "cadre-client"
    assert claims["sub"] == learner.sub and claims["nonce"] == "n-1"
    assert 0 < claims["exp"] - claims["iat"] <= 300 and abs(claims["iat"] - time.time()) < 5
    assert claims["name"] == learner.name and claims["email"] == learner.email
    assert claims[CLAIM_MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[CLAIM_VERSION] == "1.3.0"
    assert claims[CLAIM_DEPLOYMENT_ID] == "dep-1"
    assert claims[CLAIM_TARGET_LINK_URI] == TOOL.launch_url
    assert claims[CLAIM_RESOURCE_LINK]["id"] == demo_lms.course.activities[0].resource_link_id
    assert claims[CLAIM_ROLES] == [ROLE_LEARNER]
    assert claims[CLAIM_CONTEXT] == {
        "id": demo_lms.course.context_id, "label": demo_lms.course.label, "title": demo_lms.course.title,
        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
    }
    assert claims[CLAIM_TOOL_PLATFORM]["product_family_code"] == "cadre-demo"
    assert claims[CLAIM_TOOL_PLATFORM]["guid"] == demo_lms.guid
    assert claims[CLAIM_LAUNCH_PRESENTATION]["document_target"] == "iframe"
    assert claims[CLAIM_LIS]["person_sourcedid"] == f"sis:{learner.sub}"
    assert claims[CLAIM_CUSTOM] == {"activity": "practice_call"}
    assert claims[CLAIM_NRPS]["context_memberships_url"].startswith(ISSUER + "/api/contexts/")
    assert claims[CLAIM_AGS_ENDPOINT]["lineitems"].startswith(ISSUER + "/api/contexts/")
    assert CLAIM_ROLE_SCOPE_MENTOR not in claims and CLAIM_DEEP_LINKING_SETTINGS not in claims


def test_personal_claims_only_when_the_user_has_them(demo_lms: LtiPlatform) -> None:
    anonymous = LmsUser(sub="anon-1", role="learner")
    claims = demo_lms.build_claims(demo_lms.prepare_launch(anonymous), nonce="n")
    assert not {"name", "given_name", "family_name", "email"} & claims.keys()


def test_mentor_launch_lists_the_learners_in_role_scope_mentor(demo_lms: LtiPlatform) -> None:
    manager = demo_lms.course.first_with_role("manager")
    claims = demo_lms.build_claims(demo_lms.prepare_launch(manager), nonce="n")
    assert claims[CLAIM_ROLES] == [ROLE_MENTOR]
    assert claims[CLAIM_ROLE_SCOPE_MENTOR] == list(manager.mentees) and len(manager.mentees) == 2


def test_deep_linking_request_carries_settings_and_no_resource_link(demo_lms: LtiPlatform) -> None:
    designer = demo_lms.course.first_with_role("designer")
    request = demo_lms.prepare_launch(designer, message_type=DEEP_LINKING_REQUEST)
    claims = demo_lms.build_claims(request, nonce="n")
    settings = claims[CLAIM_DEEP_LINKING_SETTINGS]
    assert claims[CLAIM_MESSAGE_TYPE] == DEEP_LINKING_REQUEST
    assert CLAIM_RESOURCE_LINK not in claims
    assert settings["deep_link_return_url"] == ISSUER + "/deep-link-return"
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["data"] == request.deep_link_data and request.deep_link_data


def test_moodle_profile_uses_family_code_and_has_no_mentor(platform_key: PlatformKey) -> None:
    moodle = LtiPlatform(ISSUER, client_id="c", deployment_id="1", tool=TOOL, key=platform_key,
                         profile=MOODLE_LIKE)
    claims = moodle.build_claims(moodle.prepare_launch(moodle.course.first_with_role("learner")), nonce="n")
    assert claims[CLAIM_TOOL_PLATFORM]["family_code"] == "moodle"
    assert "product_family_code" not in claims[CLAIM_TOOL_PLATFORM]
    assert claims[CLAIM_CONTEXT]["type"] == ["CourseSection"]
    with pytest.raises(ValueError, match="no Mentor role"):
        moodle.lis_roles("manager")


def test_overrides_and_omissions_accept_short_names_and_paths(demo_lms: LtiPlatform) -> None:
    request = demo_lms.prepare_launch(
        demo_lms.course.first_with_role("learner"),
        claims={"version": "1.1", "exp": 1},
        omit=["deployment_id", "sub", ("resource_link", "id")],
    )
    claims = demo_lms.build_claims(request, nonce="n")
    assert claims[CLAIM_VERSION] == "1.1" and claims["exp"] == 1
    assert CLAIM_DEPLOYMENT_ID not in claims and "sub" not in claims
    assert "id" not in claims[CLAIM_RESOURCE_LINK] and "title" in claims[CLAIM_RESOURCE_LINK]


def test_damaged_signatures_do_not_verify(demo_lms: LtiPlatform, tool_key: PlatformKey) -> None:
    learner = demo_lms.course.first_with_role("learner")
    claims = demo_lms.build_claims(demo_lms.prepare_launch(learner), nonce="n")
    keys = jwk.JWKSet()
    keys.import_keyset(json.dumps(demo_lms.jwks()))

    no_kid = demo_lms.sign(claims, kid=None)
    assert "kid" not in unverified_parts(no_kid)[0]

    unknown_kid = demo_lms.sign(claims, kid="nobody-knows-me")
    assert unverified_parts(unknown_kid)[0]["kid"] == "nobody-knows-me"
    assert keys.get_key("nobody-knows-me") is None

    published = keys.get_key(demo_lms.key.kid)
    wrong_key = demo_lms.sign(claims, key=tool_key)
    assert unverified_parts(wrong_key)[0]["kid"] == demo_lms.key.kid
    with pytest.raises(jws.InvalidJWSSignature):
        jwt.JWT(jwt=wrong_key, key=published, algs=["RS256"])

    tampered = tamper_payload(demo_lms.sign(claims))
    assert unverified_parts(tampered)[1]["sub"].endswith("-tampered")
    with pytest.raises(jws.InvalidJWSSignature):
        jwt.JWT(jwt=tampered, key=published, algs=["RS256"])
    assert verify_with_jwks(demo_lms.sign(claims), demo_lms)["sub"] == claims["sub"]


def test_authorize_issues_a_token_for_the_pending_launch(demo_lms: LtiPlatform) -> None:
    learner = demo_lms.course.first_with_role("learner")
    request = demo_lms.prepare_launch(learner)
    issued = demo_lms.authorize(authorize_params(demo_lms, request.message_hint, learner.sub))
    claims = verify_with_jwks(issued.id_token, demo_lms)
    assert claims["nonce"] == "nonce-456" and issued.state == "state-123"
    assert issued.redirect_uri == TOOL.launch_url and demo_lms.issued == [issued]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"client_id": "someone-else"}, "Unknown client_id 'someone-else'."),
        ({"redirect_uri": "https://evil.example/launch"}, "is not registered for this tool"),
        ({"response_type": "code"}, "response_type must be id_token."),
        ({"scope": "profile"}, "scope must include openid."),
        ({"prompt": "login"}, "prompt must be none."),
        ({"response_mode": "query"}, "response_mode must be form_post."),
        ({"nonce": ""}, "Missing authentication request parameter(s): nonce."),
        ({"login_hint": "learner-ben"}, "login_hint does not match the user who started the launch."),
        ({"lti_message_hint": "forged"}, "Unknown or missing lti_message_hint"),
    ],
)
def test_authorize_refuses_bad_requests(
    demo_lms: LtiPlatform, override: dict[str, str], message: str
) -> None:
    learner = demo_lms.course.first_with_role("learner")
    request = demo_lms.prepare_launch(learner)
    with pytest.raises(PlatformError) as refused:
        demo_lms.authorize(authorize_params(demo_lms, request.message_hint, learner.sub, **override))
    assert message in refused.value.message
    assert refused.value.status == 400 and demo_lms.issued == []


def test_auth_endpoint_answers_with_an_auto_submitting_form(demo_lms: LtiPlatform) -> None:
    learner = demo_lms.course.first_with_role("learner")
    request = demo_lms.prepare_launch(learner)
    client = create_platform_app(demo_lms).test_client()

    response = client.post("/auth", data=authorize_params(demo_lms, request.message_hint, learner.sub))
    refused = client.get("/auth", query_string=authorize_params(demo_lms, request.message_hint, learner.sub,
                                                                response_type="code"))

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'action="{TOOL.launch_url}"' in html and 'name="state" value="state-123"' in html
    assert f'name="id_token" value="{demo_lms.issued[0].id_token}"' in html and ".submit()" in html
    assert refused.status_code == 400 and "response_type must be id_token." in refused.get_data(as_text=True)


def deep_link_response(
    demo_lms: LtiPlatform, tool_key: PlatformKey, data: str | None, **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": demo_lms.client_id, "aud": [demo_lms.issuer], "iat": now, "exp": now + 60,
        "nonce": f"tool-nonce-{now}",
        CLAIM_MESSAGE_TYPE: DEEP_LINKING_RESPONSE, CLAIM_VERSION: "1.3.0", CLAIM_DEPLOYMENT_ID: "dep-1",
        CLAIM_DL_DATA: data,
        CLAIM_CONTENT_ITEMS: [{"type": "ltiResourceLink", "title": "Peer review", "url": TOOL.launch_url}],
    }
    claims.update(overrides)
    return sign_jwt(claims, tool_key)


def test_deep_link_return_is_verified_and_adds_the_link(demo_lms: LtiPlatform, tool_key: PlatformKey) -> None:
    designer = demo_lms.course.first_with_role("designer")
    request = demo_lms.prepare_launch(designer, message_type=DEEP_LINKING_REQUEST)
    client = create_platform_app(demo_lms).test_client()

    response = client.post("/deep-link-return", data={"JWT": deep_link_response(demo_lms, tool_key,
                                                                                 request.deep_link_data)})

    assert response.status_code == 200
    assert "Activity added: Peer review" in response.get_data(as_text=True)
    assert demo_lms.deep_link_returns[0].content_items[0]["title"] == "Peer review"
    assert demo_lms.course.activities[-1].title == "Peer review"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aud": ["https://other.example"]}, "does not name this platform"),
        ({CLAIM_DEPLOYMENT_ID: "dep-2"}, "deployment_id 'dep-2' is not 'dep-1'."),
        ({"iss": "another-client"}, "iss 'another-client' is not a client_id registered on this platform."),
        ({CLAIM_DL_DATA: "not-what-we-sent"}, "does not echo a deep-linking request"),
        ({"nonce": ""}, "has no nonce"),
        ({"exp": 1}, "The JWT has expired."),
        ({CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest"}, "message_type must be LtiDeepLinkingResponse."),
    ],
)
def test_deep_link_return_refuses_bad_responses(
    demo_lms: LtiPlatform, tool_key: PlatformKey, overrides: dict[str, Any], message: str
) -> None:
    designer = demo_lms.course.first_with_role("designer")
    request = demo_lms.prepare_launch(designer, message_type=DEEP_LINKING_REQUEST)
    with pytest.raises(PlatformError) as refused:
        demo_lms.verify_deep_link_response(
            deep_link_response(demo_lms, tool_key, request.deep_link_data, **overrides)
        )
    assert message in refused.value.message
    assert demo_lms.deep_link_returns == []


def test_deep_link_return_refuses_a_replay_and_a_foreign_signature(
    demo_lms: LtiPlatform, tool_key: PlatformKey, platform_key: PlatformKey
) -> None:
    designer = demo_lms.course.first_with_role("designer")
    request = demo_lms.prepare_launch(designer, message_type=DEEP_LINKING_REQUEST)
    token = deep_link_response(demo_lms, tool_key, request.deep_link_data)
    demo_lms.verify_deep_link_response(token)
    with pytest.raises(PlatformError, match="nonce reused"):
        demo_lms.verify_deep_link_response(token)
    forged = sign_jwt(unverified_parts(token)[1], platform_key, kid="tool-key")
    with pytest.raises(PlatformError, match="does not verify"):
        demo_lms.verify_deep_link_response(forged)


def client_assertion(demo_lms: LtiPlatform, key: PlatformKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": demo_lms.client_id, "sub": demo_lms.client_id, "aud": demo_lms.auth_token_url,
              "iat": now,
              "exp": now + 60, "jti": f"jti-{time.monotonic_ns()}"}
    claims.update(overrides)
    return sign_jwt(claims, key)


def test_token_endpoint_grants_client_credentials_and_guards_the_services(
    demo_lms: LtiPlatform, tool_key: PlatformKey
) -> None:
    client = create_platform_app(demo_lms).test_client()
    scope = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
    form = {"grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": client_assertion(demo_lms, tool_key), "scope": scope}

    granted = client.post("/token", data=form)
    replayed = client.post("/token", data=form)
    token = granted.get_json()["access_token"]
    members = client.get(f"/api/contexts/{demo_lms.course.context_id}/memberships",
                         headers={"Authorization": f"Bearer {token}"})
    anonymous = client.get(f"/api/contexts/{demo_lms.course.context_id}/memberships")

    assert granted.status_code == 200 and granted.get_json()["token_type"] == "Bearer"
    assert replayed.status_code == 401 and "jti reused" in replayed.get_json()["error_description"]
    assert members.status_code == 200
    assert {m["user_id"] for m in members.get_json()["members"]} == {p.sub for p in demo_lms.course.people}
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"sub": "someone"}, "sub must equal iss (the client_id)."),
        ({"aud": "https://elsewhere.example/token"}, "aud must be the token endpoint."),
        ({"jti": ""}, "The assertion has no jti."),
        ({"exp": 1}, "The JWT has expired."),
    ],
)
def test_token_endpoint_refuses_bad_assertions(
    demo_lms: LtiPlatform, tool_key: PlatformKey, overrides: dict[str, Any], description: str
) -> None:
    client = create_platform_app(demo_lms).test_client()
    response = client.post("/token", data={
        "grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion(demo_lms, tool_key, **overrides), "scope": "x",
    })
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid_client", "error_description": description}


def test_demo_lms_offers_platform_storage_to_the_tool_frame(demo_lms: LtiPlatform) -> None:
    learner = demo_lms.course.first_with_role("learner")
    activity = demo_lms.course.activities[0].resource_link_id
    client = create_platform_app(demo_lms).test_client()

    frame = client.get("/launch", query_string={"user": learner.sub, "activity": activity})
    page = frame.get_data(as_text=True)
    assert frame.status_code == 200
    assert 'var toolOrigin = "https://cadre.example.test";' in page
    assert "event.source !== frame.contentWindow || event.origin !== toolOrigin" in page
    assert "lti.put_data" in page and "lti.get_data" in page and "bad_request" in page
    start = page.split('src="', 2)[1].split('"')[0].replace("&amp;", "&")
    initiation = client.get(start).get_data(as_text=True)
    assert '<input type="hidden" name="lti_storage_target" value="_parent">' in initiation

    # the httpx flows and a platform configured without it send no storage target and answer nothing
    request = demo_lms.prepare_launch(learner)
    assert "lti_storage_target" not in demo_lms.login_initiation(request)[1]
    assert demo_lms.login_initiation(request, storage_target="_parent")[1]["lti_storage_target"] == "_parent"
    plain = create_platform_app(demo_lms, storage_target=None, storage_responder=False).test_client()
    frame = plain.get("/launch", query_string={"user": learner.sub, "activity": activity})
    assert "toolOrigin" not in frame.get_data(as_text=True)
    start = frame.get_data(as_text=True).split('src="', 2)[1].split('"')[0].replace("&amp;", "&")
    assert "lti_storage_target" not in plain.get(start).get_data(as_text=True)
