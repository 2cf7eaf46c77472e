"""person groups: the groups and sections of a course its people belong to (the dashboard's group filter)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('person_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Enum('platform', 'roster_csv', name='source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_person_groups_context_id_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_person_groups_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_groups')),
    sa.UniqueConstraint('context_id', 'user_id', 'name', 'source', name=op.f('uq_person_groups_context_id_user_id_name_source'))
    )
    with op.batch_alter_table('person_groups', schema=None) as batch_op:
        batch_op.create_index('ix_person_groups_name', ['context_id', 'name', 'user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_person_groups_name')
    op.drop_table('person_groups')
