"""Migration 0033 counts the reminders the outbox holds as delivered the way the seeding (and the mail
worker, tests/mail/test_invitations.py) counts them (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.invitations.models import ReminderTally
from lti_tool.tracking import seed
from tests.bench.bench_dashboard import bench_app, database
from tests.fixtures.database import migrate_again_from


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_counts_the_reminders_already_delivered(backend: str, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        assert url is not None
        app, engine = bench_app(url)
        plan = seed.generate(learners=30, activities=4, criteria=2, seed=11)
        with session_scope(app) as session:
            seed.write(session, plan)

        def tallies() -> set[tuple[object, ...]]:
            with engine.connect() as connection:
                table = ReminderTally.__table__
                return {tuple(row) for row in connection.execute(select(table))}

        written = tallies()
        assert len(written) > 3 and sum(row[2] for row in written) == len(plan.reminders)  # type: ignore[misc]
        assert any(row[2] > 1 for row in written)  # type: ignore[operator]
        migrate_again_from(engine, url, "0032")
        assert tallies() == written
        engine.dispose()
