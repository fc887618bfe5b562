"""performance: indexes for the admin's appointment order and the analytics counts; trigram indexes (PostgreSQL)

Revision ID: 0021_performance_indexes
Revises: 0020_doctor_names
Create Date: 2026-12-01 15:15:00

The admin's list orders every appointment by date, start time and id (newest or soonest first): with this index
a page, deep ones included, walks the index instead of sorting the table. The analytics charts count every
appointment per status and doctor in one pass: (status, doctor_id) makes it an index-only scan. On PostgreSQL, pg_trgm GIN indexes on
the lower-cased searchable columns let `lower(column) LIKE '%text%'` (hms.directory.service._contains) use an
index; SQLite has no trigram index and scans the patients (tens of milliseconds at 50,000 patients).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_performance_indexes"
down_revision = "0020_doctor_names"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (
    ("ix_patients_full_name_trgm", "patients", "full_name"),
    ("ix_patients_phone_trgm", "patients", "phone"),
    ("ix_users_email_trgm", "users", "email"),
    ("ix_users_username_trgm", "users", "username"),
    ("ix_doctors_full_name_trgm", "doctors", "full_name"),
)


def upgrade():
    op.create_index("ix_appointment_date_start", "appointments", ["date", "start_time", "id"])
    op.create_index("ix_appointment_status_doctor", "appointments", ["status", "doctor_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.create_index(
                name,
                table,
                [sa.text(f"lower({column}) gin_trgm_ops")],
                postgresql_using="gin",
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _column in TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
    op.drop_index("ix_appointment_status_doctor", table_name="appointments")
    op.drop_index("ix_appointment_date_start", table_name="appointments")
