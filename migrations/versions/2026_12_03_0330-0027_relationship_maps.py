"""strategic relationships: relationship maps, their relationships with dated history, goals and shares

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 03:30:00

The ``relationship_map`` activity kind came with 0025; these are its tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES = ('operational', 'mentor', 'mentee', 'sponsor', 'strategic_partner', 'peer_other_unit',
         'peer_other_company')


def _relation_type(nullable: bool) -> sa.Column:
    return sa.Column('relation_type', sa.Enum(*TYPES, name='relation_type', native_enum=False,
                                              create_constraint=True, length=30), nullable=nullable)


def upgrade() -> None:
    op.create_table('relationship_map_settings',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('staff_may_read', sa.Boolean(), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_relationship_map_settings_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_relationship_map_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_relationship_map_settings'))
    )
    op.create_table('relationship_maps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('shared_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_relationship_maps_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_relationship_maps_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship_maps')),
    sa.UniqueConstraint('activity_id', 'owner_id', name=op.f('uq_relationship_maps_activity_id_owner_id'))
    )
    with op.batch_alter_table('relationship_maps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationship_maps_owner_id'), ['owner_id'], unique=False)
    op.create_table('mapped_relationships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('map_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_role', sa.Boolean(), nullable=False),
    _relation_type(False),
    sa.Column('strength', sa.Integer(), nullable=False),
    sa.Column('last_contact_on', sa.Date(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('strength >= 1 AND strength <= 5', name=op.f('ck_mapped_relationships_strength')),
    sa.ForeignKeyConstraint(['map_id'], ['relationship_maps.id'], name=op.f('fk_mapped_relationships_map_id_relationship_maps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mapped_relationships'))
    )
    with op.batch_alter_table('mapped_relationships', schema=None) as batch_op:
        batch_op.create_index('ix_mapped_relationships_map', ['map_id', 'ended_on'], unique=False)
    op.create_table('relationship_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('map_id', sa.Integer(), nullable=False),
    sa.Column('relationship_id', sa.Integer(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    _relation_type(False),
    sa.Column('strength', sa.Integer(), nullable=False),
    sa.Column('on_map', sa.Boolean(), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('strength >= 1 AND strength <= 5', name=op.f('ck_relationship_changes_strength')),
    sa.ForeignKeyConstraint(['map_id'], ['relationship_maps.id'], name=op.f('fk_relationship_changes_map_id_relationship_maps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['relationship_id'], ['mapped_relationships.id'], name=op.f('fk_relationship_changes_relationship_id_mapped_relationships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship_changes'))
    )
    with op.batch_alter_table('relationship_changes', schema=None) as batch_op:
        batch_op.create_index('ix_relationship_changes_map', ['map_id', 'changed_on'], unique=False)
    op.create_table('relationship_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('map_id', sa.Integer(), nullable=False),
    _relation_type(True),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('target >= 1 AND target <= 50', name=op.f('ck_relationship_goals_target')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_relationship_goals_dates')),
    sa.ForeignKeyConstraint(['map_id'], ['relationship_maps.id'], name=op.f('fk_relationship_goals_map_id_relationship_maps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship_goals'))
    )
    with op.batch_alter_table('relationship_goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationship_goals_map_id'), ['map_id'], unique=False)
    op.create_table('relationship_map_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('map_id', sa.Integer(), nullable=False),
    sa.Column('shared_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('relationships', sa.Integer(), nullable=False),
    sa.Column('strategic', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['map_id'], ['relationship_maps.id'], name=op.f('fk_relationship_map_shares_map_id_relationship_maps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relationship_map_shares'))
    )
    with op.batch_alter_table('relationship_map_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relationship_map_shares_map_id'), ['map_id'], unique=False)


def downgrade() -> None:
    for table in ('relationship_map_shares', 'relationship_goals', 'relationship_changes',
                  'mapped_relationships', 'relationship_maps', 'relationship_map_settings'):
        op.drop_table(table)
