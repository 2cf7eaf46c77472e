"""reminder schedules set by designers per activity

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'reminder_schedules',
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('days_before', sa.Integer(), nullable=False),
        sa.Column('on_due_day', sa.Boolean(), nullable=False),
        sa.Column('weeks_after', sa.Integer(), nullable=False),
        sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('days_before >= 0 AND days_before <= 30', name=op.f('ck_reminder_schedules_days_before')),
        sa.CheckConstraint('weeks_after >= 0 AND weeks_after <= 12', name=op.f('ck_reminder_schedules_weeks_after')),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                                name=op.f('fk_reminder_schedules_activity_id_activities'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_reminder_schedules_updated_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_reminder_schedules')),
    )


def downgrade() -> None:
    op.drop_table('reminder_schedules')
