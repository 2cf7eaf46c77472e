"""Launching Cadre from a real LTI 1.3 platform over HTTP: the valid launches of each role, deep linking,
and every rejection a certification run tries — each with its status, its exact message, and nothing
stored. Runs on SQLite and PostgreSQL (through the ``app`` and ``live_server`` fixtures).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.demo.platform import (
    CLAIM_CONTENT_ITEMS,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_DL_DATA,
    CLAIM_MESSAGE_TYPE,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLES,
    CLAIM_VERSION,
    DEEP_LINKING_REQUEST,
    DEEP_LINKING_RESPONSE,
    ROLE_CONTENT_DEVELOPER,
    LmsUser,
    PlatformKey,
    tamper_payload,
)
from lti_tool.models import Context, Launch, ManagerLink, Membership, Platform, User
from tests.e2e.checks import (
    StoredRows,
    all_texts_by_testid,
    assert_rejected,
    attributes_by_testid,
    page_text,
    stored_rows,
    texts_by_testid,
)
from tests.fixtures.html_pages import parse_forms
from tests.fixtures.platform import LaunchResult, PlatformFactory, RunningPlatform, submit_form

pytestmark = pytest.mark.e2e

NOTHING = StoredRows(users=0, launches=0, memberships=0, manager_links=0)


def rows(app: Flask, model: type[Any], **filters: Any) -> list[Any]:
    with app.extensions["cadre.sessionmaker"]() as session:
        return list(session.scalars(select(model).filter_by(**filters)))


def assert_lands_home(result: LaunchResult, name: str, role: str, course: str) -> None:
    """Cadre's home page, after the redirect that follows the launch, shows who, as what, in which course."""
    assert result.status == 200, f"{result.status}: {page_text(result.response)[:1500]}"
    landed = urllib.parse.urlsplit(result.url)
    # The launch token rides in the fragment only (Cadre's script keeps it; no server ever sees it).
    assert landed.path == "/home" and not landed.query and landed.fragment.startswith("lt="), result.url
    shown = texts_by_testid(result.text)
    assert shown.get("user-name") == name, shown
    assert attributes_by_testid(result.text)["user-role"].get("data-role") == role, shown
    assert shown.get("user-role", "").lower() == role, shown
    assert shown.get("course-title") == course, shown


# --------------------------------------------------------------------------------------------- valid


@pytest.mark.parametrize("role", ["designer", "manager", "learner", "admin"])
def test_each_role_lands_on_home(platform: RunningPlatform, app: Flask, role: str) -> None:
    person = platform.user(role)

    result = platform.launch_as(role)

    assert_lands_home(result, person.label, role, platform.lti.course.title)
    (user,) = rows(app, User, sub=person.sub)
    assert (user.name, user.email, user.is_admin) == (person.name, person.email, role == "admin")
    (launch,) = rows(app, Launch, user_id=user.id)
    assert launch.role == role and launch.message_type == "LtiResourceLinkRequest"
    (membership,) = rows(app, Membership, user_id=user.id)
    assert membership.role == role and membership.lti_roles == result.claims[CLAIM_ROLES]
    (context,) = rows(app, Context)
    assert context.title == platform.lti.course.title


def test_home_is_reachable_again_with_the_same_browser(platform: RunningPlatform) -> None:
    result = platform.launch_as("learner")

    again = result.client.get("/home", follow_redirects=True)

    assert again.status_code == 200
    assert texts_by_testid(again.text)["user-name"] == platform.user("learner").label


def test_an_accepted_launch_drops_its_single_use_state_cookie(platform: RunningPlatform) -> None:
    pending = platform.begin_launch("learner")
    state_cookies = [c.name for c in pending.client.cookies.jar if c.name.startswith("lti1p3-")]
    assert state_cookies == [f"lti1p3-{pending.state}"]  # set by the login

    launched = pending.post(pending.sign(pending.claims()))

    assert launched.status_code == 200 and "data-testid=\"user-name\"" in launched.text
    assert [c.name for c in pending.client.cookies.jar] == ["cadre_session"]


def test_content_developer_is_a_designer(platform: RunningPlatform) -> None:
    result = platform.launch_as("designer", roles=[ROLE_CONTENT_DEVELOPER])
    assert_lands_home(result, platform.user("designer").label, "designer", platform.lti.course.title)


