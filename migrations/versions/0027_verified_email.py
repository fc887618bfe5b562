"""verified e-mail: users.email_verified_at and users.awaiting_verification

Staff addresses were issued by the hospital: they count as verified. Patients' addresses were never checked
(anyone could register with anyone's address), so patients verify theirs before clinical content is mailed.

Revision ID: 0027_verified_email
Revises: 0026_account_tokens
Create Date: 2026-12-01 15:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027_verified_email"
down_revision = "0026_account_tokens"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(), nullable=True))
    op.add_column(
        "users", sa.Column("awaiting_verification", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    users = sa.table("users", sa.column("role", sa.String), sa.column("created_at", sa.DateTime),
                     sa.column("email_verified_at", sa.DateTime))
    op.execute(users.update().where(users.c.role != "patient").values(email_verified_at=users.c.created_at))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch would copy and drop `users`, which every
    # other table references.
    op.drop_column("users", "awaiting_verification")
    op.drop_column("users", "email_verified_at")
