"""No outgoing call waits on a platform while a database transaction is open.

The platform here is a real HTTP server on 127.0.0.1 that, while it handles Cadre's request, looks at the
database from the outside: the connections of Cadre's engine inside a transaction (both backends) and, on
PostgreSQL, the sessions ``idle in transaction`` in ``pg_stat_activity``. Then the LTI services over real
HTTP: what is retried, what is sent once, and what the errors say.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request
from pylti1p3.registration import Registration
from sqlalchemy import Connection, Engine, delete, event, select

from egress import OutboundClient, OutboundPolicy
from lti_tool import outbound
from lti_tool.db import after_commit, commit, get_engine, get_session, rollback, session_scope, utcnow
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.registration import PlatformKeys, PlatformKeysStale
from lti_tool.lti.services import AccessTokenCache, CadreServiceConnector, PlatformServiceError
from lti_tool.models import LtiCacheEntry, Platform
from lti_tool.ops import audit, invitations
from lti_tool.ops.platforms import PlatformEndpoints, add_platform
from tests.fixtures.live_server import TEST_SECRET_KEY, LiveServer, free_port, serve_in_thread

SECRET = "SECRET-REGISTRATION-TOKEN"
KEY_SET = {"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB", "alg": "RS256", "use": "sig"}]}


class OpenTransactions:
    """Which connections of ``engine`` are inside a transaction, readable from any thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open: set[int] = set()
        self._lock = threading.Lock()
        self._listeners = {"begin": self._begin, "commit": self._end, "rollback": self._end}
        for name, listener in self._listeners.items():
            event.listen(engine, name, listener)

    def _begin(self, connection: Connection) -> None:
        with self._lock:
            self._open.add(id(connection))

    def _end(self, connection: Connection) -> None:
        with self._lock:
            self._open.discard(id(connection))

    def count(self) -> int:
        with self._lock:
            return len(self._open)

    def idle_in_transaction_on_the_server(self) -> int:
        """PostgreSQL's own view (0 on SQLite): sessions of this database holding a transaction open."""
        if self.engine.dialect.name != "postgresql":
            return 0
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as outsider:
            row = outsider.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            ).fetchone()
        return int(row[0]) if row else 0

    def remove(self) -> None:
        for name, listener in self._listeners.items():
            event.remove(self.engine, name, listener)


@dataclass
class Platform_:  # noqa: N801 - the remote platform, not the Platform row
    url: str
    transactions: OpenTransactions | None = None
    seen: list[tuple[str, int, int]] = field(default_factory=list)
    """(path, Cadre's connections in a transaction, PostgreSQL sessions idle in transaction)."""
    during_configuration: Any = None

    def observe(self) -> None:
        assert self.transactions is not None
        self.seen.append(
            (request.path, self.transactions.count(), self.transactions.idle_in_transaction_on_the_server())
        )


@pytest.fixture(scope="module")
def remote_platform() -> Iterator[Platform_]:
    port = free_port()
    platform = Platform_(f"http://127.0.0.1:{port}")
    remote = Flask("platform_watching_the_database")

    @remote.get("/.well-known/openid-configuration")
    def configuration() -> Response:
        platform.observe()
        if platform.during_configuration is not None:
            platform.during_configuration()
        base = platform.url
        return jsonify(issuer=base, authorization_endpoint=f"{base}/auth", token_endpoint=f"{base}/token",
                       jwks_uri=f"{base}/jwks", registration_endpoint=f"{base}/register")

    @remote.post("/register")
    def register() -> Response:
        platform.observe()
        answer = request.get_json(force=True)
        tool = dict(answer["https://purl.imsglobal.org/spec/lti-tool-configuration"], deployment_id="1")
        return jsonify({**answer, "client_id": "watched-client",
                        "https://purl.imsglobal.org/spec/lti-tool-configuration": tool})

    @remote.get("/jwks")
    def jwks() -> Response:
        platform.observe()
        return jsonify(KEY_SET)

    @remote.get("/broken-jwks")
    def broken_jwks() -> tuple[str, int]:
        platform.observe()
        return "down", 500

    server = serve_in_thread(remote, port)
    yield platform
    server.shutdown()


@pytest.fixture
def watched(remote_platform: Platform_, live_server: LiveServer, app: Flask) -> Iterator[Platform_]:
    """The platform, watching the transactions of the app that real commits go through."""
    remote_platform.seen.clear()
    remote_platform.during_configuration = None
    remote_platform.transactions = OpenTransactions(get_engine(app))
    yield remote_platform
    remote_platform.transactions.remove()


def registration_url(platform: Platform_, invite: str) -> str:
    query = httpx.QueryParams({"invite": invite, "registration_token": SECRET,
                               "openid_configuration": f"{platform.url}/.well-known/openid-configuration"})
    return f"/lti/register?{query}"


# -- dynamic registration ---------------------------------------------------------------------------------


