"""Departments, doctors and patients: the public directory and the admin's people management."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from hms.accounts import service as accounts
from hms.audit.service import record
from hms.common import cache as hms_cache
from hms.common import clock
from hms.common.auth import get_or_404
from hms.common.errors import Conflict, Duplicate, NotFound, ValidationFailed
from hms.common.names import strip_title
from hms.common.pagination import paginate
from hms.common.uow import unit_of_work
from hms.directory.schemas import DepartmentDetail, DepartmentRead, DoctorPublic
from hms.extensions import db
from hms.models import (
    Appointment,
    AuditEvent,
    AvailabilityWindow,
    BlockedSlot,
    Department,
    Doctor,
    ExportJob,
    Notification,
    Patient,
    Role,
    User,
    WaitlistEntry,
)
from hms.scheduling import rules
from hms.scheduling import service as scheduling

NAMESPACE = "directory"
DOCTOR_PROFILE_FIELDS = (
    "department_id",
    "specialization",
    "qualifications",
    "experience_years",
    "consultation_fee",
    "phone",
    "gender",
    "about",
    "slot_minutes",
)
PATIENT_PROFILE_FIELDS = accounts.PATIENT_PROFILE_FIELDS


# ---- shapes ------------------------------------------------------------------------------------------------


def doctor_dict(doctor: Doctor) -> dict[str, Any]:
    """A doctor with their account and department, as DoctorRead/DoctorPublic dump it."""
    user = doctor.user
    return {
        "id": doctor.id,
        "user_id": doctor.user_id,
        "username": user.username,
        "email": user.email,
        "full_name": doctor.full_name,
        "display_name": doctor.display_name,
        "department_id": doctor.department_id,
        "department_name": doctor.department.name if doctor.department else None,
        "specialization": doctor.specialization,
        "qualifications": doctor.qualifications,
        "experience_years": doctor.experience_years,
        "consultation_fee": doctor.consultation_fee,
        "phone": doctor.phone,
        "gender": doctor.gender,
        "about": doctor.about,
        "slot_minutes": doctor.slot_minutes,
        "is_active": user.is_active and doctor.archived_at is None,
        "must_change_password": user.must_change_password,
        "created_at": doctor.created_at,
        "last_login_at": user.last_login_at,
        "archived_at": doctor.archived_at,
    }


def patient_dict(patient: Patient) -> dict[str, Any]:
    user = patient.user
    return {
        "id": patient.id,
        "user_id": patient.user_id,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "full_name": patient.full_name,
        **{name: getattr(patient, name) for name in PATIENT_PROFILE_FIELDS},
        "is_active": user.is_active and patient.archived_at is None,
        "created_at": patient.created_at,
        "last_login_at": user.last_login_at,
        "archived_at": patient.archived_at,
    }


def _contains(*columns: Any, text: str) -> Any:
    """Case-insensitive substring match on any of the columns, with LIKE wildcards taken literally."""
    needle = "%" + text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(func.lower(column).like(needle, escape="\\") for column in columns))


def _listed_doctor_ids() -> Select:
    """Doctors the public may see: an active account and not archived."""
    return select(Doctor.id).join(User, Doctor.user_id == User.id).where(Doctor.archived_at.is_(None), User.is_active)


def _doctor_query() -> Select:
    return select(Doctor).options(joinedload(Doctor.user), joinedload(Doctor.department))


def _page_of_dicts(statement: Select, *, page: int, per_page: int, to_dict: Any) -> dict[str, Any]:
    result = paginate(statement, page=page, per_page=per_page)
    result["items"] = [to_dict(row) for row in result["items"]]
    return result


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
    hms_cache.invalidate(NAMESPACE)
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
    hms_cache.invalidate(NAMESPACE)
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
    hms_cache.invalidate(NAMESPACE)
    return {"deleted": True, "deactivated": False, "message": f"Department “{department.name}” deleted."}


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
            from hms.scheduling.service import doctor_ids_available_on

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
    hms_cache.invalidate(NAMESPACE)
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
        if "email" in data:  # a new address is unverified until its link is opened (accounts.verification)
            accounts.set_email(user=doctor.user, email=data["email"])
        for name in ("full_name", *DOCTOR_PROFILE_FIELDS):
            if name in data:
                setattr(doctor, name, data[name])
        record(action="doctor_updated", entity="doctor", entity_id=doctor.id, details={"fields": sorted(data)})
    hms_cache.invalidate(NAMESPACE)
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
            settled = scheduling.settle_bookings_of_unavailable_doctor(
                doctor=doctor, actor=actor, bookings=bookings, action="block"
            )
        accounts.set_active(user=doctor.user, active=active)
        record(action="doctor_unblocked" if active else "doctor_blocked", entity="doctor", entity_id=doctor.id)
    hms_cache.invalidate(NAMESPACE)
    invalidate_doctor_slots(doctor.id)
    return {**doctor_dict(doctor), "settled_appointments": settled}


def _user_has_history(user_id: int) -> bool:
    """Records that keep a user: audit entries they made and export jobs they own."""
    audited = db.session.execute(select(AuditEvent.id).where(AuditEvent.actor_id == user_id).limit(1)).first()
    exported = db.session.execute(select(ExportJob.id).where(ExportJob.owner_id == user_id).limit(1)).first()
    return audited is not None or exported is not None


def _delete_user_rows(user: User) -> None:
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(
        update(Appointment).where(Appointment.cancelled_by_user_id == user.id).values(cancelled_by_user_id=None)
    )
    db.session.delete(user)


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
            scheduling.settle_bookings_of_unavailable_doctor(
                doctor=doctor, actor=actor, bookings=bookings, action="deactivate"
            )
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
    hms_cache.invalidate(NAMESPACE)
    invalidate_doctor_slots(doctor_id)
    if keep:
        return {
            "deleted": False,
            "deactivated": True,
            "message": f"{name} has appointment history, so the account was deactivated and archived "
            "instead of deleted; the history is kept.",
        }
    return {"deleted": True, "deactivated": False, "message": f"{name} was deleted."}


# ---- admin: patients ---------------------------------------------------------------------------------------


def _patient(patient_id: int) -> Patient:
    patient = db.session.execute(
        select(Patient).options(joinedload(Patient.user)).where(Patient.id == patient_id)
    ).scalar_one_or_none()
    if patient is None:
        raise NotFound(f"Patient {patient_id} was not found.")
    return patient


def admin_list_patients(*, page: int, per_page: int, q: str | None = None, include_archived: bool = False) -> dict:
    """Patients for the admin portal, searched by name, email, phone or username."""
    statement = (
        select(Patient)
        .join(User, Patient.user_id == User.id)
        .options(joinedload(Patient.user))
        .order_by(Patient.full_name, Patient.id)
    )
    if not include_archived:
        statement = statement.where(Patient.archived_at.is_(None))
    if q:
        statement = statement.where(_contains(Patient.full_name, User.email, User.username, Patient.phone, text=q))
    return _page_of_dicts(statement, page=page, per_page=per_page, to_dict=patient_dict)


def admin_get_patient(*, patient_id: int) -> dict[str, Any]:
    """One patient's profile (with allergies and medical history), so the read is audited."""
    result = patient_dict(_patient(patient_id))
    with unit_of_work():
        record(action="patient.read", entity="patient", entity_id=patient_id, patient_id=patient_id)
    return result


