"""Patients as the admin manages them: list, read (audited), create with a login, edit, block or unblock,
delete or archive.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, true, union
from sqlalchemy.orm import joinedload

from hms.accounts import service as accounts
from hms.audit.service import record
from hms.common import cache as hms_cache
from hms.common import clock
from hms.common.errors import NotFound
from hms.common.pagination import paginate_ranked
from hms.common.uow import unit_of_work
from hms.directory.records import (
    PATIENT_PROFILE_FIELDS,
    _contains,
    _delete_user_rows,
    _page_of_dicts,
    _user_has_history,
    apply_profile_edit,
    patient_dict,
)
from hms.extensions import db
from hms.models import (
    Appointment,
    AuditEvent,
    Patient,
    Role,
    User,
    WaitlistEntry,
)

# ---- admin: patients ---------------------------------------------------------------------------------------


def _patient(patient_id: int) -> Patient:
    patient = db.session.execute(
        select(Patient).options(joinedload(Patient.user)).where(Patient.id == patient_id)
    ).scalar_one_or_none()
    if patient is None:
        raise NotFound(f"Patient {patient_id} was not found.")
    return patient


def admin_list_patients(*, page: int, per_page: int, q: str | None = None, include_archived: bool = False) -> dict:
    """Patients for the admin portal by name, searched by name, email, phone or username.

    Every patient has a login (patients.user_id is a required foreign key), so the list needs no join to users
    but the one that loads them: its count reads the patients alone.
    """
    listed = Patient.archived_at.is_(None) if not include_archived else true()
    statement = select(Patient).options(joinedload(Patient.user)).order_by(Patient.full_name, Patient.id)
    if not q:
        return _page_of_dicts(statement.where(listed), page=page, per_page=per_page, to_dict=patient_dict)
    # One OR per table, so that PostgreSQL can use each table's trigram indexes (migration 0021); an OR across the
    # join would scan every patient. Each branch carries the name it is sorted by, so the page of ids and the
    # total come from the union alone (paginate_ranked): joined back to the patients, the planner read all of them.
    matching = union(
        select(Patient.id, Patient.full_name).where(listed, _contains(Patient.full_name, Patient.phone, text=q)),
        select(Patient.id, Patient.full_name)
        .join(User, Patient.user_id == User.id)
        .where(listed, _contains(User.email, User.username, text=q)),
    ).subquery()
    ranked = select(matching.c.id).order_by(matching.c.full_name, matching.c.id)
    result = paginate_ranked(statement, ranked, key=Patient.id, page=page, per_page=per_page)
    result["items"] = [patient_dict(row) for row in result["items"]]
    return result


def admin_get_patient(*, patient_id: int) -> dict[str, Any]:
    """One patient's profile (with allergies and medical history), so the read is audited."""
    result = patient_dict(_patient(patient_id))
    with unit_of_work():
        record(action="patient.read", entity="patient", entity_id=patient_id, patient_id=patient_id)
    return result


def add_patient(data: dict[str, Any]) -> Patient:
    """A patient's login (through accounts' rules) and record with the given profile fields, flushed so it has an
    id; the caller audits and commits (the admin's create_patient; self-registration, which must answer alike
    for a taken address, goes through accounts.verification.register, see profiles.register)."""
    user = accounts.create_user(
        username=data["username"], email=data["email"], password=data["password"], role=Role.PATIENT.value
    )
    patient = Patient(
        user=user, full_name=data["full_name"], **{k: data[k] for k in PATIENT_PROFILE_FIELDS if k in data}
    )
    db.session.add(patient)
    db.session.flush()
    return patient


def create_patient(*, data: dict[str, Any]) -> dict[str, Any]:
    """Create a patient's account and profile on their behalf."""
    with unit_of_work():
        patient = add_patient(data)
        user = patient.user
        record(action="patient_created", entity="patient", entity_id=patient.id, details={"username": user.username})
    hms_cache.invalidate(hms_cache.STATS_NAMESPACE)
    return patient_dict(patient)


def update_patient(*, patient_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Edit a patient's profile (and email)."""
    with unit_of_work():
        patient = _patient(patient_id)
        apply_profile_edit(patient, data, PATIENT_PROFILE_FIELDS)
        record(action="patient_updated", entity="patient", entity_id=patient.id, details={"fields": sorted(data)})
    db.session.refresh(patient)
    return patient_dict(patient)


def set_patient_active(*, patient_id: int, active: bool) -> dict[str, Any]:
    """Block a patient (tokens die at once) or unblock them."""
    with unit_of_work():
        patient = _patient(patient_id)
        accounts.set_active(user=patient.user, active=active)
        record(action="patient_unblocked" if active else "patient_blocked", entity="patient", entity_id=patient.id)
    hms_cache.invalidate(hms_cache.STATS_NAMESPACE)
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
    hms_cache.invalidate(hms_cache.STATS_NAMESPACE)
    if keep:
        return {
            "deleted": False,
            "deactivated": True,
            "message": f"{name} has appointment history, so the account was deactivated instead of "
            "deleted; the history is kept.",
        }
    return {"deleted": True, "deactivated": False, "message": f"{name} was deleted."}
