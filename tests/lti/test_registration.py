"""Registrations by (issuer, client_id), deployments, Cadre's JWKS and the platforms' key sets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from pylti1p3.exception import ToolConfException
from sqlalchemy.orm.attributes import set_committed_value

from egress import OutboundClient, OutboundPolicy
from lti_tool.db import get_session, utcnow
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.registration import DatabaseToolConf, JwksUnavailable, PlatformKeys, fetch_jwks
from lti_tool.models import Platform
from tests.lti.conftest import CLIENT_ID, ISSUER, InProcessLms, SigningKey


def test_lookups_always_use_issuer_and_client_id(app: Flask, in_process_lms: InProcessLms) -> None:
    in_process_lms.register("client-b", deployment_id="b-1")
    with app.test_request_context():
        conf = DatabaseToolConf(get_session(), app.config["CADRE"])
        assert conf.check_iss_has_many_clients(ISSUER) and not conf.check_iss_has_one_client(ISSUER)
        first = conf.find_registration_by_params(ISSUER, CLIENT_ID)
        second = conf.find_registration_by_params(ISSUER, "client-b")
        assert first is not None and second is not None
        assert (first.get_client_id(), second.get_client_id()) == (CLIENT_ID, "client-b")
        assert first.get_kid() == second.get_kid() and first.get_tool_private_key()
        assert conf.find_registration_by_params(ISSUER, "client-c") is None
        assert conf.find_registration_by_params("https://other.example", CLIENT_ID) is None
        with pytest.raises(ToolConfException):
            conf.find_registration_by_issuer(ISSUER)

        assert conf.find_deployment_by_params(ISSUER, "1", CLIENT_ID) is not None
        assert conf.find_deployment_by_params(ISSUER, "b-1", CLIENT_ID) is None  # client-b's deployment
        assert conf.find_deployment_by_params(ISSUER, "b-1", "client-b") is not None
        assert conf.find_deployment_by_params(ISSUER, "404", CLIENT_ID) is None

        (key,) = conf.get_jwks(ISSUER, CLIENT_ID)["keys"]
        assert key["kid"] == first.get_kid() and "d" not in key


class CountingFetch:
    def __init__(self, *key_sets: dict[str, Any]) -> None:
        self.key_sets = list(key_sets)
        self.calls = 0

    def __call__(self, url: str) -> dict[str, Any]:
        self.calls += 1
        if not self.key_sets:
            raise JwksUnavailable("HTTP 503")
        return self.key_sets.pop(0) if len(self.key_sets) > 1 else self.key_sets[0]


def test_platform_keys_cache_and_rate_limited_refetch(app: Flask, in_process_lms: InProcessLms) -> None:
    old, new = SigningKey.generate("old"), SigningKey.generate("new")
    fetch = CountingFetch({"keys": [old.public_jwk]}, {"keys": [old.public_jwk, new.public_jwk]})
    settings = app.config["CADRE"]
    with app.test_request_context():
        session = get_session()
        platform = session.query(Platform).one()
        keys = PlatformKeys(app.extensions["cadre.sessionmaker"], settings, fetch)
        assert keys.key_for(platform, "old")["kid"] == "old" and fetch.calls == 1
        assert keys.key_for(platform, "old")["kid"] == "old" and fetch.calls == 1  # cached
        with pytest.raises(LaunchRejected) as refused:
            keys.key_for(platform, "new")  # unknown, but refetched too recently
        assert refused.value.reason == "unknown_kid" and fetch.calls == 1

        # Aged in memory only: the request's session must not have written when the keys are fetched.
        set_committed_value(platform, "key_set_fetched_at",
                            utcnow() - timedelta(seconds=settings.jwks_refetch_min_seconds))
        assert keys.key_for(platform, "new")["kid"] == "new" and fetch.calls == 2
        session.rollback()  # the cache was written in its own transaction: a rejected launch keeps it
        assert session.query(Platform).one().key_set == {"keys": [old.public_jwk, new.public_jwk]}


def test_platform_keys_outage(app: Flask, in_process_lms: InProcessLms) -> None:
    key = SigningKey.generate("k")
    with app.test_request_context():
        platform = get_session().query(Platform).one()
        keys = PlatformKeys(app.extensions["cadre.sessionmaker"], app.config["CADRE"], CountingFetch())
        with pytest.raises(LaunchRejected) as refused:
            keys.key_for(platform, "k")
        assert refused.value.reason == "jwks_unavailable" and refused.value.status == 502
        # A stale cached key still serves while the platform is down.
        set_committed_value(platform, "key_set", {"keys": [key.public_jwk]})
        set_committed_value(platform, "key_set_fetched_at", utcnow() - timedelta(days=1))
        assert keys.key_for(platform, "k")["kid"] == "k"


def test_fetch_jwks_over_http(in_process_lms: InProcessLms) -> None:
    with OutboundClient(OutboundPolicy(connect_timeout=1, max_attempts=1)) as client:
        assert fetch_jwks(client, in_process_lms.jwks_url)["keys"][0]["kid"] == in_process_lms.key.kid
        with pytest.raises(JwksUnavailable, match="HTTP 404"):
            fetch_jwks(client, in_process_lms.jwks_url.replace("/jwks", "/nothing"))
        with pytest.raises(JwksUnavailable, match="ConnectError"):
            fetch_jwks(client, "http://127.0.0.1:9/jwks")
