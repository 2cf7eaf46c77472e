"""typed states: CHECK constraints on roles, message types, manager-link sources and statuses

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:00:00

The columns keep their VARCHAR type; each gains the CHECK constraint of its ``lti_tool.states`` enum, so the
database refuses a value the code does not know. SQLite cannot add a constraint to a table: batch mode
copies the table, which is why every change goes through ``batch_alter_table``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("admin", "designer", "manager", "learner")
CHECKS = {
    "memberships": {"role": ROLES},
    "launches": {"role": ROLES, "message_type": ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")},
    "manager_links": {
        "source": ("lti_mentor", "roster", "designer", "nomination"),
        "status": ("active", "ended"),
    },
}


def _condition(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), _condition(column, values))


def downgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