def test_mentor_launch_links_the_manager_to_the_learners_in_role_scope_mentor(
    platform: RunningPlatform, app: Flask
) -> None:
    manager = platform.user("manager")

    result = platform.launch_as("manager")

    assert_lands_home(result, manager.label, "manager", platform.lti.course.title)
    (manager_row,) = rows(app, User, sub=manager.sub)
    links = rows(app, ManagerLink, manager_id=manager_row.id)
    learner_subs = {row.id: row.sub for row in rows(app, User)}
    assert sorted(learner_subs[link.learner_id] for link in links) == sorted(manager.mentees)
    assert {(link.source, link.status) for link in links} == {("lti_mentor", "active")}
    people = all_texts_by_testid(result.text, "managed-learner")
    # Not met and not in a roster yet: never shown by their LTI ids.
    assert people == ["A learner not in the course roster yet (the course's designer refreshes the roster to "
                      "show their name)"] * len(manager.mentees)

    learner = platform.lti.course.person(manager.mentees[0])
    platform.launch_as("learner", user=learner)  # the learner opens Cadre: now Cadre knows the name
    again = result.client.get("/home")
    assert learner.label in all_texts_by_testid(again.text, "managed-learner")


def test_launch_without_personal_data_shows_a_placeholder_name(platform: RunningPlatform, app: Flask) -> None:
    anonymous = LmsUser(sub="privacy-first-42", role="learner")

    result = platform.launch_as("learner", user=anonymous)

    assert_lands_home(result, "User privacy-first-42", "learner", platform.lti.course.title)
    (user,) = rows(app, User, sub="privacy-first-42")
    assert (user.name, user.email) == (None, None)


def test_moodle_like_platform_without_mentor_and_with_family_code(
    make_platform: PlatformFactory, app: Flask
) -> None:
    moodle = make_platform("moodle")

    result = moodle.launch_as("learner")

    assert_lands_home(result, moodle.user("learner").label, "learner", moodle.lti.course.title)
    assert result.claims["https://purl.imsglobal.org/spec/lti/claim/tool_platform"]["family_code"] == "moodle"
    with pytest.raises(ValueError, match="no Mentor role"):
        moodle.launch_as("manager")


def test_two_registrations_on_one_issuer_are_kept_apart(platform: RunningPlatform, app: Flask) -> None:
    second_client = platform.add_registration("customer-b-key", "customer-b-deployment")

    first = platform.launch_as("learner")
    second = platform.launch_as("learner", client_id=second_client)

    assert first.status == 200 and second.status == 200
    registrations = {row.client_id: row.id for row in rows(app, Platform, issuer=platform.issuer)}
    assert set(registrations) == {platform.client_id, second_client}
    users = rows(app, User, sub=platform.user("learner").sub)
    assert sorted(user.platform_id for user in users) == sorted(registrations.values())


def test_deep_linking_places_an_activity_on_the_platform(platform: RunningPlatform, app: Flask) -> None:
    designer = platform.user("designer")

    result = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST)
    assert result.status == 200, page_text(result.response)[:1500]
    (form,) = parse_forms(result.text)
    kind = form.choices["kind"][1]  # the designer picks the second kind offered and names the activity
    response_form = result.submit({"kind": kind, "title": "Feedback on your practice call"})
    assert response_form.status_code == 200, page_text(response_form)[:1500]
    returned = submit_form(result.client, response_form)  # auto-submitted JWT → platform

    assert returned.status_code == 200, page_text(returned)[:1500]
    assert str(returned.url) == platform.lti.deep_link_return_url
    (received,) = platform.deep_link_returns
    claims = received.claims
    assert claims["iss"] == platform.client_id
    assert platform.issuer in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert claims[CLAIM_DEPLOYMENT_ID] == platform.deployment_id
    assert claims[CLAIM_MESSAGE_TYPE] == DEEP_LINKING_RESPONSE and claims[CLAIM_VERSION] == "1.3.0"
    assert claims[CLAIM_DL_DATA] == result.request.deep_link_data
    (item,) = claims[CLAIM_CONTENT_ITEMS]
    assert item["type"] == "ltiResourceLink" and item["title"] == "Feedback on your practice call"
    assert item["custom"]["cadre_kind"] == kind
    assert f"Activity added: {item['title']}" in page_text(returned)
    assert platform.lti.course.activities[-1].title == item["title"]
    (user,) = rows(app, User, sub=designer.sub)
    assert [launch.message_type for launch in rows(app, Launch, user_id=user.id)] == [DEEP_LINKING_REQUEST]


