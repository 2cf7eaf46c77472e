"""peer assessment and peer coaching: the assessor role ``peer``, peer settings and assignments, and peer
coaching's settings, groups, members and sessions

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 04:30:00

``peer`` is one more value in the ``assessor_role`` CHECK of the three tables that carry it
(``migrations.operations.change_check_values`` says how that is changed on each database).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db
from migrations.operations import change_check_values

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ('manager', 'self')
NEW_ROLES = ('manager', 'self', 'peer')
ROLE_TABLES = ('assessments', 'criterion_scores', 'criterion_score_tallies')


def upgrade() -> None:
    for table in ROLE_TABLES:
        change_check_values(table, 'assessor_role', ROLES, NEW_ROLES)
    op.create_table('peer_settings',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('reviews_per_learner', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('scope', sa.Enum('course', 'team', name='peer_scope', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reviews_per_learner >= 1 AND reviews_per_learner <= 10', name=op.f('ck_peer_settings_reviews_per_learner')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_peer_settings_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_peer_settings'))
    )
    op.create_table('peer_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewee_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('random', 'designer', name='peer_source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('group_key', sa.String(length=64), nullable=False),
    sa.Column('assigned_by_user_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reviewer_id <> reviewee_id', name=op.f('ck_peer_assignments_not_oneself')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_peer_assignments_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assigned_by_user_id'], ['users.id'], name=op.f('fk_peer_assignments_assigned_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewee_id'], ['users.id'], name=op.f('fk_peer_assignments_reviewee_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_peer_assignments_reviewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_assignments')),
    sa.UniqueConstraint('activity_id', 'reviewer_id', 'reviewee_id', name=op.f('uq_peer_assignments_activity_id_reviewer_id_reviewee_id'))
    )
    with op.batch_alter_table('peer_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_peer_assignments_reviewee', ['activity_id', 'reviewee_id'], unique=False)
    op.create_table('peer_coaching_settings',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('group_size', sa.Integer(), nullable=False),
    sa.Column('ideas', sa.Text(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('group_size IN (2, 3)', name=op.f('ck_peer_coaching_settings_group_size')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_peer_coaching_settings_activity_id_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_peer_coaching_settings'))
    )
    op.create_table('peer_coaching_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('random', 'designer', name='group_source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_peer_coaching_groups_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_peer_coaching_groups_created_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_coaching_groups')),
    sa.UniqueConstraint('activity_id', 'number', name=op.f('uq_peer_coaching_groups_activity_id_number'))
    )
    op.create_table('peer_coaching_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_peer_coaching_members_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['peer_coaching_groups.id'], name=op.f('fk_peer_coaching_members_group_id_peer_coaching_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_peer_coaching_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_coaching_members')),
    sa.UniqueConstraint('activity_id', 'user_id', name=op.f('uq_peer_coaching_members_activity_id_user_id'))
    )
    with op.batch_alter_table('peer_coaching_members', schema=None) as batch_op:
        batch_op.create_index('ix_peer_coaching_members_group', ['group_id'], unique=False)
    op.create_table('peer_coaching_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('presenter_id', sa.Integer(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('experience', sa.Text(), nullable=False),
    sa.Column('idea', sa.String(length=200), nullable=False),
    sa.Column('reflection', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_peer_coaching_sessions_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_peer_coaching_sessions_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['peer_coaching_groups.id'], name=op.f('fk_peer_coaching_sessions_group_id_peer_coaching_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['presenter_id'], ['users.id'], name=op.f('fk_peer_coaching_sessions_presenter_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_coaching_sessions'))
    )
    with op.batch_alter_table('peer_coaching_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_peer_coaching_sessions_group', ['group_id', 'held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_peer_coaching_sessions_activity_id'), ['activity_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('peer_coaching_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_coaching_sessions_activity_id'))
        batch_op.drop_index('ix_peer_coaching_sessions_group')
    op.drop_table('peer_coaching_sessions')
    with op.batch_alter_table('peer_coaching_members', schema=None) as batch_op:
        batch_op.drop_index('ix_peer_coaching_members_group')
    op.drop_table('peer_coaching_members')
    op.drop_table('peer_coaching_groups')
    op.drop_table('peer_coaching_settings')
    with op.batch_alter_table('peer_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_peer_assignments_reviewee')
    op.drop_table('peer_assignments')
    op.drop_table('peer_settings')
    for table in ('assessments', 'criterion_scores', 'criterion_score_tallies'):
        op.execute(sa.text(f"DELETE FROM {table} WHERE assessor_role = 'peer'"))
    for table in reversed(ROLE_TABLES):
        change_check_values(table, 'assessor_role', NEW_ROLES, ROLES)
