"""registers by year: auto-opened registers, imported entries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00

Existing registers were opened with the directory or explicitly (opened_from NULL); existing entries were
allocated by vanban (imported false, no subject of their own: the document has it).
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outgoingregister', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_from', sa.Integer(), nullable=True))
    with op.batch_alter_table('registerentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('registerentry', schema=None) as batch_op:
        batch_op.drop_column('subject')
        batch_op.drop_column('imported')
    with op.batch_alter_table('outgoingregister', schema=None) as batch_op:
        batch_op.drop_column('opened_from')
