"""programme outcome and leaderboards: a course's business outcome and its values; the leaderboard's
settings and each person's choice to appear on it

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 03:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('programme_outcomes',
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('baseline', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('target', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('direction', sa.Enum('higher', 'lower', name='direction', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('programme_start', sa.Date(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_programme_outcomes_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_programme_outcomes_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('context_id', name=op.f('pk_programme_outcomes'))
    )
    op.create_table('outcome_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=100), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_outcome_values_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_outcome_values_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_values')),
    sa.UniqueConstraint('context_id', 'team', 'measured_on', name=op.f('uq_outcome_values_context_id_team_measured_on'))
    )
    op.create_table('leaderboard_settings',
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('metric', sa.Enum('completion', 'average_score', 'improvement', name='metric', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('subject', sa.Enum('learner', 'manager', 'team', name='subject', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('display', sa.Enum('names', 'initials', 'pseudonyms', 'own_rank', name='display', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('show_values', sa.Boolean(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_leaderboard_settings_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_leaderboard_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('context_id', name=op.f('pk_leaderboard_settings'))
    )
    op.create_table('leaderboard_presences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('opted_in', sa.Boolean(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_leaderboard_presences_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_leaderboard_presences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaderboard_presences')),
    sa.UniqueConstraint('context_id', 'number', name=op.f('uq_leaderboard_presences_context_id_number')),
    sa.UniqueConstraint('context_id', 'user_id', name=op.f('uq_leaderboard_presences_context_id_user_id'))
    )
    with op.batch_alter_table('leaderboard_presences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaderboard_presences_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('leaderboard_presences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaderboard_presences_user_id'))
    op.drop_table('leaderboard_presences')
    op.drop_table('leaderboard_settings')
    op.drop_table('outcome_values')
    op.drop_table('programme_outcomes')
