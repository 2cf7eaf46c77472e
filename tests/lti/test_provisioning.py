"""Provisioning under concurrency: launches racing to create the same user and course make one row each."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.db import session_scope, utcnow
from lti_tool.lti.provisioning import upsert_membership, upsert_user
from lti_tool.models import Context, Membership, Platform, User

RACERS = 6


def add_platform(app: Flask) -> int:
    with session_scope(app) as session:
        platform = Platform(name="P", issuer="https://lms.example", client_id="c",
                            auth_login_url="https://x/a", auth_token_url="https://x/t", key_set_url="https://x/k")
        session.add(platform)
        session.flush()
        return platform.id


def test_concurrent_first_launches_of_one_person_make_one_user(live_app: Flask) -> None:
    """Real commits on several connections: the live app, whose tables are emptied afterwards."""
    platform_id = add_platform(live_app)
    barrier = threading.Barrier(RACERS)
    ids: list[int] = []
    failures: list[BaseException] = []

    def launch(index: int) -> None:
        try:
            with session_scope(live_app) as session:
                barrier.wait(timeout=10)
                claims = {"sub": "new-person", "name": f"Name {index}", "roles": []}
                ids.append(upsert_user(session, platform_id, claims, utcnow()))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=launch, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert len(ids) == RACERS and len(set(ids)) == 1
    with session_scope(live_app) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalars(select(User.name)).one().startswith("Name ")


def test_a_relaunch_updates_the_membership_in_place(db: Session) -> None:
    platform = Platform(name="P", issuer="https://lms.example", client_id="c",
                        auth_login_url="https://x/a", auth_token_url="https://x/t", key_set_url="https://x/k")
    db.add(platform)
    db.flush()
    context = Context(platform_id=platform.id, context_id="course-1", types=[])
    db.add(context)
    db.flush()
    user_id = upsert_user(db, platform.id, {"sub": "u"}, utcnow())
    first = upsert_membership(db, user_id, context.id, ["Learner"], utcnow())
    second = upsert_membership(db, user_id, context.id, ["Instructor"], utcnow())
    assert first == second
    membership = db.scalars(select(Membership)).one()
    db.refresh(membership)
    assert (membership.role, membership.lti_roles) == ("designer", ["Instructor"])
