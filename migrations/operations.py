"""Schema operations more than one revision needs.

The activity kind is a value in ``ck_activities_kind`` (and any typed state a value in its own
``ck_<table>_<column>``). On PostgreSQL the constraint is dropped and made
again. On SQLite a CHECK constraint can only change by rebuilding the table, and rebuilding ``activities``
(dropping the old one) would cascade-delete every row that references an activity while foreign keys are
on; so the constraint's text is edited in the schema instead (the values replaced, the schema version
bumped so every connection reads it again), and the revision stops if the text was not as expected.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def _condition(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def change_check_values(table: str, column: str, old: Sequence[str], new: Sequence[str]) -> None:
    """Let ``table.column`` (an ``enum_column``, constraint ``ck_<table>_<column>``) hold the values
    ``new`` where it held ``old``."""
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        version = bind.exec_driver_sql('PRAGMA schema_version').scalar_one()
        bind.exec_driver_sql('PRAGMA writable_schema=ON')
        bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                             "WHERE type = 'table' AND name = :table"),
                     {"old": _condition(column, old), "new": _condition(column, new), "table": table})
        bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
        bind.exec_driver_sql('PRAGMA writable_schema=OFF')
        stored = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :table"),
                              {"table": table}).scalar_one()
        if _condition(column, new) not in stored:  # not as expected: stop rather than go on without it
            raise RuntimeError(f"ck_{table}_{column} was not found as expected in the {table} table's "
                               "schema; the database was not changed by Cadre's migrations alone")
        return
    op.drop_constraint(op.f(f'ck_{table}_{column}'), table, type_='check')
    op.create_check_constraint(op.f(f'ck_{table}_{column}'), table, _condition(column, new))


def change_activity_kinds(old: Sequence[str], new: Sequence[str]) -> None:
    """Let ``activities.kind`` hold the values ``new`` where it held ``old``."""
    change_check_values('activities', 'kind', old, new)
