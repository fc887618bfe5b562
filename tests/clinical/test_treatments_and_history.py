"""Treatment records (doctor only, every read and write audited) and histories (SPEC §6, §7, §12)."""

from __future__ import annotations

from datetime import date, time

from hms.extensions import db
from hms.models import AuditEvent, Treatment
from tests.conftest import bearer, fetch_all
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory

FULL = {
    "diagnosis": "Hypertension",
    "prescription": "Amlodipine 5 mg",
    "notes": "Review in a month",
    "visit_type": "follow_up",
    "tests_ordered": "Lipid profile",
    "precautions": "Less salt",
    "follow_up_date": "2026-12-24",
    "medicines": [
        {
            "name": "Amlodipine",
            "dose": "5 mg",
            "frequency": "once daily",
            "duration_days": 30,
            "instructions": "morning",
        }
    ],
}


def _audits(action: str) -> list[AuditEvent]:
    return fetch_all(db.select(AuditEvent).filter_by(action=action))


def test_doctor_writes_every_treatment_field_and_each_change_is_audited(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    appointment = AppointmentFactory()
    headers = bearer(appointment.doctor.user)
    url = f"/api/doctor/appointments/{appointment.id}/treatment"
    empty = client.get(url, headers=headers).get_json()
    assert empty["id"] is None and empty["appointment"]["id"] == appointment.id
    created = client.put(url, json=FULL, headers=headers)
    assert created.status_code == 200, created.get_json()
    body = created.get_json()
    assert {k: body[k] for k in FULL} == FULL
    updated = client.put(url, json={"diagnosis": "Essential hypertension"}, headers=headers).get_json()
    assert updated["diagnosis"] == "Essential hypertension" and updated["prescription"] == "Amlodipine 5 mg"
    writes = _audits("treatment.update")
    assert len(writes) == 2
    assert writes[1].details["changed"] == ["diagnosis"]  # names only: no clinical values in the audit trail
    assert writes[1].patient_id == appointment.patient_id and writes[1].entity == "treatment"
    client.get(url, headers=headers)
    assert len(_audits("treatment.read")) == 2


def test_invalid_medicines_and_fields_are_422(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    appointment = AppointmentFactory()
    url = f"/api/doctor/appointments/{appointment.id}/treatment"
    headers = bearer(appointment.doctor.user)
    for body in (
        {"medicines": [{"dose": "5 mg"}]},
        {"medicines": [{"name": "X", "duration_days": -1}]},
        {"medicines": [{"name": "X", "duration_days": "ten"}]},
        {"visit_type": "house_call"},
        {"follow_up_date": "soon"},
        {"diagnosis": "x", "unexpected": 1},
    ):
        response = client.put(url, json=body, headers=headers)
        assert response.status_code == 422, body
    assert fetch_all(db.select(Treatment)) == []


def test_no_treatment_on_cancelled_or_no_show_appointments(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    for status in ("cancelled", "no_show"):
        appointment = AppointmentFactory(status=status)
        response = client.put(
            f"/api/doctor/appointments/{appointment.id}/treatment",
            json={"diagnosis": "x"},
            headers=bearer(appointment.doctor.user),
        )
        assert (response.status_code, response.get_json()["error"]["code"]) == (409, "invalid_state")


def test_patient_history_lists_completed_visits_with_treatments_and_is_audited(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    patient = PatientFactory()
    older = TreatmentFactory(appointment__patient=patient, appointment__date=date(2026, 10, 1))
    newer = TreatmentFactory(appointment__patient=patient, appointment__date=date(2026, 11, 1))
    AppointmentFactory(patient=patient, status="booked", date=date(2026, 11, 27))
    TreatmentFactory()  # another patient's
    response = client.get("/api/patient/history", headers=bearer(patient.user))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["treatment"]["id"] for i in items] == [newer.id, older.id]
    assert items[0]["treatment"]["medicines"][0]["name"] == "Aspirin"
    assert _audits("history.read")[0].patient_id == patient.id


def test_doctor_sees_own_patients_and_their_full_history_but_not_strangers(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    doctor, colleague = DoctorFactory(), DoctorFactory()
    patient, stranger = PatientFactory(full_name="Anil Menon"), PatientFactory()
    AppointmentFactory(
        doctor=doctor, patient=patient, date=date(2026, 11, 30), start_time=time(10), end_time=time(10, 30)
    )
    TreatmentFactory(appointment__doctor=colleague, appointment__patient=patient, appointment__date=date(2026, 9, 1))
    TreatmentFactory(appointment__doctor=colleague, appointment__patient=stranger)
    headers = bearer(doctor.user)
    listed = client.get("/api/doctor/patients", headers=headers).get_json()
    assert [p["id"] for p in listed["items"]] == [patient.id]
    assert listed["items"][0]["next_visit"] == "2026-11-30" and listed["items"][0]["last_visit"] is None
    assert client.get("/api/doctor/patients?q=anil", headers=headers).get_json()["total"] == 1
    assert client.get("/api/doctor/patients?q=zzz", headers=headers).get_json()["total"] == 0
    history = client.get(f"/api/doctor/patients/{patient.id}/history", headers=headers)
    assert history.status_code == 200
    assert [i["doctor_id"] for i in history.get_json()["items"]] == [colleague.id]  # every doctor's visits
    assert client.get(f"/api/doctor/patients/{stranger.id}/history", headers=headers).status_code == 404
    assert len(_audits("history.read")) == 1


def test_admin_sees_appointment_history_without_clinical_content(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    treatment = TreatmentFactory()
    patient_id = treatment.appointment.patient_id
    admin = bearer(AdminFactory())
    response = client.get(f"/api/admin/patients/{patient_id}/history", headers=admin)
    assert response.status_code == 200
    item = response.get_json()["items"][0]
    assert item["has_treatment"] is True and item["treatment"] is None
    assert _audits("history.read")[0].actor_role == "admin"
    assert client.get("/api/admin/patients/99999/history", headers=admin).status_code == 404
    assert (
        client.get(
            f"/api/admin/patients/{patient_id}/history", headers=bearer(treatment.appointment.patient.user)
        ).status_code
        == 403
    )


def test_a_patient_cannot_read_clinical_endpoints_of_doctors(client, frozen_clock):
    frozen_clock("2026-11-25 09:10")
    treatment = TreatmentFactory()
    patient = treatment.appointment.patient
    assert (
        client.get(
            f"/api/doctor/appointments/{treatment.appointment_id}/treatment", headers=bearer(patient.user)
        ).status_code
        == 403
    )
    assert client.get(f"/api/doctor/patients/{patient.id}/history", headers=bearer(patient.user)).status_code == 403
    assert client.get("/api/patient/history", headers=bearer(treatment.appointment.doctor.user)).status_code == 403
