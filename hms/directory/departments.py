"""Departments: the public list and page (cached) and the admin's create, rename and delete (refused while it
still has doctors).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from hms.audit.service import record
from hms.common import cache as hms_cache
from hms.common.auth import get_or_404
from hms.common.errors import Conflict, Duplicate
from hms.common.pagination import paginate
from hms.common.uow import unit_of_work
from hms.directory.records import (
    NAMESPACE,
    _contains,
    _doctor_query,
    _listed_doctor_ids,
    directory_changed,
    doctor_dict,
)
from hms.directory.schemas import DepartmentDetail, DepartmentRead
from hms.extensions import db
from hms.models import (
    Department,
    Doctor,
)

# ---- departments -------------------------------------------------------------------------------------------


def _department_page(*, page: int, per_page: int, q: str | None, public: bool) -> dict[str, Any]:
    counted = select(func.count(Doctor.id)).where(Doctor.department_id == Department.id)
    counted = (
        counted.where(Doctor.id.in_(_listed_doctor_ids())) if public else counted.where(Doctor.archived_at.is_(None))
    )
    statement = select(Department, counted.scalar_subquery().label("doctor_count")).order_by(Department.name)
    if q:
        statement = statement.where(_contains(Department.name, Department.description, text=q))
    result = paginate(statement, page=page, per_page=per_page, scalars=False)
    result["items"] = [
        {"id": d.id, "name": d.name, "description": d.description, "doctor_count": count}
        for d, count in result["items"]
    ]
    return result


def list_departments(*, page: int, per_page: int, q: str | None = None) -> dict[str, Any]:
    """The public department list with how many doctors each has; cached until a directory write."""
    key = f"departments:{page}:{per_page}:{(q or '').strip().lower()}"

    def compute() -> dict[str, Any]:
        result = _department_page(page=page, per_page=per_page, q=q, public=True)
        result["items"] = DepartmentRead().dump(result["items"], many=True)
        return result

    return hms_cache.get_or_set(NAMESPACE, key, compute)


def get_department(*, department_id: int) -> dict[str, Any]:
    """One department with its listed doctors (public)."""

    def compute() -> dict[str, Any]:
        department = get_or_404(Department, department_id, f"Department {department_id} was not found.")
        doctors = db.session.execute(
            _doctor_query()
            .where(Doctor.department_id == department.id, Doctor.id.in_(_listed_doctor_ids()))
            .order_by(Doctor.full_name)
        ).scalars()
        items = [doctor_dict(d) for d in doctors]
        body = {"id": department.id, "name": department.name, "description": department.description}
        return DepartmentDetail().dump({**body, "doctor_count": len(items), "doctors": items})

    return hms_cache.get_or_set(NAMESPACE, f"department:{department_id}", compute)


def admin_list_departments(*, page: int, per_page: int, q: str | None = None) -> dict[str, Any]:
    """Every department for the admin portal, counting all doctors that are not archived."""
    return _department_page(page=page, per_page=per_page, q=q, public=False)


def _check_department_name(name: str, *, exclude_id: int | None = None) -> None:
    statement = select(Department.id).where(func.lower(Department.name) == name.strip().lower())
    if exclude_id is not None:
        statement = statement.where(Department.id != exclude_id)
    if db.session.execute(statement.limit(1)).first() is not None:
        raise Duplicate("A department with this name exists.", fields={"name": ["A department with this name exists."]})


def _department_out(department: Department) -> dict[str, Any]:
    count = db.session.execute(
        select(func.count(Doctor.id)).where(Doctor.department_id == department.id, Doctor.archived_at.is_(None))
    ).scalar_one()
    return {"id": department.id, "name": department.name, "description": department.description, "doctor_count": count}


def create_department(*, data: dict[str, Any]) -> dict[str, Any]:
    """Add a department; names are unique regardless of case."""
    with unit_of_work():
        _check_department_name(data["name"])
        department = Department(name=data["name"], description=data.get("description"))
        db.session.add(department)
        db.session.flush()
        record(
            action="department_created", entity="department", entity_id=department.id, details={"name": department.name}
        )
    directory_changed()
    return _department_out(department)


def update_department(*, department_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Rename or describe a department."""
    with unit_of_work():
        department = get_or_404(Department, department_id, f"Department {department_id} was not found.")
        if "name" in data:
            _check_department_name(data["name"], exclude_id=department.id)
            department.name = data["name"]
        if "description" in data:
            department.description = data["description"]
        record(
            action="department_updated", entity="department", entity_id=department.id, details={"fields": sorted(data)}
        )
    directory_changed()
    return _department_out(department)


def delete_department(*, department_id: int) -> dict[str, Any]:
    """Delete a department that has no doctors (archived ones included: their history names it)."""
    with unit_of_work():
        department = get_or_404(Department, department_id, f"Department {department_id} was not found.")
        count = db.session.execute(
            select(func.count(Doctor.id)).where(Doctor.department_id == department.id)
        ).scalar_one()
        if count:
            raise Conflict(
                f"“{department.name}” still has {count} doctor(s) (deactivated ones included): move them first.",
                code="has_doctors",
            )
        record(
            action="department_deleted", entity="department", entity_id=department.id, details={"name": department.name}
        )
        db.session.delete(department)
    directory_changed()
    return {"deleted": True, "deactivated": False, "message": f"Department “{department.name}” deleted."}
