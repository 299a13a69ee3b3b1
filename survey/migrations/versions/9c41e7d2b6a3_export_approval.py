"""Approval records for record-level exports of sensitive (S2/S3) items (DP-07).

export approval

Revision ID: 9c41e7d2b6a3
Revises: b7d41c2e9a10
Create Date: 2026-12-04 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c41e7d2b6a3'
down_revision = 'b7d41c2e9a10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('approved_by', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_export_approval_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_approval'))
    )
    with op.batch_alter_table('export_approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_approval_consultation_id'), ['consultation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('export_approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_approval_consultation_id'))

    op.drop_table('export_approval')
