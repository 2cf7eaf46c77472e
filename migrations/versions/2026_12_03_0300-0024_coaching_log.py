"""coaching log: the coaching_log activity kind and the coaching_sessions table

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 03:00:00

The activity kind is one more value in ``ck_activities_kind`` (``migrations.operations`` says how that
is changed on each database).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db
from migrations.operations import change_activity_kinds

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('manager_feedback', 'skill_assessment', 'work_product_review', 'self_assessment', 'peer_assessment',
         'manager_insight_survey', 'six_month_follow_up', 'career_conversation')
NEW_KIND = 'coaching_log'


def upgrade() -> None:
    change_activity_kinds(KINDS, (*KINDS, NEW_KIND))
    op.create_table('coaching_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('coaching', 'mentoring', name='coaching_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('challenge', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.Column('stress', sa.Integer(), nullable=True),
    sa.Column('in_control', sa.Text(), nullable=False),
    sa.Column('not_in_control', sa.Text(), nullable=False),
    sa.Column('wellbeing_shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes >= 1 AND minutes <= 600', name=op.f('ck_coaching_sessions_minutes')),
    sa.CheckConstraint('stress IS NULL OR (stress >= 1 AND stress <= 5)', name=op.f('ck_coaching_sessions_stress')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_coaching_sessions_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_coaching_sessions_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_sessions'))
    )
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_coaching_sessions_activity_owner', ['activity_id', 'owner_id', 'held_on'],
                              unique=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM activities WHERE kind = :kind").bindparams(kind=NEW_KIND))
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_coaching_sessions_activity_owner')
    op.drop_table('coaching_sessions')
    change_activity_kinds((*KINDS, NEW_KIND), KINDS)
