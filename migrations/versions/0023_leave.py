"""doctor leave: date ranges on which a doctor sees no patients

Revision ID: 0023_leave
Revises: 0022_billing
Create Date: 2026-12-01 15:28:19.856307

"""
from alembic import op
import sqlalchemy as sa


revision = "0023_leave"
down_revision = "0022_billing"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('doctor_leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('start_date <= end_date', name=op.f('ck_doctor_leaves_date_order')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_doctor_leaves_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_doctor_leaves_doctor_id_doctors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doctor_leaves'))
    )
    with op.batch_alter_table('doctor_leaves', schema=None) as batch_op:
        batch_op.create_index('ix_doctor_leave_doctor_dates', ['doctor_id', 'start_date', 'end_date'], unique=False)



def downgrade():
    with op.batch_alter_table('doctor_leaves', schema=None) as batch_op:
        batch_op.drop_index('ix_doctor_leave_doctor_dates')

    op.drop_table('doctor_leaves')
