"""approval steps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:25:27.013362
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approvalstep',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('approvers', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('flow_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('document_id', 'round', 'position')
    )
    with op.batch_alter_table('approvalstep', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvalstep_document_id'), ['document_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('approvalstep', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvalstep_document_id'))

    op.drop_table('approvalstep')
