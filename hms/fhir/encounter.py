"""Encounter ↔ a completed visit (same id as its appointment), linking patient, doctor, appointment and diagnosis."""

from __future__ import annotations

from typing import Any

from hms.common.errors import NotFound
from hms.extensions import db
from hms.fhir.appointment import date_condition
from hms.fhir.common import SearchRequest, bundle, int_id, local_instant, page_rows, parse_date_param, ref_id, reference
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.fhir.visits import audit, completed_visits, filter_visits
from hms.models import Appointment, User

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# Our visit types → the encounter class (ambulatory, virtual, emergency).
CLASSES = {
    "in_person": ("AMB", "ambulatory"),
    "follow_up": ("AMB", "ambulatory"),
    "tele": ("VR", "virtual"),
    "emergency": ("EMER", "emergency"),
}


def to_fhir(appointment: Appointment) -> dict[str, Any]:
    treatment = appointment.treatment
    visit_type = treatment.visit_type if treatment is not None else "in_person"
    code, display = CLASSES.get(visit_type, CLASSES["in_person"])
    doctor = appointment.doctor
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(appointment.id),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [{"text": visit_type.replace("_", " ")}],
        "subject": reference("Patient", appointment.patient_id, appointment.patient.full_name),
        "participant": [{"individual": reference("Practitioner", appointment.doctor_id, doctor.display_name)}],
        "appointment": [reference("Appointment", appointment.id)],
        "period": {
            "start": local_instant(appointment.date, appointment.start_time),
            "end": local_instant(appointment.date, appointment.end_time),
        },
    }
    if appointment.reason:
        resource["reasonCode"] = [{"text": appointment.reason}]
    if treatment is not None and treatment.diagnosis:
        resource["diagnosis"] = [{"condition": reference("Condition", treatment.id), "rank": 1}]
    if doctor.department is not None:
        resource["serviceType"] = {"text": doctor.department.name}
    return resource


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    """A visit of a patient the caller may see (else not found); audited."""
    visit_id = int_id(resource_id, resource_type="Encounter")
    visit = db.session.execute(completed_visits(user).where(Appointment.id == visit_id)).scalar_one_or_none()
    if visit is None:
        raise NotFound(f"Encounter/{resource_id} was not found.")
    resource = to_fhir(visit)
    audit("fhir.encounter.read", "appointment", [(visit.id, visit.patient_id)])
    return resource


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Visits by patient, practitioner, date and _id, newest first; audited."""
    statement = filter_visits(completed_visits(user), search)
    for value in search.all("_id"):
        statement = statement.where(Appointment.id == int_id(value, resource_type="Encounter", element="_id"))
    for value in search.all("practitioner"):
        doctor_id = ref_id(value, expected="Practitioner", element="practitioner")
        statement = statement.where(Appointment.doctor_id == doctor_id)
    for value in search.all("date"):
        statement = statement.where(date_condition(parse_date_param(value, element="date")))
    statement = statement.order_by(Appointment.date.desc(), Appointment.start_time.desc(), Appointment.id.desc())
    rows, total = page_rows(statement, search)
    resources = [to_fhir(a) for a in rows]
    audit("fhir.encounter.search", "appointment", [(a.id, a.patient_id) for a in rows])
    return bundle(resources, total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="Encounter",
        documentation="Completed visits; for the patient, their doctors and admins. Every read is audited.",
        read=read,
        search=search,
        search_params=(
            SearchParam("_id", "token", "Logical id (the appointment's id)"),
            SearchParam("patient", "reference", "Patient/<id>"),
            SearchParam("subject", "reference", "Patient/<id>"),
            SearchParam("practitioner", "reference", "Practitioner/<id>"),
            SearchParam("date", "date", "Visit start, with eq/ge/gt/le/lt"),
        ),
    )
)
