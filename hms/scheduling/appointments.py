"""One appointment: its API shape, the query and loader the lists and writers share, and the notice to its people.
The layer every other scheduling module builds on after slots.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import joinedload

from hms.common.errors import NotFound
from hms.common.pagination import paginate
from hms.extensions import db
from hms.models import (
    Appointment,
    Doctor,
    Patient,
    Treatment,
    User,
)
from hms.notifications import service as notifications
from hms.scheduling import rules

# ---- serialising appointments --------------------------------------------------------------------------------


def appointment_dict(appointment: Appointment, *, has_treatment: bool | None = None) -> dict[str, Any]:
    """The API's Appointment shape, from an appointment loaded with its patient, doctor and department."""
    doctor = appointment.doctor
    department = doctor.department if doctor else None
    if has_treatment is None:
        has_treatment = appointment.treatment is not None
    return {
        "id": appointment.id,
        "patient_id": appointment.patient_id,
        "patient_name": appointment.patient.full_name if appointment.patient else None,
        "doctor_id": appointment.doctor_id,
        "doctor_name": doctor.display_name if doctor else None,
        "department_id": doctor.department_id if doctor else None,
        "department_name": department.name if department else None,
        "date": appointment.date,
        "start_time": appointment.start_time,
        "end_time": appointment.end_time,
        "status": appointment.status,
        "reason": appointment.reason,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
        "cancelled_by": appointment.cancelled_by,
        "cancel_reason": appointment.cancel_reason,
        "cancelled_at": appointment.cancelled_at,
        "rescheduled_from": appointment.rescheduled_from,
        "has_treatment": has_treatment,
        **rules.time_fields(appointment),
    }


def appointment_query() -> Select:
    """Appointments with their people and department in one query, plus whether a treatment exists."""
    has_treatment = exists().where(Treatment.appointment_id == Appointment.id).label("has_treatment")
    return select(Appointment, has_treatment).options(
        joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department)
    )


def page_of_appointments(statement: Select, *, page: int, per_page: int) -> dict[str, Any]:
    result = paginate(statement, page=page, per_page=per_page, scalars=False)
    result["items"] = [appointment_dict(row[0], has_treatment=bool(row[1])) for row in result["items"]]
    return result


def _list(statement: Select) -> list[dict[str, Any]]:
    return [appointment_dict(row[0], has_treatment=bool(row[1])) for row in db.session.execute(statement)]


def _load(appointment_id: int, *conditions: Any, for_notices: bool = False) -> Appointment:
    """One appointment (with people) matching conditions, else 404: another user's appointment is not revealed.

    for_notices: also the patient's and the doctor's logins and the treatment, in the same statement, for a write
    that tells both people and answers with the appointment (a cancel): three lazy loads fewer.
    """
    options = [joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department)]
    if for_notices:
        options += [
            joinedload(Appointment.patient).joinedload(Patient.user),
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.treatment),
        ]
    appointment = db.session.execute(
        select(Appointment).options(*options).where(Appointment.id == appointment_id, *conditions)
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"Appointment {appointment_id} was not found.")
    return appointment


def _when(appointment: Appointment) -> str:
    return f"{appointment.date:%A %d %B %Y} at {appointment.start_time:%H:%M}"


def _notify(user: User, kind: str, subject: str, body: str, appointment: Appointment, **data: Any) -> None:
    notifications.queue(
        user=user,
        kind=kind,
        subject=subject,
        body=body,
        appointment_id=appointment.id,
        data={"appointment_id": appointment.id, "date": appointment.date.isoformat(), **data},
    )
