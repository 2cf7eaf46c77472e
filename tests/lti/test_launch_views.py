"""Cadre's login, launch and JWKS views, driven with Flask's test client and tokens signed by the test."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.lti.errors import REJECTIONS, rejection_message
from lti_tool.lti.launch import CLAIM_DEPLOYMENT_ID, CLAIM_ROLE_SCOPE_MENTOR, CLAIM_ROLES, CLAIM_VERSION
from lti_tool.models import Context, Launch, ManagerLink, Membership, ResourceLink, User
from tests.fixtures.database import CountQueries
from tests.lti.conftest import CLIENT_ID, INSTRUCTOR, ISSUER, MENTOR, InProcessLms, SigningKey


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def lti_log() -> Iterator[list[logging.LogRecord]]:
    """Records of the ``cadre.lti`` logger (Cadre's loggers do not propagate to pytest's caplog)."""
    handler = Records()
    logger = logging.getLogger("cadre.lti")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def counts(app: Flask) -> dict[str, int]:
    with session_scope(app) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Context, Membership, ResourceLink, Launch, ManagerLink)
        }


def assert_rejected(response: Any, reason: str, **details: Any) -> None:
    assert response.status_code == REJECTIONS[reason].status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    assert rejection_message(reason, **details) in response.get_data(as_text=True).replace("&#39;", "'")


def assert_iframe_cookie(response: Any, name: str) -> None:
    """Set with the flags a cookie needs in a cross-site iframe."""
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "partitioned", "samesite"} <= attributes
    assert "SameSite=None" in header


def test_valid_launch_records_everything_and_lands_home(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    response = in_process_lms.launch_as(client)
    assert response.status_code == 303
    path, _, handed = response.headers["Location"].partition("#lt=")
    assert path == "/home" and handed  # the token in the fragment, which no server sees
    assert_iframe_cookie(response, "cadre_session")

    home = client.get(path)  # the session cookie carries the launch
    page = home.get_data(as_text=True)
    assert home.status_code == 200
    assert 'data-testid="user-name">Ada Lovelace<' in page
    assert 'data-role="learner"' in page
    assert "Leading Teams" in page and "Feedback round" in page
    assert counts(app) == {
        "User": 1,
        "Context": 1,
        "Membership": 1,
        "ResourceLink": 1,
        "Launch": 1,
        "ManagerLink": 0,
    }
    with session_scope(app) as session:
        launch = session.scalars(select(Launch)).one()
        assert launch.role == "learner" and launch.message_type == "LtiResourceLinkRequest"
        assert len(launch.id) >= 43 and launch.id == handed


def test_a_launch_and_its_landing_page_cost_few_statements(
    app: Flask, in_process_lms: InProcessLms, count_queries: CountQueries
) -> None:
    """The launch inserts its row bound to the browser (no UPDATE after), and a learner's landing page
    reads the manager links once for its lists and every panel that asks whether they manage anyone."""
    client = app.test_client()
    with count_queries() as launch:
        response = in_process_lms.launch_as(client)
    assert response.status_code == 303
    assert not [s for s in launch.statements if s.lstrip().upper().startswith("UPDATE LAUNCHES")]
    with count_queries() as landing:
        assert client.get(response.headers["Location"].partition("#")[0]).status_code == 200
    reads_of_links = [s for s in landing.statements if "manager_links" in s]
    assert len(reads_of_links) == 1, reads_of_links
    # The launch with its person, course, placement and the placement's activity, and the stamp the page's
    # frame-ancestors header compares, in one statement: none reads the activity or the stamp again.
    [lookup, *others] = landing.statements
    assert "FROM launches" in lookup and "activities" in lookup and "cache_versions" in lookup, lookup
    again = ("SELECT activities.", "SELECT cache_versions.")
    assert not [s for s in others if s.lstrip().startswith(again)], others
    assert len(landing.statements) <= 4, landing.statements
    assert not [s for s in landing.statements if "reminder_opt_outs" in s]  # the home shows no e-mail choice


def test_login_by_get_and_the_state_cookie_flags(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    response, params = in_process_lms.login(client, method="GET")
    assert response.status_code == 302
    assert params["client_id"] == CLIENT_ID and params["redirect_uri"].endswith("/lti/launch")
    assert params["login_hint"] == "hint-1" and params["lti_message_hint"] == "msg-1"
    assert_iframe_cookie(response, "lti1p3-" + params["state"])


def test_replayed_launch_is_rejected_and_stores_nothing_more(
    app: Flask, in_process_lms: InProcessLms, lti_log: list[logging.LogRecord]
) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    token = in_process_lms.key.sign(in_process_lms.claims(params["nonce"]))
    assert in_process_lms.launch(client, state=params["state"], token=token).status_code == 303
    before = counts(app)

    replay = in_process_lms.launch(client, state=params["state"], token=token)
    assert_rejected(replay, "nonce_used")
    assert "This launch was already used." in replay.get_data(as_text=True)
    assert counts(app) == before
    (record,) = lti_log
    assert record.fields["reason"] == "nonce_used"  # type: ignore[attr-defined]
    assert record.fields["issuer"] == ISSUER and record.fields["client_id"] == CLIENT_ID  # type: ignore[attr-defined]
    assert token not in record.getMessage() and token not in str(record.fields)  # type: ignore[attr-defined]


EMPTY = {"User": 0, "Context": 0, "Membership": 0, "ResourceLink": 0, "Launch": 0, "ManagerLink": 0}


@pytest.mark.parametrize(
    ("claims", "reason", "details"),
    [
        ({CLAIM_VERSION: "1.1"}, "wrong_version", {"version": "1.1"}),
        (
            {"https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiSomethingElse"},
            "unsupported_message_type",
            {"message_type": "LtiSomethingElse"},
        ),
        (
            {CLAIM_DEPLOYMENT_ID: "7"},
            "unknown_deployment",
            {"deployment_id": "7", "issuer": ISSUER, "client_id": CLIENT_ID},
        ),
        (
            {"aud": "someone-else"},
            "audience_mismatch",
            {"audience": "someone-else", "issuer": ISSUER, "client_id": CLIENT_ID},
        ),
        ({"aud": [CLIENT_ID, "other"]}, "azp_mismatch", {"azp": "missing", "client_id": CLIENT_ID}),
        ({"exp": int(time.time()) - 3600}, "expired_token", {}),
        ({"iat": int(time.time()) + 3600}, "token_from_future", {}),
        ({"nonce": "not-the-login-nonce"}, "nonce_mismatch", {}),
        (
            {"iss": "https://elsewhere.example"},
            "issuer_mismatch",
            {"issuer": "https://elsewhere.example", "login_issuer": ISSUER},
        ),
    ],
)
def test_invalid_claims_are_rejected_with_their_message(
    app: Flask,
    in_process_lms: InProcessLms,
    lti_log: list[logging.LogRecord],
    claims: dict[str, Any],
    reason: str,
    details: dict[str, Any],
) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    token = in_process_lms.key.sign({**in_process_lms.claims(params["nonce"]), **claims})
    response = in_process_lms.launch(client, state=params["state"], token=token)
    assert_rejected(response, reason, **details)
    assert [record.fields["reason"] for record in lti_log] == [reason]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "claim",
    [
        "sub",
        CLAIM_ROLES,
        CLAIM_DEPLOYMENT_ID,
        CLAIM_VERSION,
        "https://purl.imsglobal.org/spec/lti/claim/message_type",
        "https://purl.imsglobal.org/spec/lti/claim/resource_link",
    ],
)
def test_missing_required_claims_are_400(app: Flask, in_process_lms: InProcessLms, claim: str) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    claims = in_process_lms.claims(params["nonce"])
    del claims[claim]
    response = in_process_lms.launch(client, state=params["state"], token=in_process_lms.key.sign(claims))
    assert response.status_code == 400
    assert "The id_token has no" in response.get_data(as_text=True)
    assert counts(app) == EMPTY


def test_signature_failures_are_401(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    forged = SigningKey.generate(in_process_lms.key.kid).sign(in_process_lms.claims(params["nonce"]))
    assert_rejected(in_process_lms.launch(client, state=params["state"], token=forged), "bad_signature",
                    kid=in_process_lms.key.kid)

    _, params = in_process_lms.login(client)
    unknown = SigningKey.generate("rotated-away").sign(in_process_lms.claims(params["nonce"]))
    assert_rejected(
        in_process_lms.launch(client, state=params["state"], token=unknown),
        "unknown_kid",
        kid="rotated-away",
        issuer=ISSUER,
        jwks_url=in_process_lms.jwks_url,
    )

    _, params = in_process_lms.login(client)
    no_kid = jwt.encode(
        in_process_lms.claims(params["nonce"]), in_process_lms.key.private_pem, algorithm="RS256"
    )
    assert_rejected(in_process_lms.launch(client, state=params["state"], token=no_kid), "missing_kid")

    _, params = in_process_lms.login(client)
    hs256 = jwt.encode(
        in_process_lms.claims(params["nonce"]),
        "x" * 32,
        algorithm="HS256",
        headers={"kid": in_process_lms.key.kid},
    )
    assert_rejected(
        in_process_lms.launch(client, state=params["state"], token=hs256), "unsupported_alg", alg="HS256"
    )
    assert counts(app) == EMPTY


def test_platform_key_rotation_refetches_once_within_the_rate_limit(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    assert in_process_lms.launch_as(app.test_client()).status_code == 303
    assert in_process_lms.jwks_hits == 1
    assert in_process_lms.launch_as(app.test_client()).status_code == 303
    assert in_process_lms.jwks_hits == 1  # cached on the platform row

    rotated = SigningKey.generate("platform-key-2")
    client = app.test_client()
    _, params = in_process_lms.login(client)
    response = in_process_lms.launch(
        client, state=params["state"], token=rotated.sign(in_process_lms.claims(params["nonce"]))
    )
    assert response.status_code == 401  # not published yet; the refetch is rate limited anyway
    assert in_process_lms.jwks_hits == 1


def test_launch_without_login_or_cookie(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    assert_rejected(client.post("/lti/launch", data={"state": "x"}), "missing_id_token")
    assert_rejected(client.post("/lti/launch", data={"id_token": "a.b.c"}), "missing_state")
    assert_rejected(
        client.post("/lti/launch", data={"id_token": "nonsense", "state": "x"}),
        "malformed_token",
        detail="a JWT has three dot-separated parts",
    )
    token = in_process_lms.key.sign(in_process_lms.claims("whatever"))
    assert_rejected(in_process_lms.launch(client, state="state-unknown", token=token), "unknown_state")

    _, params = in_process_lms.login(client)
    other_browser = app.test_client()
    response = in_process_lms.launch(
        other_browser,
        state=params["state"],
        token=in_process_lms.key.sign(in_process_lms.claims(params["nonce"])),
    )
    assert_rejected(response, "cookies_blocked")
    assert 'data-testid="open-new-tab"' in response.get_data(as_text=True)
    assert counts(app) == EMPTY


def test_login_refusals(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    response, _ = in_process_lms.login(client, client_id="unknown-client")
    assert_rejected(response, "unknown_registration", issuer=ISSUER, client_id="unknown-client")
    assert "cadre platform add --name NAME --issuer https://lms.example.test --client-id unknown-client" in (
        response.get_data(as_text=True)
    )
    response, _ = in_process_lms.login(client, lti_deployment_id="99")
    assert_rejected(response, "unknown_deployment", issuer=ISSUER, client_id=CLIENT_ID, deployment_id="99")
    assert "cadre platform add-deployment --issuer https://lms.example.test --client-id client-a 99" in (
        response.get_data(as_text=True)
    )
    response, _ = in_process_lms.login(client, login_hint="")
    assert response.status_code == 400

    # Without client_id: fine while the issuer has one registration, refused once it has two.
    response, params = in_process_lms.login(client, client_id=None)
    assert response.status_code == 302 and params["client_id"] == CLIENT_ID
    in_process_lms.register("client-b")
    response, _ = in_process_lms.login(client, client_id=None)
    assert_rejected(response, "login_client_id_required", issuer=ISSUER)


def test_two_client_ids_on_one_issuer_each_launch_as_themselves(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    in_process_lms.register("client-b")
    client = app.test_client()
    _, params = in_process_lms.login(client, client_id="client-b")
    assert params["client_id"] == "client-b"
    # A token for client-a answering client-b's login is refused, though both are registered.
    response = in_process_lms.launch(
        client, state=params["state"], token=in_process_lms.key.sign(in_process_lms.claims(params["nonce"]))
    )
    assert_rejected(response, "audience_mismatch", audience=CLIENT_ID, issuer=ISSUER, client_id="client-b")

    _, params = in_process_lms.login(client, client_id="client-b")
    claims = in_process_lms.claims(params["nonce"], aud="client-b")
    assert (
        in_process_lms.launch(
            client, state=params["state"], token=in_process_lms.key.sign(claims)
        ).status_code
        == 303
    )
    with session_scope(app) as session:
        assert session.scalars(select(Launch)).one().platform.client_id == "client-b"


def test_relaunch_updates_without_blanking_personal_data(app: Flask, in_process_lms: InProcessLms) -> None:
    assert in_process_lms.launch_as(app.test_client()).status_code == 303
    anonymous = {"name": None, "given_name": None, "family_name": None, "email": None}
    client = app.test_client()
    _, params = in_process_lms.login(client)
    claims = {
        k: v
        for k, v in in_process_lms.claims(params["nonce"], roles=[INSTRUCTOR]).items()
        if k not in anonymous
    }
    assert (
        in_process_lms.launch(
            client, state=params["state"], token=in_process_lms.key.sign(claims)
        ).status_code
        == 303
    )
    with session_scope(app) as session:
        user = session.scalars(select(User)).one()
        assert (user.name, user.email) == ("Ada Lovelace", "ada@example.test")
        assert session.scalars(select(Membership)).one().role == "designer"
        assert session.scalar(select(func.count()).select_from(Launch)) == 2


def test_mentor_scope_links_the_manager_to_observed_learners(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    in_process_lms.launch_as(app.test_client(), sub="learner-1", name="Lin Learner")
    client = app.test_client()
    response = in_process_lms.launch_as(
        client,
        sub="mentor-1",
        name="Max Manager",
        roles=[MENTOR],
        **{CLAIM_ROLE_SCOPE_MENTOR: ["learner-1", "learner-2"]},
    )
    assert response.status_code == 303
    with session_scope(app) as session:
        links = session.scalars(select(ManagerLink).order_by(ManagerLink.id)).all()
        assert [(link.manager.sub, link.learner.sub, link.source, link.status, link.relation)
                for link in links] == [
            ("mentor-1", "learner-1", "lti_mentor", "active", "mentor"),
            ("mentor-1", "learner-2", "lti_mentor", "active", "mentor"),
        ]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-role="manager"' in page and "Lin Learner" in page
    # Someone Cadre has not met and the roster has not named: never shown by their LTI id.
    assert "learner-2" not in page
    assert 'A learner not in the course roster yet <span class="muted" data-testid="not-met-yet">' in page

    in_process_lms.launch_as(
        app.test_client(), sub="mentor-1", roles=[MENTOR], **{CLAIM_ROLE_SCOPE_MENTOR: ["learner-2"]}
    )
    with session_scope(app) as session:
        statuses = {link.learner.sub: link.status for link in session.scalars(select(ManagerLink))}
    assert statuses == {"learner-1": "ended", "learner-2": "active"}


def test_jwks_is_public_and_cacheable(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/lti/jwks")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    (key,) = response.get_json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"] and "d" not in key
    assert client.get("/lti/jwks").get_json()["keys"] == [key]


def test_cookie_check_page_renders_when_enabled(app: Flask, in_process_lms: InProcessLms) -> None:
    from lti_tool.db import get_session
    from lti_tool.lti.oidc import CadreOIDCLogin, login_request
    from lti_tool.lti.registration import DatabaseToolConf

    params = {"iss": ISSUER, "login_hint": "h", "client_id": CLIENT_ID, "lti_storage_target": "_parent"}
    with app.test_request_context("/lti/login", query_string=params):
        settings = app.config["CADRE"]
        oidc = CadreOIDCLogin(
            login_request(params), DatabaseToolConf(get_session(), settings), get_session(), settings
        )
        page = oidc.enable_check_cookies().redirect(settings.url("/lti/launch"))
    assert isinstance(page, str) and "lti1p3-new-tab-link" in page and "cookie-check.js" in page
    assert '"lti1p3_new_window": "1"' in page and '"lti_storage_target": "_parent"' in page
