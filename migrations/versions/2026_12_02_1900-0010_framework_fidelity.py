"""competency frameworks keep their associations, language and time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00

A framework's export gives back what was imported: the CFAssociations (its hierarchy and links) in a new
JSON column, and the CFDocument's language and lastChangeDateTime. The items' own type, language,
education levels and times live in the existing ``items`` JSON. Frameworks imported before this keep
what they had (no associations; import the package again to get them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('competency_frameworks') as batch:
        batch.add_column(sa.Column('associations', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('language', sa.String(length=100), server_default='', nullable=False))
        batch.add_column(sa.Column('last_change_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('competency_frameworks') as batch:
        batch.drop_column('last_change_at')
        batch.drop_column('language')
        batch.drop_column('associations')
