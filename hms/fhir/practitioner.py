"""Practitioner ↔ our doctors: name, telecom, gender, qualification. Directory data, readable by any signed-in user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from hms.common.errors import NotFound
from hms.extensions import db
from hms.fhir.common import Invalid, SearchRequest, bundle, gender, int_id, page_rows
from hms.fhir.registry import ResourceType, SearchParam, register
from hms.models import Doctor, User


def doctor_active(doctor: Doctor) -> bool:
    return doctor.archived_at is None and doctor.user is not None and doctor.user.is_active


def doctors() -> Select:
    """Doctors of the directory (archived ones are gone from it), with their account and department."""
    return (
        select(Doctor)
        .options(joinedload(Doctor.user), joinedload(Doctor.department))
        .where(Doctor.archived_at.is_(None))
    )


def get_doctor(resource_type: str, resource_id: str) -> Doctor:
    doctor = db.session.execute(
        doctors().where(Doctor.id == int_id(resource_id, resource_type=resource_type))
    ).scalar_one_or_none()
    if doctor is None:
        raise NotFound(f"{resource_type}/{resource_id} was not found.")
    return doctor


def to_fhir(doctor: Doctor) -> dict[str, Any]:
    parts = doctor.full_name.removeprefix("Dr. ").split()
    name: dict[str, Any] = {"use": "official", "text": doctor.display_name, "prefix": ["Dr."]}
    if len(parts) > 1:
        name.update(family=parts[-1], given=parts[:-1])
    telecom = []
    if doctor.phone:
        telecom.append({"system": "phone", "value": doctor.phone, "use": "work"})
    if doctor.user is not None and doctor.user.email:
        telecom.append({"system": "email", "value": doctor.user.email, "use": "work"})
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(doctor.id),
        "active": doctor_active(doctor),
        "name": [name],
        "gender": gender(doctor.gender),
    }
    if telecom:
        resource["telecom"] = telecom
    if doctor.qualifications:
        resource["qualification"] = [{"code": {"text": doctor.qualifications}}]
    return resource


def read(*, user: User, resource_id: str) -> dict[str, Any]:
    return to_fhir(get_doctor("Practitioner", resource_id))


def name_filter(statement: Select, values: list[str]) -> Select:
    for value in values:
        statement = statement.where(func.lower(Doctor.full_name).contains(value.strip().lower(), autoescape=True))
    return statement


def search(*, user: User, search: SearchRequest) -> dict[str, Any]:
    """Doctors by _id, name and active."""
    statement = name_filter(doctors(), search.all("name"))
    for value in search.all("_id"):
        statement = statement.where(Doctor.id == int_id(value, resource_type="Practitioner", element="_id"))
    active = search.one("active")
    if active is not None:
        if active not in ("true", "false"):
            raise Invalid("active is true or false.", element="active")
        statement = statement.join(User, User.id == Doctor.user_id).where(User.is_active.is_(active == "true"))
    rows, total = page_rows(statement.order_by(Doctor.full_name, Doctor.id), search)
    return bundle([to_fhir(d) for d in rows], total=total, search=search)


RESOURCE = register(
    ResourceType(
        name="Practitioner",
        documentation="The hospital's doctors (directory data).",
        read=read,
        search=search,
        search_params=(
            SearchParam("_id", "token", "Logical id"),
            SearchParam("name", "string", "Part of the name, case-insensitive"),
            SearchParam("active", "token", "true: doctors taking appointments"),
        ),
    )
)
