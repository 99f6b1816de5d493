"""audit log and incoming register

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:14:17.232350
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

from models.audit import payload_field


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    audithead = op.create_table('audithead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # the chain starts empty: its head points at the genesis hash
    op.bulk_insert(audithead, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    # seq, at and document_id are generated from the payload, by SQL written for each database
    op.create_table('auditentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seq', sa.Integer(), sa.Computed(payload_field('seq'), persisted=True), nullable=False),
    sa.Column('at', sa.String(length=27), sa.Computed(payload_field('at'), persisted=True), nullable=False),
    sa.Column('document_id', sa.Integer(), sa.Computed(payload_field('document_id'), persisted=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditentry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_document_id'), ['document_id'], unique=False)

    op.create_table('incomingentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('number_symbol', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=False),
    sa.Column('type_and_subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assigned_to', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('forwarded_on', sa.Date(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'year', 'number')
    )
    with op.batch_alter_table('incomingentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incomingentry_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incomingentry_document_id'), ['document_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incomingentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incomingentry_document_id'))
        batch_op.drop_index(batch_op.f('ix_incomingentry_agency_id'))

    op.drop_table('incomingentry')
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditentry_document_id'))
        batch_op.drop_index(batch_op.f('ix_auditentry_at'))

    op.drop_table('auditentry')
    op.drop_table('audithead')
