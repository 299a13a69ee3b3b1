"""Field laptops (issue 22): field packages, device keys, field cards, imported bundles; participant.site.

Revision ID: 55664a4e8062
Revises: 4e8b2f61c7d9
Create Date: 2026-12-04 21:54:42.144512

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55664a4e8062'
down_revision = '4e8b2f61c7d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('synced_record',
    sa.Column('global_id', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('local_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('global_id', name=op.f('pk_synced_record'))
    )
    op.create_table('field_package',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('central_consultation_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=60), nullable=False),
    sa.Column('central_url', sa.String(length=300), nullable=False),
    sa.Column('central_sign_key', sa.String(length=64), nullable=False),
    sa.Column('central_box_key', sa.String(length=64), nullable=False),
    sa.Column('code_key', sa.String(length=64), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('imported_on', sa.Date(), nullable=False),
    sa.Column('enrol_token', sa.String(length=64), nullable=False),
    sa.Column('laptop_id', sa.String(length=32), nullable=False),
    sa.Column('registered', sa.Boolean(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_field_package_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_package'))
    )
    with op.batch_alter_table('field_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_package_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('sync_package',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=60), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('made_by', sa.String(length=80), nullable=False),
    sa.Column('enrol_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_sync_package_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_package'))
    )
    with op.batch_alter_table('sync_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_package_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('field_bundle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.String(length=36), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('finished', sa.Text(), nullable=False),
    sa.Column('concerns', sa.Text(), nullable=False),
    sa.Column('receipt', sa.Text(), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('purged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['field_package.id'], name=op.f('fk_field_bundle_package_id_field_package'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_bundle')),
    sa.UniqueConstraint('package_id', 'sequence', name=op.f('uq_field_bundle_package_id'))
    )
    op.create_table('field_card',
    sa.Column('participant_id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=60), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('withdrawal_hash', sa.String(length=64), nullable=True),
    sa.Column('laptop_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_field_card_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_field_card_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_field_card'))
    )
    with op.batch_alter_table('field_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_card_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_card_site'), ['site'], unique=False)

    op.create_table('sync_device',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('package_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['sync_package.id'], name=op.f('fk_sync_device_package_id_sync_package'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_device')),
    sa.UniqueConstraint('package_id', name=op.f('uq_sync_device_package_id')),
    sa.UniqueConstraint('public_key', name=op.f('uq_sync_device_public_key'))
    )
    op.create_table('sync_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('laptop_id', sa.String(length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('imported_on', sa.Date(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['laptop_id'], ['sync_device.id'], name=op.f('fk_sync_import_laptop_id_sync_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_import')),
    sa.UniqueConstraint('laptop_id', 'sequence', name=op.f('uq_sync_import_laptop_id'))
    )
    op.create_table('sync_upload',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('laptop_id', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['laptop_id'], ['sync_device.id'], name=op.f('fk_sync_upload_laptop_id_sync_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_upload'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site', sa.String(length=60), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('site')

    op.drop_table('sync_upload')
    op.drop_table('sync_import')
    op.drop_table('sync_device')
    with op.batch_alter_table('field_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_card_site'))
        batch_op.drop_index(batch_op.f('ix_field_card_consultation_id'))

    op.drop_table('field_card')
    op.drop_table('field_bundle')
    with op.batch_alter_table('sync_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_package_consultation_id'))

    op.drop_table('sync_package')
    with op.batch_alter_table('field_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_package_consultation_id'))

    op.drop_table('field_package')
    op.drop_table('synced_record')
