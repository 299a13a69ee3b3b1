"""Failed staff sign-ins counted in the database (shared by every worker process)

Revision ID: 7c41e2a9d0b3
Revises: 9c4e2d7a1b30
Create Date: 2026-12-04 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c41e2a9d0b3'
down_revision = '9c4e2d7a1b30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signin_failure',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('account_key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(), nullable=False),
        sa.Column('blocked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_signin_failure')),
    )
    with op.batch_alter_table('signin_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_failure_account_key'), ['account_key'], unique=False)


def downgrade():
    with op.batch_alter_table('signin_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_failure_account_key'))
    op.drop_table('signin_failure')
