"""The front desk's day: register a walk-in with minimal fields and book today's next free slot, or put an
emergency on top of the doctor's queue without a slot (an explicit, audited overbook that never doubles a slot),
check booked patients in, and move each token through checked in → with doctor → done.

Tokens are numbered per doctor and day under the doctor's row lock (SQLite: the write transaction), and the
unique (doctor, date, number) constraint backs it.
"""

from __future__ import annotations

import secrets
from datetime import date, time
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from hms.accounts.service import create_user
from hms.audit.service import record
from hms.common.auth import get_or_404
from hms.common.clock import today_local
from hms.common.errors import Conflict, NotFound, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Patient,
    QueueKind,
    QueueState,
    QueueToken,
    Role,
    User,
)
from hms.scheduling import booking, rules
from hms.scheduling.day_state import _day_state
from hms.scheduling.slots import _hhmm, _horizon, _invalidate_days, _lock_doctors, _slots

NEXT_STATE = {
    QueueState.CHECKED_IN.value: QueueState.WITH_DOCTOR.value,
    QueueState.WITH_DOCTOR.value: QueueState.DONE.value,
}


def token_dict(token: QueueToken) -> dict[str, Any]:
    appointment = token.appointment
    return {
        "id": token.id,
        "doctor_id": token.doctor_id,
        "doctor_name": token.doctor.display_name,
        "date": token.date,
        "number": token.number,
        "patient_id": token.patient_id,
        "patient_name": token.patient.full_name,
        "appointment_id": token.appointment_id,
        "start_time": _hhmm(appointment.start_time) if appointment else None,
        "kind": token.kind,
        "state": token.state,
        "reason": token.reason,
        "created_at": token.created_at,
    }


def _next_number(doctor_id: int, day: date) -> int:
    last = db.session.execute(
        select(func.max(QueueToken.number)).where(QueueToken.doctor_id == doctor_id, QueueToken.date == day)
    ).scalar_one()
    return int(last or 0) + 1