def test_dynamic_registration_calls_the_platform_with_no_transaction_open(
    app: Flask, watched: Platform_
) -> None:
    """The invitation is read first, in a transaction that is over before Cadre calls the platform; the
    registration is stored afterwards, and the invitation is then used."""
    invite = invitations.issue(TEST_SECRET_KEY)
    answer = app.test_client().get(registration_url(watched, invite))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert watched.seen == [("/.well-known/openid-configuration", 0, 0), ("/register", 0, 0)]
    with session_scope(app) as session:
        stored = session.scalars(select(Platform).where(Platform.issuer == watched.url)).one()
        assert stored.client_id == "watched-client"
    again = app.test_client().get(registration_url(watched, invite))
    assert again.status_code == 403 and "already been used" in again.get_data(as_text=True)
    assert len(watched.seen) == 2  # the used invitation called nothing


def test_an_invitation_used_while_the_platform_answered_stores_nothing(
    app: Flask, watched: Platform_
) -> None:
    """The invitation is checked before the call and claimed after it: another registration that used it
    in between wins, and this one stores nothing."""
    invite = invitations.issue(TEST_SECRET_KEY)
    with app.test_request_context():
        invite_id = invitations.check(get_session(), TEST_SECRET_KEY, invite, invitations_max_age(app))

    def another_registration_finishes() -> None:
        with session_scope(app) as session:
            invitations.mark_used(session, invite_id, invitations_max_age(app))

    watched.during_configuration = another_registration_finishes
    answer = app.test_client().get(registration_url(watched, invite))
    assert answer.status_code == 403
    assert "used by another registration while this one was in progress" in answer.get_data(as_text=True)
    with session_scope(app) as session:
        assert session.scalars(select(Platform).where(Platform.issuer == watched.url)).first() is None


def invitations_max_age(app: Flask) -> timedelta:
    return timedelta(hours=app.config["CADRE"].registration_invite_hours)


def test_registration_refuses_link_local_addresses(app: Flask, live_server: LiveServer) -> None:
    query = httpx.QueryParams({"invite": invitations.issue(TEST_SECRET_KEY),
                               "openid_configuration": "http://169.254.169.254/latest/meta-data/"})
    answer = app.test_client().get(f"/lti/register?{query}")
    assert answer.status_code == 400
    assert "Cadre does not connect to the address of http://169.254.169.254/latest/meta-data/" in (
        answer.get_data(as_text=True)
    )


# -- platform keys during a launch ------------------------------------------------------------------------


def add_watched_platform(app: Flask, watched: Platform_, jwks_path: str = "/jwks") -> None:
    with session_scope(app) as session:
        endpoints = PlatformEndpoints(issuer=watched.url, login_url=f"{watched.url}/auth",
                                      token_url=f"{watched.url}/token", jwks_url=watched.url + jwks_path)
        add_platform(session, name="Watched", client_id="c1", endpoints=endpoints,
                     actor_label=audit.REGISTRATION_ACTOR)


def test_platform_keys_are_fetched_with_no_transaction_open(app: Flask, watched: Platform_) -> None:
    add_watched_platform(app, watched)
    with app.test_request_context():
        session = get_session()
        platform = session.scalars(select(Platform).where(Platform.issuer == watched.url)).one()
        assert session.in_transaction()  # as in a launch: the login state and the registration were read
        keys = PlatformKeys(app.extensions["cadre.sessionmaker"], app.config["CADRE"])
        assert keys.key_for(platform, "k1")["kid"] == "k1"
        assert platform.issuer == watched.url  # still loaded: ending the transaction expired nothing
    assert watched.seen == [("/jwks", 0, 0)]
    with session_scope(app) as session:
        assert session.get(Platform, platform.id).key_set == KEY_SET  # type: ignore[union-attr]


def test_a_launch_that_has_written_fetches_the_keys_after_rolling_back(
    app: Flask, watched: Platform_
) -> None:
    """A launch that consumed its login before finding the keys stale is told so (nothing is fetched with
    its transaction open); the view rolls back, refreshes outside any transaction and validates again."""
    add_watched_platform(app, watched)
    with app.test_request_context():
        session = get_session()
        platform = session.scalars(select(Platform).where(Platform.issuer == watched.url)).one()
        session.execute(delete(LtiCacheEntry).where(LtiCacheEntry.key == "a-consumed-login"))
        keys = PlatformKeys(app.extensions["cadre.sessionmaker"], app.config["CADRE"])
        with pytest.raises(PlatformKeysStale) as stale:
            keys.key_for(platform, "k1")
        assert watched.seen == []
        rollback(session)
        keys.refresh(stale.value.platform_id)
        again = session.get(Platform, platform.id)
        assert again is not None and keys.key_for(again, "k1")["kid"] == "k1"
    assert watched.seen == [("/jwks", 0, 0)]  # fetched once, with nothing open


