"""Migration 0034: the manager and follow-up reminder keys already in the outbox gain their due day, as the
jobs now write them, so an upgrade sends no reminder a second time; downgrade writes them back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lti_tool import migrate
from lti_tool.db import build_engine, utcnow
from lti_tool.invitations.reminders import reminder_key
from lti_tool.models import Activity, OutboxMessage
from lti_tool.programme.models import FollowUp
from lti_tool.states import FollowUpStatus, OutboxStatus
from lti_tool.tracking import seed
from tests.fixtures.database import BACKENDS, database_of_its_own


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own (the test moves it between revisions), migrated to head."""
    with database_of_its_own(request.param, tmp_path) as url:
        engine = build_engine(url)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()


def to_revision(engine: Engine, revision: str, *, down: bool) -> None:
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def keys(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(OutboxMessage.dedupe_key)))


def old_form(key: str) -> str:
    """A key as the jobs wrote it before 0034 (no due day)."""
    parts = key.split(":")
    if parts[0] == "reminder" and len(parts) == 5:
        return ":".join(parts[:3] + parts[4:])
    if parts[0] == "follow-up" and len(parts) == 4:
        return ":".join(parts[:2] + parts[3:])
    return key


def test_stored_reminder_keys_gain_their_due_day_and_lose_it_on_downgrade(fresh_engine: Engine) -> None:
    with Session(fresh_engine, expire_on_commit=False) as session, session.begin():
        seeded = seed.write(session, seed.generate(learners=12, activities=2, criteria=2, seed=3))
        first = session.get(Activity, seeded.activity_ids[0])
        assert first is not None and first.due_at is not None
        first.due_timezone = "Pacific/Auckland"  # its due day is Auckland's, not UTC's
        now = utcnow()
        follow_up = FollowUp(
            activity_id=seeded.activity_ids[1], source_activity_id=seeded.activity_ids[0],
            source_key="assessment:1", manager_id=seeded.manager_ids[0], status=FollowUpStatus.SCHEDULED,
            anchored_at=now - timedelta(days=183), due_at=now - timedelta(hours=30),
        )
        session.add(follow_up)
        session.flush()
        session.add(OutboxMessage(topic="email", dedupe_key=f"follow-up:{follow_up.id}:due", payload={},
                                  status=OutboxStatus.DELIVERED, next_attempt_at=now))
        activities = {found.id: found for found in session.scalars(select(Activity))}
        # Every key as the jobs write them now, then as they wrote them before the upgrade.
        expected = []
        for message in session.scalars(select(OutboxMessage)):
            _, activity_id, manager_id, *rest = message.dedupe_key.split(":")
            if message.dedupe_key.startswith("reminder:"):
                message.dedupe_key = reminder_key(activities[int(activity_id)], int(manager_id), rest[-1])
            elif message.dedupe_key.startswith("follow-up:"):
                message.dedupe_key = f"follow-up:{follow_up.id}:{follow_up.due_at:%Y-%m-%d}:due"
            expected.append(message.dedupe_key)
            message.dedupe_key = old_form(message.dedupe_key)
    expected.sort()
    before = keys(fresh_engine)
    assert before != expected and sorted(map(old_form, expected)) == before
    auckland = first.due_at.astimezone(ZoneInfo("Pacific/Auckland")).date().isoformat()
    assert any(key.startswith(f"reminder:{first.id}:") and f":{auckland}:" in key for key in expected)

    to_revision(fresh_engine, "0033", down=True)  # the database as it was before 0034
    to_revision(fresh_engine, "0034", down=False)
    assert keys(fresh_engine) == expected
    to_revision(fresh_engine, "0033", down=True)
    assert keys(fresh_engine) == before
