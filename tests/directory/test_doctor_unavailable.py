"""Blocking or deactivating a doctor never strands their booked patients: the admin sees the visits ahead,
cancels or keeps them, and every patient is told either way."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.factories import AdminFactory, PatientFactory
from tests.scheduling.helpers import NOW, book, doctor_with_day, error_code, notifications


@pytest.fixture
def booked(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patients = [PatientFactory(), PatientFactory()]
    for patient, start in zip(patients, ("09:00", "10:00"), strict=True):
        assert book(client, bearer(patient.user), doctor.id, start=start).status_code == 201
    return doctor, patients, bearer(AdminFactory())


def _statuses(client, headers, doctor) -> list[str]:
    items = client.get(f"/api/admin/appointments?doctor_id={doctor.id}", headers=headers).get_json()["items"]
    return sorted(a["status"] for a in items)


def _is_active(client, headers, doctor) -> bool:
    return client.get(f"/api/admin/doctors/{doctor.id}", headers=headers).get_json()["is_active"]


@pytest.mark.parametrize(("method", "path"), [("post", "/block"), ("delete", "")])
def test_without_a_choice_the_visits_ahead_are_listed_and_nothing_changes(client, booked, method, path):
    doctor, _patients, headers = booked
    response = getattr(client, method)(f"/api/admin/doctors/{doctor.id}{path}", headers=headers)
    assert (response.status_code, error_code(response)) == (409, "doctor_has_bookings")
    listed = response.get_json()["error"]["fields"]["appointments"]
    assert [(a["date"], a["start_time"]) for a in listed] == [("2026-11-25", "09:00"), ("2026-11-25", "10:00")]
    assert "2 booked visits" in response.get_json()["error"]["message"]
    assert _is_active(client, headers, doctor) is True
    assert _statuses(client, headers, doctor) == ["booked", "booked"]


def test_blocking_with_cancel_cancels_each_visit_and_tells_each_patient(client, booked):
    doctor, patients, headers = booked
    response = client.post(f"/api/admin/doctors/{doctor.id}/block?bookings=cancel", headers=headers)
    assert response.status_code == 200 and len(response.get_json()["settled_appointments"]) == 2
    assert _is_active(client, headers, doctor) is False
    assert _statuses(client, headers, doctor) == ["cancelled", "cancelled"]
    for patient in patients:
        told = notifications("appointment_cancelled", patient.user_id)
        assert len(told) == 1 and "doctor is not available" in told[0].payload["body"]


def test_blocking_with_keep_keeps_the_visits_and_still_tells_each_patient(client, booked):
    doctor, patients, headers = booked
    response = client.post(f"/api/admin/doctors/{doctor.id}/block?bookings=keep", headers=headers)
    assert response.status_code == 200
    assert _is_active(client, headers, doctor) is False
    assert _statuses(client, headers, doctor) == ["booked", "booked"]
    for patient in patients:
        assert len(notifications("doctor_unavailable", patient.user_id)) == 1
        assert notifications("appointment_cancelled", patient.user_id) == []


def test_deactivating_with_cancel_archives_the_doctor_and_cancels_the_visits(client, booked):
    doctor, patients, headers = booked
    response = client.delete(f"/api/admin/doctors/{doctor.id}?bookings=cancel", headers=headers)
    assert response.status_code == 200 and response.get_json()["deactivated"] is True
    assert _statuses(client, headers, doctor) == ["cancelled", "cancelled"]
    assert all(len(notifications("appointment_cancelled", p.user_id)) == 1 for p in patients)


def test_a_bad_choice_is_a_field_error(client, booked):
    doctor, _patients, headers = booked
    response = client.post(f"/api/admin/doctors/{doctor.id}/block?bookings=maybe", headers=headers)
    assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["bookings"]


def test_a_doctor_without_visits_ahead_is_blocked_at_once(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    headers = bearer(AdminFactory())
    assert client.post(f"/api/admin/doctors/{doctor.id}/block", headers=headers).status_code == 200
    assert _is_active(client, headers, doctor) is False


def test_the_visits_ahead_are_those_not_started_yet_later_today_included(client, booked, frozen_clock):
    """On the visits' day at 10:00: the 09:00 visit and the one starting this very minute have started (nothing to
    decide for them); a visit later today is still ahead and is listed with the ones of later days."""
    from datetime import date, time

    from tests.factories import AppointmentFactory, AvailabilityFactory

    doctor, _patients, headers = booked
    AvailabilityFactory(doctor_id=doctor.id, date=date(2026, 11, 26), start_time=time(9), end_time=time(10))
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 25), start_time=time(10, 30), end_time=time(11))
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 26), start_time=time(9), end_time=time(9, 30))
    frozen_clock("2026-11-25 10:00")
    response = client.post(f"/api/admin/doctors/{doctor.id}/block", headers=headers)
    listed = response.get_json()["error"]["fields"]["appointments"]
    assert [(a["date"], a["start_time"]) for a in listed] == [("2026-11-25", "10:30"), ("2026-11-26", "09:00")]
