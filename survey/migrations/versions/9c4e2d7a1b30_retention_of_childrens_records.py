"""Retention of children's records: deletable assent events and signals, a bounded concern record.

``holder_tag`` on ``assent_event`` and ``signal`` is a keyed hash of the participant's id (not a
foreign key), so a child's stop-and-delete or withdrawal can delete them too.  ``concern_flag``
gains the date the safeguarding lead resolved it (it is deleted the profile's
``safeguarding_days`` later) and, in facilitated sessions, the session and seat label.  New
columns are nullable or carry a server default, so databases with data upgrade; rows made
before this revision have no tag and stay until their consultation's retention date.

retention of children's records

Revision ID: 9c4e2d7a1b30
Revises: 5fef8aba637b
Create Date: 2026-12-04 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4e2d7a1b30'
down_revision = '5fef8aba637b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assent_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_tag', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_assent_event_holder_tag'), ['holder_tag'], unique=False)

    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_tag', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_signal_holder_tag'), ['holder_tag'], unique=False)

    with op.batch_alter_table('concern_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seat_label', sa.String(length=20), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_concern_flag_session_id_facilitation_session'),
                                    'facilitation_session', ['session_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('concern_flag', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_concern_flag_session_id_facilitation_session'),
                                 type_='foreignkey')
        batch_op.drop_column('seat_label')
        batch_op.drop_column('session_id')
        batch_op.drop_column('resolved_on')

    with op.batch_alter_table('signal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_holder_tag'))
        batch_op.drop_column('holder_tag')

    with op.batch_alter_table('assent_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assent_event_holder_tag'))
        batch_op.drop_column('holder_tag')
