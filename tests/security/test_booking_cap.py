"""Finding 5 (slot hoarding): at most HMS_MAX_ACTIVE_BOOKINGS upcoming bookings; an admin may exceed it."""

from __future__ import annotations

from datetime import time

from tests.conftest import bearer
from tests.factories import AdminFactory, AppointmentFactory, PatientFactory
from tests.scheduling.helpers import DAY, DAY_S, NOW, book, doctor_with_day, error_code


def test_finding_5_the_sixth_upcoming_booking_is_refused_with_too_many_bookings(client, frozen_clock):
    frozen_clock(NOW)
    patient = PatientFactory()
    headers = bearer(patient.user)
    doctors = [doctor_with_day(start=time(9 + n), end=time(10 + n)) for n in range(6)]
    answers = [
        book(client, headers, doctor.id, start=f"{9 + n:02d}:00").status_code for n, doctor in enumerate(doctors)
    ]
    assert answers == [201, 201, 201, 201, 201, 409]
    refused = book(client, headers, doctors[5].id, start="14:00")
    assert error_code(refused) == "too_many_bookings"
    mine = client.get("/api/patient/appointments?per_page=100", headers=headers).get_json()
    assert mine["total"] == 5


def test_cancelled_and_past_visits_do_not_count_towards_the_cap(client, frozen_clock):
    frozen_clock(NOW)
    patient = PatientFactory()
    for n in range(4):
        AppointmentFactory(patient=patient, date=DAY, start_time=time(8, n * 10), end_time=time(8, n * 10 + 5))
    AppointmentFactory(patient=patient, status="cancelled", date=DAY, start_time=time(7), end_time=time(7, 30))
    from datetime import date

    AppointmentFactory(patient=patient, date=date(2026, 11, 23), start_time=time(9), end_time=time(9, 30))
    doctor = doctor_with_day()
    assert book(client, bearer(patient.user), doctor.id).status_code == 201
    other = doctor_with_day(start=time(12), end=time(13))
    assert error_code(book(client, bearer(patient.user), other.id, start="12:00")) == "too_many_bookings"


def test_the_cap_is_a_setting(client, frozen_clock, app, monkeypatch):
    frozen_clock(NOW)
    monkeypatch.setattr(app.config["HMS"], "max_active_bookings", 1)
    patient = PatientFactory()
    first, second = doctor_with_day(), doctor_with_day(start=time(12), end=time(13))
    assert book(client, bearer(patient.user), first.id).status_code == 201
    assert error_code(book(client, bearer(patient.user), second.id, start="12:00")) == "too_many_bookings"


def test_an_admin_booking_for_a_patient_may_exceed_the_cap(client, frozen_clock):
    frozen_clock(NOW)
    patient = PatientFactory()
    for n in range(5):
        AppointmentFactory(patient=patient, date=DAY, start_time=time(7, n * 10), end_time=time(7, n * 10 + 5))
    doctor = doctor_with_day()
    admin_headers = bearer(AdminFactory())
    body = {"patient_id": patient.id, "doctor_id": doctor.id, "date": DAY_S, "start_time": "09:00", "reason": "desk"}
    booked = client.post("/api/admin/appointments", json=body, headers=admin_headers)
    assert booked.status_code == 201, booked.get_json()
    mine = client.get("/api/patient/appointments?per_page=100", headers=bearer(patient.user)).get_json()
    assert mine["total"] == 6
    assert client.post("/api/admin/appointments", json=body, headers=bearer(patient.user)).status_code == 403


def test_todays_visit_counts_towards_the_cap_until_it_ends(client, frozen_clock):
    """Four upcoming visits tomorrow and one today 07:30-08:00: at 07:59 it still runs (the cap is full), at 08:00
    it has ended and the patient may book a fifth."""
    from datetime import date

    patient = PatientFactory()
    for n in range(4):
        AppointmentFactory(patient=patient, date=DAY, start_time=time(8, n * 10), end_time=time(8, n * 10 + 5))
    AppointmentFactory(patient=patient, date=date(2026, 11, 24), start_time=time(7, 30), end_time=time(8))
    doctor = doctor_with_day()
    frozen_clock("2026-11-24 07:59")
    assert error_code(book(client, bearer(patient.user), doctor.id)) == "too_many_bookings"
    frozen_clock("2026-11-24 08:00")
    assert book(client, bearer(patient.user), doctor.id).status_code == 201
