"""Doctors and patients read and edit their own profiles, and only their own."""

from __future__ import annotations

from datetime import date, time

from hms.common import clock
from tests.conftest import bearer
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory


def test_patient_reads_and_edits_own_profile(client):
    patient = PatientFactory(full_name="Meera Nair")
    response = client.get("/api/patient/profile", headers=bearer(patient.user))
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Meera Nair"

    response = client.put(
        "/api/patient/profile",
        json={"blood_group": "O+", "allergies": "Penicillin", "email": "meera@example.org"},
        headers=bearer(patient.user),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["blood_group"], body["allergies"], body["email"]) == ("O+", "Penicillin", "meera@example.org")


def test_patient_profile_rejects_bad_values_and_changes_nothing(client):
    patient = PatientFactory(full_name="Meera Nair")
    response = client.put(
        "/api/patient/profile", json={"blood_group": "Z", "height_cm": "tall"}, headers=bearer(patient.user)
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"blood_group", "height_cm"}
    assert client.get("/api/patient/profile", headers=bearer(patient.user)).get_json()["blood_group"] is None


def test_doctor_edits_own_profile_but_not_department(client):
    doctor = DoctorFactory()
    response = client.put(
        "/api/doctor/profile",
        json={"about": "Heart rhythm specialist", "experience_years": 12},
        headers=bearer(doctor.user),
    )
    assert response.status_code == 200
    assert response.get_json()["about"] == "Heart rhythm specialist"
    response = client.put("/api/doctor/profile", json={"department_id": 999}, headers=bearer(doctor.user))
    assert response.status_code == 422


def test_doctor_cannot_change_slot_length_under_booked_appointments(client, frozen_clock):
    frozen_clock("2026-11-24 08:00")
    doctor = DoctorFactory()
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 25), start_time=time(9, 0), end_time=time(9, 30))
    response = client.put("/api/doctor/profile", json={"slot_minutes": 20}, headers=bearer(doctor.user))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "has_appointments"
    assert clock.today_local() == date(2026, 11, 24)


def test_profiles_are_role_bound(client):
    doctor, patient = DoctorFactory(), PatientFactory()
    assert client.get("/api/patient/profile", headers=bearer(doctor.user)).status_code == 403
    assert client.get("/api/doctor/profile", headers=bearer(patient.user)).status_code == 403
    assert client.get("/api/patient/profile").status_code == 401


def test_patient_appointments_scope_splits_upcoming_and_past(client, frozen_clock):
    frozen_clock("2026-11-24 08:00")
    patient = PatientFactory()
    past = AppointmentFactory(patient=patient, date=date(2026, 11, 20), status="completed")
    upcoming = AppointmentFactory(patient=patient, date=date(2026, 11, 26))
    headers = bearer(patient.user)
    upcoming_ids = [
        a["id"] for a in client.get("/api/patient/appointments?scope=upcoming", headers=headers).get_json()["items"]
    ]
    past_ids = [
        a["id"] for a in client.get("/api/patient/appointments?scope=past", headers=headers).get_json()["items"]
    ]
    assert (upcoming_ids, past_ids) == ([upcoming.id], [past.id])


def test_admin_cannot_change_slot_length_under_booked_appointments_either(client, frozen_clock):
    from tests.factories import AdminFactory

    frozen_clock("2026-11-24 08:00")
    doctor = DoctorFactory()
    AppointmentFactory(doctor=doctor, date=date(2026, 11, 25), start_time=time(9, 0), end_time=time(9, 30))
    response = client.put(f"/api/admin/doctors/{doctor.id}", json={"slot_minutes": 20}, headers=bearer(AdminFactory()))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "has_appointments"
    assert client.get(f"/api/doctors/{doctor.id}").get_json()["slot_minutes"] == 30
