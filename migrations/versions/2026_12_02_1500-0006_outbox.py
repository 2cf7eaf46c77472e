"""outbox: messages delivered after commit by a worker, and the periods scheduled jobs have done

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00

``outbox_messages`` holds one row per side effect (AGS score, e-mail, xAPI statement), unique by topic and
dedupe key; ``ix_outbox_messages_due`` serves the workers' claim query (status, next attempt). ``job_runs``
holds one row per (job, period) done, so two ``cadre jobs run`` at once do a period's work once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("pending", "delivered", "failed", "dead")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'outbox_messages',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('topic', sa.String(length=100), nullable=False),
        sa.Column('dedupe_key', sa.String(length=255), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='status', native_enum=False, length=20,
                                    create_constraint=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=100), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
        sa.UniqueConstraint('topic', 'dedupe_key', name=op.f('uq_outbox_messages_topic_dedupe_key')),
    )
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_messages_topic_status', 'outbox_messages', ['topic', 'status'])
    op.create_table(
        'job_runs',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('job', sa.String(length=100), nullable=False),
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
        sa.UniqueConstraint('job', 'period_start', name=op.f('uq_job_runs_job_period_start')),
    )


def downgrade() -> None:
    op.drop_table('job_runs')
    op.drop_index('ix_outbox_messages_topic_status', table_name='outbox_messages')
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
    op.drop_table('outbox_messages')
