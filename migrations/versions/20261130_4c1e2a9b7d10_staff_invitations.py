"""Staff invitations: an owner invites, the invitee accepts.

Revision ID: 4c1e2a9b7d10
Revises: df61b52c2efb
Create Date: 2026-11-30 09:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '4c1e2a9b7d10'
down_revision = 'df61b52c2efb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_staff_invitations_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_staff_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_staff_invitations_producer_id_producers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitations')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_staff_invitations_secret_hash'))
    )
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitations_producer_id'), ['producer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitations_producer_id'))
    op.drop_table('staff_invitations')
