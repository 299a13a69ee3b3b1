"""The review steps of translations (questionnaire languages and consent texts), with who and when;
the consultation's own words (audience, scope...) in its other languages.

translation steps

Revision ID: 4e8b2f61c7d9
Revises: e3b8f1c4a7d2
Create Date: 2026-12-04 22:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e8b2f61c7d9'
down_revision = 'e3b8f1c4a7d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('translation_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=12), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('demo_only', sa.Boolean(), nullable=False),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_step'))
    )
    with op.batch_alter_table('translation_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translation_step_subject'), ['subject'], unique=False)
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wording', sa.Text(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_column('wording')
    with op.batch_alter_table('translation_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_translation_step_subject'))

    op.drop_table('translation_step')
