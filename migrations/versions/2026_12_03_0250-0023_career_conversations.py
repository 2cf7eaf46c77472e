"""career conversations: the designer's setting, one conversation per learner and activity, agreed actions

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('career_settings',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('staff_may_read', sa.Boolean(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_career_settings_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_career_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_career_settings'))
    )
    op.create_table('career_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('learner_answers', sa.JSON(), nullable=False),
    sa.Column('shared_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('manager_answers', sa.JSON(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('next_conversation_on', sa.Date(), nullable=True),
    sa.Column('next_reminded_on', sa.Date(), nullable=True),
    sa.Column('staff_consent', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_career_conversations_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'], name=op.f('fk_career_conversations_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_career_conversations_manager_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_career_conversations')),
    sa.UniqueConstraint('activity_id', 'learner_id', name=op.f('uq_career_conversations_activity_id_learner_id'))
    )
    with op.batch_alter_table('career_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_career_conversations_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index('ix_career_conversations_next', ['next_conversation_on'], unique=False)
    op.create_table('career_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=300), nullable=False),
    sa.Column('owner', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reminded_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("owner IN ('learner', 'manager')", name=op.f('ck_career_actions_owner')),
    sa.ForeignKeyConstraint(['conversation_id'], ['career_conversations.id'], name=op.f('fk_career_actions_conversation_id_career_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_career_actions'))
    )
    with op.batch_alter_table('career_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_career_actions_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    op.drop_table('career_actions')
    with op.batch_alter_table('career_conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_career_conversations_next')
        batch_op.drop_index(batch_op.f('ix_career_conversations_learner_id'))
    op.drop_table('career_conversations')
    op.drop_table('career_settings')
