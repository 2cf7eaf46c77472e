"""launch browser binding: the hash of the launching browser's secret on each launch

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00

A launch token that arrives with the session cookie of another browser is refused (login CSRF / session
fixation). Launches made before this revision have no hash: their tokens are refused with any cookie until
they expire (``CADRE_LAUNCH_TOKEN_MINUTES``), which only asks their users to launch again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("launches") as batch_op:
        batch_op.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("launches") as batch_op:
        batch_op.drop_column("browser_hash")
