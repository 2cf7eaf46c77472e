"""assessment scores: the per-criterion scores of each in-force submission counted and summed per
assessment (what the leaderboards rank), backfilled from criterion_scores

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessment_scores',
    sa.Column('assessment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('assessor_role', sa.Enum('manager', 'self', 'peer', name='assessor_role', native_enum=False,
                                       create_constraint=True, length=20), nullable=False),
    sa.Column('submitted_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scores', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('hundredths', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                            name=op.f('fk_assessment_scores_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'],
                            name=op.f('fk_assessment_scores_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'],
                            name=op.f('fk_assessment_scores_learner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', name=op.f('pk_assessment_scores'))
    )
    op.create_index('ix_assessment_scores_learner', 'assessment_scores', ['learner_id', 'activity_id'],
                    unique=False)
    # The sums of the scores already there (as lti_tool.tracking.models does at each submission).
    op.execute(
        'INSERT INTO assessment_scores (assessment_id, activity_id, learner_id, assessor_role, submitted_at, '
        'scores, scored, hundredths) '
        'SELECT assessment_id, activity_id, learner_id, assessor_role, MIN(submitted_at), COUNT(*), '
        'COUNT(percent), CAST(COALESCE(SUM(ROUND(percent * 100)), 0) AS INTEGER) '
        'FROM criterion_scores GROUP BY assessment_id, activity_id, learner_id, assessor_role'
    )


def downgrade() -> None:
    op.drop_index('ix_assessment_scores_learner', table_name='assessment_scores')
    op.drop_table('assessment_scores')
