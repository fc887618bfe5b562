"""A clinical record is never empty: a treatment needs a diagnosis, and a visit is completed only with one."""

from __future__ import annotations

from tests.conftest import bearer
from tests.factories import PatientFactory
from tests.scheduling.helpers import NOW, book, doctor_with_day, error_code


def _started_visit(client, frozen_clock):
    frozen_clock(NOW)
    doctor = doctor_with_day()
    patient = PatientFactory()
    appointment = book(client, bearer(patient.user), doctor.id).get_json()
    frozen_clock("2026-11-25 09:10")
    return doctor, appointment["id"]


def test_a_treatment_without_a_diagnosis_is_refused_with_a_field_error_and_nothing_is_saved(client, frozen_clock):
    doctor, appointment_id = _started_visit(client, frozen_clock)
    url = f"/api/doctor/appointments/{appointment_id}/treatment"
    for body in ({"notes": "seen"}, {"diagnosis": "   ", "notes": "seen"}, {"diagnosis": None}):
        response = client.put(url, json=body, headers=bearer(doctor.user))
        assert response.status_code == 422, body
        assert list(response.get_json()["error"]["fields"]) == ["diagnosis"]
    assert client.get(url, headers=bearer(doctor.user)).get_json()["id"] is None


def test_a_saved_diagnosis_cannot_be_blanked_but_other_fields_can_change_without_resending_it(client, frozen_clock):
    doctor, appointment_id = _started_visit(client, frozen_clock)
    url = f"/api/doctor/appointments/{appointment_id}/treatment"
    assert client.put(url, json={"diagnosis": " Seasonal flu "}, headers=bearer(doctor.user)).status_code == 200
    assert client.put(url, json={"notes": "rest"}, headers=bearer(doctor.user)).status_code == 200
    assert client.put(url, json={"diagnosis": ""}, headers=bearer(doctor.user)).status_code == 422
    saved = client.get(url, headers=bearer(doctor.user)).get_json()
    assert (saved["diagnosis"], saved["notes"]) == ("Seasonal flu", "rest")


def test_completing_without_a_treatment_is_refused_and_the_visit_stays_booked(client, frozen_clock):
    doctor, appointment_id = _started_visit(client, frozen_clock)
    response = client.post(f"/api/doctor/appointments/{appointment_id}/complete", headers=bearer(doctor.user))
    assert (response.status_code, error_code(response)) == (409, "treatment_required")
    assert "diagnosis" in response.get_json()["error"]["message"]
    listed = client.get("/api/doctor/appointments", headers=bearer(doctor.user)).get_json()["items"]
    assert [(a["id"], a["status"]) for a in listed] == [(appointment_id, "booked")]


def test_completing_after_recording_a_diagnosis_succeeds(client, frozen_clock):
    doctor, appointment_id = _started_visit(client, frozen_clock)
    headers = bearer(doctor.user)
    client.put(f"/api/doctor/appointments/{appointment_id}/treatment", json={"diagnosis": "Migraine"}, headers=headers)
    response = client.post(f"/api/doctor/appointments/{appointment_id}/complete", headers=headers)
    assert response.status_code == 200
    listed = client.get("/api/doctor/appointments", headers=headers).get_json()["items"]
    assert [a["status"] for a in listed] == ["completed"]


def test_a_no_show_needs_no_treatment(client, frozen_clock):
    doctor, appointment_id = _started_visit(client, frozen_clock)
    response = client.post(f"/api/doctor/appointments/{appointment_id}/no-show", headers=bearer(doctor.user))
    assert (response.status_code, response.get_json()["status"]) == (200, "no_show")
