"""effective-dated directory: dates on every fact, agency versions, positions, TUQ. delegations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Existing rows get no dates (in force since before vanban kept them, still in force); each official's position
as recorded so far becomes the official's first ``position`` row.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

DATED = ('agency', 'agencygroup', 'agencygroupmember', 'unit', 'signingauthority', 'channel')


def upgrade() -> None:
    for table in DATED:
        op.add_column(table, sa.Column('valid_from', sa.Date(), nullable=True))
        op.add_column(table, sa.Column('valid_until', sa.Date(), nullable=True))
    op.add_column('agency', sa.Column('successor_id', sa.Integer(), nullable=True))
    op.add_column('signingauthority', sa.Column('delegated_by_id', sa.Integer(), nullable=True))
    op.add_column('signingauthority', sa.Column('delegation', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('document', sa.Column('as_of', sa.Date(), nullable=True))
    op.create_table('agencyversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('abbreviation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('header_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('header_as_parent', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('head_title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('collective_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'valid_from')
    )
    op.create_index(op.f('ix_agencyversion_agency_id'), 'agencyversion', ['agency_id'], unique=False)
    op.create_table('position',
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('official_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('is_head', sa.Boolean(), nullable=False),
    sa.Column('is_leader', sa.Boolean(), nullable=False),
    sa.Column('portfolio', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('concurrent', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['official_id'], ['official.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_position_official_id'), 'position', ['official_id'], unique=False)
    op.create_index(op.f('ix_position_agency_id'), 'position', ['agency_id'], unique=False)
    op.execute("INSERT INTO position (official_id, agency_id, unit_id, title, is_head, is_leader, portfolio, concurrent) "
               "SELECT id, agency_id, unit_id, title, is_head, is_leader, portfolio, false FROM official ORDER BY id")


def downgrade() -> None:
    op.drop_index(op.f('ix_position_agency_id'), table_name='position')
    op.drop_index(op.f('ix_position_official_id'), table_name='position')
    op.drop_table('position')
    op.drop_index(op.f('ix_agencyversion_agency_id'), table_name='agencyversion')
    op.drop_table('agencyversion')
    # plain DROP COLUMN (SQLite 3.35+): a batch copy of 'agency' cannot drop a table other tables reference
    op.drop_column('document', 'as_of')
    op.drop_column('signingauthority', 'delegation')
    op.drop_column('signingauthority', 'delegated_by_id')
    op.drop_column('agency', 'successor_id')
    for table in DATED:
        op.drop_column(table, 'valid_until')
        op.drop_column(table, 'valid_from')
