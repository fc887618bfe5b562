"""Condition ↔ the diagnosis of a visit's treatment record (same id as the treatment), linked to its Encounter; the
treatment's notes, tests ordered and precautions travel as notes. Clinical: the patient and their doctors only."""

from __future__ import annotations

from typing import Any

from hms.common.auth import require_clinical_reader
from hms.common.errors import NotFound
from hms.extensions import db
from hms.fhir.common import SearchRequest, bundle, int_id, page_rows, reference, utc_instant
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.fhir.visits import audit, completed_visits, filter_visits
from hms.models import Appointment, Treatment, User

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
NOTES = (("notes", "Notes"), ("tests_ordered", "Tests ordered"), ("precautions", "Precautions"))


def to_fhir(appointment: Appointment) -> dict[str, Any]:
    treatment = appointment.treatment
    assert treatment is not None, "a Condition is mapped from a visit with a treatment record"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(treatment.id),
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": {"text": treatment.diagnosis},
        "subject": reference("Patient", appointment.patient_id, appointment.patient.full_name),
        "encounter": reference("Encounter", appointment.id),
        "recordedDate": utc_instant(treatment.created_at),
        "recorder": reference("Practitioner", appointment.doctor_id, appointment.doctor.display_name),
    }
    notes = [{"text": f"{label}: {getattr(treatment, name)}"} for name, label in NOTES if getattr(treatment, name)]
    if notes:
        resource["note"] = notes
    return resource


def _diagnosed(user: User) -> Any:
    return (
        completed_visits(user)
        .join(Treatment, Treatment.appointment_id == Appointment.id)
        .where(Treatment.diagnosis.is_not(None), Treatment.diagnosis != "")
    )


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    """A diagnosis of a patient the caller may see (else not found); audited."""
    require_clinical_reader(user)
    treatment_id = int_id(resource_id, resource_type="Condition")
    visit = db.session.execute(_diagnosed(user).where(Treatment.id == treatment_id)).scalar_one_or_none()
    if visit is None:
        raise NotFound(f"Condition/{resource_id} was not found.")
    resource = to_fhir(visit)
    audit("fhir.condition.read", "treatment", [(visit.treatment.id, visit.patient_id)])
    return resource


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Diagnoses by patient and encounter, newest first; audited."""
    require_clinical_reader(user)
    statement = filter_visits(_diagnosed(user), search)
    for value in search.all("_id"):
        statement = statement.where(Treatment.id == int_id(value, resource_type="Condition", element="_id"))
    statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    rows, total = page_rows(statement, search)
    resources = [to_fhir(a) for a in rows]
    audit("fhir.condition.search", "treatment", [(a.treatment.id, a.patient_id) for a in rows])
    return bundle(resources, total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="Condition",
        documentation="Diagnoses of completed visits; the patient and their doctors only. Every read is audited.",
        read=read,
        search=search,
        search_params=(
            SearchParam("_id", "token", "Logical id (the treatment's id)"),
            SearchParam("patient", "reference", "Patient/<id>"),
            SearchParam("subject", "reference", "Patient/<id>"),
            SearchParam("encounter", "reference", "Encounter/<id>"),
        ),
    )
)
