"""credentials: certificates in the directory, TOTP secrets, the proof kept with each answer

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

No existing answer has a proof (proof NULL): they were given before answers were proved.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credential',
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('official_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('certificate', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revocation_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['official_id'], ['official.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_credential_agency_id'), 'credential', ['agency_id'], unique=False)
    op.create_index(op.f('ix_credential_official_id'), 'credential', ['official_id'], unique=False)
    op.create_index(op.f('ix_credential_fingerprint'), 'credential', ['fingerprint'], unique=True)
    op.create_table('otpsecret',
    sa.Column('official_id', sa.Integer(), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('last_step', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['official_id'], ['official.id'], ),
    sa.PrimaryKeyConstraint('official_id')
    )
    op.add_column('approvalstep', sa.Column('proof', sa.JSON(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+), as in 0007
    op.drop_column('approvalstep', 'proof')
    op.drop_table('otpsecret')
    op.drop_index(op.f('ix_credential_fingerprint'), table_name='credential')
    op.drop_index(op.f('ix_credential_official_id'), table_name='credential')
    op.drop_index(op.f('ix_credential_agency_id'), table_name='credential')
    op.drop_table('credential')
