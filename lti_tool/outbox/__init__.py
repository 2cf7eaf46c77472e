"""Side effects that must happen once the change causing them is stored: the outbox, its worker, and
periodic jobs.

For feature authors
-------------------
**Enqueue** in the transaction of the change (a view's request, a CLI ``session_scope``)::

    from lti_tool.outbox import enqueue
    enqueue(session, "ags.score", f"{assessment.id}:{revision.number}", {"revision_id": revision.id})

The message is stored with the change or not at all (a rolled-back request, status >= 400, stores none);
the same ``(topic, dedupe_key)`` again is ignored, so a retried event is delivered once. After the commit an
in-process worker is woken; nothing is sent from inside the transaction. Keep payloads to ids and values
(<= 64 KB of JSON), never tokens: the handler loads what it needs when it sends.

**Handle** a topic by registering a function, in a module your feature's ``init_app`` imports (so that both
the web app and ``cadre worker`` know it)::

    from lti_tool.outbox import Dead, OutboxItem, RetryLater, RetryPolicy, handler, outcome_of_response

    @handler("ags.score", retry=RetryPolicy(max_attempts=10))
    def post_score(item: OutboxItem) -> Outcome | None:
        ...                                  # no transaction is open: use session_scope(current_app)
        response = outbound.client().post(url, json=score, headers={"Idempotency-Key": item.dedupe_key})
        return outcome_of_response(response)  # 2xx delivered; 408/429/5xx retry (Retry-After); 4xx dead

Answer ``None`` or :class:`Delivered`, :class:`RetryLater` (``reason``, optional ``retry_after`` seconds) or
:class:`Dead` (``reason``), or raise :class:`Retry` / :class:`GiveUp`. Any other exception is retried, with
only its type recorded; :class:`egress.OutboundError` messages are recorded as they are (they carry no query
strings). Reasons go through :func:`safe_reason` before they are stored (``last_error``, shown to admins).
Retries back off exponentially with jitter up to the policy's cap; after ``max_attempts`` the message is
dead. Delivery is at least once: a worker that dies between sending and recording sends again after its
lease, so send ``item.dedupe_key`` as the receiver's idempotency key where it has one.

**Schedule** periodic work (``cadre jobs run`` from cron, every minute)::

    from lti_tool.outbox import Period, periodic

    @periodic("manager-reminders", every=timedelta(hours=1))
    def remind(session: Session, period: Period) -> str:
        ...  # enqueue("email", f"reminder:{link.id}:{period.start:%Y%m%d%H}", ...) for each one due
        return f"{count} reminder(s)"

The body runs in one transaction with the row that marks its period done, so its work happens once per
period however many hosts run the command; it writes to the database and enqueues, never calls out.

**Deliver**: ``cadre worker`` (``--once`` to drain and exit), or ``start_background_worker(app)`` in-process
(the demo). Admins: ``cadre outbox status``, ``cadre outbox dead``, ``cadre outbox retry-dead [--topic]``;
:func:`backlog`, :func:`dead_messages` and :func:`retry_dead` for an admin page.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import OutboxMessage
from lti_tool.outbox.admin import TopicBacklog, backlog, dead_messages, retry_dead
from lti_tool.outbox.handlers import (
    Dead,
    Delivered,
    GiveUp,
    HandlerRegistry,
    OutboxItem,
    Outcome,
    Retry,
    RetryLater,
    RetryPolicy,
    handlers,
    outcome_of_exception,
    outcome_of_response,
    safe_reason,
)
from lti_tool.outbox.jobs import JobRegistry, JobResult, Period, jobs, run_due_jobs
from lti_tool.outbox.messages import enqueue, wake_workers
from lti_tool.outbox.worker import (
    AnotherWorkerRunning,
    BackgroundWorker,
    BatchReport,
    Worker,
    start_background_worker,
    worker_slot,
)
from lti_tool.states import OutboxStatus

handler = handlers.handler
periodic = jobs.periodic

DELIVERED_RETENTION = timedelta(days=30)
"""Delivered messages are kept this long (a retried event within it is still recognised), then purged."""


@periodic("outbox-purge-delivered", every=timedelta(days=1))
def purge_delivered(session: Session, period: Period) -> str:
    """Keep the outbox table small: delivered messages older than :data:`DELIVERED_RETENTION` go."""
    result = session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DELIVERED,
               OutboxMessage.delivered_at < utcnow() - DELIVERED_RETENTION)
        .execution_options(synchronize_session=False)
    )
    return f"{result.rowcount} delivered message(s) purged"


__all__ = [
    "DELIVERED_RETENTION",
    "AnotherWorkerRunning",
    "BackgroundWorker",
    "BatchReport",
    "Dead",
    "Delivered",
    "GiveUp",
    "HandlerRegistry",
    "JobRegistry",
    "JobResult",
    "Outcome",
    "OutboxItem",
    "OutboxStatus",
    "Period",
    "Retry",
    "RetryLater",
    "RetryPolicy",
    "TopicBacklog",
    "Worker",
    "backlog",
    "dead_messages",
    "enqueue",
    "handler",
    "handlers",
    "jobs",
    "outcome_of_exception",
    "outcome_of_response",
    "periodic",
    "retry_dead",
    "run_due_jobs",
    "safe_reason",
    "start_background_worker",
    "wake_workers",
    "worker_slot",
]
