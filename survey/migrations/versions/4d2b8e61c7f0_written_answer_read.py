"""The safeguarding lead's reading list: which written answers have been read.

written answer read

Revision ID: 4d2b8e61c7f0
Revises: 9c41e7d2b6a3
Create Date: 2026-12-04 22:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d2b8e61c7f0'
down_revision = '9c41e7d2b6a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('written_answer_read',
    sa.Column('answer_id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('value_digest', sa.String(length=64), nullable=False),
    sa.Column('read_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_written_answer_read_answer_id_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_written_answer_read_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('answer_id', name=op.f('pk_written_answer_read'))
    )
    with op.batch_alter_table('written_answer_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_written_answer_read_consultation_id'), ['consultation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('written_answer_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_written_answer_read_consultation_id'))

    op.drop_table('written_answer_read')
