"""Print jobs: large label runs written to a file by a background worker.

Revision ID: 9b4c8c526bc5
Revises: 4c1e2a9b7d10
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9b4c8c526bc5'
down_revision = '4c1e2a9b7d10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label_run_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.Enum('pdf', 'csv', 'zip', name='print_format', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('preset', sa.String(length=32), nullable=True),
    sa.Column('ec', sa.String(length=1), nullable=True),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', 'expired', name='print_job_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('file_name', sa.String(length=120), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.CheckConstraint('done >= 0 AND done <= total', name=op.f('ck_print_jobs_done_within_total')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_print_jobs_created_by_id_users')),
    sa.ForeignKeyConstraint(['label_run_id'], ['label_runs.id'], name=op.f('fk_print_jobs_label_run_id_label_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_jobs_label_run_id'), ['label_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_state'), ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_print_jobs_label_run_id'))

    op.drop_table('print_jobs')
