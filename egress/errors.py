"""Why an outgoing call failed, naming the URL without its query (tokens travel there)."""

from __future__ import annotations

from egress.policy import shown_url


class OutboundError(Exception):
    """An outgoing call gave no usable answer. ``str()`` is safe to log and to show an administrator."""

    def __init__(self, reason: str, *, method: str, url: str, attempts: int = 1) -> None:
        self.reason = reason
        self.method = method
        self.url = shown_url(url)
        super().__init__()
        self.counted(attempts)

    def counted(self, attempts: int) -> OutboundError:
        """The same error, saying how many attempts were made."""
        self.attempts = attempts
        after = f" (after {attempts} attempts)" if attempts > 1 else ""
        self.args = (f"{self.method} {self.url}: {self.reason}{after}",)
        return self


class OutboundTimeout(OutboundError):
    """The server did not answer, or not completely, within the policy's timeouts."""


class OutboundUnreachable(OutboundError):
    """No connection: unknown host, refused, reset, TLS failure."""


class AddressRefused(OutboundError):
    """The host resolves only to addresses the policy refuses (link-local, or private when so set)."""


class ResponseTooLarge(OutboundError):
    """The answer is larger than the call's limit; reading stopped there."""


class RedirectRefused(OutboundError):
    """A redirect the call may not follow (to another scheme, down to http, or too many)."""


class UnexpectedResponse(OutboundError):
    """An answer, but not the one the caller needs (an error status, or not JSON)."""

    def __init__(self, reason: str, *, method: str, url: str, status_code: int, attempts: int = 1) -> None:
        super().__init__(reason, method=method, url=url, attempts=attempts)
        self.status_code = status_code
