"""criterion score tallies: the per-criterion scores counted per activity, criterion, role, level and day,
backfilled from criterion_scores

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 02:30:00
"""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTER = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('criterion_score_tallies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=100), nullable=False),
    sa.Column('assessor_role', sa.Enum('manager', 'self', name='assessor_role', native_enum=False,
                                       create_constraint=True, length=20), nullable=False),
    sa.Column('level_number', sa.Integer(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('scores', COUNTER, nullable=False),
    sa.Column('scored', COUNTER, nullable=False),
    sa.Column('hundredths', COUNTER, nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                            name=op.f('fk_criterion_score_tallies_activity_id_activities'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion_score_tallies')),
    sa.UniqueConstraint('activity_id', 'rubric_version_id', 'criterion', 'assessor_role', 'level_number',
                        'submitted_on', name='uq_criterion_score_tallies_key')
    )
    _backfill()


def _backfill() -> None:
    """Tally the scores already there (as lti_tool.tracking.models does at each submission)."""
    connection = op.get_bind()
    scores = sa.table('criterion_scores', sa.column('activity_id'), sa.column('rubric_version_id'),
                      sa.column('criterion'), sa.column('assessor_role'), sa.column('level_number'),
                      sa.column('submitted_at', lti_tool.db.UTCDateTime()),
                      sa.column('percent', sa.Numeric(7, 2)))
    tallies: dict[tuple, dict] = {}
    for activity_id, version_id, criterion, role, level, submitted_at, percent in connection.execute(
            sa.select(*scores.c)):
        day = submitted_at.date()
        key = (activity_id, version_id or 0, criterion, role, level, day)
        tally = tallies.setdefault(key, {
            'activity_id': activity_id, 'rubric_version_id': version_id or 0, 'criterion': criterion,
            'assessor_role': role, 'level_number': level, 'submitted_on': day,
            'week_start': day - timedelta(days=day.weekday()), 'scores': 0, 'scored': 0, 'hundredths': 0})
        tally['scores'] += 1
        if percent is not None:
            tally['scored'] += 1
            tally['hundredths'] += int((Decimal(percent) * 100).to_integral_value())
    table = sa.table('criterion_score_tallies', *(sa.column(name) for name in (
        'activity_id', 'rubric_version_id', 'criterion', 'assessor_role', 'level_number', 'scores', 'scored',
        'hundredths')), sa.column('submitted_on', sa.Date()), sa.column('week_start', sa.Date()))
    rows = list(tallies.values())
    for start in range(0, len(rows), 1000):
        connection.execute(sa.insert(table), rows[start:start + 1000])


def downgrade() -> None:
    op.drop_table('criterion_score_tallies')
