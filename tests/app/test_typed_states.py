"""Every enum column is checked by the database itself, and the migrations carry exactly the enum's values."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, Enum, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

from lti_tool.db import Base
from lti_tool.models import Membership
from lti_tool.states import CadreRole

ENUM_COLUMNS = [
    (table.name, column.name, column.type)
    for table in Base.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, Enum)
]


def test_the_states_are_enum_columns() -> None:
    assert {(table, column) for table, column, _type in ENUM_COLUMNS} >= {
        ("memberships", "role"),
        ("launches", "role"),
        ("launches", "message_type"),
        ("manager_links", "source"),
        ("manager_links", "status"),
    }
    for _table, _column, column_type in ENUM_COLUMNS:
        assert column_type.native_enum is False and column_type.create_constraint is True


@pytest.mark.parametrize(("table", "column", "column_type"), ENUM_COLUMNS, ids=lambda v: str(v))
def test_migrated_check_constraint_lists_the_enum_values(
    migrated_engine: Engine, table: str, column: str, column_type: Enum
) -> None:
    reflected = inspect(migrated_engine).get_check_constraints(table)
    checks = {check["name"]: check["sqltext"] for check in reflected}
    name = f"ck_{table}_{column_type.name}"
    assert name in checks, f"the migrations give {table}.{column} no CHECK constraint {name}"
    assert set(re.findall(r"'([^']*)'", checks[name])) == set(column_type.enums)


def test_the_database_refuses_an_unknown_role(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection, connection.begin():
        platform_id = connection.execute(text(
            "INSERT INTO platforms (name, issuer, client_id, auth_login_url, auth_token_url, key_set_url, "
            "created_at) VALUES ('p', 'https://lms.invalid', 'c', 'u', 'u', 'u', CURRENT_TIMESTAMP) "
            "RETURNING id"
        )).scalar_one()
        user_id = connection.execute(text(
            "INSERT INTO users (platform_id, sub, is_admin, created_at, last_seen_at) "
            "VALUES (:p, 's', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"), {"p": platform_id}
        ).scalar_one()
        context_id = connection.execute(text(
            "INSERT INTO contexts (platform_id, context_id, types, created_at) "
            "VALUES (:p, 'c1', '[]', CURRENT_TIMESTAMP) RETURNING id"), {"p": platform_id}
        ).scalar_one()
        insert = text(
            "INSERT INTO memberships (user_id, context_id, lti_roles, role, created_at, updated_at) "
            "VALUES (:u, :c, '[]', :role, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        savepoint = connection.begin_nested()
        with pytest.raises(IntegrityError):
            connection.execute(insert, {"u": user_id, "c": context_id, "role": "owner"})
        savepoint.rollback()
        connection.execute(insert, {"u": user_id, "c": context_id, "role": CadreRole.LEARNER.value})
        connection.rollback()


def test_the_orm_refuses_an_unknown_value_before_the_database() -> None:
    column_type = Membership.__table__.c.role.type
    processor = column_type.bind_processor(None)  # type: ignore[arg-type]
    assert processor is None or processor("learner") == "learner"
    with pytest.raises((LookupError, StatementError)):
        column_type._db_value_for_elem("owner")  # noqa: SLF001 - the validation validate_strings turns on
