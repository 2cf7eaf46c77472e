"""What an outgoing call may cost and where it may go: timeouts, sizes, retries, redirects, addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods RFC 9110 calls idempotent: sending one twice leaves the server as sending it once did."""

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that say "not now" rather than "no": throttled, or a gateway without its backend."""

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class OutboundPolicy:
    """How patient and how trusting one client is. Times in seconds, sizes in bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    """Longest silence between two pieces of the answer (and to send the request)."""
    total_timeout: float = 30.0
    """Longest one attempt may take, connect to last byte: a server trickling bytes cannot hold a worker."""
    max_response_bytes: int = 8 * 1024 * 1024
    max_attempts: int = 3
    """Attempts for an idempotent call (a POST is sent once unless its caller marks it idempotent)."""
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0
    """A ``Retry-After`` up to this is waited for; a longer one ends the retries and the caller gets the
    answer (an outbox can schedule the next attempt from :attr:`OutboundResponse.retry_after`)."""
    max_redirects: int = 3
    user_agent: str = "Cadre"
    refuse_private_networks: bool = False
    """Refuse loopback, private (RFC 1918, ULA), carrier-grade NAT and other non-global addresses too.
    Link-local addresses (cloud metadata services live there) are refused whatever this says."""

    def backoff(self, retry: int, random: Callable[[], float]) -> float:
        """Delay before retry number ``retry`` (1, 2, ...): "full jitter", a uniform draw up to an
        exponentially growing ceiling, so clients that failed together do not come back together."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (retry - 1))
        return ceiling * random()

    def address_allowed(self, address: IpAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved:
            return False
        return address.is_global or not self.refuse_private_networks


def shown_url(url: str) -> str:
    """A URL for messages and logs: without user info, query and fragment, where tokens travel."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def redirect_allowed(current: str, target: str) -> bool:
    """A redirect stays on http(s) and never goes from https down to http."""
    scheme, target_scheme = urlsplit(current).scheme, urlsplit(target).scheme
    return target_scheme in {"http", "https"} and not (scheme == "https" and target_scheme != "https")


def same_origin(first: str, second: str) -> bool:
    one, two = urlsplit(first), urlsplit(second)
    return (one.scheme, one.hostname, one.port) == (two.scheme, two.hostname, two.port)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
