"""Doctors: the public search (free on a date from live slots) and profile, and the admin management: create
with a login, edit, block or unblock (settling their bookings), delete or archive.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select

from hms.accounts import service as accounts
from hms.audit.service import record
from hms.common import cache as hms_cache
from hms.common import clock
from hms.common.errors import Conflict, NotFound, ValidationFailed
from hms.common.names import strip_title
from hms.common.uow import unit_of_work
from hms.directory.records import (
    DOCTOR_PROFILE_FIELDS,
    NAMESPACE,
    _contains,
    _delete_user_rows,
    _doctor_query,
    _listed_doctor_ids,
    _page_of_dicts,
    _user_has_history,
    apply_profile_edit,
    directory_changed,
    doctor_dict,
)
from hms.directory.schemas import DoctorPublic
from hms.extensions import db
from hms.models import (
    Appointment,
    AvailabilityWindow,
    BlockedSlot,
    Department,
    Doctor,
    Role,
    User,
    WaitlistEntry,
)
from hms.scheduling import rules
from hms.scheduling.availability import settle_bookings_of_unavailable_doctor
from hms.scheduling.slots import doctor_ids_available_on

# ---- public doctors ----------------------------------------------------------------------------------------


def _doctor_filters(
    statement: Select, *, q: str | None, department_id: int | None, specialization: str | None
) -> Select:
    if q and strip_title(q):  # "Dr. Asha" finds Asha Rao: names are stored without the title
        statement = statement.outerjoin(Department, Doctor.department_id == Department.id).where(
            _contains(Doctor.full_name, Doctor.specialization, Department.name, text=strip_title(q))
        )
    if department_id is not None:
        statement = statement.where(Doctor.department_id == department_id)
    if specialization:
        statement = statement.where(_contains(Doctor.specialization, text=specialization))
    return statement


def search_doctors(
    *,
    page: int,
    per_page: int,
    q: str | None = None,
    department_id: int | None = None,
    specialization: str | None = None,
    available_on: date | None = None,
) -> dict[str, Any]:
    """The public directory; "free on a date" follows live slot state, so only the other searches are cached."""

    def compute() -> dict[str, Any]:
        statement = _doctor_query().where(Doctor.id.in_(_listed_doctor_ids())).order_by(Doctor.full_name, Doctor.id)
        statement = _doctor_filters(statement, q=q, department_id=department_id, specialization=specialization)
        if available_on is not None:
            statement = statement.where(Doctor.id.in_(sorted(doctor_ids_available_on(day=available_on)) or [-1]))
        result = _page_of_dicts(statement, page=page, per_page=per_page, to_dict=doctor_dict)
        result["items"] = DoctorPublic().dump(result["items"], many=True)
        return result

    if available_on is not None:
        return compute()
    key = f"doctors:{page}:{per_page}:{(q or '').strip().lower()}:{department_id}:{(specialization or '').lower()}"
    return hms_cache.get_or_set(NAMESPACE, key, compute)


def get_public_doctor(*, doctor_id: int) -> dict[str, Any]:
    """A listed doctor's public profile; blocked and archived doctors are not found."""

    def compute() -> dict[str, Any]:
        doctor = db.session.execute(
            _doctor_query().where(Doctor.id == doctor_id, Doctor.id.in_(_listed_doctor_ids()))
        ).scalar_one_or_none()
        if doctor is None:
            raise NotFound(f"Doctor {doctor_id} was not found.")
        return DoctorPublic().dump(doctor_dict(doctor))

    return hms_cache.get_or_set(NAMESPACE, f"doctor:{doctor_id}", compute)


# ---- admin: doctors ----------------------------------------------------------------------------------------


def admin_list_doctors(
    *,
    page: int,
    per_page: int,
    q: str | None = None,
    department_id: int | None = None,
    specialization: str | None = None,
    include_archived: bool = False,
) -> dict[str, Any]:
    """Every doctor for the admin portal, blocked ones included, archived ones on request."""
    statement = _doctor_query().order_by(Doctor.full_name, Doctor.id)
    if not include_archived:
        statement = statement.where(Doctor.archived_at.is_(None))
    statement = _doctor_filters(statement, q=q, department_id=department_id, specialization=specialization)
    return _page_of_dicts(statement, page=page, per_page=per_page, to_dict=doctor_dict)


def _doctor(doctor_id: int) -> Doctor:
    doctor = db.session.execute(_doctor_query().where(Doctor.id == doctor_id)).scalar_one_or_none()
    if doctor is None:
        raise NotFound(f"Doctor {doctor_id} was not found.")
    return doctor


def admin_get_doctor(*, doctor_id: int) -> dict[str, Any]:
    return doctor_dict(_doctor(doctor_id))


def _check_department(department_id: int | None) -> None:
    if department_id is not None and db.session.get(Department, department_id) is None:
        raise ValidationFailed(
            "The department does not exist.", fields={"department_id": [f"Department {department_id} does not exist."]}
        )


