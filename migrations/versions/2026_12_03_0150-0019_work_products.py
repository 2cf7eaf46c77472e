"""work products: learners' submissions per activity, their versions and files

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('work_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'],
                            name=op.f('fk_work_products_activity_id_activities'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['users.id'],
                            name=op.f('fk_work_products_learner_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id',
                            name=op.f('pk_work_products')),
    sa.UniqueConstraint('activity_id', 'learner_id',
                            name=op.f('uq_work_products_activity_id_learner_id'))
    )
    with op.batch_alter_table('work_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_products_learner_id'), ['learner_id'], unique=False)

    op.create_table('work_product_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_product_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('submitted_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['submitted_by_user_id'], ['users.id'],
                            name=op.f('fk_work_product_versions_submitted_by_user_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['work_product_id'], ['work_products.id'],
                            name=op.f('fk_work_product_versions_work_product_id_work_products'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id',
                            name=op.f('pk_work_product_versions')),
    sa.UniqueConstraint('work_product_id', 'number',
                            name=op.f('uq_work_product_versions_work_product_id_number'))
    )
    op.create_table('work_product_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint('size_bytes > 0',
                            name=op.f('ck_work_product_files_size_bytes')),
    sa.ForeignKeyConstraint(['version_id'], ['work_product_versions.id'],
                            name=op.f('fk_work_product_files_version_id_work_product_versions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id',
                            name=op.f('pk_work_product_files')),
    sa.UniqueConstraint('version_id', 'position',
                            name=op.f('uq_work_product_files_version_id_position'))
    )
    with op.batch_alter_table('work_product_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_product_files_stored_name'), ['stored_name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('work_product_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_product_files_stored_name'))

    op.drop_table('work_product_files')
    op.drop_table('work_product_versions')
    with op.batch_alter_table('work_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_products_learner_id'))

    op.drop_table('work_products')
