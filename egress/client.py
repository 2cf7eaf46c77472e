"""One httpx client that applies an :class:`~egress.policy.OutboundPolicy` to every request."""

from __future__ import annotations

import functools
import ipaddress
import json as jsonlib
import logging
import random as randomlib
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx

from egress.errors import (
    AddressRefused,
    OutboundError,
    OutboundTimeout,
    OutboundUnreachable,
    RedirectRefused,
    ResponseTooLarge,
    UnexpectedResponse,
)
from egress.policy import (
    IDEMPOTENT_METHODS,
    RETRYABLE_STATUSES,
    OutboundPolicy,
    parse_retry_after,
    redirect_allowed,
    same_origin,
    shown_url,
)

log = logging.getLogger("cadre.outbound")


class _QuerylessUrls(logging.Filter):
    """httpx logs every request's full URL at INFO ("HTTP Request: GET https://…?access_token=…"): its
    records lose the query, user info and fragment before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(shown_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(existing, _QuerylessUrls) for existing in _httpx_log.filters):
    _httpx_log.addFilter(_QuerylessUrls())

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
BeforeSend = Callable[[str, str], None]
"""Called with (method, url) before every attempt; raise to stop the call (e.g. a transaction is open)."""


@dataclass(frozen=True)
class OutboundResponse:
    """A complete answer, read within the policy's limits. ``url`` is where it came from (after any
    redirects the caller allowed) and may carry a query: log :attr:`shown_url`, never ``url``."""

    method: str
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))

    def text(self, limit: int | None = None) -> str:
        return self.content[:limit].decode("utf-8", "replace")

    def expect_success(self) -> OutboundResponse:
        if not self.ok:
            raise UnexpectedResponse(f"HTTP {self.status_code}", method=self.method, url=self.url,
                                     status_code=self.status_code, attempts=self.attempts)
        return self

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.content)
        except (ValueError, RecursionError):
            raise UnexpectedResponse("the answer is not JSON", method=self.method, url=self.url,
                                     status_code=self.status_code, attempts=self.attempts) from None


class OutboundClient:
    """Every outgoing call of one component, under one policy. Thread-safe; reuses connections.

    Tests point it at loopback servers as they are (the default policy allows loopback), pass a
    ``transport`` (e.g. ``httpx.MockTransport``) to skip the network, and ``sleep``/``random`` to observe
    the backoff without waiting for it.
    """

    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        before_send: Iterable[BeforeSend] = (),
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = randomlib.random,
    ) -> None:
        self.policy = policy or OutboundPolicy()
        self._before_send = tuple(before_send)
        self._sleep = sleep
        self._random = random
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
            follow_redirects=False,  # followed here, one hop at a time, each checked
            # Environment proxies would be mounted as other transports, around the address check.
            trust_env=False,
            transport=transport or GuardedTransport(self.policy),
            headers={"User-Agent": self.policy.user_agent},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, url: str, **kwargs: Any) -> OutboundResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> OutboundResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> OutboundResponse:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> OutboundResponse:
        return self.request("DELETE", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
    ) -> OutboundResponse:
        """Send, retrying what may be retried, and return the whole answer whatever its status.

        ``idempotent`` defaults to what the method promises; set it for a POST that the server treats as
        idempotent (e.g. an xAPI statement with its id). Redirects are followed only when asked, for GET and
        HEAD, on http(s), never down to http, at most ``policy.max_redirects``. Raises
        :class:`~egress.errors.OutboundError` when there is no complete answer.
        """
        method = method.upper()
        if follow_redirects and method not in {"GET", "HEAD"}:
            raise ValueError("Only GET and HEAD follow redirects: a body must not be re-sent elsewhere.")
        retryable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempts = self.policy.max_attempts if retryable else 1
        body: dict[str, Any] = {"content": content, "data": data, "json": json}
        for attempt in range(1, attempts + 1):
            try:
                response = self._follow(method, url, dict(headers or {}), body, follow_redirects,
                                        self.policy.max_response_bytes if max_bytes is None else max_bytes)
            except (OutboundTimeout, OutboundUnreachable) as error:
                if attempt == attempts:
                    raise error.counted(attempt) from None
                self._wait(self.policy.backoff(attempt, self._random), method, url, error.reason)
                continue
            if attempt < attempts and response.status_code in RETRYABLE_STATUSES:
                retry_after = response.retry_after if response.status_code in {429, 503} else None
                if retry_after is not None and retry_after > self.policy.retry_after_cap:
                    return _with_attempts(response, attempt)  # not worth a worker's wait: the caller decides
                delay = retry_after if retry_after is not None else self.policy.backoff(attempt, self._random)
                self._wait(delay, method, url, f"HTTP {response.status_code}")
                continue
            return _with_attempts(response, attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, delay: float, method: str, url: str, reason: str) -> None:
        log.info("retrying an outgoing request", extra={"fields": {
            "method": method, "url": shown_url(url), "reason": reason, "delay_seconds": round(delay, 3)}})
        self._sleep(delay)

    def _follow(self, method: str, url: str, headers: dict[str, str], body: dict[str, Any],
                follow_redirects: bool, max_bytes: int) -> OutboundResponse:
        for _hop in range(self.policy.max_redirects + 1):
            response = self._send_once(method, url, headers, body, max_bytes)
            location = response.headers.get("location")
            if not follow_redirects or response.status_code not in REDIRECT_STATUSES or not location:
                return response
            target = urljoin(url, location)
            if not redirect_allowed(url, target):
                raise RedirectRefused(f"HTTP {response.status_code} to a refused URL ({shown_url(target)})",
                                      method=method, url=url)
            if not same_origin(url, target):  # credentials are for the origin they were meant for
                headers = {k: v for k, v in headers.items() if k.lower() not in {"authorization", "cookie"}}
            url = target
        raise RedirectRefused(f"more than {self.policy.max_redirects} redirects", method=method, url=url)

    def _send_once(self, method: str, url: str, headers: dict[str, str], body: dict[str, Any],
                   max_bytes: int) -> OutboundResponse:
        for hook in self._before_send:
            hook(method, url)
        deadline = time.monotonic() + self.policy.total_timeout
        try:
            with self._http.stream(method, url, headers=headers, **body) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise ResponseTooLarge(_too_large(max_bytes), method=method, url=url)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise ResponseTooLarge(_too_large(max_bytes), method=method, url=url)
                    if time.monotonic() > deadline:
                        raise OutboundTimeout(f"the answer took longer than {self.policy.total_timeout:g} s",
                                              method=method, url=url)
                    chunks.append(chunk)
                return OutboundResponse(method=method, url=url, status_code=response.status_code,
                                        headers=response.headers, content=b"".join(chunks))
        except _RefusedAddress as refused:
            raise AddressRefused(str(refused), method=method, url=url) from None
        except httpx.TimeoutException as error:
            raise OutboundTimeout(f"no answer in time ({type(error).__name__})", method=method,
                                  url=url) from None
        except httpx.TransportError as error:
            raise OutboundUnreachable(_reason(error, url), method=method, url=url) from None
        except httpx.HTTPError as error:  # e.g. a body that does not decode as its Content-Encoding says
            raise OutboundError(_reason(error, url), method=method, url=url) from None


def _with_attempts(response: OutboundResponse, attempts: int) -> OutboundResponse:
    if attempts == 1:
        return response
    return OutboundResponse(method=response.method, url=response.url, status_code=response.status_code,
                            headers=response.headers, content=response.content, attempts=attempts)


def _too_large(max_bytes: int) -> str:
    size = f"{max_bytes // 1024} KiB" if max_bytes >= 1024 else f"{max_bytes} bytes"
    return f"the answer is larger than {size}"


def _reason(error: Exception, url: str) -> str:
    # httpx's own messages name the host at most; strip the full URL in case one ever carries it.
    detail = str(error).replace(url, shown_url(url))[:200]
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


# -- addresses --------------------------------------------------------------------------------------------
#
# The address check runs where the connection is made, on the addresses the name resolves to at that moment:
# checking the URL's host beforehand would let a name resolve to a public address for the check and to a
# refused one for the connection (DNS rebinding).


class _RefusedAddress(Exception):
    pass


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror or error}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self._policy.address_allowed(_ip(a))]
        if not allowed:
            named = "" if addresses == [host] else f" ({host} resolves to {', '.join(addresses[:3])})"
            raise _RefusedAddress(f"Cadre does not connect to this address{named}")
        last_error: Exception | None = None
        for address in allowed:
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as error:
                last_error = error
        assert last_error is not None
        raise last_error


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(address.split("%")[0])  # an IPv6 scope (fe80::1%eth0) is not part of it


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The system's trust store, loaded once per process (loading it takes tens of milliseconds)."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, connecting only to addresses the policy allows (TLS still checks the name)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx has no public hook for the network backend: rebuild its pool (public httpcore API) with one.
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), network_backend=_GuardedBackend(policy)
        )
