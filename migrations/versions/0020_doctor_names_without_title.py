"""doctor names stored without the title (the display adds "Dr." once)

Revision ID: 0020_doctor_names
Revises: 0019_login_throttles
Create Date: 2026-12-01 11:45:00

"""

import sqlalchemy as sa
from alembic import op

from hms.common.names import strip_title

revision = "0020_doctor_names"
down_revision = "0019_login_throttles"
branch_labels = None
depends_on = None

doctors = sa.table("doctors", sa.column("id", sa.Integer), sa.column("full_name", sa.String))


def upgrade():
    connection = op.get_bind()
    for row in connection.execute(sa.select(doctors.c.id, doctors.c.full_name)).all():
        bare = strip_title(row.full_name)
        if bare and bare != row.full_name:
            connection.execute(doctors.update().where(doctors.c.id == row.id).values(full_name=bare))


def downgrade():
    connection = op.get_bind()
    for row in connection.execute(sa.select(doctors.c.id, doctors.c.full_name)).all():
        connection.execute(doctors.update().where(doctors.c.id == row.id).values(full_name=f"Dr. {row.full_name}"))
