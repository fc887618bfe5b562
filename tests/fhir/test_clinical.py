"""Encounter, Condition and MedicationRequest: the history of completed visits, for the patient and their doctors,
every read audited; admins get no clinical content (SPEC §2)."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from hms.models import AuditEvent
from tests.conftest import bearer, fetch_all
from tests.factories import AdminFactory, AppointmentFactory, DoctorFactory, PatientFactory, TreatmentFactory
from tests.fhir.helpers import fhir, ids, outcome


@pytest.fixture
def visit():
    """A completed visit with a diagnosis, notes and one medicine; plus a booked visit that is not history yet."""
    patient = PatientFactory(full_name="Ravi Kumar")
    doctor = DoctorFactory(full_name="Dr. Meera Iyer", department__name="Cardiology")
    treatment = TreatmentFactory(
        appointment__patient=patient,
        appointment__doctor=doctor,
        appointment__date=date(2026, 11, 20),
        appointment__start_time=time(9, 30),
        appointment__end_time=time(10),
        appointment__reason="Chest pain",
        diagnosis="Stable angina",
        notes="Walks 2 km a day",
        visit_type="tele",
    )
    AppointmentFactory(patient=patient, doctor=doctor, date=date(2026, 11, 28))
    return patient, doctor, treatment


def _audit_actions() -> list[tuple[str, int | None]]:
    return [(e.action, e.patient_id) for e in fetch_all(select(AuditEvent).order_by(AuditEvent.id))]


def test_a_completed_visit_is_an_encounter_linked_to_its_appointment_and_diagnosis(client, frozen_clock, visit):
    frozen_clock("2026-11-24 08:00")
    patient, _doctor, treatment = visit
    appointment_id = treatment.appointment_id
    found = fhir(client.get("/fhir/Encounter", headers=bearer(patient.user)))
    assert ids(found) == [str(appointment_id)]
    encounter = found["entry"][0]["resource"]
    assert encounter["status"] == "finished"
    assert encounter["class"]["code"] == "VR"
    assert encounter["period"] == {"start": "2026-11-20T09:30:00+05:30", "end": "2026-11-20T10:00:00+05:30"}
    assert encounter["appointment"] == [{"reference": f"Appointment/{appointment_id}"}]
    assert encounter["diagnosis"][0]["condition"] == {"reference": f"Condition/{treatment.id}"}
    assert encounter["subject"]["reference"] == f"Patient/{patient.id}"


def test_diagnosis_and_medicines_map_to_condition_and_medication_request_of_the_encounter(client, frozen_clock, visit):
    frozen_clock("2026-11-24 08:00")
    patient, _doctor, treatment = visit
    headers = bearer(patient.user)
    condition = fhir(client.get(f"/fhir/Condition/{treatment.id}", headers=headers))
    assert condition["code"] == {"text": "Stable angina"}
    assert condition["encounter"] == {"reference": f"Encounter/{treatment.appointment_id}"}
    assert {"text": "Notes: Walks 2 km a day"} in condition["note"]
    requests = fhir(
        client.get(f"/fhir/MedicationRequest?encounter=Encounter/{treatment.appointment_id}", headers=headers)
    )
    assert ids(requests) == [f"{treatment.id}-1"]
    medicine = requests["entry"][0]["resource"]
    assert medicine["medicationCodeableConcept"] == {"text": "Aspirin"}
    assert medicine["dosageInstruction"][0]["text"] == "75 mg, once daily"
    assert medicine["dosageInstruction"][0]["patientInstruction"] == "after food"
    assert medicine["dispenseRequest"]["expectedSupplyDuration"]["value"] == 30
    assert medicine["status"] == "active"
    assert fhir(client.get(f"/fhir/MedicationRequest/{treatment.id}-1", headers=headers))["id"] == f"{treatment.id}-1"
    assert outcome(client.get(f"/fhir/MedicationRequest/{treatment.id}-2", headers=headers), 404)["code"] == "not-found"


def test_the_patients_doctor_reads_the_history_and_a_stranger_doctor_or_patient_cannot(client, visit):
    patient, doctor, treatment = visit
    other_doctor, other_patient = DoctorFactory(), PatientFactory()
    assert ids(fhir(client.get(f"/fhir/Condition?patient={patient.id}", headers=bearer(doctor.user)))) == [
        str(treatment.id)
    ]
    for user in (other_doctor.user, other_patient.user):
        headers = bearer(user)
        for url in (
            f"/fhir/Encounter/{treatment.appointment_id}",
            f"/fhir/Condition/{treatment.id}",
            f"/fhir/MedicationRequest/{treatment.id}-1",
        ):
            assert outcome(client.get(url, headers=headers), 404)["code"] == "not-found", url
        for url in ("/fhir/Encounter", "/fhir/Condition", "/fhir/MedicationRequest"):
            assert fhir(client.get(f"{url}?patient={patient.id}", headers=headers))["total"] == 0, url


def test_an_admin_sees_visits_but_no_diagnoses_or_medicines(client, visit):
    _patient, _doctor, treatment = visit
    headers = bearer(AdminFactory())
    assert ids(fhir(client.get("/fhir/Encounter", headers=headers))) == [str(treatment.appointment_id)]
    assert outcome(client.get(f"/fhir/Condition/{treatment.id}", headers=headers), 403)["code"] == "forbidden"
    assert outcome(client.get("/fhir/MedicationRequest", headers=headers), 403)["code"] == "forbidden"


def test_every_clinical_read_is_audited_with_its_patient(client, visit):
    patient, doctor, treatment = visit
    headers = bearer(doctor.user)
    fhir(client.get(f"/fhir/Encounter/{treatment.appointment_id}", headers=headers))
    fhir(client.get(f"/fhir/Condition?patient={patient.id}", headers=headers))
    fhir(client.get(f"/fhir/MedicationRequest/{treatment.id}-1", headers=headers))
    fhir(client.get("/fhir/MedicationRequest", headers=headers))
    assert _audit_actions() == [
        ("fhir.encounter.read", patient.id),
        ("fhir.condition.search", patient.id),
        ("fhir.medication_request.read", patient.id),
        ("fhir.medication_request.search", patient.id),
    ]


def test_a_refused_or_missing_read_leaves_no_audit_record(client, visit):
    _patient, _doctor, treatment = visit
    client.get(f"/fhir/Condition/{treatment.id}", headers=bearer(DoctorFactory().user))
    client.get(f"/fhir/Condition/{treatment.id}", headers=bearer(AdminFactory()))
    assert _audit_actions() == []


def test_a_search_across_patients_leaves_one_audit_record_per_patient_naming_the_records(client, visit):
    patient, doctor, treatment = visit
    other = TreatmentFactory(appointment__doctor=doctor, appointment__date=date(2026, 11, 21))
    fhir(client.get("/fhir/Encounter", headers=bearer(doctor.user)))
    events = fetch_all(select(AuditEvent).order_by(AuditEvent.patient_id))
    assert [(e.action, e.patient_id, e.details["ids"]) for e in events] == sorted(
        [
            ("fhir.encounter.search", patient.id, [str(treatment.appointment_id)]),
            ("fhir.encounter.search", other.appointment.patient_id, [str(other.appointment_id)]),
        ],
        key=lambda row: row[1],
    )
