"""Cadre's outgoing HTTP: the one client every feature uses (platform JWKS, dynamic registration, token
endpoint, AGS, NRPS), built from the settings, and the rule that no outgoing call waits on the network while
the request's database transaction is open.

The policy itself lives in the pure :mod:`egress` package, so that :mod:`xapi`'s LRS client (which may not
import ``lti_tool``) applies the same one. This module adds what only the application knows: the settings,
the User-Agent, and the request's session.

Why no transaction: a transaction held across a call to a slow or hostile platform holds a pooled database
connection (and, on PostgreSQL, its snapshot and row locks) for as long as the platform cares to take. A view
that needs a remote answer in the middle of its work reads what it needs, calls
:func:`leave_read_transaction`, makes the call, and then writes: the writes begin a fresh transaction that
the request's unit of work commits or rolls back as usual.
"""

from __future__ import annotations

import threading
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from egress import OutboundClient, OutboundPolicy, shown_url
from lti_tool.settings import Settings

_EXTENSION = "cadre.outbound"
_WROTE = "cadre.outbound.wrote"
_lock = threading.Lock()


class TransactionOpen(RuntimeError):  # noqa: N818 - reads as the condition it reports
    """An outgoing call was about to wait while the request's transaction was open, or a transaction that
    has written was asked to end early. A programming error: the view must reorder its work."""


def policy_from_settings(settings: Settings) -> OutboundPolicy:
    return OutboundPolicy(
        connect_timeout=settings.http_connect_timeout_seconds,
        read_timeout=settings.http_timeout_seconds,
        total_timeout=settings.http_total_timeout_seconds,
        max_response_bytes=settings.http_max_response_mb * 1024 * 1024,
        max_attempts=max(1, settings.http_max_attempts),
        retry_after_cap=settings.http_retry_after_max_seconds,
        user_agent=user_agent(settings),
        refuse_private_networks=settings.http_refuse_private_networks,
    )


def user_agent(settings: Settings) -> str:
    try:
        release = version("cadre")
    except PackageNotFoundError:  # running from a source tree that was never installed
        release = "dev"
    return f"Cadre/{release} (LTI tool; +{settings.public_url})"


def new_client(settings: Settings, **kwargs: Any) -> OutboundClient:
    """A client under the settings' policy that refuses to send while the request's transaction is open.
    Workers and tests may make their own; views use :func:`client`."""
    return OutboundClient(policy_from_settings(settings), before_send=[refuse_open_transaction], **kwargs)


def client(app: Flask | None = None) -> OutboundClient:
    """The app's shared client (connections are reused between requests and threads)."""
    app = app or current_app
    shared = app.extensions.get(_EXTENSION)
    if shared is None:
        with _lock:
            shared = app.extensions.get(_EXTENSION)
            if shared is None:
                shared = app.extensions[_EXTENSION] = new_client(app.config["CADRE"])
    return shared


# -- the transaction rule ----------------------------------------------------------------------------------


def refuse_open_transaction(method: str, url: str) -> None:
    """``before_send`` hook: raise :class:`TransactionOpen` when the request's session holds a transaction.
    After-commit callbacks pass (the commit ended it); so do CLI commands and workers, whose own sessions
    are theirs to manage."""
    if not has_app_context():
        return
    session: Session | None = g.get("db_session")
    if session is not None and session.in_transaction():
        raise TransactionOpen(
            f"{method} {shown_url(url)} was about to be sent while the request's database transaction is "
            "open: read what the call needs, call lti_tool.outbound.leave_read_transaction(), then call out."
        )


def leave_read_transaction(session: Session | None = None) -> None:
    """End the (request's) session's transaction before an outgoing call, when it has only read.

    Ending a read-only transaction loses nothing: loaded objects stay usable (the sessions do not expire on
    commit), the next query begins a new transaction, and after-commit callbacks already registered still
    wait for the request's final commit (and are dropped by its rollback). A transaction that has written is
    refused with :class:`TransactionOpen`: ending it would commit half a unit of work.
    """
    if session is None:
        if not has_app_context() or g.get("db_session") is None:
            return
        session = g.db_session
    if not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        raise TransactionOpen(
            "The request's transaction has written to the database: make the outgoing call before writing."
        )
    session.commit()  # nothing to write: this only ends the transaction and returns its connection


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush_context: UOWTransaction) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    # Bulk INSERT/UPDATE/DELETE and textual statements write without a flush: count anything not a SELECT.
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)
