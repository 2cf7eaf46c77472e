"""What a topic's handler answers, how a failure is retried, and the registry of handlers by topic."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from egress import AddressRefused, OutboundError, OutboundResponse, RedirectRefused
from lti_tool.observability import redact

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_ERROR_LENGTH = 1000
"""``last_error`` is for an administrator's eyes: a sentence, not a stack trace or a whole answer."""

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_URL_QUERY = re.compile(r"(https?://[^\s?#\"']+)[?#][^\s\"']*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def safe_reason(text: str) -> str:
    """A failure's reason fit for ``last_error``, logs and admin pages: no query strings (tokens travel
    there), no Authorization values, no credential written ``name=value``, no control characters, and at
    most :data:`MAX_ERROR_LENGTH` characters."""
    text = _URL_QUERY.sub(r"\1", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} [redacted]", text)
    text = _CONTROL.sub(" ", redact(text)).strip()
    if len(text) > MAX_ERROR_LENGTH:
        text = text[: MAX_ERROR_LENGTH - 1] + "…"
    return text or "(no reason given)"


# -- outcomes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """The effect happened (or the receiver says it already had: an xAPI 409, an e-mail already sent).

    ``record(session)``, when given, writes what the delivery leaves in Cadre's own tables (e.g. a count
    of reminders sent) in the transaction that marks the message delivered: kept exactly when the message
    counts as delivered, never when another worker's claim took the message over meanwhile."""

    record: Callable[[Session], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RetryLater:
    """Not now: the receiver was down, slow or throttling. ``retry_after`` (seconds) is the receiver's
    ``Retry-After`` when it gave one; otherwise the topic's backoff decides."""

    reason: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Dead:
    """Never: the receiver refused the message itself (a 4xx with its reason). Kept for an admin to read
    and, once the cause is fixed, retry (``cadre outbox retry-dead``)."""

    reason: str


Outcome = Delivered | RetryLater | Dead


class Retry(Exception):  # noqa: N818 - raised as the outcome it names
    """Raise from deep inside a handler instead of returning :class:`RetryLater`."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.outcome = RetryLater(reason, retry_after)


class GiveUp(Exception):  # noqa: N818 - raised as the outcome it names
    """Raise from deep inside a handler instead of returning :class:`Dead`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.outcome = Dead(reason)


def outcome_of_response(response: OutboundResponse, *,
                        already_there: frozenset[int] = frozenset()) -> Outcome:
    """The usual reading of an HTTP answer: 2xx (and ``already_there``, e.g. 409 for xAPI) delivered;
    408, 425, 429 and 5xx retried later (honouring ``Retry-After``); any other 4xx dead, with the status and
    the start of the receiver's explanation."""
    status = response.status_code
    if response.ok or status in already_there:
        return Delivered()
    explanation = response.text(300).strip()
    reason = f"{response.method} {response.shown_url} answered HTTP {status}" + (
        f": {explanation}" if explanation else ""
    )
    if status in {408, 425, 429} or status >= 500:
        return RetryLater(reason, response.retry_after)
    return Dead(reason)


def outcome_of_exception(error: BaseException) -> Outcome:
    """What an exception escaping a handler means. Outbound errors carry a safe message (no query); an
    address or redirect the policy refuses will not change by waiting. Anything else is a bug or a
    passing fault: retried, and only its type is recorded (its message may hold data; the worker's log
    has the traceback, redacted)."""
    if isinstance(error, Retry | GiveUp):
        return error.outcome
    if isinstance(error, AddressRefused | RedirectRefused):
        return Dead(str(error))
    if isinstance(error, OutboundError):
        return RetryLater(str(error))
    return RetryLater(f"the handler raised {type(error).__name__} (see the worker's log)")


# -- retrying ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How a topic's failures are retried: exponential backoff with jitter, capped, and a last attempt.

    The delay before attempt ``n + 1`` is drawn uniformly in ``[ceiling / 2, ceiling]`` with ``ceiling =
    min(cap, base * 2 ** (n - 1))``: never sooner than half the ceiling (a receiver that is down gets some
    rest), and spread so that messages that failed together do not come back together. The defaults wait
    30 s, 1 min, 2 min, ... up to the 6 h cap (from the eleventh failure on) and give up at the 16th
    attempt, 19 to 39 hours after the first: a receiver down for most of a day loses nothing.
    """

    max_attempts: int = 16
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    retry_after_cap_seconds: float = 24 * 3600.0
    """A receiver's ``Retry-After`` is honoured up to this."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("a retry policy needs max_attempts >= 1 and 0 < base_seconds <= cap_seconds")

    def next_attempt(self, attempts: int, now: datetime, random: Callable[[], float],
                     retry_after: float | None = None) -> datetime:
        """When to try again after ``attempts`` failed attempts."""
        if retry_after is not None:
            delay = min(max(retry_after, 1.0), self.retry_after_cap_seconds)
        else:
            ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
            delay = ceiling * (0.5 + random() / 2)
        return now + timedelta(seconds=delay)


# -- the registry ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    """What a handler gets: the message as claimed, detached from any database session."""

    id: int
    topic: str
    dedupe_key: str
    """Stable for the event: send it as the receiver's idempotency key where it has one (a statement id,
    an AGS timestamp, a Message-ID), since a worker that dies after sending and before recording will send
    the message again once its lease runs out."""
    payload: dict[str, Any]
    attempt: int
    """1 for the first attempt."""


Handler = Callable[[OutboxItem], Outcome | None]
"""Called with no database transaction open; returns an outcome (None means delivered) or raises."""


@dataclass(frozen=True)
class Topic:
    name: str
    handler: Handler
    retry: RetryPolicy


@dataclass
class HandlerRegistry:
    """Handlers by topic. Features register theirs when their package is imported by ``create_app``."""

    topics: dict[str, Topic] = field(default_factory=dict)

    def register(self, name: str, handler: Handler, *, retry: RetryPolicy | None = None) -> None:
        if not name or len(name) > 100:
            raise ValueError("a topic is named with 1 to 100 characters")
        existing = self.topics.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"the outbox topic {name!r} already has a handler ({existing.handler!r})")
        self.topics[name] = Topic(name, handler, retry or RetryPolicy())

    def handler(self, name: str, *, retry: RetryPolicy | None = None) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""

        def decorator(function: Handler) -> Handler:
            self.register(name, function, retry=retry)
            return function

        return decorator

    def unregister(self, name: str) -> None:
        self.topics.pop(name, None)

    def get(self, name: str) -> Topic | None:
        return self.topics.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.topics

    def __iter__(self) -> Iterator[Topic]:
        return iter(list(self.topics.values()))


handlers = HandlerRegistry()
"""The process's handlers; ``cadre worker`` and the in-process worker deliver the topics found here."""
