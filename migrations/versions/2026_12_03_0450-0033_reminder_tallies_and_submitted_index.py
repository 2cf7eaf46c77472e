"""reminder tallies: the reminders each manager was sent about each activity, counted as each is
delivered (what the dashboard shows), backfilled from the outbox's delivered reminder e-mails; and the
index of submitted assessments the dashboard's completion reads

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

outbox_messages = sa.table(
    'outbox_messages',
    sa.column('topic', sa.String()),
    sa.column('dedupe_key', sa.String()),
    sa.column('payload', sa.JSON()),
    sa.column('status', sa.String()),
    sa.column('delivered_at', lti_tool.db.UTCDateTime()),
)
activities = sa.table('activities', sa.column('id', sa.Integer()))
users = sa.table('users', sa.column('id', sa.Integer()))


def upgrade() -> None:
    op.create_table('reminder_tallies',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('sent >= 0', name=op.f('ck_reminder_tallies_sent')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                            name=op.f('fk_reminder_tallies_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'],
                            name=op.f('fk_reminder_tallies_manager_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'manager_id', name=op.f('pk_reminder_tallies'))
    )
    # The reminders the outbox still holds as delivered (it purges old ones; one its composer dropped
    # because the feedback was in by then was marked delivered too, and cannot be told apart here).
    activity_id = outbox_messages.c.payload['activity_id'].as_integer()
    manager_id = outbox_messages.c.payload['manager_id'].as_integer()
    delivered = (
        sa.select(activity_id, manager_id, sa.func.count(), sa.func.max(outbox_messages.c.delivered_at))
        .where(outbox_messages.c.topic == 'email', outbox_messages.c.dedupe_key.startswith('reminder:'),
               outbox_messages.c.status == 'delivered', outbox_messages.c.delivered_at.is_not(None),
               activity_id.in_(sa.select(activities.c.id)), manager_id.in_(sa.select(users.c.id)))
        .group_by(activity_id, manager_id)
    )
    tallies = sa.table('reminder_tallies', sa.column('activity_id'), sa.column('manager_id'),
                       sa.column('sent'), sa.column('last_sent_at'))
    op.execute(tallies.insert().from_select(['activity_id', 'manager_id', 'sent', 'last_sent_at'], delivered))
    op.create_index('ix_assessments_submitted', 'assessments', ['activity_id', 'learner_id', 'assessor_role'],
                    unique=False, postgresql_where=sa.text("status = 'submitted'"),
                    sqlite_where=sa.text("status = 'submitted'"))


def downgrade() -> None:
    op.drop_index('ix_assessments_submitted', table_name='assessments',
                  postgresql_where=sa.text("status = 'submitted'"), sqlite_where=sa.text("status = 'submitted'"))
    op.drop_table('reminder_tallies')
