"""criterion scores: one row per criterion of each assessment's in-force submission, backfilled

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 02:10:00
"""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('criterion_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('assessor_role', sa.Enum('manager', 'self', name='assessor_role', native_enum=False,
                                       create_constraint=True, length=20), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=True),
    sa.Column('criterion', sa.String(length=100), nullable=False),
    sa.Column('level_number', sa.Integer(), nullable=False),
    sa.Column('level_count', sa.Integer(), nullable=False),
    sa.Column('points', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('max_points', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('percent', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('submitted_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                            name=op.f('fk_criterion_scores_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'],
                            name=op.f('fk_criterion_scores_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'],
                            name=op.f('fk_criterion_scores_assessor_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'],
                            name=op.f('fk_criterion_scores_learner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revision_id'], ['assessment_revisions.id'],
                            name=op.f('fk_criterion_scores_revision_id_assessment_revisions'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_versions.id'],
                            name=op.f('fk_criterion_scores_rubric_version_id_rubric_versions'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion_scores'))
    )
    with op.batch_alter_table('criterion_scores', schema=None) as batch_op:
        batch_op.create_index('ix_criterion_scores_activity', ['activity_id', 'criterion', 'assessor_role'],
                              unique=False)
        batch_op.create_index('ix_criterion_scores_assessment', ['assessment_id'], unique=False)
        batch_op.create_index('ix_criterion_scores_learner', ['learner_id', 'activity_id'], unique=False)
    _backfill()


def _decimal(text):  # type: ignore[no-untyped-def]
    return None if text is None or text == "" else Decimal(str(text))


def _backfill() -> None:
    """The rows of every submitted assessment's newest revision (as lti_tool.tracking.models writes them
    at submission; kept here so this migration keeps meaning what it meant)."""
    connection = op.get_bind()
    found = connection.execute(sa.text(
        "SELECT a.id, a.activity_id, a.learner_id, a.assessor_id, a.assessor_role, r.id, "
        "r.rubric_version_id, "
        "r.criteria, r.submitted_at FROM assessments a JOIN assessment_revisions r "
        "ON r.assessment_id = a.id AND r.number = a.revision_count WHERE a.status = 'submitted'"
    ).columns(*(sa.column(name) for name in ('a_id', 'activity_id', 'learner_id', 'assessor_id', 'role',
                                             'r_id', 'version_id')),
              sa.column('criteria', sa.JSON()), sa.column('submitted_at', lti_tool.db.UTCDateTime())))
    table = sa.table('criterion_scores', *(sa.column(name) for name in (
        'assessment_id', 'revision_id', 'activity_id', 'learner_id', 'assessor_id', 'assessor_role',
        'rubric_version_id', 'criterion', 'level_number', 'level_count')),
        sa.column('points', sa.Numeric(14, 4)), sa.column('max_points', sa.Numeric(14, 4)),
        sa.column('percent', sa.Numeric(7, 2)), sa.column('submitted_at', lti_tool.db.UTCDateTime()),
        sa.column('week_start', sa.Date()))
    rows = []
    for (assessment_id, activity_id, learner_id, assessor_id, role, revision_id, version_id, criteria,
         submitted_at) in found.fetchall():
        for line in criteria or []:
            points, most = _decimal(line.get("points")), _decimal(line.get("max_points"))
            percent = None if points is None or not most else (points * 100 / most).quantize(Decimal("0.01"))
            day = submitted_at.date()
            rows.append({
                'assessment_id': assessment_id, 'revision_id': revision_id, 'activity_id': activity_id,
                'learner_id': learner_id, 'assessor_id': assessor_id, 'assessor_role': role,
                'rubric_version_id': version_id, 'criterion': str(line["criterion"])[:100],
                'level_number': int(line["level_number"]), 'level_count': int(line["level_count"]),
                'points': points, 'max_points': most, 'percent': percent,
                'submitted_at': submitted_at,
                'week_start': day - timedelta(days=day.weekday()),
            })
    for start in range(0, len(rows), 1000):
        connection.execute(sa.insert(table), rows[start:start + 1000])



def downgrade() -> None:
    with op.batch_alter_table('criterion_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_criterion_scores_learner')
        batch_op.drop_index('ix_criterion_scores_assessment')
        batch_op.drop_index('ix_criterion_scores_activity')

    op.drop_table('criterion_scores')
