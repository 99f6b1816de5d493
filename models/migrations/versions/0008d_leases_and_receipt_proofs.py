"""leases (one sender at a time, surviving a lost connection) and how an acknowledgement was proved

Revision ID: 0008d
Revises: 0008
Create Date: 2026-12-01

The PostgreSQL advisory lock and the SQLite file lock of a distribution give way to a lease row (models/lease.py).
Acknowledgements recorded so far carried no proof: they keep none.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008d'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('fence', sa.Integer(), nullable=False),
    sa.Column('beat', sa.Integer(), nullable=False),
    sa.Column('renewed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.add_column('delivery', sa.Column('acknowledged_proof', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+): a batch copy of 'delivery' fails with foreign keys on
    op.drop_column('delivery', 'acknowledged_proof')
    op.drop_table('lease')