def _token(
    *, doctor_id: int, patient_id: int, kind: str, actor: User, appointment_id: int | None, reason: str | None
) -> QueueToken:
    today = today_local()
    token = QueueToken(
        doctor_id=doctor_id,
        date=today,
        number=_next_number(doctor_id, today),
        patient_id=patient_id,
        appointment_id=appointment_id,
        kind=kind,
        state=QueueState.CHECKED_IN.value,
        reason=reason,
        created_by_user_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    return token


def _walk_in_patient(data: dict[str, Any]) -> Patient:
    """An existing patient, or a new one from a name and phone: an account they can claim later by a reset."""
    if data.get("patient_id"):
        patient = db.session.get(Patient, data["patient_id"])
        if patient is None or patient.archived_at is not None:
            raise NotFound(f"Patient {data['patient_id']} was not found.")
        return patient
    if not (data.get("full_name") or "").strip():
        raise ValidationFailed(fields={"full_name": ["Enter the patient's name, or choose a registered patient."]})
    handle = f"walkin-{secrets.token_hex(4)}"
    user = create_user(
        username=handle,
        email=f"{handle}@walk-in.invalid",
        password=secrets.token_urlsafe(24),
        role=Role.PATIENT.value,
        must_change_password=True,
    )
    patient = Patient(
        user=user,
        full_name=data["full_name"].strip(),
        phone=data.get("phone"),
        gender=data.get("gender"),
        date_of_birth=data.get("date_of_birth"),
    )
    db.session.add(patient)
    db.session.flush()
    return patient


def next_free_slot(doctor_id: int) -> time | None:
    """Today's first slot of the doctor that can still be booked, if any."""
    today = today_local()
    state = _day_state(doctor_id, today)
    return next((s["start"] for s in _slots(state, day=today, horizon_days=_horizon()) if s["available"]), None)


def register_walk_in(*, actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """A walk-in: into today's next free slot of the doctor with a token, or, as an emergency, a token on top of
    the queue with no slot at all. Audited; a walk-in with no slot left today is refused (409), never doubled."""
    emergency = bool(data.get("emergency"))
    doctor_id = data["doctor_id"]
    with unit_of_work():
        doctor = get_or_404(Doctor, doctor_id, f"Doctor {doctor_id} was not found.")
        if not rules.doctor_is_active(doctor):
            raise Conflict("This doctor is not seeing patients.", code="doctor_unavailable")
        _lock_doctors(doctor_id, exclusive=True)
        patient = _walk_in_patient(data)
        appointment_id = None
        if not emergency:
            start = next_free_slot(doctor_id)
            if start is None:
                raise Conflict(
                    f"{doctor.display_name} has no free slot left today. Register an emergency if the patient "
                    "must be seen today.",
                    code="no_free_slot",
                )
            booked = booking.book(
                patient_id=patient.id,
                doctor_id=doctor_id,
                day=today_local(),
                start=start,
                reason=data.get("reason"),
                by_admin=True,
            )
            appointment_id = booked["id"]
        token = _token(
            doctor_id=doctor_id,
            patient_id=patient.id,
            kind=QueueKind.EMERGENCY.value if emergency else QueueKind.WALK_IN.value,
            actor=actor,
            appointment_id=appointment_id,
            reason=data.get("reason"),
        )
        record(
            action="queue.emergency" if emergency else "queue.walk_in",
            entity="queue_token",
            entity_id=token.id,
            patient_id=patient.id,
            details={"doctor_id": doctor_id, "number": token.number, "appointment_id": appointment_id},
        )
        token_id = token.id
    _invalidate_days([(doctor_id, today_local())])
    return token_dict(_load(token_id))


def check_in(*, actor: User, appointment_id: int) -> dict[str, Any]:
    """A booked patient of today has arrived: give them a token in their doctor's queue."""
    with unit_of_work():
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFound(f"Appointment {appointment_id} was not found.")
        if appointment.status != AppointmentStatus.BOOKED.value or appointment.date != today_local():
            raise Conflict("Only a booked visit of today can be checked in.", code="not_today")
        existing = db.session.execute(
            select(QueueToken.id).where(QueueToken.appointment_id == appointment_id)
        ).scalar_one_or_none()
        if existing is not None:
            raise Conflict("This visit is already checked in.", code="already_checked_in")
        _lock_doctors(appointment.doctor_id, exclusive=True)
        token = _token(
            doctor_id=appointment.doctor_id,
            patient_id=appointment.patient_id,
            kind=QueueKind.APPOINTMENT.value,
            actor=actor,
            appointment_id=appointment.id,
            reason=appointment.reason,
        )
        record(
            action="queue.check_in",
            entity="queue_token",
            entity_id=token.id,
            patient_id=appointment.patient_id,
            details={"appointment_id": appointment.id, "number": token.number},
        )
        token_id = token.id
    return token_dict(_load(token_id))


def advance(*, actor: User, token_id: int, doctor_id: int | None = None) -> dict[str, Any]:
    """Move a token one step: checked in → with doctor → done (a doctor only in their own queue)."""
    with unit_of_work():
        token = _load(token_id)
        if doctor_id is not None and token.doctor_id != doctor_id:
            raise NotFound(f"Queue token {token_id} was not found.")
        following = NEXT_STATE.get(token.state)
        if following is None:
            raise Conflict("This patient has already been seen.", code="invalid_transition")
        token.state = following
        record(
            action="queue.advance",
            entity="queue_token",
            entity_id=token.id,
            patient_id=token.patient_id,
            details={"state": following},
        )
    return token_dict(_load(token_id))


def _load(token_id: int) -> QueueToken:
    token = db.session.execute(
        select(QueueToken)
        .options(joinedload(QueueToken.patient), joinedload(QueueToken.doctor), joinedload(QueueToken.appointment))
        .where(QueueToken.id == token_id)
    ).scalar_one_or_none()
    if token is None:
        raise NotFound(f"Queue token {token_id} was not found.")
    return token


def queue(*, doctor_id: int | None = None) -> list[dict[str, Any]]:
    """Today's queue: emergencies not yet done on top, then by state (waiting before done) and token number."""
    today = today_local()
    statement = (
        select(QueueToken)
        .options(joinedload(QueueToken.patient), joinedload(QueueToken.doctor), joinedload(QueueToken.appointment))
        .where(QueueToken.date == today)
        .order_by(
            case((QueueToken.state == QueueState.DONE.value, 1), else_=0),
            case((QueueToken.kind == QueueKind.EMERGENCY.value, 0), else_=1),
            QueueToken.doctor_id,
            QueueToken.number,
        )
    )
    if doctor_id is not None:
        statement = statement.where(QueueToken.doctor_id == doctor_id)
    return [token_dict(token) for token in db.session.execute(statement).scalars()]
