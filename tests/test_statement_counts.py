"""Issue 21: the SQL statements of a booking, a cancel and each list page, pinned (counts, not timings).

A list page is one statement for the token and its user (with their profile), one count on the base table with the list's filters (no joins to people or
departments, no per-row EXISTS), and one page query; a deep page picks its ids from the index first (a deferred
join). Statements are counted on the request's thread; BEGIN/COMMIT/ROLLBACK/PRAGMA are not statements here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hms.common import pagination
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory

NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE", "SELECT PG_ADVISORY")


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements the current thread sends while the block runs."""
    statements: list[str] = []
    thread = threading.current_thread()

    def on_statement(_connection, _cursor, statement, *_args):
        if threading.current_thread() is thread and not statement.lstrip().upper().startswith(NOT_COUNTED):
            statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", on_statement)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", on_statement)


def _counts(statements: list[str]) -> list[str]:
    return [s for s in statements if s.upper().startswith("SELECT COUNT(")]


@pytest.fixture
def hospital(frozen_clock):
    frozen_clock("2026-11-24 08:00")
    doctor = DoctorFactory()
    patient = PatientFactory()
    day = date(2026, 11, 25)
    appointments = [
        AppointmentFactory(
            doctor=doctor,
            patient=PatientFactory(),
            date=day + timedelta(days=n // 8),
            start_time=time(9 + n % 8, 0),
            end_time=time(9 + n % 8, 30),
        )
        for n in range(30)
    ]
    AppointmentFactory(doctor=doctor, patient=patient, date=day, start_time=time(18, 0), end_time=time(18, 30))
    return {"doctor": doctor, "patient": patient, "admin": AdminFactory(), "appointments": appointments}


def _get(client, url, headers=None):
    response = client.get(url, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_admin_appointment_list_page(client, auth, hospital):
    with counted() as statements:
        body = _get(client, "/api/admin/appointments?page=1&per_page=10", auth(hospital["admin"]))
    assert body["total"] == 31 and len(body["items"]) == 10
    assert len(statements) == 3, statements  # the user with "is the token revoked?", the count, the page
    (count,) = _counts(statements)
    assert "JOIN" not in count.upper() and "EXISTS" not in count.upper(), count


def test_a_deep_page_picks_its_ids_first_and_matches_the_plain_page(client, auth, hospital, monkeypatch):
    headers = auth(hospital["admin"])
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_OFFSET", 10**9)
    plain = _get(client, "/api/admin/appointments?page=3&per_page=7", headers)
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_OFFSET", 1)
    with counted() as statements:
        deferred = _get(client, "/api/admin/appointments?page=3&per_page=7", headers)
    assert [item["id"] for item in deferred["items"]] == [item["id"] for item in plain["items"]]
    assert deferred == plain
    assert len(statements) == 3, statements
    assert "IN (SELECT APPOINTMENTS.ID" in statements[-1].upper(), statements[-1]


def test_a_page_past_the_end_costs_no_page_query(client, auth, hospital):
    with counted() as statements:
        body = _get(client, "/api/admin/appointments?page=50&per_page=10", auth(hospital["admin"]))
    assert body["items"] == [] and body["total"] == 31
    assert len(statements) == 2, statements


def test_admin_patient_search_page(client, auth, hospital):
    with counted() as statements:
        body = _get(client, "/api/admin/patients?q=ravi&page=1&per_page=5", auth(hospital["admin"]))
    assert body["total"] == 31 and len(body["items"]) == 5
    assert len(statements) == 3, statements
    (count,) = _counts(statements)
    assert "UNION" in count.upper(), count  # one OR per table: each table's (trigram) indexes can be used


def test_doctor_day_page(client, auth, hospital):
    with counted() as statements:
        body = _get(client, "/api/doctor/appointments?date=2026-11-25&per_page=50", auth(hospital["doctor"].user))
    assert body["total"] == 9
    assert len(statements) == 3, statements  # the user with their doctor profile and the token check, count, page
    (count,) = _counts(statements)
    assert "JOIN" not in count.upper() and "EXISTS" not in count.upper(), count


def test_patient_appointment_page(client, auth, hospital):
    with counted() as statements:
        body = _get(client, "/api/patient/appointments?page=1&per_page=20", auth(hospital["patient"].user))
    assert body["total"] == 1
    assert len(statements) == 3, statements  # the user with their patient profile and the token check, count, page
    (count,) = _counts(statements)
    assert "JOIN" not in count.upper() and "EXISTS" not in count.upper(), count


def test_large_totals_are_remembered_briefly_and_small_ones_are_exact(client, auth, hospital, monkeypatch):
    headers = auth(hospital["admin"])
    _get(client, "/api/admin/appointments?page=1&per_page=10", headers)
    with counted() as statements:
        _get(client, "/api/admin/appointments?page=2&per_page=10", headers)
    assert len(_counts(statements)) == 1  # 31 rows: counted again
    monkeypatch.setattr(pagination, "CACHED_TOTAL_MIN", 30)
    _get(client, "/api/admin/appointments?page=1&per_page=10", headers)
    with counted() as statements:
        body = _get(client, "/api/admin/appointments?page=2&per_page=10", headers)
    assert _counts(statements) == [] and body["total"] == 31
