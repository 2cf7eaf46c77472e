"""Admins are e-mailed when an LRS's backlog is late, when it refused statements, and when it was paused:
once per condition, however often the job runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool.db import utcnow
from lti_tool.models import OutboxMessage, User
from lti_tool.outbox import Period
from lti_tool.records import alerts
from lti_tool.records import lrs as registry
from lti_tool.records.models import LearningRecordStore, StatementDelivery
from lti_tool.states import DeliveryStatus
from tests.records.delivery_support import make_course, statement
from tests.records.test_store import _record


@pytest.fixture
def in_app(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def run_job(db: Session) -> list[dict]:
    """Run the job once; the payloads of the alert e-mails it queued this time."""
    before = {message.id for message in db.scalars(select(OutboxMessage))}
    now = utcnow()
    alerts.alert_admins(db, Period("lrs-delivery-alerts", now, now + alerts.CHECK_EVERY, None))
    return [message.payload for message in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if message.id not in before and message.payload.get("kind") == alerts.MAIL_KIND]


@pytest.fixture
def setting(db: Session, in_app: Flask):  # type: ignore[no-untyped-def]
    course = make_course(db)
    db.add_all([User(platform_id=course.platform_id, sub="admin-1", name="Ada Admin", email="Ada@Example.org",
                     is_admin=True),
                User(platform_id=course.platform_id, sub="admin-2", name="No Mail", is_admin=True),
                User(platform_id=course.platform_id, sub="learner-x", email="learner@example.org")])
    store = registry.add_store(db, name="company", endpoint="https://lrs.example.org/xAPI", username="u",
                               password="p", courses=[], verbs=[])
    for number in range(3):
        _record(db, statement(course, number=number), course)
    return course, store


def _age_backlog(db: Session, minutes: int) -> None:
    db.execute(update(StatementDelivery).values(created_at=utcnow() - timedelta(minutes=minutes)))


def test_a_late_backlog_is_told_once_and_again_only_after_it_was_on_time(db: Session, setting) -> None:  # type: ignore[no-untyped-def]
    assert run_job(db) == []  # just recorded: on time
    _age_backlog(db, 61)
    [told] = run_job(db)
    assert told["to"] == "ada@example.org" and told["alert"] == "backlog" and told["pending"] == 3
    assert run_job(db) == [] and run_job(db) == []  # still late: not told again
    db.execute(update(StatementDelivery).values(status=DeliveryStatus.DELIVERED))
    assert run_job(db) == []  # on time again
    _course, store = setting
    db.execute(update(StatementDelivery).values(status=DeliveryStatus.PENDING))
    assert [payload["alert"] for payload in run_job(db)] == ["backlog"]  # a new late backlog
    assert store.backlog_alerted_at is not None


def test_a_run_that_read_the_backlog_before_another_told_it_does_not_tell_it_again(  # type: ignore[no-untyped-def]
    db: Session, setting
) -> None:
    """Two runs at once (cron on two hosts, across a period's boundary): the second read the store before
    the first marked the backlog told. Its mark finds the row marked and it sends nothing."""
    _course, store = setting
    _age_backlog(db, 61)
    db.execute(update(LearningRecordStore).where(LearningRecordStore.id == store.id)
               .values(backlog_alerted_at=utcnow()).execution_options(synchronize_session=False))
    set_committed_value(store, "backlog_alerted_at", None)  # what this run read, before the other's mark
    assert run_job(db) == []
    assert [payload["alert"] for payload in run_job(db)] == []


def test_new_dead_letters_are_told_once(db: Session, setting) -> None:  # type: ignore[no-untyped-def]
    first, second, _third = db.scalars(select(StatementDelivery.id).order_by(StatementDelivery.id)).all()
    db.execute(update(StatementDelivery).where(StatementDelivery.id == first)
               .values(status=DeliveryStatus.DEAD, last_error="HTTP 400: bad"))
    assert [(payload["alert"], payload["dead"]) for payload in run_job(db)] == [("dead", 1)]
    assert run_job(db) == []
    db.execute(update(StatementDelivery).where(StatementDelivery.id == second)
               .values(status=DeliveryStatus.DEAD))
    assert [(payload["alert"], payload["dead"]) for payload in run_job(db)] == [("dead", 2)]


def test_a_pause_is_told_once_with_its_reason(db: Session, setting, in_app: Flask) -> None:  # type: ignore[no-untyped-def]
    _course, store = setting
    registry.pause(store, "The LRS refused Cadre's credentials (HTTP 401: Invalid authentication).")
    db.flush()
    [told] = run_job(db)
    assert told["alert"] == "paused" and run_job(db) == []
    composed = alerts.alert_mail(db, told)
    assert composed is not None and composed.to == "ada@example.org"
    assert composed.subject == "Cadre: delivery to the LRS company is paused"
    assert "refused Cadre's credentials" in composed.text and "none is lost" in composed.text


def test_the_e_mails_say_what_to_do(db: Session, setting) -> None:  # type: ignore[no-untyped-def]
    _course, store = setting
    dead = alerts.alert_mail(db, {"alert": "dead", "lrs_id": store.id, "dead": 2, "to": "a@example.org"})
    assert dead is not None and "cadre lrs retry-dead company" in dead.text
    late = alerts.alert_mail(db, {"alert": "backlog", "lrs_id": store.id, "pending": 3, "minutes": 75,
                                  "to": "a@example.org"})
    assert late is not None and "the oldest has waited 75 minutes" in late.text
    gone = {"alert": "dead", "lrs_id": 999_999, "dead": 1, "to": "a@example.org"}
    assert alerts.alert_mail(db, gone) is None
