"""peer coaching and strategic relationships: two more activity kinds

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 03:10:00

Two more values in ``ck_activities_kind`` (``migrations.operations`` says how that is changed on each
database). The kinds' own tables come in their own revisions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.operations import change_activity_kinds

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('manager_feedback', 'skill_assessment', 'work_product_review', 'self_assessment', 'peer_assessment',
         'manager_insight_survey', 'six_month_follow_up', 'career_conversation', 'coaching_log')
NEW_KINDS = ('peer_coaching', 'relationship_map')


def upgrade() -> None:
    change_activity_kinds(KINDS, (*KINDS, *NEW_KINDS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM activities WHERE kind IN ('peer_coaching', 'relationship_map')"))
    change_activity_kinds((*KINDS, *NEW_KINDS), KINDS)