def create_patient(*, data: dict[str, Any]) -> dict[str, Any]:
    """Create a patient's account and profile on their behalf."""
    with unit_of_work():
        user = accounts.create_user(
            username=data["username"], email=data["email"], password=data["password"], role=Role.PATIENT.value
        )
        patient = Patient(
            user=user, full_name=data["full_name"], **{k: data[k] for k in PATIENT_PROFILE_FIELDS if k in data}
        )
        db.session.add(patient)
        db.session.flush()
        record(action="patient_created", entity="patient", entity_id=patient.id, details={"username": user.username})
    return patient_dict(patient)


def update_patient(*, patient_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Edit a patient's profile (and email)."""
    with unit_of_work():
        patient = _patient(patient_id)
        if "email" in data:  # a new address is unverified until its link is opened (accounts.verification)
            accounts.set_email(user=patient.user, email=data["email"])
        for name in ("full_name", *PATIENT_PROFILE_FIELDS):
            if name in data:
                setattr(patient, name, data[name])
        record(action="patient_updated", entity="patient", entity_id=patient.id, details={"fields": sorted(data)})
    db.session.refresh(patient)
    return patient_dict(patient)


def set_patient_active(*, patient_id: int, active: bool) -> dict[str, Any]:
    """Block a patient (tokens die at once) or unblock them."""
    with unit_of_work():
        patient = _patient(patient_id)
        accounts.set_active(user=patient.user, active=active)
        record(action="patient_unblocked" if active else "patient_blocked", entity="patient", entity_id=patient.id)
    return patient_dict(patient)


def delete_patient(*, patient_id: int) -> dict[str, Any]:
    """Delete a patient without history; one with appointments or clinical records is deactivated instead."""
    with unit_of_work():
        patient = _patient(patient_id)
        name, user = patient.full_name, patient.user
        has_appointments = db.session.execute(
            select(Appointment.id).where(Appointment.patient_id == patient.id).limit(1)
        ).first()
        clinical_audit = db.session.execute(
            select(AuditEvent.id).where(AuditEvent.patient_id == patient.id).limit(1)
        ).first()
        keep = has_appointments is not None or clinical_audit is not None or _user_has_history(patient.user_id)
        if keep:
            accounts.set_active(user=user, active=False)
            patient.archived_at = patient.archived_at or clock.utcnow_naive()
            record(
                action="patient_deactivated", entity="patient", entity_id=patient.id, details={"reason": "has history"}
            )
        else:
            db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.patient_id == patient.id))
            record(
                action="patient_deleted", entity="patient", entity_id=patient.id, details={"username": user.username}
            )
            db.session.delete(patient)
            db.session.flush()
            _delete_user_rows(user)
    if keep:
        return {
            "deleted": False,
            "deactivated": True,
            "message": f"{name} has appointment history, so the account was deactivated instead of "
            "deleted; the history is kept.",
        }
    return {"deleted": True, "deactivated": False, "message": f"{name} was deleted."}
