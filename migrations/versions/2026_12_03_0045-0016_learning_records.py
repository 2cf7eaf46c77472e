"""learning records: Cadre's statement store, the LRSs it forwards to, and a delivery row per statement and LRS

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 00:45:00

``statements`` keeps each statement whole (``body``) in stored order (``seq``), with the columns the xAPI
query filters use copied out and indexed with ``seq`` (keyset pages); ``statement_activities`` and
``statement_agents`` serve ``related_activities`` and ``related_agents``. ``statement_deliveries`` is the
per-LRS outbox: ``ix_statement_deliveries_due`` serves the worker's claim (LRS, status, next attempt).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learning_record_stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('endpoint', sa.String(length=1000), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('password_encrypted', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('active', 'paused', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('filter_courses', sa.JSON(), nullable=False),
    sa.Column('filter_verbs', sa.JSON(), nullable=False),
    sa.Column('batch_size', sa.Integer(), nullable=False),
    sa.Column('from_environment', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_record_stores')),
    sa.UniqueConstraint('name', name=op.f('uq_learning_record_stores_name'))
    )
    op.create_table('statements',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=True),
    sa.Column('context_id', sa.Integer(), nullable=True),
    sa.Column('activity_kind', sa.String(length=50), nullable=True),
    sa.Column('verb', sa.String(length=255), nullable=False),
    sa.Column('object_id', sa.String(length=2048), nullable=False),
    sa.Column('actor_key', sa.String(length=512), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('registration', sa.String(length=36), nullable=True),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('voids_statement_id', sa.String(length=36), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['contexts.id'], name=op.f('fk_statements_context_id_contexts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['users.id'], name=op.f('fk_statements_person_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], name=op.f('fk_statements_platform_id_platforms'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_statements')),
    sa.UniqueConstraint('id', name=op.f('uq_statements_id')),
    # AUTOINCREMENT: a seq is never used again after its row goes (pages and exports follow seq).
    sqlite_autoincrement=True,
    )
    op.create_index('ix_statements_actor_key_seq', 'statements', ['actor_key', 'seq'], unique=False)
    op.create_index('ix_statements_context_id_seq', 'statements', ['context_id', 'seq'], unique=False)
    op.create_index('ix_statements_object_id_seq', 'statements', ['object_id', 'seq'], unique=False)
    op.create_index('ix_statements_person_id', 'statements', ['person_id'], unique=False)
    op.create_index('ix_statements_platform_id_seq', 'statements', ['platform_id', 'seq'], unique=False)
    op.create_index('ix_statements_registration_seq', 'statements', ['registration', 'seq'], unique=False)
    op.create_index('ix_statements_stored', 'statements', ['stored'], unique=False)
    op.create_index('ix_statements_verb_seq', 'statements', ['verb', 'seq'], unique=False)
    op.create_index('ix_statements_voids_statement_id', 'statements', ['voids_statement_id'], unique=False)
    op.create_table('statement_activities',
    sa.Column('statement_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['statement_seq'], ['statements.seq'], name=op.f('fk_statement_activities_statement_seq_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('statement_seq', 'activity_id', 'role', name=op.f('pk_statement_activities'))
    )
    op.create_index('ix_statement_activities_activity_id_statement_seq', 'statement_activities', ['activity_id', 'statement_seq'], unique=False)
    op.create_table('statement_agents',
    sa.Column('statement_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agent_key', sa.String(length=512), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['statement_seq'], ['statements.seq'], name=op.f('fk_statement_agents_statement_seq_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('statement_seq', 'agent_key', 'role', name=op.f('pk_statement_agents'))
    )
    op.create_index('ix_statement_agents_agent_key_statement_seq', 'statement_agents', ['agent_key', 'statement_seq'], unique=False)
    op.create_table('statement_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('statement_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lrs_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'dead', name='status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_statement_deliveries_attempts')),
    sa.ForeignKeyConstraint(['lrs_id'], ['learning_record_stores.id'], name=op.f('fk_statement_deliveries_lrs_id_learning_record_stores'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_seq'], ['statements.seq'], name=op.f('fk_statement_deliveries_statement_seq_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_deliveries')),
    sa.UniqueConstraint('statement_seq', 'lrs_id', name=op.f('uq_statement_deliveries_statement_seq_lrs_id'))
    )
    op.create_index('ix_statement_deliveries_due', 'statement_deliveries', ['lrs_id', 'status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_statement_deliveries_due', table_name='statement_deliveries')
    op.drop_table('statement_deliveries')
    op.drop_index('ix_statement_agents_agent_key_statement_seq', table_name='statement_agents')
    op.drop_table('statement_agents')
    op.drop_index('ix_statement_activities_activity_id_statement_seq', table_name='statement_activities')
    op.drop_table('statement_activities')
    op.drop_index('ix_statements_voids_statement_id', table_name='statements')
    op.drop_index('ix_statements_verb_seq', table_name='statements')
    op.drop_index('ix_statements_stored', table_name='statements')
    op.drop_index('ix_statements_registration_seq', table_name='statements')
    op.drop_index('ix_statements_platform_id_seq', table_name='statements')
    op.drop_index('ix_statements_person_id', table_name='statements')
    op.drop_index('ix_statements_object_id_seq', table_name='statements')
    op.drop_index('ix_statements_context_id_seq', table_name='statements')
    op.drop_index('ix_statements_actor_key_seq', table_name='statements')
    op.drop_table('statements')
    op.drop_table('learning_record_stores')
