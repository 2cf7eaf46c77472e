"""rubric origin: what each rubric was made from (form, template, imported file, duplicate)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00

The library lists rubrics of the same title (four imports of one file) apart by where each came from.
Rubrics made before this column get the origin their audit entry recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rubrics') as batch:
        batch.add_column(sa.Column('origin', sa.String(length=200), server_default='', nullable=False))
    _origins_from_audit_log()


def _origins_from_audit_log() -> None:
    """Copy each rubric's origin from its ``rubric.create`` audit entry (read in Python: JSON operators
    differ between SQLite and PostgreSQL, and this runs once)."""
    connection = op.get_bind()
    audit = sa.table('audit_log', sa.column('action', sa.String), sa.column('details', sa.JSON))
    rubrics = sa.table('rubrics', sa.column('id', sa.Integer), sa.column('origin', sa.String))
    origins: dict[int, str] = {}
    created = sa.select(audit.c.details).where(audit.c.action == 'rubric.create')
    for details in connection.execute(created).scalars():
        if isinstance(details, dict) and isinstance(details.get('rubric_id'), int):
            origins[details['rubric_id']] = str(details.get('origin', ''))[:200]
    for rubric_id, origin in origins.items():
        connection.execute(sa.update(rubrics).where(rubrics.c.id == rubric_id).values(origin=origin))


def downgrade() -> None:
    with op.batch_alter_table('rubrics') as batch:
        batch.drop_column('origin')
