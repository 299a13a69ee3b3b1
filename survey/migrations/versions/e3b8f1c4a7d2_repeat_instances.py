"""Answers given in a repeat's instances: the instance number (and the outer one) in the key.

repeat instances

Revision ID: e3b8f1c4a7d2
Revises: 4e7b2c9d1a53
Create Date: 2026-12-04 22:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3b8f1c4a7d2'
down_revision = '4e7b2c9d1a53'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('parent_instance', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_answer_participant_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_answer_participant_id'),
                                          ['participant_id', 'item', 'parent_instance', 'instance'])


def downgrade():
    # Answers of repeat instances have no place in the older key: they go.
    op.execute("DELETE FROM answer WHERE instance <> 0 OR parent_instance <> 0")
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_answer_participant_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_answer_participant_id'), ['participant_id', 'item'])
        batch_op.drop_column('parent_instance')
        batch_op.drop_column('instance')
