"""HealthcareService ↔ our departments (directory data): what PractitionerRole.healthcareService points at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hms.common.errors import NotFound
from hms.extensions import db
from hms.fhir.common import SearchRequest, bundle, int_id, page_rows
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.models import Department, User

DEPARTMENT_SYSTEM = "urn:hms:department"


def to_fhir(department: Department) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": str(department.id),
        "identifier": [{"system": DEPARTMENT_SYSTEM, "value": str(department.id)}],
        "active": True,
        "name": department.name,
    }
    if department.description:
        resource["comment"] = department.description
    return resource


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    department = db.session.get(Department, int_id(resource_id, resource_type="HealthcareService"))
    if department is None:
        raise NotFound(f"HealthcareService/{resource_id} was not found.")
    return to_fhir(department)


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Departments by name and _id."""
    statement = select(Department)
    for value in search.all("_id"):
        statement = statement.where(Department.id == int_id(value, resource_type="HealthcareService", element="_id"))
    for value in search.all("name"):
        statement = statement.where(func.lower(Department.name).contains(value.strip().lower(), autoescape=True))
    rows, total = page_rows(statement.order_by(Department.name, Department.id), search)
    return bundle([to_fhir(d) for d in rows], total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="HealthcareService",
        documentation="The hospital's departments (directory data).",
        read=read,
        search=search,
        search_params=(
            SearchParam("_id", "token", "Logical id (the department's id)"),
            SearchParam("name", "string", "Part of the name, case-insensitive"),
        ),
    )
)
