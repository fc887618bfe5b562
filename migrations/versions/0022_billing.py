"""billing: invoices numbered per financial year, their lines and payments

Revision ID: 0022_billing
Revises: 0021_performance_indexes
Create Date: 2026-12-01 15:04:11.566921

"""

from alembic import op
import sqlalchemy as sa


revision = "0022_billing"
down_revision = "0021_performance_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "invoice_counters",
        sa.Column("financial_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("financial_year", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('unpaid', 'partly_paid', 'paid', 'void')", name=op.f("ck_invoices_status")),
        sa.CheckConstraint("paid_minor >= 0 AND paid_minor <= total_minor", name=op.f("ck_invoices_paid_range")),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_invoices_appointment_id_appointments")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_invoices_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_invoices_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctors.id"], name=op.f("fk_invoices_doctor_id_doctors")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_invoices_patient_id_patients")),
        sa.ForeignKeyConstraint(["voided_by_user_id"], ["users.id"], name=op.f("fk_invoices_voided_by_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("financial_year", "sequence", name="uq_invoice_year_sequence"),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_status_issued", ["status", "issued_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_appointment_id"), ["appointment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_doctor_id"), ["doctor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_issued_on"), ["issued_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_invoice_active_appointment",
            ["appointment_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'void'"),
            postgresql_where=sa.text("status <> 'void'"),
        )

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('consultation', 'procedure', 'test', 'other')", name=op.f("ck_invoice_lines_kind")
        ),
        sa.CheckConstraint("quantity >= 1 AND unit_minor >= 0", name=op.f("ck_invoice_lines_amounts")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False)

    op.create_table(
        "invoice_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('payment', 'refund')", name=op.f("ck_invoice_payments_kind")),
        sa.CheckConstraint("method IN ('cash', 'card', 'upi', 'insurance')", name=op.f("ck_invoice_payments_method")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_invoice_payments_positive")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_payments_invoice_id_invoices")),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"], ["users.id"], name=op.f("fk_invoice_payments_recorded_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_payments")),
    )
    with op.batch_alter_table("invoice_payments", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_payment_received", ["received_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoice_payments_invoice_id"), ["invoice_id"], unique=False)


def downgrade():
    with op.batch_alter_table("invoice_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_payments_invoice_id"))
        batch_op.drop_index("ix_invoice_payment_received")

    op.drop_table("invoice_payments")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_invoice_active_appointment",
            sqlite_where=sa.text("status <> 'void'"),
            postgresql_where=sa.text("status <> 'void'"),
        )
        batch_op.drop_index(batch_op.f("ix_invoices_patient_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_issued_on"))
        batch_op.drop_index(batch_op.f("ix_invoices_doctor_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_department_id"))
        batch_op.drop_index(batch_op.f("ix_invoices_appointment_id"))
        batch_op.drop_index("ix_invoice_status_issued")

    op.drop_table("invoices")
    op.drop_table("invoice_counters")
