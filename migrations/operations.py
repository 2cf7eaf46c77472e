"""Schema operations more than one revision needs.

The activity kind is a value in ``ck_activities_kind``. On PostgreSQL the constraint is dropped and made
again. On SQLite a CHECK constraint can only change by rebuilding the table, and rebuilding ``activities``
(dropping the old one) would cascade-delete every row that references an activity while foreign keys are
on; so the constraint's text is edited in the schema instead (the values replaced, the schema version
bumped so every connection reads it again), and the revision stops if the text was not as expected.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def _kind_condition(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def change_activity_kinds(old: Sequence[str], new: Sequence[str]) -> None:
    """Let ``activities.kind`` hold the values ``new`` where it held ``old``."""
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        version = bind.exec_driver_sql('PRAGMA schema_version').scalar_one()
        bind.exec_driver_sql('PRAGMA writable_schema=ON')
        bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                             "WHERE type = 'table' AND name = 'activities'"),
                     {"old": _kind_condition(old), "new": _kind_condition(new)})
        bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
        bind.exec_driver_sql('PRAGMA writable_schema=OFF')
        stored = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'activities'").scalar_one()
        if _kind_condition(new) not in stored:  # not as expected: stop rather than go on without it
            raise RuntimeError("ck_activities_kind was not found as expected in the activities table's "
                               "schema; the database was not changed by Cadre's migrations alone")
        return
    op.drop_constraint(op.f('ck_activities_kind'), 'activities', type_='check')
    op.create_check_constraint(op.f('ck_activities_kind'), 'activities', _kind_condition(new))
