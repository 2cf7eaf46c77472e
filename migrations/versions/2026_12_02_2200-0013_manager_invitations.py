"""manager invitations, sign-in links and reminder opt-outs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'manager_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('context_id', sa.Integer(), nullable=False),
        sa.Column('manager_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['context_id'], ['contexts.id'],
                                name=op.f('fk_manager_invitations_context_id_contexts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'],
                                name=op.f('fk_manager_invitations_invited_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['manager_id'], ['users.id'],
                                name=op.f('fk_manager_invitations_manager_id_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'],
                                name=op.f('fk_manager_invitations_platform_id_platforms'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'],
                                name=op.f('fk_manager_invitations_revoked_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_manager_invitations')),
    )
    with op.batch_alter_table('manager_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_manager_invitations_context_manager', ['context_id', 'manager_id'],
                              unique=False)

    op.create_table(
        'invitation_sign_in_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', lti_tool.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('launch_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['invitation_id'], ['manager_invitations.id'],
                                name=op.f('fk_invitation_sign_in_links_invitation_id_manager_invitations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['launch_id'], ['launches.id'],
                                name=op.f('fk_invitation_sign_in_links_launch_id_launches'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_sign_in_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_sign_in_links_token_hash')),
    )
    with op.batch_alter_table('invitation_sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_sign_in_links_invitation_id'), ['invitation_id'],
                              unique=False)

    op.create_table(
        'reminder_opt_outs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('context_id', sa.Integer(), nullable=False),
        sa.Column('created_at', lti_tool.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['context_id'], ['contexts.id'],
                                name=op.f('fk_reminder_opt_outs_context_id_contexts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_reminder_opt_outs_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_opt_outs')),
        sa.UniqueConstraint('user_id', 'context_id', name=op.f('uq_reminder_opt_outs_user_id_context_id')),
    )


def downgrade() -> None:
    op.drop_table('reminder_opt_outs')
    with op.batch_alter_table('invitation_sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_sign_in_links_invitation_id'))
    op.drop_table('invitation_sign_in_links')
    with op.batch_alter_table('manager_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_manager_invitations_context_manager')
    op.drop_table('manager_invitations')
