"""people and relationships: course rosters, link relations, nominations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 21:00:00

Manager links say in what capacity (line manager, mentor, coach) and when they ended; a learner's
nomination waits as ``pending`` until the manager accepts or declines it (``declined``). Course rosters
keep who is in a course with the names the platform's Names and Role Provisioning Service shares.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("active", "ended")
STATUSES = ("active", "ended", "pending", "declined")
RELATIONS = ("line_manager", "mentor", "coach")
ROLES = ("admin", "designer", "manager", "learner")


def _condition(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    with op.batch_alter_table('manager_links') as batch:
        batch.drop_constraint(op.f('ck_manager_links_status'), type_='check')
        batch.create_check_constraint(op.f('ck_manager_links_status'), _condition('status', STATUSES))
        batch.add_column(sa.Column('relation', sa.String(length=20), server_default='line_manager',
                                   nullable=False))
        batch.create_check_constraint(op.f('ck_manager_links_relation'), _condition('relation', RELATIONS))
        batch.add_column(sa.Column('ended_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'course_rosters',
        sa.Column('context_id', sa.Integer(), nullable=False),
        sa.Column('memberships_url', sa.String(length=2000), nullable=True),
        sa.Column('refreshed_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('member_count', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('last_attempt_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['context_id'], ['contexts.id'],
                                name=op.f('fk_course_rosters_context_id_contexts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('context_id', name=op.f('pk_course_rosters')),
    )
    op.create_table(
        'roster_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=True),
        sa.Column('given_name', sa.String(length=200), nullable=True),
        sa.Column('family_name', sa.String(length=200), nullable=True),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('login', sa.String(length=255), nullable=True),
        sa.Column('lti_roles', sa.JSON(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_condition('role', ROLES), name=op.f('ck_roster_members_role')),
        sa.ForeignKeyConstraint(['context_id'], ['contexts.id'],
                                name=op.f('fk_roster_members_context_id_contexts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_members_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_members')),
        sa.UniqueConstraint('context_id', 'user_id', name=op.f('uq_roster_members_context_id_user_id')),
    )
    op.create_index('ix_roster_members_email', 'roster_members', ['context_id', 'email'])
    op.create_index('ix_roster_members_login', 'roster_members', ['context_id', 'login'])
    op.create_index(op.f('ix_roster_members_user_id'), 'roster_members', ['user_id'])


def downgrade() -> None:
    op.drop_table('roster_members')
    op.drop_table('course_rosters')
    manager_links = sa.table('manager_links', sa.column('status', sa.String))
    # Nominations have no place in the older schema: a pending one is dropped, a declined one ended.
    op.execute(manager_links.delete().where(manager_links.c.status == 'pending'))
    op.execute(manager_links.update().where(manager_links.c.status == 'declined').values(status='ended'))
    with op.batch_alter_table('manager_links') as batch:
        batch.drop_column('ended_at')
        batch.drop_constraint(op.f('ck_manager_links_relation'), type_='check')
        batch.drop_column('relation')
        batch.drop_constraint(op.f('ck_manager_links_status'), type_='check')
        batch.create_check_constraint(op.f('ck_manager_links_status'), _condition('status', OLD_STATUSES))
