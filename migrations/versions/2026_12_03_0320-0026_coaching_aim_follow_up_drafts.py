"""coaching log's aim and rubric follow-ups' drafts

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 03:20:00

``coaching_settings`` holds the share of coaching a coaching log aims for (no row: 80%). A rubric
follow-up keeps the manager's draft on its row (``draft_content``, ``draft_revision``, ``draft_saved_at``),
as an assessment does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('coaching_settings',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('aim_percent', sa.Integer(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('aim_percent >= 1 AND aim_percent <= 100', name=op.f('ck_coaching_settings_aim_percent')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_coaching_settings_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_coaching_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_coaching_settings'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch:
        batch.add_column(sa.Column('draft_content', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('draft_revision', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('draft_saved_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch:
        batch.drop_column('draft_saved_at')
        batch.drop_column('draft_revision')
        batch.drop_column('draft_content')
    op.drop_table('coaching_settings')
