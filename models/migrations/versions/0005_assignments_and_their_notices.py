"""assignments and their notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:21:29.527343
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('cooperating', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('task', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('report_to_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('reported_on', sa.Date(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['lead_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['report_to_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_id', 'position')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_state'), ['state'], unique=False)

    op.create_table('assignmentnotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working_days_left', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('outcomes', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assignment_id', 'kind', 'day')
    )
    with op.batch_alter_table('assignmentnotice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignmentnotice_assignment_id'), ['assignment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assignmentnotice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignmentnotice_assignment_id'))

    op.drop_table('assignmentnotice')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_state'))
        batch_op.drop_index(batch_op.f('ix_assignment_lead_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_decision_id'))

    op.drop_table('assignment')
