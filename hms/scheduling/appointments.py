"""One appointment: its API shape, the query and loader the lists and writers share, and the notice to its people.
The layer every other scheduling module builds on after slots.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, Update, bindparam, exists, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from hms.common.clock import utcnow_naive
from hms.common.db import update_by_id_parameters, update_by_id_statement
from hms.common.errors import Conflict, NotFound
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
from hms.scheduling.slots import BOOKED, CANCELLED

# ---- serialising appointments --------------------------------------------------------------------------------


def appointment_dict(
    appointment: Appointment, *, has_treatment: bool | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The API's Appointment shape, from an appointment loaded with its patient, doctor and department.

    now: the hospital's clock read once for a whole page (reading it, with its time zone, per row was a twentieth
    of a list's CPU), so every row of one answer is also judged against the same moment."""
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
        **rules.time_fields(appointment, now=now),
    }


def appointment_query() -> Select:
    """Appointments with their people and department in one query, plus whether a treatment exists."""
    has_treatment = exists().where(Treatment.appointment_id == Appointment.id).label("has_treatment")
    return select(Appointment, has_treatment).options(
        joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department)
    )


def page_of_appointments(statement: Select, *, page: int, per_page: int) -> dict[str, Any]:
    result = paginate(statement, page=page, per_page=per_page, scalars=False)
    now = rules.local_now()
    result["items"] = [appointment_dict(row[0], has_treatment=bool(row[1]), now=now) for row in result["items"]]
    return result


def _list(statement: Select) -> list[dict[str, Any]]:
    now = rules.local_now()
    return [appointment_dict(row[0], has_treatment=bool(row[1]), now=now) for row in db.session.execute(statement)]


def _load(
    appointment_id: int, *, patient_id: int | None = None, doctor_id: int | None = None, for_notices: bool = False
) -> Appointment:
    """One appointment (with people), of this patient or doctor when given, else 404: another user's appointment is
    not revealed.

    for_notices: also the patient's and the doctor's logins and the treatment, in the same statement, for a write
    that tells both people and answers with the appointment (a cancel): three lazy loads fewer.
    """
    statement = _load_statement(patient_id is not None, doctor_id is not None, for_notices)
    appointment = db.session.execute(
        statement, {"appointment_id": appointment_id, "patient_id": patient_id, "doctor_id": doctor_id}
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"Appointment {appointment_id} was not found.")
    return appointment


@cache
def _load_statement(of_patient: bool, of_doctor: bool, for_notices: bool) -> Select:
    """The statement `_load` runs, built once per shape: building it with its loader options and computing its
    cache key on every cancel cost more CPU than SQLite spends running it."""
    options = [joinedload(Appointment.patient), joinedload(Appointment.doctor).joinedload(Doctor.department)]
    if for_notices:
        options += [
            joinedload(Appointment.patient).joinedload(Patient.user),
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.treatment),
        ]
    statement = select(Appointment).options(*options).where(Appointment.id == bindparam("appointment_id"))
    if of_patient:
        statement = statement.where(Appointment.patient_id == bindparam("patient_id"))
    if of_doctor:
        statement = statement.where(Appointment.doctor_id == bindparam("doctor_id"))
    return statement


def _cancel(appointment: Appointment, *, role: str, user: User | None, reason: str | None) -> None:
    """Cancel a booked appointment in one UPDATE that only a still-booked row passes, and mirror it on the object.

    A Core statement rather than changing the object and flushing: the flush walked everything the session held
    (the cancel loads both people, their logins and the department) to write five columns. The status condition
    makes a second cancel or a complete that raced this one a 409 instead of a silent overwrite (PostgreSQL
    writers of different people do not share a lock). The loaded object gets the same values as committed ones,
    so the answer and the messages read them without a reload.
    """
    now = utcnow_naive()
    values = {
        "status": CANCELLED,
        "cancelled_by": role,
        "cancelled_by_user_id": user.id if user else None,
        "cancelled_at": now,
        "cancel_reason": reason,
        "updated_at": now,
    }
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]  # an UPDATE's result has a rowcount
        _cancel_statement(), update_by_id_parameters(appointment.id, values)
    )
    if result.rowcount != 1:
        raise Conflict("This appointment was changed by someone else just now; reload it.", code="invalid_transition")
    for key, value in values.items():
        set_committed_value(appointment, key, value)


@cache
def _cancel_statement() -> Update:
    """The cancel's UPDATE, built once (the values are parameters)."""
    table = cast(Table, Appointment.__table__)
    columns = ("status", "cancelled_by", "cancelled_by_user_id", "cancelled_at", "cancel_reason", "updated_at")
    return update_by_id_statement(table, columns).where(table.c.status == BOOKED)


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
