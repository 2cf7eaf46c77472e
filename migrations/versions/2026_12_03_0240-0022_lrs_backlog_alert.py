"""lrs backlog alert: when admins were last told that an LRS's oldest waiting statement is late

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 02:40:00

Set when the alert job e-mails admins about a late backlog, cleared once the backlog is on time again, so
that one late backlog is one e-mail, however often the job runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('learning_record_stores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backlog_alerted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('learning_record_stores', schema=None) as batch_op:
        batch_op.drop_column('backlog_alerted_at')
