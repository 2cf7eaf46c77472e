"""rubric CASE identifier: one CASE identity per rubric, kept when it moves between Cadres

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 20:00:00

Rubrics made from now on get a UUID when they are made (or the CFRubric's identifier when imported from
CASE). Existing rubrics keep NULL: their exports go on deriving the identifier from this Cadre's address,
as they always did, so what was exported before still names the same rubric.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rubrics') as batch:
        batch.add_column(sa.Column('case_identifier', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rubrics') as batch:
        batch.drop_column('case_identifier')
