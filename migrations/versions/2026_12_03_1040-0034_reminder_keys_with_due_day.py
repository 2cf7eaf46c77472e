"""reminder keys with the due day: the outbox keys of the manager reminders
(``reminder:<activity>:<manager>:<occasion>``) and of the follow-up reminders
(``follow-up:<id>:<occasion>``) already stored gain the due day they were sent for, as the jobs now write
them (``reminder:<activity>:<manager>:<due day>:<occasion>``, ``follow-up:<id>:<due date>:<occasion>``),
so the reminder of the occasion current at the upgrade is not sent a second time under its new key.

The day is that of the activity's (follow-up's) due date at the upgrade: a reminder sent before its due
date was moved takes the new day, which can hold back at most that one occasion of the moved date, as
the jobs did before. Downgrade writes the keys back without the day.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

outbox = sa.table('outbox_messages', sa.column('id', sa.Integer), sa.column('topic', sa.String),
                  sa.column('dedupe_key', sa.String))
activities = sa.table('activities', sa.column('id', sa.Integer),
                      sa.column('due_at', lti_tool.db.UTCDateTime()), sa.column('due_timezone', sa.String))
follow_ups = sa.table('follow_ups', sa.column('id', sa.Integer), sa.column('due_at', lti_tool.db.UTCDateTime()))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or 'UTC')
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo('UTC')


def _keys(connection: sa.Connection, prefix: str, parts: int) -> list[tuple[int, list[str]]]:
    rows = connection.execute(sa.select(outbox.c.id, outbox.c.dedupe_key).where(
        outbox.c.topic == 'email', outbox.c.dedupe_key.startswith(prefix)))
    return [(row.id, row.dedupe_key.split(':')) for row in rows if row.dedupe_key.count(':') == parts - 1]


def _rewrite(connection: sa.Connection, changes: dict[int, str]) -> None:
    taken = set(connection.scalars(sa.select(outbox.c.dedupe_key).where(
        outbox.c.topic == 'email', outbox.c.dedupe_key.in_(sorted(set(changes.values()))))))
    for message_id, key in sorted(changes.items()):
        if key not in taken:  # (topic, key) is unique: a message under the new key already says it
            connection.execute(outbox.update().where(outbox.c.id == message_id).values(dedupe_key=key))
            taken.add(key)


def _due_days(connection: sa.Connection) -> tuple[dict[int, str], dict[int, str]]:
    activity_days = {
        row.id: row.due_at.astimezone(_zone(row.due_timezone)).date().isoformat()
        for row in connection.execute(sa.select(activities).where(activities.c.due_at.is_not(None)))
    }
    follow_up_days = {
        row.id: row.due_at.astimezone(UTC).strftime('%Y-%m-%d') for row in connection.execute(sa.select(follow_ups))
        if isinstance(row.due_at, datetime)
    }
    return activity_days, follow_up_days


def upgrade() -> None:
    connection = op.get_bind()
    activity_days, follow_up_days = _due_days(connection)
    changes: dict[int, str] = {}
    for message_id, (_, activity_id, manager_id, occasion) in _keys(connection, 'reminder:', 4):
        day = activity_days.get(int(activity_id)) if activity_id.isdigit() else None
        if day is not None:
            changes[message_id] = f'reminder:{activity_id}:{manager_id}:{day}:{occasion}'
    for message_id, (_, follow_up_id, occasion) in _keys(connection, 'follow-up:', 3):
        day = follow_up_days.get(int(follow_up_id)) if follow_up_id.isdigit() else None
        if day is not None:
            changes[message_id] = f'follow-up:{follow_up_id}:{day}:{occasion}'
    _rewrite(connection, changes)


def downgrade() -> None:
    connection = op.get_bind()
    changes: dict[int, str] = {}
    for message_id, (_, activity_id, manager_id, _day, occasion) in _keys(connection, 'reminder:', 5):
        changes[message_id] = f'reminder:{activity_id}:{manager_id}:{occasion}'
    for message_id, (_, follow_up_id, _day, occasion) in _keys(connection, 'follow-up:', 4):
        changes[message_id] = f'follow-up:{follow_up_id}:{occasion}'
    _rewrite(connection, changes)
