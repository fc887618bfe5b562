"""Issue 21: the SQL statements of a booking, a cancel and each list page, pinned (counts, not timings).

A list page is one statement for the token and its user (with their profile), one count on the base table with
the list's filters (no joins to people or departments, no per-row EXISTS), and one page query; a deep page picks
its ids from the index first (a deferred join). Statements are counted on the request's thread;
BEGIN/COMMIT/ROLLBACK/PRAGMA are not statements here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hms.common import pagination
from hms.extensions import db
from tests.conftest import fresh
from tests.factories import AdminFactory, AppointmentFactory, AvailabilityFactory, DoctorFactory, PatientFactory

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
    headers = auth(hospital["admin"])  # signed in beforehand: a session of its own (issue 14)
    with counted() as statements:
        body = _get(client, "/api/admin/appointments?page=1&per_page=10", headers)
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
    headers = auth(hospital["admin"])  # signed in beforehand: a session of its own (issue 14)
    with counted() as statements:
        body = _get(client, "/api/admin/appointments?page=50&per_page=10", headers)
    assert body["items"] == [] and body["total"] == 31
    assert len(statements) == 2, statements


def test_admin_patient_search_page(client, auth, hospital):
    headers = auth(hospital["admin"])  # signed in beforehand: a session of its own (issue 14)
    with counted() as statements:
        body = _get(client, "/api/admin/patients?q=ravi&page=1&per_page=5", headers)
    assert body["total"] == 31 and len(body["items"]) == 5
    assert len(statements) == 3, statements  # the admin and the token check, the page's ids with the total, the rows
    ranked = statements[1].upper()
    assert "UNION" in ranked, ranked  # one OR per table: each table's (trigram) indexes can be used
    assert "COUNT(*) OVER ()" in ranked and "LIMIT" in ranked, ranked  # the total beside the page of ids
    assert "JOIN PATIENTS" not in ranked.split("UNION")[0], ranked  # the union is not joined back to the patients


def test_a_patient_search_page_past_the_end_counts_and_matches_the_plain_list(client, auth, hospital):
    headers = auth(hospital["admin"])
    every = _get(client, "/api/admin/patients?q=ravi&page=1&per_page=100", headers)
    pages = [_get(client, f"/api/admin/patients?q=ravi&page={n}&per_page=7", headers) for n in range(1, 6)]
    assert [item["id"] for page in pages for item in page["items"]] == [item["id"] for item in every["items"]]
    assert {page["total"] for page in pages} == {31}
    with counted() as statements:
        past = _get(client, "/api/admin/patients?q=ravi&page=9&per_page=7", headers)
    assert past["items"] == [] and past["total"] == 31
    assert len(_counts(statements)) == 1, statements  # no row beside which to read the total: counted alone
    with counted() as statements:
        none = _get(client, "/api/admin/patients?q=nobody-has-this&page=1&per_page=7", headers)
    assert none == {"items": [], "page": 1, "per_page": 7, "total": 0}
    assert len(statements) == 2, statements  # nothing on the first page: the total is 0 without counting


def test_the_patient_list_counts_the_patients_alone(client, auth, hospital):
    headers = auth(hospital["admin"])
    with counted() as statements:
        body = _get(client, "/api/admin/patients?page=1&per_page=5", headers)
    assert body["total"] == 31 and len(body["items"]) == 5
    (count,) = _counts(statements)
    assert "JOIN" not in count.upper(), count


def test_doctor_day_page(client, auth, hospital):
    headers = auth(hospital["doctor"].user)  # signed in beforehand: a session of its own (issue 14)
    with counted() as statements:
        body = _get(client, "/api/doctor/appointments?date=2026-11-25&per_page=50", headers)
    assert body["total"] == 9
    assert len(statements) == 3, statements  # the user with their doctor profile and the token check, count, page
    (count,) = _counts(statements)
    assert "JOIN" not in count.upper() and "EXISTS" not in count.upper(), count


def test_patient_appointment_page(client, auth, hospital):
    headers = auth(hospital["patient"].user)  # signed in beforehand: a session of its own (issue 14)
    with counted() as statements:
        body = _get(client, "/api/patient/appointments?page=1&per_page=20", headers)
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


def test_remembered_totals_are_named_by_the_filters_values_not_only_their_shape(client, auth, hospital, monkeypatch):
    """Two lists of the same shape (a status filter) with different values each keep their own total."""
    cancelled = [
        AppointmentFactory(
            doctor=hospital["doctor"],
            patient=PatientFactory(),
            date=date(2026, 12, 1),
            status="cancelled",
            start_time=time(9 + n, 0),
            end_time=time(9 + n, 30),
        )
        for n in range(3)
    ]
    monkeypatch.setattr(pagination, "CACHED_TOTAL_MIN", 1)
    headers = auth(hospital["admin"])
    assert _get(client, "/api/admin/appointments?status=booked&per_page=10", headers)["total"] == 31
    assert _get(client, "/api/admin/appointments?status=cancelled&per_page=10", headers)["total"] == len(cancelled)
    with counted() as statements:
        again = _get(client, "/api/admin/appointments?status=booked&per_page=10", headers)
    assert _counts(statements) == [] and again["total"] == 31


# ---- booking, cancel and the slot read -------------------------------------------------------------------------


@pytest.fixture
def bookable(frozen_clock):
    frozen_clock("2026-11-24 08:00")
    doctor = DoctorFactory()
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 25), start_time=time(9, 0), end_time=time(11, 0))
    return {"doctor": doctor, "patient": PatientFactory()}


def _book(client, auth, bookable, start="09:00", headers=None):
    return client.post(
        "/api/patient/appointments",
        json={"doctor_id": bookable["doctor"].id, "date": "2026-11-25", "start_time": start, "reason": "check-up"},
        headers=headers or auth(bookable["patient"].user),
    )


def _writes(statements: list[str]) -> list[str]:
    """`INSERT table` / `UPDATE table` / `DELETE table` of each write, in order."""
    found = (re.match(r"(INSERT INTO|UPDATE|DELETE FROM) (\w+)", s, re.IGNORECASE) for s in statements)
    return [f"{m.group(1).split()[0].upper()} {m.group(2)}" for m in found if m]


def is_sqlite_test() -> bool:
    with fresh():
        return db.engine.dialect.name == "sqlite"


def test_a_booking_costs_six_statements_and_answers_without_reloading(client, auth, bookable):
    headers = auth(bookable["patient"].user)  # signed in beforehand: a session of its own (issue 14)
    with counted() as statements:
        response = _book(client, auth, bookable, headers=headers)
    assert response.status_code == 201, response.get_json()
    # the user with their profile and the token check; the doctor with user and department (names for the answer,
    # before the write lock); in the write transaction (PostgreSQL first locks the patient's row and the doctor's):
    # the patient's bookings that day with the count of their upcoming ones (the cap) in one statement, the
    # doctor's day in one statement (windows, bookings, blocks, leave and whether the doctor takes appointments),
    # the appointment and its outbox message. The patient and the doctor are not read again (SQLite's write
    # transaction keeps them: hms.common.uow's remember_principal and keep). Nothing after the commit.
    assert len(statements) == (6 if is_sqlite_test() else 8), statements
    assert _writes(statements) == ["INSERT appointments", "INSERT notifications"]
    assert not any("treatments" in s for s in statements)
    again = client.get(
        f"/api/patient/appointments/{response.get_json()['id']}", headers=auth(bookable["patient"].user)
    ).get_json()
    assert response.get_json() == again  # the answer built from the rows at hand is what a read gives


def test_a_cancel_costs_six_statements_and_answers_what_a_read_gives(client, auth, bookable):
    appointment_id = _book(client, auth, bookable).get_json()["id"]
    headers = auth(bookable["patient"].user)
    with counted() as statements:
        response = client.post(f"/api/patient/appointments/{appointment_id}/cancel", json={}, headers=headers)
    assert response.status_code == 200, response.get_json()
    # the user and token check; in the transaction (PostgreSQL first locks the patient's row): the appointment with
    # its people, their logins and its treatment in one statement, two outbox messages and the update, the
    # waitlist (nobody waits: the day's state is not loaded). No reload of the signed-in user inside it.
    assert len(statements) == (6 if is_sqlite_test() else 7), statements
    assert sorted(_writes(statements)) == ["INSERT notifications", "INSERT notifications", "UPDATE appointments"]
    again = client.get(f"/api/patient/appointments/{appointment_id}", headers=headers).get_json()
    assert response.get_json() == again


def test_the_own_profile_costs_the_token_check_alone(client, auth, hospital):
    """The bench's `profile` scenario, the floor of every signed-in request: one statement."""
    patient = hospital["patient"]
    headers = auth(patient.user)
    with counted() as statements:
        profile = _get(client, "/api/patient/profile", headers)
    assert len(statements) == 1, statements
    assert "FROM users" in statements[0] and "revoked_tokens" in statements[0]
    assert (profile["id"], profile["full_name"]) == (patient.id, patient.full_name)


