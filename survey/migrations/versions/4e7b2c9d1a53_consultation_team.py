"""The consultation team: who added each member and when, and an owner for every consultation.

consultation team

Revision ID: 4e7b2c9d1a53
Revises: 4e8b1c7d2a95
Create Date: 2026-12-04 22:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4e7b2c9d1a53'
down_revision = '4e8b1c7d2a95'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_by', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('added_on', sa.Date(), nullable=True))
    # Each existing consultation gets an owner: the facilitator named first on it.
    op.execute(
        "INSERT INTO membership (user_id, consultation_id, role, added_by) "
        "SELECT m.user_id, m.consultation_id, 'owner', '' FROM membership m "
        "WHERE m.role = 'facilitator' AND m.id = (SELECT MIN(f.id) FROM membership f "
        "WHERE f.consultation_id = m.consultation_id AND f.role = 'facilitator') "
        "AND NOT EXISTS (SELECT 1 FROM membership o WHERE o.consultation_id = m.consultation_id "
        "AND o.role = 'owner')"
    )


def downgrade():
    op.execute("DELETE FROM membership WHERE role = 'owner'")
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('added_on')
        batch_op.drop_column('added_by')
