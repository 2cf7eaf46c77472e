"""Provisioning under concurrency: launches racing to create the same user and course make one row each."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select

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


def test_concurrent_first_launches_of_one_person_make_one_user(app: Flask) -> None:
    platform_id = add_platform(app)
    barrier = threading.Barrier(RACERS)
    ids: list[int] = []
    failures: list[BaseException] = []

    def launch(index: int) -> None:
        try:
            with session_scope(app) as session:
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
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalars(select(User.name)).one().startswith("Name ")


def test_a_relaunch_updates_the_membership_in_place(app: Flask) -> None:
    platform_id = add_platform(app)
    with session_scope(app) as session:
        context = Context(platform_id=platform_id, context_id="course-1", types=[])
        session.add(context)
        session.flush()
        user_id = upsert_user(session, platform_id, {"sub": "u"}, utcnow())
        first = upsert_membership(session, user_id, context.id, ["Learner"], utcnow())
        second = upsert_membership(session, user_id, context.id, ["Instructor"], utcnow())
        assert first == second
        membership = session.scalars(select(Membership)).one()
        session.refresh(membership)
        assert (membership.role, membership.lti_roles) == ("designer", ["Instructor"])
