"""front desk: queue tokens of walk-ins, emergencies and checked-in appointments

Revision ID: 0024_desk
Revises: 0023_leave
Create Date: 2026-12-01 15:34:51.675276

"""
from alembic import op
import sqlalchemy as sa


revision = "0024_desk"
down_revision = "0023_leave"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('queue_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(kind = 'emergency') = (appointment_id IS NULL)", name=op.f('ck_queue_tokens_emergency_has_no_slot')),
    sa.CheckConstraint("kind IN ('appointment', 'walk_in', 'emergency')", name=op.f('ck_queue_tokens_kind')),
    sa.CheckConstraint("state IN ('checked_in', 'with_doctor', 'done')", name=op.f('ck_queue_tokens_state')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_queue_tokens_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_queue_tokens_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('fk_queue_tokens_doctor_id_doctors')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_queue_tokens_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_tokens')),
    sa.UniqueConstraint('appointment_id', name='uq_queue_token_appointment'),
    sa.UniqueConstraint('doctor_id', 'date', 'number', name='uq_queue_token_number')
    )
    with op.batch_alter_table('queue_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_tokens_patient_id'), ['patient_id'], unique=False)



def downgrade():
    with op.batch_alter_table('queue_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_tokens_patient_id'))

    op.drop_table('queue_tokens')