def test_the_placed_activity_launches(platform: RunningPlatform) -> None:
    placing = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST)
    submit_form(placing.client, placing.submit({"title": "Manager feedback"}))
    placed = platform.lti.course.activities[-1]

    result = platform.launch_as("learner", activity=placed.resource_link_id)

    assert_lands_home(result, platform.user("learner").label, "learner", platform.lti.course.title)
    assert result.claims[CLAIM_RESOURCE_LINK]["title"] == placed.title


# --------------------------------------------------------------------------------------------- rejected


def now() -> int:
    return int(time.time())


def who(platform: RunningPlatform) -> dict[str, str]:
    return {"issuer": platform.issuer, "client_id": platform.client_id}


LAUNCH = "LtiResourceLinkRequest"
Damage = Callable[[RunningPlatform, PlatformKey], dict[str, Any]]
Expected = Callable[[RunningPlatform], tuple[str, dict[str, Any]]]

REJECTED_ID_TOKENS: list[tuple[str, Damage, Expected]] = [
    (
        "no kid",
        lambda p, spare: {"signer": lambda claims: p.lti.sign(claims, kid=None)},
        lambda p: ("missing_kid", who(p)),
    ),
    (
        "unknown kid",
        lambda p, spare: {"signer": lambda claims: p.lti.sign(claims, key=spare, kid=spare.kid)},
        lambda p: ("unknown_kid", {"kid": "spare-key", "jwks_url": p.lti.jwks_url, **who(p)}),
    ),
    (
        "bad signature (another key under the platform's kid)",
        lambda p, spare: {"signer": lambda claims: p.lti.sign(claims, key=spare)},
        lambda p: ("bad_signature", {"kid": p.lti.key.kid, **who(p)}),
    ),
    (
        "payload tampered with after signing",
        lambda p, spare: {"token_mutator": tamper_payload},
        lambda p: ("bad_signature", {"kid": p.lti.key.kid, **who(p)}),
    ),
    (
        "wrong iss",
        lambda p, spare: {"claims": {"iss": "https://impostor.example"}},
        lambda p: ("issuer_mismatch", {"issuer": "https://impostor.example", "login_issuer": p.issuer}),
    ),
    (
        "wrong aud",
        lambda p, spare: {"claims": {"aud": "another-tool", "azp": "another-tool"}},
        lambda p: ("audience_mismatch", {"audience": "another-tool", **who(p)}),
    ),
    (
        "azp mismatch",
        lambda p, spare: {"claims": {"aud": [p.client_id, "another-tool"], "azp": "another-tool"}},
        lambda p: ("azp_mismatch", {"azp": "another-tool", **who(p)}),
    ),
    (
        "several audiences and no azp",
        lambda p, spare: {"claims": {"aud": [p.client_id, "another-tool"]}, "omit": ["azp"]},
        lambda p: ("azp_mismatch", {"azp": "missing", **who(p)}),
    ),
    (
        "expired",
        lambda p, spare: {"claims": {"iat": now() - 3600, "exp": now() - 3000}},
        lambda p: ("expired_token", who(p)),
    ),
    (
        "iat in the future",
        lambda p, spare: {"claims": {"iat": now() + 3600, "exp": now() + 3900}},
        lambda p: ("token_from_future", who(p)),
    ),
    (
        "wrong LTI version",
        lambda p, spare: {"claims": {"version": "1.2.0"}},
        lambda p: ("wrong_version", {"version": "1.2.0", **who(p)}),
    ),
    (
        "missing LTI version",
        lambda p, spare: {"omit": ["version"]},
        lambda p: ("missing_claim", {"claim": CLAIM_VERSION, "message_type": LAUNCH, **who(p)}),
    ),
    (
        "unknown message type",
        lambda p, spare: {"claims": {"message_type": "LtiSubmissionReviewRequest"}},
        lambda p: ("unsupported_message_type", {"message_type": "LtiSubmissionReviewRequest", **who(p)}),
    ),
    (
        "missing message type",
        lambda p, spare: {"omit": ["message_type"]},
        lambda p: ("missing_claim", {"claim": CLAIM_MESSAGE_TYPE, "message_type": "launch", **who(p)}),
    ),
    (
        "missing deployment_id",
        lambda p, spare: {"omit": ["deployment_id"]},
        lambda p: ("missing_claim", {"claim": CLAIM_DEPLOYMENT_ID, "message_type": LAUNCH, **who(p)}),
    ),
    (
        "unregistered deployment_id in the id_token",
        lambda p, spare: {"claims": {"deployment_id": "not-registered"}},
        lambda p: ("unknown_deployment", {"deployment_id": "not-registered", **who(p)}),
    ),
    (
        "missing sub",
        lambda p, spare: {"omit": ["sub"]},
        lambda p: ("missing_claim", {"claim": "sub", "message_type": LAUNCH, **who(p)}),
    ),
    (
        "missing roles",
        lambda p, spare: {"omit": ["roles"]},
        lambda p: ("missing_claim", {"claim": CLAIM_ROLES, "message_type": LAUNCH, **who(p)}),
    ),
    (
        "missing resource_link",
        lambda p, spare: {"omit": ["resource_link"]},
        lambda p: ("missing_claim", {"claim": CLAIM_RESOURCE_LINK + " id", "message_type": LAUNCH, **who(p)}),
    ),
    (
        "missing resource_link id",
        lambda p, spare: {"omit": [("resource_link", "id")]},
        lambda p: ("missing_claim", {"claim": CLAIM_RESOURCE_LINK + " id", "message_type": LAUNCH, **who(p)}),
    ),
    (
        "nonce not the one issued at login",
        lambda p, spare: {"claims": {"nonce": "a-nonce-cadre-never-issued"}},
        lambda p: ("nonce_mismatch", who(p)),
    ),
]


