"""A person's own record: patient self-registration (the record and its login), the signed-in person with their
profile (/api/auth/me), and doctors' and patients' edits of their own profiles under the admins' rules.
"""

from __future__ import annotations

from typing import Any

from hms.accounts import service as accounts
from hms.audit.service import record
from hms.common import cache as hms_cache
from hms.common import clock
from hms.common.errors import NotFound
from hms.common.uow import unit_of_work
from hms.directory.doctors import update_doctor
from hms.directory.patients import add_patient, update_patient
from hms.directory.records import doctor_dict, patient_dict
from hms.models import User


def register(*, data: dict[str, Any]) -> dict[str, Any]:
    """Self-registration: a patient account with its profile, signed in at once."""
    with unit_of_work():
        patient = add_patient(data)
        user = patient.user
        user.last_login_at = clock.utcnow_naive()
        record(action="account_registered", entity="patient", entity_id=patient.id, actor=user)
    hms_cache.invalidate(hms_cache.STATS_NAMESPACE)
    return accounts.issue_tokens(user)


def me(*, user: User) -> dict[str, Any]:
    """The signed-in user with the profile of their role."""
    return {
        **accounts.user_dict(user),
        "doctor": doctor_dict(user.doctor) if user.doctor else None,
        "patient": patient_dict(user.patient) if user.patient else None,
    }


def own_profile(*, user: User) -> dict[str, Any]:
    """The signed-in doctor's or patient's own profile, in the same shape admins see."""
    if user.doctor is not None:
        return doctor_dict(user.doctor)
    if user.patient is not None:
        return patient_dict(user.patient)
    raise NotFound("This account has no profile.")


def update_own_doctor_profile(*, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A doctor edits their own profile, under the same rules as an admin's edit."""
    if user.doctor is None:
        raise NotFound("This account has no doctor profile.")
    return update_doctor(doctor_id=user.doctor.id, data=data)


def update_own_patient_profile(*, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A patient edits their own profile and email."""
    if user.patient is None:
        raise NotFound("This account has no patient profile.")
    return update_patient(patient_id=user.patient.id, data=data)
