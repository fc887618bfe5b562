"""A person's own record: patient self-registration (the record and its login), the signed-in person with their
profile (/api/auth/me), and doctors' and patients' edits of their own profiles under the admins' rules.
"""

from __future__ import annotations

from typing import Any

from hms.accounts import service as accounts
from hms.accounts import verification
from hms.audit.service import record
from hms.common import cache as hms_cache
from hms.common.errors import NotFound
from hms.directory.doctors import update_doctor
from hms.directory.patients import update_patient
from hms.directory.records import PATIENT_PROFILE_FIELDS, doctor_dict, patient_dict
from hms.extensions import db
from hms.models import Patient, User


def register(*, data: dict[str, Any]) -> dict[str, Any]:
    """Self-registration: "check your e-mail", whether or not the address has an account (accounts.verification
    decides, and creates the login); a new login gets its patient record here, in the same unit of work."""

    def create_record(user: User) -> None:
        patient = Patient(
            user=user, full_name=data["full_name"], **{k: data[k] for k in PATIENT_PROFILE_FIELDS if k in data}
        )
        db.session.add(patient)
        db.session.flush()
        record(action="account_registered", entity="patient", entity_id=patient.id, actor=user)

    answer = verification.register(data=data, create_profile=create_record)
    hms_cache.invalidate(hms_cache.STATS_NAMESPACE)
    return answer


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
