"""What the directory's modules share: a doctor and a patient as the API shows them, the profile fields, the cache
namespace, the list helpers and the removal of an account's rows when its person is deleted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from hms.accounts import service as accounts
from hms.common import cache as hms_cache
from hms.common.pagination import paginate
from hms.extensions import db
from hms.models import (
    Appointment,
    AuditEvent,
    Doctor,
    ExportJob,
    Notification,
    Patient,
    User,
)

NAMESPACE = "directory"


def directory_changed() -> None:
    """A doctor or department changed: the cached public directory and the dashboard's counts are both stale."""
    hms_cache.invalidate(NAMESPACE, hms_cache.STATS_NAMESPACE)


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
PATIENT_PROFILE_FIELDS = (
    "date_of_birth",
    "gender",
    "phone",
    "address",
    "blood_group",
    "height_cm",
    "weight_kg",
    "allergies",
    "medical_history",
    "emergency_contact",
)


# ---- shapes ------------------------------------------------------------------------------------------------


def doctor_dict(doctor: Doctor) -> dict[str, Any]:
    """A doctor with their account and department, as DoctorRead/DoctorPublic dump it."""
    user = doctor.user
    return {
        "id": doctor.id,
        "user_id": doctor.user_id,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
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


def apply_profile_edit(person: Doctor | Patient, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    """An edit of a doctor's or patient's record: a new email must be free (ignoring case) and is stored lowered,
    then each given field of `fields` (and the name) is set. The caller audits and commits."""
    if "email" in data:  # a new address is unverified until its link is opened (accounts.verification)
        accounts.set_email(user=person.user, email=data["email"])
    for name in ("full_name", *fields):
        if name in data:
            setattr(person, name, data[name])
