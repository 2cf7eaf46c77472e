"""Telling admins when statement delivery needs them: a periodic job (``cadre jobs run``) e-mails Cadre's
administrators (users the platform marks as admins, with an e-mail address) through the ``email`` outbox
topic when

* an LRS's oldest waiting statement is older than ``CADRE_LRS_BACKLOG_ALERT_MINUTES`` (once per late
  backlog: told again only after it was on time in between),
* an LRS refused statements since the last e-mail about it (dead letters: once per new batch of them),
* an LRS was paused (by the worker, when the LRS refused Cadre's credentials, or by an admin; once per
  pause).

The job only writes outbox messages in its own transaction; the e-mails are composed and sent by the worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool import mail
from lti_tool.db import utcnow
from lti_tool.models import User
from lti_tool.outbox import Period, periodic
from lti_tool.records.backlog import backlog
from lti_tool.records.models import LearningRecordStore, StatementDelivery
from lti_tool.states import DeliveryStatus, LrsStatus

MAIL_KIND = "lrs-alert"
CHECK_EVERY = timedelta(minutes=5)


def admin_addresses(session: Session) -> list[tuple[str, str]]:
    """(e-mail, name) of every administrator Cadre can write to, each address once."""
    seen: dict[str, str] = {}
    for user in session.scalars(select(User).where(User.is_admin.is_(True), User.email.is_not(None))
                                .order_by(User.id)):
        address = (user.email or "").strip().lower()
        if address and mail.valid_address(address):
            seen.setdefault(address, user.display_name)
    return sorted(seen.items())


def _mark_backlog_told(session: Session, store: LearningRecordStore, now: datetime) -> bool:
    """Mark ``store``'s late backlog told, unless a run of another period (cron on two hosts across a
    period's boundary) marked it first: a compare-and-set, which PostgreSQL re-checks after the other
    run's commit, so one of two runs at once tells it. True when this run marked it."""
    marked = session.execute(
        update(LearningRecordStore)
        .where(LearningRecordStore.id == store.id, LearningRecordStore.backlog_alerted_at.is_(None))
        .values(backlog_alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(store, "backlog_alerted_at", now)
    return bool(marked.rowcount)


@periodic("lrs-delivery-alerts", every=CHECK_EVERY)
def alert_admins(session: Session, period: Period) -> str:
    """Enqueue the e-mails the delivery's state calls for (see the module)."""
    threshold = timedelta(minutes=current_app.config["CADRE"].lrs_backlog_alert_minutes)
    now = utcnow()
    alerts: list[tuple[str, dict[str, Any]]] = []
    for entry in backlog(session):
        store = session.get(LearningRecordStore, entry.lrs_id)
        assert store is not None
        age = entry.oldest_pending_age(now)
        if age is not None and age > threshold:
            if store.backlog_alerted_at is None and _mark_backlog_told(session, store, now):
                alerts.append((f"lrs-backlog:{store.id}:{now:%Y%m%d%H%M%S%f}",
                               {"alert": "backlog", "lrs_id": store.id, "pending": entry.pending,
                                "minutes": int(age.total_seconds() // 60)}))
        elif store.backlog_alerted_at is not None:
            store.backlog_alerted_at = None  # on time again: the next late backlog is told anew
        if entry.dead:
            newest_dead = session.scalar(select(func.max(StatementDelivery.id)).where(
                StatementDelivery.lrs_id == store.id, StatementDelivery.status == DeliveryStatus.DEAD))
            alerts.append((f"lrs-dead:{store.id}:{newest_dead}",
                           {"alert": "dead", "lrs_id": store.id, "dead": entry.dead}))
        if store.status is LrsStatus.PAUSED and store.paused_at is not None:
            alerts.append((f"lrs-paused:{store.id}:{store.paused_at:%Y%m%d%H%M%S%f}",
                           {"alert": "paused", "lrs_id": store.id}))
    recipients = admin_addresses(session)
    sent = 0
    for key, payload in alerts:
        for address, _name in recipients:
            sent += mail.enqueue_mail(session, MAIL_KIND, f"{key}:{address}", {**payload, "to": address})
    return f"{len(alerts)} alert(s), {sent} e-mail(s) queued"


@mail.composer(MAIL_KIND)
def alert_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
    store = session.get(LearningRecordStore, payload.get("lrs_id"))
    if store is None:
        return None  # removed since: nothing to tell
    settings = current_app.config["CADRE"]
    alert = payload.get("alert")
    if alert == "backlog":
        subject = f"{settings.tool_name}: statements wait for the LRS {store.name}"
        what = (f"{payload['pending']} statement(s) wait for the learning record store {store.name} "
                f"({store.endpoint}); the oldest has waited {payload['minutes']} minutes.")
    elif alert == "dead":
        subject = f"{settings.tool_name}: the LRS {store.name} refused statements"
        what = (f"The learning record store {store.name} ({store.endpoint}) refused {payload['dead']} "
                "statement(s). `cadre lrs status` shows each one with the LRS's reason; once the cause is "
                f"fixed, `cadre lrs retry-dead {store.name}` sends them again.")
    else:
        subject = f"{settings.tool_name}: delivery to the LRS {store.name} is paused"
        what = (f"Cadre stopped sending statements to {store.name} ({store.endpoint}): {store.paused_reason} "
                "Statements keep waiting for it; none is lost.")
    text = (f"Hello,\n\n{what}\n\n`cadre lrs status` shows the backlog of every LRS; "
            "docs/operations.md (LRS delivery) says what each problem means.\n")
    return mail.Mail(to=payload["to"], subject=subject, text=text)


def init_app(_app: object) -> None:
    """Nothing to wire: importing this module registers the job and the e-mail composer."""
