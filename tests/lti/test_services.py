"""The AGS/NRPS access-token cache is keyed by issuer, client_id and scopes."""

from __future__ import annotations

import httpx
from pylti1p3.registration import Registration

from egress import OutboundClient
from lti_tool.lti.services import EXPIRY_MARGIN_SECONDS, AccessTokenCache, CadreServiceConnector

SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]


class FakeTokenEndpoint:
    """A token endpoint without a network (httpx's MockTransport): the cache is what is tested here; the
    calls over real HTTP are in tests/security/test_outbound_transactions.py."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.client = OutboundClient(transport=httpx.MockTransport(self.answer))

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        return httpx.Response(200, json={"access_token": f"token-{len(self.calls)}", "expires_in": 3600})


def connector(client_id: str, http: FakeTokenEndpoint, cache: AccessTokenCache) -> CadreServiceConnector:
    from tests.lti.conftest import SigningKey

    key = SigningKey.generate()
    registration = (
        Registration()
        .set_issuer("https://canvas.instructure.com")
        .set_client_id(client_id)
        .set_auth_token_url("https://canvas.example/token")
        .set_tool_private_key(key.private_pem.decode())
    )
    service = CadreServiceConnector(registration, http.client)
    service.cache = cache
    return service


def test_two_clients_of_one_issuer_never_share_a_token() -> None:
    http, cache = FakeTokenEndpoint(), AccessTokenCache()
    first = connector("customer-a", http, cache)
    second = connector("customer-b", http, cache)
    assert first.get_access_token(SCOPES) == "token-1"
    assert second.get_access_token(SCOPES) == "token-2"
    assert first.get_access_token(SCOPES) == "token-1"  # cached
    assert len(http.calls) == 2
    assert first._scope_key(SCOPES) != second._scope_key(SCOPES)
    assert first._scope_key(["b", "a"]) == first._scope_key(["a", "b"])


def test_cache_expires_before_the_platform_says() -> None:
    cache = AccessTokenCache()
    cache.put("key", "token", expires_in=100, now=0)
    assert cache.get("key", now=100 - EXPIRY_MARGIN_SECONDS - 1) == "token"
    assert cache.get("key", now=100 - EXPIRY_MARGIN_SECONDS) is None
    cache.put("short", "token", expires_in=EXPIRY_MARGIN_SECONDS, now=0)
    assert cache.get("short", now=0) is None
