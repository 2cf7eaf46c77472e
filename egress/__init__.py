"""Cadre's one policy for outgoing HTTP, shared by the LTI tool and the xAPI LRS client.

Pure: httpx and the standard library only (no Flask, SQLAlchemy or ``lti_tool``), so :mod:`xapi` may use it
as well as :mod:`lti_tool`. :class:`OutboundPolicy` says how patient and how trusting a call is;
:class:`OutboundClient` applies it to every request: timeouts, a bounded answer read as a stream, no
redirects unless asked, retries with backoff and jitter for idempotent calls only, ``Retry-After`` honoured
within a cap, refused addresses, and errors that name the URL without its query.
"""

from egress.client import OutboundClient, OutboundResponse
from egress.errors import (
    AddressRefused,
    OutboundError,
    OutboundTimeout,
    OutboundUnreachable,
    RedirectRefused,
    ResponseTooLarge,
    UnexpectedResponse,
)
from egress.policy import IDEMPOTENT_METHODS, RETRYABLE_STATUSES, OutboundPolicy, redirect_allowed, shown_url

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "AddressRefused",
    "OutboundClient",
    "OutboundError",
    "OutboundPolicy",
    "OutboundResponse",
    "OutboundTimeout",
    "OutboundUnreachable",
    "RedirectRefused",
    "ResponseTooLarge",
    "UnexpectedResponse",
    "redirect_allowed",
    "shown_url",
]
