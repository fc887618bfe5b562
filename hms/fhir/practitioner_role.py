"""PractitionerRole ↔ a doctor's specialization and department (one role per doctor, same id as the Practitioner)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from hms.fhir.common import SearchRequest, bundle, page_rows, ref_id, reference
from hms.fhir.practitioner import doctor_active, doctors, get_doctor
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.models import Department, Doctor, User


def to_fhir(doctor: Doctor) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": str(doctor.id),
        "active": doctor_active(doctor),
        "practitioner": reference("Practitioner", doctor.id, doctor.display_name),
        "code": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/practitioner-role", "code": "doctor"}]}],
    }
    if doctor.specialization:
        resource["specialty"] = [{"text": doctor.specialization}]
    if doctor.department is not None:
        resource["healthcareService"] = [reference("HealthcareService", doctor.department.id, doctor.department.name)]
    if doctor.phone:
        resource["telecom"] = [{"system": "phone", "value": doctor.phone, "use": "work"}]
    return resource


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    return to_fhir(get_doctor("PractitionerRole", resource_id))


def specialty_filter(statement: Any, values: list[str]) -> Any:
    """Specialty matches the specialization or the department's name, case-insensitive."""
    for value in values:
        term = value.split("|", 1)[-1].strip().lower()
        in_department = select(Department.id).where(func.lower(Department.name).contains(term, autoescape=True))
        statement = statement.where(
            or_(
                func.lower(func.coalesce(Doctor.specialization, "")).contains(term, autoescape=True),
                Doctor.department_id.in_(in_department),
            )
        )
    return statement


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Roles by practitioner and specialty (or department name)."""
    statement = specialty_filter(doctors(), search.all("specialty"))
    for value in search.all("practitioner"):
        doctor_id = ref_id(value, expected="Practitioner", element="practitioner")
        statement = statement.where(Doctor.id == doctor_id)
    rows, total = page_rows(statement.order_by(Doctor.full_name, Doctor.id), search)
    return bundle([to_fhir(d) for d in rows], total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="PractitionerRole",
        documentation="A doctor's specialty and department (as healthcareService).",
        read=read,
        search=search,
        search_params=(
            SearchParam("practitioner", "reference", "Practitioner/<id>"),
            SearchParam("specialty", "token", "Specialization or department name, case-insensitive"),
        ),
    )
)