def test_a_cached_anonymous_slot_read_sends_no_statement(client, bookable):
    url = f"/api/doctors/{bookable['doctor'].id}/slots?date=2026-11-25"
    first = client.get(url)
    with counted() as statements:
        second = client.get(url)
    assert second.status_code == 200 and second.get_json() == first.get_json()
    assert statements == []


def test_slot_answers_revalidate_with_their_etag_until_a_booking_changes_them(client, auth, bookable):
    url = f"/api/doctors/{bookable['doctor'].id}/slots?date=2026-11-25"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "public, max-age=5"
    assert first.headers["Vary"] == "Authorization"
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert _book(client, auth, bookable).status_code == 201
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    nine = next(slot for slot in after.get_json()["slots"] if slot["start"] == "09:00")
    assert nine["available"] is False


def test_a_patients_slot_answer_stays_personal(client, auth, bookable):
    response = client.get(
        f"/api/doctors/{bookable['doctor'].id}/slots?date=2026-11-25", headers=auth(bookable["patient"].user)
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert all("conflict" in slot for slot in response.get_json()["slots"])


def test_an_unknown_doctor_is_404_and_not_remembered(client):
    assert client.get("/api/doctors/999999/slots?date=2026-11-25").status_code == 404
    doctor = DoctorFactory()
    assert client.get(f"/api/doctors/{doctor.id}/slots?date=2026-11-25").status_code == 200


# ---- the admin dashboard ---------------------------------------------------------------------------------------


def test_cold_dashboard_figures_are_one_statement_and_charts_five(client, auth, hospital):
    from hms.common import cache as hms_cache

    headers = auth(hospital["admin"])
    with fresh():
        hms_cache.invalidate(hms_cache.STATS_NAMESPACE)
    with counted() as statements:
        stats = _get(client, "/api/admin/stats", headers)
    assert stats["appointments_upcoming"] == 31 and stats["patients"] == 31
    (figures,) = statements[1:]  # after the admin and the token check: every figure in one statement
    # Active patients are the listed ones minus the blocked ones: no join of every patient to their user.
    assert "JOIN USERS ON USERS.ID = PATIENTS.USER_ID WHERE USERS.IS_ACTIVE IS" not in figures.upper(), figures
    with counted() as statements:
        _get(client, "/api/admin/analytics", headers)
    # per status and doctor, per day, departments, doctors' departments, new patients per week
    assert len(statements[1:]) == 5, statements
    with counted() as statements:
        _get(client, "/api/admin/stats", headers)
        _get(client, "/api/admin/analytics", headers)
    assert len(statements) == 2, statements  # warm: the admin's own check each, the figures from the cache
