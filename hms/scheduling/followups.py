"""Follow-ups and recurring series.

A doctor completing a visit proposes a follow-up (in N days or weeks, or on a date): the patient gets a message
whose link opens the booking wizard on that doctor at the nearest day with a free slot; or the doctor books it
directly for the patient, under the same rules as any booking. A recurring series (physiotherapy every Monday for
six weeks) is booked all or nothing: every occurrence is placed in one unit of work, so one taken slot (a check, or
a concurrent booking that wins the unique index) rolls the whole series back.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from hms.audit.service import record
from hms.common.clock import today_local
from hms.common.errors import Conflict, NotFound, ValidationFailed
from hms.common.uow import unit_of_work
from hms.extensions import db
from hms.models import Appointment, AppointmentStatus, Doctor, Patient, Treatment, User, VisitType
from hms.scheduling import booking
from hms.scheduling.appointments import _load, _notify, appointment_dict
from hms.scheduling.day_state import _load_states
from hms.scheduling.slots import _horizon, _invalidate_days, _slots

MAX_OCCURRENCES = 12
SEARCH_DAYS = 14


def _doctors_visit(doctor: Doctor, appointment_id: int) -> Appointment:
    appointment = db.session.execute(
        select(Appointment).where(Appointment.id == appointment_id, Appointment.doctor_id == doctor.id)
    ).scalar_one_or_none()
    if appointment is None:
        raise NotFound(f"Appointment {appointment_id} was not found.")
    return appointment


def nearest_free_day(*, doctor_id: int, on_or_after: date) -> date | None:
    """The first day from a date on which a patient could book the doctor (within the patients' horizon)."""
    today = today_local()
    start = max(on_or_after, today)
    end = today + timedelta(days=_horizon())
    if start > end:
        return None
    states = _load_states(
        doctor_ids=[doctor_id], date_from=start, date_to=min(end, start + timedelta(days=SEARCH_DAYS))
    )
    for (_doctor, day), state in sorted(states.items(), key=lambda item: item[0][1]):
        if any(slot["available"] for slot in _slots(state, day=day, horizon_days=_horizon())):
            return day
    return None


def propose_follow_up(
    *, doctor: Doctor, appointment_id: int, in_days: int | None = None, on: date | None = None
) -> dict[str, Any]:
    """Record the proposed date on the visit's treatment and send the patient a link to book it."""
    if (in_days is None) == (on is None):
        raise ValidationFailed(fields={"in_days": ["Give either a number of days or a date."]})
    with unit_of_work():
        appointment = _doctors_visit(doctor, appointment_id)
        if appointment.status not in (AppointmentStatus.BOOKED.value, AppointmentStatus.COMPLETED.value):
            raise Conflict("A follow-up is proposed from a visit that took place.", code="invalid_state")
        proposed = on or appointment.date + timedelta(days=in_days or 0)
        if proposed < today_local():
            raise ValidationFailed(fields={"on": ["Choose a date from today on."]})
        treatment = db.session.execute(
            select(Treatment).where(Treatment.appointment_id == appointment.id)
        ).scalar_one_or_none()
        if treatment is None:
            treatment = Treatment(appointment_id=appointment.id, visit_type=VisitType.IN_PERSON.value, medicines=[])
            db.session.add(treatment)
        treatment.follow_up_date = proposed
        nearest = nearest_free_day(doctor_id=doctor.id, on_or_after=proposed)
        base = current_app.config["HMS"].public_url.rstrip("/")
        link = f"{base}/patient/book?doctor_id={doctor.id}&date={(nearest or proposed).isoformat()}"
        _notify(
            appointment.patient.user,
            "follow_up_proposed",
            f"{doctor.display_name} would like to see you again around {proposed:%d %b %Y}",
            f"{doctor.display_name} proposes a follow-up visit around {proposed:%A %d %B %Y}. Book it here: {link}",
            appointment,
            proposed=proposed.isoformat(),
            book_url=link,
        )
    return {"appointment_id": appointment_id, "proposed": proposed, "nearest_free": nearest, "book_url": link}


def book_follow_up(*, doctor: Doctor, appointment_id: int, day: date, start: time) -> dict[str, Any]:
    """The doctor books the follow-up for the visit's patient: the same checks and unique index as any booking."""
    with unit_of_work():
        appointment = _doctors_visit(doctor, appointment_id)
        patient_id = appointment.patient_id
    created = booking.book(
        patient_id=patient_id, doctor_id=doctor.id, day=day, start=start, reason="Follow-up", by_admin=True
    )
    return created


def book_series(
    *,
    actor: User,
    patient_id: int,
    doctor_id: int,
    first: date,
    start: time,
    every_days: int,
    count: int,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """Book `count` visits every `every_days` days from `first` at `start`: all of them, or none (409 naming
    the first date that cannot be had)."""
    if not 1 <= count <= MAX_OCCURRENCES:
        raise ValidationFailed(fields={"count": [f"Book between 1 and {MAX_OCCURRENCES} visits."]})
    days = [first + timedelta(days=every_days * n) for n in range(count)]
    ids: list[int] = []
    with unit_of_work(lock_patient_id=patient_id):
        if db.session.get(Patient, patient_id) is None:
            raise NotFound(f"Patient {patient_id} was not found.")
        for day in days:
            try:
                created = booking.book(
                    patient_id=patient_id, doctor_id=doctor_id, day=day, start=start, reason=reason, by_admin=True
                )
            except Conflict as error:
                raise Conflict(
                    f"The series cannot be booked: {day:%a %d %b %Y} at {start:%H:%M}: {error.message} "
                    "Nothing was booked.",
                    code=error.code,
                    fields={"date": [day.isoformat()]},
                ) from None
            ids.append(created["id"])
        record(
            action="appointment.series",
            entity="patient",
            entity_id=patient_id,
            patient_id=patient_id,
            actor=actor,
            details={"doctor_id": doctor_id, "appointments": ids, "every_days": every_days},
        )
    _invalidate_days([(doctor_id, day) for day in days])
    return [appointment_dict(_load(appointment_id)) for appointment_id in ids]
