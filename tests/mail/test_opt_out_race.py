"""Opting out of reminders twice at once (a mail client's one-click POST racing the person's own click, or
a double submit) answers 200 to each and stores one opt-out, on committed data, as in production."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.db import session_scope
from lti_tool.invitations import reminders
from lti_tool.invitations.models import ReminderOptOut
from lti_tool.models import Context, Platform, User
from tests.fixtures.live_server import TEST_SECRET_KEY, LiveServer

RACERS = 4


def manager_in_a_course(db: Session) -> tuple[int, int]:
    platform = Platform(name="LMS", issuer="https://lms.example", client_id="cadre",
                        auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
                        key_set_url="https://lms.example/jwks")
    db.add(platform)
    db.flush()
    context = Context(platform_id=platform.id, context_id="LCC-101", title="Leading Customer Conversations")
    manager = User(platform_id=platform.id, sub="omar", name="Omar Haddad", email="omar@example.org")
    db.add_all([context, manager])
    db.commit()
    return manager.id, context.id


def opt_outs(app: Flask) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(ReminderOptOut)) or 0


def test_simultaneous_one_click_opt_outs_all_answer_200_and_store_one(
    live_server: LiveServer, app: Flask, db: Session,
) -> None:
    user_id, context_id = manager_in_a_course(db)
    signature = reminders.opt_out_signature(user_id, context_id, TEST_SECRET_KEY)
    url = f"{live_server.url}/reminders/opt-out/{user_id}/{context_id}/{signature}"
    start = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def opt_out() -> None:
        with httpx.Client(timeout=60) as http:
            start.wait()
            answer = http.post(url, data={"List-Unsubscribe": "One-Click"})
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=opt_out) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert statuses == [200] * RACERS
    assert opt_outs(app) == 1


def test_an_opt_out_made_while_another_is_uncommitted_waits_for_it_and_stores_nothing_more(
    live_server: LiveServer, app: Flask, db: Session,
) -> None:
    """The race made certain: the first opt-out is written but not committed when the second one looks."""
    user_id, context_id = manager_in_a_course(db)
    outcome: dict[str, Any] = {}

    def second_opt_out() -> None:
        try:
            with session_scope(app) as session:
                reminders.opt_out(session, user_id, context_id)
            outcome["done"] = True
        except Exception as error:  # noqa: BLE001 - the test reports what the second request would have
            outcome["error"] = error

    first: Session = app.extensions["cadre.sessionmaker"]()
    try:
        reminders.opt_out(first, user_id, context_id)
        first.flush()
        second = threading.Thread(target=second_opt_out)
        second.start()
        time.sleep(0.5)  # the second has looked (and, fixed, waits on the first's row)
        first.commit()
    finally:
        first.close()
    second.join(60)
    assert outcome == {"done": True}
    assert opt_outs(app) == 1
    with session_scope(app) as session:
        assert reminders.opted_out(session, user_id, context_id)