@pytest.mark.parametrize(("damage", "expected"), [case[1:] for case in REJECTED_ID_TOKENS],
                         ids=[case[0] for case in REJECTED_ID_TOKENS])
def test_damaged_id_token_is_rejected_and_nothing_is_stored(
    platform: RunningPlatform, app: Flask, spare_key: PlatformKey, damage: Damage, expected: Expected
) -> None:
    reason, details = expected(platform)

    result = platform.launch_as("learner", **damage(platform, spare_key))

    assert result.issued is not None, "the platform should have issued the (damaged) id_token"
    assert_rejected(result.response, reason, **details)
    assert stored_rows(app) == NOTHING


def test_replayed_id_token_and_state_are_rejected(platform: RunningPlatform, app: Flask) -> None:
    first = platform.launch_as("learner")
    assert first.status == 200
    after_first = stored_rows(app)

    replayed = first.replay()

    assert_rejected(replayed, "nonce_used", **who(platform))
    assert stored_rows(app) == after_first


def test_launch_without_the_state_cookie_is_rejected(platform: RunningPlatform, app: Flask) -> None:
    pending = platform.begin_launch("learner")
    pending.client.cookies.clear()

    response = pending.post(pending.sign(pending.claims()))

    assert_rejected(response, "cookies_blocked", **who(platform))
    assert stored_rows(app) == NOTHING


def test_state_from_no_login_is_rejected(platform: RunningPlatform, app: Flask) -> None:
    pending = platform.begin_launch("learner")

    response = pending.post(pending.sign(pending.claims()), state="state-made-up")

    assert_rejected(response, "unknown_state", **who(platform))
    assert stored_rows(app) == NOTHING


def test_unregistered_deployment_is_refused_at_login(platform: RunningPlatform, app: Flask) -> None:
    result = platform.launch_as("learner", deployment_id="not-registered")

    assert result.issued is None
    assert_rejected(result.response, "unknown_deployment", deployment_id="not-registered", **who(platform))
    assert stored_rows(app) == NOTHING


def test_unregistered_client_id_on_a_known_issuer_is_refused(platform: RunningPlatform, app: Flask) -> None:
    platform.add_registration("unregistered-key", register=False)

    result = platform.launch_as("learner", client_id="unregistered-key")

    assert result.issued is None
    assert_rejected(result.response, "unknown_registration",
                    issuer=platform.issuer, client_id="unregistered-key")
    assert stored_rows(app) == NOTHING


def test_unregistered_issuer_is_refused(make_platform: PlatformFactory, app: Flask) -> None:
    stranger = make_platform("canvas", register=False)

    result = stranger.launch_as("learner")

    assert result.issued is None
    assert_rejected(result.response, "unknown_registration",
                    issuer=stranger.issuer, client_id=stranger.client_id)
    assert stored_rows(app) == NOTHING
