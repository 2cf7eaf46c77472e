"""coaching log: the coaching_log activity kind and the coaching_sessions table

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 03:00:00

The activity kind is one more value in ``ck_activities_kind``. On PostgreSQL the constraint is dropped and
made again. On SQLite a CHECK constraint can only change by rebuilding the table, and rebuilding
``activities`` (dropping the old one) would cascade-delete every row that references an activity while
foreign keys are on; so the constraint's text is edited in the schema instead (one value added, the schema
version bumped so every connection reads it again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('manager_feedback', 'skill_assessment', 'work_product_review', 'self_assessment', 'peer_assessment',
         'manager_insight_survey', 'six_month_follow_up', 'career_conversation')
NEW_KIND = 'coaching_log'


def _condition(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _change_kinds(old: Sequence[str], new: Sequence[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        version = bind.exec_driver_sql('PRAGMA schema_version').scalar_one()
        bind.exec_driver_sql('PRAGMA writable_schema=ON')
        bind.execute(sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                             "WHERE type = 'table' AND name = 'activities'"),
                     {"old": _condition(old), "new": _condition(new)})
        bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
        bind.exec_driver_sql('PRAGMA writable_schema=OFF')
        stored = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'activities'").scalar_one()
        if _condition(new) not in stored:  # the text was not as expected: stop rather than go on without it
            raise RuntimeError("ck_activities_kind was not found as expected in the activities table's schema; "
                               "the database was not changed by Cadre's migrations alone")
        return
    op.drop_constraint(op.f('ck_activities_kind'), 'activities', type_='check')
    op.create_check_constraint(op.f('ck_activities_kind'), 'activities', _condition(new))


def upgrade() -> None:
    _change_kinds(KINDS, (*KINDS, NEW_KIND))
    op.create_table('coaching_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('coaching', 'mentoring', name='coaching_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('challenge', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=False),
    sa.Column('stress', sa.Integer(), nullable=True),
    sa.Column('in_control', sa.Text(), nullable=False),
    sa.Column('not_in_control', sa.Text(), nullable=False),
    sa.Column('wellbeing_shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes >= 1 AND minutes <= 600', name=op.f('ck_coaching_sessions_minutes')),
    sa.CheckConstraint('stress IS NULL OR (stress >= 1 AND stress <= 5)', name=op.f('ck_coaching_sessions_stress')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_coaching_sessions_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_coaching_sessions_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_sessions'))
    )
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_coaching_sessions_activity_owner', ['activity_id', 'owner_id', 'held_on'],
                              unique=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM activities WHERE kind = :kind").bindparams(kind=NEW_KIND))
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_coaching_sessions_activity_owner')
    op.drop_table('coaching_sessions')
    _change_kinds((*KINDS, NEW_KIND), KINDS)