def create_doctor(*, data: dict[str, Any]) -> dict[str, Any]:
    """Create a doctor's account with a temporary password they must change at first sign-in."""
    with unit_of_work():
        _check_department(data.get("department_id"))
        user = accounts.create_user(
            username=data["username"],
            email=data["email"],
            password=data["password"],
            role=Role.DOCTOR.value,
            must_change_password=True,
        )
        doctor = Doctor(
            user=user, full_name=data["full_name"], **{k: data[k] for k in DOCTOR_PROFILE_FIELDS if k in data}
        )
        db.session.add(doctor)
        db.session.flush()
        record(action="doctor_created", entity="doctor", entity_id=doctor.id, details={"username": user.username})
    directory_changed()
    return doctor_dict(doctor)


def _check_no_booked_visits_ahead(doctor: Doctor) -> None:
    """The slot length cannot change under booked visits: the new grid would overlap them."""
    booked = db.session.execute(
        select(func.count(Appointment.id)).where(Appointment.doctor_id == doctor.id, rules.upcoming_condition())
    ).scalar_one()
    if booked:
        raise Conflict(
            f"The slot length cannot change while {booked} booked appointment(s) lie ahead.",
            code="has_appointments",
            fields={"slot_minutes": ["Cancel or finish the booked appointments first."]},
        )


def update_doctor(*, doctor_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Edit a doctor's profile (and email)."""
    with unit_of_work():
        doctor = _doctor(doctor_id)
        if "department_id" in data:
            _check_department(data["department_id"])
        slot_length_changes = "slot_minutes" in data and data["slot_minutes"] != doctor.slot_minutes
        if slot_length_changes:
            _check_no_booked_visits_ahead(doctor)
        apply_profile_edit(doctor, data, DOCTOR_PROFILE_FIELDS)
        record(action="doctor_updated", entity="doctor", entity_id=doctor.id, details={"fields": sorted(data)})
    directory_changed()
    if slot_length_changes:
        invalidate_doctor_slots(doctor.id)
    db.session.refresh(doctor)
    return doctor_dict(doctor)


def invalidate_doctor_slots(doctor_id: int) -> None:
    """Slots are cached per doctor and day: a blocked or removed doctor's cached days must go at once."""
    today = clock.today_local()
    hms_cache.invalidate(*(hms_cache.slots_namespace(doctor_id, today + timedelta(days=n)) for n in range(-1, 92)))


def set_doctor_active(
    *, doctor_id: int, active: bool, actor: User | None = None, bookings: str | None = None
) -> dict[str, Any]:
    """Block a doctor (tokens die at once, no slots are offered; future visits cancelled or kept) or unblock them."""
    settled: list[int] = []
    with unit_of_work():
        doctor = _doctor(doctor_id)
        if not active:
            settled = settle_bookings_of_unavailable_doctor(
                doctor=doctor, actor=actor, bookings=bookings, action="block"
            )
        accounts.set_active(user=doctor.user, active=active)
        record(action="doctor_unblocked" if active else "doctor_blocked", entity="doctor", entity_id=doctor.id)
    directory_changed()
    invalidate_doctor_slots(doctor.id)
    return {**doctor_dict(doctor), "settled_appointments": settled}


def delete_doctor(*, doctor_id: int, actor: User | None = None, bookings: str | None = None) -> dict[str, Any]:
    """Delete a doctor without history; one with appointments (or other records) is deactivated and archived."""
    with unit_of_work():
        doctor = _doctor(doctor_id)
        name, user = doctor.display_name, doctor.user
        has_appointments = db.session.execute(
            select(Appointment.id).where(Appointment.doctor_id == doctor.id).limit(1)
        ).first()
        keep = has_appointments is not None or _user_has_history(doctor.user_id)
        if keep:
            settle_bookings_of_unavailable_doctor(doctor=doctor, actor=actor, bookings=bookings, action="deactivate")
            accounts.set_active(user=user, active=False)
            doctor.archived_at = doctor.archived_at or clock.utcnow_naive()
            record(action="doctor_deactivated", entity="doctor", entity_id=doctor.id, details={"reason": "has history"})
        else:
            for model in (AvailabilityWindow, BlockedSlot, WaitlistEntry):
                db.session.execute(delete(model).where(model.doctor_id == doctor.id))
            record(action="doctor_deleted", entity="doctor", entity_id=doctor.id, details={"username": user.username})
            db.session.delete(doctor)
            db.session.flush()
            _delete_user_rows(user)
    directory_changed()
    invalidate_doctor_slots(doctor_id)
    if keep:
        return {
            "deleted": False,
            "deactivated": True,
            "message": f"{name} has appointment history, so the account was deactivated and archived "
            "instead of deleted; the history is kept.",
        }
    return {"deleted": True, "deactivated": False, "message": f"{name} was deleted."}
