"""Patient ↔ our patients table: identifier, name, telecom, gender, birthDate, address."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from hms.audit.service import record
from hms.common.auth import patient_scope
from hms.common.errors import NotFound
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.fhir.common import (
    SearchRequest,
    bundle,
    date_range,
    gender,
    int_id,
    page_rows,
    parse_date_param,
    token_value,
)
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.models import Patient, User

IDENTIFIER_SYSTEM = "urn:hms:patient-id"


def to_fhir(patient: Patient) -> dict[str, Any]:
    """One patient as a FHIR Patient (clinical free text such as medical_history stays out)."""
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.user is not None and patient.user.email:
        telecom.append({"system": "email", "value": patient.user.email})
    parts = patient.full_name.split()
    name: dict[str, Any] = {"use": "official", "text": patient.full_name}
    if len(parts) > 1:
        name.update(family=parts[-1], given=parts[:-1])
    elif parts:
        name["given"] = parts
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [{"use": "usual", "system": IDENTIFIER_SYSTEM, "value": str(patient.id)}],
        "active": patient.archived_at is None and (patient.user is None or patient.user.is_active),
        "name": [name],
        "gender": gender(patient.gender),
    }
    if telecom:
        resource["telecom"] = telecom
    if patient.date_of_birth:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    if patient.address:
        resource["address"] = [{"use": "home", "text": patient.address}]
    if patient.emergency_contact:
        resource["contact"] = [{"name": {"text": patient.emergency_contact}}]
    return resource


def _visible(user: User) -> Any:
    return select(Patient).options(joinedload(Patient.user)).where(patient_scope(user, Patient.id))


def audit(patients: list[Patient], action: str) -> None:
    """One record per request: the patient when one was read, else the list (demographics, not clinical text)."""
    if not patients:
        return
    only = patients[0].id if len(patients) == 1 else None
    ids = [p.id for p in patients]
    with unit_of_work():
        record(action=action, entity="patient", entity_id=only, patient_id=only, details={"via": "fhir", "ids": ids})


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    """A patient the caller may see (another's is simply not found); the read is audited."""
    patient_id = int_id(resource_id, resource_type="Patient")
    patient = db.session.execute(_visible(user).where(Patient.id == patient_id)).scalar_one_or_none()
    if patient is None:
        raise NotFound(f"Patient/{resource_id} was not found.")
    resource = to_fhir(patient)
    audit([patient], "fhir.patient.read")
    return resource


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Patients by _id, identifier, name, birthdate, within what the caller may see."""
    statement = _visible(user)
    for value in search.all("_id"):
        statement = statement.where(Patient.id == int_id(value, resource_type="Patient", element="_id"))
    for value in search.all("identifier"):
        system, code = token_value(value)
        if system not in (None, IDENTIFIER_SYSTEM) or not code.isdigit():
            statement = statement.where(Patient.id.is_(None))
        else:
            statement = statement.where(Patient.id == int(code))
    for value in search.all("name"):
        statement = statement.where(func.lower(Patient.full_name).contains(value.strip().lower(), autoescape=True))
    for value in search.all("birthdate"):
        low, high = date_range([parse_date_param(value, element="birthdate")])
        if low:
            statement = statement.where(Patient.date_of_birth >= low)
        if high:
            statement = statement.where(Patient.date_of_birth <= high)
    rows, total = page_rows(statement.order_by(Patient.id), search)
    resources = [to_fhir(p) for p in rows]
    audit(rows, "fhir.patient.search")
    return bundle(resources, total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="Patient",
        documentation="Patients: a patient sees themself, a doctor their own patients, an admin all. Reads audited.",
        read=read,
        search=search,
        search_params=(
            SearchParam("_id", "token", "Logical id"),
            SearchParam("identifier", "token", f"{IDENTIFIER_SYSTEM}|<id>"),
            SearchParam("name", "string", "Part of the full name, case-insensitive"),
            SearchParam("birthdate", "date", "Date of birth, with eq/ge/gt/le/lt"),
        ),
    )
)
