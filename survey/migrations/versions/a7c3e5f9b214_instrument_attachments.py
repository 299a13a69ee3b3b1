"""Files attached to a questionnaire version (choice lists from a CSV or XML file).

Revision ID: a7c3e5f9b214
Revises: e4b7c9a2d150
Create Date: 2026-12-05 21:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e5f9b214'
down_revision = 'e4b7c9a2d150'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'instrument_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_version_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('rows_json', sa.Text(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=80), nullable=False),
        sa.Column('uploaded_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ['instrument_version_id'], ['instrument_version.id'],
            name=op.f('fk_instrument_attachment_instrument_version_id_instrument_version'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_attachment')),
        sa.UniqueConstraint(
            'instrument_version_id', 'filename', name=op.f('uq_instrument_attachment_instrument_version_id')
        ),
    )
    with op.batch_alter_table('instrument_attachment', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_instrument_attachment_instrument_version_id'), ['instrument_version_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('instrument_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_attachment_instrument_version_id'))
    op.drop_table('instrument_attachment')
