"""spaced refreshers: refresher_settings, refreshers and scheduled_refreshers

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 04:00:00

A designer attaches refreshers to a criterion or competency of an activity's rubric
(``lti_tool.tracking.refreshers``); a weak score schedules one row per step of the spacing schedule.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('refresher_settings',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('threshold_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('spacing_days', sa.JSON(), nullable=False),
    sa.Column('send_email', sa.Boolean(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('threshold_percent > 0 AND threshold_percent <= 100', name=op.f('ck_refresher_settings_threshold_percent')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_refresher_settings_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_refresher_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_refresher_settings'))
    )

    op.create_table('refreshers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.Enum('criterion', 'competency', name='target_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('target_label', sa.String(length=500), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link_url', sa.String(length=2000), nullable=False),
    sa.Column('threshold_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('threshold_percent IS NULL OR (threshold_percent > 0 AND threshold_percent <= 100)', name=op.f('ck_refreshers_threshold_percent')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_refreshers_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_refreshers_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refreshers'))
    )
    with op.batch_alter_table('refreshers', schema=None) as batch_op:
        batch_op.create_index('ix_refreshers_activity', ['activity_id', 'archived_at'], unique=False)

    op.create_table('scheduled_refreshers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refresher_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('trigger_revision_id', sa.Integer(), nullable=False),
    sa.Column('trigger_percent', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('threshold_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('step_count', sa.Integer(), nullable=False),
    sa.Column('due_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'done', 'stopped', 'cancelled', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('completed_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_percent', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('emailed_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('step >= 1', name=op.f('ck_scheduled_refreshers_step')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_scheduled_refreshers_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_scheduled_refreshers_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_scheduled_refreshers_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['refresher_id'], ['refreshers.id'], name=op.f('fk_scheduled_refreshers_refresher_id_refreshers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trigger_revision_id'], ['assessment_revisions.id'], name=op.f('fk_scheduled_refreshers_trigger_revision_id_assessment_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_refreshers')),
    sa.UniqueConstraint('refresher_id', 'learner_id', 'trigger_revision_id', 'step', name='uq_scheduled_refreshers_step')
    )
    with op.batch_alter_table('scheduled_refreshers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_refreshers_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index('ix_scheduled_refreshers_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_scheduled_refreshers_learner', ['learner_id', 'context_id', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scheduled_refreshers', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduled_refreshers_learner')
        batch_op.drop_index('ix_scheduled_refreshers_due')
        batch_op.drop_index(batch_op.f('ix_scheduled_refreshers_assessment_id'))
    op.drop_table('scheduled_refreshers')
    with op.batch_alter_table('refreshers', schema=None) as batch_op:
        batch_op.drop_index('ix_refreshers_activity')
    op.drop_table('refreshers')
    op.drop_table('refresher_settings')
