"""A minimal LTI platform for Cadre's own launch tests: an RSA key, its JWKS served over HTTP, signed tokens.

The full platform (login pages, deep-link returns, every profile) lives in tests/fixtures/platform.py; these
tests drive Cadre's views directly with Flask's test client and tokens signed here.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify
from flask.testing import FlaskClient
from jwcrypto import jwk
from werkzeug.test import TestResponse

from lti_tool.db import session_scope
from lti_tool.lti.launch import (
    CLAIM_CONTEXT,
    CLAIM_DEEP_LINKING_SETTINGS,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_MESSAGE_TYPE,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLES,
    CLAIM_VERSION,
    DEEP_LINKING_REQUEST,
    RESOURCE_LINK_REQUEST,
)
from lti_tool.models import Deployment, Platform
from tests.fixtures.live_server import free_port, serve_in_thread

ISSUER = "https://lms.example.test"
CLIENT_ID = "client-a"
DEPLOYMENT_ID = "1"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"


@dataclass
class SigningKey:
    kid: str
    private_pem: bytes
    public_jwk: dict[str, Any]

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        kid = kid or uuid.uuid4().hex
        public = json.loads(jwk.JWK.from_pem(pem).export_public())
        public.update({"kid": kid, "alg": "RS256", "use": "sig"})
        return cls(kid=kid, private_pem=pem, public_jwk=public)

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid, **(headers or {})}
        )


@dataclass
class JwksServer:
    """The platform's JWKS endpoint; ``published`` is what it serves, ``hits`` how often it was asked."""

    url: str
    published: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0


@pytest.fixture(scope="session")
def jwks_server() -> Iterator[JwksServer]:
    port = free_port()
    server_state = JwksServer(url=f"http://127.0.0.1:{port}/jwks")
    platform_app = Flask("test_platform")

    @platform_app.get("/jwks")
    def keys() -> Any:
        server_state.hits += 1
        return jsonify({"keys": server_state.published})

    server = serve_in_thread(platform_app, port)
    yield server_state
    server.shutdown()


@pytest.fixture(scope="session")
def platform_key() -> SigningKey:
    return SigningKey.generate("platform-key-1")


@dataclass
class FakePlatform:
    """A registered platform and the helpers to log in and launch Cadre as it would."""

    app: Flask
    key: SigningKey
    jwks: JwksServer
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    deployment_id: str = DEPLOYMENT_ID

    def register(
        self,
        client_id: str | None = None,
        deployment_ids: tuple[str, ...] = (DEPLOYMENT_ID,),
        issuer: str | None = None,
    ) -> int:
        with session_scope(self.app) as session:
            platform = Platform(
                name="Test LMS",
                issuer=issuer or self.issuer,
                client_id=client_id or self.client_id,
                auth_login_url="https://lms.example.test/auth",
                auth_token_url="https://lms.example.test/token",
                key_set_url=self.jwks.url,
            )
            platform.deployments = [Deployment(deployment_id=d) for d in deployment_ids]
            session.add(platform)
            session.flush()
            return platform.id

    def login(
        self, client: FlaskClient, method: str = "POST", **params: str
    ) -> tuple[TestResponse, dict[str, str]]:
        data = {
            "iss": self.issuer,
            "login_hint": "hint-1",
            "target_link_uri": "http://localhost/lti/launch",
            "client_id": self.client_id,
            "lti_message_hint": "msg-1",
            **params,
        }
        data = {key: value for key, value in data.items() if value is not None}
        if method == "GET":
            response = client.get("/lti/login", query_string=data)
        else:
            response = client.post("/lti/login", data=data)
        location = response.headers.get("Location", "")
        return response, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))

    def claims(
        self,
        nonce: str,
        *,
        message_type: str = RESOURCE_LINK_REQUEST,
        sub: str = "user-1",
        roles: list[str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
            "name": "Ada Lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email": "ada@example.test",
            CLAIM_VERSION: "1.3.0",
            CLAIM_MESSAGE_TYPE: message_type,
            CLAIM_DEPLOYMENT_ID: self.deployment_id,
            CLAIM_ROLES: roles if roles is not None else [LEARNER],
            CLAIM_CONTEXT: {
                "id": "course-1",
                "title": "Leading Teams",
                "label": "LT101",
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection"],
            },
        }
        if message_type == RESOURCE_LINK_REQUEST:
            claims[CLAIM_RESOURCE_LINK] = {"id": "link-1", "title": "Feedback round"}
        if message_type == DEEP_LINKING_REQUEST:
            claims[CLAIM_DEEP_LINKING_SETTINGS] = {
                "deep_link_return_url": "https://lms.example.test/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"],
                "data": "opaque-platform-data",
            }
        claims.update(extra)
        return claims

    def launch(self, client: FlaskClient, *, state: str, token: str) -> TestResponse:
        return client.post("/lti/launch", data={"id_token": token, "state": state})

    def launch_as(self, client: FlaskClient, **claim_options: Any) -> TestResponse:
        """Login then launch with valid claims (overridable); the response is Cadre's redirect."""
        _, params = self.login(client)
        token = self.key.sign(self.claims(params["nonce"], **claim_options))
        return self.launch(client, state=params["state"], token=token)


@pytest.fixture
def in_process_lms(app: Flask, jwks_server: JwksServer, platform_key: SigningKey) -> FakePlatform:
    jwks_server.published = [platform_key.public_jwk]
    jwks_server.hits = 0
    platform = FakePlatform(app=app, key=platform_key, jwks=jwks_server)
    platform.register()
    return platform