def test_a_failed_refresh_refuses_the_launch_without_fetching_twice(app: Flask, watched: Platform_) -> None:
    add_watched_platform(app, watched, "/broken-jwks")
    with app.test_request_context():
        session = get_session()
        platform_id = session.scalars(select(Platform.id).where(Platform.issuer == watched.url)).one()
        keys = PlatformKeys(app.extensions["cadre.sessionmaker"], app.config["CADRE"])
        rollback(session)  # as the launch view does before refreshing
        keys.refresh(platform_id)
        with pytest.raises(LaunchRejected) as refused:
            keys.key_for(session.get(Platform, platform_id), "k1")  # type: ignore[arg-type]
    assert refused.value.reason == "jwks_unavailable"
    assert watched.seen == [("/broken-jwks", 0, 0)]


# -- the guard ------------------------------------------------------------------------------------------


def test_the_client_refuses_to_send_while_the_requests_transaction_is_open(
    app: Flask, watched: Platform_
) -> None:
    with app.test_request_context():
        session = get_session()
        session.execute(select(Platform.id))
        with pytest.raises(outbound.TransactionOpen, match=f"GET {watched.url}/jwks was about to be sent"):
            outbound.client().get(f"{watched.url}/jwks?access_token={SECRET}")
        assert watched.seen == []
        outbound.leave_read_transaction()
        assert outbound.client().get(f"{watched.url}/jwks").ok

        session.add(LtiCacheEntry(key="outbound-test", value={}, expires_at=utcnow()))
        session.flush()
        with pytest.raises(outbound.TransactionOpen, match="has written"):
            outbound.leave_read_transaction()
        session.rollback()
        outbound.leave_read_transaction()  # nothing open any more: nothing to do


def test_callbacks_registered_before_leaving_wait_for_the_final_commit(
    app: Flask, live_server: LiveServer
) -> None:
    ran: list[str] = []
    with app.test_request_context():
        session = get_session()
        session.execute(select(Platform.id))
        after_commit(session, lambda: ran.append("kept"))
        outbound.leave_read_transaction()
        assert ran == []  # ending the read did not release it
        commit(session)
        assert ran == ["kept"]
        session.execute(select(Platform.id))
        after_commit(session, lambda: ran.append("dropped"))
        outbound.leave_read_transaction()
        rollback(session)
        assert ran == ["kept"]


# -- LTI services over HTTP -----------------------------------------------------------------------------


@dataclass
class Services:
    url: str
    hits: list[str] = field(default_factory=list)
    tokens_issued: int = 0


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    port = free_port()
    services = Services(f"http://127.0.0.1:{port}")
    remote = Flask("lti_services")

    @remote.before_request
    def count() -> None:
        services.hits.append(f"{request.method} {request.path}")

    @remote.post("/token")
    def token() -> Response:
        assert request.form["grant_type"] == "client_credentials"
        services.tokens_issued += 1
        return jsonify(access_token=f"ACCESS-TOKEN-{services.tokens_issued}", expires_in=3600)

    @remote.get("/members")
    def members() -> Response:
        if services.hits.count("GET /members") == 1:
            return Response("maintenance", status=503, headers={"Retry-After": "2"})
        return jsonify(members=[{"user_id": "u1", "roles": ["Learner"]}])

    @remote.post("/scores")
    def scores() -> Response:
        return Response("busy", status=503, headers={"Retry-After": "2"})

    server = serve_in_thread(remote, port)
    yield services
    server.shutdown()


def service_connector(base: str, sleeps: list[float]) -> CadreServiceConnector:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    registration = (Registration().set_issuer(base).set_client_id("c1")
                    .set_auth_token_url(f"{base}/token").set_tool_private_key(pem))
    connector = CadreServiceConnector(registration, OutboundClient(OutboundPolicy(), sleep=sleeps.append))
    connector.cache = AccessTokenCache()
    return connector


def test_services_retry_a_get_after_retry_after_and_send_a_post_once(services: Services) -> None:
    services.hits.clear()
    sleeps: list[float] = []
    connector = service_connector(services.url, sleeps)
    roster = connector.make_service_request(["nrps"], f"{services.url}/members?rlid=1")
    assert roster["body"] == {"members": [{"user_id": "u1", "roles": ["Learner"]}]}
    assert sleeps == [2.0]
    with pytest.raises(PlatformServiceError) as refused:
        connector.make_service_request(["nrps"], f"{services.url}/scores?token=QUERY-SECRET",
                                       is_post=True, data="{}")
    assert services.hits == ["POST /token", "GET /members", "GET /members", "POST /scores"]
    assert refused.value.status_code == 503
    message = str(refused.value)
    assert message == f"The platform answered HTTP 503 to a service request at {services.url}/scores."
    assert "QUERY-SECRET" not in message and "ACCESS-TOKEN" not in message


def test_an_unreachable_token_endpoint_is_a_clear_error() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PlatformServiceError, match=f"could not get an access token from the platform: POST "
                                                   f"{closed}/token: ConnectError"):
        service_connector(closed, []).get_access_token(["score"])
