"""cache versions: a stamp per kind of data that every process caches

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00

Several gunicorn workers each cache the origins allowed to frame Cadre; a registration made through one of
them (or by `cadre platform add`) writes a new stamp here, and every worker compares stamps per request.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'cache_versions',
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions')),
    )


def downgrade() -> None:
    op.drop_table('cache_versions')
