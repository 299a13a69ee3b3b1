"""Release ledger: frozen releases of results and the tables each published (issue 15).

Revision ID: 7c1e5a0d9b21
Revises: 7c41e2a9d0b3
Create Date: 2026-12-04 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7c1e5a0d9b21'
down_revision = '7c41e2a9d0b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('made_by', sa.String(length=80), nullable=False),
    sa.Column('audience', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('n_children', sa.Integer(), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_release_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release')),
    sa.UniqueConstraint('consultation_id', 'number', name=op.f('uq_release_consultation_id'))
    )
    with op.batch_alter_table('release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_consultation_id'), ['consultation_id'], unique=False)
    op.create_table('release_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('population', sa.Text(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('cells', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['release.id'], name=op.f('fk_release_table_release_id_release'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_table'))
    )
    with op.batch_alter_table('release_table', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_table_release_id'), ['release_id'], unique=False)


def downgrade():
    with op.batch_alter_table('release_table', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_table_release_id'))
    op.drop_table('release_table')
    with op.batch_alter_table('release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_consultation_id'))
    op.drop_table('release')
