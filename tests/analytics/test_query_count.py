"""The dashboard is computed by aggregate SQL: a fixed, small number of statements over 100 000 appointments,
and none at all against the data tables while the figures are cached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta

from sqlalchemy import event, insert

from hms.extensions import db
from hms.models import Appointment
from tests.conftest import fresh
from tests.factories import AdminFactory, DepartmentFactory, DoctorFactory, PatientFactory

DATA_TABLES = re.compile(r"\b(appointments|patients|doctors|departments)\b", re.IGNORECASE)
STATUSES = ("completed", "completed", "no_show", "cancelled", "booked")


@contextmanager
def data_table_statements() -> Iterator[list[str]]:
    """Collect every SQL statement that touches a data table (the token's user lookup, which also brings the
    user's doctor or patient profile, is not one)."""
    seen: list[str] = []

    def _listener(_conn, _cursor, statement, _parameters, _context, _executemany):
        if DATA_TABLES.search(statement) and not re.search(r"\sFROM users\b", statement):
            seen.append(statement)

    with fresh():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _listener)


def _load_appointments(*, today: date, doctors: list[int], patients: list[int], days: int, slots: int) -> int:
    """Bulk-insert doctors x days x slots appointments in one transaction, respecting the unique rules."""
    first = today - timedelta(days=days - 50)
    rows = []
    for d_index, doctor_id in enumerate(doctors):
        for day_index in range(days):
            day = first + timedelta(days=day_index)
            for slot in range(slots):
                start = 8 * 60 + slot * 30
                status = STATUSES[(d_index + day_index + slot) % len(STATUSES)]
                if day > today and status != "cancelled":
                    status = "booked"
                rows.append(
                    {
                        "doctor_id": doctor_id,
                        "patient_id": patients[(slot + day_index + d_index * slots) % len(patients)],
                        "date": day,
                        "start_time": time(start // 60, start % 60),
                        "end_time": time((start + 30) // 60, (start + 30) % 60),
                        "status": status,
                        "reason": "check-up",
                    }
                )
    with fresh() as session:
        # Core on the table, not the ORM's bulk insert: no per-row ORM bookkeeping (a second less for 100k rows).
        session.execute(insert(Appointment.__table__), rows)
        session.commit()
    return len(rows)


def test_dashboard_over_100k_appointments_uses_few_queries_and_none_when_cached(client, auth, frozen_clock):
    frozen_clock("2026-11-24 10:00")
    departments = [DepartmentFactory() for _ in range(5)]
    doctors = [DoctorFactory(department=departments[index % 5]).id for index in range(25)]
    patients = [PatientFactory().id for _ in range(40)]
    loaded = _load_appointments(today=date(2026, 11, 24), doctors=doctors, patients=patients, days=250, slots=16)
    assert loaded == 100_000
    headers = auth(AdminFactory())

    with data_table_statements() as cold:
        stats = client.get("/api/admin/stats", headers=headers)
        analytics = client.get("/api/admin/analytics", headers=headers)
    assert stats.status_code == 200 and analytics.status_code == 200
    assert len(cold) <= 8, cold
    body = analytics.get_json()
    assert sum(item["count"] for item in body["by_status"]) == 100_000
    assert sum(item["count"] for item in body["by_department"]) == 100_000
    assert stats.get_json()["doctors"] == 25

    with data_table_statements() as warm:
        assert client.get("/api/admin/stats", headers=headers).get_json() == stats.get_json()
        assert client.get("/api/admin/analytics", headers=headers).get_json() == body
    assert warm == []
