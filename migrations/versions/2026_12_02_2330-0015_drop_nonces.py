"""drop nonces: each login's nonce lives in its login state, consumed with it by one DELETE … RETURNING

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:00:00

Nothing has written the ``nonces`` table since the login state began to carry its nonce; rows left in it
belong to logins that can no longer launch.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nonces_expires_at'))
    op.drop_table('nonces')


def downgrade() -> None:
    op.create_table('nonces',
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_nonces_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('value', name=op.f('pk_nonces'))
    )
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nonces_expires_at'), ['expires_at'], unique=False)
