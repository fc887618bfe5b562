"""list and dashboard indexes: appointments by (status, date, start_time, id, end_time); blocked users

Revision ID: 0029_dashboard_indexes
Revises: 0028_totp
Create Date: 2026-12-01 18:45:00

The admin's list filtered by a status walks (status, date, start_time, id) in its order (newest or soonest first)
instead of walking every date and skipping the other statuses: at 1M appointments "completed, newest first" read
the 45,000 future bookings first (~150 ms). The admin's stats count today's, upcoming and this month's
appointments by status and date, and "upcoming" also compares today's end times: with end_time at the end of the
same index each count is an index-only range scan instead of reading every row from the first of the month on.
It replaces ix_appointment_status_date, whose queries use its prefix. Active patients are counted as listed
patients minus those whose login is blocked: the partial index of blocked users keeps the second count to the few
blocked ones instead of joining every patient to their user.
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_dashboard_indexes"
down_revision = "0028_totp"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_appointment_status_date_start", "appointments", ["status", "date", "start_time", "id", "end_time"]
    )
    op.drop_index("ix_appointment_status_date", table_name="appointments")
    op.create_index(
        "ix_users_blocked",
        "users",
        ["id"],
        postgresql_where=sa.text("NOT is_active"),
        sqlite_where=sa.text("is_active = 0"),
    )


def downgrade():
    op.drop_index("ix_users_blocked", table_name="users")
    op.create_index("ix_appointment_status_date", "appointments", ["status", "date"])
    op.drop_index("ix_appointment_status_date_start", table_name="appointments")
